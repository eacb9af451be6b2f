from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    """Regions, communities, grids, buildings, units, households and zones."""

    name = "anwang.places"
    label = "places"
    verbose_name = _("Places")

    def ready(self) -> None:
        """Register the menu entries and dashboard figures of the places domain."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.places.selectors import place_stats, sees_many_communities

        view = Permission.VIEW_PLACES
        register_nav(
            NavEntry(
                "communities",
                _("Communities"),
                "places:community_list",
                permission=view,
                visible=sees_many_communities,
                order=25,
            )
        )
        register_nav(NavEntry("map", _("Map"), "places:map", permission=view, order=30))
        register_nav(
            NavEntry("places", _("Buildings"), "places:building_list", permission=view, order=40)
        )
        register_nav(NavEntry("zones", _("Zones"), "places:zone_list", permission=view, order=45))
        register_stats(place_stats)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HazardsConfig(AppConfig):
    """Hazard reports (隐患) from anyone, worked to closure; Open311 GeoReport v2."""

    name = "anwang.hazards"
    label = "hazards"
    verbose_name = _("Hazards")

    def ready(self) -> None:
        """Register the menu entries, dashboard figures and 'my work' items of hazards."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.hazards.selectors import hazard_stats, hazard_work_items

        register_nav(
            NavEntry(
                "hazards",
                _("Hazards"),
                "hazards:list",
                permission=Permission.VIEW_HAZARDS,
                order=74,
            )
        )
        # Everyone signed in reports hazards and follows their own; staff reach it from the list.
        register_nav(
            NavEntry(
                "my_hazards",
                _("Report a hazard"),
                "hazards:mine",
                visible=lambda scope: (
                    scope.is_authenticated and not scope.has_anywhere(Permission.VIEW_HAZARDS)
                ),
                order=75,
            )
        )
        register_stats(hazard_stats)
        register_work_source("hazards", _("Hazard reports"), hazard_work_items)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    """Volunteers, teams, shifts and service hours."""

    name = "anwang.volunteers"
    label = "volunteers"
    verbose_name = _("Volunteers")

    def ready(self) -> None:
        """Register the menu entries, the 'my work' source and the dashboard figures."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.volunteers.selectors import volunteer_stats, volunteer_work_items

        register_nav(
            NavEntry(
                "my_volunteering",
                _("My volunteering"),
                "volunteers:my_volunteering",
                icon="heart",
                # Anyone who belongs to a community may volunteer there.
                visible=lambda scope: bool(scope.community_ids()),
                order=17,
            )
        )
        register_nav(
            NavEntry(
                "volunteers",
                _("Volunteers"),
                "volunteers:application_list",
                icon="people",
                permission=Permission.VIEW_VOLUNTEERS,
                order=70,
            )
        )
        register_work_source("volunteers", _("Volunteers"), volunteer_work_items)
        register_stats(volunteer_stats)

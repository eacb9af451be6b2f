from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    """Incidents (突发事件) and drills: plans turned into task checklists, timelines and
    after-action reviews."""

    name = "anwang.incidents"
    label = "incidents"
    verbose_name = _("Incidents")

    def ready(self) -> None:
        """Register the menu entry, dashboard figures and 'my work' items of incidents."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.incidents.selectors import incident_stats, incident_work_items

        register_nav(
            NavEntry(
                "incidents",
                _("Incidents"),
                "incidents:list",
                permission=Permission.VIEW_INCIDENTS,
                order=72,
            )
        )
        register_stats(incident_stats)
        register_work_source("incidents", _("Incidents and drills"), incident_work_items)

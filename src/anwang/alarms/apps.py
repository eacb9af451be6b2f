from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlarmsConfig(AppConfig):
    """Alarms raised by rules and their lifecycle: acknowledge, dispatch, on scene, close;
    response times and escalation."""

    name = "anwang.alarms"
    label = "alarms"
    verbose_name = _("Alarms")

    def ready(self) -> None:
        """Register the menu entry, dashboard figures and 'my work' items of alarms."""
        from anwang.accounts.choices import Permission
        from anwang.alarms.selectors import alarm_dashboard_stats, alarm_work_items
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "alarms",
                _("Alarms"),
                "alarms:alarm_list",
                permission=Permission.VIEW_ALARMS,
                order=58,
            )
        )
        register_stats(alarm_dashboard_stats)
        # Escalations reach people here until the notification outbox exists.
        register_work_source("alarms", _("Alarms"), alarm_work_items)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Safety alerts (安全预警) to residents: targeting, confirmations, door-knock follow-up,
    CAP 1.2 out and in."""

    name = "anwang.alerts"
    label = "alerts"
    verbose_name = _("Safety alerts")

    def ready(self) -> None:
        """Register the menu entry, dashboard figures and 'my work' items of alerts, and
        listen for confirmations in the inbox."""
        from anwang.accounts.choices import Permission, Role
        from anwang.alerts import receivers  # noqa: F401 - connects the signal receivers
        from anwang.alerts.selectors import alert_stats, door_knock_work_items
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "alerts",
                _("Safety alerts"),
                "alerts:list",
                permission=Permission.VIEW_ALERTS,
                order=76,
            )
        )
        # Residents read the alerts that reached them; staff reach theirs from the list.
        register_nav(
            NavEntry(
                "my_alerts",
                _("My alerts"),
                "alerts:mine",
                visible=lambda scope: (
                    scope.is_authenticated and not scope.has_anywhere(Permission.VIEW_ALERTS)
                ),
                order=77,
            )
        )
        register_nav(
            NavEntry(
                "door_knocks",
                _("Door-knocks"),
                "alerts:knocks",
                visible=lambda scope: bool(scope.all_roles() & {Role.GRID_WORKER, Role.VOLUNTEER}),
                order=78,
            )
        )
        register_stats(alert_stats)
        register_work_source("alerts", _("Door-knock visits"), door_knock_work_items)

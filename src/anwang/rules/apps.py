from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulesConfig(AppConfig):
    """Alarm rules as data: conditions on device events, windows, durations, absences,
    sequences and schedules."""

    name = "anwang.rules"
    label = "rules"
    verbose_name = _("Alarm rules")

    def ready(self) -> None:
        """Register the menu entry of the rules domain (read-only for those who see alarms)."""
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.rules.selectors import can_view_anywhere

        register_nav(
            NavEntry(
                "rules",
                _("Alarm rules"),
                "rules:rule_list",
                visible=can_view_anywhere,
                order=75,
            )
        )

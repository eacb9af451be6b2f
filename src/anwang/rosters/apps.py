from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RostersConfig(AppConfig):
    """Duty rosters (值班排班): who is on duty when, by duty role, and who is on duty now."""

    name = "anwang.rosters"
    label = "rosters"
    verbose_name = _("Duty rosters")

    def ready(self) -> None:
        """Register the menu entries and the dashboard figure of duty rosters."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.rosters.selectors import roster_stats

        register_nav(
            NavEntry(
                "rosters",
                _("Duty rosters"),
                "rosters:now",
                permission=Permission.VIEW_ROSTERS,
                order=71,
            )
        )
        register_stats(roster_stats)

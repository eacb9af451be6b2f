from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResponsibilitiesConfig(AppConfig):
    """The responsibility matrix (责任分工): who answers for each zone, building and asset
    category."""

    name = "anwang.responsibilities"
    label = "responsibilities"
    verbose_name = _("Responsibilities")

    def ready(self) -> None:
        """Register the menu entry and the dashboard figure of the responsibility matrix."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.responsibilities.selectors import responsibility_stats

        register_nav(
            NavEntry(
                "responsibilities",
                _("Responsibilities"),
                "responsibilities:matrix",
                permission=Permission.VIEW_RESPONSIBILITIES,
                order=78,
            )
        )
        register_stats(responsibility_stats)

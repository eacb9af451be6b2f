from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    """Emergency plans (应急预案): versioned steps, contacts, resources and evacuation zones
    per incident type."""

    name = "anwang.plans"
    label = "plans"
    verbose_name = _("Emergency plans")

    def ready(self) -> None:
        """Register the menu entry and the dashboard figure of emergency plans."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.plans.selectors import plan_stats

        register_nav(
            NavEntry(
                "plans",
                _("Emergency plans"),
                "plans:list",
                permission=Permission.VIEW_PLANS,
                order=79,
            )
        )
        register_stats(plan_stats)

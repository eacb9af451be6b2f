from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    """Welfare checks (关爱探访) for residents who consented: silence opens a visit."""

    name = "anwang.welfare"
    label = "welfare"
    verbose_name = _("Welfare checks")

    def ready(self) -> None:
        """Register the menu entries and listen for welfare consents being withdrawn."""
        from anwang.accounts.choices import Permission
        from anwang.accounts.selectors import Scope
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.welfare import receivers  # noqa: F401 - connects the signal receivers
        from anwang.welfare.selectors import ASSIGNEE_ROLES, has_open_checks

        def my_checks_visible(scope: Scope) -> bool:
            # Managers always; volunteers only with an open check (one indexed query, and
            # only for people holding a role that can be given checks).
            if scope.user is None:
                return False
            if scope.has_anywhere(Permission.MANAGE_WELFARE):
                return True
            return bool(scope.all_roles() & ASSIGNEE_ROLES) and has_open_checks(scope.user)

        register_nav(
            NavEntry(
                "welfare",
                _("Welfare checks"),
                "welfare:home",
                permission=Permission.VIEW_WELFARE,
                order=63,
            )
        )
        register_nav(
            NavEntry(
                "my_welfare_checks",
                _("My welfare checks"),
                "welfare:my_checks",
                visible=my_checks_visible,
                order=64,
            )
        )

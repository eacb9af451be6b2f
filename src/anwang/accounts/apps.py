from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Users, memberships and roles, API tokens, two-factor login, lockout."""

    name = "anwang.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        """Register the staff page in the menu of people who manage staff."""
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                key="staff",
                label=_("Staff"),
                url_name="accounts:staff_list",
                icon="users",
                permission=Permission.MANAGE_STAFF,
                order=80,
            )
        )

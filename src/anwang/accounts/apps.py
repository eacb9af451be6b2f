from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Users, memberships and roles, API tokens, two-factor login, lockout."""

    name = "anwang.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

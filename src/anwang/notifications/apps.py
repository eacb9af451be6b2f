import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

CHANNEL_MODULES = (
    "inbox",
    "email",
    "web_push",
    "sms",
    "voice",
    "wecom",
    "dingtalk",
    "feishu",
    "wechat",
    "webhook",
)
"""Every channel module; importing one registers its backend."""


class NotificationsConfig(AppConfig):
    """The notification outbox (通知): one outbox over real channels, people's inboxes,
    channel preferences and quiet hours."""

    name = "anwang.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        """Register every channel backend and the menu entries of notifications."""
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav

        for name in CHANNEL_MODULES:
            module = f"anwang.notifications.channels.{name}"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                # Only a channel module not written yet is skipped; a missing dependency
                # inside one is a real error.
                if error.name != module:
                    raise
        register_nav(
            NavEntry(
                "notifications",
                _("Messages"),
                "notifications:inbox",
                visible=lambda scope: scope.is_authenticated,
                order=90,
            )
        )
        register_nav(
            NavEntry(
                "channel_settings",
                _("Channels"),
                "notifications:channels",
                permission=Permission.MANAGE_CHANNELS,
                order=91,
            )
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    """Devices that report to Anwang, their credentials and health."""

    name = "anwang.devices"
    label = "devices"
    verbose_name = _("Devices")

    def ready(self) -> None:
        """Register the menu entry and dashboard figures of the devices domain."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.devices.selectors import device_stats

        register_nav(
            NavEntry(
                "devices",
                _("Devices"),
                "devices:device_list",
                permission=Permission.VIEW_DEVICES,
                order=60,
            )
        )
        register_stats(device_stats)

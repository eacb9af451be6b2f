from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    """Device events: ingestion, transitions, dead letters."""

    name = "anwang.events"
    label = "events"
    verbose_name = _("Device events")

    def ready(self) -> None:
        """Register the menu entry of the events domain."""
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "events",
                _("Events"),
                "events:event_list",
                permission=Permission.VIEW_DEVICES,
                order=62,
            )
        )

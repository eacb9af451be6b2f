from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """Access control (门禁): access points, credentials, visitor passes, the gate log and
    watch lists."""

    name = "anwang.access"
    label = "access"
    verbose_name = _("Access control")

    def ready(self) -> None:
        """Register the menu entries and the pipeline's access processor, and listen for
        residents being erased."""
        from anwang.access import receivers  # noqa: F401 - connects the signal receivers
        from anwang.access.processing import access_events_from
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.events.processors import register_stored_events_processor

        register_stored_events_processor("access", access_events_from)
        register_nav(
            NavEntry(
                "access",
                _("Access control"),
                "access:home",
                permission=Permission.VIEW_ACCESS,
                order=60,
            )
        )
        register_nav(
            NavEntry(
                "gate",
                _("Gate"),
                "access:gate",
                permission=Permission.CHECK_PASSES,
                order=61,
            )
        )
        # Residents register their visitors; staff reach passes from the gate.
        register_nav(
            NavEntry(
                "my_visitors",
                _("My visitors"),
                "access:my_visitors",
                visible=lambda scope: (
                    scope.is_authenticated and not scope.has_anywhere(Permission.CHECK_PASSES)
                ),
                order=62,
            )
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolsConfig(AppConfig):
    """Patrol routes and checkpoints with signed QR codes."""

    name = "anwang.patrols"
    label = "patrols"
    verbose_name = _("Patrols")

    def ready(self) -> None:
        """Register the menu entry of the patrols domain."""
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "patrols",
                _("Patrols"),
                "patrols:checkpoint_list",
                permission=Permission.VIEW_PATROLS,
                order=65,
            )
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    """Points ledger and the rules that award points."""

    name = "anwang.participation"
    label = "participation"
    verbose_name = _("Participation")

    def ready(self) -> None:
        """Register the menu entries of the points ledger."""
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "my_points",
                _("My points"),
                "participation:my_points",
                icon="star",
                # Everyone with a role somewhere can earn points.
                visible=lambda scope: bool(scope.community_ids()),
                order=18,
            )
        )
        register_nav(
            NavEntry(
                "points_ledger",
                _("Points ledger"),
                "participation:ledger",
                permission=Permission.VIEW_VOLUNTEERS,
                order=72,
            )
        )

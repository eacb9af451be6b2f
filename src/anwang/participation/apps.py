from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    """Points ledger and the rules that award points."""

    name = "anwang.participation"
    label = "participation"
    verbose_name = _("Participation")

"""Constants of the welfare-check domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckStatus(models.TextChoices):
    """Whether a welfare check still needs someone."""

    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CheckOutcome(models.TextChoices):
    """What the visit (or a call) found. The first three were false alarms: the person was
    fine."""

    SAFE = "safe", _("Safe and well")
    AWAY = "away", _("Away from home, reached")
    RESUMED = "resumed", _("Activity seen again")
    NEEDED_HELP = "needed_help", _("Needed help")
    EMERGENCY = "emergency", _("Emergency services called")


FALSE_ALARM_OUTCOMES = frozenset({CheckOutcome.SAFE, CheckOutcome.AWAY, CheckOutcome.RESUMED})
"""Outcomes where the person turned out to be fine: the check was a false alarm."""

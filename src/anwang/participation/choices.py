"""Choices of the participation domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PointSource(models.TextChoices):
    """What earned the points: the kind of a point rule and of a ledger entry."""

    PATROL_HOUR = "patrol_hour", _("Patrol hour")
    VOLUNTEER_HOUR = "volunteer_hour", _("Volunteer service hour")
    HAZARD_VERIFIED = "hazard_verified", _("Verified hazard report")
    TRAINING_COMPLETED = "training_completed", _("Training completed")
    DRILL_PARTICIPATION = "drill_participation", _("Drill participation")
    MANUAL = "manual", _("Manual adjustment")


class EntryKind(models.TextChoices):
    """What a ledger entry is: earned by a rule, an admin's adjustment, or a reversal."""

    AWARD = "award", _("Award")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REVERSAL = "reversal", _("Reversal")

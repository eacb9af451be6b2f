"""Constants of the rosters domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DutyRole(models.TextChoices):
    """What a person is on duty as; each incident plan step names one of these."""

    OPERATOR = "operator", _("Operator on duty")
    GUARD = "guard", _("Guard on duty")
    ON_DUTY_LEADER = "on_duty_leader", _("Leader on duty")
    GRID_WORKER = "grid_worker", _("Grid worker on duty")


class ExceptionKind(models.TextChoices):
    """What happens to the shifts an exception covers."""

    OFF = "off", _("Cancelled (nobody from this pattern)")
    SWAP = "swap", _("Swapped (another person takes it)")

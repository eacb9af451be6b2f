"""Choices of the hazards domain."""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class HazardCategory(models.TextChoices):
    """What kind of hazard; the code is stable (it is also the Open311 ``service_code``)."""

    FIRE_EXIT_BLOCKED = "fire_exit_blocked", _("Fire exit or escape route blocked")
    EBIKE_CHARGING_INDOORS = "ebike_charging_indoors", _("E-bike charging indoors")
    BROKEN_LIGHT = "broken_light", _("Broken light")
    MISSING_MANHOLE_COVER = "missing_manhole_cover", _("Missing or broken manhole cover")
    FALLING_OBJECT_RISK = "falling_object_risk", _("Falling-object risk")
    BROKEN_DOOR_OR_LOCK = "broken_door_or_lock", _("Broken door or lock")
    FIRE_EQUIPMENT = "fire_equipment", _("Missing or broken fire equipment")
    ELECTRICAL = "electrical", _("Exposed or unsafe wiring")
    OTHER = "other", _("Other")


class HazardSeverity(models.TextChoices):
    """How serious a hazard is, set at triage; it fixes the rectification deadline."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class HazardStatus(models.TextChoices):
    """Where a hazard report stands in its workflow."""

    REPORTED = "reported", _("Reported")
    TRIAGED = "triaged", _("Triaged")
    ASSIGNED = "assigned", _("Assigned")
    RECTIFIED = "rectified", _("Rectified")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", pgettext_lazy("hazard status", "Rejected")


#: Statuses in which a report still needs work (and may be followed instead of duplicated).
OPEN_STATUSES: frozenset[str] = frozenset(
    {
        HazardStatus.REPORTED,
        HazardStatus.TRIAGED,
        HazardStatus.ASSIGNED,
        HazardStatus.RECTIFIED,
        HazardStatus.VERIFIED,
    }
)

#: Statuses in which a deadline runs: past it, the report is overdue and escalates.
DEADLINE_STATUSES: frozenset[str] = frozenset({HazardStatus.TRIAGED, HazardStatus.ASSIGNED})


class StepAction(models.TextChoices):
    """What a step of a hazard's timeline did."""

    REPORT = "report", _("Reported")
    TRIAGE = "triage", _("Triaged")
    ASSIGN = "assign", _("Assigned")
    RECTIFY = "rectify", _("Rectified")
    VERIFY = "verify", _("Verified")
    SEND_BACK = "send_back", _("Sent back for rework")
    CLOSE = "close", _("Closed")
    REJECT = "reject", pgettext_lazy("hazard status", "Rejected")
    COMMENT = "comment", _("Comment")
    FOLLOW = "follow", _("Followed")
    ESCALATE = "escalate", _("Escalated: deadline passed")


#: Time from assignment to the rectification deadline, by severity.
DEADLINES: dict[str, timedelta] = {
    HazardSeverity.CRITICAL: timedelta(hours=4),
    HazardSeverity.HIGH: timedelta(hours=24),
    HazardSeverity.MEDIUM: timedelta(days=3),
    HazardSeverity.LOW: timedelta(days=7),
}


def deadline_for(severity: str) -> timedelta:
    """Return how long the responsible person has to rectify a hazard of this severity."""
    return DEADLINES[HazardSeverity(severity)]

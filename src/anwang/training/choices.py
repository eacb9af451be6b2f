"""Constants of the training domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CourseTopic(models.TextChoices):
    """What a course teaches."""

    FIRE_SAFETY = "fire_safety", _("Fire safety")
    FIRST_AID = "first_aid", _("First aid")
    ANTI_FRAUD = "anti_fraud", _("Anti-fraud (telecom fraud)")
    EMERGENCY_RESPONSE = "emergency_response", _("Emergency response")
    PATROL_DUTY = "patrol_duty", _("Patrol duty")
    OTHER = "other", _("Other")


class SessionStatus(models.TextChoices):
    """Where a training session stands."""

    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class AttendanceMethod(models.TextChoices):
    """How an attendance was recorded."""

    QR = "qr", _("Scanned the session's QR code")
    MANUAL = "manual", _("Marked by staff")


class CertificateSource(models.TextChoices):
    """Why a certificate was issued."""

    SESSION = "session", _("Attended a session")
    MANUAL = "manual", _("Issued by hand")


class CertificateState(models.TextChoices):
    """Whether a certificate is still valid on a given day."""

    CURRENT = "current", _("Current")
    EXPIRING = "expiring", _("Expiring soon")
    LAPSED = "lapsed", _("Lapsed")
    REVOKED = "revoked", _("Revoked")


class TrainingState(models.TextChoices):
    """Where a person stands on one course required for their role."""

    CURRENT = "current", _("Current")
    EXPIRING = "expiring", _("Expiring soon")
    LAPSED = "lapsed", _("Lapsed")
    MISSING = "missing", _("Missing")


class CheckInRejection(models.TextChoices):
    """Why a scanned attendance code was refused."""

    MALFORMED = "malformed", _("This is not an attendance code.")
    FORGED = "forged", _("This attendance code is not genuine.")
    EXPIRED = "expired", _("This attendance code has expired: scan the code shown now.")
    OTHER_COMMUNITY = "other_community", _("This session is not in one of your communities.")
    CLOSED = "closed", _("This session was cancelled.")


class DrillKind(models.TextChoices):
    """What a drill rehearses."""

    FIRE_EVACUATION = "fire_evacuation", _("Fire evacuation")
    EARTHQUAKE = "earthquake", _("Earthquake")
    FLOOD = "flood", _("Flood")
    GAS_LEAK = "gas_leak", _("Gas leak")
    ANTI_TERROR = "anti_terror", _("Anti-terror")
    OTHER = "other", _("Other")


class DrillStatus(models.TextChoices):
    """Where a drill stands."""

    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    REVIEWED = "reviewed", _("Reviewed")


class FindingSeverity(models.TextChoices):
    """How much a drill finding matters."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")

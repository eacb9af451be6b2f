"""Constants of the access domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccessPointKind(models.TextChoices):
    """What kind of way in an access point is."""

    GATE = "gate", _("Community gate")
    UNIT_DOOR = "unit_door", _("Unit door")
    GARAGE_BARRIER = "garage_barrier", _("Garage barrier")
    OTHER = "other", pgettext_lazy("access point kind", "Other")


class AccessCredentialKind(models.TextChoices):
    """How a person proves who they are at an access point."""

    CARD = "card", _("Card")
    QR = "qr", _("QR code")
    PLATE = "plate", _("Licence plate")
    FACE = "face", _("Face")


class CredentialStatus(models.TextChoices):
    """Whether a credential opens doors."""

    ACTIVE = "active", _("Active")
    LOST = "lost", _("Lost")
    STOLEN = "stolen", _("Stolen")
    REVOKED = "revoked", _("Revoked")


class AccessResult(models.TextChoices):
    """Whether the access point let the person in."""

    GRANTED = "granted", _("Let in")
    DENIED = "denied", _("Refused")


class AccessMethod(models.TextChoices):
    """How an access happened."""

    CARD = "card", _("Card")
    QR = "qr", _("QR code")
    PLATE = "plate", _("Licence plate")
    FACE = "face", _("Face")
    PASS = "pass", _("Visitor pass")
    REMOTE = "remote", _("Opened remotely")
    OTHER = "other", pgettext_lazy("access method", "Other")


class WatchKind(models.TextChoices):
    """What a watch-list entry watches for."""

    CREDENTIAL = "credential", _("Lost or stolen credential")
    PERSON = "person", _("Barred person")
    PLATE = "plate", _("Barred vehicle")


class ConsentKind(models.TextChoices):
    """What a resident consented to."""

    FACE = "face", _("Face enrolment")
    WELFARE = "welfare", _("Welfare checks")


class GateEntryKind(models.TextChoices):
    """What the guard wrote in the gate log."""

    WALK_IN = "walk_in", _("Walk-in visitor")
    PASS = "pass", _("Visitor with a pass")
    DELIVERY = "delivery", _("Delivery or courier")
    REFUSED = "refused", _("Refused entry")


class AnomalyDetector(models.TextChoices):
    """Which detector found an access anomaly (values as in :mod:`anwang.access.detectors`)."""

    OUTSIDE_HOURS = "outside_hours", _("Restricted area outside its hours")
    REPEATED_DENIALS = "repeated_denials", _("Repeated refusals")
    IMPOSSIBLE_TRAVEL = "impossible_travel", _("Impossible travel")
    WEEKLY_BASELINE = "weekly_baseline", _("Unusual for this person's week")


class FindingStatus(models.TextChoices):
    """Where a finding stands in review."""

    NEW = "new", _("To review")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", pgettext_lazy("finding status", "Dismissed")

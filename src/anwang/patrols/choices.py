"""Choices of the patrols domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Placement(models.TextChoices):
    """Where a checkpoint is: at a zone, a building, a door device, or a point on the map."""

    ZONE = "zone", _("Zone")
    BUILDING = "building", _("Building")
    DOOR = "door", _("Door device")
    POINT = "point", _("Point on the map")


class CodeRejection(models.TextChoices):
    """Why a scanned or typed checkpoint code was refused (stable codes, the API's ``code``)."""

    MALFORMED = "malformed", _("Not a checkpoint code")
    FORGED = "forged", _("Forged code")
    OTHER_COMMUNITY = "other_community", _("Another community's code")
    REISSUED = "reissued", _("Replaced code")
    RETIRED = "retired", _("Retired checkpoint")


class RunOrder(models.TextChoices):
    """In which order a run visits its route's checkpoints."""

    FIXED = "fixed", _("Fixed order")
    RANDOM = "random", _("Random order")


class RunStatus(models.TextChoices):
    """Where a patrol run stands."""

    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    ABANDONED = "abandoned", _("Abandoned")


class CheckInMethod(models.TextChoices):
    """How the guard proved the visit."""

    QR = "qr", _("QR code scanned")
    TYPED = "typed", _("Code typed")
    NFC = "nfc", _("NFC tag")


class CheckInStatus(models.TextChoices):
    """Whether the server accepted a check-in (the phone only ever proposes one)."""

    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class CheckInRejection(models.TextChoices):
    """Why a check-in was refused (stable codes, the API's ``code``); the first five are the
    code check's own reasons (:class:`CodeRejection`)."""

    MALFORMED = "malformed", _("Not a checkpoint code")
    FORGED = "forged", _("Forged code")
    OTHER_COMMUNITY = "other_community", _("Another community's code")
    REISSUED = "reissued", _("Replaced code")
    RETIRED = "retired", _("Retired checkpoint")
    UNKNOWN_TAG = "unknown_tag", _("Unknown NFC tag")
    NOT_ON_ROUTE = "not_on_route", _("Not on this route")
    DUPLICATE = "duplicate", _("Already checked in")
    BEFORE_START = "before_start", _("Before the run started")
    IN_FUTURE = "in_future", _("Time in the future")
    RUN_CLOSED = "run_closed", _("Run already closed")


class ShiftStatus(models.TextChoices):
    """Where one shift of a patrol schedule stands."""

    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")

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

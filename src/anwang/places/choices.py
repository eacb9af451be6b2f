"""Constants of the places domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ZoneKind(models.TextChoices):
    """What kind of area a zone is."""

    GATE = "gate", _("Gate")
    PARKING = "parking", _("Parking")
    GARAGE = "garage", _("Underground garage")
    PLAYGROUND = "playground", _("Playground")
    BIKE_SHED = "bike_shed", _("Bike shed")
    RIVER_BANK = "river_bank", _("River bank")
    CORRIDOR = "corridor", _("Corridor")
    SQUARE = "square", _("Square")
    GREEN = "green", _("Green space")
    ROOF = "roof", _("Roof")
    PLANT_ROOM = "plant_room", _("Plant room")
    OTHER = "other", _("Other")


class BuildingUse(models.TextChoices):
    """What a building is used for."""

    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Commercial")
    MIXED = "mixed", _("Mixed")
    PUBLIC = "public", _("Public service")

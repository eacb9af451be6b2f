"""Constants of the facilities domain (物防): kinds of asset, their states, history kinds."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AssetType(models.TextChoices):
    """What kind of physical-defence item an asset is (decides its type-specific fields)."""

    FIRE_EXTINGUISHER = "fire_extinguisher", _("fire extinguisher")
    HYDRANT = "hydrant", _("fire hydrant")
    FIRE_DOOR = "fire_door", _("fire door")
    AED = "aed", _("AED")
    EMERGENCY_SUPPLY = "emergency_supply", _("emergency supply")
    ANTI_THEFT_DOOR = "anti_theft_door", _("anti-theft door")
    BARRIER = "barrier", _("barrier")
    LIGHTING = "lighting", _("lighting")
    SIGNAGE = "signage", _("signage")
    OTHER = "other", _("other")


EXPIRING_TYPES = frozenset(
    {AssetType.FIRE_EXTINGUISHER, AssetType.AED, AssetType.EMERGENCY_SUPPLY, AssetType.OTHER}
)
"""Types whose ``expires_on`` means something (extinguisher agent, AED pads, supplies)."""


class ExtinguisherType(models.TextChoices):
    """The agent a fire extinguisher holds (GB 4351 kinds most communities stock)."""

    DRY_POWDER = "dry_powder", _("dry powder (ABC)")
    CO2 = "co2", _("carbon dioxide")
    FOAM = "foam", _("foam")
    WATER = "water", _("water mist")
    CLEAN_AGENT = "clean_agent", _("clean agent")
    OTHER = "other", _("other")


class AssetStatus(models.TextChoices):
    """Whether an asset can be relied on now."""

    IN_SERVICE = "in_service", _("in service")
    OUT_OF_SERVICE = "out_of_service", _("out of service")
    RETIRED = "retired", _("retired")


class AssetEventKind(models.TextChoices):
    """What one history entry of an asset records."""

    CREATED = "created", _("registered")
    UPDATED = "updated", _("changed")
    STOCK_IN = "stock_in", _("stock in")
    STOCK_OUT = "stock_out", _("stock out")
    CHECKED = "checked", _("checked")
    RETIRED = "retired", _("retired")

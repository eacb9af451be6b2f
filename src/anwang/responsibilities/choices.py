"""Constants of the responsibilities domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaKind(models.TextChoices):
    """What a responsibility covers: a zone, a building, or every asset of one type."""

    ZONE = "zone", _("Zone")
    BUILDING = "building", _("Building")
    ASSET_TYPE = "asset_type", _("Asset category")

"""Where things are: street office > community > grid > building > unit > household; zones.

Geometry is GeoJSON in WGS84 (longitude, latitude), as GPS, Open311 and CAP use.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.places.choices import BuildingUse, ZoneKind


class Region(TimeStampedModel):
    """A street office (街道) that oversees several communities."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("street office")
        verbose_name_plural = _("street offices")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Community(TimeStampedModel):
    """One residential community (社区), the unit that runs Anwang."""

    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="communities",
        verbose_name=_("street office"),
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    phone = models.CharField(_("duty phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Grid(TimeStampedModel):
    """A block of buildings served by one grid worker (网格)."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="grids", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    grid_worker = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grids",
        verbose_name=_("grid worker"),
    )

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Building(TimeStampedModel):
    """A building (楼栋) with its footprint."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="buildings", verbose_name=_("community")
    )
    grid = models.ForeignKey(
        Grid,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="buildings",
        verbose_name=_("grid"),
    )
    name = models.CharField(_("name"), max_length=100)
    number = models.CharField(_("number"), max_length=20)
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    use = models.CharField(
        _("use"), max_length=20, choices=BuildingUse.choices, default=BuildingUse.RESIDENTIAL
    )
    footprint = models.JSONField(_("footprint (GeoJSON)"), null=True, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["community", "number"]
        constraints = [
            models.UniqueConstraint(fields=["community", "number"], name="building_unique_number")
        ]

    def __str__(self) -> str:
        return self.name


class Unit(TimeStampedModel):
    """An entrance (单元) of a building."""

    building = models.ForeignKey(
        Building, on_delete=models.CASCADE, related_name="units", verbose_name=_("building")
    )
    number = models.CharField(_("number"), max_length=20)

    class Meta:
        verbose_name = _("entrance")
        verbose_name_plural = _("entrances")
        ordering = ["building", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.building.name} {self.number}"


class Household(TimeStampedModel):
    """A dwelling (户): the address residents live at."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="households", verbose_name=_("community")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="households", verbose_name=_("entrance")
    )
    floor = models.SmallIntegerField(_("floor"))
    number = models.CharField(_("room number"), max_length=20)
    area_m2 = models.DecimalField(
        _("floor area (m²)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    is_rented = models.BooleanField(_("rented out"), default=False)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["unit", "floor", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="household_unique_number")
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        """Short address within the community: building-entrance-room."""
        unit = self.unit
        return f"{unit.building.number}-{unit.number}-{self.number}"


class Zone(TimeStampedModel):
    """A named area on the map; key areas (重点区域) must be covered by cameras and patrols."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="zones", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ZoneKind.choices)
    is_key_area = models.BooleanField(_("key area"), default=False)
    geometry = models.JSONField(_("geometry (GeoJSON)"))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["community", "name"]

    def __str__(self) -> str:
        return self.name

    def as_feature(self) -> dict[str, Any]:
        """This zone as a GeoJSON Feature."""
        return {
            "type": "Feature",
            "id": f"zone-{self.pk}",
            "geometry": self.geometry,
            "properties": {
                "kind": "zone",
                "id": self.pk,
                "name": self.name,
                "zone_kind": self.kind,
                "is_key_area": self.is_key_area,
            },
        }

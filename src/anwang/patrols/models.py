"""Patrol routes and their checkpoints (巡更点), each with a signed code for its QR label."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core import geo
from anwang.core.models import TimeStampedModel
from anwang.patrols import codes
from anwang.patrols.choices import Placement

DEFAULT_DWELL_SECONDS = 60
DEFAULT_MAX_GAP_SECONDS = 900


class Checkpoint(TimeStampedModel):
    """A place a guard must visit on a patrol and prove it by scanning (or typing) its code."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="checkpoints",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    placement = models.CharField(_("placed at"), max_length=10, choices=Placement.choices)
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkpoints",
        verbose_name=_("zone"),
    )
    building = models.ForeignKey(
        "places.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkpoints",
        verbose_name=_("building"),
    )
    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkpoints",
        verbose_name=_("door device"),
    )
    point = models.JSONField(
        _("point (GeoJSON)"),
        null=True,
        blank=True,
        help_text=_("A GeoJSON Point in WGS84; for a zone, building or door it refines where."),
    )
    nfc_tag_id = models.CharField(_("NFC tag id"), max_length=64, blank=True)
    # Part of every MAC of this checkpoint's codes and never shown, so a code only verifies
    # against this database's checkpoint, not one that reuses its id elsewhere.
    code_salt = models.CharField(_("code salt"), max_length=32, editable=False)
    code_version = models.PositiveIntegerField(_("code version"), default=1)
    code_issued_at = models.DateTimeField(_("code issued at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["community", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"],
                condition=Q(retired_at__isnull=True),
                name="checkpoint_unique_name",
            ),
            models.UniqueConstraint(
                fields=["community", "nfc_tag_id"],
                condition=Q(retired_at__isnull=True) & ~Q(nfc_tag_id=""),
                name="checkpoint_unique_nfc_tag",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        """Whether the checkpoint was taken out of use."""
        return self.retired_at is not None

    @property
    def code(self) -> str:
        """The current signed code (what the QR label carries and a guard may type)."""
        return codes.encode(
            community_id=self.community_id,
            checkpoint_id=self.pk,
            version=self.code_version,
            salt=self.code_salt,
        )

    @property
    def place_label(self) -> str:
        """The zone, building or door the checkpoint is at, or empty for a map point."""
        target = {
            Placement.ZONE: self.zone,
            Placement.BUILDING: self.building,
            Placement.DOOR: self.device,
        }.get(Placement(self.placement))
        return str(target) if target is not None else ""

    def position(self) -> tuple[float, float] | None:
        """Where the checkpoint is (longitude, latitude, WGS84): its own point, else the door
        device's position, the building's or zone's centre; ``None`` when unknown."""
        if self.point:
            lon, lat = self.point["coordinates"][:2]
            return float(lon), float(lat)
        if self.device is not None and self.device.latitude is not None:
            return float(self.device.longitude or 0), float(self.device.latitude)
        if self.building is not None and self.building.footprint:
            return geo.centroid(self.building.footprint)
        if self.zone is not None:
            return geo.centroid(self.zone.geometry)
        return None

    def as_feature(self) -> dict[str, Any] | None:
        """This checkpoint as a GeoJSON Point Feature, or ``None`` without a position."""
        position = self.position()
        if position is None:
            return None
        return {
            "type": "Feature",
            "id": f"checkpoint-{self.pk}",
            "geometry": {"type": "Point", "coordinates": list(position)},
            "properties": {"kind": "checkpoint", "id": self.pk, "name": self.name},
        }


class PatrolRoute(TimeStampedModel):
    """An ordered round of checkpoints (巡逻路线) that patrols follow."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="patrol_routes",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    checkpoints: models.ManyToManyField[Checkpoint, RouteStop] = models.ManyToManyField(
        Checkpoint, through="RouteStop", related_name="routes", verbose_name=_("checkpoints")
    )

    class Meta:
        verbose_name = _("patrol route")
        verbose_name_plural = _("patrol routes")
        ordering = ["community", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="patrol_route_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class RouteStop(models.Model):
    """One checkpoint of a route, in order, with how long to stay and how soon the next is due."""

    route = models.ForeignKey(
        PatrolRoute, on_delete=models.CASCADE, related_name="stops", verbose_name=_("route")
    )
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="stops", verbose_name=_("checkpoint")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    dwell_seconds = models.PositiveIntegerField(
        _("expected dwell (seconds)"), default=DEFAULT_DWELL_SECONDS
    )
    max_gap_seconds = models.PositiveIntegerField(
        _("maximum gap to the next stop (seconds)"), default=DEFAULT_MAX_GAP_SECONDS
    )

    class Meta:
        verbose_name = _("route stop")
        verbose_name_plural = _("route stops")
        ordering = ["route", "order"]
        constraints = [
            models.UniqueConstraint(fields=["route", "order"], name="route_stop_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.route_id}#{self.order} {self.checkpoint_id}"

    @property
    def community_id(self) -> int:
        """The community of the route (for audit entries)."""
        return int(self.route.community_id)

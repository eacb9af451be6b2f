"""Patrol routes and their checkpoints (巡更点), each with a signed code for its QR label; patrol
runs (巡逻任务) and their check-ins (打卡)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anwang.core import geo
from anwang.core.models import TimeStampedModel
from anwang.patrols import codes
from anwang.patrols.choices import (
    CheckInMethod,
    CheckInRejection,
    CheckInStatus,
    Placement,
    RunOrder,
    RunStatus,
)

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


class PatrolRun(TimeStampedModel):
    """One guard walking one route once (巡逻任务): the planned order fixed at the start, the
    check-ins made on the way, and the guard's last known position.

    The plan is a copy of the route's stops taken at the start, so editing or deleting the
    route later does not rewrite what was patrolled. A later schedule can point a run at the
    shift it fulfils with one more nullable foreign key; nothing here depends on how a run was
    started."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="patrol_runs",
        verbose_name=_("community"),
    )
    route = models.ForeignKey(
        PatrolRoute,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("route"),
    )
    route_name = models.CharField(_("route name"), max_length=100)
    guard = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="patrol_runs",
        verbose_name=_("guard"),
    )
    order_mode = models.CharField(
        _("order"), max_length=10, choices=RunOrder.choices, default=RunOrder.FIXED
    )
    # [{"checkpoint": id, "name": str, "dwell_seconds": int, "max_gap_seconds": int}, ...] in
    # the order to walk; for a random run, the permutation drawn at the start.
    plan = models.JSONField(_("planned stops"), default=list)
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.IN_PROGRESS
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    last_latitude = models.FloatField(_("last latitude"), null=True, blank=True)
    last_longitude = models.FloatField(_("last longitude"), null=True, blank=True)
    last_accuracy = models.FloatField(_("last accuracy (m)"), null=True, blank=True)
    last_position_at = models.DateTimeField(_("last position at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    schedule = models.ForeignKey(
        "PatrolSchedule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("schedule"),
    )
    # The shift of the schedule this run fulfils (its local start, YYYYMMDDTHHMM), or empty.
    shift_key = models.CharField(_("shift"), max_length=13, blank=True)
    abandon_reason = models.TextField(_("reason for abandoning"), blank=True)
    abandoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("abandoned by"),
    )

    class Meta:
        verbose_name = _("patrol run")
        verbose_name_plural = _("patrol runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["community", "-started_at"], name="patrol_run_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["guard"],
                condition=Q(status="in_progress"),
                name="patrol_run_one_in_progress",
            ),
            # A shift is run once; an abandoned run frees it for another try.
            models.UniqueConstraint(
                fields=["schedule", "shift_key"],
                condition=Q(schedule__isnull=False) & ~Q(status="abandoned"),
                name="patrol_run_one_per_shift",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.route_name} · {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        """Whether the guard may still check in (the run is in progress)."""
        return self.status == RunStatus.IN_PROGRESS

    def last_position(self) -> tuple[float, float] | None:
        """The guard's last known position (longitude, latitude), if any."""
        if self.last_latitude is None or self.last_longitude is None:
            return None
        return self.last_longitude, self.last_latitude


class PatrolSchedule(TimeStampedModel):
    """Recurring patrol shifts (排班) of one route: a first shift repeated by an iCalendar
    RRULE, walked by the assigned guards in fixed or secretly randomised order and start."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="patrol_schedules",
        verbose_name=_("community"),
    )
    route = models.ForeignKey(
        PatrolRoute,
        on_delete=models.PROTECT,
        related_name="schedules",
        verbose_name=_("route"),
    )
    name = models.CharField(_("name"), max_length=100)
    first_start = models.DateTimeField(_("first shift starts"))
    duration = models.DurationField(_("shift length"))
    rrule = models.CharField(_("repeat rule (RRULE)"), max_length=500)
    order_mode = models.CharField(
        _("order"), max_length=10, choices=RunOrder.choices, default=RunOrder.FIXED
    )
    random_start = models.BooleanField(_("random start within the shift"), default=False)
    guards: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="patrol_schedules",
        blank=True,
        verbose_name=_("guards"),
    )
    # Approved volunteers who are members of these teams are assigned too.
    teams: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "volunteers.Team",
        related_name="patrol_schedules",
        blank=True,
        verbose_name=_("volunteer teams"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("patrol schedule")
        verbose_name_plural = _("patrol schedules")
        ordering = ["community", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="patrol_schedule_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CalendarFeed(TimeStampedModel):
    """A person's secret link to subscribe to their patrol shifts in a calendar app; only the
    hash of its token is stored, and deleting the row revokes the link."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="patrol_calendar_feed",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("patrol calendar link")
        verbose_name_plural = _("patrol calendar links")

    def __str__(self) -> str:
        return str(self.user)


def check_in_photo_path(instance: CheckIn, filename: str) -> str:
    """Where a check-in's photo is stored: by community and month, under a random name."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    now = timezone.now()
    return f"patrols/{instance.run.community_id}/{now:%Y/%m}/{secrets.token_hex(12)}.{extension}"


class CheckIn(models.Model):
    """One attempt to prove a visit to a checkpoint (打卡), accepted or refused by the server.

    Refused attempts are kept with their reason: a forged or copied code is exactly what a
    supervisor wants to see. ``client_id`` is made by the phone, so sending the same check-in
    again after a lost answer finds the first one instead of adding another."""

    run = models.ForeignKey(
        PatrolRun, on_delete=models.CASCADE, related_name="check_ins", verbose_name=_("run")
    )
    checkpoint = models.ForeignKey(
        Checkpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="check_ins",
        verbose_name=_("checkpoint"),
    )
    method = models.CharField(_("method"), max_length=8, choices=CheckInMethod.choices)
    code = models.CharField(_("code as scanned"), max_length=64)
    client_id = models.UUIDField(_("phone's id"))
    scanned_at = models.DateTimeField(_("scanned at (phone's clock)"))
    received_at = models.DateTimeField(_("received at"))
    skew_seconds = models.FloatField(
        _("delay until received (s)"),
        help_text=_("Server time of receipt minus the phone's time of the scan."),
    )
    clock_offset_seconds = models.FloatField(
        _("phone clock offset (s)"),
        null=True,
        blank=True,
        help_text=_("Server time minus the phone's time when it sent this, if the phone said."),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    distance_m = models.FloatField(_("distance to the checkpoint (m)"), null=True, blank=True)
    far = models.BooleanField(
        _("far from the checkpoint"),
        default=False,
        help_text=_("Farther than 50 m plus the reported accuracy: accepted, but check it."),
    )
    note = models.TextField(_("note"), blank=True)
    photo = models.ImageField(_("photo"), upload_to=check_in_photo_path, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CheckInStatus.choices)
    rejection = models.CharField(
        _("reason refused"), max_length=20, choices=CheckInRejection.choices, blank=True
    )

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["run", "scanned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "client_id"], name="check_in_unique_client_id")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.checkpoint_id or self.code} {self.status}"

    @property
    def is_accepted(self) -> bool:
        """Whether the server accepted the check-in."""
        return self.status == CheckInStatus.ACCEPTED

    @property
    def community_id(self) -> int:
        """The community of the run (for audit entries)."""
        return int(self.run.community_id)

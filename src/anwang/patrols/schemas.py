"""Request and response bodies of the patrols API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.urls import reverse
from ninja import Field, Schema

from anwang.core.api_helpers import request_scope
from anwang.patrols import selectors
from anwang.patrols.choices import (
    CheckInMethod,
    CheckInStatus,
    Placement,
    RunOrder,
    RunStatus,
    ShiftStatus,
)
from anwang.patrols.models import (
    DEFAULT_DWELL_SECONDS,
    DEFAULT_MAX_GAP_SECONDS,
    CheckIn,
    Checkpoint,
    PatrolRun,
)


class CheckpointOut(Schema):
    """A checkpoint; ``code`` only for those who manage patrols (a code proves presence)."""

    id: int
    community: int = Field(alias="community_id")
    name: str
    placement: Placement
    zone: int | None = Field(alias="zone_id")
    building: int | None = Field(alias="building_id")
    device: int | None = Field(alias="device_id", description="The door device, if placed at one.")
    point: dict[str, Any] | None = Field(description="GeoJSON Point, WGS84.")
    position: list[float] | None = Field(
        None, description="[longitude, latitude] of the checkpoint (its point or its place's)."
    )
    nfc_tag_id: str
    code: str | None = Field(
        None, description="The current signed code; null for callers who may not print codes."
    )
    code_version: int
    code_issued_at: datetime | None
    note: str
    retired_at: datetime | None

    @staticmethod
    def resolve_position(obj: Checkpoint) -> list[float] | None:
        """Where the checkpoint is, from its point or its zone, building or door."""
        position = obj.position()
        return None if position is None else list(position)

    @staticmethod
    def resolve_code(obj: Checkpoint, context: dict[str, Any]) -> str | None:
        """The code, only for callers who may print codes in the checkpoint's community."""
        request = context["request"]
        shown: dict[int, bool] = getattr(request, "_patrols_codes_shown", {})
        if obj.community_id not in shown:
            shown[obj.community_id] = selectors.can_see_codes(
                request_scope(request), obj.community_id
            )
            request._patrols_codes_shown = shown
        return obj.code if shown[obj.community_id] else None


class CheckpointIn(Schema):
    """A new checkpoint: where it is decides which of zone, building, device or point is used."""

    community_id: int = Field(alias="community")
    name: str
    placement: Placement
    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    device_id: int | None = Field(
        None, alias="device", description="An access reader or door contact."
    )
    point: dict[str, Any] | None = Field(
        None, description="GeoJSON Point, WGS84; required for placement `point`."
    )
    nfc_tag_id: str = ""
    note: str = ""


class CheckpointPatch(Schema):
    """Changes to a checkpoint."""

    name: str | None = None
    placement: Placement | None = None
    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    device_id: int | None = Field(None, alias="device")
    point: dict[str, Any] | None = None
    nfc_tag_id: str | None = None
    note: str | None = None


class CodeCheckIn(Schema):
    """A scanned or typed code to check against a community's checkpoints."""

    community_id: int = Field(alias="community")
    code: str = Field(description="As printed (groups with dashes) or typed; case is ignored.")


class CodeCheckOut(Schema):
    """The checkpoint a valid code belongs to."""

    checkpoint: int
    name: str
    community: int


class StopIn(Schema):
    """One stop of a route."""

    checkpoint_id: int = Field(alias="checkpoint")
    dwell_seconds: int = Field(DEFAULT_DWELL_SECONDS, description="Expected time at the stop.")
    max_gap_seconds: int = Field(
        DEFAULT_MAX_GAP_SECONDS, description="Longest time allowed until the next stop."
    )


class StopOut(Schema):
    """One stop of a route, in order."""

    order: int
    checkpoint: int = Field(alias="checkpoint_id")
    checkpoint_name: str = Field(alias="checkpoint.name")
    dwell_seconds: int
    max_gap_seconds: int


class RouteOut(Schema):
    """A patrol route and its ordered stops."""

    id: int
    community: int = Field(alias="community_id")
    name: str
    description: str
    is_active: bool
    stops: list[StopOut]


class RouteIn(Schema):
    """A new patrol route."""

    community_id: int = Field(alias="community")
    name: str
    description: str = ""
    is_active: bool = True
    stops: list[StopIn] = []


class RoutePatch(Schema):
    """Changes to a route; ``stops``, when given, replaces all of them in that order."""

    name: str | None = None
    description: str | None = None
    is_active: bool | None = None
    stops: list[StopIn] | None = None


# --------------------------------------------------------------------------- runs


class PatrolRunStartIn(Schema):
    """A run to start now on a route."""

    patrol_route_id: int = Field(alias="patrol_route")
    order_mode: RunOrder = Field(
        RunOrder.FIXED, description="`random` draws a new order of the stops for this run."
    )


class PatrolPlanStopOut(Schema):
    """One stop of a run's plan, in the order to walk, with the check-in that covered it."""

    number: int
    checkpoint: int = Field(alias="checkpoint_id")
    name: str
    dwell_seconds: int
    max_gap_seconds: int
    check_in: int | None = Field(None, description="The accepted check-in, once there is one.")
    position: list[float] | None = Field(
        None, description="[longitude, latitude] of the checkpoint, if known."
    )

    @staticmethod
    def resolve_check_in(obj: Any) -> int | None:
        """The id of the accepted check-in covering this stop."""
        return None if obj.check_in is None else int(obj.check_in.pk)


class PatrolCheckInOut(Schema):
    """A check-in as the server judged it."""

    id: int
    run: int = Field(alias="run_id")
    checkpoint: int | None = Field(alias="checkpoint_id")
    checkpoint_name: str | None = None
    method: CheckInMethod
    code: str | None = Field(
        None, description="The code as scanned; null for callers who may not see codes."
    )
    client_id: UUID
    scanned_at: datetime = Field(description="The phone's time of the scan.")
    received_at: datetime
    skew_seconds: float = Field(description="received_at minus scanned_at.")
    clock_offset_seconds: float | None = Field(
        description="Server minus phone clock when it sent this, if the phone said."
    )
    latitude: float | None
    longitude: float | None
    accuracy: float | None
    distance_m: float | None = Field(description="Distance to the checkpoint, metres.")
    far: bool = Field(description="Farther than 50 m plus the accuracy: flagged for review.")
    note: str
    photo_url: str | None = None
    status: CheckInStatus
    rejection: str = Field(description="Why it was refused (empty when accepted).")
    rejection_message: str = ""

    @staticmethod
    def resolve_checkpoint_name(obj: CheckIn) -> str | None:
        """The checkpoint's name."""
        return None if obj.checkpoint is None else obj.checkpoint.name

    @staticmethod
    def resolve_code(obj: CheckIn, context: dict[str, Any]) -> str | None:
        """The code as scanned, only for those who may see codes."""
        request = context["request"]
        shown: dict[int, bool] = getattr(request, "_patrols_codes_shown", {})
        community_id = obj.run.community_id
        if community_id not in shown:
            shown[community_id] = selectors.can_see_codes(request_scope(request), community_id)
            request._patrols_codes_shown = shown
        return obj.code if shown[community_id] else None

    @staticmethod
    def resolve_photo_url(obj: CheckIn) -> str | None:
        """Where the photo is served (to those who may see the run)."""
        if not obj.photo:
            return None
        return reverse("patrols:check_in_photo", args=[obj.pk])

    @staticmethod
    def resolve_rejection_message(obj: CheckIn) -> str:
        """Why it was refused, in the caller's language."""
        from anwang.patrols.services import check_in_rejection_message

        return check_in_rejection_message(obj)


class PatrolRunSummaryOut(Schema):
    """A patrol run without its check-ins."""

    id: int
    community: int = Field(alias="community_id")
    route: int | None = Field(alias="route_id", description="Null once the route was deleted.")
    route_name: str
    guard: int = Field(alias="guard_id")
    guard_name: str
    order_mode: RunOrder
    patrol_schedule: int | None = Field(
        None, alias="schedule_id", description="The schedule whose shift this run fulfils."
    )
    shift_key: str = Field("", description="That shift's local start, YYYYMMDDTHHMM.")
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    stop_count: int
    accepted_count: int
    rejected_count: int
    far_count: int
    last_latitude: float | None
    last_longitude: float | None
    last_accuracy: float | None
    last_position_at: datetime | None
    note: str
    abandon_reason: str

    @staticmethod
    def resolve_guard_name(obj: PatrolRun) -> str:
        """How the guard is shown."""
        return obj.guard.get_full_name() or str(obj.guard)

    @staticmethod
    def resolve_stop_count(obj: PatrolRun) -> int:
        """How many stops the plan has."""
        return len(obj.plan or [])

    @staticmethod
    def resolve_accepted_count(obj: Any) -> int:
        """Accepted check-ins."""
        return int(getattr(obj, "accepted_count", 0))

    @staticmethod
    def resolve_rejected_count(obj: Any) -> int:
        """Refused check-ins."""
        return int(getattr(obj, "rejected_count", 0))

    @staticmethod
    def resolve_far_count(obj: Any) -> int:
        """Accepted check-ins flagged as far."""
        return int(getattr(obj, "far_count", 0))


class PatrolRunOut(PatrolRunSummaryOut):
    """A patrol run with its planned stops (in the order to walk) and every check-in."""

    plan: list[PatrolPlanStopOut] = Field(alias="plan_stops")
    check_ins: list[PatrolCheckInOut] = Field(alias="check_in_list")


class PatrolCheckInIn(Schema):
    """A check-in as the phone stored it."""

    code: str = Field(description="The code as scanned or typed, or the NFC tag's id.")
    client_id: UUID = Field(
        description="Made by the phone; the same id again finds the first check-in."
    )
    scanned_at: datetime = Field(description="The phone's time of the scan, with its offset.")
    method: CheckInMethod = CheckInMethod.QR
    latitude: float | None = None
    longitude: float | None = None
    accuracy: float | None = Field(None, description="GPS accuracy in metres.")
    note: str = ""


class PatrolCheckInFormIn(PatrolCheckInIn):
    """A check-in sent as a form (multipart, so that a ``photo`` can come along)."""

    sent_at: datetime | None = Field(
        None, description="The phone's clock when it sent this, to measure its offset."
    )


class PatrolSyncIn(Schema):
    """The check-ins a phone stored while it had no signal."""

    items: list[PatrolCheckInIn]
    sent_at: datetime | None = Field(
        None, description="The phone's clock when it sent them, to measure its offset."
    )


class PatrolSyncResultOut(Schema):
    """What became of one item of a sync, in the order sent."""

    client_id: str
    result: str = Field(description="`accepted`, `rejected` or `invalid` (not recorded).")
    created: bool = Field(description="False when the check-in was already there.")
    code: str = Field(description="The reason for `rejected` or `invalid`; empty otherwise.")
    message: str
    check_in: PatrolCheckInOut | None


class PatrolRunFinishIn(Schema):
    """Finishing one's run, with an optional note."""

    note: str = ""


class PatrolRunAbandonIn(Schema):
    """Abandoning a run: why."""

    reason: str


class PatrolSosIn(Schema):
    """A call for help: from a run, or else in a community; with the position if known."""

    patrol_run_id: int | None = Field(None, alias="patrol_run")
    community_id: int | None = Field(None, alias="community")
    latitude: float | None = None
    longitude: float | None = None
    accuracy: float | None = None
    at: datetime | None = Field(None, description="The phone's time of the position.")


class PatrolSosOut(Schema):
    """The alarm raised for the SOS."""

    alarm: int
    priority: int
    title: str
    raised_at: datetime


# --------------------------------------------------------------------------- schedules


class PatrolScheduleOut(Schema):
    """A patrol schedule: a route's recurring shifts and the guards assigned to them."""

    id: int
    community: int = Field(alias="community_id")
    patrol_route: int = Field(alias="route_id")
    name: str
    first_start: datetime = Field(description="Start of the first shift (community's zone).")
    duration_minutes: int = Field(description="Length of each shift in minutes.")
    rrule: str = Field(description="RFC 5545 recurrence rule, e.g. FREQ=WEEKLY;BYDAY=FR,SA.")
    order_mode: RunOrder
    random_start: bool = Field(description="Whether each run starts at a secret time in its shift.")
    guards: list[int] = Field(description="User ids of the assigned guards.")
    teams: list[int] = Field(
        description="Ids of assigned volunteer teams (their approved members are assigned)."
    )
    is_active: bool
    note: str

    @staticmethod
    def resolve_duration_minutes(obj: Any) -> int:
        """The shift length in whole minutes."""
        return int(obj.duration.total_seconds() // 60)

    @staticmethod
    def resolve_guards(obj: Any) -> list[int]:
        """The assigned guards' ids (prefetched)."""
        return sorted(guard.pk for guard in obj.guards.all())

    @staticmethod
    def resolve_teams(obj: Any) -> list[int]:
        """The assigned volunteer teams' ids (prefetched)."""
        return sorted(team.pk for team in obj.teams.all())


class PatrolScheduleIn(Schema):
    """A new patrol schedule."""

    community_id: int = Field(alias="community")
    patrol_route_id: int = Field(alias="patrol_route")
    name: str
    first_start: datetime
    duration_minutes: int = Field(ge=1, le=24 * 60)
    rrule: str
    order_mode: RunOrder = RunOrder.FIXED
    random_start: bool = False
    guards: list[int] = []
    teams: list[int] = []
    is_active: bool = True
    note: str = ""


class PatrolSchedulePatch(Schema):
    """Changes to a schedule; ``guards``, when given, replaces the assigned guards."""

    patrol_route_id: int | None = Field(None, alias="patrol_route")
    name: str | None = None
    first_start: datetime | None = None
    duration_minutes: int | None = Field(None, ge=1, le=24 * 60)
    rrule: str | None = None
    order_mode: RunOrder | None = None
    random_start: bool | None = None
    guards: list[int] | None = None
    teams: list[int] | None = None
    is_active: bool | None = None
    note: str | None = None


class PatrolShiftOut(Schema):
    """One shift of a schedule; ``planned_start`` and ``stops`` (the secret plan) are null
    unless the caller manages patrols or is an assigned guard within 15 minutes of it."""

    patrol_schedule: int
    schedule_name: str
    route_name: str
    shift_key: str = Field(description="The shift's local start, YYYYMMDDTHHMM.")
    start: datetime
    end: datetime
    status: ShiftStatus
    patrol_run: int | None
    planned_start: datetime | None
    stops: list[str] | None = Field(description="Checkpoint names in the order to walk.")
    can_start: bool = Field(description="Whether the caller may start this shift's run now.")

    @staticmethod
    def from_view(view: selectors.ShiftView) -> PatrolShiftOut:
        """The API form of a shift as the selector shows it."""
        return PatrolShiftOut(
            patrol_schedule=view.schedule.pk,
            schedule_name=view.schedule.name,
            route_name=view.schedule.route.name,
            shift_key=view.key,
            start=view.shift.start,
            end=view.shift.end,
            status=ShiftStatus(view.status),
            patrol_run=None if view.run is None else view.run.pk,
            planned_start=view.planned_start,
            stops=view.stop_names,
            can_start=view.can_start,
        )


class PatrolShiftStartIn(Schema):
    """The shift whose run to start now."""

    shift_key: str

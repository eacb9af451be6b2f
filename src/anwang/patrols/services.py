"""Writes of the patrols domain: checkpoints and their signed codes, patrol routes and their
ordered stops; the check of a scanned or typed checkpoint code; patrol runs with their
check-ins (also synced late from a phone that had no signal) and the guard's SOS.

Every function is keyword-only and checks that the caller may act: changes need
:attr:`Permission.MANAGE_PATROLS` in the community (403 for those who may only see patrols, 404
for everyone else), checking a code needs :attr:`Permission.VIEW_PATROLS`; walking a run
(start, check in, finish, SOS) needs :attr:`Permission.RUN_PATROLS`, and only the run's own guard
checks in on it or finishes it; abandoning a run needs :attr:`Permission.MANAGE_PATROLS`.
Input is validated with translated errors on the field they concern, and every change records
an audit entry in the same transaction. Without ``actor`` and ``scope`` the call is the system
itself.

A checkpoint's code is signed (see :mod:`anwang.patrols.codes`); re-issuing it raises the
version, so a label that was copied stops working the moment a new one is printed.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core import geo
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.images import clean_photo
from anwang.core.validation import UNSET, Unset, clean_aware, clean_text
from anwang.devices.choices import DeviceKind
from anwang.devices.models import Device
from anwang.participation.choices import PointSource
from anwang.participation.services import points_award
from anwang.patrols import codes
from anwang.patrols.choices import (
    CheckInMethod,
    CheckInRejection,
    CheckInStatus,
    CodeRejection,
    Placement,
    RunOrder,
    RunStatus,
)
from anwang.patrols.models import (
    DEFAULT_DWELL_SECONDS,
    DEFAULT_MAX_GAP_SECONDS,
    CalendarFeed,
    CheckIn,
    Checkpoint,
    PatrolRoute,
    PatrolRun,
    PatrolSchedule,
    RouteStop,
)
from anwang.patrols.schedules import Shift, clean_rule_field, clean_shift_length
from anwang.places.models import Building, Community, Zone
from anwang.volunteers.models import Team

CHECKPOINT_FIELDS = (
    "community",
    "name",
    "placement",
    "zone",
    "building",
    "device",
    "point",
    "nfc_tag_id",
    "code_version",
    "note",
    "retired_at",
)
ROUTE_FIELDS = ("community", "name", "description", "is_active")
DOOR_KINDS = frozenset({DeviceKind.ACCESS_READER, DeviceKind.CONTACT})
"""Device kinds a checkpoint can be placed at: the ones that sit on a door."""
MAX_SECONDS = 24 * 3600
MAX_STOPS = 200


@dataclass(frozen=True)
class StopSpec:
    """One stop of a route as given to :func:`patrol_route_set_stops`."""

    checkpoint: Checkpoint
    dwell_seconds: int = DEFAULT_DWELL_SECONDS
    max_gap_seconds: int = DEFAULT_MAX_GAP_SECONDS


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_PATROLS,
        community_id=community_id,
        visible_with=Permission.VIEW_PATROLS,
    )


def _seconds(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ServiceError(_("Enter a whole number."), field=name)
    try:
        number = int(value)
    except ValueError as error:
        raise ServiceError(_("Enter a whole number."), field=name) from error
    if not 0 <= number <= MAX_SECONDS:
        raise ServiceError(
            _("Enter a number of seconds from 0 to %(max)d.") % {"max": MAX_SECONDS}, field=name
        )
    return number


@dataclass
class _Place:
    placement: str
    zone: Zone | None
    building: Building | None
    device: Device | None
    point: dict[str, Any] | None


def _place(
    community_id: int,
    placement: Any,
    zone: Zone | None,
    building: Building | None,
    device: Device | None,
    point: Any,
) -> _Place:
    """Check where a checkpoint is; what the placement does not use is dropped."""
    if placement not in Placement.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in Placement.labels)},
            field="placement",
        )
    clean_point = None
    if point not in (None, "", {}):
        clean_point = geo.validate_geometry(point, allowed=("Point",), field="point")
    place = _Place(str(placement), None, None, None, clean_point)
    if placement == Placement.ZONE:
        if zone is None:
            raise ServiceError(_("Choose the zone."), field="zone")
        if zone.community_id != community_id:
            raise ServiceError(_("Choose a zone of this community."), field="zone")
        place.zone = zone
    elif placement == Placement.BUILDING:
        if building is None:
            raise ServiceError(_("Choose the building."), field="building")
        if building.community_id != community_id:
            raise ServiceError(_("Choose a building of this community."), field="building")
        place.building = building
    elif placement == Placement.DOOR:
        if device is None:
            raise ServiceError(_("Choose the door device."), field="device")
        if device.community_id != community_id or device.retired_at is not None:
            raise ServiceError(_("Choose a device of this community in service."), field="device")
        if device.kind not in DOOR_KINDS:
            raise ServiceError(_("Choose an access reader or a door contact."), field="device")
        place.device = device
    elif clean_point is None:
        raise ServiceError(_("Click on the map to place the checkpoint."), field="point")
    return place


def _name_taken() -> str:
    return _("Another checkpoint of this community already has this name.")


def _nfc_taken() -> str:
    return _("Another checkpoint of this community already has this NFC tag.")


def _check_free(checkpoint: Checkpoint) -> None:
    others = Checkpoint.objects.filter(
        community_id=checkpoint.community_id, retired_at__isnull=True
    ).exclude(pk=checkpoint.pk)
    if others.filter(name=checkpoint.name).exists():
        raise ServiceError(_name_taken(), field="name")
    if checkpoint.nfc_tag_id and others.filter(nfc_tag_id=checkpoint.nfc_tag_id).exists():
        raise ServiceError(_nfc_taken(), field="nfc_tag_id")


def _save_checkpoint(checkpoint: Checkpoint) -> None:
    _check_free(checkpoint)
    # The check can race with a concurrent save; the constraints decide.
    try:
        with transaction.atomic():
            checkpoint.save()
    except IntegrityError as error:
        raise ServiceError(_name_taken(), field="name") from error


def _refuse_retired(checkpoint: Checkpoint) -> None:
    if checkpoint.retired_at is not None:
        raise ConflictError(_("This checkpoint was retired and can no longer be changed."))


def _audit(
    actor: User | None,
    action: str,
    obj: Checkpoint | PatrolRoute,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        community_id=obj.community_id,
        changes=diff(before, after),
    )


# --------------------------------------------------------------------------- checkpoints


def checkpoint_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    placement: str,
    zone: Zone | None = None,
    building: Building | None = None,
    device: Device | None = None,
    point: dict[str, Any] | str | None = None,
    nfc_tag_id: str = "",
    note: str = "",
) -> Checkpoint:
    """Add a checkpoint with its first signed code."""
    _require_manage(actor, scope, community.pk)
    place = _place(community.pk, placement, zone, building, device, point)
    checkpoint = Checkpoint(
        community=community,
        name=clean_text("name", name, limit=100),
        placement=place.placement,
        zone=place.zone,
        building=place.building,
        device=place.device,
        point=place.point,
        nfc_tag_id=clean_text("nfc_tag_id", nfc_tag_id, limit=64, required=False),
        note=clean_text("note", note, limit=2000, required=False),
        code_salt=secrets.token_hex(16),
        code_version=1,
        code_issued_at=timezone.now(),
    )
    with transaction.atomic():
        _save_checkpoint(checkpoint)
        _audit(actor, "checkpoint.create", checkpoint, {}, snapshot(checkpoint, CHECKPOINT_FIELDS))
    return checkpoint


def checkpoint_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    checkpoint: Checkpoint,
    name: str | Unset = UNSET,
    placement: str | Unset = UNSET,
    zone: Zone | Unset | None = UNSET,
    building: Building | Unset | None = UNSET,
    device: Device | Unset | None = UNSET,
    point: dict[str, Any] | str | Unset | None = UNSET,
    nfc_tag_id: str | Unset = UNSET,
    note: str | Unset = UNSET,
) -> Checkpoint:
    """Change a checkpoint in use; arguments left at :data:`UNSET` keep their value. Its code
    stays the same (moving a label is a re-issue, not an edit)."""
    _require_manage(actor, scope, checkpoint.community_id)
    _refuse_retired(checkpoint)
    before = snapshot(checkpoint, CHECKPOINT_FIELDS)
    place = _place(
        checkpoint.community_id,
        checkpoint.placement if placement is UNSET else placement,
        checkpoint.zone if zone is UNSET else zone,
        checkpoint.building if building is UNSET else building,
        checkpoint.device if device is UNSET else device,
        checkpoint.point if point is UNSET else point,
    )
    if name is not UNSET:
        checkpoint.name = clean_text("name", name, limit=100)
    if nfc_tag_id is not UNSET:
        checkpoint.nfc_tag_id = clean_text("nfc_tag_id", nfc_tag_id, limit=64, required=False)
    if note is not UNSET:
        checkpoint.note = clean_text("note", note, limit=2000, required=False)
    checkpoint.placement = place.placement
    checkpoint.zone = place.zone
    checkpoint.building = place.building
    checkpoint.device = place.device
    checkpoint.point = place.point
    with transaction.atomic():
        _save_checkpoint(checkpoint)
        after = snapshot(checkpoint, CHECKPOINT_FIELDS)
        if after != before:
            _audit(actor, "checkpoint.update", checkpoint, before, after)
    return checkpoint


def checkpoint_retire(
    *, actor: User | None, scope: Scope | None = None, checkpoint: Checkpoint
) -> Checkpoint:
    """Take a checkpoint out of use: its code stops verifying, its name is freed, and routes
    that still list it keep it until they are edited."""
    _require_manage(actor, scope, checkpoint.community_id)
    _refuse_retired(checkpoint)
    before = snapshot(checkpoint, CHECKPOINT_FIELDS)
    checkpoint.retired_at = timezone.now()
    with transaction.atomic():
        checkpoint.save(update_fields=["retired_at", "updated_at"])
        _audit(
            actor, "checkpoint.retire", checkpoint, before, snapshot(checkpoint, CHECKPOINT_FIELDS)
        )
    return checkpoint


def checkpoint_code_reissue(
    *, actor: User | None, scope: Scope | None = None, checkpoint: Checkpoint
) -> Checkpoint:
    """Give a checkpoint a new code (e.g. its label was copied); the old code stops working."""
    _require_manage(actor, scope, checkpoint.community_id)
    _refuse_retired(checkpoint)
    with transaction.atomic():
        # Locked, so two re-issues at once cannot hand out the same version twice.
        locked = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
        before = snapshot(locked, CHECKPOINT_FIELDS)
        locked.code_version += 1
        locked.code_issued_at = timezone.now()
        locked.save(update_fields=["code_version", "code_issued_at", "updated_at"])
        _audit(
            actor, "checkpoint.reissue_code", locked, before, snapshot(locked, CHECKPOINT_FIELDS)
        )
    checkpoint.code_version = locked.code_version
    checkpoint.code_issued_at = locked.code_issued_at
    return checkpoint


def _rejected(reason: CodeRejection) -> ServiceError:
    messages = {
        CodeRejection.MALFORMED: _(
            "This is not a checkpoint code. Check it for typing mistakes and try again."
        ),
        CodeRejection.FORGED: _("This code was not issued by Anwang: it is forged or damaged."),
        CodeRejection.OTHER_COMMUNITY: _("This code belongs to a checkpoint of another community."),
        CodeRejection.REISSUED: _(
            "This code was replaced by a newer one: the label is old or a copy."
        ),
        CodeRejection.RETIRED: _("This checkpoint was retired and is no longer patrolled."),
    }
    return ServiceError(messages[reason], field="code", code=reason.value)


def checkpoint_code_verify(
    *,
    actor: User | None = None,
    scope: Scope | None = None,
    community: Community,
    code: str,
) -> Checkpoint:
    """The checkpoint a scanned or typed code belongs to, or a :class:`ServiceError` whose
    ``code`` says why it was refused (a :class:`CodeRejection` value)."""
    authorize(
        actor=actor, scope=scope, permission=Permission.VIEW_PATROLS, community_id=community.pk
    )
    try:
        decoded = codes.decode(str(code))
    except codes.MalformedCodeError as error:
        raise _rejected(CodeRejection.MALFORMED) from error
    checkpoint = (
        Checkpoint.objects.select_related("community").filter(pk=decoded.checkpoint_id).first()
    )
    if checkpoint is None or not codes.matches(
        decoded, community_id=checkpoint.community_id, salt=checkpoint.code_salt
    ):
        raise _rejected(CodeRejection.FORGED)
    if checkpoint.community_id != community.pk:
        raise _rejected(CodeRejection.OTHER_COMMUNITY)
    if decoded.version > checkpoint.code_version:
        # Only the key holder can sign a version that was never issued.
        raise _rejected(CodeRejection.FORGED)
    if checkpoint.retired_at is not None:
        raise _rejected(CodeRejection.RETIRED)
    if decoded.version < checkpoint.code_version:
        raise _rejected(CodeRejection.REISSUED)
    return checkpoint


# --------------------------------------------------------------------------- routes


def _stops(route: PatrolRoute) -> list[dict[str, int]]:
    return [
        {
            "checkpoint": stop.checkpoint_id,
            "dwell_seconds": stop.dwell_seconds,
            "max_gap_seconds": stop.max_gap_seconds,
        }
        for stop in route.stops.order_by("order")
    ]


def _route_name_free(route: PatrolRoute) -> None:
    taken = PatrolRoute.objects.filter(community_id=route.community_id, name=route.name)
    if route.pk is not None:
        taken = taken.exclude(pk=route.pk)
    if taken.exists():
        raise ServiceError(
            _("Another route of this community already has this name."), field="name"
        )


def _save_route(route: PatrolRoute) -> None:
    _route_name_free(route)
    try:
        with transaction.atomic():
            route.save()
    except IntegrityError as error:
        raise ServiceError(
            _("Another route of this community already has this name."), field="name"
        ) from error


def _write_stops(route: PatrolRoute, stops: Sequence[StopSpec]) -> None:
    if len(stops) > MAX_STOPS:
        raise ServiceError(
            _("A route can have at most %(max)d stops.") % {"max": MAX_STOPS}, field="stops"
        )
    rows: list[RouteStop] = []
    for order, stop in enumerate(stops, start=1):
        checkpoint = stop.checkpoint
        if checkpoint.community_id != route.community_id:
            raise ServiceError(_("Choose checkpoints of this community."), field="stops")
        if checkpoint.retired_at is not None:
            raise ServiceError(
                _("Checkpoint “%(name)s” was retired; remove it from the route.")
                % {"name": checkpoint.name},
                field="stops",
            )
        rows.append(
            RouteStop(
                route=route,
                checkpoint=checkpoint,
                order=order,
                dwell_seconds=_seconds("dwell_seconds", stop.dwell_seconds),
                max_gap_seconds=_seconds("max_gap_seconds", stop.max_gap_seconds),
            )
        )
    route.stops.all().delete()
    RouteStop.objects.bulk_create(rows)


def patrol_route_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    description: str = "",
    is_active: bool = True,
    stops: Iterable[StopSpec] = (),
) -> PatrolRoute:
    """Add a patrol route, optionally with its ordered stops."""
    _require_manage(actor, scope, community.pk)
    route = PatrolRoute(
        community=community,
        name=clean_text("name", name, limit=100),
        description=clean_text("description", description, limit=2000, required=False),
        is_active=bool(is_active),
    )
    with transaction.atomic():
        _save_route(route)
        _write_stops(route, list(stops))
        after = snapshot(route, ROUTE_FIELDS) | {"stops": _stops(route)}
        _audit(actor, "patrol_route.create", route, {}, after)
    return route


def patrol_route_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    route: PatrolRoute,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> PatrolRoute:
    """Rename, describe, or switch a route on or off (an inactive route is not scheduled)."""
    _require_manage(actor, scope, route.community_id)
    before = snapshot(route, ROUTE_FIELDS)
    if name is not UNSET:
        route.name = clean_text("name", name, limit=100)
    if description is not UNSET:
        route.description = clean_text("description", description, limit=2000, required=False)
    if is_active is not UNSET:
        route.is_active = bool(is_active)
    with transaction.atomic():
        _save_route(route)
        after = snapshot(route, ROUTE_FIELDS)
        if after != before:
            _audit(actor, "patrol_route.update", route, before, after)
    return route


def patrol_route_set_stops(
    *,
    actor: User | None,
    scope: Scope | None = None,
    route: PatrolRoute,
    stops: Sequence[StopSpec],
) -> PatrolRoute:
    """Replace a route's stops with ``stops``, in that order (a checkpoint may recur, e.g. a
    round that starts and ends at the gate)."""
    _require_manage(actor, scope, route.community_id)
    with transaction.atomic():
        PatrolRoute.objects.select_for_update().filter(pk=route.pk).first()
        before = _stops(route)
        _write_stops(route, stops)
        after = _stops(route)
        if after != before:
            _audit(actor, "patrol_route.set_stops", route, {"stops": before}, {"stops": after})
    return route


def patrol_route_delete(
    *, actor: User | None, scope: Scope | None = None, route: PatrolRoute
) -> None:
    """Delete a route and its stops (its checkpoints stay)."""
    _require_manage(actor, scope, route.community_id)
    with transaction.atomic():
        before = snapshot(route, ROUTE_FIELDS) | {"stops": _stops(route)}
        _audit(actor, "patrol_route.delete", route, before, {})
        route.delete()


# --------------------------------------------------------------------------- runs
#
# A guard's phone proposes check-ins, often long after they were made (no signal in a
# basement); the server decides. Each check-in carries the phone's time of the scan and a
# uuid made by the phone, so a check-in sent twice is found again instead of counted twice,
# and one synced hours later keeps its original time.

NEAR_METRES: Final = 50.0
"""A check-in farther than this plus the reported GPS accuracy is flagged as far."""
EARLY_ALLOWANCE: Final = dt.timedelta(minutes=5)
"""How far before the run's start a scan may be dated (the phone's clock may be behind)."""
FUTURE_ALLOWANCE: Final = dt.timedelta(minutes=2)
"""How far ahead of the server's clock a scan may be dated."""
CLOCK_TRUSTED: Final = dt.timedelta(seconds=30)
"""A phone clock off by more than this (as measured when it sends) is corrected for."""
MAX_BATCH: Final = 200
MAX_ACCURACY_M: Final = 100_000.0
RUN_FIELDS = (
    "community",
    "route",
    "route_name",
    "guard",
    "order_mode",
    "plan",
    "status",
    "started_at",
    "finished_at",
    "note",
    "abandon_reason",
    "abandoned_by",
)


@dataclass(frozen=True)
class Position:
    """Where the phone was (WGS84), how sure it was, and when (the phone's clock)."""

    latitude: float
    longitude: float
    accuracy: float | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True)
class CheckInItem:
    """One check-in as the phone sends it (in a batch, see :func:`patrol_check_ins_sync`)."""

    code: str
    client_id: uuid.UUID | str
    scanned_at: dt.datetime
    method: str = CheckInMethod.QR
    position: Position | None = None
    note: str = ""


@dataclass
class CheckInResult:
    """What became of one check-in: ``check_in`` (accepted or refused, new or found again by
    its uuid) or, for input that could not even be recorded, an ``error``."""

    client_id: str
    check_in: CheckIn | None = None
    created: bool = False
    error: ServiceError | None = None


def _require_run(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.RUN_PATROLS,
        community_id=community_id,
        visible_with=Permission.VIEW_PATROLS,
    )


def _require_guard_of(actor: User | None, scope: Scope | None, run: PatrolRun) -> None:
    """Only the guard walking a run checks in, finishes it or calls SOS from it."""
    _require_run(actor, scope, run.community_id)
    if actor is None or actor.pk == run.guard_id:
        return
    from anwang.accounts.selectors import service_scope
    from anwang.patrols.selectors import can_oversee_runs

    resolved = service_scope(actor, scope)
    if resolved is not None and can_oversee_runs(resolved, run.community_id):
        raise PermissionDenied
    raise Http404


def _clean_position(position: Position | None, field: str = "position") -> Position | None:
    if position is None:
        return None
    try:
        latitude = float(position.latitude)
        longitude = float(position.longitude)
        accuracy = None if position.accuracy is None else float(position.accuracy)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Enter the position as numbers."), field=field) from error
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise ServiceError(_("The latitude must be between -90 and 90."), field=field)
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise ServiceError(_("The longitude must be between -180 and 180."), field=field)
    if accuracy is not None and not (math.isfinite(accuracy) and 0 <= accuracy <= MAX_ACCURACY_M):
        raise ServiceError(
            _("The accuracy must be between 0 and %(max)d metres.") % {"max": MAX_ACCURACY_M},
            field=field,
        )
    at = None if position.at is None else clean_aware(field, position.at)
    return Position(latitude, longitude, accuracy, at)


def _client_id(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise ServiceError(_("The check-in's id is not a UUID."), field="client_id") from error


def _plan(
    route: PatrolRoute, order_mode: str, stop_order: Sequence[int] | None
) -> list[dict[str, Any]]:
    stops = list(route.stops.select_related("checkpoint").order_by("order"))
    if stop_order is not None:
        if sorted(stop_order) != list(range(len(stops))):
            raise ServiceError(
                _("The order must name each stop of the route exactly once."), field="stop_order"
            )
        stops = [stops[index] for index in stop_order]
    plan = [
        {
            "checkpoint": stop.checkpoint_id,
            "name": stop.checkpoint.name,
            "dwell_seconds": stop.dwell_seconds,
            "max_gap_seconds": stop.max_gap_seconds,
        }
        for stop in stops
        if stop.checkpoint.retired_at is None
    ]
    if order_mode == RunOrder.RANDOM and stop_order is None:
        # A secure shuffle: the order must not be guessable from outside (Fisher-Yates with
        # the system's random source).
        for index in range(len(plan) - 1, 0, -1):
            other = secrets.randbelow(index + 1)
            plan[index], plan[other] = plan[other], plan[index]
    return plan


def _run_audit(
    actor: User | None, action: str, run: PatrolRun, before: Mapping[str, Any], **extra: Any
) -> None:
    after = snapshot(run, RUN_FIELDS) | extra
    audit_record(
        actor=actor,
        action=action,
        obj=run,
        community_id=run.community_id,
        changes=diff(before, after),
    )


def patrol_run_start(
    *,
    actor: User,
    scope: Scope | None = None,
    route: PatrolRoute,
    order_mode: str = RunOrder.FIXED,
    stop_order: Sequence[int] | None = None,
) -> PatrolRun:
    """Start walking a route now, in its fixed order or a freshly drawn random one. A guard has
    one run in progress at a time. ``stop_order`` (0-based positions of the route's stops) gives
    the order instead, e.g. the secret order a schedule derived for a shift."""
    _require_run(actor, scope, route.community_id)
    if order_mode not in RunOrder.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in RunOrder.labels)},
            field="order_mode",
        )
    if not route.is_active:
        raise ServiceError(_("This route is not in use."), field="route")
    plan = _plan(route, order_mode, stop_order)
    if not plan:
        raise ServiceError(_("This route has no checkpoints in use."), field="route")
    busy = _("You already have a patrol run in progress: finish it first.")
    run = PatrolRun(
        community_id=route.community_id,
        route=route,
        route_name=route.name,
        guard=actor,
        order_mode=order_mode,
        plan=plan,
        status=RunStatus.IN_PROGRESS,
        started_at=timezone.now(),
    )
    with transaction.atomic():
        if PatrolRun.objects.filter(guard=actor, status=RunStatus.IN_PROGRESS).exists():
            raise ConflictError(busy, code="run_in_progress")
        try:
            # The constraint settles two starts at once.
            with transaction.atomic():
                run.save()
        except IntegrityError as error:
            raise ConflictError(busy, code="run_in_progress") from error
        _run_audit(actor, "patrol_run.start", run, {})
    return run


def _rejection_message(reason: CheckInRejection) -> str:
    messages = {
        CheckInRejection.UNKNOWN_TAG: _("No checkpoint of this community has this NFC tag."),
        CheckInRejection.NOT_ON_ROUTE: _("This checkpoint is not on the route of this run."),
        CheckInRejection.DUPLICATE: _(
            "This checkpoint was already checked in on this run; scan the next one."
        ),
        CheckInRejection.BEFORE_START: _("The check-in is dated before the run started."),
        CheckInRejection.IN_FUTURE: _(
            "The check-in is dated in the future: check the phone's date and time."
        ),
        CheckInRejection.RUN_CLOSED: _("This run is closed; no more check-ins are taken."),
    }
    if reason.value in CodeRejection.values:
        return str(_rejected(CodeRejection(reason.value)).message)
    return str(messages[reason])


def check_in_rejection_message(check_in: CheckIn) -> str:
    """Why a check-in was refused, in the current language (empty when accepted)."""
    if not check_in.rejection:
        return ""
    return _rejection_message(CheckInRejection(check_in.rejection))


class _RefusedError(Exception):
    def __init__(self, reason: CheckInRejection, checkpoint: Checkpoint | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.checkpoint = checkpoint


def _resolve_checkpoint(run: PatrolRun, method: str, code: str) -> Checkpoint:
    if method == CheckInMethod.NFC:
        found = Checkpoint.objects.filter(
            community_id=run.community_id, nfc_tag_id=code, retired_at__isnull=True
        ).first()
        if found is None:
            raise _RefusedError(CheckInRejection.UNKNOWN_TAG)
        return found
    try:
        return checkpoint_code_verify(actor=None, community=run.community, code=code)
    except ServiceError as error:
        raise _RefusedError(CheckInRejection(error.code)) from error


def _check_duplicate(run: PatrolRun, checkpoint: Checkpoint, scanned_at: dt.datetime) -> None:
    """A checkpoint counts as often as it is planned, and a recurring one only after another
    checkpoint in between (a second scan at the same label is a duplicate, not the next lap)."""
    planned = sum(1 for item in run.plan if int(item["checkpoint"]) == checkpoint.pk)
    accepted = list(
        run.check_ins.filter(status=CheckInStatus.ACCEPTED)
        .order_by("scanned_at", "id")
        .values_list("checkpoint_id", "scanned_at")
    )
    if sum(1 for checkpoint_id, _at in accepted if checkpoint_id == checkpoint.pk) >= planned:
        raise _RefusedError(CheckInRejection.DUPLICATE, checkpoint)
    before = [cid for cid, at in accepted if at <= scanned_at]
    after = [cid for cid, at in accepted if at > scanned_at]
    if (before and before[-1] == checkpoint.pk) or (after and after[0] == checkpoint.pk):
        raise _RefusedError(CheckInRejection.DUPLICATE, checkpoint)


def _judge(
    run: PatrolRun, method: str, code: str, corrected: dt.datetime, now: dt.datetime
) -> Checkpoint:
    """The checkpoint of an acceptable check-in, or :class:`_RefusedError` with the reason."""
    if run.status == RunStatus.ABANDONED:
        raise _RefusedError(CheckInRejection.RUN_CLOSED)
    checkpoint = _resolve_checkpoint(run, method, code)
    if corrected > now + FUTURE_ALLOWANCE:
        raise _RefusedError(CheckInRejection.IN_FUTURE, checkpoint)
    if corrected < run.started_at - EARLY_ALLOWANCE:
        raise _RefusedError(CheckInRejection.BEFORE_START, checkpoint)
    if run.finished_at is not None and corrected > run.finished_at + FUTURE_ALLOWANCE:
        raise _RefusedError(CheckInRejection.RUN_CLOSED, checkpoint)
    if not any(int(item["checkpoint"]) == checkpoint.pk for item in run.plan):
        raise _RefusedError(CheckInRejection.NOT_ON_ROUTE, checkpoint)
    _check_duplicate(run, checkpoint, corrected)
    return checkpoint


def _record_position(run: PatrolRun, position: Position | None, at: dt.datetime) -> None:
    if position is None:
        return
    if run.last_position_at is not None and run.last_position_at > at:
        return
    run.last_latitude = position.latitude
    run.last_longitude = position.longitude
    run.last_accuracy = position.accuracy
    run.last_position_at = at
    run.save(
        update_fields=[
            "last_latitude",
            "last_longitude",
            "last_accuracy",
            "last_position_at",
            "updated_at",
        ]
    )


def _check_in_one(
    *,
    actor: User | None,
    run: PatrolRun,
    item: CheckInItem,
    note: str,
    photo: tuple[bytes, str] | None,
    sent_at: dt.datetime | None,
) -> tuple[CheckIn, bool]:
    """Record one check-in of a locked run (or find it again by its uuid)."""
    client_id = _client_id(item.client_id)
    existing = run.check_ins.filter(client_id=client_id).select_related("checkpoint").first()
    if existing is not None:
        return existing, False
    if item.method not in CheckInMethod.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in CheckInMethod.labels)},
            field="method",
        )
    code = clean_text("code", item.code, limit=64)
    scanned_at = clean_aware("scanned_at", item.scanned_at)
    position = _clean_position(item.position)
    now = timezone.now()
    offset: dt.timedelta | None = None
    if sent_at is not None:
        offset = now - clean_aware("sent_at", sent_at)
    # A phone whose clock is off says so by the time it sends; its scan times move with it.
    corrected = (
        scanned_at + offset if offset is not None and abs(offset) > CLOCK_TRUSTED else scanned_at
    )
    check_in = CheckIn(
        run=run,
        method=item.method,
        code=code,
        client_id=client_id,
        scanned_at=scanned_at,
        received_at=now,
        skew_seconds=(now - scanned_at).total_seconds(),
        clock_offset_seconds=None if offset is None else offset.total_seconds(),
        latitude=None if position is None else position.latitude,
        longitude=None if position is None else position.longitude,
        accuracy=None if position is None else position.accuracy,
        note=note,
    )
    try:
        checkpoint = _judge(run, item.method, code, corrected, now)
    except _RefusedError as refused:
        check_in.checkpoint = refused.checkpoint
        check_in.status = CheckInStatus.REJECTED
        check_in.rejection = refused.reason.value
    else:
        check_in.checkpoint = checkpoint
        check_in.status = CheckInStatus.ACCEPTED
        where = checkpoint.position()
        if position is not None and where is not None:
            distance = geo.distance_m((position.longitude, position.latitude), where)
            check_in.distance_m = round(distance, 1)
            check_in.far = distance > NEAR_METRES + (position.accuracy or 0.0)
    if photo is not None:
        content, extension = photo
        check_in.photo.save(f"check-in.{extension}", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            check_in.save()
    except IntegrityError:
        # The same uuid arrived twice at once; the first one stands.
        found = run.check_ins.filter(client_id=client_id).select_related("checkpoint").first()
        if found is None:
            raise
        return found, False
    if check_in.is_accepted:
        _record_position(run, position, corrected)
    audit_record(
        actor=actor,
        action="check_in.accept" if check_in.is_accepted else "check_in.reject",
        obj=check_in,
        community_id=run.community_id,
        changes={
            "run": run.pk,
            "checkpoint": check_in.checkpoint_id,
            "method": check_in.method,
            "client_id": str(client_id),
            "scanned_at": scanned_at.isoformat(),
            "far": check_in.far,
            "distance_m": check_in.distance_m,
            "rejection": check_in.rejection,
        },
    )
    return check_in, True


def _lock(run: PatrolRun) -> PatrolRun:
    return PatrolRun.objects.select_for_update().select_related("community").get(pk=run.pk)


def patrol_check_in(
    *,
    actor: User,
    scope: Scope | None = None,
    run: PatrolRun,
    code: str,
    client_id: uuid.UUID | str,
    scanned_at: dt.datetime,
    method: str = CheckInMethod.QR,
    position: Position | None = None,
    note: str = "",
    photo: UploadedFile | None = None,
    sent_at: dt.datetime | None = None,
) -> CheckInResult:
    """Check in at a checkpoint of one's own run. Always records the attempt: accepted, or
    refused with a :class:`CheckInRejection`; the same ``client_id`` again finds the first
    attempt (``created`` is false). Input that cannot be recorded raises :class:`ServiceError`."""
    _require_guard_of(actor, scope, run)
    clean_note = clean_text("note", note, limit=2000, required=False)
    picture = clean_photo(photo) if photo is not None else None
    item = CheckInItem(
        code=code, client_id=client_id, scanned_at=scanned_at, method=method, position=position
    )
    with transaction.atomic():
        locked = _lock(run)
        check_in, created = _check_in_one(
            actor=actor, run=locked, item=item, note=clean_note, photo=picture, sent_at=sent_at
        )
    return CheckInResult(str(check_in.client_id), check_in, created)


def patrol_check_ins_sync(
    *,
    actor: User,
    scope: Scope | None = None,
    run: PatrolRun,
    items: Sequence[CheckInItem],
    sent_at: dt.datetime | None = None,
) -> list[CheckInResult]:
    """Take the check-ins a phone stored while it had no signal, in one request. They are
    judged in the order they were scanned (whatever order they arrive in), each on its own:
    one refused or invalid item does not stop the others. The results come back in the
    order of ``items``. ``sent_at`` is the phone's clock when it sent them."""
    _require_guard_of(actor, scope, run)
    if len(items) > MAX_BATCH:
        raise ServiceError(
            _("Send at most %(max)d check-ins at once.") % {"max": MAX_BATCH}, field="items"
        )
    results: dict[int, CheckInResult] = {}

    def when(index: int) -> dt.datetime:
        value = items[index].scanned_at
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value
        return dt.datetime.max.replace(tzinfo=dt.UTC)

    with transaction.atomic():
        locked = _lock(run)
        for index in sorted(range(len(items)), key=when):
            item = items[index]
            try:
                with transaction.atomic():
                    note = clean_text("note", item.note, limit=2000, required=False)
                    check_in, created = _check_in_one(
                        actor=actor, run=locked, item=item, note=note, photo=None, sent_at=sent_at
                    )
            except ServiceError as error:
                results[index] = CheckInResult(str(item.client_id), error=error)
            else:
                results[index] = CheckInResult(str(check_in.client_id), check_in, created)
    return [results[index] for index in range(len(items))]


def patrol_run_finish(
    *, actor: User, scope: Scope | None = None, run: PatrolRun, note: str = ""
) -> PatrolRun:
    """End one's own run in progress; check-ins scanned before now may still arrive later."""
    _require_guard_of(actor, scope, run)
    clean_note = clean_text("note", note, limit=2000, required=False)
    with transaction.atomic():
        locked = _lock(run)
        if locked.status != RunStatus.IN_PROGRESS:
            raise ConflictError(_("This run is no longer in progress."), code="run_closed")
        before = snapshot(locked, RUN_FIELDS)
        locked.status = RunStatus.COMPLETED
        locked.finished_at = timezone.now()
        if clean_note:
            locked.note = clean_note
        locked.save(update_fields=["status", "finished_at", "note", "updated_at"])
        _run_audit(actor, "patrol_run.finish", locked, before)
        _award_patrol_points(locked)
    return locked


def _award_patrol_points(run: PatrolRun) -> None:
    """A volunteer earns the community's patrol-hour points for a finished run, once (keyed by
    the run); staff guards patrol as their job and earn none."""
    if (
        run.finished_at is None
        or not Membership.objects.filter(
            user_id=run.guard_id, community_id=run.community_id, role=Role.VOLUNTEER
        ).exists()
    ):
        return
    hours = Decimal((run.finished_at - run.started_at).total_seconds() / 3600)
    points_award(
        community=run.community,
        user=run.guard,
        source_kind=PointSource.PATROL_HOUR,
        source_key=f"patrol_run:{run.pk}",
        quantity=hours.quantize(Decimal("0.01")),
        occurred_at=run.finished_at,
        reason=run.route_name,
    )


def patrol_run_abandon(
    *, actor: User | None, scope: Scope | None = None, run: PatrolRun, reason: str
) -> PatrolRun:
    """Close a run that will not be finished (the guard fell ill, the phone broke), with the
    reason; for those who manage patrols. A completed run may be abandoned too, as a
    correction, e.g. when it turns out it was not really walked."""
    _require_manage(actor, scope, run.community_id)
    clean_reason = clean_text("reason", reason, limit=2000)
    with transaction.atomic():
        locked = _lock(run)
        if locked.status == RunStatus.ABANDONED:
            raise ConflictError(_("This run was already abandoned."), code="run_closed")
        before = snapshot(locked, RUN_FIELDS)
        locked.status = RunStatus.ABANDONED
        locked.finished_at = locked.finished_at or timezone.now()
        locked.abandon_reason = clean_reason
        locked.abandoned_by = actor
        locked.save(
            update_fields=[
                "status",
                "finished_at",
                "abandon_reason",
                "abandoned_by",
                "updated_at",
            ]
        )
        _run_audit(actor, "patrol_run.abandon", locked, before)
    return locked


def patrol_run_viewed(*, actor: User | None, run: PatrolRun, via: str) -> None:
    """Record that someone other than the guard looked at a run: its check-ins with times and
    GPS positions are the guard's movements, and every view of a person's movements is in the
    audit log."""
    if actor is None or actor.pk == run.guard_id:
        return
    audit_record(
        actor=actor,
        action="patrol_run.view",
        obj=run,
        community_id=run.community_id,
        changes={"guard": run.guard_id, "via": via},
    )


def _sos_text(guard: User, run: PatrolRun | None, position: Position | None) -> str:
    lines = [
        str(_("SOS from %(guard)s.") % {"guard": guard.get_full_name() or str(guard)}),
    ]
    if run is not None:
        lines.append(str(_("Patrol run: %(route)s.") % {"route": run.route_name}))
    if position is None:
        lines.append(str(_("Position unknown.")))
    else:
        accuracy = (
            ""
            if position.accuracy is None
            else str(_(" (±%(metres)d m)") % {"metres": round(position.accuracy)})
        )
        lines.append(
            str(
                _("Last position: %(lat).6f, %(lon).6f%(accuracy)s at %(time)s (WGS84).")
                % {
                    "lat": position.latitude,
                    "lon": position.longitude,
                    "accuracy": accuracy,
                    "time": timezone.localtime(position.at or timezone.now()).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                }
            )
        )
    return "\n".join(lines)


def patrol_sos(
    *,
    actor: User,
    scope: Scope | None = None,
    community: Community | None = None,
    run: PatrolRun | None = None,
    position: Position | None = None,
) -> Any:
    """Raise a P1 alarm for a guard in danger, with their last known position: the one given,
    else the last one their run knows. From a run, or without one in ``community``."""
    if run is not None:
        _require_guard_of(actor, scope, run)
        community = run.community
    if community is None:
        raise ServiceError(_("Choose the community."), field="community")
    _require_run(actor, scope, community.pk)
    clean = _clean_position(position)
    from anwang.alarms.services import alarm_raise_manual

    with transaction.atomic():
        if run is not None:
            locked = _lock(run)
            if clean is not None:
                _record_position(locked, clean, clean.at or timezone.now())
            elif locked.last_position() is not None:
                assert locked.last_latitude is not None
                assert locked.last_longitude is not None
                clean = Position(
                    locked.last_latitude,
                    locked.last_longitude,
                    locked.last_accuracy,
                    locked.last_position_at,
                )
            run = locked
        guard = actor
        # Raised as the system: a volunteer may call for help without being allowed to handle
        # alarms. Who called is in the alarm's note and in the audit entry below.
        alarm = alarm_raise_manual(
            actor=None,
            community=community,
            priority=1,
            title=str(_("SOS: %(guard)s needs help") % {"guard": guard.get_full_name() or guard}),
            note=_sos_text(guard, run, clean),
        )
        audit_record(
            actor=actor,
            action="patrol.sos",
            obj=run if run is not None else alarm,
            community_id=community.pk,
            changes={
                "alarm": alarm.pk,
                "run": None if run is None else run.pk,
                "latitude": None if clean is None else clean.latitude,
                "longitude": None if clean is None else clean.longitude,
                "accuracy": None if clean is None else clean.accuracy,
            },
        )
    return alarm


# --------------------------------------------------------------------------- schedules

SCHEDULE_FIELDS = (
    "community",
    "route",
    "name",
    "first_start",
    "duration",
    "rrule",
    "order_mode",
    "random_start",
    "is_active",
    "note",
)


def _schedule_route(community_id: int, route: PatrolRoute) -> PatrolRoute:
    if route.community_id != community_id:
        raise ServiceError(_("Choose a route of this community."), field="route")
    return route


def _schedule_guards(community_id: int, guards: Iterable[User]) -> list[User]:
    from anwang.accounts.selectors import scope_for

    chosen = list({guard.pk: guard for guard in guards}.values())
    for guard in chosen:
        if not scope_for(guard).has(Permission.RUN_PATROLS, community_id):
            raise ServiceError(
                _("%(name)s may not run patrols in this community.") % {"name": guard},
                field="guards",
            )
    return chosen


def _schedule_teams(community_id: int, teams: Iterable[Team]) -> list[Team]:
    chosen = list({team.pk: team for team in teams}.values())
    if any(team.community_id != community_id for team in chosen):
        raise ServiceError(_("Choose volunteer teams of this community."), field="teams")
    return chosen


def _schedule_order(value: Any) -> str:
    if value not in RunOrder.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in RunOrder.labels)},
            field="order_mode",
        )
    return str(value)


def _schedule_no_overlap(schedule: PatrolSchedule) -> None:
    from anwang.patrols.schedules import first_overlap

    clash = first_overlap(
        rule=schedule.rrule,
        first_start=timezone.localtime(schedule.first_start, timezone.get_default_timezone()),
        duration=schedule.duration,
    )
    if clash is not None:
        raise ServiceError(
            _(
                "The shift starting %(start)s begins before the one before it ends: make the "
                "shifts shorter or repeat them less often."
            )
            % {"start": clash.start.strftime("%Y-%m-%d %H:%M")},
            field="duration",
        )


def _save_schedule(schedule: PatrolSchedule) -> None:
    _schedule_no_overlap(schedule)
    taken = _("Another schedule of this community already has this name.")
    others = PatrolSchedule.objects.filter(community_id=schedule.community_id, name=schedule.name)
    if others.exclude(pk=schedule.pk).exists():
        raise ServiceError(taken, field="name")
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError as error:
        raise ServiceError(taken, field="name") from error


def _schedule_snapshot(schedule: PatrolSchedule) -> dict[str, Any]:
    values = snapshot(schedule, SCHEDULE_FIELDS)
    if schedule.pk is not None:
        values["guards"] = sorted(schedule.guards.values_list("pk", flat=True))
        values["teams"] = sorted(schedule.teams.values_list("pk", flat=True))
    return values


def patrol_schedule_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    route: PatrolRoute,
    name: str,
    first_start: dt.datetime,
    duration: dt.timedelta,
    rrule: str,
    order_mode: str = RunOrder.FIXED,
    random_start: bool = False,
    guards: Iterable[User] = (),
    teams: Iterable[Team] = (),
    is_active: bool = True,
    note: str = "",
) -> PatrolSchedule:
    """Add recurring patrol shifts of a route, assigned to guards of the community."""
    _require_manage(actor, scope, community.pk)
    schedule = PatrolSchedule(
        community=community,
        route=_schedule_route(community.pk, route),
        name=clean_text("name", name, limit=100),
        first_start=clean_aware("first_start", first_start),
        duration=clean_shift_length(duration),
        rrule=clean_rule_field(rrule),
        order_mode=_schedule_order(order_mode),
        random_start=bool(random_start),
        is_active=bool(is_active),
        note=clean_text("note", note, limit=2000, required=False),
    )
    chosen = _schedule_guards(community.pk, guards)
    chosen_teams = _schedule_teams(community.pk, teams)
    with transaction.atomic():
        _save_schedule(schedule)
        schedule.guards.set(chosen)
        schedule.teams.set(chosen_teams)
        audit_record(
            actor=actor,
            action="patrol_schedule.create",
            obj=schedule,
            community_id=schedule.community_id,
            changes=diff({}, _schedule_snapshot(schedule)),
        )
    return schedule


def patrol_schedule_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    schedule: PatrolSchedule,
    route: PatrolRoute | Unset = UNSET,
    name: str | Unset = UNSET,
    first_start: dt.datetime | Unset = UNSET,
    duration: dt.timedelta | Unset = UNSET,
    rrule: str | Unset = UNSET,
    order_mode: str | Unset = UNSET,
    random_start: bool | Unset = UNSET,
    guards: Iterable[User] | Unset = UNSET,
    teams: Iterable[Team] | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    note: str | Unset = UNSET,
) -> PatrolSchedule:
    """Change a schedule; arguments left at :data:`UNSET` keep their value. Runs already made
    keep their shift keys; a changed rule only changes the shifts to come."""
    _require_manage(actor, scope, schedule.community_id)
    before = _schedule_snapshot(schedule)
    if route is not UNSET:
        schedule.route = _schedule_route(schedule.community_id, route)
    if name is not UNSET:
        schedule.name = clean_text("name", name, limit=100)
    if first_start is not UNSET:
        schedule.first_start = clean_aware("first_start", first_start)
    if duration is not UNSET:
        schedule.duration = clean_shift_length(duration)
    if rrule is not UNSET:
        schedule.rrule = clean_rule_field(rrule)
    if order_mode is not UNSET:
        schedule.order_mode = _schedule_order(order_mode)
    if random_start is not UNSET:
        schedule.random_start = bool(random_start)
    if is_active is not UNSET:
        schedule.is_active = bool(is_active)
    if note is not UNSET:
        schedule.note = clean_text("note", note, limit=2000, required=False)
    chosen = None if guards is UNSET else _schedule_guards(schedule.community_id, guards)
    chosen_teams = None if teams is UNSET else _schedule_teams(schedule.community_id, teams)
    with transaction.atomic():
        _save_schedule(schedule)
        if chosen is not None:
            schedule.guards.set(chosen)
        if chosen_teams is not None:
            schedule.teams.set(chosen_teams)
        after = _schedule_snapshot(schedule)
        if after != before:
            audit_record(
                actor=actor,
                action="patrol_schedule.update",
                obj=schedule,
                community_id=schedule.community_id,
                changes=diff(before, after),
            )
    return schedule


def patrol_schedule_delete(
    *, actor: User | None, scope: Scope | None = None, schedule: PatrolSchedule
) -> None:
    """Delete a schedule; the runs made for its shifts stay, without their schedule."""
    _require_manage(actor, scope, schedule.community_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="patrol_schedule.delete",
            obj=schedule,
            community_id=schedule.community_id,
            changes=diff(_schedule_snapshot(schedule), {}),
        )
        schedule.delete()


def patrol_shift_start(
    *, actor: User, scope: Scope | None = None, schedule: PatrolSchedule, shift_key: str
) -> PatrolRun:
    """Start the run of one shift of a schedule: only an assigned guard, from 15 minutes
    before the planned start to the end of the shift, once per shift; the order is the
    schedule's (the secret planned one when random)."""
    from anwang.patrols import selectors

    _require_run(actor, scope, schedule.community_id)
    if actor.pk not in selectors.assigned_user_ids(schedule):
        raise PermissionDenied(_("You are not assigned to this schedule."))
    if not schedule.is_active:
        raise ConflictError(_("This schedule is not in use."), code="schedule_inactive")
    shift = selectors.schedule_shift(schedule, shift_key)
    if shift is None:
        raise ServiceError(_("This schedule has no such shift."), field="shift_key")
    now = timezone.now()
    opens = selectors.shift_opens_at(schedule, shift)
    if not opens <= now < shift.end:
        raise ConflictError(
            _("This shift can be started from %(opens)s until %(ends)s.")
            % {
                "opens": timezone.localtime(opens).strftime("%Y-%m-%d %H:%M"),
                "ends": timezone.localtime(shift.end).strftime("%Y-%m-%d %H:%M"),
            },
            code="shift_not_open",
        )
    done = _("This shift was already run.")
    with transaction.atomic():
        taken = PatrolRun.objects.filter(schedule=schedule, shift_key=shift.key).exclude(
            status=RunStatus.ABANDONED
        )
        if taken.exists():
            raise ConflictError(done, code="shift_taken")
        run = patrol_run_start(
            actor=actor,
            scope=scope,
            route=schedule.route,
            order_mode=schedule.order_mode,
            stop_order=selectors.shift_stop_order(schedule, shift.key),
        )
        try:
            # The constraint settles two starts of the same shift at once.
            with transaction.atomic():
                PatrolRun.objects.filter(pk=run.pk).update(schedule=schedule, shift_key=shift.key)
        except IntegrityError as error:
            raise ConflictError(done, code="shift_taken") from error
        run.schedule = schedule
        run.shift_key = shift.key
        audit_record(
            actor=actor,
            action="patrol_run.start_shift",
            obj=run,
            community_id=run.community_id,
            changes={"schedule": [None, schedule.pk], "shift_key": [None, shift.key]},
        )
    return run


def calendar_feed_create(*, actor: User) -> str:
    """Give ``actor`` a new secret calendar link token (returned once; only its hash is kept),
    replacing the previous one, which stops working."""
    from anwang.patrols.selectors import calendar_token_hash

    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(user=actor).delete()
        feed = CalendarFeed.objects.create(user=actor, token_hash=calendar_token_hash(token))
        audit_record(actor=actor, action="patrol_calendar_feed.create", obj=feed)
    return token


def calendar_feed_revoke(*, actor: User) -> None:
    """Stop ``actor``'s calendar link from working."""
    with transaction.atomic():
        for feed in CalendarFeed.objects.filter(user=actor):
            audit_record(actor=actor, action="patrol_calendar_feed.revoke", obj=feed)
            feed.delete()


# --------------------------------------------------------------------------- monitoring

MISSED_PRIORITY: Final = 3
OVERDUE_PRIORITY: Final = 2


def missed_source_key(run: PatrolRun, index: int) -> str:
    """The alarm source key of a missed stop (one alarm per run and stop)."""
    return f"patrol-missed:{run.pk}:{index}"


def overdue_source_key(run: PatrolRun) -> str:
    """The alarm source key of an overdue run (one alarm per run)."""
    return f"patrol-overdue:{run.pk}"


def missed_shift_source_key(schedule: PatrolSchedule, shift_key: str) -> str:
    """The alarm source key of a scheduled shift whose run was not started (one per shift)."""
    return f"patrol-shift-missed:{schedule.pk}:{shift_key}"


SHIFT_LOOKBACK: Final = dt.timedelta(days=1)
"""How far back a tick looks for shifts not started (a worker down longer does not flood)."""


def patrol_runs_check(*, now: dt.datetime | None = None) -> int:
    """Raise an alarm for every missed checkpoint and every overdue run in progress, and for
    every scheduled shift whose run was not started in time, each once (the worker calls this
    every tick); returns how many alarms were raised."""
    now = now or timezone.now()
    return _check_runs(now) + _check_shifts(now)


def _check_shifts(now: dt.datetime) -> int:
    """Alarm the shifts of active schedules that have no run by the time their first
    checkpoint would have been missed: nobody is walking the route at all."""
    from anwang.alarms.models import Alarm
    from anwang.alarms.services import alarm_raise_system
    from anwang.patrols import selectors
    from anwang.patrols.schedules import ScheduleError

    schedules = list(
        PatrolSchedule.objects.filter(is_active=True, route__is_active=True)
        .select_related("community", "route")
        .prefetch_related("route__stops__checkpoint")
        .order_by("pk")
    )
    late: list[tuple[PatrolSchedule, Shift, dt.datetime]] = []
    for schedule in schedules:
        try:
            found = selectors.schedule_shifts_between(schedule, now - SHIFT_LOOKBACK, now)
        except ScheduleError:
            continue
        for shift in found:
            due = selectors.shift_first_due(schedule, shift)
            # Shifts that were over before the schedule existed are not anyone's miss.
            if due is not None and schedule.created_at < due < now:
                late.append((schedule, shift, due))
    if not late:
        return 0
    started = set(
        PatrolRun.objects.filter(
            schedule_id__in={schedule.pk for schedule, _shift, _due in late},
            shift_key__in={shift.key for _schedule, shift, _due in late},
        )
        .exclude(status=RunStatus.ABANDONED)
        .values_list("schedule_id", "shift_key")
    )
    missing = [item for item in late if (item[0].pk, item[1].key) not in started]
    keys = [missed_shift_source_key(schedule, shift.key) for schedule, shift, _due in missing]
    known = set(Alarm.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    raised = 0
    for schedule, shift, due in missing:
        key = missed_shift_source_key(schedule, shift.key)
        if key in known:
            continue
        start = timezone.localtime(shift.start)
        alarm = alarm_raise_system(
            community=schedule.community,
            source_key=key,
            priority=MISSED_PRIORITY,
            title=_("Patrol shift %(schedule)s on %(route)s at %(start)s was not started")
            % {
                "schedule": schedule.name,
                "route": schedule.route.name,
                "start": start.strftime("%Y-%m-%d %H:%M"),
            },
            data={
                "patrol_schedule": schedule.pk,
                "shift_key": shift.key,
                "shift_start": shift.start.isoformat(),
                "due_at": due.isoformat(),
            },
        )
        raised += alarm is not None
    return raised


def _check_runs(now: dt.datetime) -> int:
    """Alarm the missed checkpoints and overdue runs of the runs in progress."""
    from anwang.alarms.services import alarm_raise_system
    from anwang.patrols.monitoring import run_timing

    runs = list(
        PatrolRun.objects.filter(status=RunStatus.IN_PROGRESS)
        .select_related("community", "guard")
        .order_by("pk")
    )
    if not runs:
        return 0
    check_ins: dict[int, list[tuple[int | None, dt.datetime]]] = {run.pk: [] for run in runs}
    for run_id, checkpoint_id, scanned_at in CheckIn.objects.filter(
        run__in=runs, status=CheckInStatus.ACCEPTED
    ).values_list("run_id", "checkpoint_id", "scanned_at"):
        check_ins[run_id].append((checkpoint_id, scanned_at))
    timings = {
        run.pk: run_timing(
            plan=run.plan, started_at=run.started_at, check_ins=check_ins[run.pk], now=now
        )
        for run in runs
    }
    # What was raised before is looked up in one query, so a run whose missed stops are
    # already alarmed costs nothing more on every tick.
    keys = [missed_source_key(run, s.index) for run in runs for s in timings[run.pk].missed]
    keys += [overdue_source_key(run) for run in runs if timings[run.pk].overdue]
    if not keys:
        return 0
    from anwang.alarms.models import Alarm

    known = set(Alarm.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    # The zones of the checkpoints about to be alarmed, in one query however many there are.
    new_missed = {
        stop.checkpoint_id
        for run in runs
        for stop in timings[run.pk].missed
        if missed_source_key(run, stop.index) not in known
    }
    zones: dict[int, Zone | None] = dict.fromkeys(new_missed)
    for checkpoint in Checkpoint.objects.filter(pk__in=new_missed).select_related("zone"):
        zones[checkpoint.pk] = checkpoint.zone
    raised = 0
    for run in runs:
        timing = timings[run.pk]
        guard = run.guard.get_full_name() or str(run.guard)
        for stop in timing.missed:
            if missed_source_key(run, stop.index) in known:
                continue
            alarm = alarm_raise_system(
                community=run.community,
                source_key=missed_source_key(run, stop.index),
                priority=MISSED_PRIORITY,
                title=_("Missed checkpoint %(checkpoint)s on %(route)s (%(guard)s)")
                % {"checkpoint": stop.name, "route": run.route_name, "guard": guard},
                zone=zones[stop.checkpoint_id],
                data={
                    "patrol_run": run.pk,
                    "stop": stop.index,
                    "checkpoint": stop.checkpoint_id,
                    "due_at": stop.due_at.isoformat(),
                    **_position_data(run),
                },
            )
            raised += alarm is not None
        if timing.overdue and overdue_source_key(run) not in known:
            alarm = alarm_raise_system(
                community=run.community,
                source_key=overdue_source_key(run),
                priority=OVERDUE_PRIORITY,
                title=_("Patrol run %(route)s by %(guard)s is overdue")
                % {"route": run.route_name, "guard": guard},
                data={
                    "patrol_run": run.pk,
                    "due_by": timing.due_by.isoformat(),
                    **_position_data(run),
                },
            )
            raised += alarm is not None
    return raised


def _position_data(run: PatrolRun) -> dict[str, Any]:
    position = run.last_position()
    if position is None:
        return {}
    return {"longitude": position[0], "latitude": position[1]}

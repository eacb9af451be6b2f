"""Writes of the patrols domain: checkpoints and their signed codes, patrol routes and their
ordered stops; and the check of a scanned or typed checkpoint code.

Every function is keyword-only and checks that the caller may act: changes need
:attr:`Permission.MANAGE_PATROLS` in the community (403 for those who may only see patrols, 404
for everyone else), checking a code needs :attr:`Permission.VIEW_PATROLS`. Input is validated
with translated errors on the field they concern, and every change records an audit entry in
the same transaction. Without ``actor`` and ``scope`` the call is the system itself.

A checkpoint's code is signed (see :mod:`anwang.patrols.codes`); re-issuing it raises the
version, so a label that was copied stops working the moment a new one is printed.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core import geo
from anwang.core.errors import ConflictError, ServiceError
from anwang.devices.choices import DeviceKind
from anwang.devices.models import Device
from anwang.patrols import codes
from anwang.patrols.choices import CodeRejection, Placement
from anwang.patrols.models import (
    DEFAULT_DWELL_SECONDS,
    DEFAULT_MAX_GAP_SECONDS,
    Checkpoint,
    PatrolRoute,
    RouteStop,
)
from anwang.places.models import Building, Community, Zone


class Unset(enum.Enum):
    """The type of :data:`UNSET`: an update argument the caller did not pass."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET

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


def _text(name: str, value: Any, *, limit: int, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ServiceError(_("This field is required."), field=name)
    if len(text) > limit:
        raise ServiceError(
            _("Use at most %(limit)d characters (this has %(count)d).")
            % {"limit": limit, "count": len(text)},
            field=name,
        )
    return text


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
        name=_text("name", name, limit=100),
        placement=place.placement,
        zone=place.zone,
        building=place.building,
        device=place.device,
        point=place.point,
        nfc_tag_id=_text("nfc_tag_id", nfc_tag_id, limit=64, required=False),
        note=_text("note", note, limit=2000, required=False),
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
        checkpoint.name = _text("name", name, limit=100)
    if nfc_tag_id is not UNSET:
        checkpoint.nfc_tag_id = _text("nfc_tag_id", nfc_tag_id, limit=64, required=False)
    if note is not UNSET:
        checkpoint.note = _text("note", note, limit=2000, required=False)
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
        name=_text("name", name, limit=100),
        description=_text("description", description, limit=2000, required=False),
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
        route.name = _text("name", name, limit=100)
    if description is not UNSET:
        route.description = _text("description", description, limit=2000, required=False)
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

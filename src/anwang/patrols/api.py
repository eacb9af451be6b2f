"""JSON API of the patrols domain: checkpoints with their signed codes, patrol routes with their
ordered stops, checking a scanned or typed code, the printable sheet of labels; patrol runs with
their check-ins (one at a time or a batch synced late by a phone), finishing, abandoning, SOS.

Reads are scoped: a checkpoint or route of a community the caller cannot see is 404. Writes go
through :mod:`anwang.patrols.services`, which need the manage-patrols permission (403 when the
caller can see patrols but not edit them). A refused code answers 400 with the reason in
``code``: ``malformed``, ``forged``, ``other_community``, ``reissued`` or ``retired``.
"""

from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.core.ical import ics_response
from anwang.devices import selectors as device_selectors
from anwang.devices.models import Device
from anwang.patrols import selectors, services
from anwang.patrols.choices import CheckInRejection, Placement, RunStatus
from anwang.patrols.models import Checkpoint, PatrolRoute, PatrolRun, PatrolSchedule
from anwang.patrols.schemas import (
    CheckpointIn,
    CheckpointOut,
    CheckpointPatch,
    CodeCheckIn,
    CodeCheckOut,
    PatrolCheckInFormIn,
    PatrolCheckInOut,
    PatrolRunAbandonIn,
    PatrolRunFinishIn,
    PatrolRunOut,
    PatrolRunStartIn,
    PatrolRunSummaryOut,
    PatrolScheduleIn,
    PatrolScheduleOut,
    PatrolSchedulePatch,
    PatrolShiftOut,
    PatrolShiftStartIn,
    PatrolSosIn,
    PatrolSosOut,
    PatrolSyncIn,
    PatrolSyncResultOut,
    RouteIn,
    RouteOut,
    RoutePatch,
    StopIn,
)
from anwang.patrols.sheet import checkpoint_sheet_pdf
from anwang.places import selectors as place_selectors
from anwang.places.models import Building, Community, Zone
from anwang.volunteers.models import Team

router = Router(tags=["patrols"])
PAGE_SIZE = 50
CONFLICTS = frozenset({CheckInRejection.DUPLICATE, CheckInRejection.RUN_CLOSED})
"""Refusals that are about the run's state rather than the check-in itself (409)."""


class CheckInRefusedOut(Schema):
    """The API's error body: a message, a stable code, and the fields concerned."""

    detail: str
    code: str
    errors: list[dict[str, Any]]


def community_for(scope: Scope, community_id: int) -> Community:
    """A community whose patrols the caller may see; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not selectors.can_view(scope, community_id):
        raise Http404
    return community


def _zone(scope: Scope, zone_id: int | None) -> Zone | None:
    return None if zone_id is None else place_selectors.zone_get(scope, zone_id)


def _building(scope: Scope, building_id: int | None) -> Building | None:
    return None if building_id is None else place_selectors.building_get(scope, building_id)


def _device(scope: Scope, device_id: int | None) -> Device | None:
    return None if device_id is None else device_selectors.device_get(scope, device_id)


def _stops(scope: Scope, community_id: int, stops: list[StopIn]) -> list[services.StopSpec]:
    found = selectors.checkpoints_for_route(scope, community_id, [s.checkpoint_id for s in stops])
    specs: list[services.StopSpec] = []
    for stop in stops:
        checkpoint = found.get(stop.checkpoint_id)
        if checkpoint is None:
            raise ServiceError(_("Choose checkpoints of this community."), field="stops")
        specs.append(
            services.StopSpec(
                checkpoint=checkpoint,
                dwell_seconds=stop.dwell_seconds,
                max_gap_seconds=stop.max_gap_seconds,
            )
        )
    return specs


def _route_out(scope: Scope, route: PatrolRoute) -> dict[str, Any]:
    return {
        "id": route.pk,
        "community_id": route.community_id,
        "name": route.name,
        "description": route.description,
        "is_active": route.is_active,
        "stops": list(selectors.route_stops(scope, route)),
    }


# --------------------------------------------------------------------------- checkpoints


@router.get("/patrols/checkpoints", response=list[CheckpointOut], summary="List checkpoints")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def checkpoint_list(
    request: HttpRequest,
    community_id: int | None = None,
    q: str | None = None,
    placement: Placement | None = None,
    include_retired: bool = False,
) -> QuerySet[Checkpoint]:
    """Checkpoints the caller may see; retired ones only with ``include_retired``."""
    return selectors.checkpoint_list(
        request_scope(request),
        community_id=community_id,
        q=q,
        placement=placement,
        include_retired=include_retired,
    )


@router.post("/patrols/checkpoints", response={201: CheckpointOut}, summary="Add a checkpoint")
def checkpoint_create(request: HttpRequest, payload: CheckpointIn) -> Status[Checkpoint]:
    """Add a checkpoint; it gets its first signed code."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = community_for(scope, values.pop("community_id"))
    checkpoint = services.checkpoint_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        zone=_zone(scope, values.pop("zone_id")),
        building=_building(scope, values.pop("building_id")),
        device=_device(scope, values.pop("device_id")),
        **values,
    )
    return Status(201, checkpoint)


_PDF_RESPONSE = {
    "responses": {
        "200": {
            "description": "The labels as a PDF (attachment), eight to an A4 page.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/patrols/checkpoints/sheet.pdf",
    summary="Print checkpoint labels (PDF)",
    openapi_extra=_PDF_RESPONSE,
)
def checkpoint_sheet(
    request: HttpRequest,
    community_id: int,
    patrol_route_id: int | None = None,
    checkpoint_ids: Query[list[int] | None] = None,
) -> HttpResponse:
    """Labels with community, checkpoint name, QR code and code to type, for a route's
    checkpoints, the chosen ones, or all of the community's checkpoints in use."""
    scope = request_scope(request)
    community = community_for(scope, community_id)
    route = None
    if patrol_route_id is not None:
        route = selectors.patrol_route_get(scope, patrol_route_id)
        if route.community_id != community.pk:
            raise Http404
    checkpoints = selectors.sheet_checkpoints(
        scope, community.pk, checkpoint_ids=checkpoint_ids, route=route
    )
    content = checkpoint_sheet_pdf(community_name=community.name, checkpoints=checkpoints)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="checkpoints-{community.pk}.pdf"'
    return response


@router.post(
    "/patrols/checkpoints/verify", response=CodeCheckOut, summary="Check a checkpoint code"
)
def checkpoint_verify(request: HttpRequest, payload: CodeCheckIn) -> dict[str, Any]:
    """The checkpoint a scanned or typed code belongs to; 400 with the reason in ``code``
    otherwise."""
    scope = request_scope(request)
    community = community_for(scope, payload.community_id)
    checkpoint = services.checkpoint_code_verify(
        actor=request_actor(request), scope=scope, community=community, code=payload.code
    )
    return {"checkpoint": checkpoint.pk, "name": checkpoint.name, "community": community.pk}


@router.get(
    "/patrols/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="Get a checkpoint"
)
def checkpoint_get(request: HttpRequest, checkpoint_id: int) -> Checkpoint:
    """One checkpoint, retired or not."""
    return selectors.checkpoint_get(request_scope(request), checkpoint_id)


@router.patch(
    "/patrols/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="Change a checkpoint"
)
def checkpoint_update(
    request: HttpRequest, checkpoint_id: int, payload: CheckpointPatch
) -> Checkpoint:
    """Change a checkpoint in use; its code stays the same."""
    scope = request_scope(request)
    checkpoint = selectors.checkpoint_get(scope, checkpoint_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "zone_id" in values:
        values["zone"] = _zone(scope, values.pop("zone_id"))
    if "building_id" in values:
        values["building"] = _building(scope, values.pop("building_id"))
    if "device_id" in values:
        values["device"] = _device(scope, values.pop("device_id"))
    return services.checkpoint_update(
        actor=request_actor(request), scope=scope, checkpoint=checkpoint, **values
    )


@router.post(
    "/patrols/checkpoints/{checkpoint_id}/retire",
    response=CheckpointOut,
    summary="Retire a checkpoint",
)
def checkpoint_retire(request: HttpRequest, checkpoint_id: int) -> Checkpoint:
    """Take a checkpoint out of use; its code stops verifying."""
    scope = request_scope(request)
    checkpoint = selectors.checkpoint_get(scope, checkpoint_id)
    return services.checkpoint_retire(
        actor=request_actor(request), scope=scope, checkpoint=checkpoint
    )


@router.post(
    "/patrols/checkpoints/{checkpoint_id}/reissue-code",
    response=CheckpointOut,
    summary="Re-issue a checkpoint's code",
)
def checkpoint_reissue_code(request: HttpRequest, checkpoint_id: int) -> Checkpoint:
    """Give the checkpoint a new code; labels with the old one are refused from now on."""
    scope = request_scope(request)
    checkpoint = selectors.checkpoint_get(scope, checkpoint_id)
    return services.checkpoint_code_reissue(
        actor=request_actor(request), scope=scope, checkpoint=checkpoint
    )


# --------------------------------------------------------------------------- routes


@router.get("/patrols/routes", response=list[RouteOut], summary="List patrol routes")
def route_list(
    request: HttpRequest, community_id: int | None = None, q: str | None = None
) -> list[dict[str, Any]]:
    """Routes the caller may see, each with its ordered stops."""
    scope = request_scope(request)
    routes = selectors.patrol_route_list(scope, community_id=community_id, q=q)
    stops = selectors.stops_of_routes(scope, routes)
    return [
        {
            "id": route.pk,
            "community_id": route.community_id,
            "name": route.name,
            "description": route.description,
            "is_active": route.is_active,
            "stops": stops.get(route.pk, []),
        }
        for route in routes
    ]


@router.post("/patrols/routes", response={201: RouteOut}, summary="Add a patrol route")
def route_create(request: HttpRequest, payload: RouteIn) -> Status[dict[str, Any]]:
    """Add a route with its stops in order."""
    scope = request_scope(request)
    community = community_for(scope, payload.community_id)
    if not selectors.can_manage(scope, community.pk):
        # Refused before the stops are looked up, so a viewer learns nothing about them.
        raise PermissionDenied
    route = services.patrol_route_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        name=payload.name,
        description=payload.description,
        is_active=payload.is_active,
        stops=_stops(scope, community.pk, payload.stops),
    )
    return Status(201, _route_out(scope, route))


@router.get("/patrols/routes/{patrol_route_id}", response=RouteOut, summary="Get a patrol route")
def route_get(request: HttpRequest, patrol_route_id: int) -> dict[str, Any]:
    """One route with its ordered stops."""
    scope = request_scope(request)
    return _route_out(scope, selectors.patrol_route_get(scope, patrol_route_id))


@router.patch(
    "/patrols/routes/{patrol_route_id}", response=RouteOut, summary="Change a patrol route"
)
def route_update(request: HttpRequest, patrol_route_id: int, payload: RoutePatch) -> dict[str, Any]:
    """Change a route; ``stops``, when given, replaces all of them in that order."""
    scope = request_scope(request)
    actor = request_actor(request)
    route = selectors.patrol_route_get(scope, patrol_route_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    stops = values.pop("stops", None)
    # One change: a refused stop list leaves the name and description as they were.
    with transaction.atomic():
        route = services.patrol_route_update(actor=actor, scope=scope, route=route, **values)
        if stops is not None:
            specs = _stops(scope, route.community_id, payload.stops or [])
            services.patrol_route_set_stops(actor=actor, scope=scope, route=route, stops=specs)
    return _route_out(scope, route)


@router.delete(
    "/patrols/routes/{patrol_route_id}", response={204: None}, summary="Delete a patrol route"
)
def route_delete(request: HttpRequest, patrol_route_id: int) -> Status[None]:
    """Delete a route and its stops; the checkpoints stay."""
    scope = request_scope(request)
    route = selectors.patrol_route_get(scope, patrol_route_id)
    services.patrol_route_delete(actor=request_actor(request), scope=scope, route=route)
    return Status(204, None)


# --------------------------------------------------------------------------- runs


def _run_out(scope: Scope, run: PatrolRun) -> PatrolRun:
    """The run as :class:`PatrolRunOut` shows it: with its counts, plan and check-ins."""
    summary = selectors.patrol_run_list(scope).filter(pk=run.pk).first()
    if summary is None:
        raise Http404
    check_ins = selectors.run_check_ins(scope, summary)
    summary.check_in_list = check_ins  # type: ignore[attr-defined]
    summary.plan_stops = selectors.run_progress(summary, check_ins)  # type: ignore[attr-defined]
    return summary


def _position(
    latitude: float | None,
    longitude: float | None,
    accuracy: float | None,
    at: datetime | None = None,
) -> services.Position | None:
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise ServiceError(_("Give both latitude and longitude, or neither."), field="latitude")
    return services.Position(latitude, longitude, accuracy, at)


def _result_out(result: services.CheckInResult) -> dict[str, Any]:
    if result.error is not None:
        return {
            "client_id": result.client_id,
            "result": "invalid",
            "created": False,
            "code": result.error.code,
            "message": str(result.error.message),
            "check_in": None,
        }
    check_in = result.check_in
    assert check_in is not None
    return {
        "client_id": result.client_id,
        "result": check_in.status,
        "created": result.created,
        "code": check_in.rejection,
        "message": services.check_in_rejection_message(check_in),
        "check_in": check_in,
    }


@router.get("/patrols/runs", response=list[PatrolRunSummaryOut], summary="List patrol runs")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def run_list(
    request: HttpRequest,
    community_id: int | None = None,
    patrol_route_id: int | None = None,
    guard: int | None = None,
    status: RunStatus | None = None,
    day: date | None = None,
    mine: bool = False,
) -> QuerySet[PatrolRun]:
    """Runs the caller may see, newest first: guards and volunteers their own, supervisors,
    admins and operators all of their communities'. ``day`` is the start date (local time)."""
    return selectors.patrol_run_list(
        request_scope(request),
        community_id=community_id,
        route_id=patrol_route_id,
        guard_id=guard,
        status=status,
        day=day,
        mine=mine,
    )


@router.post("/patrols/runs", response={201: PatrolRunOut}, summary="Start a patrol run")
def run_start(request: HttpRequest, payload: PatrolRunStartIn) -> Status[PatrolRun]:
    """Start walking a route now (one run in progress per person); ``random`` order draws the
    order of the stops for this run. 409 ``run_in_progress`` when one is already going."""
    scope = request_scope(request)
    route = selectors.patrol_route_get(scope, payload.patrol_route_id)
    run = services.patrol_run_start(
        actor=request_actor(request), scope=scope, route=route, order_mode=payload.order_mode
    )
    return Status(201, _run_out(scope, run))


@router.get("/patrols/runs/{patrol_run_id}", response=PatrolRunOut, summary="Get a patrol run")
def run_get(request: HttpRequest, patrol_run_id: int) -> PatrolRun:
    """A run with its planned stops in the order to walk (each with its checkpoint's name and
    position, for the phone to keep offline) and every check-in, accepted or refused."""
    scope = request_scope(request)
    run = selectors.patrol_run_get(scope, patrol_run_id)
    services.patrol_run_viewed(actor=request_actor(request), run=run, via="api")
    return _run_out(scope, run)


_CHECK_IN_RESPONSES = {
    200: PatrolCheckInOut,
    201: PatrolCheckInOut,
    400: CheckInRefusedOut,
    409: CheckInRefusedOut,
}


def _check_in_answer(result: services.CheckInResult) -> Status[Any]:
    check_in = result.check_in
    assert check_in is not None
    if not check_in.is_accepted:
        status = 409 if check_in.rejection in CONFLICTS else 400
        return Status(
            status,
            {
                "detail": services.check_in_rejection_message(check_in),
                "code": check_in.rejection,
                "errors": [{"loc": ["code"], "msg": services.check_in_rejection_message(check_in)}],
            },
        )
    return Status(201 if result.created else 200, check_in)


@router.post(
    "/patrols/runs/{patrol_run_id}/check-ins",
    response=_CHECK_IN_RESPONSES,
    summary="Check in at a checkpoint",
)
def run_check_in(
    request: HttpRequest,
    patrol_run_id: int,
    payload: Form[PatrolCheckInFormIn],
    photo: File[UploadedFile | None] = None,
) -> Status[Any]:
    """Check in on one's own run (multipart form, with an optional ``photo``). 201 when
    accepted, 200 when this ``client_id`` was already accepted; a refused check-in is kept for
    the supervisor and answers 400 (409 for ``duplicate`` and ``run_closed``) with the reason in
    ``code``: those of the code check, or ``unknown_tag``, ``not_on_route``, ``duplicate``,
    ``before_start``, ``in_future``, ``run_closed``."""
    scope = request_scope(request)
    run = selectors.patrol_run_get(scope, patrol_run_id)
    result = services.patrol_check_in(
        actor=request_actor(request),
        scope=scope,
        run=run,
        code=payload.code,
        client_id=payload.client_id,
        scanned_at=payload.scanned_at,
        method=payload.method,
        position=_position(payload.latitude, payload.longitude, payload.accuracy),
        note=payload.note,
        photo=photo,
        sent_at=payload.sent_at,
    )
    return _check_in_answer(result)


@router.post(
    "/patrols/runs/{patrol_run_id}/sync",
    response=list[PatrolSyncResultOut],
    summary="Sync check-ins stored offline",
)
def run_sync(
    request: HttpRequest, patrol_run_id: int, payload: PatrolSyncIn
) -> list[dict[str, Any]]:
    """Send the check-ins the phone stored without signal, in any order: they are judged in the
    order they were scanned, each on its own, and keep their original times. One result per
    item, in the order sent: ``accepted``, ``rejected`` (kept, with the reason in ``code``) or
    ``invalid`` (not recorded; fix and send again). Sending an item again is harmless."""
    scope = request_scope(request)
    run = selectors.patrol_run_get(scope, patrol_run_id)
    items: list[services.CheckInItem] = []
    bad: dict[int, ServiceError] = {}
    for index, item in enumerate(payload.items):
        try:
            position = _position(item.latitude, item.longitude, item.accuracy)
        except ServiceError as error:
            bad[index] = error
            position = None
        items.append(
            services.CheckInItem(
                code=item.code,
                client_id=item.client_id,
                scanned_at=item.scanned_at,
                method=item.method,
                position=position,
                note=item.note,
            )
        )
    good = [index for index in range(len(items)) if index not in bad]
    results = services.patrol_check_ins_sync(
        actor=request_actor(request),
        scope=scope,
        run=run,
        items=[items[index] for index in good],
        sent_at=payload.sent_at,
    )
    by_index = dict(zip(good, results, strict=True))
    answers: list[dict[str, Any]] = []
    for index, item in enumerate(payload.items):
        if index in bad:
            answers.append(
                _result_out(services.CheckInResult(str(item.client_id), error=bad[index]))
            )
        else:
            answers.append(_result_out(by_index[index]))
    return answers


@router.post(
    "/patrols/runs/{patrol_run_id}/finish", response=PatrolRunOut, summary="Finish a patrol run"
)
def run_finish(request: HttpRequest, patrol_run_id: int, payload: PatrolRunFinishIn) -> PatrolRun:
    """Finish one's own run in progress (sync what is stored first: check-ins scanned before
    the finish are still taken afterwards)."""
    scope = request_scope(request)
    run = selectors.patrol_run_get(scope, patrol_run_id)
    run = services.patrol_run_finish(
        actor=request_actor(request), scope=scope, run=run, note=payload.note
    )
    return _run_out(scope, run)


@router.post(
    "/patrols/runs/{patrol_run_id}/abandon", response=PatrolRunOut, summary="Abandon a patrol run"
)
def run_abandon(request: HttpRequest, patrol_run_id: int, payload: PatrolRunAbandonIn) -> PatrolRun:
    """Close a run that will not be finished, or mark a finished one as not valid, with the
    reason (those who manage patrols)."""
    scope = request_scope(request)
    run = selectors.patrol_run_get(scope, patrol_run_id)
    run = services.patrol_run_abandon(
        actor=request_actor(request), scope=scope, run=run, reason=payload.reason
    )
    return _run_out(scope, run)


@router.post("/patrols/sos", response={201: PatrolSosOut}, summary="Call for help (SOS)")
def sos(request: HttpRequest, payload: PatrolSosIn) -> Status[dict[str, Any]]:
    """Raise a P1 alarm for the caller with their position (or their run's last known one):
    from ``patrol_run``, or else in ``community``."""
    scope = request_scope(request)
    run = None
    community = None
    if payload.patrol_run_id is not None:
        run = selectors.patrol_run_get(scope, payload.patrol_run_id)
    elif payload.community_id is not None:
        community = community_for(scope, payload.community_id)
    alarm = services.patrol_sos(
        actor=request_actor(request),
        scope=scope,
        community=community,
        run=run,
        position=_position(payload.latitude, payload.longitude, payload.accuracy, payload.at),
    )
    return Status(
        201,
        {
            "alarm": alarm.pk,
            "priority": alarm.priority,
            "title": alarm.title,
            "raised_at": alarm.raised_at,
        },
    )


# --------------------------------------------------------------------------- schedules

SHIFT_RANGE_DAYS = 62
"""Longest range of shifts one request may ask for."""
_ICS = {
    200: {
        "description": "An iCalendar file (RFC 5545): one repeating event per schedule.",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}


def _guards(scope: Scope, community_id: int, ids: list[int]) -> list[User]:
    # Looked up among the community's people only: an id from elsewhere gets the same answer
    # as one that does not exist, so the error names nobody outside the community.
    found = list(selectors.patrol_guard_choices(scope, community_id).filter(pk__in=set(ids)))
    if len(found) != len(set(ids)):
        raise ServiceError(_("Choose guards of this community."), field="guards")
    return found


class ShiftRangeIn(Schema):
    """A range of shifts: those overlapping ``[from, to)``, aware times."""

    since: datetime | None = Field(None, alias="from")
    until: datetime | None = Field(None, alias="to")


def _teams(community_id: int, ids: list[int]) -> list[Team]:
    found = list(Team.objects.filter(community_id=community_id, pk__in=set(ids)))
    if len(found) != len(set(ids)):
        raise ServiceError(_("Choose volunteer teams of this community."), field="teams")
    return found


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The asked range of shifts, by default the next 7 days; at most 62 days."""
    start = since or timezone.now()
    end = until or start + timedelta(days=7)
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ServiceError(_("Give the time with its time zone offset."), field="from")
    if not start < end <= start + timedelta(days=SHIFT_RANGE_DAYS):
        raise ServiceError(
            _("Ask for at most %(days)d days, with from before to.") % {"days": SHIFT_RANGE_DAYS},
            field="to",
        )
    return start, end


def _schedule_out(scope: Scope, schedule_id: int) -> PatrolSchedule:
    return selectors.patrol_schedule_get(scope, schedule_id)


@router.get("/patrols/schedules", response=list[PatrolScheduleOut], summary="List patrol schedules")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def schedule_list(
    request: HttpRequest, community_id: int | None = None, active: bool | None = None
) -> QuerySet[PatrolSchedule]:
    """Schedules of the communities whose patrols the caller sees."""
    return selectors.patrol_schedule_list(
        request_scope(request), community_id=community_id, active=active
    )


@router.post(
    "/patrols/schedules", response={201: PatrolScheduleOut}, summary="Add a patrol schedule"
)
def schedule_create(request: HttpRequest, payload: PatrolScheduleIn) -> Status[PatrolSchedule]:
    """Add recurring shifts of a route: the first shift's start and length, repeated by an
    RRULE; guards must be allowed to run patrols in the community."""
    scope = request_scope(request)
    community = community_for(scope, payload.community_id)
    if not selectors.can_manage(scope, community.pk):
        raise PermissionDenied
    route = selectors.patrol_route_get(scope, payload.patrol_route_id)
    schedule = services.patrol_schedule_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        route=route,
        name=payload.name,
        first_start=payload.first_start,
        duration=timedelta(minutes=payload.duration_minutes),
        rrule=payload.rrule,
        order_mode=payload.order_mode,
        random_start=payload.random_start,
        guards=_guards(scope, community.pk, payload.guards),
        teams=_teams(community.pk, payload.teams),
        is_active=payload.is_active,
        note=payload.note,
    )
    return Status(201, _schedule_out(scope, schedule.pk))


@router.get(
    "/patrols/schedules.ics",
    openapi_extra={"responses": _ICS},
    summary="Calendar of a community's patrol schedules",
)
def schedule_calendar(request: HttpRequest, community_id: int | None = None) -> HttpResponse:
    """The active schedules the caller manages, as an iCalendar file (shift windows only,
    never the secret planned start or order)."""
    scope = request_scope(request)
    schedules = [
        schedule
        for schedule in selectors.patrol_schedule_list(
            scope, community_id=community_id, active=True
        )
        if selectors.can_manage(scope, schedule.community_id)
    ]
    content = selectors.schedules_calendar(schedules, name=_("Patrol schedules"))
    return ics_response(content, filename="patrol-schedules.ics")


@router.get(
    "/patrols/my-shifts.ics",
    openapi_extra={"responses": _ICS},
    summary="Calendar of my patrol shifts",
)
def my_calendar(request: HttpRequest) -> HttpResponse:
    """The caller's own schedules as an iCalendar file (shift windows only)."""
    schedules = selectors.my_schedules(request_scope(request))
    content = selectors.schedules_calendar(schedules, name=_("My patrol shifts"))
    return ics_response(content, filename="my-shifts.ics")


@router.get("/patrols/my-shifts", response=list[PatrolShiftOut], summary="List my patrol shifts")
def my_shifts(
    request: HttpRequest,
    window: Query[ShiftRangeIn],
) -> list[PatrolShiftOut]:
    """The caller's shifts in a range (default: the next 7 days), with their run status and,
    from 15 minutes before the planned start, the plan."""
    start, end = _range(window.since, window.until)
    views = selectors.my_shift_list(request_scope(request), since=start, until=end)
    return [PatrolShiftOut.from_view(view) for view in views]


@router.get(
    "/patrols/schedules/{patrol_schedule_id}",
    response=PatrolScheduleOut,
    summary="Get a patrol schedule",
)
def schedule_get(request: HttpRequest, patrol_schedule_id: int) -> PatrolSchedule:
    """One schedule."""
    return _schedule_out(request_scope(request), patrol_schedule_id)


@router.patch(
    "/patrols/schedules/{patrol_schedule_id}",
    response=PatrolScheduleOut,
    summary="Change a patrol schedule",
)
def schedule_update(
    request: HttpRequest, patrol_schedule_id: int, payload: PatrolSchedulePatch
) -> PatrolSchedule:
    """Change a schedule; ``guards``, when given, replaces the assigned guards."""
    scope = request_scope(request)
    schedule = selectors.patrol_schedule_get(scope, patrol_schedule_id)
    if not selectors.can_manage(scope, schedule.community_id):
        raise PermissionDenied
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "patrol_route_id" in values:
        values["route"] = selectors.patrol_route_get(scope, values.pop("patrol_route_id"))
    if "duration_minutes" in values:
        values["duration"] = timedelta(minutes=values.pop("duration_minutes"))
    if "guards" in values:
        values["guards"] = _guards(scope, schedule.community_id, values["guards"] or [])
    if "teams" in values:
        values["teams"] = _teams(schedule.community_id, values["teams"] or [])
    values = {name: value for name, value in values.items() if value is not None}
    services.patrol_schedule_update(
        actor=request_actor(request), scope=scope, schedule=schedule, **values
    )
    return _schedule_out(scope, schedule.pk)


@router.delete(
    "/patrols/schedules/{patrol_schedule_id}",
    response={204: None},
    summary="Delete a patrol schedule",
)
def schedule_delete(request: HttpRequest, patrol_schedule_id: int) -> Status[None]:
    """Delete a schedule; the runs of its shifts stay."""
    scope = request_scope(request)
    schedule = selectors.patrol_schedule_get(scope, patrol_schedule_id)
    services.patrol_schedule_delete(actor=request_actor(request), scope=scope, schedule=schedule)
    return Status(204, None)


@router.get(
    "/patrols/schedules/{patrol_schedule_id}/shifts",
    response=list[PatrolShiftOut],
    summary="List the shifts of a patrol schedule",
)
def schedule_shifts(
    request: HttpRequest,
    patrol_schedule_id: int,
    window: Query[ShiftRangeIn],
) -> list[PatrolShiftOut]:
    """The schedule's shifts in a range (default: the next 7 days; at most 62 days) with
    their run status: not started, in progress, done or missed."""
    scope = request_scope(request)
    schedule = selectors.patrol_schedule_get(scope, patrol_schedule_id)
    start, end = _range(window.since, window.until)
    views = selectors.schedule_shift_list(scope, schedule, since=start, until=end)
    return [PatrolShiftOut.from_view(view) for view in views]


@router.post(
    "/patrols/schedules/{patrol_schedule_id}/start",
    response={201: PatrolRunOut},
    summary="Start the run of a shift",
)
def schedule_shift_start(
    request: HttpRequest, patrol_schedule_id: int, payload: PatrolShiftStartIn
) -> Status[PatrolRun]:
    """Start the run of one of the caller's shifts, from 15 minutes before its planned start
    until it ends, once per shift (409 ``shift_not_open`` or ``shift_taken`` otherwise)."""
    scope = request_scope(request)
    schedule = selectors.patrol_schedule_get(scope, patrol_schedule_id)
    run = services.patrol_shift_start(
        actor=request_actor(request), scope=scope, schedule=schedule, shift_key=payload.shift_key
    )
    return Status(201, _run_out(scope, run))


class CalendarLinkOut(Schema):
    """A new secret calendar link, shown once."""

    url: str = Field(description="iCalendar subscription address; works without signing in.")


@router.post(
    "/patrols/my-shifts/calendar-link",
    response={201: CalendarLinkOut},
    summary="Make a calendar link for my shifts",
)
def calendar_link_create(request: HttpRequest) -> Status[CalendarLinkOut]:
    """A new secret address for a calendar app to subscribe to the caller's shifts (windows
    only); the previous one stops working. The token is returned once and stored hashed."""
    actor = request_actor(request)
    token = services.calendar_feed_create(actor=actor)
    url = request.build_absolute_uri(reverse("patrols:calendar_feed", args=[token]))
    return Status(201, CalendarLinkOut(url=url))


@router.delete(
    "/patrols/my-shifts/calendar-link",
    response={204: None},
    summary="Revoke my calendar link",
)
def calendar_link_revoke(request: HttpRequest) -> Status[None]:
    """Stop the caller's calendar link from working."""
    actor = request_actor(request)
    services.calendar_feed_revoke(actor=actor)
    return Status(204, None)


# --------------------------------------------------------------------------- monitoring


class BoardRunOut(Schema):
    """One run in progress on the live board."""

    id: int
    community_id: int
    route_name: str
    guard_id: int
    guard_name: str
    started_at: datetime
    done: int = Field(description="Planned checkpoints checked in.")
    planned: int
    next_checkpoint: str | None
    next_due_at: datetime | None
    next_late: bool = Field(description="The next checkpoint is past its due time.")
    late: list[str] = Field(description="Checkpoints checked in late, or late and not yet missed.")
    missed: list[str] = Field(description="Checkpoints missed (due time plus grace passed).")
    due_by: datetime = Field(description="When the run becomes overdue.")
    overdue: bool


class BoardOut(Schema):
    """The live patrol board."""

    now: datetime
    runs: list[BoardRunOut]


class TallyOut(Schema):
    """Completion of one route, guard or week (or all runs)."""

    key: str
    label: str
    runs: int
    planned: int
    done: int
    rate: float | None = Field(description="Checked in / planned; null when nothing planned.")
    far: int
    missed: int


class MissedOut(Schema):
    """A planned checkpoint that was not checked in."""

    run_id: int
    route_name: str
    guard_name: str
    stop: int = Field(description="1-based position in the run's plan.")
    checkpoint: str
    due_at: datetime


class ReportOut(Schema):
    """Patrol completion over a period."""

    start: date
    end: date
    total: TallyOut
    routes: list[TallyOut]
    guards: list[TallyOut]
    weeks: list[TallyOut]
    missed: list[MissedOut]


def _tally(tally: selectors.Tally) -> TallyOut:
    return TallyOut(
        key=tally.key,
        label=tally.label,
        runs=tally.runs,
        planned=tally.planned,
        done=tally.done,
        rate=tally.rate,
        far=tally.far,
        missed=tally.missed,
    )


def _report(
    request: HttpRequest, start: date | None, end: date | None, community_id: int | None
) -> selectors.PatrolReport:
    from anwang.patrols.monitor_views import MAX_REPORT_DAYS, REPORT_WEEKS, require_oversight

    scope = request_scope(request)
    require_oversight(scope)
    end = end or timezone.localdate()
    start = start or end - timedelta(weeks=REPORT_WEEKS) + timedelta(days=1)
    if start > end:
        raise ServiceError(_("The start must not be after the end."), field="start")
    if (end - start).days > MAX_REPORT_DAYS:
        raise ServiceError(_("Choose at most a year."), field="start")
    return selectors.patrol_report(
        scope, start=start, end=end, now=timezone.now(), community_id=community_id
    )


@router.get("/patrols/board", response=BoardOut, summary="Live patrol board")
def patrol_board(request: HttpRequest, community_id: int | None = None) -> BoardOut:
    """Runs in progress the caller oversees: progress, next checkpoint and when it is due,
    late and missed checkpoints, overdue runs (most urgent first)."""
    from anwang.patrols.monitor_views import board_data, require_oversight

    scope = request_scope(request)
    require_oversight(scope)
    now = timezone.now()
    rows = selectors.patrol_board(scope, now=now, community_id=community_id)
    return BoardOut(**board_data(rows, now))


@router.get("/patrols/reports", response=ReportOut, summary="Patrol completion report")
def patrol_report(
    request: HttpRequest,
    start: date | None = None,
    end: date | None = None,
    community_id: int | None = None,
) -> ReportOut:
    """Completion (checkpoints checked in / planned) per route, guard and ISO week of runs
    started from ``start`` to ``end`` (default: the last four weeks), with missed checkpoints."""
    report = _report(request, start, end, community_id)
    return ReportOut(
        start=report.start,
        end=report.end,
        total=_tally(report.total),
        routes=[_tally(t) for t in report.routes],
        guards=[_tally(t) for t in report.guards],
        weeks=[_tally(t) for t in report.weeks],
        missed=[
            MissedOut(
                run_id=item.run.pk,
                route_name=item.run.route_name,
                guard_name=str(item.run.guard),
                stop=item.index + 1,
                checkpoint=item.name,
                due_at=item.due_at,
            )
            for item in report.missed
        ],
    )


_EXPORT_RESPONSE = {
    "responses": {
        "200": {
            "description": "The table as .xlsx or as UTF-8 CSV with a byte-order mark.",
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }
}


@router.get(
    "/patrols/reports/export",
    summary="Export the patrol completion report",
    openapi_extra=_EXPORT_RESPONSE,
)
def patrol_report_export(
    request: HttpRequest,
    format: Literal["xlsx", "csv"] = "xlsx",
    table: Literal["summary", "missed"] = "summary",
    start: date | None = None,
    end: date | None = None,
    community_id: int | None = None,
) -> HttpResponse:
    """The completion summary or the missed checkpoints as a spreadsheet download."""
    from anwang.patrols.monitor_views import report_export

    return report_export(_report(request, start, end, community_id), table, format)

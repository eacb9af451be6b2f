"""JSON API of the alarms domain: the alarm history, the lifecycle, statistics, export and
response times.

Reads are scoped: an alarm of a community the caller cannot see is 404. Writes go through
:mod:`anwang.alarms.services`, which need the handle-alarms permission in the alarm's community
(403 when the caller can see it but not handle it) and answer 409 when the alarm's state
forbids the step.
"""

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.alarms import selectors, services
from anwang.alarms.choices import AlarmState
from anwang.alarms.exporting import export_file
from anwang.alarms.models import Alarm, ShiftHandover
from anwang.alarms.schemas import (
    AlarmDetailOut,
    AlarmIn,
    AlarmNoteIn,
    AlarmOut,
    AlarmStepOut,
    DispatchIn,
    FalseAlarmIn,
    HandoverIn,
    HandoverOut,
    PhotoOut,
    RequiredNoteIn,
    ResponseTimeIn,
    ResponseTimeOut,
    StatsOut,
)
from anwang.alarms.views import snapshot_response
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.core.tables import CONTENT_TYPES
from anwang.devices import selectors as device_selectors
from anwang.events import selectors as event_selectors
from anwang.places import selectors as place_selectors
from anwang.places.models import Community

router = Router(tags=["alarms"])
PAGE_SIZE = 50


def _community(scope: Scope, community_id: int | None) -> Community:
    """The community given (404 unless its alarms are visible), or the only one whose alarms
    the caller may see; 403 for a caller who may see alarms nowhere."""
    if not (acts_platform_wide(scope) or scope.has_anywhere(selectors.VIEW)):
        raise PermissionDenied
    if community_id is None:
        ids = scope.community_ids(selectors.VIEW)
        if len(ids) != 1:
            raise ServiceError(_("Choose a community."), field="community_id")
        community_id = next(iter(ids))
    if not selectors.can_view(scope, community_id):
        raise Http404
    return Community.objects.get(pk=community_id)


@router.get("/alarms", response=list[AlarmOut], summary="List alarms")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def alarm_list(
    request: HttpRequest,
    community_id: int | None = None,
    state: AlarmState | None = None,
    priority: int | None = None,
    device_id: int | None = None,
    zone_id: int | None = None,
    rule_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    open_only: bool = False,
) -> QuerySet[Alarm]:
    """Alarms the caller may see, newest first; ``since``/``until`` bound the raise time."""
    return selectors.alarm_list(
        request_scope(request),
        community_id=community_id,
        state=state,
        priority=priority,
        device_id=device_id,
        zone_id=zone_id,
        rule_id=rule_id,
        since=since,
        until=until,
        open_only=open_only,
    )


@router.post("/alarms", response={201: AlarmOut}, summary="Raise an alarm by hand")
def alarm_raise(request: HttpRequest, payload: AlarmIn) -> Status[Alarm]:
    """Raise an alarm without a rule (an operator who saw something, an SOS)."""
    scope = request_scope(request)
    community = place_selectors.community_get(scope, payload.community_id)
    device = (
        None if payload.device_id is None else device_selectors.device_get(scope, payload.device_id)
    )
    zone = None if payload.zone_id is None else place_selectors.zone_get(scope, payload.zone_id)
    alarm = services.alarm_raise_manual(
        actor=request_actor(request),
        scope=scope,
        community=community,
        priority=payload.priority,
        title=payload.title,
        device=device,
        zone=zone,
        note=payload.note,
    )
    return Status(201, alarm)


@router.get("/alarms/stats", response=StatsOut, summary="Alarm statistics")
def alarm_stats(
    request: HttpRequest,
    community_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Counts by priority and rule, time to acknowledge and to resolve, and false-alarm rates
    by device and rule, of the alarms raised in ``[since, until)`` in one community."""
    scope = request_scope(request)
    community = _community(scope, community_id)
    stats = selectors.alarm_stats(scope, community.pk, since, until)
    return {
        "community_id": community.pk,
        "since": since,
        "until": until,
        "total": stats.total,
        "open": stats.open,
        "false": stats.false,
        "by_priority": {f"P{p}": n for p, n in stats.by_priority.items()},
        "by_rule": [{"key": k, "name": name, "count": n} for k, name, n in stats.by_rule],
        "to_acknowledge": _durations(stats.to_acknowledge),
        "to_resolve": _durations(stats.to_resolve),
        "false_by_device": [_rate(rate) for rate in stats.false_by_device],
        "false_by_rule": [_rate(rate) for rate in stats.false_by_rule],
    }


def _durations(durations: selectors.Durations) -> dict[str, Any]:
    return {
        "count": durations.count,
        "median_seconds": durations.median,
        "mean_seconds": durations.mean,
    }


def _rate(rate: selectors.FalseRate) -> dict[str, Any]:
    return {
        "id": rate.id,
        "name": rate.name,
        "total": rate.total,
        "false": rate.false,
        "rate": round(rate.rate, 4),
    }


_FILE_RESPONSE = {
    "responses": {
        "200": {
            "description": "The alarms as a spreadsheet (attachment).",
            "content": {
                content_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for content_type in CONTENT_TYPES.values()
            },
        }
    }
}


@router.get(
    "/alarms/export", summary="Export alarms as .xlsx or .csv", openapi_extra=_FILE_RESPONSE
)
def alarm_export(
    request: HttpRequest,
    community_id: int | None = None,
    format: Literal["xlsx", "csv"] = "xlsx",
    state: AlarmState | None = None,
    priority: int | None = None,
    device_id: int | None = None,
    zone_id: int | None = None,
    rule_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> HttpResponse:
    """The alarms of one community that the list's filters select, one row per alarm."""
    scope = request_scope(request)
    community = _community(scope, community_id)
    alarms = selectors.alarm_list(
        scope,
        community_id=community.pk,
        state=state,
        priority=priority,
        device_id=device_id,
        zone_id=zone_id,
        rule_id=rule_id,
        since=since,
        until=until,
    )
    content, file_name, content_type = export_file(alarms, community=community, file_format=format)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@router.get("/alarms/{int:alarm_id}", response=AlarmDetailOut, summary="Get an alarm")
def alarm_get(request: HttpRequest, alarm_id: int) -> Alarm:
    """One alarm with its history, the events that fired it, photos and escalations."""
    return selectors.alarm_get(request_scope(request), alarm_id)


_SNAPSHOT_RESPONSE = {
    "responses": {
        "200": {
            "description": "The camera picture (JPEG, or PNG if the camera sent one).",
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        "404": {"description": "No visible alarm, or no snapshot of it."},
    }
}


@router.get(
    "/alarms/{int:alarm_id}/snapshot",
    summary="Get the camera snapshot of an alarm",
    url_name="alarm_snapshot",
    openapi_extra=_SNAPSHOT_RESPONSE,
)
def alarm_snapshot(request: HttpRequest, alarm_id: int) -> FileResponse:
    """The newest camera picture taken from a minute before the alarm was raised to five
    minutes after, from its camera or the cameras of its events; 404 when there is none."""
    scope = request_scope(request)
    snapshot = event_selectors.alarm_snapshot(scope, selectors.alarm_get(scope, alarm_id))
    if snapshot is None:
        raise Http404
    return snapshot_response(snapshot)


@router.post("/alarms/{alarm_id}/acknowledge", response=AlarmOut, summary="Acknowledge an alarm")
def alarm_acknowledge(request: HttpRequest, alarm_id: int, payload: AlarmNoteIn) -> Alarm:
    """Say the alarm has been seen (only a raised one; 409 otherwise)."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    return services.alarm_acknowledge(
        actor=request_actor(request), scope=scope, alarm=alarm, note=payload.note
    )


@router.post("/alarms/{alarm_id}/dispatch", response=AlarmOut, summary="Dispatch an alarm")
def alarm_dispatch(request: HttpRequest, alarm_id: int, payload: DispatchIn) -> Alarm:
    """Send someone who handles alarms in the community (again while nobody is on scene)."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    assignee = (
        selectors.dispatchable_people(scope, alarm.community_id).filter(pk=payload.user_id).first()
    )
    if assignee is None:
        raise ServiceError(
            _("Choose someone who handles alarms in this community."), field="user_id"
        )
    return services.alarm_dispatch(
        actor=request_actor(request), scope=scope, alarm=alarm, assignee=assignee, note=payload.note
    )


@router.post("/alarms/{alarm_id}/accept", response=AlarmOut, summary="Accept a dispatch")
def alarm_accept(request: HttpRequest, alarm_id: int, payload: AlarmNoteIn) -> Alarm:
    """The person dispatched says they are on their way (403 for anyone else)."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    return services.alarm_accept(
        actor=request_actor(request), scope=scope, alarm=alarm, note=payload.note
    )


@router.post("/alarms/{alarm_id}/arrive", response=AlarmOut, summary="Report being on scene")
def alarm_arrive(request: HttpRequest, alarm_id: int, payload: AlarmNoteIn) -> Alarm:
    """Someone is on scene (only for a dispatched alarm)."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    return services.alarm_arrive(
        actor=request_actor(request), scope=scope, alarm=alarm, note=payload.note
    )


@router.post("/alarms/{alarm_id}/resolve", response=AlarmOut, summary="Resolve an alarm")
def alarm_resolve(request: HttpRequest, alarm_id: int, payload: AlarmNoteIn) -> Alarm:
    """Close an open alarm as dealt with."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    return services.alarm_resolve(
        actor=request_actor(request), scope=scope, alarm=alarm, note=payload.note
    )


@router.post("/alarms/{alarm_id}/false-alarm", response=AlarmOut, summary="Close as a false alarm")
def alarm_false(request: HttpRequest, alarm_id: int, payload: FalseAlarmIn) -> Alarm:
    """Close an open alarm as a false alarm, with the reason."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    return services.alarm_false(
        actor=request_actor(request), scope=scope, alarm=alarm, reason=payload.reason
    )


@router.post(
    "/alarms/{alarm_id}/notes", response={201: AlarmStepOut}, summary="Add a note to an alarm"
)
def alarm_note(request: HttpRequest, alarm_id: int, payload: RequiredNoteIn) -> Status[Any]:
    """Add a note to the alarm's history (also after it was closed)."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    step = services.alarm_note(
        actor=request_actor(request), scope=scope, alarm=alarm, note=payload.note
    )
    return Status(201, step)


@router.post(
    "/alarms/{alarm_id}/photos", response={201: PhotoOut}, summary="Add a photo to an alarm"
)
def alarm_photo_add(request: HttpRequest, alarm_id: int, image: File[UploadedFile]) -> Status[Any]:
    """Upload a photo (JPEG, PNG or WebP, at most 10 MB, multipart field ``image``); its
    metadata, such as a GPS position, is removed."""
    scope = request_scope(request)
    alarm = selectors.alarm_get(scope, alarm_id)
    photo = services.alarm_photo_add(
        actor=request_actor(request), scope=scope, alarm=alarm, image=image
    )
    return Status(201, photo)


@router.get(
    "/communities/{community_id}/response-times",
    response=list[ResponseTimeOut],
    summary="Get a community's response times",
)
def response_times_get(request: HttpRequest, community_id: int) -> list[Any]:
    """How soon alarms of each priority must be acknowledged and reached (defaults filled)."""
    scope = request_scope(request)
    if not selectors.can_view(scope, community_id):
        raise Http404
    return selectors.response_times(community_id)


@router.put(
    "/communities/{community_id}/response-times",
    response=list[ResponseTimeOut],
    summary="Set a community's response times",
)
def response_times_put(
    request: HttpRequest, community_id: int, payload: list[ResponseTimeIn]
) -> list[Any]:
    """Set the response times of the priorities given; the others keep theirs."""
    scope = request_scope(request)
    if not selectors.can_view(scope, community_id):
        raise Http404
    community = Community.objects.get(pk=community_id)
    with transaction.atomic():
        for item in payload:
            services.response_time_set(
                actor=request_actor(request), scope=scope, community=community, **item.model_dump()
            )
    return selectors.response_times(community_id)


# --------------------------------------------------------------------------- shift handover


@router.get("/alarms/handovers", response=list[HandoverOut], summary="List shift handovers")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def handover_list(
    request: HttpRequest,
    community_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    pending: bool | None = None,
) -> QuerySet[ShiftHandover]:
    """The handover log the caller may see, newest first; ``since``/``until`` bound the time it
    was written, ``pending`` keeps those not (``true``) or already (``false``) acknowledged."""
    return selectors.handover_list(
        request_scope(request),
        community_id=community_id,
        since=since,
        until=until,
        pending=pending,
    )


@router.post("/alarms/handovers", response={201: HandoverOut}, summary="Hand the shift over")
def handover_create(request: HttpRequest, payload: HandoverIn) -> Status[ShiftHandover]:
    """Write a handover note; the community's open alarms at this moment are kept with it."""
    scope = request_scope(request)
    community = place_selectors.community_get(scope, payload.community_id)
    to_user = None
    if payload.to_user_id is not None:
        to_user = (
            selectors.handover_recipients(scope, community.pk).filter(pk=payload.to_user_id).first()
        )
        if to_user is None:
            raise ServiceError(
                _("Choose someone else who handles alarms in this community."),
                field="to_user_id",
            )
    handover = services.handover_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        note=payload.note,
        to_user=to_user,
    )
    return Status(201, handover)


@router.post(
    "/alarms/handovers/{handover_id}/acknowledge",
    response=HandoverOut,
    summary="Acknowledge a shift handover",
)
def handover_acknowledge(request: HttpRequest, handover_id: int) -> ShiftHandover:
    """Take over from the previous shift (not its writer; once: 409 after that)."""
    scope = request_scope(request)
    handover = selectors.handover_get(scope, handover_id)
    return services.handover_acknowledge(
        actor=request_actor(request), scope=scope, handover=handover
    )

"""JSON API of the events domain: stored device events and dead letters, and HTTP ingestion.

Reads are scoped: an event or dead letter of a community the caller cannot see is 404.
Re-processing a dead letter needs the manage-devices permission in its community (platform
administrators only for one of no known community).

HTTP ingestion (:data:`ingest_router`) takes no user authentication: devices prove who they
are with their own credentials (:func:`anwang.devices.services.device_authenticate_http`), and
a device may only report for itself. Refusals are counted against the device they name.
"""

from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.core.api_helpers import request_scope
from anwang.core.errors import ServiceError
from anwang.devices import http_auth
from anwang.devices import services as device_services
from anwang.events import selectors, services
from anwang.events.adapters.base import InboundMessage
from anwang.events.adapters.registry import adapter_named
from anwang.events.models import DeadLetter, DeviceEvent
from anwang.events.schemas import (
    DeadLetterOut,
    DeviceEventOut,
    IngestErrorOut,
    IngestOut,
    PipelineOut,
    WorkerOut,
)

router = Router(tags=["events"])
ingest_router = Router(tags=["ingest"], auth=None)
PAGE_SIZE = 50


@router.get("/events", response=list[DeviceEventOut], summary="List device events")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def event_list(
    request: HttpRequest,
    community_id: int | None = None,
    device_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
) -> QuerySet[DeviceEvent]:
    """Device events the caller may see, newest received first."""
    return selectors.event_list(
        request_scope(request),
        community_id=community_id,
        device_id=device_id,
        kind=kind,
        since=since,
    )


@router.get("/events/{device_event_id}", response=DeviceEventOut, summary="Get a device event")
def event_get(request: HttpRequest, device_event_id: int) -> DeviceEvent:
    """One device event."""
    return selectors.event_get(request_scope(request), device_event_id)


@router.get("/dead-letters", response=list[DeadLetterOut], summary="List dead letters")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def dead_letter_list(
    request: HttpRequest, community_id: int | None = None, resolved: bool | None = None
) -> QuerySet[DeadLetter]:
    """Messages that could not be used, newest first."""
    return selectors.dead_letter_list(
        request_scope(request), community_id=community_id, resolved=resolved
    )


@router.get("/dead-letters/{dead_letter_id}", response=DeadLetterOut, summary="Get a dead letter")
def dead_letter_get(request: HttpRequest, dead_letter_id: int) -> DeadLetter:
    """One message that could not be used, and why."""
    return selectors.dead_letter_get(request_scope(request), dead_letter_id)


@router.post(
    "/dead-letters/{dead_letter_id}/reprocess",
    response=DeadLetterOut,
    summary="Re-process a dead letter",
)
def dead_letter_reprocess(request: HttpRequest, dead_letter_id: int) -> DeadLetter:
    """Run a dead letter through the pipeline again; it is resolved when it now succeeds."""
    scope = request_scope(request)
    dead_letter = selectors.dead_letter_get(scope, dead_letter_id)
    assert isinstance(request.user, User)
    return services.dead_letter_reprocess(actor=request.user, scope=scope, dead_letter=dead_letter)


@router.get("/pipeline", response=PipelineOut, summary="Event pipeline health")
def pipeline(request: HttpRequest) -> PipelineOut:
    """Whether device messages are being stored now: each event worker's last report, and
    the problems (no worker running, broker disconnected, falling behind)."""
    health = selectors.pipeline_health(request_scope(request))
    workers = [
        WorkerOut.model_validate(
            {
                "state": worker.state,
                "problems": worker.problems,
                **{name: getattr(worker.status, name) for name in _WORKER_FIELDS},
            }
        )
        for worker in health.workers
    ]
    return PipelineOut(
        ok=health.ok, problems=health.problems, checked_at=health.checked_at, workers=workers
    )


_WORKER_FIELDS = [name for name in WorkerOut.model_fields if name not in {"state", "problems"}]


# --------------------------------------------------------------------------- HTTP ingestion


_ERRORS = dict.fromkeys((400, 401, 403, 404, 413), IngestErrorOut)
_BODY_TYPES = ("application/json", "application/xml", "multipart/form-data")


def _error(request: HttpRequest, detail: str, code: str, status: int) -> HttpResponse:
    # Imported here: the project API imports this module while it registers the routers.
    from anwang.project.api import api, error_body

    return api.create_response(request, error_body(detail, code), status=status)


def _read_body(request: HttpRequest) -> bytes | None:
    """The raw body, or ``None`` when it is over the ingestion limit. Read from the stream,
    not ``request.body``, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE is not the limit that
    applies (a 400 from Django would hide the 413)."""
    limit = int(settings.ANWANG_INGEST_MAX_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@ingest_router.post(
    "/ingest/{adapter}",
    response={200: IngestOut, **_ERRORS},
    auth=None,
    summary="Send device events over HTTP",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The device's message as it sends it: Anwang JSON (one event or "
            "an array), or a Hikvision EventNotificationAlert (XML, JSON or multipart).",
            "content": {kind: {"schema": {"type": "string"}} for kind in _BODY_TYPES},
        },
    },
)
def ingest(request: HttpRequest, adapter: str) -> HttpResponse | dict[str, int]:
    """Store a device's message. The device authenticates with its own credential: a device
    token (``Authorization: Bearer``), an HMAC signature (``X-Anwang-Signature`` and
    ``X-Anwang-Key``, at most 300 seconds from the server's clock, each used once), or HTTP
    Basic or Digest over HTTPS. A message must be the authenticated device's own; nothing is
    stored from a refused request. See docs/device-events.md."""
    now = timezone.now()
    found = adapter_named(adapter)
    if found is None:
        return _error(
            request,
            _("There is no adapter called “%(name)s”.") % {"name": adapter},
            "unknown_adapter",
            404,
        )
    content_type = request.headers.get("Content-Type", "")
    probe = InboundMessage(
        transport="http", topic=adapter, payload=b"", received_at=now, content_type=content_type
    )
    if not found.accepts(probe):
        return _error(
            request,
            _("The %(name)s adapter reads MQTT only: publish to the broker instead.")
            % {"name": adapter},
            "mqtt_only",
            404,
        )
    attempt = device_services.HttpAttempt(
        method=request.method or "POST",
        path=request.get_full_path(),
        headers=request.headers,
        secure=request.is_secure(),
        body=_read_body(request),
        now=now,
    )
    try:
        device = device_services.device_authenticate_http(attempt=attempt)
    except device_services.DeviceAuthError as error:
        response = _error(request, str(error.message), error.code, error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = http_auth.challenges(
                now.timestamp(), passwords=attempt.secure, stale=error.stale
            )
        return response
    assert attempt.body is not None
    message = InboundMessage(
        transport="http",
        topic=adapter,
        payload=attempt.body,
        received_at=now,
        content_type=content_type,
    )
    try:
        result = services.ingest_messages(messages=[message], device=device, reject_unusable=True)
    except ServiceError as error:
        # After the ingest transaction was rolled back, so the count is kept.
        device_services.device_ingest_rejection_record(device=device, reason=error.code, at=now)
        raise
    return {"events": result.events, "duplicates": result.duplicates}

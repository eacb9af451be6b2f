"""JSON API of the events domain: stored device events and dead letters.

Reads are scoped: an event or dead letter of a community the caller cannot see is 404.
Re-processing a dead letter needs the manage-devices permission in its community (platform
administrators only for one of no known community).
"""

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.core.api_helpers import request_scope
from anwang.events import selectors, services
from anwang.events.models import DeadLetter, DeviceEvent
from anwang.events.schemas import DeadLetterOut, DeviceEventOut

router = Router(tags=["events"])
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

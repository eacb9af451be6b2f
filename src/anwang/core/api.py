"""Cross-cutting API: health, the caller's work inbox, dashboard figures and live updates."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest
from ninja import Router

from anwang import __version__
from anwang.core.api_helpers import request_scope
from anwang.core.dashboard import dashboard_stats
from anwang.core.inbox import my_work
from anwang.core.live import (
    BATCH,
    live_may_see,
    live_messages_after,
    live_settled_id,
    live_start_id,
)
from anwang.core.schemas import HealthOut, LiveMessageOut, LiveOut, StatOut, WorkItemOut
from anwang.places.models import Community

router = Router(tags=["core"])


@router.get("/health", response=HealthOut, auth=None, summary="Liveness and database status")
def health(request: HttpRequest) -> HealthOut:
    """Public by design: load balancers and monitors call it without credentials."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HealthOut(status="ok", database="ok", version=__version__)


@router.get("/my-work", response=list[WorkItemOut], summary="The caller's work inbox")
def my_work_list(request: HttpRequest) -> list[WorkItemOut]:
    """Everything the caller has to do, from every app, most urgent first."""
    return [
        WorkItemOut(
            source=item.source,
            title=str(item.title),
            url=item.url,
            community_id=item.community_id,
            due_at=item.due_at,
            priority=item.priority,
            detail=str(item.detail),
        )
        for item in my_work(request_scope(request))
    ]


@router.get("/dashboard", response=list[StatOut], summary="Dashboard figures")
def dashboard(request: HttpRequest, community_id: int | None = None) -> list[StatOut]:
    """The caller's dashboard figures, for one community or all the caller's communities."""
    scope = request_scope(request)
    community = None
    if community_id is not None:
        scope_ids = scope.community_ids()
        community = Community.objects.filter(pk=community_id, pk__in=scope_ids).first()
        if community is None:
            from django.http import Http404

            raise Http404
    return [
        StatOut(key=s.key, label=str(s.label), value=s.value, url=s.url)
        for s in dashboard_stats(scope, community)
    ]


@router.get("/live", response=LiveOut, summary="Live updates after a number (SSE fallback)")
def live(request: HttpRequest, after: int | None = None) -> LiveOut:
    """The live messages the caller may see after ``after``, for clients that cannot hold
    the Server-Sent Events stream ``/live/stream``; without ``after``, none, and the number
    to start from."""
    scope = request_scope(request)
    if not live_may_see(scope):
        raise PermissionDenied
    if after is None:
        return LiveOut(last_id=live_start_id(), messages=[])
    after = max(0, after)
    up_to, _gap = live_settled_id(after)
    messages = live_messages_after(scope, after, up_to=up_to)
    last_id = messages[-1].pk if len(messages) == BATCH else max(after, up_to)
    return LiveOut(
        last_id=last_id,
        messages=[
            LiveMessageOut(
                id=message.pk,
                kind=message.kind,
                community=message.community_id,
                data=message.data,
                created_at=message.created_at,
            )
            for message in messages
        ],
    )

"""JSON API of the audit domain: read the log (scoped) and verify the chain."""

# No ``from __future__ import annotations`` here: django-ninja reads the handlers' parameter
# annotations at import time to build the query schema.
import datetime as dt

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import PageNumberPagination, paginate

from anwang.audit.models import AuditEvent
from anwang.audit.schemas import AuditEventOut, ChainReportOut
from anwang.audit.selectors import (
    AuditFilters,
    audit_chain_verify,
    audit_event_get,
    audit_event_list,
    audit_require_reader,
)
from anwang.core.api_helpers import request_scope

router = Router(tags=["audit"])


@router.get("/audit/events", response=list[AuditEventOut], summary="List audit entries")
@paginate(PageNumberPagination, page_size=50)
def event_list(
    request: HttpRequest,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    actor: str = "",
    channel: str = "",
    community_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Entries of the caller's communities, newest first. ``action`` matches a prefix
    (``resident.`` finds every resident action); dates are inclusive, in local time."""
    filters = AuditFilters(
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        channel=channel,
        community_id=community_id,
        date_from=date_from,
        date_to=date_to,
    )
    return audit_event_list(request_scope(request), filters)


@router.get("/audit/events/{event_id}", response=AuditEventOut, summary="One audit entry")
def event_detail(request: HttpRequest, event_id: int) -> AuditEvent:
    """One entry; an entry of a community the caller cannot read is not found."""
    return audit_event_get(request_scope(request), event_id)


@router.post("/audit/verify", response=ChainReportOut, summary="Verify the audit chain")
def verify(request: HttpRequest) -> ChainReportOut:
    """Recompute the whole hash chain; ``ok`` is false with the first broken entry if anything
    was altered, inserted or removed."""
    audit_require_reader(request_scope(request))
    report = audit_chain_verify()
    return ChainReportOut(
        ok=report.ok,
        checked=report.checked,
        first_broken_seq=report.first_broken_seq,
        problem=report.problem,
        reason=report.reason,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
    )

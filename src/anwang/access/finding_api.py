"""JSON API of the access anomaly findings: the list (audited: findings say where people
were), one finding with its sentence, its review, and a scan of one community now.

Reads need :attr:`Permission.VIEW_ACCESS` in the finding's community (else 404); the review
and the scan need :attr:`Permission.MANAGE_ACCESS` (viewers get 403). A dismissal without a
note is 400 with the field in ``errors``."""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.pagination import PageNumberPagination, paginate

from anwang.access import anomalies, selectors
from anwang.access.choices import AnomalyDetector, FindingStatus
from anwang.access.finding_schemas import (
    AccessFindingOut,
    FindingReviewIn,
    FindingScanIn,
    FindingScanOut,
)
from anwang.access.models import AccessFinding
from anwang.core.api_helpers import request_actor, request_scope
from anwang.places.models import Community

router = Router(tags=["access"])
PAGE_SIZE = 50


@router.get("/access/findings", response=list[AccessFindingOut], summary="Anomaly findings")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def finding_list(
    request: HttpRequest,
    community_id: int | None = None,
    detector: AnomalyDetector | None = None,
    status: FindingStatus | None = None,
    resident_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AccessFinding]:
    """Findings of the caller's communities, newest first, by detector, review status, person
    and period; audited."""
    scope = request_scope(request)
    if community_id is not None and not selectors.may_view(scope, community_id):
        raise Http404
    return selectors.findings(
        scope,
        community_id=community_id,
        detector=detector or "",
        status=status or "",
        resident_id=resident_id,
        since=since,
        until=until,
    )


@router.post(
    "/access/findings/scan",
    response=FindingScanOut,
    summary="Scan a community's access records now",
)
def finding_scan(request: HttpRequest, payload: FindingScanIn) -> dict[str, Any]:
    """Run every detector over the community's last day of access records now (the worker
    does it every minute); new findings are stored and fresh ones handed to the alarm rules.
    Managers of access; audited."""
    scope = request_scope(request)
    community = Community.objects.filter(pk=payload.community_id).first()
    if community is None or not selectors.may_view(scope, community.pk):
        raise Http404
    report = anomalies.access_anomalies_scan_now(
        actor=request_actor(request), scope=scope, community=community
    )
    return {
        "findings": report.findings,
        "handed": report.handed,
        "alarms": report.alarms,
        "by_detector": report.by_detector,
    }


@router.get(
    "/access/findings/{access_finding_id}",
    response=AccessFindingOut,
    summary="An anomaly finding",
)
def finding_get(request: HttpRequest, access_finding_id: int) -> AccessFinding:
    """One finding with the sentence that explains it; audited."""
    return selectors.finding_get(request_scope(request), access_finding_id)


@router.post(
    "/access/findings/{access_finding_id}/review",
    response=AccessFindingOut,
    summary="Confirm or dismiss a finding",
)
def finding_review(
    request: HttpRequest, access_finding_id: int, payload: FindingReviewIn
) -> AccessFinding:
    """Confirm a finding (a real problem) or dismiss it (a note says why). Managers of
    access; audited."""
    scope = request_scope(request)
    finding = selectors.finding_get(scope, access_finding_id, audited=False)
    anomalies.finding_review(
        actor=request_actor(request),
        scope=scope,
        finding=finding,
        status=payload.status,
        note=payload.note,
    )
    return selectors.finding_get(scope, finding.pk, audited=False)

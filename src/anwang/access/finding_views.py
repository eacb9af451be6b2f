"""Pages of the access anomaly findings: the list with its filters (audited: findings say
where people were), a finding's page with its sentence, numbers, links and alarm and the
review form, the "scan now" button for managers, and the count of findings to review shown on
the access overview.

Views read through :mod:`anwang.access.selectors` and write through
:mod:`anwang.access.anomalies`; they hold no rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from anwang.access import anomalies, selectors
from anwang.access.finding_forms import FindingFilterForm, FindingReviewForm
from anwang.access.models import AccessFinding
from anwang.core.pages import page_scope, page_user, paginate, submit_form
from anwang.core.selectors import page_community
from anwang.places.models import Community


def _view_community(request: HttpRequest) -> Community:
    """The community the page shows: the chosen one if the person sees its access data, else
    the first that they do (404 when none)."""
    scope = page_scope(request)
    fallback = selectors.view_communities(scope)
    if not fallback.exists():
        raise Http404
    return page_community(request, scope, allowed=selectors.may_view, fallback=fallback)


def _with_sentences(findings: list[AccessFinding]) -> list[AccessFinding]:
    for finding in findings:
        finding.sentence = anomalies.finding_sentence(finding)  # type: ignore[attr-defined]
    return findings


@login_required
@require_GET
def finding_list(request: HttpRequest) -> HttpResponse:
    """Findings of the community by detector, status and day, newest first (audited)."""
    scope = page_scope(request)
    community = _view_community(request)
    form = FindingFilterForm(request.GET or None, communities=selectors.view_communities(scope))
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    shown: Community = filters.get("community") or community
    since = until = None
    day: dt.date | None = filters.get("date")
    if day is not None:
        since = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        until = since + dt.timedelta(days=1)
    found = selectors.findings(
        scope,
        community_id=shown.pk,
        detector=filters.get("detector") or "",
        status=filters.get("status") or "",
        since=since,
        until=until,
    )
    page, query = paginate(request, found)
    _with_sentences(list(page.object_list))
    return render(
        request,
        "access/finding_list.html",
        {
            "community": shown,
            "form": form,
            "page": page,
            "query": query,
            "can_manage": selectors.may_manage(scope, shown.pk),
            "subnav": "findings",
        },
    )


def _detail(
    request: HttpRequest,
    finding: AccessFinding,
    form: FindingReviewForm,
    *,
    status: int = 200,
) -> HttpResponse:
    scope = page_scope(request)
    local_day = timezone.localtime(finding.at).date()
    log_url = ""
    if finding.access_point_id is not None:
        log_url = (
            reverse("access:events") + f"?point={finding.access_point_id}&date={local_day:%Y-%m-%d}"
        )
    return render(
        request,
        "access/finding_detail.html",
        {
            "finding": finding,
            "sentence": anomalies.finding_sentence(finding),
            "numbers": anomalies.explanation_rows(finding),
            "alarm_id": selectors.finding_alarm_id(finding),
            "log_url": log_url,
            "form": form,
            "can_manage": selectors.may_manage(scope, finding.community_id),
            "subnav": "findings",
        },
        status=status,
    )


@login_required
@require_GET
def finding_detail(request: HttpRequest, finding_id: int) -> HttpResponse:
    """One finding: why it fired, its numbers, where to look next, its alarm and review
    (audited)."""
    finding = selectors.finding_get(page_scope(request), finding_id)
    return _detail(request, finding, FindingReviewForm())


@login_required
@require_POST
def finding_review(request: HttpRequest, finding_id: int) -> HttpResponse:
    """Confirm or dismiss a finding (managers of access)."""
    scope = page_scope(request)
    finding = selectors.finding_get(scope, finding_id, audited=False)
    if not selectors.may_manage(scope, finding.community_id):
        raise PermissionDenied
    form = FindingReviewForm(request.POST)
    saved = submit_form(
        request,
        form,
        lambda data: anomalies.finding_review(
            actor=page_user(request), scope=scope, finding=finding, **data
        ),
        success=_("The review was saved."),
    )
    if saved is not None:
        return redirect("access:finding", finding_id=finding.pk)
    return _detail(request, finding, form, status=400)


@login_required
@require_POST
def findings_scan(request: HttpRequest) -> HttpResponse:
    """Scan the community's recent access records now (managers of access)."""
    scope = page_scope(request)
    community = _view_community(request)
    report = anomalies.access_anomalies_scan_now(
        actor=page_user(request), scope=scope, community=community
    )
    messages.success(
        request,
        ngettext(
            "The scan found %(count)d new finding.",
            "The scan found %(count)d new findings.",
            report.findings,
        )
        % {"count": report.findings},
    )
    return redirect("access:findings")


@login_required
@require_GET
def findings_badge(request: HttpRequest) -> HttpResponse:
    """How many findings wait for review (a fragment the overview loads; a count shows no
    one's whereabouts, so it is not audited)."""
    community = _view_community(request)
    count = selectors.findings_to_review(page_scope(request), community.pk)
    return render(request, "access/finding_badge.html", {"count": count})

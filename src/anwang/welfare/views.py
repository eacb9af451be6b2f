"""Pages of welfare checks: the overview (open checks first, then the enrolments with how long
each resident has been quiet), enrolling a consenting resident and changing the settings, an
enrolment's page (pause, resume, end), the phone page where the volunteer or grid worker
closes a check, their own list, and the false-alarm report per household and month.

Views read through :mod:`anwang.welfare.selectors` and write through
:mod:`anwang.welfare.services`; they hold no rules. When someone was last active is a
person's movements: the pages that show it write an audit entry, like a resident's access
page does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user, paginate
from anwang.core.selectors import communities_permitted, page_community
from anwang.core.tables import write_csv
from anwang.people.models import Resident
from anwang.places.models import Community
from anwang.welfare import selectors, services
from anwang.welfare.choices import CheckStatus
from anwang.welfare.forms import (
    CloseForm,
    EndForm,
    FilterForm,
    PauseForm,
    ReassignForm,
    ReportForm,
    ResidentChoiceForm,
    WatchForm,
)
from anwang.welfare.models import WelfareCheck, WelfareWatch

WATCH_FIELDS = {"consent": "consent_how", "family_contact_id": "family_contact"}
"""Service field names that differ from the form's."""
REPORT_MONTHS = 6


# --------------------------------------------------------------------------- helpers


def _view_communities(scope: Scope) -> list[Community]:
    return list(communities_permitted(scope, Permission.VIEW_WELFARE))


def _manage_community(request: HttpRequest, scope: Scope) -> Community:
    """The community a resident is enrolled in: the current one if the person manages
    welfare checks there, else the first they do (403 when none)."""
    return page_community(
        request,
        scope,
        allowed=selectors.may_manage,
        fallback=communities_permitted(scope, Permission.MANAGE_WELFARE),
    )


def _quiet_hours(check: WelfareCheck, now: dt.datetime) -> int | None:
    if check.quiet_since is None:
        return None
    end = check.closed_at or now
    return round((end - check.quiet_since).total_seconds() / 3600)


# --------------------------------------------------------------------------- overview


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Open checks first (past their time highlighted), then the enrolments with how long each
    resident has been quiet, the threshold, the baseline, pauses and who visits."""
    scope = page_scope(request)
    user = page_user(request)
    communities = _view_communities(scope)
    if not communities:
        if selectors.my_checks(user).exists():
            return redirect("welfare:my_checks")
        raise PermissionDenied
    form = FilterForm(request.GET or None, communities=communities)
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    community_id = values.get("community")
    now = timezone.now()
    open_checks = selectors.flag_overdue(
        selectors.check_list(scope, community_id=community_id, status=CheckStatus.OPEN), now
    )
    watches = selectors.watch_list(
        scope, community_id=community_id, q=values.get("q") or "", state=values.get("state") or ""
    )
    page, query = paginate(request, watches.select_related("resident__user"))
    shown = list(page.object_list)
    selectors.with_households(shown)
    rows = selectors.watch_list_statuses(shown, now=now)
    by_community: dict[int, list[int]] = {}
    for watch in shown:
        by_community.setdefault(watch.community_id, []).append(watch.pk)
    for shown_community, watch_ids in by_community.items():
        selectors.viewed(
            user, "welfare.view_activity", None, shown_community, watches=watch_ids, page="list"
        )
    manage = [c for c in communities if selectors.may_manage(scope, c.pk)]
    return render(
        request,
        "welfare/home.html",
        {
            "form": form,
            "open_checks": open_checks,
            "page": page,
            "query": query,
            "rows": rows,
            "can_enrol": bool(manage),
            "several_communities": len(communities) > 1,
            "has_mine": selectors.my_checks(user).exists(),
            "subnav": "home",
        },
    )


# --------------------------------------------------------------------------- enrolment


def _resident_to_enrol(request: HttpRequest, scope: Scope, resident_id: int) -> Resident:
    """The resident named, if the person manages welfare checks in their community (others
    404, viewers 403)."""
    resident = Resident.objects.select_related("community").filter(pk=resident_id).first()
    if resident is None or not selectors.may_view(scope, resident.community_id):
        raise Http404
    if not selectors.may_manage(scope, resident.community_id):
        raise PermissionDenied
    return resident


@login_required
@require_http_methods(["GET", "POST"])
def watch_new(request: HttpRequest) -> HttpResponse:
    """Enrol a resident who consented: first whom (``?resident=``), then the settings."""
    scope = page_scope(request)
    resident_id = int_param(request.GET.get("resident") or request.POST.get("resident"))
    if resident_id is None:
        community = _manage_community(request, scope)
        q = (request.GET.get("q") or "").strip()[:100]
        choose = ResidentChoiceForm(
            residents=selectors.enrollable_residents(scope, community.pk, q=q)
        )
        return render(
            request,
            "welfare/watch_new.html",
            {"choose": choose, "community": community, "q": q, "subnav": "home"},
        )
    resident = _resident_to_enrol(request, scope, resident_id)
    community = resident.community
    consent = selectors.welfare_consent_in_force(resident)
    form = WatchForm(
        request.POST or None,
        community=community,
        resident=resident,
        assignees=selectors.assignee_choices(scope, community.pk),
        ask_consent=consent is None,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            watch = services.watch_enrol(
                actor=page_user(request),
                scope=scope,
                resident=resident,
                consent=consent,
                consent_how=data.pop("consent_how", ""),
                **data,
            )
        except ServiceError as error:
            attach_service_error(form, error, WATCH_FIELDS)
        else:
            messages.success(
                request,
                _("%(name)s is enrolled in welfare checks.") % {"name": resident.name},
            )
            return redirect("welfare:watch", watch_id=watch.pk)
    return render(
        request,
        "welfare/watch_form.html",
        {
            "form": form,
            "resident": resident,
            "community": community,
            "consent": consent,
            "watch": None,
            "subnav": "home",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def watch_edit(request: HttpRequest, watch_id: int) -> HttpResponse:
    """Change who visits, how long a silence, the family contact and the home sensors."""
    scope = page_scope(request)
    watch = selectors.watch_get(scope, watch_id)
    if not selectors.may_manage(scope, watch.community_id):
        raise PermissionDenied
    form = WatchForm(
        request.POST or None,
        community=watch.community,
        resident=watch.resident,
        assignees=selectors.assignee_choices(scope, watch.community_id),
        ask_consent=False,
        initial=WatchForm.initial_of(watch),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.watch_update(
                actor=page_user(request), scope=scope, watch=watch, **form.cleaned_data
            )
        except ServiceError as error:
            attach_service_error(form, error, WATCH_FIELDS)
        else:
            messages.success(request, _("The enrolment was saved."))
            return redirect("welfare:watch", watch_id=watch.pk)
    return render(
        request,
        "welfare/watch_form.html",
        {
            "form": form,
            "resident": watch.resident,
            "community": watch.community,
            "consent": watch.consent,
            "watch": watch,
            "subnav": "home",
        },
        status=400 if request.method == "POST" else 200,
    )


# --------------------------------------------------------------------------- one enrolment


@login_required
@require_GET
def watch(request: HttpRequest, watch_id: int) -> HttpResponse:
    """An enrolment: where the resident stands now in words, its checks, and for managers
    pause, resume and end. Audited: it shows when the resident was last active."""
    scope = page_scope(request)
    return _watch_page(request, selectors.watch_get(scope, watch_id))


def _watch_page(
    request: HttpRequest,
    watch: WelfareWatch,
    *,
    pause_form: PauseForm | None = None,
    end_form: EndForm | None = None,
    status: int = 200,
) -> HttpResponse:
    scope = page_scope(request)
    user = page_user(request)
    now = timezone.now()
    state = selectors.watch_status(watch, now=now)
    selectors.with_households([watch])
    selectors.viewed(
        user,
        "welfare.view_activity",
        watch,
        watch.community_id,
        last_activity_at=state.last_activity_at,
        page="watch",
    )
    checks = selectors.flag_overdue(watch.checks.select_related("assignee", "closed_by")[:50], now)
    return render(
        request,
        "welfare/watch_detail.html",
        {
            "watch": watch,
            "state": state,
            "status_words": selectors.status_words(watch, state),
            "checks": checks,
            "devices": list(watch.devices.order_by("name", "id")),
            "can_manage": selectors.may_manage(scope, watch.community_id),
            "pause_form": pause_form or PauseForm(),
            "end_form": end_form or EndForm(),
            "subnav": "home",
        },
        status=status,
    )


@login_required
@require_POST
def watch_pause(request: HttpRequest, watch_id: int) -> HttpResponse:
    """Pause checks until a date and time, or (``resume``) start them again now."""
    scope = page_scope(request)
    watch = selectors.watch_get(scope, watch_id)
    if not selectors.may_manage(scope, watch.community_id):
        raise PermissionDenied
    resume = request.POST.get("action") == "resume"
    form = PauseForm(None if resume else request.POST)
    if resume or form.is_valid():
        until = None if resume else form.cleaned_data["until"]
        try:
            services.watch_pause(actor=page_user(request), scope=scope, watch=watch, until=until)
        except ServiceError as error:
            if resume:
                messages.error(request, str(error.message))
                return redirect("welfare:watch", watch_id=watch.pk)
            attach_service_error(form, error)
        else:
            if resume:
                messages.success(request, _("Checks are resumed."))
            else:
                messages.success(request, _("Checks are paused."))
            return redirect("welfare:watch", watch_id=watch.pk)
    return _watch_page(request, watch, pause_form=form, status=400)


@login_required
@require_POST
def watch_end(request: HttpRequest, watch_id: int) -> HttpResponse:
    """End the enrolment, recording the consent's withdrawal when the resident withdrew it."""
    scope = page_scope(request)
    watch = selectors.watch_get(scope, watch_id)
    if not selectors.may_manage(scope, watch.community_id):
        raise PermissionDenied
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.watch_end(
                actor=page_user(request),
                scope=scope,
                watch=watch,
                withdraw_consent=form.cleaned_data["withdraw_consent"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("The enrolment was ended."))
            return redirect("welfare:watch", watch_id=watch.pk)
    return _watch_page(request, watch, end_form=form, status=400)


# --------------------------------------------------------------------------- checks


@login_required
@require_GET
def check(request: HttpRequest, check_id: int) -> HttpResponse:
    """The visitor's page: who, where, how long quiet, whom to call; close it with what was
    found. Audited: it shows since when the resident has been quiet."""
    scope = page_scope(request)
    return _check_page(request, selectors.check_get(scope, check_id))


def _check_page(
    request: HttpRequest,
    check: WelfareCheck,
    *,
    close_form: CloseForm | None = None,
    reassign_form: ReassignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    scope = page_scope(request)
    user = page_user(request)
    now = timezone.now()
    selectors.flag_overdue([check], now)
    selectors.viewed(
        user,
        "welfare.view_check",
        check,
        check.community_id,
        quiet_since=check.quiet_since,
    )
    watch = check.watch
    can_manage = selectors.may_manage(scope, check.community_id)
    is_open = check.status == CheckStatus.OPEN
    reassign = None
    if can_manage and is_open:
        reassign = reassign_form or ReassignForm(
            assignees=selectors.assignee_choices(scope, check.community_id),
            initial={"assignee": check.assignee_id},
        )
    return render(
        request,
        "welfare/check.html",
        {
            "check": check,
            "watch": watch,
            "resident": watch.resident,
            "contact": watch.family_contact,
            "quiet_for": _quiet_hours(check, now),
            "can_close": is_open and (check.assignee_id == user.pk or can_manage),
            "can_manage": can_manage,
            "can_view_watch": selectors.may_view(scope, check.community_id),
            "can_reveal": scope.has(Permission.REVEAL_PERSONAL_DATA, check.community_id),
            "close_form": close_form or CloseForm(),
            "reassign_form": reassign,
            "subnav": "mine",
        },
        status=status,
    )


@login_required
@require_POST
def check_close(request: HttpRequest, check_id: int) -> HttpResponse:
    """Close the check with what the visit or call found."""
    scope = page_scope(request)
    check = selectors.check_get(scope, check_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.check_close(
                actor=page_user(request),
                scope=scope,
                check=check,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("The check was closed. Thank you."))
            if selectors.may_view(scope, check.community_id):
                return redirect("welfare:check", check_id=check.pk)
            return redirect("welfare:my_checks")
    return _check_page(request, check, close_form=form, status=400)


@login_required
@require_POST
def check_reassign(request: HttpRequest, check_id: int) -> HttpResponse:
    """Give the open check to another volunteer or grid worker (managers)."""
    scope = page_scope(request)
    check = selectors.check_get(scope, check_id)
    if not selectors.may_manage(scope, check.community_id):
        raise PermissionDenied
    form = ReassignForm(
        request.POST, assignees=selectors.assignee_choices(scope, check.community_id)
    )
    if form.is_valid():
        try:
            services.check_reassign(
                actor=page_user(request),
                scope=scope,
                check=check,
                assignee=form.cleaned_data["assignee"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("The check was given to someone else."))
            return redirect("welfare:check", check_id=check.pk)
    return _check_page(request, check, reassign_form=form, status=400)


@login_required
@require_GET
def my_checks(request: HttpRequest) -> HttpResponse:
    """The open checks the person is to make, most urgent first (a phone list)."""
    now = timezone.now()
    checks = selectors.flag_overdue(
        selectors.my_checks(page_user(request)).select_related(
            "watch__resident", "household__unit__building"
        ),
        now,
    )
    rows = [(check, _quiet_hours(check, now)) for check in checks]
    return render(request, "welfare/my_checks.html", {"rows": rows, "subnav": "mine"})


# --------------------------------------------------------------------------- report


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    """False alarms per household and month, with totals and the false-alarm rate;
    ``?format=csv`` downloads it."""
    scope = page_scope(request)
    communities = _view_communities(scope)
    if not communities:
        raise PermissionDenied
    form = ReportForm(request.GET or None, communities=communities)
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    community = next(
        (c for c in communities if c.pk == values.get("community")),
        None,
    ) or page_community(
        request,
        scope,
        allowed=selectors.may_view,
        fallback=communities_permitted(scope, Permission.VIEW_WELFARE),
    )
    months = values.get("months") or REPORT_MONTHS
    rows = selectors.false_alarm_report(scope, community_id=community.pk, months=months)
    table = _pivot(rows)
    if request.GET.get("format") == "csv":
        return _report_csv(community, table)
    return render(
        request,
        "welfare/report.html",
        {
            "form": form,
            "community": community,
            "months": months,
            "table": table,
            "several_communities": len(communities) > 1,
            "subnav": "report",
        },
    )


def _rate(false_alarms: int, real: int) -> float | None:
    """The false-alarm rate in per cent, as the report's selector defines it: false alarms
    among the checks that turned out either way."""
    decided = false_alarms + real
    return round(100 * false_alarms / decided, 1) if decided else None


def _pivot(rows: list[selectors.ReportRow]) -> dict[str, Any]:
    """The report's rows as a table: households down, months across (oldest first), with the
    community's monthly totals and each household's and the whole period's totals."""
    months = sorted({row.month for row in rows})
    lines: dict[int | None, dict[str, Any]] = {}
    by_month_total: dict[dt.date, selectors.ReportRow] = {}
    for row in rows:
        if row.is_total:
            by_month_total[row.month] = row
            continue
        line = lines.setdefault(
            row.household_id,
            {"label": row.household_label, "cells": {}, "checks": 0, "false_alarms": 0, "real": 0},
        )
        line["cells"][row.month] = row
        line["checks"] += row.checks
        line["false_alarms"] += row.false_alarms
        line["real"] += row.real
    ordered = sorted(lines.items(), key=lambda item: (item[0] is None, item[1]["label"]))
    table_lines = []
    for _household, line in ordered:
        line["rate"] = _rate(line["false_alarms"], line["real"])
        line["by_month"] = [line["cells"].get(month) for month in months]
        table_lines.append(line)
    totals = [by_month_total.get(month) for month in months]
    checks = sum(total.checks for total in totals if total is not None)
    false_alarms = sum(total.false_alarms for total in totals if total is not None)
    real = sum(total.real for total in totals if total is not None)
    return {
        "months": months,
        "lines": table_lines,
        "totals": [
            {
                "checks": total.checks if total else 0,
                "false_alarms": total.false_alarms if total else 0,
                "rate": None if total is None or total.rate is None else round(100 * total.rate, 1),
            }
            for total in totals
        ],
        "checks": checks,
        "false_alarms": false_alarms,
        "real": real,
        "rate": _rate(false_alarms, real),
    }


def _report_csv(community: Community, table: dict[str, Any]) -> HttpResponse:
    header = [_("Household")]
    for month in table["months"]:
        label = month.strftime("%Y-%m")
        header += [
            _("%(month)s checks") % {"month": label},
            _("%(month)s false alarms") % {"month": label},
        ]
    header += [_("Checks"), _("False alarms"), _("False-alarm rate (%)")]

    def cells(by_month: list[Any]) -> list[str]:
        out: list[str] = []
        for cell in by_month:
            out += [str(cell["checks"]), str(cell["false_alarms"])] if cell else ["0", "0"]
        return out

    rows = []
    for line in table["lines"]:
        by_month = [
            {"checks": cell.checks, "false_alarms": cell.false_alarms} if cell else None
            for cell in line["by_month"]
        ]
        rows.append(
            [
                line["label"],
                *cells(by_month),
                str(line["checks"]),
                str(line["false_alarms"]),
                "" if line["rate"] is None else str(line["rate"]),
            ]
        )
    rows.append(
        [
            _("Total"),
            *cells(table["totals"]),
            str(table["checks"]),
            str(table["false_alarms"]),
            "" if table["rate"] is None else str(table["rate"]),
        ]
    )
    response = HttpResponse(write_csv(header, rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="welfare-false-alarms-{community.slug}-{stamp}.csv"'
    )
    return response

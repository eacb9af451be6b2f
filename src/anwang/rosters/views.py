"""Pages of duty rosters: who is on duty now, the week's roster (cancelled shifts struck
through, swaps with the replacement), the patterns with their form (and a preview of the next
shifts), exceptions and swaps (a list with undo, a form for a pattern or a person in a duty
role, and two people swapping shifts), and "my duties" with its calendar.

Views read through :mod:`anwang.rosters.selectors` and write through
:mod:`anwang.rosters.services`; they hold no rules.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.ical import ics_response
from anwang.core.pages import attach_service_error, page_scope, page_user
from anwang.core.selectors import page_community
from anwang.patrols.schedules import ScheduleError, Shift, rrule_clean, shifts
from anwang.places.models import Community
from anwang.rosters import selectors, services
from anwang.rosters.choices import DutyRole
from anwang.rosters.forms import ExceptionForm, PatternForm, SwapForm
from anwang.rosters.models import DutyPattern

PREVIEW_COUNT = 10
MY_DAYS = 14
CALENDAR_DAYS = 62


def _community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.may_view,
        fallback=selectors.roster_communities(scope),
    )


def _manage_community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(request, scope, allowed=selectors.may_manage, fallback=None)


def _managed(scope: Scope, pk: int) -> DutyPattern:
    pattern = selectors.pattern_get(scope, pk)
    if not selectors.may_manage(scope, pattern.community_id):
        raise PermissionDenied
    return pattern


@login_required
def now(request: HttpRequest) -> HttpResponse:
    """Who is on duty now in the current community, per duty role, with the shift's end."""
    scope = page_scope(request)
    community = _community(request, scope)
    # Cancelled shifts of this moment are shown struck through, so a gap has its reason.
    duties = selectors.on_duty_now(community.pk, include_cancelled=True)
    by_role = [
        (
            role.label,
            [duty for duty in duties if duty.duty_role == role.value],
            any(duty.duty_role == role.value and not duty.cancelled for duty in duties),
        )
        for role in DutyRole
    ]
    return render(
        request,
        "rosters/now.html",
        {
            "community": community,
            "by_role": by_role,
            "may_manage": selectors.may_manage(scope, community.pk),
        },
    )


@login_required
def week(request: HttpRequest) -> HttpResponse:
    """The community's roster for one week (from ``?start=YYYY-MM-DD``, default today)."""
    scope = page_scope(request)
    community = _community(request, scope)
    try:
        first = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        first = timezone.localdate()
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(first + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    duties = selectors.duties_between(
        since=since, until=until, community_id=community.pk, include_cancelled=True
    )
    days = [
        (
            day,
            [
                duty
                for duty in duties
                if timezone.localtime(duty.start).date() == day
                or (day == first and duty.start < since)
            ],
        )
        for day in (first + dt.timedelta(days=offset) for offset in range(7))
    ]
    return render(
        request,
        "rosters/week.html",
        {
            "community": community,
            "days": days,
            "previous": first - dt.timedelta(days=7),
            "next": first + dt.timedelta(days=7),
            "may_manage": selectors.may_manage(scope, community.pk),
        },
    )


@login_required
def pattern_list(request: HttpRequest) -> HttpResponse:
    """The duty patterns of the current community."""
    scope = page_scope(request)
    community = _community(request, scope)
    patterns = selectors.patterns_visible(scope, community.pk)
    return render(
        request,
        "rosters/pattern_list.html",
        {
            "community": community,
            "patterns": patterns,
            "may_manage": selectors.may_manage(scope, community.pk),
        },
    )


def _preview(form: PatternForm) -> list[Shift]:
    """The next shifts the form's rule gives (nothing saved); errors go on the form."""
    data = form.cleaned_data
    try:
        first = timezone.localtime(data["first_start"])
        since = max(timezone.now(), first)
        return shifts(
            rule=rrule_clean(data["rrule"]),
            first_start=first,
            duration=dt.timedelta(minutes=data["duration_minutes"]),
            since=since,
            until=since + dt.timedelta(days=400),
        )[:PREVIEW_COUNT]
    except ScheduleError as error:
        form.add_error("rrule", str(error.message))
        return []


def _pattern_page(
    request: HttpRequest, scope: Scope, community: Community, pattern: DutyPattern | None
) -> HttpResponse:
    initial = (
        {
            "duty_role": pattern.duty_role,
            "person": pattern.person_id,
            "first_start": timezone.localtime(pattern.first_start),
            "duration_minutes": int(pattern.duration.total_seconds() // 60),
            "rrule": pattern.rrule,
            "is_active": pattern.is_active,
            "note": pattern.note,
        }
        if pattern is not None
        else {"is_active": True}
    )
    form = PatternForm(request.POST or None, community=community, initial=initial)
    preview: list[Shift] = []
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = _preview(form)
        else:
            try:
                if pattern is None:
                    services.duty_pattern_create(
                        actor=page_user(request),
                        scope=scope,
                        community=community,
                        **form.values(),
                    )
                    messages.success(request, _("The duty pattern was added."))
                else:
                    services.duty_pattern_update(
                        actor=page_user(request), scope=scope, pattern=pattern, **form.values()
                    )
                    messages.success(request, _("The changes were saved."))
                return redirect("rosters:pattern_list")
            except ServiceError as error:
                attach_service_error(form, error, {"duration": "duration_minutes"})
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "rosters/pattern_form.html",
        {
            "form": form,
            "title": _("Add a duty pattern") if pattern is None else _("Edit a duty pattern"),
            "community": community,
            "pattern": pattern,
            "preview": preview,
        },
        status=status,
    )


@login_required
def pattern_create(request: HttpRequest) -> HttpResponse:
    """Add a duty pattern to the current community."""
    scope = page_scope(request)
    return _pattern_page(request, scope, _manage_community(request, scope), None)


@login_required
def pattern_edit(request: HttpRequest, pattern_id: int) -> HttpResponse:
    """Change a duty pattern."""
    scope = page_scope(request)
    pattern = _managed(scope, pattern_id)
    return _pattern_page(request, scope, pattern.community, pattern)


@login_required
@require_POST
def pattern_deactivate(request: HttpRequest, pattern_id: int) -> HttpResponse:
    """Stop a duty pattern's shifts (kept for the record)."""
    scope = page_scope(request)
    pattern = _managed(scope, pattern_id)
    services.duty_pattern_deactivate(actor=page_user(request), scope=scope, pattern=pattern)
    messages.success(request, _("The duty pattern was deactivated."))
    return redirect("rosters:pattern_list")


@login_required
def exception_list(request: HttpRequest) -> HttpResponse:
    """The community's exceptions and swaps, upcoming and of the last week, with undo."""
    scope = page_scope(request)
    community = _community(request, scope)
    exceptions = selectors.exceptions_visible(scope, community.pk)
    rows = [(exception, selectors.exception_start(exception)) for exception in exceptions]
    return render(
        request,
        "rosters/exception_list.html",
        {
            "community": community,
            "rows": rows,
            "now": timezone.now(),
            "may_manage": selectors.may_manage(scope, community.pk),
        },
    )


def _back(request: HttpRequest, default: str) -> str:
    """Where to go after a change: back to the page it was made from, if it is ours."""
    target = request.POST.get("next", "")
    allowed = (reverse("rosters:week"), reverse("rosters:now"), reverse("rosters:exception_list"))
    return target if target.split("?", 1)[0] in allowed else reverse(default)


@login_required
def exception_add(request: HttpRequest) -> HttpResponse:
    """Cancel or swap one shift, or the shifts starting in a range, of a duty pattern or of a
    person in a duty role."""
    scope = page_scope(request)
    community = _manage_community(request, scope)
    initial = {"pattern": request.GET.get("pattern"), "shift_key": request.GET.get("shift", "")}
    form = ExceptionForm(request.POST or None, community=community, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.duty_exception_add(
                actor=page_user(request), scope=scope, community=community, **form.values()
            )
            messages.success(request, _("The roster was changed."))
            return redirect("rosters:week")
        except ServiceError as error:
            attach_service_error(form, error)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "rosters/exception_form.html",
        {
            "form": form,
            "community": community,
            "title": _("Cancel or swap shifts"),
            "testid": "exception-form",
        },
        status=status,
    )


@login_required
def shifts_swap(request: HttpRequest) -> HttpResponse:
    """Two people swap one shift each, in one change."""
    scope = page_scope(request)
    community = _manage_community(request, scope)
    initial = {"pattern": request.GET.get("pattern"), "shift_key": request.GET.get("shift", "")}
    form = SwapForm(request.POST or None, community=community, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.duty_shifts_swap(
                actor=page_user(request), scope=scope, community=community, **form.values()
            )
            messages.success(request, _("The two shifts were swapped."))
            return redirect("rosters:week")
        except ServiceError as error:
            attach_service_error(form, error)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "rosters/exception_form.html",
        {
            "form": form,
            "community": community,
            "title": _("Swap two people's shifts"),
            "testid": "swap-form",
        },
        status=status,
    )


@login_required
@require_POST
def exception_remove(request: HttpRequest, duty_exception_id: int) -> HttpResponse:
    """Undo an exception or swap: its shifts are as the pattern has them again."""
    scope = page_scope(request)
    exception = selectors.exception_get(scope, duty_exception_id)
    if not selectors.may_manage(scope, exception.community_id):
        raise PermissionDenied
    services.duty_exception_remove(actor=page_user(request), scope=scope, exception=exception)
    messages.success(request, _("The change was undone."))
    return redirect(_back(request, "rosters:exception_list"))


@login_required
def my_duties(request: HttpRequest) -> HttpResponse:
    """The caller's duties of the next two weeks, in every community, swaps applied."""
    user = page_user(request)
    start = timezone.now()
    duties = selectors.duties_between(
        since=start, until=start + dt.timedelta(days=MY_DAYS), person_id=user.pk
    )
    return render(request, "rosters/my_duties.html", {"duties": duties, "days": MY_DAYS})


@login_required
def my_duties_ics(request: HttpRequest) -> HttpResponse:
    """The caller's duties from a week ago to two months ahead, as an iCalendar file."""
    user = page_user(request)
    start = timezone.now()
    duties = selectors.duties_between(
        since=start - dt.timedelta(days=7),
        until=start + dt.timedelta(days=CALENDAR_DAYS),
        person_id=user.pk,
    )
    content = selectors.duties_calendar(duties, name=_("My duties"))
    return ics_response(content, filename="my-duties.ics")

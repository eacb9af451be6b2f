"""Pages of patrol schedules: the manager's list, the form with a friendly repeat builder and
a preview of the next shifts, delete; the guard's "My shifts" phone page with a Start button;
the iCalendar files for calendar apps.

Views read through :mod:`anwang.patrols.selectors` and write through
:mod:`anwang.patrols.services`; they hold no rules. The form only turns the builder's choices
into an RRULE; the service checks it.
"""

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
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.ical import ics_response
from anwang.core.pages import attach_service_error, page_scope, page_user
from anwang.core.selectors import page_community
from anwang.patrols import selectors, services
from anwang.patrols.forms import WEEKDAYS, ScheduleForm
from anwang.patrols.models import PatrolSchedule
from anwang.patrols.schedules import ScheduleError, Shift, rrule_clean, shifts
from anwang.places.models import Community

PREVIEW_COUNT = 10
MY_SHIFTS_DAYS = 7


def _builder_initial(rule: str) -> dict[str, Any]:
    """The repeat builder's choices that give ``rule``, or the advanced field."""
    parts = dict(part.partition("=")[::2] for part in rule.split(";") if part)
    if parts == {"FREQ": "DAILY"}:
        return {"repeat": "daily"}
    if set(parts) == {"FREQ", "BYDAY"} and parts["FREQ"] == "WEEKLY":
        days = parts["BYDAY"].split(",")
        if all(day in dict(WEEKDAYS) for day in days):
            return {"repeat": "weekly", "weekdays": days}
    if set(parts) == {"FREQ", "INTERVAL"} and parts["FREQ"] == "HOURLY":
        return {"repeat": "hourly", "every_hours": int(parts["INTERVAL"])}
    return {"repeat": "advanced", "rrule_text": rule}


def _initial(schedule: PatrolSchedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "route": schedule.route_id,
        "first_start": timezone.localtime(schedule.first_start),
        "duration_minutes": int(schedule.duration.total_seconds() // 60),
        "order_mode": schedule.order_mode,
        "random_start": schedule.random_start,
        "guards": [guard.pk for guard in schedule.guards.all()],
        "teams": [team.pk for team in schedule.teams.all()],
        "is_active": schedule.is_active,
        "note": schedule.note,
    } | _builder_initial(schedule.rrule)


def _preview(form: ScheduleForm) -> list[Shift]:
    """The next shifts the form's rule gives (nothing saved); errors go on the form."""
    data = form.cleaned_data
    try:
        rule = rrule_clean(data["rrule"])
        first = timezone.localtime(data["first_start"])
        return shifts(
            rule=rule,
            first_start=first,
            duration=dt.timedelta(minutes=data["duration_minutes"]),
            since=max(timezone.now(), first),
            until=max(timezone.now(), first) + dt.timedelta(days=400),
        )[:PREVIEW_COUNT]
    except ScheduleError as error:
        form.add_error(
            "rrule_text" if data.get("repeat") == "advanced" else "repeat", str(error.message)
        )
        return []


def _saved_preview(schedule: PatrolSchedule) -> list[Shift]:
    now = timezone.now()
    since = max(now, schedule.first_start)
    try:
        found = selectors.schedule_shifts_between(schedule, since, since + dt.timedelta(days=400))
    except ScheduleError:
        return []
    return found[:PREVIEW_COUNT]


def _schedule_page(
    request: HttpRequest,
    scope: Scope,
    community: Community,
    schedule: PatrolSchedule | None,
) -> HttpResponse:
    form = ScheduleForm(
        request.POST or None,
        scope=scope,
        community=community,
        initial=_initial(schedule) if schedule is not None else {"is_active": True},
    )
    preview: list[Shift] = [] if schedule is None else _saved_preview(schedule)
    status = 200
    if request.method == "POST":
        if form.is_valid() and "preview" in request.POST:
            preview = _preview(form)
        elif form.is_valid():
            try:
                if schedule is None:
                    saved = services.patrol_schedule_create(
                        actor=page_user(request), scope=scope, community=community, **form.values()
                    )
                    messages.success(
                        request, _("Schedule “%(name)s” was added.") % {"name": saved.name}
                    )
                else:
                    saved = services.patrol_schedule_update(
                        actor=page_user(request), scope=scope, schedule=schedule, **form.values()
                    )
                    messages.success(request, _("The changes were saved."))
                return redirect("patrols:schedule_list")
            except ServiceError as error:
                fields = {
                    "rrule": "rrule_text" if form.cleaned_data["repeat"] == "advanced" else "repeat"
                }
                fields |= {"duration": "duration_minutes"}
                attach_service_error(form, error, fields)
        status = 400 if form.errors else 200
    title = (
        _("Add a patrol schedule")
        if schedule is None
        else _("Edit %(name)s") % {"name": schedule.name}
    )
    return render(
        request,
        "patrols/schedule_form.html",
        {
            "form": form,
            "title": title,
            "community": community,
            "schedule": schedule,
            "preview": preview,
            "cancel_url": reverse("patrols:schedule_list"),
        },
        status=status,
    )


def _manage_community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(request, scope, allowed=selectors.can_manage, fallback=None)


def _managed(scope: Scope, pk: int) -> PatrolSchedule:
    schedule = selectors.patrol_schedule_get(scope, pk)
    if not selectors.can_manage(scope, schedule.community_id):
        raise PermissionDenied
    return schedule


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    """The patrol schedules of the current community, with this week's shifts and their
    status (for those who manage its patrols; others are sent to their own shifts)."""
    scope = page_scope(request)
    try:
        community = _manage_community(request, scope)
    except PermissionDenied:
        if scope.has_anywhere(selectors.RUN):
            return redirect("patrols:my_shifts")
        raise
    schedules = list(selectors.patrol_schedule_list(scope, community_id=community.pk))
    now = timezone.now()
    since = now - dt.timedelta(days=1)
    shift_views = selectors.community_shift_list(
        scope, community.pk, since=since, until=now + dt.timedelta(days=2)
    )
    return render(
        request,
        "patrols/schedule_list.html",
        {"community": community, "schedules": schedules, "shifts": shift_views},
    )


@login_required
def schedule_create(request: HttpRequest) -> HttpResponse:
    """Add a schedule to the current community."""
    scope = page_scope(request)
    community = _manage_community(request, scope)
    return _schedule_page(request, scope, community, None)


@login_required
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a schedule (shifts already run keep their runs)."""
    scope = page_scope(request)
    schedule = _managed(scope, pk)
    return _schedule_page(request, scope, schedule.community, schedule)


@login_required
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask before deleting a schedule; on POST delete it (its runs stay)."""
    scope = page_scope(request)
    schedule = _managed(scope, pk)
    if request.method == "POST":
        services.patrol_schedule_delete(actor=page_user(request), scope=scope, schedule=schedule)
        messages.success(request, _("Schedule “%(name)s” was deleted.") % {"name": schedule.name})
        return redirect("patrols:schedule_list")
    return render(
        request,
        "patrols/confirm.html",
        {
            "title": _("Delete %(name)s") % {"name": schedule.name},
            "question": _(
                "Do you really want to delete the schedule “%(name)s”? Runs already made for "
                "its shifts stay. The deletion is recorded in the audit log."
            )
            % {"name": schedule.name},
            "button": _("Delete"),
            "cancel_url": reverse("patrols:schedule_list"),
            "error": "",
        },
    )


@login_required
def my_shifts(request: HttpRequest) -> HttpResponse:
    """The guard's shifts of the next days, with a Start button when one is open."""
    scope = page_scope(request)
    now = timezone.now()
    views = selectors.my_shift_list(scope, since=now, until=now + dt.timedelta(days=MY_SHIFTS_DAYS))
    return render(
        request,
        "patrols/schedule_my_shifts.html",
        {
            "shifts": views,
            "current_run": selectors.current_run(scope),
            "days": MY_SHIFTS_DAYS,
            "has_calendar_link": selectors.has_calendar_feed(getattr(scope.user, "pk", None)),
        },
    )


@login_required
@require_POST
def shift_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the run of one of the guard's shifts and go to the run's phone page."""
    scope = page_scope(request)
    schedule = selectors.patrol_schedule_get(scope, pk)
    user = page_user(request)
    assert user is not None
    try:
        run = services.patrol_shift_start(
            actor=user, scope=scope, schedule=schedule, shift_key=request.POST.get("shift", "")
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("patrols:my_shifts")
    return redirect("patrols:run_go", pk=run.pk)


@login_required
def schedules_ics(request: HttpRequest) -> HttpResponse:
    """The current community's active schedules as an iCalendar file (no secret plan)."""
    scope = page_scope(request)
    community = _manage_community(request, scope)
    schedules = selectors.patrol_schedule_list(scope, community_id=community.pk, active=True)
    name = _("Patrol schedules of %(community)s") % {"community": community.name}
    return ics_response(
        selectors.schedules_calendar(schedules, name=name), filename="patrol-schedules.ics"
    )


@login_required
def my_shifts_ics(request: HttpRequest) -> HttpResponse:
    """The guard's own schedules as an iCalendar file (no secret plan)."""
    schedules = selectors.my_schedules(page_scope(request))
    return ics_response(
        selectors.schedules_calendar(schedules, name=_("My patrol shifts")),
        filename="my-shifts.ics",
    )


@login_required
@require_POST
def calendar_link(request: HttpRequest) -> HttpResponse:
    """Make a new secret calendar link (shown once) or, with ``revoke``, stop the current one."""
    user = page_user(request)
    assert user is not None
    if "revoke" in request.POST:
        services.calendar_feed_revoke(actor=user)
        messages.success(request, _("Your calendar link was revoked."))
        return redirect("patrols:my_shifts")
    token = services.calendar_feed_create(actor=user)
    url = request.build_absolute_uri(reverse("patrols:calendar_feed", args=[token]))
    return render(request, "patrols/schedule_calendar_link.html", {"url": url})


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's shifts for a calendar app's subscription, by secret link (no sign-in)."""
    from anwang.accounts.selectors import scope_for

    user = selectors.calendar_feed_user(token)
    if user is None:
        raise Http404
    schedules = selectors.my_schedules(scope_for(user))
    return ics_response(
        selectors.schedules_calendar(schedules, name=_("My patrol shifts")),
        filename="my-shifts.ics",
    )

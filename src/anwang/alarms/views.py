"""Pages of the alarms domain: the alarm history with filters and export, an alarm with its
timeline and the lifecycle actions, statistics, and a community's response times.

Views read through :mod:`anwang.alarms.selectors` and write through
:mod:`anwang.alarms.services`; they hold no rules. Action buttons are shown only to people the
service would let act; the service decides anyway. Lists show the community chosen with the
switcher in the top bar; an alarm of a community the person cannot see is 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.alarms import selectors, services
from anwang.alarms.choices import OPEN_STATES, AlarmState
from anwang.alarms.exporting import export_file
from anwang.alarms.forms import (
    DispatchForm,
    FalseAlarmForm,
    NoteForm,
    PhotoForm,
    RequiredNoteForm,
    ResponseTimeForm,
)
from anwang.alarms.models import Alarm
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, is_htmx, page_scope, page_user, paginate
from anwang.core.selectors import page_community
from anwang.core.tables import CONTENT_TYPES
from anwang.events import selectors as event_selectors
from anwang.events.models import CameraSnapshot
from anwang.incidents import selectors as incident_selectors
from anwang.patrols.selectors import Whereabouts, guard_whereabouts
from anwang.places.models import Community, Zone
from anwang.rules.choices import Priority

LIST_FILTERS = ("state", "priority", "zone", "device", "since", "until", "open")
"""The query parameters of the alarm list's filters (the export takes the same)."""

STATS_DAYS = 30


# --------------------------------------------------------------------------- helpers


def _page_community(request: HttpRequest, scope: Scope, *, manage: bool = False) -> Community:
    """The community a page works in: the one chosen in the top bar if the person may see
    (or, for ``manage``, set the response times of) its alarms, else their first such one."""
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage_response_times if manage else selectors.can_view,
        fallback=None if manage else selectors.viewable_communities(scope),
    )


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _list_alarms(
    request: HttpRequest, scope: Scope, community: Community
) -> tuple[QuerySet[Alarm], dict[str, Any]]:
    """The community's alarms the list's filters select, and the filters as given."""
    state = request.GET.get("state", "")
    priority = int_param(request.GET.get("priority"))
    zone_id = int_param(request.GET.get("zone"))
    device_id = int_param(request.GET.get("device"))
    since = _date(request.GET.get("since"))
    until = _date(request.GET.get("until"))
    open_only = request.GET.get("open", "") == "yes"
    alarms = selectors.alarm_list(
        scope,
        community_id=community.pk,
        state=state if state in AlarmState.values else None,
        priority=priority if priority in Priority.values else None,
        zone_id=zone_id,
        device_id=device_id,
        since=_day_start(since) if since else None,
        until=_day_start(until + dt.timedelta(days=1)) if until else None,
        open_only=open_only,
    )
    filters = {
        "state": state,
        "priority": priority,
        "zone_id": zone_id,
        "device_id": device_id,
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "open": open_only,
    }
    return alarms, filters


# --------------------------------------------------------------------------- list and export


@login_required
def alarm_list(request: HttpRequest) -> HttpResponse:
    """The alarm history of the current community, newest first, with filters; htmx asks for
    the table alone when a filter changes."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    alarms, filters = _list_alarms(request, scope, community)
    page, query = paginate(request, alarms)
    context = {
        "community": community,
        "page": page,
        "query": query,
        **filters,
        "export_query": urlencode(
            [(k, v) for k, v in request.GET.items() if k in LIST_FILTERS and v]
        ),
        "states": AlarmState.choices,
        "priorities": Priority.choices,
        "zones": Zone.objects.filter(community_id=community.pk).order_by("name", "id"),
        "can_manage": selectors.can_manage_response_times(scope, community.pk),
    }
    if is_htmx(request):
        return render(request, "alarms/_alarm_table.html", context)
    return render(request, "alarms/alarm_list.html", context)


@login_required
@require_GET
def alarm_export(request: HttpRequest) -> HttpResponse:
    """Download the alarms the list shows (same filters) as .xlsx or .csv."""
    scope = page_scope(request)
    file_format = request.GET.get("format", "xlsx")
    if file_format not in CONTENT_TYPES:
        raise Http404
    community = _page_community(request, scope)
    alarms, _filters = _list_alarms(request, scope, community)
    content, file_name, content_type = export_file(
        alarms, community=community, file_format=file_format
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


# --------------------------------------------------------------------------- one alarm


def _allowed_actions(scope: Scope, alarm: Alarm) -> set[str]:
    """The lifecycle actions to offer: those the services would accept from this person."""
    if not selectors.can_handle(scope, alarm.community_id):
        return set()
    actions = {"note", "photo"}
    user_id = scope.user.pk if scope.user else None
    if alarm.state == AlarmState.RAISED:
        actions.add("acknowledge")
    if alarm.state in (AlarmState.RAISED, AlarmState.ACKNOWLEDGED, AlarmState.DISPATCHED):
        actions.add("dispatch")
    if alarm.state == AlarmState.DISPATCHED:
        actions.add("arrive")
        if alarm.assignee_id == user_id and alarm.accepted_at is None:
            actions.add("accept")
    if alarm.state in OPEN_STATES:
        actions.update({"resolve", "false"})
    return actions


@login_required
def alarm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An alarm: why it fired, its timeline, the events behind it, photos, and the actions the
    person may take."""
    scope = page_scope(request)
    alarm = selectors.alarm_get(scope, pk)
    actions = _allowed_actions(scope, alarm)
    people = (
        selectors.dispatchable_people(scope, alarm.community_id) if "dispatch" in actions else None
    )
    return render(
        request,
        "alarms/alarm_detail.html",
        {
            "alarm": alarm,
            "steps": selectors.alarm_steps(alarm),
            "events": selectors.alarm_events(alarm),
            "photos": selectors.alarm_photos(alarm),
            "snapshot": event_selectors.alarm_snapshot(scope, alarm),
            "escalations": selectors.alarm_escalations(alarm),
            "actions": actions,
            **_incident_context(scope, alarm),
            "dispatch_form": (
                DispatchForm(
                    people=people,
                    whereabouts=_whereabouts(alarm, people),
                    on_duty_until=selectors.on_duty_until(alarm.community_id),
                )
                if people is not None
                else None
            ),
            "note_form": NoteForm(),
            "required_note_form": RequiredNoteForm(),
            "false_form": FalseAlarmForm(),
            "photo_form": PhotoForm(),
        },
    )


def _incident_context(scope: Scope, alarm: Alarm) -> dict[str, Any]:
    """The open incident the alarm is linked to (when the person may see it), or whether the
    person may declare one from it with one click."""
    incident = incident_selectors.alarm_open_incident(alarm)
    return {
        "open_incident": (
            incident
            if incident is not None and incident_selectors.may_view(scope, incident)
            else None
        ),
        "may_declare_incident": incident is None
        and incident_selectors.may_manage(scope, alarm.community_id),
    }


def _whereabouts(alarm: Alarm, people: Iterable[User]) -> dict[int, Whereabouts]:
    """Where the people one may dispatch were last seen on patrol."""
    return guard_whereabouts(alarm.community_id, [person.pk for person in people])


def snapshot_response(snapshot: CameraSnapshot) -> FileResponse:
    """A camera snapshot as an image response, cached only by the person's own browser (an
    alarm's snapshot can still change while Frigate finds a better picture)."""
    content_type = "image/png" if snapshot.image.name.endswith(".png") else "image/jpeg"
    response = FileResponse(snapshot.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=60"
    return response


@login_required
@require_GET
def alarm_snapshot(request: HttpRequest, pk: int) -> FileResponse:
    """The camera picture of an alarm; 404 when there is none or the alarm is not visible."""
    scope = page_scope(request)
    alarm = selectors.alarm_get(scope, pk)
    snapshot = event_selectors.alarm_snapshot(scope, alarm)
    if snapshot is None:
        raise Http404
    return snapshot_response(snapshot)


def _run_action(
    request: HttpRequest, scope: Scope, alarm: Alarm, action: str
) -> tuple[forms.Form, Callable[[dict[str, Any]], object], str]:
    """The form of an action, the service call it makes, and what to say when it worked."""
    actor = page_user(request)
    simple: dict[str, tuple[Callable[..., object], str]] = {
        "acknowledge": (services.alarm_acknowledge, _("The alarm was acknowledged.")),
        "accept": (services.alarm_accept, _("You accepted the alarm.")),
        "arrive": (services.alarm_arrive, _("On scene was recorded.")),
        "resolve": (services.alarm_resolve, _("The alarm was resolved.")),
    }
    if action in simple:
        service, done = simple[action]
        return (
            NoteForm(request.POST),
            lambda data: service(actor=actor, scope=scope, alarm=alarm, note=data["note"]),
            done,
        )
    if action == "dispatch":
        people = selectors.dispatchable_people(scope, alarm.community_id)
        return (
            DispatchForm(request.POST, people=people),
            lambda data: services.alarm_dispatch(
                actor=actor,
                scope=scope,
                alarm=alarm,
                assignee=data["assignee"],
                note=data["note"],
            ),
            _("The alarm was dispatched."),
        )
    if action == "false":
        return (
            FalseAlarmForm(request.POST),
            lambda data: services.alarm_false(
                actor=actor, scope=scope, alarm=alarm, reason=data["reason"]
            ),
            _("The alarm was closed as a false alarm."),
        )
    if action == "note":
        return (
            RequiredNoteForm(request.POST),
            lambda data: services.alarm_note(
                actor=actor, scope=scope, alarm=alarm, note=data["note"]
            ),
            _("The note was added."),
        )
    if action == "photo":
        return (
            PhotoForm(request.POST, request.FILES),
            lambda data: services.alarm_photo_add(
                actor=actor, scope=scope, alarm=alarm, image=data["image"]
            ),
            _("The photo was added."),
        )
    raise Http404


@login_required
@require_POST
def alarm_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one lifecycle action on an alarm, then show the alarm again (with the reason if
    the action was refused)."""
    scope = page_scope(request)
    alarm = selectors.alarm_get(scope, pk)
    form, save, done = _run_action(request, scope, alarm, action)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    else:
        try:
            save(form.cleaned_data)
        except ServiceError as refused:
            messages.error(request, str(refused.message))
        else:
            messages.success(request, done)
    return redirect("alarms:alarm_detail", pk=alarm.pk)


# --------------------------------------------------------------------------- statistics


@login_required
def alarm_stats(request: HttpRequest) -> HttpResponse:
    """Alarm figures of the current community over a period (the last 30 days by default), so
    noisy devices and rules can be fixed."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    today = timezone.localdate()
    since = _date(request.GET.get("since")) or today - dt.timedelta(days=STATS_DAYS - 1)
    until = _date(request.GET.get("until")) or today
    stats = selectors.alarm_stats(
        scope, community.pk, _day_start(since), _day_start(until + dt.timedelta(days=1))
    )
    return render(
        request,
        "alarms/alarm_stats.html",
        {
            "community": community,
            "stats": stats,
            "since": since.isoformat(),
            "until": until.isoformat(),
        },
    )


# --------------------------------------------------------------------------- response times


@login_required
def response_times(request: HttpRequest) -> HttpResponse:
    """The current community's response times per priority (community admins)."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    current = selectors.response_times(community)
    rows = []
    for value in current:
        initial = {
            "acknowledge_seconds": value.acknowledge_seconds,
            "on_scene_seconds": value.on_scene_seconds,
            "raise_priority": value.raise_priority,
        }
        form = ResponseTimeForm(request.POST or None, initial=initial, prefix=f"p{value.priority}")
        rows.append((value, form))
    if request.method == "POST" and all(form.is_valid() for _value, form in rows):
        try:
            with transaction.atomic():
                for value, form in rows:
                    if value.is_default and not form.has_changed():
                        continue  # a default left alone stays the default (P4's next shift)
                    services.response_time_set(
                        actor=page_user(request),
                        scope=scope,
                        community=community,
                        priority=value.priority,
                        **form.cleaned_data,
                    )
        except ServiceError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The response times were saved."))
            return redirect("alarms:response_times")
    return render(
        request,
        "alarms/response_times.html",
        {"community": community, "rows": rows},
    )

"""Pages of the incidents domain: the list of incidents and drills, declaring one by hand or
with one click on an alarm, the command view (tasks with their timers, linked alarms, a map,
the timeline, participants), closing with an after-action review, and its action items.

The command view is one page that works on the operator's large screen and on a guard's phone;
htmx swaps the task checklist after each action and polls the timeline, and a small script
counts the task timers down. Views read through :mod:`anwang.incidents.selectors` and write
through :mod:`anwang.incidents.services`; they hold no rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.alarms import selectors as alarm_selectors
from anwang.alarms.models import Alarm
from anwang.core.errors import ServiceError
from anwang.core.pages import (
    attach_service_error,
    int_param,
    is_htmx,
    page_scope,
    page_user,
    paginate,
)
from anwang.core.selectors import current_community
from anwang.incidents import selectors, services
from anwang.incidents.choices import IncidentState
from anwang.incidents.forms import (
    ActionItemForm,
    ActionItemFormSet,
    AlarmLinkForm,
    CompleteForm,
    DeclareForm,
    ListFilterForm,
    NoteForm,
    ParticipantForm,
    ReassignForm,
    ReviewForm,
    SkipForm,
    TaskAddForm,
)
from anwang.incidents.models import ActionItem, Incident, IncidentTask
from anwang.places.models import Community, Zone
from anwang.plans import selectors as plan_selectors

TASK_ACTIONS = ("complete", "skip", "reassign")
CHANGED = "incident-changed"
"""The htmx event a page action sends back, so the timeline (and the counts) refresh at once."""

LINKABLE_ALARMS_SINCE = dt.timedelta(days=1)
MAP_KIND_STATUS = {"incident": "offline", "alarm": "offline", "assembly": "online"}
"""Which colour of the shared map's point layer each kind of incident point takes (map.js
colours points by device status: red for the place and the alarms, green for the assembly
point)."""


# --------------------------------------------------------------------------- helpers


def _people(community_id: int) -> QuerySet[User]:
    """Who tasks, action items and drills can be given to: the community's staff."""
    return selectors.people_choices(community_id)


def _person(community_id: int, person_id: int | None) -> User | None:
    if person_id is None:
        return None
    return _people(community_id).filter(pk=person_id).first()


def _plan_url(emergency_plan_id: int) -> str | None:
    """The plans page of a plan, when the plans pages are there."""
    try:
        return reverse("plans:detail", args=[emergency_plan_id])
    except NoReverseMatch:
        return None


def _detail_url(incident: Incident, anchor: str = "") -> str:
    url = reverse("incidents:detail", args=[incident.pk])
    return f"{url}#{anchor}" if anchor else url


def _linkable_alarms(
    scope: Scope, incident: Incident, linked: list[Alarm]
) -> list[tuple[int, str]]:
    """Open or recent alarms of the community not linked yet, for the "link alarm" form."""
    if incident.state != IncidentState.OPEN:
        return []
    linked_ids = {alarm.pk for alarm in linked}
    since = timezone.now() - LINKABLE_ALARMS_SINCE
    candidates = alarm_selectors.alarm_list(scope, community_id=incident.community_id)
    recent = list(candidates.filter(raised_at__gte=since)[:50])
    still_open = list(
        alarm_selectors.alarm_list(scope, community_id=incident.community_id, open_only=True)[:50]
    )
    seen: set[int] = set()
    choices: list[tuple[int, str]] = []
    for alarm in [*still_open, *recent]:
        if alarm.pk in linked_ids or alarm.pk in seen:
            continue
        seen.add(alarm.pk)
        raised = timezone.localtime(alarm.raised_at).strftime("%m-%d %H:%M")
        choices.append(
            (alarm.pk, f"#{alarm.pk} P{alarm.priority} {alarm.display_title} · {raised}")
        )
    return choices


def _workable(scope: Scope, incident: Incident, view: selectors.CommandView) -> set[int]:
    """The tasks the person may complete or skip."""
    workable: set[int] = set()
    for task_view in view.tasks:
        # The same incident object: asking about each task costs no query.
        task_view.task.incident = incident
        if selectors.may_work_task(scope, task_view.task):
            workable.add(task_view.task.pk)
    return workable


def _may_revise_plan(scope: Scope, incident: Incident) -> bool:
    """Whether the person may open a draft of the plan the incident followed."""
    return incident.plan_version is not None and plan_selectors.may_manage(
        scope, incident.community_id
    )


def _elapsed_seconds(incident: Incident, now: dt.datetime) -> int:
    end = incident.closed_at or now
    return max(0, int((end - incident.declared_at).total_seconds()))


def _command_context(
    request: HttpRequest,
    scope: Scope,
    incident: Incident,
    *,
    task_error: dict[str, Any] | None = None,
    bound: dict[str, forms.Form] | None = None,
) -> dict[str, Any]:
    """Everything the command view and its task checklist show."""
    now = timezone.now()
    user = page_user(request)
    view = selectors.command_view(incident, now=now)
    can_manage = selectors.may_manage(scope, incident.community_id)
    is_open = incident.state == IncidentState.OPEN
    people = list(_people(incident.community_id)) if can_manage else []
    bound = bound or {}
    context: dict[str, Any] = {
        "incident": incident,
        "view": view,
        "can_manage": can_manage,
        "is_open": is_open,
        "me": user,
        "people": people,
        "task_error": task_error or {},
        "elapsed_seconds": _elapsed_seconds(incident, now),
        "labels": {"due": _("due in"), "late": _("late by")},
        "plan_url": (
            _plan_url(incident.plan_version.plan_id) if incident.plan_version is not None else None
        ),
        "may_act_on": _workable(scope, incident, view),
        "may_note": selectors.may_add_note(scope, incident),
        "may_revise_plan": _may_revise_plan(scope, incident),
    }
    if context["may_note"]:
        context["note_form"] = bound.get("note") or NoteForm()
    if is_open:
        if can_manage:
            context["task_add_form"] = bound.get("task_add") or TaskAddForm(people=people)
            context["alarm_form"] = bound.get("alarm") or AlarmLinkForm(
                alarms=_linkable_alarms(scope, incident, list(view.alarms))
            )
            context["participant_form"] = bound.get("participant") or ParticipantForm(people=people)
    elif can_manage:
        review = view.review
        context["review_form"] = bound.get("review") or ReviewForm(
            initial={
                "what_worked": review.what_worked if review else "",
                "what_did_not": review.what_did_not if review else "",
            }
        )
        context["action_item_form"] = bound.get("action_item") or ActionItemForm(
            people=people, prefix="item", may_revise=context["may_revise_plan"]
        )
    return context


def _render_command(
    request: HttpRequest,
    scope: Scope,
    incident: Incident,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = _command_context(request, scope, incident, **extra)
    return render(request, "incidents/detail.html", context, status=status)


def _render_tasks(
    request: HttpRequest, scope: Scope, incident: Incident, **extra: Any
) -> HttpResponse:
    """The task checklist alone (an htmx swap); a changed incident also refreshes the
    timeline through the ``incident-changed`` event."""
    context = _command_context(request, scope, incident, **extra)
    # The figures at the top of the page change with the tasks: swapped in beside them.
    context["oob"] = True
    response = render(request, "incidents/_tasks.html", context)
    if not extra.get("task_error"):
        response["HX-Trigger"] = CHANGED
    return response


# --------------------------------------------------------------------------- list


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents and drills: the open ones first, then the closed ones, with filters."""
    scope = page_scope(request)
    communities = list(selectors.incident_communities(scope))
    visible = selectors.incidents_visible(scope)
    # People in an incident (a volunteer in a drill) see it without following the community.
    if not communities and not visible.exists():
        raise PermissionDenied
    form = ListFilterForm(request.GET or None, communities=communities)
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    drill = values.get("is_drill") or ""
    incidents = selectors.incidents_visible(
        scope,
        community_id=values.get("community"),
        state=values.get("state") or None,
        is_drill=None if not drill else drill == "1",
    )
    open_incidents = list(incidents.filter(state=IncidentState.OPEN))
    page, query = paginate(request, incidents.filter(state=IncidentState.CLOSED), per_page=30)
    return render(
        request,
        "incidents/list.html",
        {
            "form": form,
            "open_incidents": open_incidents,
            "page": page,
            "query": query,
            "can_declare": selectors.manage_communities(scope).exists(),
            "several_communities": len(communities) > 1,
        },
    )


# --------------------------------------------------------------------------- declare


def _declare_community(
    request: HttpRequest, scope: Scope, data: Any
) -> tuple[list[Community], Community]:
    communities = list(selectors.manage_communities(scope))
    if not communities:
        raise PermissionDenied
    by_id = {community.pk: community for community in communities}
    wanted = int_param((data if data is not None else request.GET).get("community"))
    chosen = current_community(request, scope)
    community = by_id.get(wanted or 0) or (
        chosen if chosen is not None and chosen.pk in by_id else communities[0]
    )
    return communities, community


@login_required
def declare(request: HttpRequest) -> HttpResponse:
    """Declare an incident by hand, or start a drill (``?drill=1``)."""
    scope = page_scope(request)
    data = request.POST if request.method == "POST" else None
    communities, community = _declare_community(request, scope, data)
    zones = Zone.objects.filter(community=community).order_by("name", "id")
    people = _people(community.pk)
    drill = request.GET.get("drill") == "1"
    form = DeclareForm(
        data,
        communities=communities,
        zones=zones,
        people=people,
        initial={"community": community.pk, "is_drill": drill},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            values = form.cleaned_data
            try:
                incident = services.incident_declare(
                    actor=page_user(request),
                    scope=scope,
                    community=community,
                    incident_type=values["incident_type"],
                    title=values["title"],
                    description=values["description"],
                    is_drill=values["is_drill"],
                    zone=zones.filter(pk=values["zone"] or 0).first(),
                    latitude=values["latitude"],
                    longitude=values["longitude"],
                    participants=list(people.filter(pk__in=values["participants"])),
                )
            except ServiceError as error:
                attach_service_error(form, error, {"latitude": "point", "longitude": "point"})
            else:
                if incident.is_drill:
                    messages.success(request, _("The drill has started."))
                else:
                    messages.success(request, _("The incident was declared."))
                return redirect("incidents:detail", incident.pk)
        drill = bool(form.data.get("is_drill"))
    places_url = f"{reverse('places:map_geojson')}?{urlencode({'community': community.pk})}"
    return render(
        request,
        "incidents/declare.html",
        {
            "form": form,
            "community": community,
            "drill": drill,
            "context_geojson_url": places_url,
        },
        status=status,
    )


@login_required
@require_POST
def declare_from_alarm(request: HttpRequest, alarm_id: int) -> HttpResponse:
    """One click on an alarm: declare the incident it shows (or open the one already running)."""
    scope = page_scope(request)
    alarm = alarm_selectors.alarm_get(scope, alarm_id)
    running = selectors.alarm_open_incident(alarm)
    if running is not None and selectors.may_view(scope, running):
        messages.info(request, _("An incident is already open for this alarm."))
        return redirect("incidents:detail", running.pk)
    try:
        incident = services.incident_declare_from_alarm(
            actor=page_user(request), scope=scope, alarm=alarm
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("alarms:alarm_detail", alarm.pk)
    messages.success(request, _("The incident was declared; its tasks are assigned."))
    return redirect("incidents:detail", incident.pk)


# --------------------------------------------------------------------------- command view


@login_required
@require_GET
def detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The command view: tasks with timers, linked alarms, map, timeline, review."""
    scope = page_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    return _render_command(request, scope, incident)


@login_required
@require_GET
def tasks_fragment(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The task checklist alone, refreshed by htmx."""
    scope = page_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    context = _command_context(request, scope, incident)
    context["oob"] = True
    return render(request, "incidents/_tasks.html", context)


@login_required
@require_GET
def timeline_fragment(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The timeline alone, polled by htmx every few seconds."""
    scope = page_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    return render(
        request,
        "incidents/_timeline.html",
        {"incident": incident, "timeline": selectors.timeline(incident)},
    )


def _point_feature(point: dict[str, Any]) -> dict[str, Any]:
    kind = str(point.get("kind", ""))
    properties = {
        "name": point.get("label", ""),
        "status": MAP_KIND_STATUS.get(kind, "unknown"),
        "status_label": point.get("kind_label") or point.get("label", ""),
        "kind": kind,
    }
    if point.get("url"):
        properties["url"] = point["url"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]},
        "properties": properties,
    }


@login_required
@require_GET
def map_zones(request: HttpRequest, incident_id: int) -> JsonResponse:
    """The incident's zones (its own and the plan's evacuation zones) as GeoJSON."""
    scope = page_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    view = selectors.command_view(incident)
    return JsonResponse({"type": "FeatureCollection", "features": list(view.zones)})


@login_required
@require_GET
def map_points(request: HttpRequest, incident_id: int) -> JsonResponse:
    """The incident's points (its place, the linked alarms, the assembly point) as GeoJSON."""
    scope = page_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    view = selectors.command_view(incident)
    features = [
        _point_feature(point)
        for point in view.map_points
        if point.get("lat") is not None and point.get("lon") is not None
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


# --------------------------------------------------------------------------- tasks


DONE = {
    "complete": _("Task done."),
    "skip": _("Task marked not needed."),
    "reassign": _("Task given to someone else."),
}


@login_required
@require_POST
def task_action(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    """Complete, skip (with a note) or reassign one task; the assignee may complete or skip
    their own. htmx gets the checklist back; a plain form post gets the page."""
    if action not in TASK_ACTIONS:
        raise Http404
    scope = page_scope(request)
    user = page_user(request)
    task: IncidentTask = selectors.task_get(scope, task_id)
    incident = task.incident
    form: forms.Form
    if action == "complete":
        form = CompleteForm(request.POST, prefix=f"task-{task.pk}")
    elif action == "skip":
        form = SkipForm(request.POST, prefix=f"task-{task.pk}")
    else:
        form = ReassignForm(
            request.POST, prefix=f"task-{task.pk}", people=_people(incident.community_id)
        )
    error: str | None = None
    if form.is_valid():
        values = form.cleaned_data
        try:
            if action == "complete":
                services.task_complete(actor=user, scope=scope, task=task, note=values["note"])
            elif action == "skip":
                services.task_skip(actor=user, scope=scope, task=task, note=values["note"])
            else:
                assignee = _person(incident.community_id, values["assignee"])
                if assignee is None:
                    raise ServiceError(_("Choose a person."), field="assignee")
                services.task_reassign(actor=user, scope=scope, task=task, assignee=assignee)
        except ServiceError as service_error:
            error = str(service_error.message)
    else:
        error = " ".join(
            str(message) for messages_ in form.errors.values() for message in messages_
        )
    incident = selectors.incident_get(scope, incident.pk)
    if error is None:
        if is_htmx(request):
            return _render_tasks(request, scope, incident)
        messages.success(request, DONE[action])
        return redirect(_detail_url(incident, f"task-{task.pk}"))
    task_error = {
        "task_id": task.pk,
        "action": action,
        "message": error,
        "note": request.POST.get(f"task-{task.pk}-note", ""),
    }
    if is_htmx(request):
        # htmx swaps only successful answers: the checklist comes back with the error in it.
        return _render_tasks(request, scope, incident, task_error=task_error)
    messages.error(request, error)
    return _render_command(request, scope, incident, task_error=task_error, status=400)


# --------------------------------------------------------------------------- incident actions


def _incident_action(
    request: HttpRequest,
    incident_id: int,
    name: str,
    make_form: Any,
    run: Any,
    *,
    done: str,
    anchor: str,
) -> HttpResponse:
    """A small form posted from the command view: run the service, or show the form again
    with its error and what was typed."""
    scope = page_scope(request)
    user = page_user(request)
    incident = selectors.incident_get(scope, incident_id)
    form = make_form(scope, incident)
    if form.is_valid():
        try:
            run(scope, user, incident, form.cleaned_data)
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect(_detail_url(incident, anchor))
    return _render_command(request, scope, incident, bound={name: form}, status=400)


@login_required
@require_POST
def note_add(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Add a note to the timeline."""
    return _incident_action(
        request,
        incident_id,
        "note",
        lambda scope, incident: NoteForm(request.POST),
        lambda scope, user, incident, data: services.note_add(
            actor=user, scope=scope, incident=incident, text=data["text"]
        ),
        done=_("Note added to the timeline."),
        anchor="timeline",
    )


@login_required
@require_POST
def task_add(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Add a task the plan did not foresee."""

    def run(scope: Scope, user: User, incident: Incident, data: dict[str, Any]) -> None:
        minutes = data["due_in_minutes"]
        services.task_add(
            actor=user,
            scope=scope,
            incident=incident,
            title=data["title"],
            instructions=data["instructions"],
            assignee=_person(incident.community_id, data["assignee"]),
            due_at=timezone.now() + dt.timedelta(minutes=minutes) if minutes else None,
        )

    return _incident_action(
        request,
        incident_id,
        "task_add",
        lambda scope, incident: TaskAddForm(request.POST, people=_people(incident.community_id)),
        run,
        done=_("Task added."),
        anchor="tasks",
    )


@login_required
@require_POST
def alarm_link(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Link another alarm to the incident."""

    def run(scope: Scope, user: User, incident: Incident, data: dict[str, Any]) -> None:
        alarm = (
            alarm_selectors.alarm_list(scope, community_id=incident.community_id)
            .filter(pk=data["alarm"])
            .first()
        )
        if alarm is None:
            raise ServiceError(_("Choose an alarm of this community."), field="alarm")
        services.alarm_link(actor=user, scope=scope, incident=incident, alarm=alarm)

    def make_form(scope: Scope, incident: Incident) -> AlarmLinkForm:
        view = selectors.command_view(incident)
        return AlarmLinkForm(
            request.POST, alarms=_linkable_alarms(scope, incident, list(view.alarms))
        )

    return _incident_action(
        request,
        incident_id,
        "alarm",
        make_form,
        run,
        done=_("Alarm linked."),
        anchor="alarms",
    )


@login_required
@require_POST
def participant_add(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Add a participant (of a drill, mostly)."""

    def run(scope: Scope, user: User, incident: Incident, data: dict[str, Any]) -> None:
        person = _person(incident.community_id, data["person"])
        if person is None:
            raise ServiceError(_("Choose a person."), field="person")
        services.participant_add(
            actor=user, scope=scope, incident=incident, person=person, role_note=data["role_note"]
        )

    return _incident_action(
        request,
        incident_id,
        "participant",
        lambda scope, incident: ParticipantForm(
            request.POST, people=_people(incident.community_id)
        ),
        run,
        done=_("Participant added."),
        anchor="participants",
    )


# --------------------------------------------------------------------------- closing and review


def _attach_close_error(form: ReviewForm, items: Any, error: ServiceError) -> None:
    """Show a refusal of closing beside what it concerns: a review field, or the action item
    rows (the service names an item's field, not its row: a refused plan revision goes on
    every row asking for one, anything else on the first written row)."""
    field = error.field or ""
    written = [row for row in items if not row.is_blank]
    if field not in ActionItemForm.base_fields or not written:
        attach_service_error(form, error)
        return
    rows = [row for row in written if row.cleaned_data.get(field)] or written[:1]
    for row in rows:
        row.add_error(field if field in row.fields else None, str(error.message))


@login_required
def close(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Close the incident with its after-action review and action items."""
    scope = page_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    if not selectors.may_manage(scope, incident.community_id):
        raise PermissionDenied
    if incident.state != IncidentState.OPEN:
        messages.info(request, _("This incident is already closed."))
        return redirect(_detail_url(incident, "review"))
    people = list(_people(incident.community_id))
    data = request.POST if request.method == "POST" else None
    form = ReviewForm(data)
    may_revise = _may_revise_plan(scope, incident)
    items = ActionItemFormSet(
        data, prefix="items", form_kwargs={"people": people, "may_revise": may_revise}
    )
    status = 200
    if data is not None:
        status = 400
        if form.is_valid() and items.is_valid():
            by_id = {person.pk: person for person in people}
            drafts = [
                services.ActionItemDraft(
                    description=row.cleaned_data["description"],
                    owner=by_id[row.cleaned_data["owner"]],
                    due_on=row.cleaned_data["due_on"],
                    revise_plan=bool(row.cleaned_data.get("revise_plan")),
                )
                for row in items
                if not row.is_blank and row.cleaned_data["owner"] in by_id
            ]
            try:
                services.incident_close(
                    actor=page_user(request),
                    scope=scope,
                    incident=incident,
                    what_worked=form.cleaned_data["what_worked"],
                    what_did_not=form.cleaned_data["what_did_not"],
                    action_items=drafts,
                )
            except ServiceError as error:
                _attach_close_error(form, items, error)
            else:
                messages.success(request, _("Closed; the review is written."))
                return redirect(_detail_url(incident, "review"))
    view = selectors.command_view(incident)
    return render(
        request,
        "incidents/close.html",
        {
            "incident": incident,
            "view": view,
            "form": form,
            "items": items,
            "may_revise": may_revise,
        },
        status=status,
    )


@login_required
@require_POST
def review_edit(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Rewrite the after-action review of a closed incident."""
    return _incident_action(
        request,
        incident_id,
        "review",
        lambda scope, incident: ReviewForm(request.POST),
        lambda scope, user, incident, data: services.review_update(
            actor=user,
            scope=scope,
            incident=incident,
            what_worked=data["what_worked"],
            what_did_not=data["what_did_not"],
        ),
        done=_("The review was saved."),
        anchor="review",
    )


@login_required
@require_POST
def action_item_add(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Add an action item to the review of a closed incident."""

    def run(scope: Scope, user: User, incident: Incident, data: dict[str, Any]) -> None:
        owner = _person(incident.community_id, data["owner"])
        if not data["description"]:
            raise ServiceError(_("Say what is to be done."), field="description")
        if owner is None:
            raise ServiceError(_("Choose who owns this action."), field="owner")
        services.action_item_add(
            actor=user,
            scope=scope,
            incident=incident,
            draft=services.ActionItemDraft(
                description=data["description"],
                owner=owner,
                due_on=data["due_on"],
                revise_plan=bool(data.get("revise_plan")),
            ),
        )

    return _incident_action(
        request,
        incident_id,
        "action_item",
        lambda scope, incident: ActionItemForm(
            request.POST,
            people=_people(incident.community_id),
            prefix="item",
            may_revise=_may_revise_plan(scope, incident),
        ),
        run,
        done=_("Action item added."),
        anchor="review",
    )


@login_required
@require_POST
def action_item_done(request: HttpRequest, item_id: int) -> HttpResponse:
    """Mark an action item done."""
    scope = page_scope(request)
    item: ActionItem = selectors.action_item_get(scope, item_id)
    incident = item.review.incident
    try:
        services.action_item_done(actor=page_user(request), scope=scope, item=item)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Action item done."))
    return redirect(_detail_url(incident, f"item-{item.pk}"))


@login_required
@require_POST
def action_item_revise_plan(request: HttpRequest, item_id: int) -> HttpResponse:
    """Open a new draft of the incident's plan, pre-filled, for an action item; then go to
    the plan's page to write it."""
    scope = page_scope(request)
    item: ActionItem = selectors.action_item_get(scope, item_id)
    incident = item.review.incident
    try:
        version = services.action_item_revise_plan(actor=page_user(request), scope=scope, item=item)
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect(_detail_url(incident, f"item-{item.pk}"))
    messages.success(
        request, _("Draft version %(number)d of the plan is open.") % {"number": version.number}
    )
    plan_url = _plan_url(version.plan_id)
    return redirect(plan_url or _detail_url(incident, f"item-{item.pk}"))

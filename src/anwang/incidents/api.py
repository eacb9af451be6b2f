"""JSON API of the incidents domain: incidents and drills of a community, declaring (by hand or
from an alarm), the command view with its timeline (and the newer lines, for live refresh),
tasks, notes, alarms, participants, closing with the after-action review, and action items
that revise the plan.

Reads are scoped: an incident the caller may not see is 404 (incident staff see their
communities' incidents; anyone else only those they have a task in, take part in or own an
action item of). Writes go through :mod:`anwang.incidents.services`: declaring, running and
closing need the manage-incidents permission (403 for those who may only follow incidents);
a task's assignee may complete or skip it and add notes. A closed incident refuses changes
with 409; bad input is 400 with the field in ``errors``.
"""

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import Membership, User
from anwang.alarms import selectors as alarm_selectors
from anwang.alarms.models import Alarm
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.incidents import selectors, services
from anwang.incidents.choices import IncidentState
from anwang.incidents.models import Incident
from anwang.incidents.schemas import (
    ActionItemIn,
    ActionItemOut,
    AlarmLinkIn,
    CloseIn,
    DeclareFromAlarmIn,
    IncidentDetailOut,
    IncidentIn,
    IncidentNoteIn,
    IncidentOut,
    LogEntryOut,
    ParticipantIn,
    ParticipantOut,
    PlanDraftOut,
    ReassignIn,
    ReviewIn,
    ReviewOut,
    TaskDoneIn,
    TaskIn,
    TaskOut,
    TaskSkipIn,
)
from anwang.places.models import Zone

router = Router(tags=["incidents"])
PAGE_SIZE = 50


def _person(community_id: int, person_id: int | None, field: str) -> User | None:
    """A member of the community by id; an id from elsewhere names nobody (400)."""
    if person_id is None:
        return None
    members = Membership.objects.filter(community_id=community_id).values("user_id")
    person = User.objects.filter(pk=person_id, pk__in=members, is_active=True).first()
    if person is None:
        raise ServiceError(_("Choose a person of this community."), field=field)
    return person


def _alarm(community_id: int, alarm_id: int, field: str) -> Alarm:
    alarm = Alarm.objects.filter(pk=alarm_id, community_id=community_id).first()
    if alarm is None:
        raise ServiceError(_("Choose an alarm of this community."), field=field)
    return alarm


def _detail(request: HttpRequest, incident: Incident) -> IncidentDetailOut:
    fresh = selectors.incident_get(request_scope(request), incident.pk)
    return IncidentDetailOut.of_view(selectors.command_view(fresh))


def _drafts(community_id: int, payload: list[ActionItemIn]) -> list[services.ActionItemDraft]:
    drafts = []
    for item in payload:
        owner = _person(community_id, item.owner_id, "owner")
        assert owner is not None
        drafts.append(
            services.ActionItemDraft(
                description=item.description,
                owner=owner,
                due_on=item.due_on,
                revise_plan=item.revise_plan,
            )
        )
    return drafts


# --------------------------------------------------------------------------- incidents


@router.get(
    "/communities/{community_id}/incidents",
    response=list[IncidentOut],
    summary="List incidents and drills",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def incident_list(
    request: HttpRequest,
    community_id: int,
    state: IncidentState | None = None,
    is_drill: bool | None = None,
) -> QuerySet[Incident]:
    """The community's incidents and drills the caller may see, newest first."""
    scope = request_scope(request)
    incidents = selectors.incidents_visible(
        scope, community_id=community_id, state=state, is_drill=is_drill
    )
    if not selectors.may_follow(scope, community_id) and not incidents.exists():
        raise Http404
    return incidents


@router.post(
    "/communities/{community_id}/incidents",
    response={201: IncidentDetailOut},
    summary="Declare an incident or a drill",
)
def incident_declare(
    request: HttpRequest, community_id: int, payload: IncidentIn
) -> Status[IncidentDetailOut]:
    """Declare an incident (or a drill): the steps of the plan in force become tasks for
    whoever is on duty in each step's duty role."""
    scope = request_scope(request)
    community = selectors.community_get(scope, community_id)
    zone = None
    if payload.zone_id is not None:
        zone = Zone.objects.filter(pk=payload.zone_id, community=community).first()
        if zone is None:
            raise ServiceError(_("Choose a zone of this community."), field="zone_id")
    alarm = (
        _alarm(community.pk, payload.alarm_id, "alarm_id") if payload.alarm_id is not None else None
    )
    participants = [
        person
        for person_id in payload.participant_ids
        if (person := _person(community.pk, person_id, "participant_ids")) is not None
    ]
    incident = services.incident_declare(
        actor=request_actor(request),
        scope=scope,
        community=community,
        incident_type=payload.incident_type,
        title=payload.title,
        description=payload.description,
        is_drill=payload.is_drill,
        zone=zone,
        latitude=payload.latitude,
        longitude=payload.longitude,
        alarm=alarm,
        participants=participants,
    )
    return Status(201, _detail(request, incident))


@router.post(
    "/alarms/{alarm_id}/incident",
    response={201: IncidentDetailOut},
    summary="Declare an incident from an alarm",
)
def incident_declare_from_alarm(
    request: HttpRequest, alarm_id: int, payload: DeclareFromAlarmIn
) -> Status[IncidentDetailOut]:
    """One click on an alarm: the incident type is guessed from it, its zone and position
    taken from it; 409 naming the open incident when the alarm already has one."""
    scope = request_scope(request)
    alarm = alarm_selectors.alarm_get(scope, alarm_id)
    incident = services.incident_declare_from_alarm(
        actor=request_actor(request), scope=scope, alarm=alarm, is_drill=payload.is_drill
    )
    return Status(201, _detail(request, incident))


@router.get("/incidents/{incident_id}", response=IncidentDetailOut, summary="An incident")
def incident_get(request: HttpRequest, incident_id: int) -> IncidentDetailOut:
    """An incident with its tasks and timers, linked alarms, timeline, participants, map,
    review and action items."""
    incident = selectors.incident_get(request_scope(request), incident_id)
    return IncidentDetailOut.of_view(selectors.command_view(incident))


@router.get(
    "/incidents/{incident_id}/timeline",
    response=list[LogEntryOut],
    summary="An incident's timeline",
)
def incident_timeline(
    request: HttpRequest, incident_id: int, after: int | None = None
) -> list[LogEntryOut]:
    """The timeline in order; with ``after`` (a line's id) only the newer lines, for a live
    refresh of the command view."""
    incident = selectors.incident_get(request_scope(request), incident_id)
    return [LogEntryOut.of(entry) for entry in selectors.timeline(incident, after=after)]


@router.post("/incidents/{incident_id}/notes", response={201: LogEntryOut}, summary="Add a note")
def note_add(
    request: HttpRequest, incident_id: int, payload: IncidentNoteIn
) -> Status[LogEntryOut]:
    """Add a note to the timeline (incident managers and anyone with a task in it)."""
    scope = request_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    entry = services.note_add(
        actor=request_actor(request), scope=scope, incident=incident, text=payload.text
    )
    return Status(201, LogEntryOut.of(entry))


@router.post(
    "/incidents/{incident_id}/alarms",
    response={201: IncidentDetailOut},
    summary="Link an alarm",
)
def alarm_link(
    request: HttpRequest, incident_id: int, payload: AlarmLinkIn
) -> Status[IncidentDetailOut]:
    """Link another alarm of the community to the incident."""
    scope = request_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    alarm = _alarm(incident.community_id, payload.alarm_id, "alarm_id")
    services.alarm_link(actor=request_actor(request), scope=scope, incident=incident, alarm=alarm)
    return Status(201, _detail(request, incident))


@router.post(
    "/incidents/{incident_id}/participants",
    response={201: ParticipantOut},
    summary="Add a participant",
)
def participant_add(
    request: HttpRequest, incident_id: int, payload: ParticipantIn
) -> Status[ParticipantOut]:
    """Record that someone of the community takes part."""
    scope = request_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    person = _person(incident.community_id, payload.person_id, "person_id")
    assert person is not None
    participant = services.participant_add(
        actor=request_actor(request),
        scope=scope,
        incident=incident,
        person=person,
        role_note=payload.role_note,
    )
    return Status(201, ParticipantOut.of(participant))


@router.post("/incidents/{incident_id}/tasks", response={201: TaskOut}, summary="Add a task")
def task_add(request: HttpRequest, incident_id: int, payload: TaskIn) -> Status[TaskOut]:
    """Add a task the plan did not foresee."""
    scope = request_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    task = services.task_add(
        actor=request_actor(request),
        scope=scope,
        incident=incident,
        title=payload.title,
        instructions=payload.instructions,
        duty_role=payload.duty_role or "",
        assignee=_person(incident.community_id, payload.assignee_id, "assignee_id"),
        due_at=payload.due_at,
    )
    return Status(201, TaskOut.of(selectors.task_view(task, timezone.now())))


@router.post(
    "/incidents/{incident_id}/close", response=IncidentDetailOut, summary="Close with a review"
)
def incident_close(request: HttpRequest, incident_id: int, payload: CloseIn) -> IncidentDetailOut:
    """Close the incident with its after-action review; open tasks are marked not needed; an
    action item with ``revise_plan`` opens a draft of the plan; a drill counts as training."""
    scope = request_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    services.incident_close(
        actor=request_actor(request),
        scope=scope,
        incident=incident,
        what_worked=payload.what_worked,
        what_did_not=payload.what_did_not,
        action_items=_drafts(incident.community_id, payload.action_items),
    )
    return _detail(request, incident)


@router.patch("/incidents/{incident_id}/review", response=ReviewOut, summary="Rewrite the review")
def review_update(request: HttpRequest, incident_id: int, payload: ReviewIn) -> ReviewOut:
    """Rewrite the after-action review of a closed incident."""
    scope = request_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    review = services.review_update(
        actor=request_actor(request),
        scope=scope,
        incident=incident,
        what_worked=payload.what_worked,
        what_did_not=payload.what_did_not,
    )
    return ReviewOut.of(review)


@router.post(
    "/incidents/{incident_id}/action-items",
    response={201: ActionItemOut},
    summary="Add an action item",
)
def action_item_add(
    request: HttpRequest, incident_id: int, payload: ActionItemIn
) -> Status[ActionItemOut]:
    """Add an action item to a closed incident's review."""
    scope = request_scope(request)
    incident = selectors.incident_get(scope, incident_id)
    [draft] = _drafts(incident.community_id, [payload])
    item = services.action_item_add(
        actor=request_actor(request), scope=scope, incident=incident, draft=draft
    )
    return Status(201, ActionItemOut.of(item, incident.pk))


# --------------------------------------------------------------------------- tasks


@router.post(
    "/incident-tasks/{incident_task_id}/complete", response=TaskOut, summary="Complete a task"
)
def task_complete(request: HttpRequest, incident_task_id: int, payload: TaskDoneIn) -> TaskOut:
    """Mark a task done (its assignee or an incident manager)."""
    scope = request_scope(request)
    task = selectors.task_get(scope, incident_task_id)
    task = services.task_complete(
        actor=request_actor(request), scope=scope, task=task, note=payload.note
    )
    return TaskOut.of(selectors.task_view(selectors.task_get(scope, task.pk), timezone.now()))


@router.post("/incident-tasks/{incident_task_id}/skip", response=TaskOut, summary="Skip a task")
def task_skip(request: HttpRequest, incident_task_id: int, payload: TaskSkipIn) -> TaskOut:
    """Mark a task not needed, saying why (its assignee or an incident manager)."""
    scope = request_scope(request)
    task = selectors.task_get(scope, incident_task_id)
    task = services.task_skip(
        actor=request_actor(request), scope=scope, task=task, note=payload.note
    )
    return TaskOut.of(selectors.task_view(selectors.task_get(scope, task.pk), timezone.now()))


@router.post(
    "/incident-tasks/{incident_task_id}/reassign", response=TaskOut, summary="Reassign a task"
)
def task_reassign(request: HttpRequest, incident_task_id: int, payload: ReassignIn) -> TaskOut:
    """Hand an open task to another person of the community."""
    scope = request_scope(request)
    task = selectors.task_get(scope, incident_task_id)
    assignee = _person(task.incident.community_id, payload.assignee_id, "assignee_id")
    assert assignee is not None
    task = services.task_reassign(
        actor=request_actor(request), scope=scope, task=task, assignee=assignee
    )
    return TaskOut.of(selectors.task_view(selectors.task_get(scope, task.pk), timezone.now()))


# --------------------------------------------------------------------------- action items


@router.post(
    "/action-items/{action_item_id}/done", response=ActionItemOut, summary="Action item done"
)
def action_item_done(request: HttpRequest, action_item_id: int) -> ActionItemOut:
    """Mark an action item done (its owner or an incident manager)."""
    scope = request_scope(request)
    item = selectors.action_item_get(scope, action_item_id)
    incident_id = item.review.incident_id
    services.action_item_done(actor=request_actor(request), scope=scope, item=item)
    return ActionItemOut.of(selectors.action_item_get(scope, item.pk), incident_id)


@router.post(
    "/action-items/{action_item_id}/revise-plan",
    response=PlanDraftOut,
    summary="Revise the plan from an action item",
)
def action_item_revise_plan(request: HttpRequest, action_item_id: int) -> PlanDraftOut:
    """Open a draft of the incident's plan, pre-filled from the version it followed, with the
    action item as its change note (the same draft when asked again)."""
    scope = request_scope(request)
    item = selectors.action_item_get(scope, action_item_id)
    version = services.action_item_revise_plan(actor=request_actor(request), scope=scope, item=item)
    return PlanDraftOut(
        id=version.pk,
        plan_id=version.plan_id,
        number=version.number,
        status=version.status,
        change_note=version.change_note,
    )

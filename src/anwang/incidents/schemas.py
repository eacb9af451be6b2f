"""Request and response bodies of the incidents API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from anwang.accounts.models import User
from anwang.core.schemas import PersonOut
from anwang.incidents.choices import IncidentState, LogKind, TaskStatus
from anwang.incidents.models import (
    ActionItem,
    AfterActionReview,
    Incident,
    IncidentLogEntry,
    IncidentParticipant,
)
from anwang.incidents.selectors import CommandView, TaskView
from anwang.plans.choices import IncidentType
from anwang.rosters.choices import DutyRole

# --------------------------------------------------------------------------- responses


def _name(user: User | None) -> str | None:
    if user is None:
        return None
    return user.display_name or user.username


class TaskOut(Schema):
    """One task with its timer."""

    id: int
    position: int
    title: str
    instructions: str
    step_id: int | None
    duty_role: DutyRole | None
    duty_role_label: str
    assignee: PersonOut | None
    due_at: datetime | None
    status: TaskStatus
    status_label: str
    done_at: datetime | None
    done_by: PersonOut | None
    note: str
    escalated_at: datetime | None
    late: bool = Field(description="Open and past its due time.")
    seconds_left: int | None = Field(
        description="Seconds until due (negative when late); null when done or without a due time."
    )

    @staticmethod
    def of(view: TaskView) -> TaskOut:
        """The task as the API shows it."""
        task = view.task
        return TaskOut(
            id=task.pk,
            position=task.position,
            title=task.title,
            instructions=task.instructions,
            step_id=task.step_id,
            duty_role=DutyRole(task.duty_role) if task.duty_role else None,
            duty_role_label=str(DutyRole(task.duty_role).label) if task.duty_role else "",
            assignee=PersonOut.of(task.assignee),
            due_at=task.due_at,
            status=TaskStatus(task.status),
            status_label=str(TaskStatus(task.status).label),
            done_at=task.done_at,
            done_by=PersonOut.of(task.done_by),
            note=task.note,
            escalated_at=task.escalated_at,
            late=view.late,
            seconds_left=view.seconds_left,
        )


class LogEntryOut(Schema):
    """One line of the timeline."""

    id: int
    at: datetime
    kind: LogKind
    kind_label: str
    text: str
    actor: str | None = Field(description="Who did it; null for the system.")
    task_id: int | None
    alarm_id: int | None

    @staticmethod
    def of(entry: IncidentLogEntry) -> LogEntryOut:
        """The line as the API shows it."""
        return LogEntryOut(
            id=entry.pk,
            at=entry.at,
            kind=LogKind(entry.kind),
            kind_label=str(LogKind(entry.kind).label),
            text=entry.text,
            actor=_name(entry.actor),
            task_id=entry.task_id,
            alarm_id=entry.alarm_id,
        )


class ParticipantOut(Schema):
    """Someone taking part."""

    person: PersonOut
    role_note: str
    added_at: datetime

    @staticmethod
    def of(participant: IncidentParticipant) -> ParticipantOut:
        """The participant as the API shows them."""
        person = PersonOut.of(participant.person)
        assert person is not None
        return ParticipantOut(
            person=person, role_note=participant.role_note, added_at=participant.added_at
        )


class ActionItemOut(Schema):
    """An action item of the review."""

    id: int
    incident_id: int
    description: str
    owner: PersonOut
    due_on: date | None
    done_at: datetime | None
    plan_version_id: int | None = Field(description="The plan draft it opened, if any.")

    @staticmethod
    def of(item: ActionItem, incident_id: int) -> ActionItemOut:
        """The item as the API shows it."""
        owner = PersonOut.of(item.owner)
        assert owner is not None
        return ActionItemOut(
            id=item.pk,
            incident_id=incident_id,
            description=item.description,
            owner=owner,
            due_on=item.due_on,
            done_at=item.done_at,
            plan_version_id=item.plan_version_id,
        )


class ReviewOut(Schema):
    """The after-action review."""

    what_worked: str
    what_did_not: str
    written_by: str | None
    written_at: datetime

    @staticmethod
    def of(review: AfterActionReview) -> ReviewOut:
        """The review as the API shows it."""
        return ReviewOut(
            what_worked=review.what_worked,
            what_did_not=review.what_did_not,
            written_by=_name(review.written_by),
            written_at=review.written_at,
        )


class IncidentOut(Schema):
    """An incident (or drill) in a list."""

    id: int
    community_id: int
    incident_type: IncidentType
    incident_type_label: str
    title: str
    description: str
    is_drill: bool
    state: IncidentState
    state_label: str
    plan_version_id: int | None
    plan_version_number: int | None
    zone_id: int | None
    latitude: float | None
    longitude: float | None
    declared_at: datetime
    declared_by: str | None
    closed_at: datetime | None
    training_drill_id: int | None = Field(description="The training record of a closed drill.")

    # Lists validate the model itself: these give its derived fields (a dict, as the detail
    # passes, already has them).
    @staticmethod
    def resolve_incident_type_label(obj: Any) -> str:
        if isinstance(obj, dict):
            return str(obj["incident_type_label"])
        return str(IncidentType(obj.incident_type).label)

    @staticmethod
    def resolve_state_label(obj: Any) -> str:
        if isinstance(obj, dict):
            return str(obj["state_label"])
        return str(IncidentState(obj.state).label)

    @staticmethod
    def resolve_plan_version_number(obj: Any) -> int | None:
        if isinstance(obj, dict):
            return obj["plan_version_number"]  # type: ignore[no-any-return]
        return obj.plan_version.number if obj.plan_version is not None else None

    @staticmethod
    def resolve_declared_by(obj: Any) -> str | None:
        if isinstance(obj, dict):
            return obj["declared_by"]  # type: ignore[no-any-return]
        return _name(obj.declared_by)

    @staticmethod
    def fields_of(incident: Incident) -> dict[str, Any]:
        """The list fields of an incident."""
        version = incident.plan_version
        return {
            "id": incident.pk,
            "community_id": incident.community_id,
            "incident_type": IncidentType(incident.incident_type),
            "incident_type_label": str(IncidentType(incident.incident_type).label),
            "title": incident.title,
            "description": incident.description,
            "is_drill": incident.is_drill,
            "state": IncidentState(incident.state),
            "state_label": str(IncidentState(incident.state).label),
            "plan_version_id": incident.plan_version_id,
            "plan_version_number": version.number if version is not None else None,
            "zone_id": incident.zone_id,
            "latitude": incident.latitude,
            "longitude": incident.longitude,
            "declared_at": incident.declared_at,
            "declared_by": _name(incident.declared_by),
            "closed_at": incident.closed_at,
            "training_drill_id": incident.training_drill_id,
        }

    @staticmethod
    def of(incident: Incident) -> IncidentOut:
        """The incident as a list shows it."""
        return IncidentOut(**IncidentOut.fields_of(incident))


class MapPointOut(Schema):
    """A point of the command view's map (WGS84)."""

    lat: float
    lon: float
    label: str
    kind: str = Field(description="incident, alarm or assembly.")


class IncidentDetailOut(IncidentOut):
    """An incident with everything its command view shows."""

    tasks: list[TaskOut]
    done_count: int
    late_count: int
    alarm_ids: list[int]
    timeline: list[LogEntryOut]
    participants: list[ParticipantOut]
    review: ReviewOut | None
    action_items: list[ActionItemOut]
    map_points: list[MapPointOut]
    zones: list[dict[str, Any]] = Field(
        description="GeoJSON features: zones to evacuate and the incident's zone."
    )

    @staticmethod
    def of_view(view: CommandView) -> IncidentDetailOut:
        """The command view as the API shows it."""
        incident = view.incident
        return IncidentDetailOut(
            **IncidentOut.fields_of(incident),
            tasks=[TaskOut.of(task) for task in view.tasks],
            done_count=view.done_count,
            late_count=view.late_count,
            alarm_ids=[alarm.pk for alarm in view.alarms],
            timeline=[LogEntryOut.of(entry) for entry in view.timeline],
            participants=[ParticipantOut.of(person) for person in view.participants],
            review=ReviewOut.of(view.review) if view.review is not None else None,
            action_items=[ActionItemOut.of(item, incident.pk) for item in view.action_items],
            map_points=[MapPointOut(**point) for point in view.map_points],
            zones=view.zones,
        )


class PlanDraftOut(Schema):
    """The plan draft an action item opened."""

    id: int
    plan_id: int
    number: int
    status: str
    change_note: str


# --------------------------------------------------------------------------- requests


class IncidentIn(Schema):
    """Declare an incident or a drill."""

    incident_type: IncidentType
    title: str = ""
    description: str = ""
    is_drill: bool = False
    zone_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    alarm_id: int | None = Field(None, description="An alarm of the community to link.")
    participant_ids: list[int] = Field(default_factory=list)


class DeclareFromAlarmIn(Schema):
    """Declare an incident from an alarm."""

    is_drill: bool = False


class IncidentNoteIn(Schema):
    """A note for the timeline."""

    text: str


class AlarmLinkIn(Schema):
    """An alarm of the community to link."""

    alarm_id: int


class ParticipantIn(Schema):
    """Someone of the community who takes part."""

    person_id: int
    role_note: str = ""


class TaskIn(Schema):
    """A task added by hand; without an assignee it goes to whoever is on duty in the role."""

    title: str
    instructions: str = ""
    duty_role: DutyRole | None = None
    assignee_id: int | None = None
    due_at: datetime | None = None


class TaskDoneIn(Schema):
    """Completing a task, with an optional note."""

    note: str = ""


class TaskSkipIn(Schema):
    """Skipping a task, saying why."""

    note: str


class ReassignIn(Schema):
    """Whom to hand a task to."""

    assignee_id: int


class ActionItemIn(Schema):
    """An action item of the review."""

    description: str
    owner_id: int
    due_on: date | None = None
    revise_plan: bool = Field(
        False, description="Open a draft of the plan with this item as its change note."
    )


class CloseIn(Schema):
    """Close the incident with its after-action review."""

    what_worked: str = ""
    what_did_not: str = ""
    action_items: list[ActionItemIn] = Field(default_factory=list)


class ReviewIn(Schema):
    """Rewrite the after-action review."""

    what_worked: str = ""
    what_did_not: str = ""

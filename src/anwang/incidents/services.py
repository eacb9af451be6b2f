"""Writes of the incidents domain: declaring an incident (or a drill), working its tasks,
linking alarms, notes, closing it with an after-action review, and the worker's check.

Declaring copies the steps of the plan version in force into tasks: each is due its step's
target minutes after the declaration and goes to the first person on duty in the step's duty
role at that moment (nobody on duty: the people answering for the incident's zone; still
nobody: unassigned). The incident keeps that version even when a newer one is approved later.
The timeline (:class:`IncidentLogEntry`) records everything; every write also goes to the
audit log in the same transaction.

Who may do what: :attr:`Permission.MANAGE_INCIDENTS` in the community declares, runs and
closes incidents; a task's assignee may complete or skip their own task and anyone assigned a
task may add notes, without that permission. Others get 403 when they can see the incident
and 404 otherwise. ``actor`` and ``scope`` both ``None`` is the system itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, acts_platform_wide, authorize, service_scope
from anwang.alarms.models import Alarm
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import clean_text, service_now
from anwang.incidents.choices import IncidentState, LogKind, TaskStatus
from anwang.incidents.models import (
    ActionItem,
    AfterActionReview,
    Incident,
    IncidentAlarm,
    IncidentLogEntry,
    IncidentParticipant,
    IncidentTask,
)
from anwang.places.models import Community, Zone
from anwang.plans.choices import IncidentType
from anwang.plans.models import PlanVersion
from anwang.rosters.choices import DutyRole

log = logging.getLogger("anwang.incidents")

TITLE_MAX: Final = 200
TEXT_MAX: Final = 4000
ROLE_NOTE_MAX: Final = 100
MAX_TASK_DUE: Final = dt.timedelta(days=30)

INCIDENT_FIELDS: Final = (
    "incident_type",
    "title",
    "description",
    "is_drill",
    "plan_version",
    "state",
    "zone",
    "latitude",
    "longitude",
    "declared_at",
    "closed_at",
    "training_drill",
)
TASK_FIELDS: Final = (
    "title",
    "duty_role",
    "assignee",
    "due_at",
    "status",
    "done_at",
    "done_by",
    "note",
    "escalated_at",
)

#: Alarm words, in the order they are tried, and the incident type each suggests (a gas
#: alarm that also mentions smoke is a gas leak first).
ALARM_TYPE_HINTS: Final[tuple[tuple[tuple[str, ...], IncidentType], ...]] = (
    (("gas", "燃气", "煤气"), IncidentType.GAS_LEAK),
    (("smoke", "fire", "烟", "火"), IncidentType.FIRE),
    (("water_leak", "water leak", "flood", "漏水", "水浸", "积水"), IncidentType.FLOODING),
    (("panic", "sos", "medical", "求救", "急救"), IncidentType.MEDICAL),
    (
        (
            "intrusion",
            "line_crossing",
            "door forced",
            "door_forced",
            "forced",
            "perimeter",
            "person",
            "入侵",
            "越界",
            "周界",
            "强行",
        ),
        IncidentType.INTRUSION,
    ),
)

#: The training drill kind a closed drill of each incident type is recorded as.
DRILL_KINDS: Final[dict[str, str]] = {
    IncidentType.FIRE: "fire_evacuation",
    IncidentType.GAS_LEAK: "gas_leak",
    IncidentType.FLOODING: "flood",
}


@dataclass(frozen=True)
class ActionItemDraft:
    """An action item as written in a review, before it is saved."""

    description: str
    owner: User
    due_on: dt.date | None = None
    revise_plan: bool = False


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_INCIDENTS,
        community_id=community_id,
        visible_with=Permission.VIEW_INCIDENTS,
    )


def _is_manager(actor: User | None, scope: Scope | None, community_id: int) -> bool:
    resolved = service_scope(actor, scope)
    return (
        resolved is None
        or acts_platform_wide(resolved)
        or resolved.has(Permission.MANAGE_INCIDENTS, community_id)
    )


def _require_manage_or(
    actor: User | None, scope: Scope | None, incident: Incident, allowed: bool
) -> None:
    """Managers may, and so may the person ``allowed`` says may; others get 403 when they
    can see the incident and 404 when they cannot."""
    if _is_manager(actor, scope, incident.community_id) or allowed:
        return
    from anwang.incidents.selectors import may_view

    resolved = service_scope(actor, scope)
    if resolved is not None and may_view(resolved, incident):
        raise PermissionDenied
    raise Http404


def _in_community(actor: User | None, scope: Scope | None, community_id: int) -> bool:
    """Whether the caller belongs to the community (a token for another one does not)."""
    resolved = service_scope(actor, scope)
    if resolved is None or acts_platform_wide(resolved):
        return True
    return community_id in resolved.community_ids()


def _require_open(incident: Incident) -> None:
    if incident.state != IncidentState.OPEN:
        raise ConflictError(
            _("This incident is closed; it can no longer be changed."), code="closed"
        )


def _member(community_id: int, person: User | None, field: str) -> User:
    if person is None:
        raise ServiceError(_("Choose a person."), field=field)
    if (
        not person.is_active
        or not Membership.objects.filter(user=person, community_id=community_id).exists()
    ):
        raise ServiceError(_("Choose a person of this community."), field=field)
    return person


def _log(
    incident: Incident,
    kind: str,
    *,
    at: dt.datetime,
    actor: User | None,
    text: str = "",
    task: IncidentTask | None = None,
    alarm: Alarm | None = None,
) -> IncidentLogEntry:
    return IncidentLogEntry.objects.create(
        incident=incident, at=at, actor=actor, kind=kind, text=text, task=task, alarm=alarm
    )


def _audit(
    actor: User | None,
    action: str,
    obj: Any,
    community_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        community_id=community_id,
        changes=diff(before or {}, after or {}),
    )


def _tell(
    incident: Incident,
    people: Sequence[User],
    *,
    kind: str,
    title: str,
    at: dt.datetime,
    task: IncidentTask | None = None,
) -> None:
    """Notify people through the outbox (in the caller's transaction) and say so on the
    timeline. A real incident ignores quiet hours; a drill does not wake anyone."""
    from anwang.notifications.services import notify

    people = [person for person in dict.fromkeys(people) if person.is_active]
    if not people:
        return
    notify(
        recipients=people,
        kind=kind,
        title=title,
        body=incident.title,
        url=reverse("incidents:detail", args=[incident.pk]),
        community=incident.community,
        priority=1 if not incident.is_drill else 3,
        urgent=not incident.is_drill,
        source=task or incident,
        now=at,
    )
    _log(
        incident,
        LogKind.MESSAGE_SENT,
        at=at,
        actor=None,
        text=_("Notified %(people)s: %(title)s")
        % {"people": ", ".join(_person_name(person) for person in people), "title": title},
        task=task,
    )


def _tell_assigned(incident: Incident, task: IncidentTask, at: dt.datetime) -> None:
    if task.assignee is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Your task: %(task)s") % {"task": task.title}
    _tell(incident, [task.assignee], kind="incident.task", title=title, at=at, task=task)


def _person_name(person: User | None) -> str:
    if person is None:
        return _("nobody")
    return str(person.display_name or person.get_username())


def _lock_task(task: IncidentTask) -> IncidentTask:
    return IncidentTask.objects.select_for_update().select_related("incident").get(pk=task.pk)


def _lock_incident(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


# --------------------------------------------------------------------------- assignment


class _Roster:
    """Who is on duty at one moment in one community, asked once per duty role."""

    def __init__(self, community_id: int, at: dt.datetime) -> None:
        self.community_id = community_id
        self.at = at
        self._by_role: dict[str, list[User]] = {}

    def people(self, duty_role: str) -> list[User]:
        if duty_role not in self._by_role:
            from anwang.rosters.selectors import on_duty

            people: list[User] = []
            for duty in on_duty(community_id=self.community_id, at=self.at, duty_role=duty_role):
                if duty.person.is_active and duty.person not in people:
                    people.append(duty.person)
            self._by_role[duty_role] = people
        return self._by_role[duty_role]


def _responsible(community_id: int, zone_id: int | None, at: dt.datetime) -> list[User]:
    if zone_id is None:
        return []
    from anwang.responsibilities.selectors import responsible_people

    return list(responsible_people(community_id=community_id, zone_id=zone_id, at=at))


def _pick_assignee(roster: _Roster, duty_role: str, zone_id: int | None) -> tuple[User | None, str]:
    """The person to take a task in that duty role, and how they were found (for the
    timeline)."""
    if duty_role:
        people = roster.people(duty_role)
        if people:
            return people[0], _("on duty as %(role)s") % {"role": DutyRole(duty_role).label}
    responsible = _responsible(roster.community_id, zone_id, roster.at)
    if responsible:
        return responsible[0], _("answers for the incident's zone")
    return None, _("nobody is on duty in this role: assign it by hand")


def _assigned_text(task: IncidentTask, how: str) -> str:
    return _("“%(task)s” assigned to %(person)s (%(how)s).") % {
        "task": task.title,
        "person": _person_name(task.assignee),
        "how": how,
    }


# --------------------------------------------------------------------------- declaring


def _incident_type(value: Any) -> str:
    if value not in IncidentType.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in IncidentType.labels)},
            field="incident_type",
        )
    return str(value)


def _coordinate(name: str, value: Any, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Enter a number."), field=name) from error
    if not low <= number <= high:  # also refuses NaN
        raise ServiceError(
            _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
            field=name,
        )
    return number


def _default_title(incident_type: str, is_drill: bool) -> str:
    label = str(IncidentType(incident_type).label)
    return _("Drill: %(type)s") % {"type": label} if is_drill else label


def _open_incident_of(alarm: Alarm) -> Incident | None:
    return (
        Incident.objects.filter(alarm_links__alarm=alarm, state=IncidentState.OPEN)
        .order_by("-declared_at", "-id")
        .first()
    )


def _refuse_second_incident(alarm: Alarm) -> None:
    existing = _open_incident_of(alarm)
    if existing is not None:
        raise ConflictError(
            _("This alarm already has an open incident: “%(title)s” (no. %(id)d).")
            % {"title": existing.title, "id": existing.pk},
            code="incident_open",
        )


def incident_declare(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    incident_type: str,
    title: str = "",
    description: str = "",
    is_drill: bool = False,
    zone: Zone | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    alarm: Alarm | None = None,
    participants: Sequence[User] = (),
    now: dt.datetime | None = None,
) -> Incident:
    """Declare an incident (or a drill): the steps of the plan version in force become tasks
    for whoever is on duty in each step's duty role now."""
    _require_manage(actor, scope, community.pk)
    at = service_now(now)
    incident_type = _incident_type(incident_type)
    title = clean_text("title", title, limit=TITLE_MAX, required=False) or _default_title(
        incident_type, is_drill
    )
    description = clean_text("description", description, limit=TEXT_MAX, required=False)
    if zone is not None and zone.community_id != community.pk:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    latitude = _coordinate("latitude", latitude, -90.0, 90.0)
    longitude = _coordinate("longitude", longitude, -180.0, 180.0)
    if (latitude is None) != (longitude is None):
        raise ServiceError(_("Give both latitude and longitude, or neither."), field="latitude")
    if alarm is not None:
        if alarm.community_id != community.pk:
            raise ServiceError(_("Choose an alarm of this community."), field="alarm")
        _refuse_second_incident(alarm)
    people = [_member(community.pk, person, "participants") for person in participants]

    from anwang.plans.selectors import approved_version

    version = approved_version(community.pk, incident_type)
    with transaction.atomic():
        if alarm is not None:
            # Two operators clicking at once: the second waits for the first and is refused.
            Alarm.objects.select_for_update().filter(pk=alarm.pk).first()
            _refuse_second_incident(alarm)
        incident = Incident.objects.create(
            community=community,
            incident_type=incident_type,
            title=title,
            description=description,
            is_drill=bool(is_drill),
            plan_version=version,
            zone=zone,
            latitude=latitude,
            longitude=longitude,
            declared_at=at,
            declared_by=actor,
        )
        _audit(actor, "incident.declare", incident, community.pk, {}, _incident_snapshot(incident))
        if version is None:
            declared = _(
                "Declared. There is no approved plan for this incident type: add the tasks by hand."
            )
        else:
            declared = _("Declared with plan “%(plan)s”, version %(number)d.") % {
                "plan": version.plan.title,
                "number": version.number,
            }
        _log(incident, LogKind.DECLARED, at=at, actor=actor, text=declared)
        if alarm is not None:
            _link(incident, alarm, actor=actor, at=at)
        roster = _Roster(community.pk, at)
        steps = list(version.steps.all()) if version is not None else []
        for step in steps:
            assignee, how = _pick_assignee(roster, step.duty_role, incident.zone_id)
            task = IncidentTask.objects.create(
                incident=incident,
                step=step,
                position=step.position,
                title=step.title,
                instructions=step.instructions,
                duty_role=step.duty_role,
                assignee=assignee,
                due_at=at + dt.timedelta(minutes=step.target_minutes),
            )
            # The roster chose, not a person: the shift check may hand it on at a shift change.
            _log(
                incident,
                LogKind.TASK_ASSIGNED,
                at=at,
                actor=None,
                text=_assigned_text(task, how),
                task=task,
            )
            _tell_assigned(incident, task, at)
        for person in people:
            _participant(incident, person, role_note="", actor=actor, at=at)
    return incident


def guess_incident_type(alarm: Alarm) -> str:
    """The incident type an alarm most likely means, from its rule, the values that made it
    fire, the kinds of its device events and its title; ``other`` when nothing fits."""
    words: list[str] = [alarm.title or ""]
    rule = alarm.rule
    if rule is not None:
        words += [rule.name, rule.description, str(rule.condition)]
    words.append(str(alarm.why or ""))
    from anwang.alarms.models import AlarmEvent

    words += [
        str(kind)
        for kind in AlarmEvent.objects.filter(alarm=alarm)
        .values_list("device_event__kind", flat=True)
        .distinct()[:20]
    ]
    text = " ".join(words).lower()
    for hints, incident_type in ALARM_TYPE_HINTS:
        for hint in hints:
            # ASCII hints match whole words ("gas" not in "vegas"); Chinese ones anywhere.
            pattern = rf"(?<![a-z]){re.escape(hint)}(?![a-z])" if hint.isascii() else hint
            if re.search(pattern, text):
                return incident_type.value
    return IncidentType.OTHER.value


def incident_declare_from_alarm(
    *,
    actor: User | None,
    scope: Scope | None = None,
    alarm: Alarm,
    is_drill: bool = False,
    now: dt.datetime | None = None,
) -> Incident:
    """Declare an incident from an alarm in one click: its type guessed from the alarm, its
    zone and position from the alarm's zone and device; refused while the alarm already has
    an open incident."""
    _require_manage(actor, scope, alarm.community_id)
    _refuse_second_incident(alarm)
    device = alarm.device
    zone = alarm.zone or (device.zone if device is not None else None)
    latitude = longitude = None
    if device is not None and device.latitude is not None and device.longitude is not None:
        latitude, longitude = device.latitude, device.longitude
    else:
        from anwang.alarms.selectors import alarm_position

        position = alarm_position(alarm)
        if position is not None:
            longitude, latitude = position
    incident_type = guess_incident_type(alarm)
    label = str(IncidentType(incident_type).label)
    title = f"{label} · {alarm.title}"[:TITLE_MAX]
    if is_drill:
        title = (_("Drill: %(type)s") % {"type": title})[:TITLE_MAX]
    return incident_declare(
        actor=actor,
        scope=scope,
        community=alarm.community,
        incident_type=incident_type,
        title=title,
        is_drill=is_drill,
        zone=zone,
        latitude=latitude,
        longitude=longitude,
        alarm=alarm,
        now=now,
    )


def _incident_snapshot(incident: Incident) -> dict[str, Any]:
    return snapshot(incident, INCIDENT_FIELDS)


# --------------------------------------------------------------------------- tasks


def _may_work_task(actor: User | None, scope: Scope | None, task: IncidentTask) -> bool:
    return (
        actor is not None
        and task.assignee_id == actor.pk
        and _in_community(actor, scope, task.incident.community_id)
    )


def _finish_task(
    *,
    actor: User | None,
    scope: Scope | None,
    task: IncidentTask,
    status: str,
    note: str,
    now: dt.datetime | None,
) -> IncidentTask:
    incident = task.incident
    _require_manage_or(actor, scope, incident, _may_work_task(actor, scope, task))
    at = service_now(now)
    with transaction.atomic():
        task = _lock_task(task)
        _require_open(task.incident)
        if task.status != TaskStatus.OPEN:
            raise ConflictError(
                _("This task is already “%(status)s”.") % {"status": task.get_status_display()},
                code="wrong_status",
            )
        before = snapshot(task, TASK_FIELDS)
        task.status = status
        task.done_at = at
        task.done_by = actor
        task.note = note
        task.save(update_fields=["status", "done_at", "done_by", "note"])
        if status == TaskStatus.DONE:
            kind, text = LogKind.TASK_DONE, _("“%(task)s” done.") % {"task": task.title}
        else:
            kind, text = LogKind.TASK_SKIPPED, _("“%(task)s” not needed.") % {"task": task.title}
        if note:
            text = f"{text} {note}"
        _log(task.incident, kind, at=at, actor=actor, text=text, task=task)
        _audit(
            actor,
            f"incident_task.{'complete' if status == TaskStatus.DONE else 'skip'}",
            task,
            task.incident.community_id,
            before,
            snapshot(task, TASK_FIELDS),
        )
    return task


def task_complete(
    *,
    actor: User | None,
    scope: Scope | None = None,
    task: IncidentTask,
    note: str = "",
    now: dt.datetime | None = None,
) -> IncidentTask:
    """Mark a task done (its assignee or an incident manager)."""
    note = clean_text("note", note, limit=TEXT_MAX, required=False)
    return _finish_task(
        actor=actor, scope=scope, task=task, status=TaskStatus.DONE, note=note, now=now
    )


def task_skip(
    *,
    actor: User | None,
    scope: Scope | None = None,
    task: IncidentTask,
    note: str,
    now: dt.datetime | None = None,
) -> IncidentTask:
    """Mark a task not needed, saying why (its assignee or an incident manager)."""
    note = clean_text("note", note, limit=TEXT_MAX, required=True)
    return _finish_task(
        actor=actor, scope=scope, task=task, status=TaskStatus.SKIPPED, note=note, now=now
    )


def task_reassign(
    *,
    actor: User | None,
    scope: Scope | None = None,
    task: IncidentTask,
    assignee: User,
    now: dt.datetime | None = None,
) -> IncidentTask:
    """Hand an open task to someone else by hand; the shift check then leaves it with them."""
    _require_manage(actor, scope, task.incident.community_id)
    at = service_now(now)
    assignee = _member(task.incident.community_id, assignee, "assignee")
    with transaction.atomic():
        task = _lock_task(task)
        _require_open(task.incident)
        if task.status != TaskStatus.OPEN:
            raise ConflictError(
                _("This task is already “%(status)s”.") % {"status": task.get_status_display()},
                code="wrong_status",
            )
        before = snapshot(task, TASK_FIELDS)
        task.assignee = assignee
        task.save(update_fields=["assignee"])
        _log(
            task.incident,
            LogKind.TASK_ASSIGNED,
            at=at,
            actor=actor,
            text=_assigned_text(task, _("by hand")),
            task=task,
        )
        _tell_assigned(task.incident, task, at)
        _audit(
            actor,
            "incident_task.reassign",
            task,
            task.incident.community_id,
            before,
            snapshot(task, TASK_FIELDS),
        )
    return task


def task_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    incident: Incident,
    title: str,
    instructions: str = "",
    duty_role: str = "",
    assignee: User | None = None,
    due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> IncidentTask:
    """Add a task the plan did not foresee; without an assignee it goes to whoever is on duty
    in its duty role."""
    _require_manage(actor, scope, incident.community_id)
    at = service_now(now)
    title = clean_text("title", title, limit=TITLE_MAX, required=True)
    instructions = clean_text("instructions", instructions, limit=TEXT_MAX, required=False)
    duty_role = duty_role or ""
    if duty_role and duty_role not in DutyRole.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in DutyRole.labels)},
            field="duty_role",
        )
    if assignee is not None:
        assignee = _member(incident.community_id, assignee, "assignee")
    if due_at is not None:
        if not isinstance(due_at, dt.datetime) or timezone.is_naive(due_at):
            raise ServiceError(_("Give a time with its time zone."), field="due_at")
        if not at - dt.timedelta(minutes=1) <= due_at <= at + MAX_TASK_DUE:
            raise ServiceError(_("Choose a time from now to 30 days ahead."), field="due_at")
    with transaction.atomic():
        incident = _lock_incident(incident)
        _require_open(incident)
        by_hand = assignee is not None
        how = _("by hand") if by_hand else ""
        if not by_hand and duty_role:
            assignee, how = _pick_assignee(
                _Roster(incident.community_id, at), duty_role, incident.zone_id
            )
        last = incident.tasks.aggregate(last=Max("position"))["last"] or 0
        task = IncidentTask.objects.create(
            incident=incident,
            position=last + 1,
            title=title,
            instructions=instructions,
            duty_role=duty_role,
            assignee=assignee,
            due_at=due_at,
        )
        _log(
            incident,
            LogKind.TASK_ADDED,
            at=at,
            actor=actor,
            text=_("Task added: “%(task)s”.") % {"task": task.title},
            task=task,
        )
        if how:
            _log(
                incident,
                LogKind.TASK_ASSIGNED,
                # A hand-picked person stays; one found on the roster follows the shifts.
                actor=actor if by_hand else None,
                at=at,
                text=_assigned_text(task, how),
                task=task,
            )
            _tell_assigned(incident, task, at)
        _audit(
            actor, "incident_task.add", task, incident.community_id, {}, snapshot(task, TASK_FIELDS)
        )
    return task


# --------------------------------------------------------------------------- notes, alarms, people


def note_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    incident: Incident,
    text: str,
    now: dt.datetime | None = None,
) -> IncidentLogEntry:
    """Add a note to the timeline (incident managers and anyone with a task in it)."""
    involved = (
        actor is not None
        and _in_community(actor, scope, incident.community_id)
        and incident.tasks.filter(assignee=actor).exists()
    )
    _require_manage_or(actor, scope, incident, involved)
    at = service_now(now)
    text = clean_text("text", text, limit=TEXT_MAX, required=True)
    _require_open(incident)
    with transaction.atomic():
        entry = _log(incident, LogKind.NOTE, at=at, actor=actor, text=text)
        _audit(actor, "incident.note", incident, incident.community_id, {}, {"note": text})
    return entry


def _link(
    incident: Incident, alarm: Alarm, *, actor: User | None, at: dt.datetime
) -> IncidentAlarm:
    link = IncidentAlarm.objects.create(
        incident=incident, alarm=alarm, linked_at=at, linked_by=actor
    )
    _log(
        incident,
        LogKind.ALARM_LINKED,
        at=at,
        actor=actor,
        text=_("Alarm linked: %(alarm)s") % {"alarm": alarm.title},
        alarm=alarm,
    )
    _audit(actor, "incident.alarm_link", incident, incident.community_id, {}, {"alarm": alarm.pk})
    return link


def alarm_link(
    *,
    actor: User | None,
    scope: Scope | None = None,
    incident: Incident,
    alarm: Alarm,
    now: dt.datetime | None = None,
) -> IncidentAlarm:
    """Link another alarm of the community to the incident."""
    _require_manage(actor, scope, incident.community_id)
    at = service_now(now)
    if alarm.community_id != incident.community_id:
        raise ServiceError(_("Choose an alarm of this community."), field="alarm")
    with transaction.atomic():
        incident = _lock_incident(incident)
        _require_open(incident)
        if incident.alarm_links.filter(alarm=alarm).exists():
            raise ConflictError(
                _("This alarm is already linked to the incident."), code="duplicate"
            )
        return _link(incident, alarm, actor=actor, at=at)


def _participant(
    incident: Incident, person: User, *, role_note: str, actor: User | None, at: dt.datetime
) -> IncidentParticipant:
    participant = IncidentParticipant.objects.create(
        incident=incident, person=person, role_note=role_note, added_at=at
    )
    text = _("%(person)s takes part.") % {"person": _person_name(person)}
    if role_note:
        text = f"{text} ({role_note})"
    _log(incident, LogKind.PARTICIPANT, at=at, actor=actor, text=text)
    _audit(
        actor,
        "incident.participant_add",
        incident,
        incident.community_id,
        {},
        {"participant": person.pk, "role_note": role_note},
    )
    return participant


def participant_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    incident: Incident,
    person: User,
    role_note: str = "",
    now: dt.datetime | None = None,
) -> IncidentParticipant:
    """Record that someone takes part (a closed drill counts as training for them)."""
    _require_manage(actor, scope, incident.community_id)
    at = service_now(now)
    person = _member(incident.community_id, person, "person")
    role_note = clean_text("role_note", role_note, limit=ROLE_NOTE_MAX, required=False)
    with transaction.atomic():
        incident = _lock_incident(incident)
        if incident.participants.filter(person=person).exists():
            raise ConflictError(_("This person already takes part."), code="duplicate")
        return _participant(incident, person, role_note=role_note, actor=actor, at=at)


# --------------------------------------------------------------------------- closing and review


def _review_texts(what_worked: str, what_did_not: str) -> tuple[str, str]:
    worked = clean_text("what_worked", what_worked, limit=TEXT_MAX, required=False)
    did_not = clean_text("what_did_not", what_did_not, limit=TEXT_MAX, required=False)
    if not worked and not did_not:
        raise ServiceError(
            _("Write what worked or what did not work (or both)."), field="what_worked"
        )
    return worked, did_not


def _check_draft(community_id: int, draft: ActionItemDraft) -> tuple[str, User]:
    description = clean_text("description", draft.description, limit=TEXT_MAX, required=True)
    owner = _member(community_id, draft.owner, "owner")
    if draft.due_on is not None and not isinstance(draft.due_on, dt.date):
        raise ServiceError(_("Enter a date."), field="due_on")
    return description, owner


def _revise(
    *, actor: User | None, scope: Scope | None, incident: Incident, change_note: str
) -> PlanVersion:
    """Open (or extend) the draft of the incident's plan with the lesson as its change note."""
    if incident.plan_version is None:
        raise ServiceError(
            _("This incident followed no plan, so there is no plan to revise."),
            field="revise_plan",
        )
    from anwang.plans.services import plan_revision_draft

    try:
        return plan_revision_draft(
            actor=actor, scope=scope, version=incident.plan_version, change_note=change_note
        )
    except (PermissionDenied, Http404) as error:
        # Running incidents does not make one a plan writer: say so on the field.
        raise ServiceError(
            _(
                "You may not revise emergency plans: leave this unticked and ask someone who "
                "writes plans to open the draft from the action item."
            ),
            field="revise_plan",
        ) from error


def _save_item(
    *,
    actor: User | None,
    scope: Scope | None,
    incident: Incident,
    review: AfterActionReview,
    draft: ActionItemDraft,
    description: str,
    owner: User,
    at: dt.datetime,
) -> ActionItem:
    item = ActionItem.objects.create(
        review=review, description=description, owner=owner, due_on=draft.due_on
    )
    if draft.revise_plan:
        item.plan_version = _revise(
            actor=actor, scope=scope, incident=incident, change_note=description
        )
        item.save(update_fields=["plan_version"])
    _audit(
        actor,
        "action_item.add",
        item,
        incident.community_id,
        {},
        {
            "description": description,
            "owner": owner.pk,
            "due_on": draft.due_on,
            "plan_version": item.plan_version_id,
        },
    )
    return item


def _training_people(incident: Incident) -> list[User]:
    """Who a closed drill counts for: its participants and whoever did one of its tasks, if
    they belong to the community (the training record only takes its people)."""
    ids = set(incident.participants.values_list("person_id", flat=True))
    ids |= set(
        incident.tasks.filter(status=TaskStatus.DONE, done_by__isnull=False).values_list(
            "done_by_id", flat=True
        )
    )
    members = Membership.objects.filter(community_id=incident.community_id, user_id__in=ids).values(
        "user_id"
    )
    return list(User.objects.filter(pk__in=members, is_active=True).order_by("pk"))


def _record_training(incident: Incident, at: dt.datetime, summary: str) -> None:
    """A closed drill becomes a held training drill of its participants, through the training
    services (so points and audit entries come as for any drill). The system records it: the
    person closing the drill needs the incidents permission, not the training one."""
    from anwang.training import services as training

    drill = training.drill_create(
        actor=None,
        community=incident.community,
        kind=DRILL_KINDS.get(incident.incident_type, "other"),
        title=incident.title[:120],
        planned_at=incident.declared_at,
        zone=incident.zone,
        summary=summary[:10_000],
    )
    training.drill_set_participants(actor=None, drill=drill, users=_training_people(incident))
    training.drill_update(
        actor=None,
        drill=drill,
        started_at=incident.declared_at,
        alarm_raised_at=incident.declared_at,
        ended_at=max(at, incident.declared_at),
        status="held",
    )
    incident.training_drill = drill


def incident_close(
    *,
    actor: User | None,
    scope: Scope | None = None,
    incident: Incident,
    what_worked: str,
    what_did_not: str,
    action_items: Sequence[ActionItemDraft] = (),
    now: dt.datetime | None = None,
) -> Incident:
    """Close an incident with its after-action review. Tasks still open are marked not needed;
    an action item may open a draft of the plan; a closed drill counts as training for the
    people who took part."""
    _require_manage(actor, scope, incident.community_id)
    at = service_now(now)
    worked, did_not = _review_texts(what_worked, what_did_not)
    checked = [_check_draft(incident.community_id, draft) for draft in action_items]
    if any(draft.revise_plan for draft in action_items) and incident.plan_version is None:
        raise ServiceError(
            _("This incident followed no plan, so there is no plan to revise."),
            field="revise_plan",
        )
    with transaction.atomic():
        incident = _lock_incident(incident)
        _require_open(incident)
        before = _incident_snapshot(incident)
        for task in incident.tasks.filter(status=TaskStatus.OPEN):
            task.status = TaskStatus.SKIPPED
            task.done_at = at
            task.note = _("Closed with the incident.")
            task.save(update_fields=["status", "done_at", "note"])
            _log(
                incident,
                LogKind.TASK_SKIPPED,
                at=at,
                actor=actor,
                text=_("“%(task)s” not done: closed with the incident.") % {"task": task.title},
                task=task,
            )
        incident.state = IncidentState.CLOSED
        incident.closed_at = at
        incident.closed_by = actor
        review = AfterActionReview.objects.create(
            incident=incident,
            what_worked=worked,
            what_did_not=did_not,
            written_by=actor,
            written_at=at,
        )
        for draft, (description, owner) in zip(action_items, checked, strict=True):
            _save_item(
                actor=actor,
                scope=scope,
                incident=incident,
                review=review,
                draft=draft,
                description=description,
                owner=owner,
                at=at,
            )
        if incident.is_drill:
            _record_training(incident, at, "\n\n".join(part for part in (worked, did_not) if part))
        incident.save(update_fields=["state", "closed_at", "closed_by", "training_drill"])
        _log(incident, LogKind.CLOSED, at=at, actor=actor, text=_("Closed."))
        _log(
            incident,
            LogKind.REVIEWED,
            at=at,
            actor=actor,
            text=_("After-action review written with %(count)d action item(s).")
            % {"count": len(checked)},
        )
        _audit(
            actor,
            "incident.close",
            incident,
            incident.community_id,
            before,
            _incident_snapshot(incident),
        )
    return incident


def _review_of(incident: Incident) -> AfterActionReview:
    review = AfterActionReview.objects.filter(incident=incident).first()
    if review is None:
        raise ConflictError(
            _("The review is written when the incident is closed."), code="not_closed"
        )
    return review


def review_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    incident: Incident,
    what_worked: str,
    what_did_not: str,
    now: dt.datetime | None = None,
) -> AfterActionReview:
    """Rewrite the after-action review of a closed incident."""
    _require_manage(actor, scope, incident.community_id)
    at = service_now(now)
    worked, did_not = _review_texts(what_worked, what_did_not)
    with transaction.atomic():
        review = _review_of(incident)
        before = snapshot(review, ("what_worked", "what_did_not"))
        review.what_worked = worked
        review.what_did_not = did_not
        review.written_by = actor
        review.written_at = at
        review.save()
        after = snapshot(review, ("what_worked", "what_did_not"))
        if after != before:
            _log(incident, LogKind.REVIEWED, at=at, actor=actor, text=_("Review rewritten."))
            _audit(actor, "incident.review", incident, incident.community_id, before, after)
    return review


def action_item_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    incident: Incident,
    draft: ActionItemDraft,
    now: dt.datetime | None = None,
) -> ActionItem:
    """Add an action item to a closed incident's review."""
    _require_manage(actor, scope, incident.community_id)
    at = service_now(now)
    description, owner = _check_draft(incident.community_id, draft)
    with transaction.atomic():
        review = _review_of(incident)
        item = _save_item(
            actor=actor,
            scope=scope,
            incident=incident,
            review=review,
            draft=draft,
            description=description,
            owner=owner,
            at=at,
        )
        _log(
            incident,
            LogKind.REVIEWED,
            at=at,
            actor=actor,
            text=_("Action item added: %(item)s") % {"item": description},
        )
    return item


def _item_incident(item: ActionItem) -> Incident:
    return item.review.incident


def action_item_done(
    *,
    actor: User | None,
    scope: Scope | None = None,
    item: ActionItem,
    now: dt.datetime | None = None,
) -> ActionItem:
    """Mark an action item done (its owner or an incident manager)."""
    incident = _item_incident(item)
    owner = (
        actor is not None
        and item.owner_id == actor.pk
        and _in_community(actor, scope, incident.community_id)
    )
    _require_manage_or(actor, scope, incident, owner)
    at = service_now(now)
    with transaction.atomic():
        item = ActionItem.objects.select_for_update().get(pk=item.pk)
        if item.done_at is not None:
            raise ConflictError(_("This action item is already done."), code="wrong_status")
        item.done_at = at
        item.save(update_fields=["done_at"])
        _audit(
            actor,
            "action_item.done",
            item,
            incident.community_id,
            {"done_at": None},
            {"done_at": at},
        )
    return item


def action_item_revise_plan(
    *,
    actor: User | None,
    scope: Scope | None = None,
    item: ActionItem,
    now: dt.datetime | None = None,
) -> PlanVersion:
    """Open a draft of the incident's plan pre-filled from the version it followed, with the
    action item as its change note (once: later calls return the same draft)."""
    incident = _item_incident(item)
    owner = (
        actor is not None
        and item.owner_id == actor.pk
        and _in_community(actor, scope, incident.community_id)
    )
    _require_manage_or(actor, scope, incident, owner)
    service_now(now)
    with transaction.atomic():
        item = ActionItem.objects.select_for_update().get(pk=item.pk)
        if item.plan_version is not None:
            return item.plan_version
        version = _revise(actor=actor, scope=scope, incident=incident, change_note=item.description)
        item.plan_version = version
        item.save(update_fields=["plan_version"])
        _audit(
            actor,
            "action_item.revise_plan",
            item,
            incident.community_id,
            {"plan_version": None},
            {"plan_version": version.pk},
        )
    return version


# --------------------------------------------------------------------------- the worker's check


def _hand_assigned(task_ids: Iterable[int]) -> set[int]:
    """Tasks a person assigned by hand: the roster no longer decides who has them."""
    return set(
        IncidentLogEntry.objects.filter(
            task_id__in=list(task_ids), kind=LogKind.TASK_ASSIGNED, actor__isnull=False
        ).values_list("task_id", flat=True)
    )


def _escalation_targets(community_id: int, roster: _Roster) -> list[User]:
    """Who a late task goes to: the leader on duty and the community's admins."""
    people = list(roster.people(DutyRole.ON_DUTY_LEADER))
    admins = User.objects.filter(
        is_active=True,
        memberships__community_id=community_id,
        memberships__role=Role.COMMUNITY_ADMIN,
    ).distinct()
    for admin in admins.order_by("pk"):
        if admin not in people:
            people.append(admin)
    return people


def incident_tasks_check(*, now: dt.datetime | None = None) -> int:
    """The worker's check of open incidents' open tasks: at a shift change, a task the roster
    assigned goes to whoever holds its duty role now; a task past its due time is escalated
    once to the leader on duty and the community admins (they see it in 'my work'). Returns
    how many tasks changed. One query when nothing is open."""
    at = service_now(now)
    tasks = list(
        IncidentTask.objects.filter(status=TaskStatus.OPEN, incident__state=IncidentState.OPEN)
        .select_related("incident", "assignee")
        .order_by("incident_id", "position", "id")
    )
    if not tasks:
        return 0
    rosters: dict[int, _Roster] = {}
    targets_by_community: dict[int, list[User]] = {}
    pinned = _hand_assigned(task.pk for task in tasks if task.duty_role)
    changed = 0
    for task in tasks:
        incident = task.incident
        roster = rosters.setdefault(incident.community_id, _Roster(incident.community_id, at))
        updates: list[str] = []
        with transaction.atomic():
            if task.duty_role and task.pk not in pinned:
                holders = roster.people(task.duty_role)
                if holders and task.assignee not in holders:
                    before = snapshot(task, TASK_FIELDS)
                    task.assignee = holders[0]
                    updates.append("assignee")
                    _log(
                        incident,
                        LogKind.TASK_ASSIGNED,
                        at=at,
                        actor=None,
                        text=_("Shift change: %(text)s")
                        % {
                            "text": _assigned_text(
                                task,
                                _("on duty as %(role)s") % {"role": DutyRole(task.duty_role).label},
                            )
                        },
                        task=task,
                    )
                    _tell_assigned(incident, task, at)
                    _audit(
                        None,
                        "incident_task.shift_change",
                        task,
                        incident.community_id,
                        before,
                        snapshot(task, TASK_FIELDS),
                    )
            if task.due_at is not None and task.due_at <= at and task.escalated_at is None:
                task.escalated_at = at
                updates.append("escalated_at")
                if incident.community_id not in targets_by_community:
                    targets_by_community[incident.community_id] = _escalation_targets(
                        incident.community_id, roster
                    )
                targets = targets_by_community[incident.community_id]
                _log(
                    incident,
                    LogKind.TASK_LATE,
                    at=at,
                    actor=None,
                    text=_("“%(task)s” is late (%(person)s); escalated to %(targets)s.")
                    % {
                        "task": task.title,
                        "person": _person_name(task.assignee),
                        "targets": ", ".join(_person_name(person) for person in targets)
                        or _("nobody"),
                    },
                    task=task,
                )
                with translation.override(settings.LANGUAGE_CODE):
                    late_title = _("Late task: %(task)s (%(person)s)") % {
                        "task": task.title,
                        "person": _person_name(task.assignee),
                    }
                _tell(
                    incident, targets, kind="incident.task_late", title=late_title, at=at, task=task
                )
                _audit(
                    None,
                    "incident_task.escalate",
                    task,
                    incident.community_id,
                    {"escalated_at": None},
                    {"escalated_at": at, "to": [person.pk for person in targets]},
                )
            if updates:
                # Only if still open: a person may have finished it while this check ran.
                saved = IncidentTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
                    **{name: getattr(task, name) for name in updates}
                )
                if not saved:
                    transaction.set_rollback(True)
                    continue
                changed += 1
    if changed:
        log.info("Incident tasks: %d changed", changed)
    return changed

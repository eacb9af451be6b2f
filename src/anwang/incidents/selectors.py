"""Reads of the incidents domain: incidents the caller may see, the command view of one
(tasks with their timers, alarms, map, timeline), 'my work' items, a plan's last drill and
dashboard figures.

An incident is seen by those holding :attr:`Permission.VIEW_INCIDENTS` in its community and by
the people in it (a task's assignee, a participant, an action item's owner) who belong to the
community; everyone else gets 404, so another community's incidents are never revealed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.alarms.models import Alarm
from anwang.core.dashboard import Stat
from anwang.core.inbox import WorkItem
from anwang.incidents.choices import IncidentState, TaskStatus
from anwang.incidents.models import (
    ActionItem,
    AfterActionReview,
    Incident,
    IncidentLogEntry,
    IncidentParticipant,
    IncidentTask,
)
from anwang.places.models import Community
from anwang.plans.models import EmergencyPlan
from anwang.rosters.choices import DutyRole

TIMELINE_MAX = 500
"""Most timeline lines one read returns (the live refresh asks for the newer ones)."""


# --------------------------------------------------------------------------- who may do what


def may_manage(scope: Scope, community_id: int) -> bool:
    """Whether the caller may declare, run and close the community's incidents."""
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_INCIDENTS, community_id)


def may_follow(scope: Scope, community_id: int) -> bool:
    """Whether the caller may follow every incident of the community."""
    return acts_platform_wide(scope) or scope.has(Permission.VIEW_INCIDENTS, community_id)


def _involved_q(user_id: int) -> Q:
    return (
        Q(tasks__assignee_id=user_id)
        | Q(participants__person_id=user_id)
        | Q(review__action_items__owner_id=user_id)
    )


def may_view(scope: Scope, incident: Incident) -> bool:
    """Whether the caller may see the incident: its community's incident staff, and the people
    in it (assigned a task, taking part, owning an action item) who belong to the community."""
    if may_follow(scope, incident.community_id):
        return True
    if scope.user is None or incident.community_id not in scope.community_ids():
        return False
    return Incident.objects.filter(_involved_q(scope.user.pk), pk=incident.pk).exists()


def incidents_visible(
    scope: Scope,
    *,
    community_id: int | None = None,
    state: str | None = None,
    is_drill: bool | None = None,
) -> QuerySet[Incident]:
    """The incidents the caller may see, newest first, optionally of one community, in one
    state, drills or not."""
    incidents = Incident.objects.select_related(
        "community", "zone", "plan_version", "plan_version__plan", "declared_by"
    )
    if not acts_platform_wide(scope):
        if scope.user is None:
            return incidents.none()
        followed = scope.community_ids(Permission.VIEW_INCIDENTS)
        involved = Incident.objects.filter(
            _involved_q(scope.user.pk), community_id__in=scope.community_ids()
        ).values("pk")
        incidents = incidents.filter(Q(community_id__in=followed) | Q(pk__in=involved))
    if community_id is not None:
        incidents = incidents.filter(community_id=community_id)
    if state:
        incidents = incidents.filter(state=state)
    if is_drill is not None:
        incidents = incidents.filter(is_drill=is_drill)
    return incidents.order_by("-declared_at", "-id")


def incident_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose incidents the caller follows."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(pk__in=scope.community_ids(Permission.VIEW_INCIDENTS))


def manage_communities(scope: Scope) -> QuerySet[Community]:
    """The communities where the caller may declare incidents."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(pk__in=scope.community_ids(Permission.MANAGE_INCIDENTS))


def community_get(scope: Scope, community_id: int) -> Community:
    """A community whose incidents the caller follows; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not may_follow(scope, community_id):
        raise Http404
    return community


def incident_get(scope: Scope, incident_id: int) -> Incident:
    """One incident the caller may see (404 otherwise, also for other communities')."""
    incident = (
        Incident.objects.select_related(
            "community",
            "zone",
            "plan_version",
            "plan_version__plan",
            "declared_by",
            "closed_by",
            "training_drill",
        )
        .filter(pk=incident_id)
        .first()
    )
    if incident is None or not may_view(scope, incident):
        raise Http404
    return incident


def task_get(scope: Scope, task_id: int) -> IncidentTask:
    """One task of an incident the caller may see (404 otherwise)."""
    task = (
        IncidentTask.objects.select_related("incident", "incident__community", "assignee", "step")
        .filter(pk=task_id)
        .first()
    )
    if task is None or not may_view(scope, task.incident):
        raise Http404
    return task


def action_item_get(scope: Scope, item_id: int) -> ActionItem:
    """One action item of an incident the caller may see (404 otherwise)."""
    item = (
        ActionItem.objects.select_related(
            "review", "review__incident", "review__incident__community", "owner", "plan_version"
        )
        .filter(pk=item_id)
        .first()
    )
    if item is None or not may_view(scope, item.review.incident):
        raise Http404
    return item


def may_work_task(scope: Scope, task: IncidentTask) -> bool:
    """Whether the caller may complete or skip the task (its assignee, or a manager), while
    the task and its incident are open."""
    if task.status != TaskStatus.OPEN or task.incident.state != IncidentState.OPEN:
        return False
    if may_manage(scope, task.incident.community_id):
        return True
    return (
        scope.user is not None
        and task.assignee_id == scope.user.pk
        and task.incident.community_id in scope.community_ids()
    )


def may_add_note(scope: Scope, incident: Incident) -> bool:
    """Whether the caller may add a note to the open incident (a manager, or anyone with a
    task in it)."""
    if incident.state != IncidentState.OPEN:
        return False
    if may_manage(scope, incident.community_id):
        return True
    return (
        scope.user is not None
        and incident.community_id in scope.community_ids()
        and incident.tasks.filter(assignee_id=scope.user.pk).exists()
    )


def people_choices(community_id: int) -> QuerySet[User]:
    """Active staff of the community, as offered for assigning tasks, taking part and owning
    action items."""
    staff = [
        Role.COMMUNITY_ADMIN,
        Role.OPERATOR,
        Role.GUARD,
        Role.GRID_WORKER,
        Role.VOLUNTEER,
    ]
    return (
        User.objects.filter(
            is_active=True,
            memberships__community_id=community_id,
            memberships__role__in=[role.value for role in staff],
        )
        .distinct()
        .order_by("display_name", "username")
    )


def alarm_open_incident(alarm: Alarm) -> Incident | None:
    """The open incident an alarm is linked to, if any (the alarm page offers to open it
    instead of declaring another)."""
    return (
        Incident.objects.filter(alarm_links__alarm=alarm, state=IncidentState.OPEN)
        .order_by("-declared_at", "-id")
        .first()
    )


# --------------------------------------------------------------------------- the command view


@dataclass(frozen=True)
class TaskView:
    """A task with its timer: seconds left until due (negative when late)."""

    task: IncidentTask
    late: bool
    seconds_left: int | None


@dataclass
class CommandView:
    """Everything the command view of an incident shows."""

    incident: Incident
    tasks: list[TaskView]
    alarms: list[Alarm]
    timeline: list[IncidentLogEntry]
    participants: list[IncidentParticipant]
    review: AfterActionReview | None
    action_items: list[ActionItem]
    map_points: list[dict[str, Any]] = field(default_factory=list)
    zones: list[dict[str, Any]] = field(default_factory=list)
    done_count: int = 0
    late_count: int = 0


def task_view(task: IncidentTask, now: dt.datetime) -> TaskView:
    """A task with its timer at ``now``: a closed task has none and is never late."""
    if task.status != TaskStatus.OPEN or task.due_at is None:
        return TaskView(task=task, late=False, seconds_left=None)
    seconds = int((task.due_at - now).total_seconds())
    return TaskView(task=task, late=task.due_at <= now, seconds_left=seconds)


def timeline(incident: Incident, *, after: int | None = None) -> list[IncidentLogEntry]:
    """The incident's timeline in order (only the lines after the id ``after`` if given)."""
    entries = IncidentLogEntry.objects.filter(incident=incident).select_related(
        "actor", "task", "alarm"
    )
    if after is not None:
        entries = entries.filter(pk__gt=after)
    return list(entries.order_by("at", "id")[:TIMELINE_MAX])


def _zone_feature(zone: Any, kind: str) -> dict[str, Any] | None:
    if not zone.geometry:
        return None
    return {
        "type": "Feature",
        "geometry": zone.geometry,
        "properties": {"id": zone.pk, "name": zone.name, "kind": kind},
    }


def command_view(incident: Incident, *, now: dt.datetime | None = None) -> CommandView:
    """The command view of an incident at ``now``: tasks with timers, linked alarms, the map
    (incident position, alarms' devices, the plan's assembly point, zones to evacuate and the
    incident's zone), the timeline, participants, review and action items."""
    moment = now or timezone.now()
    tasks = [
        task_view(task, moment)
        for task in IncidentTask.objects.filter(incident=incident)
        .select_related("assignee", "done_by", "step")
        .order_by("position", "id")
    ]
    alarms = list(
        Alarm.objects.filter(incidents=incident)
        .select_related("device", "zone", "device__zone")
        .order_by("raised_at", "id")
    )
    review = (
        AfterActionReview.objects.filter(incident=incident).select_related("written_by").first()
    )
    items = (
        list(
            ActionItem.objects.filter(review=review)
            .select_related("owner", "plan_version")
            .order_by("created_at", "id")
        )
        if review is not None
        else []
    )
    points: list[dict[str, Any]] = []
    if incident.latitude is not None and incident.longitude is not None:
        points.append(
            {
                "lat": incident.latitude,
                "lon": incident.longitude,
                "label": incident.title,
                "kind": "incident",
            }
        )
    from anwang.alarms.selectors import alarm_position

    for alarm in alarms:
        position = alarm_position(alarm)
        if position is not None:
            lon, lat = position
            points.append({"lat": lat, "lon": lon, "label": alarm.title, "kind": "alarm"})
    zones: list[dict[str, Any]] = []
    version = incident.plan_version
    if version is not None:
        if version.assembly_latitude is not None and version.assembly_longitude is not None:
            points.append(
                {
                    "lat": version.assembly_latitude,
                    "lon": version.assembly_longitude,
                    "label": version.assembly_note or _("Assembly point"),
                    "kind": "assembly",
                }
            )
        for zone in version.evacuation_zones.all():
            feature = _zone_feature(zone, "evacuate")
            if feature is not None:
                zones.append(feature)
    if incident.zone is not None:
        feature = _zone_feature(incident.zone, "incident")
        if feature is not None:
            zones.append(feature)
    return CommandView(
        incident=incident,
        tasks=tasks,
        alarms=alarms,
        timeline=timeline(incident),
        participants=list(
            IncidentParticipant.objects.filter(incident=incident)
            .select_related("person")
            .order_by("added_at", "id")
        ),
        review=review,
        action_items=items,
        map_points=points,
        zones=zones,
        done_count=sum(1 for view in tasks if view.task.status == TaskStatus.DONE),
        late_count=sum(1 for view in tasks if view.late),
    )


# --------------------------------------------------------------------------- 'my work'


def detail_url(incident_id: int) -> str:
    """The command view's address."""
    return reverse("incidents:detail", args=[incident_id])


def _leads_now(user_id: int, community_ids: set[int], now: dt.datetime) -> set[int]:
    """The communities among ``community_ids`` where the person is the leader on duty now."""
    from anwang.rosters.selectors import on_duty_in

    return {
        duty.pattern.community_id
        for duty in on_duty_in(community_ids, now, DutyRole.ON_DUTY_LEADER)
        if duty.person.pk == user_id
    }


def incident_work_items(scope: Scope) -> list[WorkItem]:
    """'My work': the person's open tasks in open incidents (late or escalated ones first),
    late tasks escalated to them (the leader on duty, the community admins), and the open
    action items they own."""
    user = scope.user
    if user is None:
        return []
    now = timezone.now()
    member_of = scope.community_ids()
    items: list[WorkItem] = []
    open_tasks = IncidentTask.objects.filter(
        status=TaskStatus.OPEN, incident__state=IncidentState.OPEN
    ).select_related("incident")
    mine = open_tasks.filter(assignee_id=user.pk)
    if not acts_platform_wide(scope):
        mine = mine.filter(incident__community_id__in=member_of)
    seen: set[int] = set()
    for task in mine.order_by("due_at", "pk")[:50]:
        seen.add(task.pk)
        late = task.due_at is not None and task.due_at <= now
        items.append(
            WorkItem(
                source="incidents",
                title=(_("Drill task: %(task)s") if task.incident.is_drill else _("Task: %(task)s"))
                % {"task": task.title},
                url=detail_url(task.incident_id),
                community_id=task.incident.community_id,
                due_at=task.due_at,
                priority=1 if late or task.escalated_at is not None else 2,
                detail=task.incident.title,
            )
        )
    # Escalations: only look at the roster when some late task was escalated at all.
    escalated = open_tasks.filter(escalated_at__isnull=False)
    admin_of = {
        community_id
        for community_id in member_of
        if Role.COMMUNITY_ADMIN in scope.roles(community_id)
    }
    if member_of and escalated.filter(incident__community_id__in=member_of).exists():
        leading = admin_of | _leads_now(user.pk, member_of - admin_of, now)
        for task in escalated.filter(incident__community_id__in=leading).order_by("due_at", "pk")[
            :50
        ]:
            if task.pk in seen:
                continue
            items.append(
                WorkItem(
                    source="incidents",
                    title=_("Late task: %(task)s") % {"task": task.title},
                    url=detail_url(task.incident_id),
                    community_id=task.incident.community_id,
                    due_at=task.due_at,
                    priority=1,
                    detail=task.incident.title,
                )
            )
    owned = ActionItem.objects.filter(owner_id=user.pk, done_at__isnull=True).select_related(
        "review__incident"
    )
    if not acts_platform_wide(scope):
        owned = owned.filter(review__incident__community_id__in=member_of)
    for item in owned.order_by("due_on", "pk")[:50]:
        incident = item.review.incident
        due_at = (
            timezone.make_aware(dt.datetime.combine(item.due_on, dt.time(23, 59)))
            if item.due_on
            else None
        )
        items.append(
            WorkItem(
                source="incidents",
                title=_("Action item: %(item)s") % {"item": str(item)},
                url=detail_url(incident.pk),
                community_id=incident.community_id,
                due_at=due_at,
                priority=2 if due_at is not None and due_at < now else 3,
                detail=incident.title,
            )
        )
    return items


# --------------------------------------------------------------------------- drills on the plan


@dataclass(frozen=True)
class StepTiming:
    """How long one step took in a drill, against its target."""

    position: int
    title: str
    target_minutes: int
    took_minutes: float | None


@dataclass(frozen=True)
class DrillSummary:
    """A plan's most recent closed drill and its step timings."""

    incident_id: int
    declared_at: dt.datetime
    closed_at: dt.datetime | None
    version_number: int
    steps: list[StepTiming]


def last_drill(plan: EmergencyPlan) -> DrillSummary | None:
    """The most recent closed drill of any version of the plan, with how long each of its
    plan steps took (done time minus declaration, in minutes; ``None`` when not done)."""
    drill = (
        Incident.objects.filter(plan_version__plan=plan, is_drill=True, state=IncidentState.CLOSED)
        .select_related("plan_version")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=IncidentTask.objects.filter(step__isnull=False)
                .select_related("step")
                .order_by("position", "id"),
                to_attr="step_tasks",
            )
        )
        .order_by("-declared_at", "-id")
        .first()
    )
    if drill is None or drill.plan_version is None:
        return None
    steps: list[StepTiming] = []
    for task in drill.step_tasks:
        took = (
            round((task.done_at - drill.declared_at).total_seconds() / 60, 1)
            if task.status == TaskStatus.DONE and task.done_at is not None
            else None
        )
        steps.append(
            StepTiming(
                position=task.position,
                title=task.title,
                target_minutes=task.step.target_minutes if task.step else 0,
                took_minutes=took,
            )
        )
    return DrillSummary(
        incident_id=drill.pk,
        declared_at=drill.declared_at,
        closed_at=drill.closed_at,
        version_number=drill.plan_version.number,
        steps=steps,
    )


# --------------------------------------------------------------------------- dashboard


def incident_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: open incidents (drills apart) and their late tasks."""
    if community is not None:
        ids = [community.pk] if may_follow(scope, community.pk) else []
    else:
        ids = list(incident_communities(scope).values_list("pk", flat=True))
    if not ids:
        return []
    counts = Incident.objects.filter(community_id__in=ids, state=IncidentState.OPEN).aggregate(
        incidents=Count("pk", filter=Q(is_drill=False), distinct=True),
        drills=Count("pk", filter=Q(is_drill=True), distinct=True),
    )
    late = IncidentTask.objects.filter(
        incident__community_id__in=ids,
        incident__state=IncidentState.OPEN,
        status=TaskStatus.OPEN,
        due_at__lte=timezone.now(),
    ).count()
    url = reverse("incidents:list")
    stats = [
        Stat(
            key="incidents_open",
            label=_("Open incidents"),
            value=counts["incidents"],
            url=f"{url}?state=open",
            tone="key" if counts["incidents"] else "",
        ),
        Stat(
            key="incident_tasks_late",
            label=_("Late incident tasks"),
            value=late,
            url=f"{url}?state=open",
            tone="warn" if late else "",
        ),
    ]
    if counts["drills"]:
        stats.append(
            Stat(
                key="drills_open",
                label=_("Drills running"),
                value=counts["drills"],
                url=f"{url}?state=open&is_drill=1",
            )
        )
    return stats

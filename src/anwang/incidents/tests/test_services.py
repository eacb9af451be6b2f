"""Incidents and drills: declaring from the plan in force with tasks for whoever is on duty,
working the tasks, the worker's shift-change and escalation check, closing with a review whose
action items revise the plan, and drills counting as training."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.alarms.models import Alarm
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.devices.models import Device
from anwang.incidents import services
from anwang.incidents.choices import IncidentState, LogKind, TaskStatus
from anwang.incidents.models import Incident, IncidentLogEntry, IncidentTask
from anwang.incidents.services import ActionItemDraft
from anwang.incidents.tests.support import at, make_version, member, on_duty
from anwang.plans.choices import VersionStatus
from anwang.plans.models import PlanVersion
from anwang.responsibilities.models import Responsibility
from anwang.training.models import Drill

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(world: Any) -> dict[str, Any]:
    """Day shift 08-20 and night shift 20-08 for guards; the operator and the leader (the
    community admin) around the clock."""
    community = world.a.community
    night_guard = member(community, "a_night_guard")
    on_duty(community, "guard", world.user("guard"), start_hour=8)
    on_duty(community, "guard", night_guard, start_hour=20)
    on_duty(community, "operator", world.user("operator"), start_hour=0, hours=24)
    on_duty(community, "on_duty_leader", world.user("community_admin"), start_hour=0, hours=24)
    return {"night_guard": night_guard}


def declare(world: Any, when: dt.datetime, **extra: Any) -> Incident:
    values = {
        "actor": world.user("operator"),
        "community": world.a.community,
        "incident_type": "fire",
        "now": when,
    } | extra
    return services.incident_declare(**values)


def kinds(incident: Incident) -> list[str]:
    return list(incident.log.order_by("at", "id").values_list("kind", flat=True))


def make_alarm(world: Any, title: str = "3号楼烟感告警", **extra: Any) -> Alarm:
    moment = at(10)
    return Alarm.objects.create(
        community=world.a.community,
        priority=1,
        title=title,
        group_key=f"test:{title}",
        raised_at=moment,
        last_fired_at=moment,
        **extra,
    )


# --------------------------------------------------------------------------- declaring


def test_declaring_turns_the_approved_steps_into_tasks_for_whoever_is_on_duty(world, roster):
    version = make_version(world.a.community)
    incident = declare(world, at(10), zone=world.a.zone)
    assert incident.plan_version == version
    assert incident.title == "Fire"
    tasks = list(incident.tasks.order_by("position"))
    assert [(task.title, task.duty_role) for task in tasks] == [
        ("确认火情并报警119", "operator"),
        ("疏散楼内居民", "guard"),
        ("值班领导到场指挥", "on_duty_leader"),
    ]
    assert [task.assignee for task in tasks] == [
        world.user("operator"),
        world.user("guard"),
        world.user("community_admin"),
    ]
    assert [task.due_at for task in tasks] == [at(10, 2), at(10, 10), at(10, 15)]
    # Each assignee is told through the notification outbox, and the timeline says so.
    told = [LogKind.TASK_ASSIGNED, LogKind.MESSAGE_SENT]
    assert kinds(incident) == [LogKind.DECLARED, *told, *told, *told]
    assert "version 1" in incident.log.get(kind=LogKind.DECLARED).text
    from anwang.notifications.models import Delivery

    deliveries = Delivery.objects.filter(
        notification__kind="incident.task", notification__source_type="incidents.incidenttask"
    )
    assert {delivery.recipient for delivery in deliveries.filter(channel="inbox")} == {
        world.user("operator"),
        world.user("guard"),
        world.user("community_admin"),
    }
    assert all(delivery.notification.urgent for delivery in deliveries)
    assert AuditEvent.objects.filter(action="incident.declare", object_id=str(incident.pk)).exists()


def test_at_night_the_guard_task_goes_to_the_night_guard(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(21))
    guard_task = incident.tasks.get(duty_role="guard")
    assert guard_task.assignee == roster["night_guard"]


def test_nobody_on_duty_falls_back_to_the_zones_responsible_person_then_to_nobody(world):
    make_version(world.a.community, steps=[("疏散", "guard", 10)])
    incident = declare(world, at(10))
    task = incident.tasks.get()
    assert task.assignee is None
    assert "assign it by hand" in task.incident.log.get(kind=LogKind.TASK_ASSIGNED).text

    Responsibility.objects.create(
        community=world.a.community,
        area_kind="zone",
        zone=world.a.zone,
        responsible_person=world.user("grid_worker"),
    )
    second = declare(world, at(11), zone=world.a.zone)
    assert second.tasks.get().assignee == world.user("grid_worker")


def test_without_an_approved_plan_there_are_no_tasks_and_the_timeline_says_so(world):
    make_version(world.a.community, status=VersionStatus.DRAFT)
    incident = declare(world, at(10), title="", description="3号楼冒烟")
    assert incident.plan_version is None
    assert not incident.tasks.exists()
    assert "no approved plan" in incident.log.get(kind=LogKind.DECLARED).text


def test_an_incident_keeps_its_version_after_a_new_one_is_approved(world, roster):
    first = make_version(world.a.community)
    incident = declare(world, at(10))
    second = make_version(world.a.community, steps=[("新步骤", "guard", 5)])
    incident.refresh_from_db()
    first.refresh_from_db()
    assert incident.plan_version == first
    assert first.status == VersionStatus.SUPERSEDED
    assert incident.tasks.order_by("position")[0].title == "确认火情并报警119"
    later = declare(world, at(11))
    assert later.plan_version == second
    assert [task.title for task in later.tasks.all()] == ["新步骤"]


def test_a_drill_is_marked_and_titled_as_one(world):
    incident = declare(world, at(10), is_drill=True, participants=[world.user("guard")])
    assert incident.is_drill
    assert incident.title == "Drill: Fire"
    assert list(incident.participants.values_list("person", flat=True)) == [world.user("guard").pk]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"incident_type": "volcano"}, "incident_type"),
        ({"latitude": 95, "longitude": 114}, "latitude"),
        ({"latitude": 30.5}, "latitude"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_input_is_refused_on_its_field(world, extra, field):
    with pytest.raises(ServiceError) as caught:
        declare(world, at(10), **extra)
    assert caught.value.field == field
    assert not Incident.objects.exists()


def test_zones_alarms_and_participants_must_be_of_the_community(world):
    with pytest.raises(ServiceError) as caught:
        declare(world, at(10), zone=world.b.zone)
    assert caught.value.field == "zone"
    with pytest.raises(ServiceError) as caught:
        declare(world, at(10), participants=[world.user("guard", "b")])
    assert caught.value.field == "participants"


def test_only_incident_managers_declare(world):
    with pytest.raises(PermissionDenied):
        declare(world, at(10), actor=world.user("guard"))
    with pytest.raises(Http404):
        declare(world, at(10), actor=world.user("resident"))
    with pytest.raises(Http404):
        declare(world, at(10), actor=world.user("operator", "b"))
    assert declare(world, at(10), actor=world.user("community_admin")).pk


# --------------------------------------------------------------------------- from an alarm


def test_declaring_from_an_alarm_guesses_the_type_and_takes_its_place(world, roster):
    make_version(world.a.community)
    device = Device.objects.create(
        community=world.a.community,
        name="3号楼烟感",
        kind="sensor",
        zone=world.a.zone,
        latitude=30.5005,
        longitude=114.3005,
    )
    alarm = make_alarm(world, device=device, why={"kind": "smoke", "value": True})
    incident = services.incident_declare_from_alarm(
        actor=world.user("operator"), alarm=alarm, now=at(10)
    )
    assert incident.incident_type == "fire"
    assert incident.zone == world.a.zone
    assert (incident.latitude, incident.longitude) == (30.5005, 114.3005)
    assert list(incident.alarms.all()) == [alarm]
    assert incident.tasks.count() == 3
    assert LogKind.ALARM_LINKED in kinds(incident)

    with pytest.raises(ConflictError, match=f"no. {incident.pk}"):
        services.incident_declare_from_alarm(
            actor=world.user("operator"), alarm=alarm, now=at(10, 1)
        )


@pytest.mark.parametrize(
    ("title", "why", "expected"),
    [
        ("烟感告警", {}, "fire"),
        ("Sensor", {"kind": "gas"}, "gas_leak"),
        ("Sensor", {"kind": "water_leak"}, "flooding"),
        ("北门越界", {}, "intrusion"),
        ("Door forced open", {}, "intrusion"),
        ("Camera", {"label": "person"}, "intrusion"),
        ("SOS", {"kind": "panic"}, "medical"),
        ("电池电量低", {"kind": "battery_low"}, "other"),
    ],
)
def test_the_type_is_guessed_from_the_alarm(world, title, why, expected):
    assert services.guess_incident_type(make_alarm(world, title=title, why=why)) == expected


def test_an_alarm_of_another_community_is_not_found(world):
    alarm = make_alarm(world)
    with pytest.raises(Http404):
        services.incident_declare_from_alarm(actor=world.user("operator", "b"), alarm=alarm)


# --------------------------------------------------------------------------- working tasks


def test_the_assignee_completes_their_own_task_without_managing_incidents(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    guard_task = incident.tasks.get(duty_role="guard")
    done = services.task_complete(
        actor=world.user("guard"), task=guard_task, note="已疏散", now=at(10, 7)
    )
    assert done.status == TaskStatus.DONE
    assert done.done_by == world.user("guard")
    assert done.done_at == at(10, 7)
    entry = incident.log.get(kind=LogKind.TASK_DONE)
    assert entry.task == done
    assert "已疏散" in entry.text
    assert AuditEvent.objects.filter(action="incident_task.complete").exists()
    with pytest.raises(ConflictError):
        services.task_complete(actor=world.user("guard"), task=done)


def test_others_may_not_work_someone_elses_task(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    operator_task = incident.tasks.get(duty_role="operator")
    with pytest.raises(PermissionDenied):  # sees incidents, not their task
        services.task_complete(actor=world.user("guard"), task=operator_task)
    with pytest.raises(Http404):
        services.task_complete(actor=world.user("resident"), task=operator_task)
    with pytest.raises(Http404):
        services.task_complete(actor=world.user("community_admin", "b"), task=operator_task)
    # A manager may finish anyone's task.
    services.task_complete(actor=world.user("community_admin"), task=operator_task)


def test_skipping_needs_a_reason(world, roster):
    make_version(world.a.community)
    task = declare(world, at(10)).tasks.get(duty_role="guard")
    with pytest.raises(ServiceError) as caught:
        services.task_skip(actor=world.user("guard"), task=task, note=" ")
    assert caught.value.field == "note"
    skipped = services.task_skip(actor=world.user("guard"), task=task, note="无人员被困")
    assert skipped.status == TaskStatus.SKIPPED


def test_notes_come_from_managers_and_from_people_with_a_task(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    services.note_add(actor=world.user("guard"), incident=incident, text="1单元已清空")
    with pytest.raises(PermissionDenied):
        services.note_add(actor=world.user("grid_worker"), incident=incident, text="x")
    with pytest.raises(ServiceError):
        services.note_add(actor=world.user("operator"), incident=incident, text="")
    assert list(incident.log.filter(kind=LogKind.NOTE).values_list("text", flat=True)) == [
        "1单元已清空"
    ]


def test_tasks_are_added_and_reassigned_by_hand(world, roster):
    incident = declare(world, at(10))
    task = services.task_add(
        actor=world.user("operator"),
        incident=incident,
        title="联系燃气公司",
        duty_role="guard",
        due_at=at(10, 30),
        now=at(10, 1),
    )
    assert task.position == 1
    assert task.assignee == world.user("guard")
    moved = services.task_reassign(
        actor=world.user("operator"), task=task, assignee=world.user("grid_worker"), now=at(10, 2)
    )
    assert moved.assignee == world.user("grid_worker")
    with pytest.raises(ServiceError) as caught:
        services.task_reassign(
            actor=world.user("operator"), task=task, assignee=world.user("guard", "b")
        )
    assert caught.value.field == "assignee"
    with pytest.raises(PermissionDenied):
        services.task_add(actor=world.user("guard"), incident=incident, title="x")


def test_alarms_and_participants_are_linked_once(world):
    incident = declare(world, at(10))
    alarm = make_alarm(world)
    services.alarm_link(actor=world.user("operator"), incident=incident, alarm=alarm)
    with pytest.raises(ConflictError):
        services.alarm_link(actor=world.user("operator"), incident=incident, alarm=alarm)
    services.participant_add(
        actor=world.user("operator"), incident=incident, person=world.user("volunteer")
    )
    with pytest.raises(ConflictError):
        services.participant_add(
            actor=world.user("operator"), incident=incident, person=world.user("volunteer")
        )
    assert kinds(incident) == [LogKind.DECLARED, LogKind.ALARM_LINKED, LogKind.PARTICIPANT]


# --------------------------------------------------------------------------- the worker's check


def test_nothing_open_costs_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert services.incident_tasks_check(now=at(10)) == 0


def test_a_shift_change_hands_open_tasks_to_the_next_shift(world, roster):
    make_version(world.a.community, steps=[("疏散", "guard", 30), ("巡查", "guard", 30)])
    incident = declare(world, at(19, 50))
    first, second = incident.tasks.order_by("position")
    services.task_complete(actor=world.user("guard"), task=first, now=at(19, 55))
    assert services.incident_tasks_check(now=at(19, 59)) == 0
    assert services.incident_tasks_check(now=at(20, 1)) == 1
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.assignee == roster["night_guard"]
    assert first.assignee == world.user("guard")  # done work stays with who did it
    line = incident.log.filter(kind=LogKind.TASK_ASSIGNED).last()
    assert line is not None
    assert line.text.startswith("Shift change")
    assert services.incident_tasks_check(now=at(20, 2)) == 0


def test_a_task_assigned_by_hand_stays_with_that_person_over_a_shift_change(world, roster):
    make_version(world.a.community, steps=[("疏散", "guard", 30)])
    task = declare(world, at(19, 50)).tasks.get()
    services.task_reassign(actor=world.user("operator"), task=task, assignee=world.user("guard"))
    assert services.incident_tasks_check(now=at(20, 1)) == 0
    task.refresh_from_db()
    assert task.assignee == world.user("guard")


def test_a_late_task_is_escalated_once(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    assert services.incident_tasks_check(now=at(10, 1)) == 0
    assert services.incident_tasks_check(now=at(10, 3)) == 1  # the 2-minute step
    operator_task = incident.tasks.get(duty_role="operator")
    assert operator_task.escalated_at == at(10, 3)
    late = incident.log.get(kind=LogKind.TASK_LATE)
    assert late.task == operator_task
    assert world.user("community_admin").username in late.text
    assert services.incident_tasks_check(now=at(10, 4)) == 0
    assert services.incident_tasks_check(now=at(10, 20)) == 2  # the other two
    assert incident.log.filter(kind=LogKind.TASK_LATE).count() == 3


def test_the_check_leaves_closed_incidents_alone(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    services.incident_close(
        actor=world.user("operator"),
        incident=incident,
        what_worked="快",
        what_did_not="",
        now=at(10, 1),
    )
    assert services.incident_tasks_check(now=at(23)) == 0


# --------------------------------------------------------------------------- closing


def test_closing_writes_the_review_and_skips_open_tasks(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    first = incident.tasks.get(duty_role="operator")
    services.task_complete(actor=world.user("operator"), task=first, now=at(10, 1))
    closed = services.incident_close(
        actor=world.user("operator"),
        incident=incident,
        what_worked="报警及时",
        what_did_not="疏散慢",
        action_items=[ActionItemDraft(description="增加楼道应急灯", owner=world.user("guard"))],
        now=at(10, 30),
    )
    assert closed.state == IncidentState.CLOSED
    assert closed.closed_at == at(10, 30)
    statuses = dict(closed.tasks.values_list("duty_role", "status"))
    assert statuses == {
        "operator": TaskStatus.DONE,
        "guard": TaskStatus.SKIPPED,
        "on_duty_leader": TaskStatus.SKIPPED,
    }
    assert closed.review.what_did_not == "疏散慢"
    assert [item.description for item in closed.review.action_items.all()] == ["增加楼道应急灯"]
    assert kinds(closed)[-2:] == [LogKind.CLOSED, LogKind.REVIEWED]
    with pytest.raises(ConflictError):
        services.note_add(actor=world.user("operator"), incident=closed, text="x")
    with pytest.raises(ConflictError):
        services.incident_close(
            actor=world.user("operator"), incident=closed, what_worked="x", what_did_not=""
        )


def test_closing_needs_a_review_and_owners_of_the_community(world):
    incident = declare(world, at(10))
    with pytest.raises(ServiceError) as caught:
        services.incident_close(
            actor=world.user("operator"), incident=incident, what_worked=" ", what_did_not=""
        )
    assert caught.value.field == "what_worked"
    with pytest.raises(ServiceError) as caught:
        services.incident_close(
            actor=world.user("operator"),
            incident=incident,
            what_worked="x",
            what_did_not="",
            action_items=[ActionItemDraft(description="y", owner=world.user("guard", "b"))],
        )
    assert caught.value.field == "owner"
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN


def test_an_action_item_opens_a_prefilled_draft_of_the_plan(world, roster):
    version = make_version(world.a.community, assembly_note="小区中心广场")
    incident = declare(world, at(10))
    make_version(world.a.community, steps=[("新", "guard", 5)])  # approved meanwhile
    closed = services.incident_close(
        actor=world.user("community_admin"),
        incident=incident,
        what_worked="",
        what_did_not="疏散路线被堵",
        action_items=[
            ActionItemDraft(
                description="疏散路线改走东门",
                owner=world.user("community_admin"),
                due_on=dt.date(2026, 4, 1),
                revise_plan=True,
            )
        ],
        now=at(11),
    )
    item = closed.review.action_items.get()
    draft = item.plan_version
    assert draft is not None
    assert draft.status == VersionStatus.DRAFT
    assert draft.based_on == version  # the version the incident followed
    assert "疏散路线改走东门" in draft.change_note
    assert [step.title for step in draft.steps.order_by("position")] == [
        "确认火情并报警119",
        "疏散楼内居民",
        "值班领导到场指挥",
    ]
    # Asking again gives the same draft.
    again = services.action_item_revise_plan(actor=world.user("community_admin"), item=item)
    assert again == draft
    second = services.action_item_add(
        actor=world.user("community_admin"),
        incident=closed,
        draft=ActionItemDraft(
            description="补充灭火器", owner=world.user("guard"), revise_plan=True
        ),
    )
    assert second.plan_version == draft
    draft.refresh_from_db()
    assert "补充灭火器" in draft.change_note
    assert PlanVersion.objects.filter(status=VersionStatus.DRAFT).count() == 1


def test_an_operator_without_plan_rights_is_told_on_the_field(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    with pytest.raises(ServiceError) as caught:
        services.incident_close(
            actor=world.user("operator"),
            incident=incident,
            what_worked="x",
            what_did_not="",
            action_items=[
                ActionItemDraft(description="y", owner=world.user("guard"), revise_plan=True)
            ],
        )
    assert caught.value.field == "revise_plan"
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN


def test_without_a_plan_nothing_can_be_revised(world):
    incident = declare(world, at(10))
    with pytest.raises(ServiceError) as caught:
        services.incident_close(
            actor=world.user("community_admin"),
            incident=incident,
            what_worked="x",
            what_did_not="",
            action_items=[
                ActionItemDraft(description="y", owner=world.user("guard"), revise_plan=True)
            ],
        )
    assert caught.value.field == "revise_plan"


def test_the_review_is_rewritten_and_action_items_done_by_their_owner(world):
    incident = declare(world, at(10))
    with pytest.raises(ConflictError):
        services.review_update(
            actor=world.user("operator"), incident=incident, what_worked="x", what_did_not=""
        )
    services.incident_close(
        actor=world.user("operator"),
        incident=incident,
        what_worked="x",
        what_did_not="",
        action_items=[ActionItemDraft(description="买灭火器", owner=world.user("guard"))],
    )
    review = services.review_update(
        actor=world.user("operator"), incident=incident, what_worked="好", what_did_not="差"
    )
    assert (review.what_worked, review.what_did_not) == ("好", "差")
    item = review.action_items.get()
    with pytest.raises(PermissionDenied):
        services.action_item_done(actor=world.user("grid_worker"), item=item)
    done = services.action_item_done(actor=world.user("guard"), item=item, now=at(12))
    assert done.done_at == at(12)
    with pytest.raises(ConflictError):
        services.action_item_done(actor=world.user("guard"), item=item)


# --------------------------------------------------------------------------- drills


def test_a_closed_drill_counts_as_training_for_its_people(world, roster):
    make_version(world.a.community)
    incident = declare(
        world, at(9), is_drill=True, participants=[world.user("volunteer")], zone=world.a.zone
    )
    guard_task = incident.tasks.get(duty_role="guard")
    services.task_complete(actor=world.user("guard"), task=guard_task, now=at(9, 8))
    closed = services.incident_close(
        actor=world.user("operator"),
        incident=incident,
        what_worked="疏散8分钟完成",
        what_did_not="",
        now=at(9, 40),
    )
    drill = closed.training_drill
    assert isinstance(drill, Drill)
    assert drill.kind == "fire_evacuation"
    assert drill.status == "held"
    assert (drill.started_at, drill.ended_at) == (at(9), at(9, 40))
    assert set(drill.participants.all()) == {world.user("volunteer"), world.user("guard")}
    assert AuditEvent.objects.filter(action="drill.create", object_id=str(drill.pk)).exists()


def test_a_real_incident_makes_no_training_record(world):
    incident = declare(world, at(10))
    closed = services.incident_close(
        actor=world.user("operator"), incident=incident, what_worked="x", what_did_not=""
    )
    assert closed.training_drill is None
    assert not Drill.objects.exists()


def test_log_lines_name_their_task(world, roster):
    make_version(world.a.community)
    incident = declare(world, at(10))
    assigned = IncidentLogEntry.objects.filter(incident=incident, kind=LogKind.TASK_ASSIGNED)
    assert {entry.task_id for entry in assigned} == set(
        IncidentTask.objects.filter(incident=incident).values_list("pk", flat=True)
    )

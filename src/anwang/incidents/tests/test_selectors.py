"""Reads of incidents: who sees which, the command view, 'my work', a plan's last drill and
dashboard figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import SQUARE
from django.http import Http404
from django.utils import timezone

from anwang.accounts.selectors import scope_for
from anwang.alarms.models import Alarm
from anwang.devices.models import Device
from anwang.incidents import selectors, services
from anwang.incidents.models import Incident
from anwang.incidents.services import ActionItemDraft
from anwang.incidents.tests.support import at, make_version, member, on_duty
from anwang.places.choices import ZoneKind
from anwang.places.models import Zone

pytestmark = pytest.mark.django_db


def declare(world: Any, when: dt.datetime | None = None, **extra: Any) -> Incident:
    values = {
        "actor": world.user("operator"),
        "community": world.a.community,
        "incident_type": "fire",
        "now": when,
    } | extra
    return services.incident_declare(**values)


def scope(world: Any, role: str, side: str = "a") -> Any:
    return scope_for(world.user(role, side))


# --------------------------------------------------------------------------- visibility


def test_staff_follow_incidents_and_people_in_one_see_only_it(world):
    volunteer = world.user("volunteer")
    make_version(world.a.community, steps=[("巡查", "guard", 10)])
    on_duty(world.a.community, "guard", volunteer, start_hour=0, hours=24)
    theirs = declare(world, at(10))
    other = declare(world, at(11), incident_type="gas_leak")
    assert selectors.incident_get(scope(world, "guard"), other.pk) == other
    # A volunteer does not follow incidents, but sees the one they have a task in.
    assert selectors.incident_get(scope(world, "volunteer"), theirs.pk) == theirs
    with pytest.raises(Http404):
        selectors.incident_get(scope(world, "volunteer"), other.pk)
    assert list(selectors.incidents_visible(scope(world, "volunteer"))) == [theirs]
    for role, side in [("resident", "a"), ("operator", "b"), ("community_admin", "b")]:
        with pytest.raises(Http404):
            selectors.incident_get(scope(world, role, side), theirs.pk)
        assert not selectors.incidents_visible(scope(world, role, side)).exists()
    assert selectors.incident_get(scope_for(world.platform_admin), theirs.pk) == theirs


def test_the_list_filters_by_state_and_drill(world):
    real = declare(world, at(10))
    drill = declare(world, at(11), is_drill=True)
    services.incident_close(
        actor=world.user("operator"), incident=real, what_worked="x", what_did_not=""
    )
    guard = scope(world, "guard")
    assert list(selectors.incidents_visible(guard)) == [drill, real]
    assert list(selectors.incidents_visible(guard, state="open")) == [drill]
    assert list(selectors.incidents_visible(guard, is_drill=False)) == [real]
    assert not selectors.incidents_visible(guard, community_id=world.b.community.pk).exists()


def test_tasks_and_action_items_are_found_through_their_incident(world):
    make_version(world.a.community)
    incident = declare(world, at(10))
    task = incident.tasks.first()
    assert task is not None
    assert selectors.task_get(scope(world, "guard"), task.pk) == task
    with pytest.raises(Http404):
        selectors.task_get(scope(world, "guard", "b"), task.pk)
    services.incident_close(
        actor=world.user("operator"),
        incident=incident,
        what_worked="x",
        what_did_not="",
        action_items=[ActionItemDraft(description="补灯", owner=world.user("volunteer"))],
    )
    item = incident.review.action_items.get()
    assert selectors.action_item_get(scope(world, "volunteer"), item.pk) == item
    with pytest.raises(Http404):
        selectors.action_item_get(scope(world, "resident"), item.pk)


# --------------------------------------------------------------------------- command view


def test_the_command_view_shows_timers_alarms_map_and_timeline(
    world, django_assert_max_num_queries
):
    evacuate = Zone.objects.create(
        community=world.a.community, name="3号楼", kind=ZoneKind.OTHER, geometry=SQUARE
    )
    version = make_version(
        world.a.community,
        assembly_latitude=30.51,
        assembly_longitude=114.31,
        assembly_note="中心广场",
    )
    version.evacuation_zones.add(evacuate)
    on_duty(world.a.community, "guard", world.user("guard"), start_hour=8)
    device = Device.objects.create(
        community=world.a.community, name="烟感", kind="sensor", latitude=30.502, longitude=114.302
    )
    alarm = Alarm.objects.create(
        community=world.a.community,
        priority=1,
        title="烟感告警",
        device=device,
        group_key="t",
        raised_at=at(10),
        last_fired_at=at(10),
    )
    incident = declare(
        world, at(10), zone=world.a.zone, latitude=30.5005, longitude=114.3005, alarm=alarm
    )
    guard_task = incident.tasks.get(duty_role="guard")
    services.task_complete(actor=world.user("guard"), task=guard_task, now=at(10, 4))
    incident = selectors.incident_get(scope(world, "operator"), incident.pk)
    with django_assert_max_num_queries(10):
        view = selectors.command_view(incident, now=at(10, 5))
    timers = {item.task.duty_role: (item.late, item.seconds_left) for item in view.tasks}
    assert timers == {
        "operator": (True, -180),  # due at 10:02
        "guard": (False, None),  # done
        "on_duty_leader": (False, 600),  # due at 10:15
    }
    assert (view.done_count, view.late_count) == (1, 1)
    assert view.alarms == [alarm]
    assert {point["kind"]: (point["lat"], point["lon"]) for point in view.map_points} == {
        "incident": (30.5005, 114.3005),
        "alarm": (30.502, 114.302),
        "assembly": (30.51, 114.31),
    }
    assert [zone["properties"]["kind"] for zone in view.zones] == ["evacuate", "incident"]
    assert [entry.kind for entry in view.timeline][:2] == ["declared", "alarm_linked"]
    assert view.timeline[-1].kind == "task_done"
    assert view.review is None


def test_the_timeline_gives_the_newer_lines(world):
    incident = declare(world, at(10))
    first = selectors.timeline(incident)
    services.note_add(actor=world.user("operator"), incident=incident, text="到场")
    newer = selectors.timeline(incident, after=first[-1].pk)
    assert [entry.text for entry in newer] == ["到场"]


def test_an_alarms_open_incident_is_found(world):
    alarm = Alarm.objects.create(
        community=world.a.community,
        priority=1,
        title="烟感告警",
        group_key="t",
        raised_at=at(10),
        last_fired_at=at(10),
    )
    assert selectors.alarm_open_incident(alarm) is None
    incident = services.incident_declare_from_alarm(actor=world.user("operator"), alarm=alarm)
    assert selectors.alarm_open_incident(alarm) == incident
    services.incident_close(
        actor=world.user("operator"), incident=incident, what_worked="x", what_did_not=""
    )
    assert selectors.alarm_open_incident(alarm) is None


# --------------------------------------------------------------------------- my work


def test_my_work_lists_my_tasks_late_first_and_escalations_to_the_leader(world):
    make_version(world.a.community, steps=[("报警", "operator", 2), ("疏散", "guard", 60)])
    on_duty(world.a.community, "guard", world.user("guard"), start_hour=0, hours=24)
    on_duty(world.a.community, "operator", world.user("operator"), start_hour=0, hours=24)
    leader = member(world.a.community, "a_leader", "grid_worker")
    on_duty(world.a.community, "on_duty_leader", leader, start_hour=0, hours=24)
    now = timezone.now()
    incident = declare(world, now - dt.timedelta(minutes=5))
    guard_items = selectors.incident_work_items(scope(world, "guard"))
    assert [(item.title, item.priority) for item in guard_items] == [("Task: 疏散", 2)]
    assert guard_items[0].detail == incident.title
    operator_items = selectors.incident_work_items(scope(world, "operator"))
    assert [(item.title, item.priority) for item in operator_items] == [("Task: 报警", 1)]

    assert selectors.incident_work_items(scope_for(leader)) == []
    assert services.incident_tasks_check() == 1
    for person in (leader, world.user("community_admin")):
        items = selectors.incident_work_items(scope_for(person))
        assert [(item.title, item.priority) for item in items] == [("Late task: 报警", 1)]
    assert selectors.incident_work_items(scope(world, "community_admin", "b")) == []


def test_my_work_lists_the_action_items_i_own(world):
    incident = declare(world, at(10))
    services.incident_close(
        actor=world.user("operator"),
        incident=incident,
        what_worked="x",
        what_did_not="",
        action_items=[
            ActionItemDraft(
                description="补灯", owner=world.user("guard"), due_on=dt.date(2026, 1, 1)
            )
        ],
    )
    items = selectors.incident_work_items(scope(world, "guard"))
    assert [(item.title, item.priority) for item in items] == [("Action item: 补灯", 2)]
    services.action_item_done(actor=world.user("guard"), item=incident.review.action_items.get())
    assert selectors.incident_work_items(scope(world, "guard")) == []


# --------------------------------------------------------------------------- drills on the plan


def test_the_plan_shows_its_last_drill_with_step_timings(world):
    community = world.a.community
    old = make_version(community)
    on_duty(community, "guard", world.user("guard"), start_hour=0, hours=24)
    on_duty(community, "operator", world.user("operator"), start_hour=0, hours=24)
    assert selectors.last_drill(old.plan) is None
    first = declare(world, at(9), is_drill=True)
    services.incident_close(
        actor=world.user("operator"),
        incident=first,
        what_worked="x",
        what_did_not="",
        now=at(9, 30),
    )
    current = make_version(community)
    drill = declare(world, at(14), is_drill=True)
    tasks = {task.duty_role: task for task in drill.tasks.all()}
    services.task_complete(
        actor=world.user("operator"),
        task=tasks["operator"],
        now=at(
            14,
            1,
        ),
    )
    services.task_complete(actor=world.user("guard"), task=tasks["guard"], now=at(14, 12))
    declare(world, at(15), is_drill=True)  # still open: not the last drill yet
    declare(world, at(16))  # a real incident is no drill
    assert selectors.last_drill(current.plan) is not None
    assert selectors.last_drill(current.plan).incident_id == first.pk  # type: ignore[union-attr]
    services.incident_close(
        actor=world.user("operator"),
        incident=drill,
        what_worked="x",
        what_did_not="",
        now=at(14, 30),
    )
    summary = selectors.last_drill(current.plan)
    assert summary is not None
    assert summary.incident_id == drill.pk
    assert summary.version_number == current.number
    assert summary.closed_at == at(14, 30)
    assert [(step.title, step.target_minutes, step.took_minutes) for step in summary.steps] == [
        ("确认火情并报警119", 2, 1.0),
        ("疏散楼内居民", 10, 12.0),
        ("值班领导到场指挥", 15, None),
    ]


# --------------------------------------------------------------------------- dashboard


def test_the_dashboard_counts_open_incidents_and_late_tasks(world):
    make_version(world.a.community, steps=[("报警", "operator", 2)])
    declare(world, timezone.now() - dt.timedelta(minutes=5))
    declare(world, is_drill=True)
    stats = {stat.key: stat.value for stat in selectors.incident_stats(scope(world, "guard"), None)}
    assert stats == {"incidents_open": 1, "incident_tasks_late": 1, "drills_open": 1}
    assert selectors.incident_stats(scope(world, "resident"), None) == []
    assert selectors.incident_stats(scope(world, "guard"), world.b.community) == []

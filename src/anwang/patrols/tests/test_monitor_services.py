"""Missed-checkpoint and overdue-run alarms with a controllable clock, and the alarms the
system raises once per source key."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from anwang.alarms.models import Alarm, AlarmStep
from anwang.alarms.services import alarm_raise_system
from anwang.audit.models import AuditEvent
from anwang.patrols import services
from anwang.patrols.choices import CheckInMethod, CheckInStatus, RunStatus
from anwang.patrols.models import CheckIn, PatrolRun
from anwang.patrols.monitoring import GRACE_SECONDS
from anwang.patrols.tests.conftest import make_checkpoint, make_route

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, 14, 0, tzinfo=dt.UTC)
GAP = 900  # the default max_gap_seconds of a stop
DWELL = 60


def at(seconds: float) -> dt.datetime:
    """``seconds`` after the run's start."""
    return START + dt.timedelta(seconds=seconds)


def start_run(world: Any, side: str = "a") -> PatrolRun:
    """A run of ``side``'s guard on a route of two checkpoints, started at :data:`START`."""
    area = getattr(world, side)
    extra = {"placement": "zone", "zone": area.zone}
    gate = make_checkpoint(area, "北门", **extra)
    yard = make_checkpoint(area, "花园", point={"type": "Point", "coordinates": [114.31, 30.51]})
    route = make_route(area, gate, yard, name=f"夜巡{side}")
    run = services.patrol_run_start(actor=world.user("guard", side), route=route)
    PatrolRun.objects.filter(pk=run.pk).update(started_at=START)
    run.refresh_from_db()
    return run


def accept(run: PatrolRun, index: int, seconds: float) -> None:
    """An accepted check-in at the run's stop ``index``, ``seconds`` after the start."""
    CheckIn.objects.create(
        run=run,
        checkpoint_id=run.plan[index]["checkpoint"],
        method=CheckInMethod.QR,
        code="x",
        client_id=uuid.uuid4(),
        scanned_at=at(seconds),
        received_at=at(seconds),
        skew_seconds=0,
        status=CheckInStatus.ACCEPTED,
    )


def test_a_missed_checkpoint_raises_one_alarm(world: Any) -> None:
    run = start_run(world)
    assert services.patrol_runs_check(now=at(GAP + GRACE_SECONDS)) == 0
    assert services.patrol_runs_check(now=at(GAP + GRACE_SECONDS + 1)) == 1
    alarm = Alarm.objects.get()
    assert alarm.source_key == f"patrol-missed:{run.pk}:0"
    assert alarm.priority == 3
    assert alarm.zone == world.a.zone
    assert alarm.community_id == run.community_id
    assert "北门" in alarm.title
    assert run.route_name in alarm.title
    assert alarm.why["patrol_run"] == run.pk
    assert alarm.why["stop"] == 0
    assert AlarmStep.objects.filter(alarm=alarm).count() == 1
    assert AuditEvent.objects.filter(action="alarm.raise", object_id=str(alarm.pk)).exists()
    # Again, later: nothing new for the same stop.
    assert services.patrol_runs_check(now=at(GAP + GRACE_SECONDS + 30)) == 0
    assert Alarm.objects.count() == 1


def test_already_raised_alarms_cost_one_query_per_tick(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    start_run(world, "a")
    start_run(world, "b")
    services.patrol_runs_check(now=at(100_000))
    assert Alarm.objects.count() == 6  # two stops and the run, twice
    with django_assert_max_num_queries(4):  # runs, check-ins, known alarms; schedules
        assert services.patrol_runs_check(now=at(100_001)) == 0


def test_the_zones_of_missed_checkpoints_are_read_in_one_query(world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    runs = [start_run(world, "a"), start_run(world, "b")]
    with CaptureQueriesContext(connection) as queries:
        assert services.patrol_runs_check(now=at(100_000)) == 6
    checkpoint_reads = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().startswith("SELECT") and '"patrols_checkpoint"' in query["sql"]
    ]
    assert len(checkpoint_reads) == 1
    gate = Alarm.objects.get(source_key=f"patrol-missed:{runs[0].pk}:0")
    assert gate.zone == world.a.zone
    assert Alarm.objects.get(source_key=f"patrol-missed:{runs[0].pk}:1").zone is None


def test_a_round_back_to_the_gate_is_missed_when_the_guard_does_not_return(world: Any) -> None:
    area = world.a
    gate = make_checkpoint(area, "北门")
    yard = make_checkpoint(area, "花园", point={"type": "Point", "coordinates": [114.31, 30.51]})
    route = make_route(area, gate, yard, gate, name="一圈")
    run = services.patrol_run_start(actor=world.user("guard"), route=route)
    PatrolRun.objects.filter(pk=run.pk).update(started_at=START)
    run.refresh_from_db()
    accept(run, 0, 60)
    accept(run, 1, 600)
    # The last stop is due a gap after the garden; the gate's first check-in does not cover it.
    assert services.patrol_runs_check(now=at(600 + GAP + GRACE_SECONDS + 1)) == 1
    assert Alarm.objects.get().source_key == f"patrol-missed:{run.pk}:2"


def test_a_check_in_in_time_raises_nothing_and_moves_the_next_due(world: Any) -> None:
    run = start_run(world)
    accept(run, 0, 600)
    assert services.patrol_runs_check(now=at(600 + GAP + GRACE_SECONDS)) == 0
    assert services.patrol_runs_check(now=at(600 + GAP + GRACE_SECONDS + 1)) == 1
    assert Alarm.objects.get().source_key == f"patrol-missed:{run.pk}:1"


def test_an_overdue_run_raises_a_p2_alarm_once(world: Any) -> None:
    run = start_run(world)
    accept(run, 0, 60)
    accept(run, 0, 70)  # a duplicate does not count twice
    limit = 2 * (GAP + DWELL) * 1.5
    services.patrol_runs_check(now=at(limit))
    assert not Alarm.objects.filter(source_key=f"patrol-overdue:{run.pk}").exists()
    services.patrol_runs_check(now=at(limit + 1))
    overdue = Alarm.objects.get(source_key=f"patrol-overdue:{run.pk}")
    assert overdue.priority == 2
    services.patrol_runs_check(now=at(limit + 60))
    assert Alarm.objects.filter(source_key=f"patrol-overdue:{run.pk}").count() == 1


def test_finished_and_abandoned_runs_raise_nothing(world: Any) -> None:
    run = start_run(world)
    PatrolRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED, finished_at=at(60))
    assert services.patrol_runs_check(now=at(100_000)) == 0
    PatrolRun.objects.filter(pk=run.pk).update(status=RunStatus.ABANDONED)
    assert services.patrol_runs_check(now=at(100_000)) == 0
    assert not Alarm.objects.exists()


def test_each_community_gets_its_own_alarms(world: Any) -> None:
    run_a = start_run(world, "a")
    run_b = start_run(world, "b")
    assert services.patrol_runs_check(now=at(GAP + GRACE_SECONDS + 1)) == 2
    assert Alarm.objects.get(source_key=f"patrol-missed:{run_a.pk}:0").community_id == (
        world.a.community.pk
    )
    assert Alarm.objects.get(source_key=f"patrol-missed:{run_b.pk}:0").community_id == (
        world.b.community.pk
    )


def test_without_runs_or_schedules_the_check_is_two_queries(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(2):
        assert services.patrol_runs_check(now=timezone.now()) == 0


def test_the_check_of_quiet_runs_stays_cheap(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    start_run(world, "a")
    start_run(world, "b")
    with django_assert_max_num_queries(3):  # runs, check-ins; schedules
        assert services.patrol_runs_check(now=at(60)) == 0


def test_alarm_raise_system_once_per_key(world: Any) -> None:
    community = world.a.community
    first = alarm_raise_system(
        community=community, source_key="test:1", priority=3, title="Something", data={"x": 1}
    )
    assert first is not None
    assert first.why["x"] == 1
    assert first.source_key == "test:1"
    again = alarm_raise_system(community=community, source_key="test:1", priority=3, title="Again")
    assert again is None
    # Also after closing: the key stays taken.
    Alarm.objects.filter(pk=first.pk).update(state="resolved")
    assert (
        alarm_raise_system(community=community, source_key="test:1", priority=3, title="X") is None
    )
    assert Alarm.objects.filter(source_key="test:1").count() == 1
    other = alarm_raise_system(community=community, source_key="test:2", priority=2, title="Y")
    assert other is not None


def test_the_database_refuses_a_second_alarm_with_the_same_key(world: Any) -> None:
    alarm = alarm_raise_system(
        community=world.a.community, source_key="test:race", priority=3, title="T"
    )
    assert alarm is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Alarm.objects.create(
            community=world.a.community,
            priority=3,
            title="T",
            group_key="g",
            source_key="test:race",
            raised_at=timezone.now(),
            last_fired_at=timezone.now(),
        )


def test_a_concurrent_caller_that_loses_the_race_gets_none(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alarm_raise_system(community=world.a.community, source_key="test:late", priority=3, title="T")
    # The second caller looked before the first one's insert: its own insert then fails.
    real_filter = Alarm.objects.filter
    calls = {"n": 0}

    def looks_empty_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_filter(pk=-1)
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Alarm.objects, "filter", looks_empty_once)
    again = alarm_raise_system(
        community=world.a.community, source_key="test:late", priority=3, title="T"
    )
    assert again is None
    monkeypatch.undo()
    assert Alarm.objects.filter(source_key="test:late").count() == 1


# --------------------------------------------------------------------------- shifts not started


def night_schedule(world: Any, side: str = "a", **extra: Any) -> Any:
    """A daily two-hour shift of ``side``'s route from an hour from now, fixed order."""
    from anwang.patrols.tests.test_schedule_services import minute

    area = getattr(world, side)
    booth = make_checkpoint(area, "岗亭")
    route = make_route(area, booth, name=f"班线{side}")
    values: dict[str, Any] = {
        "name": f"夜班{side}",
        "first_start": minute(timezone.now() + dt.timedelta(hours=1)),
        "duration": dt.timedelta(hours=2),
        "rrule": "FREQ=DAILY",
        "guards": [world.user("guard", side)],
    } | extra
    return services.patrol_schedule_create(
        actor=None, community=area.community, route=route, **values
    )


def test_a_shift_not_started_raises_one_alarm(world: Any) -> None:
    schedule = night_schedule(world)
    # The first checkpoint is due its gap after the planned start, then the grace runs out.
    due = schedule.first_start + dt.timedelta(seconds=GAP + GRACE_SECONDS)
    assert services.patrol_runs_check(now=due) == 0
    assert services.patrol_runs_check(now=due + dt.timedelta(seconds=1)) == 1
    key = timezone.localtime(schedule.first_start).strftime("%Y%m%dT%H%M")
    alarm = Alarm.objects.get()
    assert alarm.source_key == f"patrol-shift-missed:{schedule.pk}:{key}"
    assert alarm.priority == 3
    assert alarm.community_id == world.a.community.pk
    assert "was not started" in alarm.title
    assert alarm.why["shift_key"] == key
    assert services.patrol_runs_check(now=due + dt.timedelta(minutes=30)) == 0
    assert Alarm.objects.count() == 1


def test_a_started_shift_and_an_inactive_schedule_raise_nothing(world: Any) -> None:
    started = night_schedule(world)
    key = timezone.localtime(started.first_start).strftime("%Y%m%dT%H%M")
    PatrolRun.objects.filter(pk=start_run(world).pk).update(schedule=started, shift_key=key)
    resting = night_schedule(world, "b", is_active=False)
    due = started.first_start + dt.timedelta(seconds=GAP + GRACE_SECONDS + 1)
    services.patrol_runs_check(now=due)
    assert not Alarm.objects.filter(source_key__startswith="patrol-shift-missed:").exists()
    assert resting.first_start == started.first_start


def test_an_abandoned_shift_counts_as_not_started(world: Any) -> None:
    schedule = night_schedule(world)
    key = timezone.localtime(schedule.first_start).strftime("%Y%m%dT%H%M")
    run = start_run(world)
    PatrolRun.objects.filter(pk=run.pk).update(
        schedule=schedule, shift_key=key, status=RunStatus.ABANDONED
    )
    due = schedule.first_start + dt.timedelta(seconds=GAP + GRACE_SECONDS + 1)
    services.patrol_runs_check(now=due)
    assert Alarm.objects.filter(source_key__startswith="patrol-shift-missed:").count() == 1


def test_shifts_over_before_the_schedule_existed_are_not_alarmed(world: Any) -> None:
    from anwang.patrols.tests.test_schedule_services import minute

    night_schedule(world, first_start=minute(timezone.now() - dt.timedelta(hours=5)))
    assert services.patrol_runs_check(now=timezone.now()) == 0
    assert not Alarm.objects.exists()


def test_the_shift_check_stays_cheap_with_many_schedules(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    first = night_schedule(world)
    night_schedule(world, "b")
    due = first.first_start + dt.timedelta(seconds=GAP + GRACE_SECONDS + 1)
    assert services.patrol_runs_check(now=due) == 2
    # Already alarmed: schedules with their stops, the runs of the shifts, the known alarms.
    with django_assert_max_num_queries(6):
        assert services.patrol_runs_check(now=due + dt.timedelta(seconds=10)) == 0

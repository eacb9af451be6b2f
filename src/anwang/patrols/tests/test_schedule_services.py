"""Tests of the patrol schedule services and selectors: rules, guards, shift windows, secrecy."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from anwang.core.errors import ConflictError, ServiceError
from anwang.patrols import selectors, services
from anwang.patrols.choices import RunOrder, RunStatus, ShiftStatus
from anwang.patrols.models import PatrolRun, PatrolSchedule
from anwang.patrols.schedules import planned_order
from anwang.patrols.tests.conftest import make_checkpoint, make_route

pytestmark = pytest.mark.django_db


def minute(value: dt.datetime) -> dt.datetime:
    """A time cut to the minute, in the community's zone."""
    return timezone.localtime(value).replace(second=0, microsecond=0)


def make_schedule(world: Any, *, start: dt.datetime | None = None, **extra: Any) -> PatrolSchedule:
    """A daily schedule of side a's route with four stops, assigned to the guard."""
    side = world.a
    route = getattr(world, "_route", None)
    if route is None:
        points = [make_checkpoint(side, name=f"点{index}") for index in range(4)]
        route = make_route(side, *points)
        world._route = route
    values: dict[str, Any] = {
        "name": "夜班",
        "first_start": start or minute(timezone.now() - dt.timedelta(minutes=5)),
        "duration": dt.timedelta(hours=2),
        "rrule": "FREQ=DAILY",
        "guards": [world.user("guard")],
    } | extra
    return services.patrol_schedule_create(
        actor=world.user("community_admin"), community=side.community, route=route, **values
    )


def first_key(schedule: PatrolSchedule) -> str:
    """The key of the schedule's first shift."""
    return timezone.localtime(schedule.first_start).strftime("%Y%m%dT%H%M")


def test_create_cleans_the_rule_and_audits(world: Any) -> None:
    schedule = make_schedule(world, rrule="rrule:freq=weekly;byday=mo,fr")
    assert schedule.rrule == "FREQ=WEEKLY;BYDAY=MO,FR"
    assert list(schedule.guards.all()) == [world.user("guard")]
    from anwang.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="patrol_schedule.create").exists()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "Enter a recurrence rule"),
        ("FREQ=SECONDLY", "must repeat hourly, daily, weekly or monthly"),
        ("FREQ=DAILY;BYMINUTE=5", "BYMINUTE is not used here"),
        ("FREQ=DAILY;BYDAY=XX", "not a valid recurrence rule"),
    ],
)
def test_a_bad_rule_is_a_field_error(world: Any, rule: str, message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        make_schedule(world, rrule=rule)
    assert caught.value.field == "rrule"
    assert message in str(caught.value.message)
    assert not PatrolSchedule.objects.exists()


def test_only_guards_who_may_run_patrols_are_assigned(world: Any) -> None:
    with pytest.raises(ServiceError) as caught:
        make_schedule(world, guards=[world.user("resident")])
    assert caught.value.field == "guards"
    with pytest.raises(ServiceError):
        make_schedule(world, guards=[world.user("guard", "b")])


def test_only_managers_create_schedules(world: Any) -> None:
    route = make_route(world.a, make_checkpoint(world.a))
    with pytest.raises(PermissionDenied):
        services.patrol_schedule_create(
            actor=world.user("guard"),
            community=world.a.community,
            route=route,
            name="x",
            first_start=timezone.now(),
            duration=dt.timedelta(hours=1),
            rrule="FREQ=DAILY",
        )


def test_update_and_delete_keep_runs(world: Any) -> None:
    schedule = make_schedule(world)
    admin = world.user("community_admin")
    services.patrol_schedule_update(actor=admin, schedule=schedule, name="早班", guards=[])
    schedule.refresh_from_db()
    assert schedule.name == "早班"
    assert not schedule.guards.exists()
    services.patrol_schedule_update(actor=admin, schedule=schedule, guards=[world.user("guard")])
    run = services.patrol_shift_start(
        actor=world.user("guard"), schedule=schedule, shift_key=first_key(schedule)
    )
    services.patrol_schedule_delete(actor=admin, schedule=schedule)
    run.refresh_from_db()
    assert run.schedule_id is None


def test_fixed_shift_runs_in_route_order(world: Any) -> None:
    schedule = make_schedule(world)
    run = services.patrol_shift_start(
        actor=world.user("guard"), schedule=schedule, shift_key=first_key(schedule)
    )
    assert run.schedule == schedule
    assert run.shift_key == first_key(schedule)
    assert [stop["name"] for stop in run.plan] == ["点0", "点1", "点2", "点3"]


def test_random_shift_runs_in_the_planned_order(world: Any) -> None:
    schedule = make_schedule(world, order_mode=RunOrder.RANDOM)
    key = first_key(schedule)
    run = services.patrol_shift_start(actor=world.user("guard"), schedule=schedule, shift_key=key)
    order = planned_order(
        stop_ids=[0, 1, 2, 3],
        key=selectors.plan_key(),
        schedule_id=schedule.pk,
        shift_key=key,
        randomise=True,
    )
    assert [stop["name"] for stop in run.plan] == [f"点{index}" for index in order]
    assert run.order_mode == RunOrder.RANDOM


def test_a_guard_not_assigned_is_refused(world: Any) -> None:
    schedule = make_schedule(world, guards=[world.user("volunteer")])
    with pytest.raises(PermissionDenied):
        services.patrol_shift_start(
            actor=world.user("guard"), schedule=schedule, shift_key=first_key(schedule)
        )
    assert not PatrolRun.objects.exists()


def test_a_shift_outside_its_window_is_refused(world: Any) -> None:
    later = make_schedule(world, start=minute(timezone.now() + dt.timedelta(hours=1)))
    with pytest.raises(ConflictError) as caught:
        services.patrol_shift_start(
            actor=world.user("guard"), schedule=later, shift_key=first_key(later)
        )
    assert caught.value.code == "shift_not_open"
    over = make_schedule(world, name="过去", start=minute(timezone.now() - dt.timedelta(hours=3)))
    with pytest.raises(ConflictError):
        services.patrol_shift_start(
            actor=world.user("guard"), schedule=over, shift_key=first_key(over)
        )
    with pytest.raises(ServiceError) as caught_key:
        services.patrol_shift_start(
            actor=world.user("guard"), schedule=over, shift_key="20000101T0000"
        )
    assert caught_key.value.field == "shift_key"


def test_a_shift_is_run_once(world: Any) -> None:
    schedule = make_schedule(world)
    guard = world.user("guard")
    run = services.patrol_shift_start(actor=guard, schedule=schedule, shift_key=first_key(schedule))
    services.patrol_run_finish(actor=guard, run=run)
    with pytest.raises(ConflictError) as caught:
        services.patrol_shift_start(actor=guard, schedule=schedule, shift_key=first_key(schedule))
    assert caught.value.code == "shift_taken"


def test_an_abandoned_shift_can_be_run_again(world: Any) -> None:
    schedule = make_schedule(world)
    guard = world.user("guard")
    run = services.patrol_shift_start(actor=guard, schedule=schedule, shift_key=first_key(schedule))
    services.patrol_run_abandon(actor=world.user("community_admin"), run=run, reason="phone died")
    again = services.patrol_shift_start(
        actor=guard, schedule=schedule, shift_key=first_key(schedule)
    )
    assert again.status == RunStatus.IN_PROGRESS


def test_shift_status_and_missed_shift(world: Any) -> None:
    from anwang.accounts.selectors import scope_for

    start = minute(timezone.now() - dt.timedelta(days=2, minutes=5))
    schedule = make_schedule(world, start=start)
    scope = scope_for(world.user("community_admin"))
    views = selectors.schedule_shift_list(
        scope, schedule, since=start, until=timezone.now() + dt.timedelta(days=1)
    )
    assert [view.status for view in views] == [
        ShiftStatus.MISSED,
        ShiftStatus.MISSED,
        ShiftStatus.NOT_STARTED,
        ShiftStatus.NOT_STARTED,
    ]
    guard = world.user("guard")
    services.patrol_shift_start(actor=guard, schedule=schedule, shift_key=views[2].key)
    views = selectors.schedule_shift_list(
        scope, schedule, since=start, until=timezone.now() + dt.timedelta(days=1)
    )
    assert views[2].status == ShiftStatus.IN_PROGRESS


def test_the_plan_is_secret_before_the_window(world: Any) -> None:
    from anwang.accounts.selectors import scope_for

    start = minute(timezone.now() + dt.timedelta(hours=1))
    make_schedule(world, start=start, random_start=True, order_mode=RunOrder.RANDOM)
    since, until = timezone.now(), timezone.now() + dt.timedelta(days=1, hours=2)
    mine = selectors.my_shift_list(scope_for(world.user("guard")), since=since, until=until)
    assert len(mine) == 2
    assert all(view.planned_start is None and view.stop_names is None for view in mine)
    assert not any(view.can_start for view in mine)
    managed = selectors.community_shift_list(
        scope_for(world.user("community_admin")), world.a.community.pk, since=since, until=until
    )
    assert managed[0].planned_start is not None
    assert managed[0].shift.start <= managed[0].planned_start < managed[0].shift.end
    assert sorted(managed[0].stop_names or []) == ["点0", "点1", "点2", "点3"]


def test_the_guard_sees_the_plan_in_the_window(world: Any) -> None:
    from anwang.accounts.selectors import scope_for

    make_schedule(world, order_mode=RunOrder.RANDOM)
    mine = selectors.my_shift_list(
        scope_for(world.user("guard")),
        since=timezone.now(),
        until=timezone.now() + dt.timedelta(hours=1),
    )
    assert len(mine) == 1
    assert mine[0].planned_start is not None
    assert mine[0].can_start


def test_a_utc_until_is_accepted_and_exported_in_utc() -> None:
    """RFC 5545 wants UNTIL in UTC next to a DTSTART with a time zone; both forms work."""
    import zoneinfo

    import icalendar

    from anwang.core.ical import CalendarEntry, calendar_ics
    from anwang.patrols.schedules import rrule_clean, rule_for_calendar, shifts

    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    first = dt.datetime(2026, 12, 20, 22, tzinfo=zone)
    found = {}
    for rule in ("FREQ=DAILY;UNTIL=20261222T140000Z", "FREQ=DAILY;UNTIL=20261222T220000"):
        clean = rrule_clean(rule)
        found[rule] = shifts(
            rule=clean,
            first_start=first,
            duration=dt.timedelta(hours=1),
            since=first,
            until=first + dt.timedelta(days=10),
        )
        ics = calendar_ics(
            [
                CalendarEntry(
                    uid="x",
                    summary="x",
                    start=first,
                    duration=dt.timedelta(hours=1),
                    rule=rule_for_calendar(clean, zone),
                    updated_at=first,
                )
            ],
            name="x",
        )
        event = next(iter(icalendar.Calendar.from_ical(ics).walk("VEVENT")))
        assert event["rrule"].to_ical() == b"FREQ=DAILY;UNTIL=20261222T140000Z"
    assert [len(value) for value in found.values()] == [3, 3]


def test_approved_members_of_a_team_are_assigned(world: Any) -> None:
    from anwang.accounts.selectors import scope_for
    from anwang.volunteers.models import Team, Volunteer

    volunteer = world.user("volunteer")
    member = Volunteer.objects.create(
        community=world.a.community, user=volunteer, status="applied", applied_at=timezone.now()
    )
    team = Team.objects.create(community=world.a.community, name="巡逻队")
    team.members.add(member)
    schedule = make_schedule(world, guards=[], teams=[team])
    scope = scope_for(volunteer)
    window = {"since": timezone.now(), "until": timezone.now() + dt.timedelta(hours=1)}
    assert selectors.my_shift_list(scope, **window) == []
    with pytest.raises(PermissionDenied):
        services.patrol_shift_start(
            actor=volunteer, schedule=schedule, shift_key=first_key(schedule)
        )
    Volunteer.objects.filter(pk=member.pk).update(status="approved")
    schedule = selectors.patrol_schedule_get(scope, schedule.pk)
    assert [view.can_start for view in selectors.my_shift_list(scope, **window)] == [True]
    run = services.patrol_shift_start(
        actor=volunteer, schedule=schedule, shift_key=first_key(schedule)
    )
    assert run.guard == volunteer
    other_team = Team.objects.create(community=world.b.community, name="别队")
    with pytest.raises(ServiceError) as caught:
        services.patrol_schedule_update(
            actor=world.user("community_admin"), schedule=schedule, teams=[other_team]
        )
    assert caught.value.field == "teams"


def test_the_plan_shown_is_the_plan_walked_without_retired_checkpoints(world: Any) -> None:
    from anwang.accounts.selectors import scope_for

    schedule = make_schedule(world, order_mode=RunOrder.RANDOM)
    retired = schedule.route.stops.get(order=1).checkpoint
    services.checkpoint_retire(actor=world.user("community_admin"), checkpoint=retired)
    mine = selectors.my_shift_list(
        scope_for(world.user("guard")),
        since=timezone.now(),
        until=timezone.now() + dt.timedelta(hours=1),
    )
    assert mine[0].stop_names is not None
    assert retired.name not in mine[0].stop_names
    run = services.patrol_shift_start(
        actor=world.user("guard"), schedule=schedule, shift_key=mine[0].key
    )
    assert mine[0].stop_names == [stop["name"] for stop in run.plan]


def test_a_shift_opens_fifteen_real_minutes_before_its_start_across_daylight_saving(
    world: Any, settings: Any
) -> None:
    from zoneinfo import ZoneInfo

    # Berlin skips 02:00-03:00 on 29 March 2026: fifteen minutes before 03:05 is 01:50 on the
    # clock, not the skipped 02:50 (which would open the shift 45 minutes after its start).
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    schedule = make_schedule(world, start=dt.datetime(2026, 3, 28, 3, 5, tzinfo=berlin))
    shift = selectors.schedule_shift(schedule, "20260329T0305")
    assert shift is not None
    opens = selectors.shift_opens_at(schedule, shift)
    assert shift.start.astimezone(dt.UTC) - opens.astimezone(dt.UTC) == dt.timedelta(minutes=15)
    assert (opens.hour, opens.minute) == (1, 50)


@pytest.mark.parametrize(
    ("rule", "hours", "overlaps"),
    [
        ("FREQ=HOURLY;INTERVAL=2", 3, True),
        ("FREQ=HOURLY;INTERVAL=2", 2, False),
        ("FREQ=DAILY", 24, False),
        ("FREQ=DAILY;BYHOUR=22,23", 2, True),
    ],
)
def test_shifts_that_overlap_are_refused(world: Any, rule: str, hours: int, overlaps: bool) -> None:
    # A guard walks one run at a time: overlapping shifts would be missed every time.
    duration = dt.timedelta(hours=hours)
    if not overlaps:
        assert make_schedule(world, rrule=rule, duration=duration).pk is not None
        return
    with pytest.raises(ServiceError) as caught:
        make_schedule(world, rrule=rule, duration=duration)
    assert caught.value.field == "duration"
    assert "begins before the one before it ends" in str(caught.value.message)
    assert not PatrolSchedule.objects.exists()


def test_an_update_that_makes_shifts_overlap_keeps_the_schedule(world: Any) -> None:
    schedule = make_schedule(world, rrule="FREQ=HOURLY;INTERVAL=4", duration=dt.timedelta(hours=2))
    with pytest.raises(ServiceError):
        services.patrol_schedule_update(
            actor=world.user("community_admin"), schedule=schedule, duration=dt.timedelta(hours=5)
        )
    schedule.refresh_from_db()
    assert schedule.duration == dt.timedelta(hours=2)

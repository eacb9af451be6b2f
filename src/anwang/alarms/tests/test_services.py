"""Alarm services: raising from firings (grouping, cooldown, idempotency, the one-open
constraint), raising by hand, every lifecycle transition, permissions, photos, response times."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import translation
from PIL import Image

from anwang.alarms import services
from anwang.alarms.choices import AlarmState, StepAction
from anwang.alarms.models import Alarm, AlarmEvent, AlarmStep, AlarmTrigger, ResponseTime
from anwang.alarms.tests.conftest import T0, firing, make_device, make_event, make_rule
from anwang.audit.models import AuditEvent
from anwang.core import images
from anwang.core.errors import ConflictError, ServiceError

pytestmark = pytest.mark.django_db


def raise_one(rule: Any, device: Any, **extra: Any) -> Alarm:
    (alarm,) = services.alarms_from_firings(firings=[firing(rule, device=device, **extra)], now=T0)
    return alarm


# --------------------------------------------------------------------------- from firings


def test_a_firing_raises_an_alarm_with_due_times_and_history(world, rule, device):
    event = make_event(device)
    alarm = raise_one(rule, device, events=(event.pk,))
    assert alarm.state == AlarmState.RAISED
    assert alarm.priority == 1
    assert alarm.community_id == world.a.community.pk
    assert alarm.device_id == device.pk
    assert alarm.zone_id == world.a.zone.pk
    assert alarm.raised_at == T0
    assert alarm.count == 1
    assert alarm.acknowledge_due_at == T0 + dt.timedelta(seconds=15)
    assert alarm.on_scene_due_at == T0 + dt.timedelta(minutes=5)
    assert alarm.why == {"kind": "smoke", "value": True}
    assert alarm.title_template == "Smoke at {device}"
    assert alarm.display_title() == "Smoke at sensor smoke-1"
    assert list(alarm.steps.values_list("action", flat=True)) == [StepAction.RAISED]
    assert list(AlarmEvent.objects.values_list("device_event_id", flat=True)) == [event.pk]
    assert AlarmTrigger.objects.get().alarm == alarm


def test_a_flapping_sensor_makes_one_alarm_whose_count_rises(world, rule, device):
    events = [make_event(device, T0 + dt.timedelta(seconds=10 * n)) for n in range(5)]
    firings = [
        firing(rule, device=device, at=event.received_at, events=(event.pk,)) for event in events
    ]
    services.alarms_from_firings(firings=firings[:2], now=T0)
    services.alarms_from_firings(firings=firings[2:], now=T0)
    alarm = Alarm.objects.get()
    assert alarm.count == 5
    assert alarm.last_fired_at == T0 + dt.timedelta(seconds=40)
    assert alarm.raised_at == T0
    assert alarm.alarm_events.count() == 5
    # One step per batch for its firings again: a flapping sensor does not bury the history.
    steps = [
        (step.action, step.data.get("count"), step.data.get("times"))
        for step in alarm.steps.order_by("id")
    ]
    assert steps == [
        (StepAction.RAISED, None, None),
        (StepAction.REPEATED, 2, None),
        (StepAction.REPEATED, 5, 3),
    ]


def test_other_devices_and_rules_get_their_own_alarms(world, rule, device):
    other = make_device(world.a, "smoke-2")
    gas = make_rule(world.a, "gas", title_template="Gas at {device}")
    services.alarms_from_firings(
        firings=[
            firing(rule, device=device),
            firing(rule, device=other),
            firing(gas, device=device),
        ],
        now=T0,
    )
    assert Alarm.objects.count() == 3


def test_the_same_firing_twice_is_counted_once(world, rule, device):
    event = make_event(device)
    again = firing(rule, device=device, key=f"event:{event.pk}", events=(event.pk,))
    services.alarms_from_firings(firings=[again, again], now=T0)
    services.alarms_from_firings(firings=[again], now=T0)  # redelivered after a restart
    alarm = Alarm.objects.get()
    assert alarm.count == 1
    assert alarm.steps.count() == 1
    assert AlarmTrigger.objects.count() == 1


def test_cooldown_joins_a_false_alarm_without_reopening_it(world, rule, device):
    alarm = raise_one(rule, device)
    services.alarm_false(actor=None, alarm=alarm, reason="sensor flapping")
    within = firing(rule, device=device, at=T0 + dt.timedelta(seconds=300))
    services.alarms_from_firings(firings=[within], now=T0)
    alarm.refresh_from_db()
    assert Alarm.objects.count() == 1
    assert alarm.state == AlarmState.FALSE_ALARM
    assert alarm.count == 2
    assert alarm.steps.filter(action=StepAction.REPEATED).count() == 1
    # Past the cooldown (counted from the last firing) a new alarm is raised.
    after = firing(rule, device=device, at=T0 + dt.timedelta(seconds=601))
    (fresh,) = services.alarms_from_firings(firings=[after], now=T0)
    assert fresh.pk != alarm.pk
    assert fresh.state == AlarmState.RAISED


def test_a_resolved_alarm_coming_back_raises_a_new_one_at_once(world, rule, device):
    alarm = raise_one(rule, device)
    services.alarm_resolve(actor=None, alarm=alarm)
    again = firing(rule, device=device, at=T0 + dt.timedelta(seconds=30))
    (fresh,) = services.alarms_from_firings(firings=[again], now=T0)
    assert fresh.pk != alarm.pk
    assert fresh.state == AlarmState.RAISED


def test_no_cooldown_raises_again_after_closing(world, device):
    rule = make_rule(world.a, cooldown_seconds=0)
    alarm = raise_one(rule, device)
    services.alarm_false(actor=None, alarm=alarm, reason="test")
    second = raise_one(rule, device, at=T0 + dt.timedelta(seconds=1))
    assert second.pk != alarm.pk


def test_community_response_times_set_the_due_times(world, rule, device):
    ResponseTime.objects.create(
        community=world.a.community, priority=1, acknowledge_seconds=30, on_scene_seconds=120
    )
    alarm = raise_one(rule, device)
    assert alarm.acknowledge_due_at == T0 + dt.timedelta(seconds=30)
    assert alarm.on_scene_due_at == T0 + dt.timedelta(seconds=120)


def test_p4_is_due_within_half_a_day_without_an_operators_roster(world, device):
    rule = make_rule(world.a, "battery", priority=4, title_template="Battery low: {device}")
    alarm = raise_one(rule, device)
    assert alarm.acknowledge_due_at == T0 + dt.timedelta(hours=12)


def test_p4_is_due_by_the_operators_next_shift_change(world, device):
    from anwang.rosters.models import DutyPattern

    # Operators change at 08:00 and 20:00 local time (UTC+8).
    shanghai = dt.timezone(dt.timedelta(hours=8))
    day = T0.astimezone(shanghai).replace(hour=8, minute=0, second=0, microsecond=0)
    for hour in (0, 12):
        DutyPattern.objects.create(
            community=world.a.community,
            duty_role="operator",
            person=world.user("operator"),
            first_start=day - dt.timedelta(days=2) + dt.timedelta(hours=hour),
            duration=dt.timedelta(hours=12),
            rrule="FREQ=DAILY",
        )
    rule = make_rule(world.a, "battery", priority=4, title_template="Battery low: {device}")
    at = day + dt.timedelta(hours=3)  # 11:00: due at 20:00
    alarm = raise_one(rule, device, at=at)
    assert alarm.acknowledge_due_at == day + dt.timedelta(hours=12)
    assert alarm.on_scene_due_at == day + dt.timedelta(hours=12)
    # Raised at 19:30, half an hour before the change: left to the night shift (08:00).
    late = make_rule(world.a, "battery late", priority=4, title_template="Battery: {device}")
    alarm = raise_one(late, device, at=day + dt.timedelta(hours=11, minutes=30))
    assert alarm.acknowledge_due_at == day + dt.timedelta(hours=24)
    # A community's own P4 times replace the shift change.
    ResponseTime.objects.create(
        community=world.a.community, priority=4, acknowledge_seconds=600, on_scene_seconds=3600
    )
    third = make_rule(world.a, "battery own", priority=4, title_template="B: {device}")
    alarm = raise_one(third, device, at=at)
    assert alarm.acknowledge_due_at == at + dt.timedelta(seconds=600)


def test_title_is_stored_in_the_default_language_and_shown_in_the_readers(world, device, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    rule = make_rule(world.a, title_template="Smoke at {device}, {missing}")
    alarm = raise_one(rule, device)
    assert "{missing}" in alarm.title  # an unknown placeholder stays as written
    with translation.override("en"):
        assert alarm.display_title() == "Smoke at sensor smoke-1, {missing}"
    broken = make_rule(world.a, "broken", title_template="Smoke {device")
    assert raise_one(broken, device).title == "Smoke {device"


def test_concurrent_raise_meets_the_constraint_and_joins(world, rule, device):
    """A second worker's alarm for the same group cannot be open at once: the database
    refuses it, and the firing joins the alarm that won."""
    winner = raise_one(rule, device)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alarm.objects.create(
            community=world.a.community,
            rule=rule,
            priority=1,
            title="x",
            group_key=winner.group_key,
            raised_at=T0,
            last_fired_at=T0,
        )
    # The service's path after that refusal: it finds the open alarm and joins it.
    late = firing(rule, device=device, at=T0 + dt.timedelta(seconds=1))
    joined = services._after_conflict(late)
    assert joined is not None
    assert joined.pk == winner.pk
    winner.refresh_from_db()
    assert winner.count == 2
    # Already counted by the other worker: nothing happens.
    assert services._after_conflict(late) is None


def test_raise_when_the_candidate_was_missed_joins_through_the_constraint(
    world, rule, device, monkeypatch
):
    """Simulates the race: the batch did not see the other worker's open alarm."""
    winner = raise_one(rule, device)
    monkeypatch.setattr(services, "_joinable", lambda *args: None)
    (alarm,) = services.alarms_from_firings(
        firings=[firing(rule, device=device, at=T0 + dt.timedelta(seconds=2))], now=T0
    )
    assert alarm.pk == winner.pk
    assert Alarm.objects.count() == 1
    winner.refresh_from_db()
    assert winner.count == 2


def test_batch_query_count_does_not_grow_with_events(
    world, rule, device, django_assert_max_num_queries
):
    events = [make_event(device, T0 + dt.timedelta(seconds=n)) for n in range(20)]
    batch = [firing(rule, device=device, events=tuple(e.pk for e in events))]
    # 14: on PostgreSQL the live message also takes its advisory lock and sends a NOTIFY; the
    # links already there are read first (a count that keeps firing names the same events).
    with django_assert_max_num_queries(14):
        services.alarms_from_firings(firings=batch, now=T0)
    assert AlarmEvent.objects.count() == 20
    more = [make_event(device, T0 + dt.timedelta(seconds=100 + n)) for n in range(40)]
    again = [
        firing(
            rule,
            device=device,
            events=tuple(e.pk for e in more),
            at=T0 + dt.timedelta(seconds=200),
        )
    ]
    # Twice the events: not one query more.
    with django_assert_max_num_queries(14):
        services.alarms_from_firings(firings=again, now=T0)
    assert AlarmEvent.objects.count() == 60


def test_a_batch_decides_in_order_as_one_by_one(world, rule, device):
    """One batch: firings join a false alarm within the cooldown (counted from its latest
    firing, which each join moves on), raise a new alarm past it, and later ones join that
    new open alarm; the same firings one by one give the same alarms, counts and steps."""

    def run(rule: Any) -> list[Any]:
        first = raise_one(rule, device)
        services.alarm_false(actor=None, alarm=first, reason="sensor flapping")
        seconds = (200, 450, 1000, 1010, 1020)
        return [
            firing(rule, device=device, at=T0 + dt.timedelta(seconds=s), key=f"k{s}")
            for s in seconds
        ]

    def outcome(rule: Any) -> list[tuple[str, int, dt.datetime]]:
        return [
            (
                alarm.state,
                alarm.count,
                alarm.last_fired_at,
            )
            for alarm in Alarm.objects.filter(rule=rule).order_by("id")
        ]

    batched_rule = rule
    batch = run(batched_rule)
    returned = services.alarms_from_firings(firings=batch, now=T0)
    single_rule = make_rule(world.a, "one by one")
    for each in run(single_rule):
        services.alarms_from_firings(firings=[each], now=T0)
    assert outcome(batched_rule) == outcome(single_rule)
    false_alarm, fresh = Alarm.objects.filter(rule=batched_rule).order_by("id")
    assert (false_alarm.state, false_alarm.count) == (AlarmState.FALSE_ALARM, 3)
    assert (fresh.state, fresh.count) == (AlarmState.RAISED, 3)
    assert fresh.raised_at == T0 + dt.timedelta(seconds=1000)
    assert [(a.pk, a.count) for a in returned] == [(false_alarm.pk, 3), (fresh.pk, 3)]
    assert AlarmTrigger.objects.filter(rule=batched_rule).count() == 6
    # The batch's firings again are one step per alarm, with how many.
    assert [
        (step.action, step.data.get("count"), step.data.get("times"))
        for step in false_alarm.steps.order_by("id")
    ] == [
        (StepAction.RAISED, None, None),
        (StepAction.FALSE_ALARM, None, None),
        (StepAction.REPEATED, 3, 2),
    ]


def test_the_callers_rules_spare_reading_them_and_joins_need_no_response_times(world, rule, device):
    """The worker passes the rules it read for the engine; a batch that only joins open
    alarms reads no response times (they are for raising)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from anwang.rules.history import rule_spec

    first = firing(rule, device=device, key="event:1")
    with CaptureQueriesContext(connection) as raising:
        (raised,) = services.alarms_from_firings(firings=[first], now=T0, rules=[rule_spec(rule)])
    joining_firing = firing(rule, device=device, key="event:2", at=T0 + dt.timedelta(seconds=1))
    with CaptureQueriesContext(connection) as joining:
        (joined,) = services.alarms_from_firings(
            firings=[joining_firing], now=T0, rules=[rule_spec(rule)], of_new_events=True
        )
    # Of events just stored: no firing can have been counted, and joining needs no savepoint.
    assert not [q for q in joining.captured_queries if "SAVEPOINT" in q["sql"].upper()]
    assert not [
        q
        for q in joining.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "alarms_alarmtrigger"' in q["sql"]
    ]

    def reads_of(table: str, captured: Any) -> int:
        return sum(f'FROM "{table}"' in query["sql"] for query in captured.captured_queries)

    assert reads_of("rules_rule", raising) == reads_of("rules_rule", joining) == 0
    assert (reads_of("alarms_responsetime", raising), reads_of("alarms_responsetime", joining)) == (
        1,
        0,
    )
    assert joined.pk == raised.pk
    assert Alarm.objects.get(pk=raised.pk).count == 2
    # The same as when the rules are read here.
    (again,) = services.alarms_from_firings(
        firings=[firing(rule, device=device, key="event:3", at=T0 + dt.timedelta(seconds=2))],
        now=T0,
    )
    assert again.pk == raised.pk
    assert again.count == 3


def test_a_batch_writes_each_alarm_once(world, rule, device):
    """The queries of a batch do not grow with its firings; a count's firings that share
    events link each event once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    events = [make_event(device, T0 + dt.timedelta(seconds=n)) for n in range(30)]
    raise_one(rule, device)
    other = make_device(world.a, "smoke-2")

    def batch(size: int, offset: int) -> list[Any]:
        return [
            firing(
                rule,
                device=each,
                at=T0 + dt.timedelta(seconds=offset + n),
                key=f"b{offset}:{each.pk}:{n}",
                events=tuple(e.pk for e in events[: n + 1]),
            )
            for n in range(size)
            for each in (device, other)
        ]

    with CaptureQueriesContext(connection) as small:
        services.alarms_from_firings(firings=batch(2, 100), now=T0)
    with CaptureQueriesContext(connection) as large:
        joined = services.alarms_from_firings(firings=batch(30, 200), now=T0)
    # The small batch also raised the second alarm; the large one only joins.
    assert len(large.captured_queries) <= len(small.captured_queries)
    assert [a.count for a in joined] == [1 + 2 + 30, 2 + 30]
    for alarm in joined:
        stored = Alarm.objects.get(pk=alarm.pk)
        assert (stored.count, stored.last_fired_at) == (alarm.count, alarm.last_fired_at)
        assert stored.alarm_events.count() == 30
    repeated = AlarmStep.objects.filter(alarm=joined[0], action=StepAction.REPEATED)
    assert [(step.data["count"], step.data.get("times")) for step in repeated.order_by("id")] == [
        (3, 2),
        (33, 30),
    ]


# --------------------------------------------------------------------------- by hand


def test_manual_raise(world):
    operator = world.user("operator")
    alarm = services.alarm_raise_manual(
        actor=operator,
        community=world.a.community,
        priority=2,
        title="Fight at the north gate",
        zone=world.a.zone,
        note="seen on camera",
    )
    assert alarm.rule is None
    assert alarm.state == AlarmState.RAISED
    assert alarm.display_title() == "Fight at the north gate"
    assert alarm.acknowledge_due_at == alarm.raised_at + dt.timedelta(seconds=60)
    assert alarm.steps.get().actor == operator
    assert AuditEvent.objects.filter(action="alarm.raise").exists()
    with pytest.raises(ServiceError) as error:
        services.alarm_raise_manual(
            actor=operator, community=world.a.community, priority=7, title="x"
        )
    assert error.value.field == "priority"
    with pytest.raises(ServiceError):
        services.alarm_raise_manual(
            actor=operator, community=world.a.community, priority=1, title="x", zone=world.b.zone
        )
    with pytest.raises(Http404):
        services.alarm_raise_manual(
            actor=world.user("operator", "b"), community=world.a.community, priority=1, title="x"
        )


# --------------------------------------------------------------------------- lifecycle


@pytest.fixture
def alarm(rule, device) -> Alarm:
    return raise_one(rule, device)


def test_full_lifecycle(world, alarm):
    operator, guard = world.user("operator"), world.user("guard")
    services.alarm_acknowledge(actor=operator, alarm=alarm, note="looking")
    assert alarm.state == AlarmState.ACKNOWLEDGED
    assert alarm.acknowledged_by == operator
    assert alarm.acknowledged_at
    services.alarm_dispatch(actor=operator, alarm=alarm, assignee=guard, note="go")
    assert alarm.state == AlarmState.DISPATCHED
    assert alarm.assignee == guard
    services.alarm_accept(actor=guard, alarm=alarm)
    assert alarm.accepted_at is not None
    services.alarm_arrive(actor=guard, alarm=alarm)
    assert alarm.state == AlarmState.ON_SCENE
    assert alarm.on_scene_at
    services.alarm_resolve(actor=guard, alarm=alarm, note="burnt toast")
    assert alarm.state == AlarmState.RESOLVED
    assert alarm.closed_by == guard
    assert alarm.close_reason == "burnt toast"
    steps = list(alarm.steps.values_list("action", "actor_id", "note"))
    assert steps == [
        (StepAction.RAISED, None, ""),
        (StepAction.ACKNOWLEDGED, operator.pk, "looking"),
        (StepAction.DISPATCHED, operator.pk, "go"),
        (StepAction.ACCEPTED, guard.pk, ""),
        (StepAction.ON_SCENE, guard.pk, ""),
        (StepAction.RESOLVED, guard.pk, "burnt toast"),
    ]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"alarm.acknowledge", "alarm.dispatch", "alarm.accept", "alarm.arrive"} <= actions
    assert "alarm.resolve" in actions


def test_dispatching_a_raised_alarm_acknowledges_it_and_may_be_repeated(world, alarm):
    operator = world.user("operator")
    services.alarm_dispatch(actor=operator, alarm=alarm, assignee=world.user("guard"))
    assert alarm.acknowledged_at is not None
    assert alarm.acknowledged_by == operator
    services.alarm_accept(actor=world.user("guard"), alarm=alarm)
    services.alarm_dispatch(actor=operator, alarm=alarm, assignee=world.user("community_admin"))
    assert alarm.assignee == world.user("community_admin")
    assert alarm.accepted_at is None  # the new person has not accepted yet


@pytest.mark.parametrize(
    ("state", "refused"),
    [
        (AlarmState.ACKNOWLEDGED, ["acknowledge", "accept", "arrive"]),
        (AlarmState.DISPATCHED, ["acknowledge"]),
        (AlarmState.ON_SCENE, ["acknowledge", "dispatch", "accept", "arrive"]),
        (
            AlarmState.RESOLVED,
            ["acknowledge", "dispatch", "accept", "arrive", "resolve", "false"],
        ),
        (
            AlarmState.FALSE_ALARM,
            ["acknowledge", "dispatch", "accept", "arrive", "resolve", "false"],
        ),
    ],
)
def test_invalid_transitions_are_conflicts(world, alarm, state, refused):
    guard = world.user("guard")
    Alarm.objects.filter(pk=alarm.pk).update(state=state, assignee=guard)
    alarm.refresh_from_db()
    calls = {
        "acknowledge": lambda: services.alarm_acknowledge(actor=guard, alarm=alarm),
        "dispatch": lambda: services.alarm_dispatch(actor=guard, alarm=alarm, assignee=guard),
        "accept": lambda: services.alarm_accept(actor=guard, alarm=alarm),
        "arrive": lambda: services.alarm_arrive(actor=guard, alarm=alarm),
        "resolve": lambda: services.alarm_resolve(actor=guard, alarm=alarm),
        "false": lambda: services.alarm_false(actor=guard, alarm=alarm, reason="r"),
    }
    for name in refused:
        with pytest.raises(ConflictError):
            calls[name]()
    assert Alarm.objects.get(pk=alarm.pk).state == state


def test_raised_alarm_cannot_be_accepted_or_reached(world, alarm):
    guard = world.user("guard")
    with pytest.raises(ConflictError, match="Only a dispatched alarm"):
        services.alarm_arrive(actor=guard, alarm=alarm)


def test_closing_from_every_open_state(world, rule, device):
    operator = world.user("operator")
    for number, state in enumerate(
        [AlarmState.RAISED, AlarmState.ACKNOWLEDGED, AlarmState.DISPATCHED, AlarmState.ON_SCENE]
    ):
        alarm = raise_one(rule, device, group=f"g{number}")
        Alarm.objects.filter(pk=alarm.pk).update(state=state)
        services.alarm_false(actor=operator, alarm=alarm, reason="a spider in the sensor")
        assert alarm.state == AlarmState.FALSE_ALARM
        assert alarm.close_reason == "a spider in the sensor"


def test_false_alarm_needs_a_reason(world, alarm):
    with pytest.raises(ServiceError) as error:
        services.alarm_false(actor=world.user("operator"), alarm=alarm, reason="  ")
    assert error.value.field == "reason"


def test_only_the_assignee_accepts(world, alarm):
    services.alarm_dispatch(actor=world.user("operator"), alarm=alarm, assignee=world.user("guard"))
    with pytest.raises(PermissionDenied):
        services.alarm_accept(actor=world.user("operator"), alarm=alarm)
    services.alarm_accept(actor=world.user("guard"), alarm=alarm)
    with pytest.raises(ConflictError):
        services.alarm_accept(actor=world.user("guard"), alarm=alarm)
    # A handler may report on scene for the guard.
    services.alarm_arrive(actor=world.user("operator"), alarm=alarm)
    assert alarm.state == AlarmState.ON_SCENE


def test_dispatch_only_to_handlers_of_the_community(world, alarm):
    operator = world.user("operator")
    for person in (world.user("grid_worker"), world.user("resident"), world.user("guard", "b")):
        with pytest.raises(ServiceError) as error:
            services.alarm_dispatch(actor=operator, alarm=alarm, assignee=person)
        assert error.value.field == "assignee"
    assert alarm.state == AlarmState.RAISED


def test_permissions(world, alarm):
    with pytest.raises(PermissionDenied):  # sees alarms, may not handle them
        services.alarm_acknowledge(actor=world.user("supervisor"), alarm=alarm)
    for outsider in (world.user("resident"), world.user("operator", "b")):
        with pytest.raises(Http404):
            services.alarm_acknowledge(actor=outsider, alarm=alarm)
        with pytest.raises(Http404):
            services.alarm_note(actor=outsider, alarm=alarm, note="x")
    services.alarm_acknowledge(actor=world.user("guard"), alarm=alarm)


def test_notes_also_after_closing(world, alarm):
    operator = world.user("operator")
    services.alarm_resolve(actor=operator, alarm=alarm)
    step = services.alarm_note(actor=operator, alarm=alarm, note="owner informed")
    assert step.action == StepAction.NOTE
    assert step.note == "owner informed"
    with pytest.raises(ServiceError):
        services.alarm_note(actor=operator, alarm=alarm, note="")


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 30.0, 0.0)}  # GPS info
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_photo_is_checked_and_loses_its_metadata(world, alarm, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = _jpeg_with_gps()
    assert Image.open(io.BytesIO(content)).getexif()
    photo = services.alarm_photo_add(
        actor=world.user("guard"),
        alarm=alarm,
        image=SimpleUploadedFile("scene.jpg", content, "image/jpeg"),
    )
    with Image.open(photo.image.path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (40, 30)
        assert not stored.getexif()
    assert AlarmStep.objects.filter(alarm=alarm, action=StepAction.PHOTO).exists()
    for name, data in [("x.jpg", b"not an image"), ("x.jpg", b"")]:
        with pytest.raises(ServiceError) as error:
            services.alarm_photo_add(
                actor=world.user("guard"), alarm=alarm, image=SimpleUploadedFile(name, data)
            )
        assert error.value.field == "image"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(ServiceError):
        services.alarm_photo_add(
            actor=world.user("guard"),
            alarm=alarm,
            image=SimpleUploadedFile("x.gif", gif.getvalue()),
        )


def test_photo_size_limit(world, alarm, monkeypatch):
    monkeypatch.setattr(images, "PHOTO_MAX_BYTES", 100)
    with pytest.raises(ServiceError, match="at most 10 MB"):
        services.alarm_photo_add(
            actor=world.user("guard"),
            alarm=alarm,
            image=SimpleUploadedFile("big.jpg", _jpeg_with_gps()),
        )


# --------------------------------------------------------------------------- response times


def test_response_time_set(world):
    admin = world.user("community_admin")
    row = services.response_time_set(
        actor=admin,
        community=world.a.community,
        priority=2,
        acknowledge_seconds=30,
        on_scene_seconds=300,
        raise_priority=True,
    )
    assert row.pk
    assert row.raise_priority
    services.response_time_set(
        actor=admin,
        community=world.a.community,
        priority=2,
        acknowledge_seconds=45,
        on_scene_seconds=300,
    )
    assert ResponseTime.objects.get().acknowledge_seconds == 45
    assert AuditEvent.objects.filter(action="response_time.set").count() == 2
    with pytest.raises(ServiceError) as error:
        services.response_time_set(
            actor=admin,
            community=world.a.community,
            priority=2,
            acknowledge_seconds=600,
            on_scene_seconds=60,
        )
    assert error.value.field == "on_scene_seconds"
    with pytest.raises(PermissionDenied):
        services.response_time_set(
            actor=world.user("operator"),
            community=world.a.community,
            priority=1,
            acknowledge_seconds=10,
            on_scene_seconds=60,
        )
    with pytest.raises(Http404):
        services.response_time_set(
            actor=world.user("community_admin", "b"),
            community=world.a.community,
            priority=1,
            acknowledge_seconds=10,
            on_scene_seconds=60,
        )


@pytest.mark.django_db(transaction=True)
def test_two_workers_raising_the_same_group_make_one_alarm(world, rule, device, monkeypatch):
    """Two database connections raise the same group at the same moment: the constraint
    refuses the second alarm and its firing joins the first (PostgreSQL: SQLite writers never
    overlap, their transactions take the write lock up front)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    both_read = threading.Barrier(2, timeout=10)
    original = services._raise_from

    def raise_together(*args: Any) -> Alarm:
        both_read.wait()  # both workers found no open alarm before either inserts
        return original(*args)

    monkeypatch.setattr(services, "_raise_from", raise_together)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            with transaction.atomic():
                services.alarms_from_firings(
                    firings=[firing(rule, device=device, at=T0 + dt.timedelta(seconds=number))],
                    now=T0,
                )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    alarm = Alarm.objects.get()
    assert alarm.count == 2
    assert AlarmTrigger.objects.filter(alarm=alarm).count() == 2
    assert list(alarm.steps.order_by("id").values_list("action", flat=True)) == [
        StepAction.RAISED,
        StepAction.REPEATED,
    ]

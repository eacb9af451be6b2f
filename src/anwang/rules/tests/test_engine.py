"""The rules engine: each rule kind with a controllable clock, schedules, grouping, and
restarts that neither lose nor repeat a firing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anwang.rules.engine import evaluate_events, evaluate_timers, group_key, validate_rule
from anwang.rules.facts import EventFacts, Firing, RuleSpec, StateFacts
from anwang.rules.tests.conftest import (
    SHANGHAI,
    MemoryHistory,
    local,
    make_device,
    make_event,
    make_rule,
)

NIGHT = {"windows": [{"start": "22:00", "end": "06:00"}]}
SMOKE = {
    "all": [
        {"field": "kind", "op": "eq", "value": "smoke"},
        {"field": "value", "op": "eq", "value": True},
    ]
}
DENIED = {"field": "data.result", "op": "eq", "value": "denied"}
DETECTOR = make_device(1, kind="smoke", zone_id=10, zone_name="北门", building_id=20)
READER = make_device(2, kind="access_reader", protocol="hikvision", zone_id=10, zone_name="北门")
OTHER_READER = make_device(3, kind="access_reader", protocol="hikvision", zone_id=11)
LOOSE = make_device(4, kind="motion")
T0 = local(2026, 11, 27, 23, 0)  # a Friday night


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class Clock:
    """A controllable clock for the timer rules."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def advance(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


def ingest(
    history: MemoryHistory, rules: list[RuleSpec], *events: EventFacts, **extra: Any
) -> list[Firing]:
    """Store a batch, then evaluate it, as the worker does."""
    history.add(*events)
    return evaluate_events(
        rules, list(events), history=history, tz=SHANGHAI, holidays=extra.get("holidays", {})
    )


def timers(history: MemoryHistory, rules: list[RuleSpec], now: dt.datetime) -> list[Firing]:
    return evaluate_timers(rules, history=history, now=now, tz=SHANGHAI, holidays={})


def keys(firings: list[Firing]) -> list[str]:
    return [f.trigger_key for f in firings]


def denied(device: Any, seconds: float, **kwargs: Any) -> EventFacts:
    return make_event(device, "access", at(seconds), data={"result": "denied"}, **kwargs)


def test_a_spec_works_out_what_its_trigger_pins_once() -> None:
    from dataclasses import replace

    from anwang.rules import conditions

    count = make_rule(
        "count",
        condition={"all": [{"field": "kind", "op": "eq", "value": "access"}, DENIED]},
        params={"count": 5, "window_seconds": 120},
    )
    assert count.trigger is count.condition
    assert count.trigger_kinds == frozenset({"access"})
    assert count.trigger_data == (("result", "denied"),)
    assert count.condition_read == (frozenset({"access"}), (("result", "denied"),))
    sequence = make_rule("sequence", condition=SMOKE, params={"then": DENIED, "within_seconds": 30})
    assert sequence.trigger == DENIED
    assert (sequence.trigger_kinds, sequence.trigger_data) == (None, (("result", "denied"),))
    assert sequence.condition_read == (frozenset({"smoke"}), ())
    unusable = make_rule("sequence", condition=SMOKE, params={"then": "smoke"})
    assert (unusable.trigger, unusable.trigger_kinds, unusable.trigger_data) == (
        None,
        frozenset(),
        (),
    )
    # Worked out once per spec; equality and replace() see only the rule's fields.
    calls = []
    original = conditions.pinned_kinds

    def counting(condition: Any) -> Any:
        calls.append(condition)
        return original(condition)

    fresh = replace(count, name="again")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conditions, "pinned_kinds", counting)
        assert fresh.trigger_kinds == frozenset({"access"})
        worked_out = len(calls)
        assert fresh.trigger_kinds == frozenset({"access"})
    assert worked_out > 0
    assert len(calls) == worked_out
    assert replace(fresh, name=count.name) == count


# --------------------------------------------------------------------------- immediate


def test_immediate_fires_once_per_matching_event(history: MemoryHistory) -> None:
    rule = make_rule(condition=SMOKE)
    fire = make_event(DETECTOR, "smoke", at(0), id=1, attribute="smoke", value=True)
    clear = make_event(DETECTOR, "smoke", at(5), id=2, attribute="smoke", value=False)
    test = make_event(DETECTOR, "smoke_test", at(6), id=3, attribute="smoke_test", value=True)
    firings = ingest(history, [rule], fire, clear, test)
    assert len(firings) == 1
    firing = firings[0]
    assert firing.trigger_key == "event:1"
    assert firing.group_key == "device:1"
    assert firing.at == at(0)
    assert firing.event_ids == (1,)
    assert (firing.device_id, firing.zone_id) == (1, 10)
    assert firing.rule_id == rule.id
    assert firing.priority == 2
    assert firing.title_template == "{rule} at {device}"
    assert firing.title_values == {
        "device": "device 1",
        "zone": "北门",
        "building": "building 20",
        "count": 1,
        "rule": "rule 1",
    }
    assert firing.why == {"kind": "smoke", "value": True}


def test_rules_see_only_their_community(history: MemoryHistory) -> None:
    elsewhere = make_device(9, kind="smoke", community_id=2)
    rule = make_rule(condition=SMOKE)
    event = make_event(elsewhere, "smoke", at(0), attribute="smoke", value=True)
    assert ingest(history, [rule], event) == []
    assert ingest(history, [make_rule(condition=SMOKE, community_id=2)], event) != []


def test_event_driven_evaluation_ignores_timer_rules_and_bad_params(
    history: MemoryHistory,
) -> None:
    event = make_event(DETECTOR, "smoke", at(0), attribute="smoke", value=True)
    rules = [
        make_rule("duration", params={"attribute": "smoke", "value": True, "seconds": 1}),
        make_rule("absence", params={"seconds": 1}),
        make_rule("count", params={"count": 1, "window_seconds": 60}),
        make_rule("sequence", params={"within_seconds": 60}),
        make_rule("unknown"),
    ]
    assert ingest(history, rules, event) == []


@pytest.mark.parametrize(
    ("group_by", "device", "expected"),
    [
        ("device", DETECTOR, "device:1"),
        ("zone", DETECTOR, "zone:10"),
        ("building", DETECTOR, "building:20"),
        ("rule", DETECTOR, "rule"),
        ("zone", LOOSE, "device:4"),
        ("building", READER, "device:2"),
    ],
)
def test_group_keys(group_by: str, device: Any, expected: str) -> None:
    assert group_key(group_by, device) == expected


def test_schedule_arms_event_rules_at_the_receive_time(history: MemoryHistory) -> None:
    rule = make_rule(condition=SMOKE, schedule=NIGHT)
    events = [
        make_event(DETECTOR, "smoke", local(2026, 11, 27, h, m, s), attribute="smoke", value=True)
        for h, m, s in [(21, 59, 59), (22, 0, 0), (5, 59, 59), (6, 0, 0), (0, 0, 0)]
    ]
    fired = {f.at for f in ingest(history, [rule], *events)}
    assert fired == {events[1].received_at, events[2].received_at, events[4].received_at}


def test_workday_schedule_uses_the_holiday_calendar(history: MemoryHistory) -> None:
    rule = make_rule(condition=SMOKE, schedule={**NIGHT, "days": "workdays"})
    # Thursday 1 October 2026 is National Day; Saturday 10 October is worked.
    holidays = {dt.date(2026, 10, 1): False, dt.date(2026, 10, 10): True}
    national_day = make_event(
        DETECTOR, "smoke", local(2026, 10, 1, 23, 0), attribute="smoke", value=True
    )
    worked_saturday = make_event(
        DETECTOR, "smoke", local(2026, 10, 11, 1, 0), attribute="smoke", value=True
    )
    firings = ingest(history, [rule], national_day, worked_saturday, holidays=holidays)
    assert keys(firings) == [f"event:{worked_saturday.id}"]


# --------------------------------------------------------------------------- count

FIVE_IN_TWO_MINUTES = {"count": 5, "window_seconds": 120}


def test_count_fires_from_the_nth_event_in_the_window(history: MemoryHistory) -> None:
    rule = make_rule("count", condition=DENIED, params=FIVE_IN_TWO_MINUTES)
    events = [denied(READER, s, id=100 + s) for s in (0, 20, 40, 60, 80, 100)]
    firings = ingest(history, [rule], *events)
    assert keys(firings) == ["event:180", "event:200"]
    assert [f.why["count"] for f in firings] == [5, 6]
    assert firings[0].why == {"data.result": "denied", "count": 5, "window_seconds": 120}
    assert firings[0].title_values["count"] == 5
    assert firings[0].event_ids == (100, 120, 140, 160, 180)


def test_count_window_excludes_its_start(history: MemoryHistory) -> None:
    rule = make_rule("count", condition=DENIED, params={"count": 2, "window_seconds": 120})
    assert ingest(history, [rule], denied(READER, 0)) == []
    # Exactly 120 s later: the first is out of (t - 120, t].
    assert ingest(history, [rule], denied(READER, 120)) == []
    assert len(ingest(history, [rule], denied(READER, 239.999))) == 1


def test_count_is_per_group(history: MemoryHistory) -> None:
    per_device = make_rule(
        "count", id=1, condition=DENIED, params={"count": 3, "window_seconds": 60}
    )
    per_rule = make_rule(
        "count", id=2, condition=DENIED, params={"count": 3, "window_seconds": 60}, group_by="rule"
    )
    events = [denied(READER, 0), denied(OTHER_READER, 1), denied(READER, 2)]
    firings = ingest(history, [per_device, per_rule], *events)
    assert [(f.rule_id, f.group_key) for f in firings] == [(2, "rule")]


def test_count_ignores_events_received_while_disarmed(history: MemoryHistory) -> None:
    rule = make_rule(
        "count", condition=DENIED, params={"count": 2, "window_seconds": 600}, schedule=NIGHT
    )
    evening = make_event(READER, "access", local(2026, 11, 27, 21, 59), data={"result": "denied"})
    night = make_event(READER, "access", local(2026, 11, 27, 22, 1), data={"result": "denied"})
    assert ingest(history, [rule], evening, night) == []


def test_flapping_sensor_keeps_firing_in_one_group(history: MemoryHistory) -> None:
    rule = make_rule(
        "count",
        condition={"field": "kind", "op": "eq", "value": "motion"},
        params={"count": 3, "window_seconds": 60},
    )
    firings = []
    for second in range(0, 50, 5):
        firings += ingest(history, [rule], make_event(LOOSE, "motion", at(second)))
    assert len(firings) == 8
    assert {f.group_key for f in firings} == {"device:4"}
    assert [f.why["count"] for f in firings] == [3, 4, 5, 6, 7, 8, 9, 10]


def test_one_batch_fires_as_the_same_events_one_by_one() -> None:
    rule = make_rule("count", condition=DENIED, params={"count": 3, "window_seconds": 60})
    events = [denied(READER, s) for s in (0, 10, 10, 30, 100, 110, 115)]
    together = MemoryHistory()
    one_by_one = MemoryHistory()
    batched = ingest(together, [rule], *events)
    single = [f for e in events for f in ingest(one_by_one, [rule], e)]
    assert batched == single
    assert [f.why["count"] for f in batched] == [3, 4, 3]
    assert together.calls == ["events_between"]


def test_counts_of_the_same_events_share_one_read_and_keep_their_own_windows() -> None:
    """A per-device count over 2 minutes and a per-zone count over 10 minutes of the same
    refused accesses read the past once, and fire as each would alone."""
    access_denied = {"all": [{"field": "kind", "op": "eq", "value": "access"}, DENIED]}
    per_device = make_rule(
        "count", id=1, condition=access_denied, params={"count": 3, "window_seconds": 120}
    )
    per_zone = make_rule(
        "count",
        id=2,
        condition=access_denied,
        params={"count": 4, "window_seconds": 600},
        group_by="zone",
    )
    zone_mate = make_device(5, kind="access_reader", zone_id=10, zone_name="北门")
    past = [denied(READER, s) for s in (-500, -400, -300)] + [denied(zone_mate, -200)]
    batch = [denied(READER, 0), denied(OTHER_READER, 1), denied(READER, 2), denied(READER, 3)]
    both = MemoryHistory()
    both.add(*past)
    together = ingest(both, [per_device, per_zone], *batch)
    assert both.calls == ["events_between"]
    alone = []
    for rule in (per_device, per_zone):
        history = MemoryHistory()
        history.add(*past)
        alone += ingest(history, [rule], *batch)
    assert sorted(together, key=lambda f: (f.rule_id, f.trigger_key)) == sorted(
        alone, key=lambda f: (f.rule_id, f.trigger_key)
    )
    assert [(f.rule_id, f.why["count"]) for f in together] == [(2, 5), (2, 6), (1, 3), (2, 7)]


def test_count_restart_in_the_middle_of_a_window() -> None:
    rule = make_rule("count", condition=DENIED, params=FIVE_IN_TWO_MINUTES)
    events = [denied(READER, s) for s in (0, 10, 20, 30, 40, 50)]
    uninterrupted = MemoryHistory()
    expected = [f for e in events for f in ingest(uninterrupted, [rule], e)]
    # Three events, then the worker dies; a new one reads the same store.
    before = MemoryHistory()
    found = [f for e in events[:3] for f in ingest(before, [rule], e)]
    after = MemoryHistory(events=list(before.events))
    found += [f for e in events[3:] for f in ingest(after, [rule], e)]
    assert found == expected
    assert keys(found) == [f"event:{events[4].id}", f"event:{events[5].id}"]
    # A batch stored but not acknowledged is evaluated again after the restart: same keys.
    again = evaluate_events([rule], events[3:], history=after, tz=SHANGHAI, holidays={})
    assert keys(again) == keys(found)


# --------------------------------------------------------------------------- sequence

FORCED = {"field": "kind", "op": "eq", "value": "intrusion"}
MOTION = {"field": "kind", "op": "eq", "value": "motion"}
DOOR = make_device(5, kind="contact", zone_id=10, zone_name="北门")
HALL = make_device(6, kind="motion", zone_id=10, zone_name="北门")
YARD = make_device(7, kind="motion", zone_id=12)


def sequence_rule(**kwargs: Any) -> RuleSpec:
    return make_rule(
        "sequence",
        condition=FORCED,
        params={"then": MOTION, "within_seconds": 60},
        group_by="zone",
        **kwargs,
    )


def test_sequence_fires_when_then_follows_within_the_time(history: MemoryHistory) -> None:
    rule = sequence_rule()
    forced = make_event(DOOR, "intrusion", at(0), id=1)
    motion = make_event(HALL, "motion", at(60), id=2)
    firings = ingest(history, [rule], forced, motion)
    assert keys(firings) == ["sequence:1:2"]
    firing = firings[0]
    assert firing.group_key == "zone:10"
    assert firing.event_ids == (1, 2)
    assert firing.device_id == 6
    assert firing.why == {
        "first": {"kind": "intrusion"},
        "then": {"kind": "motion"},
        "within_seconds": 60,
        "seconds_between": 60.0,
    }


def test_sequence_needs_order_time_and_group(history: MemoryHistory) -> None:
    rule = sequence_rule()
    motion_first = make_event(HALL, "motion", at(0))
    forced = make_event(DOOR, "intrusion", at(1))
    elsewhere = make_event(YARD, "motion", at(2))
    late = make_event(HALL, "motion", at(61.5))
    assert ingest(history, [rule], motion_first, forced, elsewhere, late) == []


def test_sequence_pairs_with_the_latest_first_event(history: MemoryHistory) -> None:
    rule = sequence_rule()
    ingest(history, [rule], make_event(DOOR, "intrusion", at(0), id=1))
    ingest(history, [rule], make_event(DOOR, "intrusion", at(30), id=2))
    firings = ingest(history, [rule], make_event(HALL, "motion", at(40), id=3))
    assert keys(firings) == ["sequence:2:3"]


def test_sequence_restart_between_the_two_events() -> None:
    rule = sequence_rule()
    before = MemoryHistory()
    assert ingest(before, [rule], make_event(DOOR, "intrusion", at(0), id=1)) == []
    after = MemoryHistory(events=list(before.events))
    assert keys(ingest(after, [rule], make_event(HALL, "motion", at(30), id=2))) == ["sequence:1:2"]


# --------------------------------------------------------------------------- duration

HELD_OPEN = {"attribute": "contact", "value": "open", "seconds": 300}


def open_since(device: Any, since: dt.datetime, value: Any = "open") -> StateFacts:
    return StateFacts(device=device, attribute="contact", value=value, changed_at=since)


def test_duration_fires_once_the_time_has_passed() -> None:
    rule = make_rule(
        "duration",
        condition={"field": "device_kind", "op": "eq", "value": "contact"},
        params=HELD_OPEN,
    )
    history = MemoryHistory(
        current=[
            open_since(DOOR, T0),
            open_since(make_device(8, kind="contact"), T0, "closed"),
            open_since(HALL, T0),  # not a contact device
        ]
    )
    clock = Clock(T0)
    assert timers(history, [rule], clock.advance(299)) == []
    firings = timers(history, [rule], clock.advance(1))
    assert keys(firings) == [f"duration:5:contact:{T0.astimezone(dt.UTC).isoformat()}"]
    firing = firings[0]
    assert firing.at == at(300)
    assert firing.group_key == "device:5"
    assert (firing.device_id, firing.zone_id) == (5, 10)
    assert firing.why == {
        "attribute": "contact",
        "value": "open",
        "since": "2026-11-27T15:00:00+00:00",
        "seconds": 300,
    }
    # Still open later: the same firing, which the alarms service counts once.
    assert timers(history, [rule], clock.advance(3600)) == firings


def test_duration_restart_neither_loses_nor_repeats() -> None:
    rule = make_rule("duration", params=HELD_OPEN)
    history = MemoryHistory(current=[open_since(DOOR, T0)])
    first = timers(history, [rule], at(310))
    # The worker was down from 200 s to 900 s: the firing is the same one, at the same time.
    restarted = timers(MemoryHistory(current=list(history.current)), [rule], at(900))
    assert restarted == first
    # Closed and open again: a new episode, a new key.
    history.current = [open_since(DOOR, at(1000))]
    assert timers(history, [rule], at(1299)) == []
    assert keys(timers(history, [rule], at(1300))) != keys(first)


def test_duration_fires_when_the_schedule_arms_it() -> None:
    rule = make_rule("duration", params=HELD_OPEN, schedule=NIGHT)
    history = MemoryHistory(current=[open_since(DOOR, local(2026, 11, 27, 21, 0))])
    assert timers(history, [rule], local(2026, 11, 27, 21, 59, 59)) == []
    firings = timers(history, [rule], local(2026, 11, 27, 22, 0))
    assert [f.at for f in firings] == [local(2026, 11, 27, 22, 0)]
    # Open since 05:58 on Saturday: 6 minutes later the window has closed.
    history.current = [open_since(DOOR, local(2026, 11, 28, 5, 58))]
    assert timers(history, [rule], local(2026, 11, 28, 6, 3)) == []
    assert [f.at for f in timers(history, [rule], local(2026, 11, 28, 22, 0))] == [
        local(2026, 11, 28, 22, 0)
    ]


# --------------------------------------------------------------------------- absence

CAMERA_A = make_device(11, kind="camera", zone_id=30, zone_name="东区")
CAMERA_B = make_device(12, kind="camera", zone_id=30, zone_name="东区")
CAMERA_C = make_device(13, kind="camera")
CAMERAS = {"field": "device_kind", "op": "eq", "value": "camera"}
HOUR = {"seconds": 3600, "kinds": ["heartbeat"]}


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def test_absence_per_device_from_the_last_event_or_the_rule_start() -> None:
    rule = make_rule("absence", condition=CAMERAS, params=HOUR, active_since=T0)
    history = MemoryHistory(known=[CAMERA_A, CAMERA_B, DOOR])
    history.add(
        make_event(CAMERA_A, "heartbeat", at(-600)),  # before the rule: the rule's start counts
        make_event(CAMERA_B, "heartbeat", at(1800)),
        make_event(CAMERA_B, "motion", at(3000)),  # not of the kinds
    )
    assert timers(history, [rule], at(3599)) == []
    firings = timers(history, [rule], at(3600))
    assert keys(firings) == [f"absence:device:11:{iso(T0)}"]
    firing = firings[0]
    assert firing.at == at(3600)
    assert (firing.device_id, firing.zone_id) == (11, 30)
    assert firing.title_values["device"] == "device 11"
    assert firing.why == {
        "seconds": 3600,
        "since": iso(T0),
        "last_event_at": iso(at(-600)),
        "kinds": ["heartbeat"],
        "devices": 1,
    }
    later = timers(history, [rule], at(5400))
    assert keys(later) == [keys(firings)[0], f"absence:device:12:{iso(at(1800))}"]


def test_absence_per_zone_needs_silence_from_every_device() -> None:
    rule = make_rule(
        "absence", condition=CAMERAS, params={"seconds": 600}, group_by="zone", active_since=T0
    )
    history = MemoryHistory(known=[CAMERA_A, CAMERA_B, CAMERA_C])
    history.add(make_event(CAMERA_B, "motion", at(300)))
    firings = timers(history, [rule], at(700))
    # The zone heard from camera B at 300 s; camera C (no zone) is its own group.
    assert keys(firings) == [f"absence:device:13:{iso(T0)}"]
    firings = timers(history, [rule], at(900))
    assert keys(firings) == [f"absence:device:13:{iso(T0)}", f"absence:zone:30:{iso(at(300))}"]
    zone = firings[1]
    assert zone.device_id is None
    assert zone.zone_id == 30
    assert zone.title_values["zone"] == "东区"
    assert zone.title_values["count"] == 2
    assert zone.why["devices"] == 2


def test_absence_restart_neither_loses_nor_repeats() -> None:
    rule = make_rule("absence", condition=CAMERAS, params=HOUR, active_since=T0)
    history = MemoryHistory(known=[CAMERA_C])
    history.add(make_event(CAMERA_C, "heartbeat", at(100)))
    clock = Clock(at(1000))
    assert timers(history, [rule], clock.now) == []
    # Down from 1000 s to 9000 s: after the restart the same firing, dated when it was due.
    restarted = MemoryHistory(known=list(history.known), events=list(history.events))
    firings = timers(restarted, [rule], clock.advance(8000))
    assert keys(firings) == [f"absence:device:13:{iso(at(100))}"]
    assert firings[0].at == at(3700)
    assert timers(restarted, [rule], clock.advance(60)) == firings
    # A sign of life ends the episode; the next silence has a new key.
    restarted.add(make_event(CAMERA_C, "heartbeat", clock.advance(1)))
    assert timers(restarted, [rule], clock.advance(60)) == []
    assert keys(timers(restarted, [rule], clock.advance(3600))) == [
        f"absence:device:13:{iso(at(9061))}"
    ]


def test_absence_under_a_schedule_fires_when_armed() -> None:
    rule = make_rule(
        "absence", condition=CAMERAS, params={"seconds": 600}, schedule=NIGHT, active_since=T0
    )
    history = MemoryHistory(known=[CAMERA_C])
    history.add(make_event(CAMERA_C, "heartbeat", local(2026, 11, 28, 5, 55)))
    assert timers(history, [rule], local(2026, 11, 28, 12, 0)) == []
    firings = timers(history, [rule], local(2026, 11, 28, 22, 30))
    assert [f.at for f in firings] == [local(2026, 11, 28, 22, 0)]


def test_timer_evaluation_ignores_event_rules() -> None:
    history = MemoryHistory(known=[CAMERA_C], current=[open_since(DOOR, T0)])
    assert timers(history, [make_rule(condition={}), make_rule("count")], at(10_000)) == []
    assert history.calls == []


# --------------------------------------------------------------------------- validation


def errors(
    kind: Any,
    condition: Any = None,
    params: Any = None,
    schedule: Any = None,
    group_by: Any = "device",
) -> list[tuple[str, str, str]]:
    found = validate_rule(
        kind,
        {} if condition is None else condition,
        {} if params is None else params,
        {} if schedule is None else schedule,
        group_by,
    )
    return [(e.field, e.path, e.message) for e in found]


def test_valid_rules() -> None:
    assert errors("immediate", SMOKE) == []
    assert errors("count", DENIED, FIVE_IN_TWO_MINUTES, NIGHT, "zone") == []
    assert errors("sequence", FORCED, {"then": MOTION, "within_seconds": 60}) == []
    assert errors("duration", CAMERAS, HELD_OPEN) == []
    assert errors("absence", CAMERAS, HOUR, group_by="building") == []
    assert errors("absence", {}, {"seconds": 60}, group_by="rule") == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("kind?",), [("kind", "", "Use one of immediate, count, duration, absence, sequence.")]),
        (
            ("immediate", {}, {}, {}, "floor"),
            [("group_by", "", "Use one of device, zone, building, rule.")],
        ),
        (
            ("immediate", {"all": []}),
            [("condition", "all", "A list of at least one condition is needed.")],
        ),
        (
            ("immediate", {}, {}, {"days": "x"}),
            [
                (
                    "schedule",
                    "days",
                    "Use one of all, workdays, weekends, or a list of days of the week.",
                )
            ],
        ),
        (
            ("immediate", {}, {"count": 2}),
            [("params", "", "Unknown parameters for this kind of rule: count.")],
        ),
        (("immediate", {}, []), [("params", "", "Parameters must be an object.")]),
        (
            ("count", {}, {"count": 1, "window_seconds": 60}),
            [("params", "count", "A whole number from 2 to 10000 is needed.")],
        ),
        (
            ("count", {}, {"count": 3, "window_seconds": True}),
            [("params", "window_seconds", "A whole number of seconds from 1 to 604800 is needed.")],
        ),
        (
            ("sequence", {}, {"within_seconds": 5}),
            [("params", "then", "The following condition is needed.")],
        ),
        (
            (
                "sequence",
                {},
                {"then": {"any": [{"field": "x", "op": "eq", "value": 1}]}, "within_seconds": 5},
            ),
            [("params", "then.any.0.field", "Unknown field 'x'.")],
        ),
        (
            ("duration", {}, {"attribute": "", "seconds": 0}),
            [
                ("params", "attribute", "An attribute name is needed."),
                ("params", "value", "A value is needed."),
                ("params", "seconds", "A whole number of seconds from 1 to 2592000 is needed."),
            ],
        ),
        (
            ("absence", {}, {"seconds": 60, "kinds": []}),
            [("params", "kinds", "A list of at least one event kind is needed.")],
        ),
        (
            (
                "absence",
                {"all": [CAMERAS, {"field": "kind", "op": "eq", "value": "heartbeat"}]},
                {"seconds": 60},
            ),
            [
                (
                    "condition",
                    "",
                    "This kind of rule chooses devices, so its condition may only use device "
                    "fields, not kind.",
                ),
            ],
        ),
    ],
)
def test_invalid_rules(args: tuple[Any, ...], expected: list[tuple[str, str, str]]) -> None:
    assert errors(*args) == expected

"""The database History: what it reads, scoped to one community, in one query per question."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.events.models import DeviceEvent, DeviceState
from anwang.rules.choices import GroupBy, Priority, RuleKind
from anwang.rules.engine import evaluate_events, evaluate_timers
from anwang.rules.history import DatabaseHistory, event_facts, holidays_map, rule_spec
from anwang.rules.models import Holiday, Rule
from anwang.rules.tests.conftest import SHANGHAI

T0 = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
_keys = itertools.count()


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def device(side: Any, name: str, kind: str = DeviceKind.CONTACT, **extra: Any) -> Device:
    return Device.objects.create(
        community=side.community,
        name=name,
        kind=kind,
        protocol=Protocol.ZIGBEE2MQTT,
        source_id=name,
        **extra,
    )


def event(dev: Device, kind: str, seconds: float, **extra: Any) -> DeviceEvent:
    return DeviceEvent.objects.create(
        community_id=dev.community_id,
        device=dev,
        kind=kind,
        dedup_key=f"k{next(_keys)}",
        received_at=at(seconds),
        **extra,
    )


@pytest.fixture
def store(world: Any) -> dict[str, Any]:
    a, b = world.a, world.b
    door = device(a, "door", zone=a.zone, building=a.building)
    camera = device(a, "camera", DeviceKind.CAMERA)
    retired = device(a, "old", retired_at=T0)
    foreign = device(b, "b door", zone=b.zone)
    events = {
        "open": event(door, "contact", 0, attribute="contact", value="open", data={"x": 1}),
        "beat": event(camera, "heartbeat", 10),
        "beat2": event(camera, "heartbeat", 20),
        "motion": event(camera, "motion", 30),
        "old": event(retired, "heartbeat", 15),
        "foreign": event(foreign, "heartbeat", 12),
        "later": event(door, "contact", 100, attribute="contact", value="closed"),
    }
    DeviceState.objects.create(
        device=door, attribute="contact", value="open", changed_at=at(0), updated_at=at(0)
    )
    DeviceState.objects.create(
        device=retired, attribute="contact", value="open", changed_at=at(0), updated_at=at(0)
    )
    DeviceState.objects.create(
        device=foreign, attribute="contact", value="open", changed_at=at(0), updated_at=at(0)
    )
    return {"door": door, "camera": camera, "retired": retired, "events": events, "world": world}


def ids(found: Any) -> list[int]:
    return [e.id for e in found]


def test_events_between_is_inclusive_ordered_and_scoped(
    store: dict[str, Any], django_assert_num_queries: Any
) -> None:
    events = store["events"]
    history = DatabaseHistory()
    community = store["world"].a.community.pk
    # The rows, then the devices they name (plain rows: no model instances per event).
    with django_assert_num_queries(2):
        found = history.events_between(community_id=community, since=at(10), until=at(30))
        # Asked again in the same call: remembered.
        history.events_between(community_id=community, since=at(10), until=at(30))
        door = found[0].device
    assert ids(found) == [events[k].pk for k in ("beat", "old", "beat2", "motion")]
    assert door.name == "camera"
    first = history.events_between(community_id=community, since=at(0), until=at(0))[0]
    assert first.device.zone_name == "北门"
    assert first.device.is_key_area
    assert first.device.building_name == "1号楼"
    assert first.attribute == "contact"
    assert first.value == "open"
    assert first.data == {"x": 1}


def test_events_between_narrows_to_kinds_and_devices(store: dict[str, Any]) -> None:
    events, camera = store["events"], store["camera"]
    community = store["world"].a.community.pk
    history = DatabaseHistory()
    beats = history.events_between(
        community_id=community, since=at(0), until=at(100), kinds={"heartbeat"}
    )
    assert ids(beats) == [events[k].pk for k in ("beat", "old", "beat2")]
    of_camera = history.events_between(
        community_id=community,
        since=at(0),
        until=at(100),
        kinds={"heartbeat", "motion"},
        device_ids={camera.pk},
    )
    assert ids(of_camera) == [events[k].pk for k in ("beat", "beat2", "motion")]


def test_last_event_before(store: dict[str, Any], django_assert_num_queries: Any) -> None:
    events, door, camera = store["events"], store["door"], store["camera"]
    community = store["world"].a.community.pk
    history = DatabaseHistory()
    with django_assert_num_queries(1):
        last = history.last_event_before(community_id=community, until=at(50))
    # Devices in service only; the retired one is left out.
    assert {k: v.id for k, v in last.items()} == {
        door.pk: events["open"].pk,
        camera.pk: events["motion"].pk,
    }
    with django_assert_num_queries(1):
        beats = history.last_event_before(community_id=community, until=at(50), kinds=["heartbeat"])
    assert {k: v.id for k, v in beats.items()} == {camera.pk: events["beat2"].pk}
    early = history.last_event_before(community_id=community, until=at(10), kinds=["heartbeat"])
    assert {k: v.id for k, v in early.items()} == {camera.pk: events["beat"].pk}


def test_states_and_devices(store: dict[str, Any], django_assert_num_queries: Any) -> None:
    community = store["world"].a.community.pk
    history = DatabaseHistory()
    with django_assert_num_queries(2):
        states = history.states(community_id=community)
        devices = history.devices(community_id=community)
        history.states(community_id=community)
        history.devices(community_id=community)
    assert [(s.device.name, s.attribute, s.value, s.changed_at) for s in states] == [
        ("door", "contact", "open", at(0))
    ]
    assert sorted(d.name for d in devices) == ["camera", "door"]
    door = next(d for d in devices if d.name == "door")
    assert door.zone_id == store["world"].a.zone.pk
    assert door.building_id == store["world"].a.building.pk
    assert door.community_id == community


def test_event_facts_reads_missing_devices_once(
    store: dict[str, Any], django_assert_num_queries: Any
) -> None:
    events = store["events"]
    plain = list(
        DeviceEvent.objects.filter(
            pk__in=[events["open"].pk, events["later"].pk, events["beat"].pk]
        ).order_by("id")
    )
    with django_assert_num_queries(1):
        facts = event_facts(plain)
    assert [f.device.name for f in facts] == ["door", "camera", "door"]
    assert facts[0].device.zone_name == "北门"
    loaded = list(
        DeviceEvent.objects.filter(pk__in=[events["open"].pk, events["beat"].pk])
        .select_related("device__zone", "device__building")
        .order_by("id")
    )
    with django_assert_num_queries(0):
        facts = event_facts(loaded)
    assert facts[0].device.building_name == "1号楼"


def test_rule_spec_and_holidays(world: Any) -> None:
    rule = Rule.objects.create(
        community=world.a.community,
        name="smoke",
        kind=RuleKind.IMMEDIATE,
        condition={"field": "kind", "op": "eq", "value": "smoke"},
        priority=Priority.P1,
        title_template="Smoke at {device}",
        group_by=GroupBy.DEVICE,
        schedule={"days": "workdays"},
    )
    spec = rule_spec(rule)
    assert spec.id == rule.pk
    assert spec.community_id == world.a.community.pk
    assert spec.condition == {"field": "kind", "op": "eq", "value": "smoke"}
    assert spec.priority == 1
    assert spec.schedule == {"days": "workdays"}
    assert spec.active_since == rule.updated_at
    Holiday.objects.create(date=dt.date(2026, 10, 1), name="国庆节")
    Holiday.objects.create(date=dt.date(2026, 10, 10), name="国庆节调休", is_workday=True)
    assert holidays_map() == {dt.date(2026, 10, 1): False, dt.date(2026, 10, 10): True}


def test_engine_over_the_database(store: dict[str, Any], django_assert_num_queries: Any) -> None:
    world = store["world"]
    community = world.a.community.pk
    base = {
        "community": world.a.community,
        "priority": Priority.P3,
        "title_template": "{device}",
        "group_by": GroupBy.DEVICE,
    }
    count = Rule.objects.create(
        name="beats",
        kind=RuleKind.COUNT,
        condition={"field": "kind", "op": "eq", "value": "heartbeat"},
        params={"count": 2, "window_seconds": 60},
        **base,
    )
    held = Rule.objects.create(
        name="held open",
        kind=RuleKind.DURATION,
        params={"attribute": "contact", "value": "open", "seconds": 300},
        **base,
    )
    specs = [rule_spec(count), rule_spec(held)]
    batch = event_facts(
        DeviceEvent.objects.filter(pk=store["events"]["beat2"].pk).select_related(
            "device__zone", "device__building"
        )
    )
    history = DatabaseHistory()
    # The count rule's window (its kinds only), then the devices those events name.
    with django_assert_num_queries(2):
        firings = evaluate_events(specs, batch, history=history, tz=SHANGHAI, holidays={})
    assert [f.trigger_key for f in firings] == [f"event:{store['events']['beat2'].pk}"]
    with django_assert_num_queries(1):
        firings = evaluate_timers(specs, history=history, now=at(300), tz=SHANGHAI, holidays={})
    assert [(f.rule_id, f.device_id) for f in firings] == [(held.pk, store["door"].pk)]
    assert all(f.community_id == community for f in firings)


def test_events_between_narrows_by_data_values(world: Any) -> None:
    reader = device(world.a, "reader", DeviceKind.ACCESS_READER)
    denied = event(reader, "access", 1, data={"minor": 9, "result": "denied"})
    event(reader, "access", 2, data={"minor": 1, "result": "granted"})
    nested = event(reader, "access", 3, data={"card": {"state": "lost"}, "minor": 9})
    history = DatabaseHistory()
    community = world.a.community.pk
    found = history.events_between(
        community_id=community, since=at(0), until=at(10), data_equals={"minor": 9}
    )
    assert ids(found) == [denied.pk, nested.pk]
    found = history.events_between(
        community_id=community, since=at(0), until=at(10), data_equals={"card.state": "lost"}
    )
    assert ids(found) == [nested.pk]
    found = history.events_between(
        community_id=community, since=at(0), until=at(10), data_equals={"result": "denied"}
    )
    assert ids(found) == [denied.pk]

"""The worker's memory of stored events: the same answers as the database, batch after batch,
whoever wrote the rows and whatever was rolled back."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.events.models import DeviceEvent
from anwang.rules import memory
from anwang.rules.facts import EventFacts
from anwang.rules.history import DatabaseHistory, device_facts
from anwang.rules.memory import (
    StoredEventReads,
    WorkerMemory,
    remember_between_batches,
    thread_memory,
)

T0 = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
_keys = itertools.count()


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store(dev: Device, kind: str, seconds: float, *, pk: int | None = None, **data: Any) -> int:
    event = DeviceEvent.objects.create(
        pk=pk,
        community_id=dev.community_id,
        device=dev,
        kind=kind,
        dedup_key=f"k{next(_keys)}",
        received_at=at(seconds),
        data=data,
    )
    return event.pk


def ids(found: Any) -> list[int]:
    return [event.id for event in found]


def read(
    reads: StoredEventReads | None, community_id: int, since: float, until: float, **narrow: Any
) -> list[EventFacts]:
    return list(
        DatabaseHistory(reads=reads).events_between(
            community_id=community_id, since=at(since), until=at(until), **narrow
        )
    )


@pytest.fixture
def devices(world: Any) -> dict[str, Device]:
    def make(side: Any, name: str, **extra: Any) -> Device:
        return Device.objects.create(
            community=side.community,
            name=name,
            kind=DeviceKind.ACCESS_READER,
            protocol=Protocol.ANWANG,
            source_id=name,
            **extra,
        )

    return {
        "north": make(world.a, "north", zone=world.a.zone),
        "south": make(world.a, "south"),
        "foreign": make(world.b, "foreign", zone=world.b.zone),
    }


@pytest.fixture
def committed(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[], Any]:
    """A batch as the worker runs it: its on-commit callbacks run at the end, as a commit
    would run them (the test's own transaction never commits)."""

    def batch() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return batch


@pytest.mark.parametrize("seed", range(12))
def test_remembered_reads_answer_as_the_database_does(
    devices: dict[str, Device], committed: Callable[[], Any], seed: int
) -> None:
    chance = random.Random(seed)
    clock = Clock()
    reads = StoredEventReads(clock=clock)
    community_a = devices["north"].community_id
    kinds = ["access", "door", "motion"]
    results = ["denied", "granted", "unknown"]
    moment = 0.0
    for _batch in range(15):
        with committed():
            for _event in range(chance.randint(0, 25)):
                moment += chance.choice([0, 0.5, 3, 20])
                dev = devices[chance.choice(["north", "north", "south", "foreign"])]
                store(dev, chance.choice(kinds), moment, result=chance.choice(results))
            narrow: dict[str, Any] = {}
            if chance.random() < 0.7:
                narrow["kinds"] = [chance.choice(kinds)]
            if chance.random() < 0.5:
                narrow["data_equals"] = {"result": chance.choice(results)}
            if chance.random() < 0.3:
                narrow["device_ids"] = [devices["north"].pk]
            window = chance.choice([10, 60, 120, 600])
            since, until = moment - window, moment
            remembered = read(reads, community_a, since, until, **narrow)
            assert ids(remembered) == ids(read(None, community_a, since, until, **narrow))
        clock.now += chance.choice([0.1, 1, 5])
    assert reads.remembered_reads > 0


def test_reads_only_new_rows_after_the_first(
    devices: dict[str, Device],
    committed: Callable[[], Any],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    reads = StoredEventReads()
    north = devices["north"]
    for second in range(20):
        store(north, "access", second, result="denied")
    with committed():
        assert len(read(reads, north.community_id, 0, 30, data_equals={"result": "denied"})) == 20
    store(north, "access", 25, result="denied")
    store(north, "access", 26, result="granted")
    with committed(), django_assert_max_num_queries(3):
        # the new ids, the rows of other writers, the devices: no read of the window
        found = read(reads, north.community_id, 0, 30, data_equals={"result": "denied"})
    assert len(found) == 21
    assert reads.full_reads == 1


def test_a_row_committed_late_below_seen_ids_is_counted(
    devices: dict[str, Device], committed: Callable[[], Any]
) -> None:
    # Another writer took an id first and committed after ours: a gap, filled later.
    reads = StoredEventReads()
    north = devices["north"]
    first = store(north, "access", 0, result="denied")
    with committed():
        read(reads, north.community_id, -60, 60, kinds=["access"])
    ours = store(north, "access", 2, pk=first + 2, result="denied")
    with committed():
        assert ids(read(reads, north.community_id, -60, 60, kinds=["access"])) == [first, ours]
    slow = store(north, "access", 1, pk=first + 1, result="denied")
    with committed():
        found = read(reads, north.community_id, -60, 60, kinds=["access"])
    assert ids(found) == [first, slow, ours]


def test_a_gap_that_never_fills_is_given_up(
    devices: dict[str, Device], committed: Callable[[], Any]
) -> None:
    clock = Clock()
    reads = StoredEventReads(clock=clock)
    north = devices["north"]
    first = store(north, "access", 0)
    with committed():
        read(reads, north.community_id, -60, 60)
    store(north, "access", 2, pk=first + 2)
    with committed():
        read(reads, north.community_id, -60, 60)
    assert reads._gaps[first + 1] == clock.now
    clock.now += memory.GAP_SECONDS + 1
    with committed():
        read(reads, north.community_id, -60, 60)
    assert reads._gaps == {}


def test_rows_of_a_rolled_back_batch_are_forgotten(
    devices: dict[str, Device], committed: Callable[[], Any]
) -> None:
    reads = StoredEventReads()
    north = devices["north"]
    kept = store(north, "access", 0)
    with committed():
        read(reads, north.community_id, -60, 60)

    seen: list[int] = []

    def batch_that_fails() -> None:
        with transaction.atomic():
            phantom = store(north, "access", 1)
            seen.extend(ids(read(reads, north.community_id, -60, 60)))
            assert phantom in seen
            raise RuntimeError

    with pytest.raises(RuntimeError):
        batch_that_fails()
    with committed():
        assert ids(read(reads, north.community_id, -60, 60)) == [kept]


def test_events_count_where_their_device_is_now(
    devices: dict[str, Device], committed: Callable[[], Any], world: Any
) -> None:
    reads = StoredEventReads()
    south = devices["south"]
    store(south, "access", 0)
    with committed():
        (before,) = read(reads, south.community_id, -60, 60)
    assert before.device.zone_id is None
    south.zone = world.a.zone
    south.save()
    with committed():
        (after,) = read(reads, south.community_id, -60, 60)
    assert after.device.zone_id == world.a.zone.pk
    # Made once while the device stays as it is: the next batch gets the same facts.
    with committed():
        (again,) = read(reads, south.community_id, -60, 60)
    assert again is after


def test_events_of_a_deleted_device_are_gone(
    devices: dict[str, Device], committed: Callable[[], Any]
) -> None:
    reads = StoredEventReads()
    south, north = devices["south"], devices["north"]
    store(south, "access", 0)
    kept = store(north, "access", 1)
    with committed():
        assert len(read(reads, south.community_id, -60, 60)) == 2
    south.delete()
    with committed():
        assert ids(read(reads, north.community_id, -60, 60)) == [kept]


def test_fresh_rows_of_the_batch_are_not_read_back(
    devices: dict[str, Device], committed: Callable[[], Any]
) -> None:
    reads = StoredEventReads()
    north = devices["north"]
    store(north, "access", 0, result="denied")
    with committed():
        read(reads, north.community_id, -60, 60, data_equals={"result": "denied"})
    new = DeviceEvent.objects.get(pk=store(north, "access", 1, result="denied"))
    facts = device_facts(Device.objects.select_related("zone", "building").get(pk=north.pk))
    fresh = EventFacts(
        id=new.pk,
        device=facts,
        kind=new.kind,
        received_at=new.received_at,
        attribute=new.attribute,
        value=new.value,
        previous_value=new.previous_value,
        edge_key=new.edge_key,
        data=new.data,
    )
    with committed():
        history = DatabaseHistory(reads=reads, fresh=[fresh])
        found = history.events_between(
            community_id=north.community_id,
            since=at(-60),
            until=at(60),
            data_equals={"result": "denied"},
        )
    assert found[-1] is not fresh
    assert found[-1] == fresh


def test_rows_of_batches_that_read_nothing_are_not_read_back(
    devices: dict[str, Device],
    committed: Callable[[], Any],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    """A batch no count rule needed the past for hands its rows to the memory; the next batch
    that reads takes them from there, not from the database."""
    reads = StoredEventReads()
    north = devices["north"]
    facts = device_facts(Device.objects.select_related("zone", "building").get(pk=north.pk))

    def fresh(seconds: float) -> EventFacts:
        new = DeviceEvent.objects.get(pk=store(north, "access", seconds, result="denied"))
        return EventFacts(
            id=new.pk,
            device=facts,
            kind=new.kind,
            received_at=new.received_at,
            data=new.data,
        )

    with committed():
        read(reads, north.community_id, -60, 60, data_equals={"result": "denied"})
    quiet = [fresh(1), fresh(2)]
    with committed():
        DatabaseHistory(reads=reads, fresh=quiet).keep_fresh()
    latest = fresh(3)
    with committed():
        history = DatabaseHistory(reads=reads, fresh=[latest])
        # The list of ids stored since, and nothing else: no row is read back.
        with django_assert_num_queries(1):
            found = history.events_between(
                community_id=north.community_id,
                since=at(-60),
                until=at(60),
                data_equals={"result": "denied"},
            )
    assert ids(found) == [event.id for event in [*quiet, latest]]
    assert found[0] is not quiet[0]
    assert found[0] == quiet[0]


@pytest.fixture
def worker_thread_memory() -> Iterator[None]:
    remember_between_batches()
    yield
    remember_between_batches(False)


def test_memory_is_per_thread_and_off_unless_turned_on(worker_thread_memory: None) -> None:
    import threading

    assert thread_memory() is not None
    elsewhere: list[WorkerMemory | None] = []
    thread = threading.Thread(target=lambda: elsewhere.append(thread_memory()))
    thread.start()
    thread.join()
    assert elsewhere == [None]


def test_rules_are_reread_only_when_changed(
    world: Any, django_assert_num_queries: Callable[..., Any]
) -> None:
    from anwang.rules.memory import RememberedRules
    from anwang.rules.models import Rule
    from anwang.rules.services import rule_create, rule_disable, rule_update

    remembered = RememberedRules()
    community = world.a.community
    first = rule_create(
        actor=None,
        community=community,
        name="smoke",
        kind="immediate",
        priority=1,
        title_template="Smoke at {device}",
        condition={"field": "kind", "op": "eq", "value": "smoke"},
    )
    enabled = Rule.objects.filter(community=community, enabled=True)
    assert [spec.name for spec in remembered.specs(enabled)] == ["smoke"]
    with django_assert_num_queries(1):
        assert len(remembered.specs(enabled)) == 1
    rule_update(actor=None, rule=first, name="smoke alarm")
    assert [spec.name for spec in remembered.specs(enabled)] == ["smoke alarm"]
    rule_disable(actor=None, rule=first)
    assert remembered.specs(enabled) == []


def _access(community: Any, source_id: str, number: int, result: str, second: float) -> Any:
    import json

    from anwang.events.adapters.base import InboundMessage

    payload = {
        "schema_version": 1,
        "device": source_id,
        "kind": "access",
        "event_id": str(number),
        "data": {"result": result, "method": "card", "card_no": f"{number:08X}"},
    }
    return InboundMessage(
        transport="mqtt",
        topic=f"anwang/{community.slug}/{source_id}/event",
        payload=json.dumps(payload).encode(),
        received_at=at(second),
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_worker_raises_the_same_alarms_with_and_without_memory(
    world: Any, committed: Callable[[], Any], seed: int
) -> None:
    from anwang.alarms.models import Alarm
    from anwang.devices.services import device_create
    from anwang.events.services import ingest_messages
    from anwang.rules.services import rule_create

    refused = {
        "all": [
            {"field": "kind", "op": "eq", "value": "access"},
            {"field": "data.result", "op": "eq", "value": "denied"},
        ]
    }
    rules: list[dict[str, Any]] = [
        {"name": "burst", "kind": "count", "params": {"count": 3, "window_seconds": 60}},
        {
            "name": "zone burst",
            "kind": "count",
            "params": {"count": 5, "window_seconds": 300},
            "group_by": "zone",
        },
        {
            "name": "forced after refused",
            "kind": "sequence",
            "params": {
                "then": {"field": "data.result", "op": "eq", "value": "forced"},
                "within_seconds": 30,
            },
        },
    ]
    chance = random.Random(seed)
    plan = [
        [
            (
                chance.choice(["d1", "d2"]),
                chance.choice(["denied", "granted", "forced"]),
                chance.choice([1, 4, 15]),
            )
            for _event in range(chance.randint(1, 6))
        ]
        for _batch in range(12)
    ]

    def run(side: Any, remember: bool) -> list[tuple[str, int, str]]:
        community = side.community
        for values in rules:
            rule_create(
                actor=None,
                community=community,
                priority=3,
                title_template="{count} at {device}",
                condition=refused,
                **values,
            )
        for source_id in ("d1", "d2"):
            device_create(
                actor=None,
                community=community,
                name=source_id,
                kind="access_reader",
                protocol="anwang",
                source_id=source_id,
                zone=side.zone,
            )
        remember_between_batches(remember)
        try:
            number, second = 0, 0.0
            for batch in plan:
                with committed():
                    messages = []
                    for source_id, result, pause in batch:
                        number += 1
                        second += pause
                        messages.append(_access(community, source_id, number, result, second))
                    ingest_messages(messages=messages)
            memory = thread_memory()
            assert not remember or (memory is not None and memory.events.remembered_reads > 0)
        finally:
            remember_between_batches(False)
        return sorted(
            (alarm.rule.name if alarm.rule else "", alarm.count, alarm.group_key.split(":")[0])
            for alarm in Alarm.objects.filter(community=community).select_related("rule")
        )

    with_memory = run(world.a, True)
    without = run(world.b, False)
    assert with_memory == without
    assert with_memory  # the plan fires something


def test_the_holiday_calendar_is_read_again_after_a_minute(
    db: None, django_assert_num_queries: Callable[..., Any]
) -> None:
    from anwang.rules.memory import HOLIDAYS_SECONDS, RememberedHolidays
    from anwang.rules.models import Holiday

    now = [0.0]
    calendar = RememberedHolidays(clock=lambda: now[0])
    Holiday.objects.create(date=dt.date(2026, 10, 1), name="国庆节")
    with django_assert_num_queries(1):
        assert calendar.holidays() == {dt.date(2026, 10, 1): False}
    Holiday.objects.create(date=dt.date(2026, 10, 11), name="调休", is_workday=True)
    now[0] = HOLIDAYS_SECONDS - 1
    with django_assert_num_queries(0):
        assert calendar.holidays() == {dt.date(2026, 10, 1): False}
    now[0] = HOLIDAYS_SECONDS
    assert calendar.holidays() == {dt.date(2026, 10, 1): False, dt.date(2026, 10, 11): True}

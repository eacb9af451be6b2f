"""Builders of the rules engine's plain data, an in-memory History and a controllable clock."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from anwang.rules.conditions import event_value, same
from anwang.rules.facts import DeviceFacts, EventFacts, RuleSpec, StateFacts

SHANGHAI = ZoneInfo("Asia/Shanghai")
COMMUNITY = 1


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """An aware moment in Shanghai time: local(2026, 11, 27, 22, 0)."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def make_device(
    id: int = 1,
    *,
    kind: str = "smoke",
    protocol: str = "zigbee2mqtt",
    zone_id: int | None = None,
    zone_name: str = "",
    is_key_area: bool = False,
    building_id: int | None = None,
    building_name: str = "",
    community_id: int = COMMUNITY,
) -> DeviceFacts:
    """A device's facts."""
    return DeviceFacts(
        id=id,
        community_id=community_id,
        name=f"device {id}",
        kind=kind,
        protocol=protocol,
        zone_id=zone_id,
        zone_name=zone_name or (f"zone {zone_id}" if zone_id else ""),
        is_key_area=is_key_area,
        building_id=building_id,
        building_name=building_name or (f"building {building_id}" if building_id else ""),
    )


_ids = itertools.count(1000)


def make_event(
    device: DeviceFacts,
    kind: str,
    at: dt.datetime,
    *,
    id: int | None = None,
    attribute: str | None = None,
    value: Any = None,
    previous_value: Any = None,
    data: Mapping[str, Any] | None = None,
) -> EventFacts:
    """An event's facts (a fresh id unless given)."""
    return EventFacts(
        id=next(_ids) if id is None else id,
        device=device,
        kind=kind,
        received_at=at,
        attribute=attribute,
        value=value,
        previous_value=previous_value,
        data=dict(data or {}),
    )


def make_rule(
    kind: str = "immediate",
    *,
    id: int = 1,
    condition: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    group_by: str = "device",
    schedule: Mapping[str, Any] | None = None,
    active_since: dt.datetime | None = None,
    community_id: int = COMMUNITY,
) -> RuleSpec:
    """A rule as the engine sees it."""
    return RuleSpec(
        id=id,
        community_id=community_id,
        name=f"rule {id}",
        kind=kind,
        condition=dict(condition or {}),
        params=dict(params or {}),
        priority=2,
        title_template="{rule} at {device}",
        group_by=group_by,
        cooldown_seconds=300,
        schedule=dict(schedule or {}),
        active_since=active_since or local(2026, 1, 1, 0, 0),
    )


@dataclass
class MemoryHistory:
    """A History over lists, as the database would answer; counts the questions asked."""

    events: list[EventFacts] = field(default_factory=list)
    current: list[StateFacts] = field(default_factory=list)
    known: list[DeviceFacts] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def add(self, *events: EventFacts) -> None:
        """Store events (as the ingestion does before it evaluates them)."""
        self.events.extend(events)

    def events_between(
        self,
        *,
        community_id: int,
        since: dt.datetime,
        until: dt.datetime,
        kinds: Collection[str] | None = None,
        device_ids: Collection[int] | None = None,
        data_equals: Mapping[str, str | int | float] | None = None,
    ) -> Sequence[EventFacts]:
        self.calls.append("events_between")
        found = [
            e
            for e in self.events
            if e.device.community_id == community_id
            and since <= e.received_at <= until
            and (kinds is None or e.kind in kinds)
            and (device_ids is None or e.device.id in device_ids)
            and all(
                same(event_value(f"data.{path}", e, SHANGHAI), value)
                for path, value in (data_equals or {}).items()
            )
        ]
        return sorted(found, key=lambda e: (e.received_at, e.id))

    def last_event_before(
        self, *, community_id: int, until: dt.datetime, kinds: Sequence[str] | None = None
    ) -> Mapping[int, EventFacts]:
        self.calls.append("last_event_before")
        last: dict[int, EventFacts] = {}
        for e in sorted(self.events, key=lambda e: (e.received_at, e.id)):
            if e.device.community_id != community_id or e.received_at > until:
                continue
            if kinds is not None and e.kind not in kinds:
                continue
            last[e.device.id] = e
        return last

    def states(self, *, community_id: int) -> Sequence[StateFacts]:
        self.calls.append("states")
        return [s for s in self.current if s.device.community_id == community_id]

    def devices(self, *, community_id: int) -> Sequence[DeviceFacts]:
        self.calls.append("devices")
        return [d for d in self.known if d.community_id == community_id]


@pytest.fixture
def history() -> MemoryHistory:
    """An empty in-memory history."""
    return MemoryHistory()


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield

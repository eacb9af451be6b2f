"""The plain data the rules engine works on, and what it returns.

The engine (:mod:`anwang.rules.engine`) is pure: it sees events, device states and devices as
these frozen records, reads the past through a :class:`History`, and returns
:class:`Firing` records. Turning firings into alarms (grouping, cooldown, response times) is
the alarms domain's job (:func:`anwang.alarms.services.alarms_from_firings`); reading the
database into these records is :mod:`anwang.rules.history`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol


@dataclass(frozen=True)
class DeviceFacts:
    """What a rule may ask about a device."""

    id: int
    community_id: int
    name: str
    kind: str
    """``anwang.devices.choices.DeviceKind`` value."""
    protocol: str
    zone_id: int | None = None
    zone_name: str = ""
    is_key_area: bool = False
    building_id: int | None = None
    building_name: str = ""
    status: str = "unknown"


@dataclass(frozen=True)
class EventFacts:
    """A stored device event, with the facts of its device."""

    id: int
    device: DeviceFacts
    kind: str
    """``anwang.events.choices.EventKind`` value (``smoke``, ``contact``, ``device.offline``)."""
    received_at: dt.datetime
    """Aware; the server's receive time (device clocks are not trusted)."""
    attribute: str | None = None
    value: Any = None
    previous_value: Any = None
    edge_key: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StateFacts:
    """The current value of one attribute of a device, and since when (``DeviceState``)."""

    device: DeviceFacts
    attribute: str
    value: Any
    changed_at: dt.datetime


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the engine sees it (``Rule.as_data()`` plus its community and start)."""

    id: int
    community_id: int
    name: str
    kind: str
    """``anwang.rules.choices.RuleKind`` value."""
    condition: Mapping[str, Any]
    params: Mapping[str, Any]
    priority: int
    title_template: str
    group_by: str
    """``anwang.rules.choices.GroupBy`` value."""
    cooldown_seconds: int
    schedule: Mapping[str, Any]
    active_since: dt.datetime
    """When the rule was created or last enabled: an absence is counted from here at most."""

    # What the engine reads off a rule's condition for every batch, worked out once per spec
    # (the worker keeps its specs between batches). Cached on the instance, outside the
    # dataclass fields, so equality and ``replace()`` are unchanged.

    @cached_property
    def trigger(self) -> Mapping[str, Any] | None:
        """The condition of the event that makes the rule fire: for a sequence its ``then``,
        else its condition (``None``: unusable)."""
        trigger = self.params.get("then") if self.kind == "sequence" else self.condition
        return trigger if isinstance(trigger, Mapping) else None

    @cached_property
    def trigger_kinds(self) -> frozenset[str] | None:
        """The event kinds that can make the rule fire (``None``: any); see
        :func:`~anwang.rules.conditions.pinned_kinds`."""
        from anwang.rules.conditions import pinned_kinds  # conditions imports this module

        return frozenset() if self.trigger is None else pinned_kinds(self.trigger)

    @cached_property
    def trigger_data(self) -> tuple[tuple[str, Any], ...]:
        """The ``data`` values every firing event has, sorted by path; see
        :func:`~anwang.rules.conditions.required_data`."""
        from anwang.rules.conditions import required_data

        return () if self.trigger is None else tuple(sorted(required_data(self.trigger).items()))

    @cached_property
    def condition_read(self) -> tuple[frozenset[str] | None, tuple[tuple[str, Any], ...]]:
        """The event kinds and ``data`` values the rule's condition pins: what its read of
        stored events (a count's window, a sequence's first events) is narrowed by."""
        from anwang.rules.conditions import pinned_kinds, required_data

        return (
            pinned_kinds(self.condition),
            tuple(sorted(required_data(self.condition).items())),
        )


@dataclass(frozen=True)
class Firing:
    """One time a rule decided that a person is needed."""

    rule_id: int
    community_id: int
    priority: int
    group_key: str
    """What one alarm stands for: ``device:<id>``, ``zone:<id>``, ``building:<id>`` or
    ``rule`` (firings of the same rule and group join one open alarm)."""
    trigger_key: str
    """The identity of this firing, stable across restarts: ``event:<id>`` for an event that
    fired, ``duration:<device>:<attribute>:<since iso>``, ``absence:<group>:<anchor iso>``,
    ``sequence:<first id>:<then id>``. The same key is never counted twice."""
    at: dt.datetime
    title_template: str
    title_values: Mapping[str, Any]
    """Values for the template's placeholders: device, zone, building, count, rule."""
    event_ids: tuple[int, ...] = ()
    device_id: int | None = None
    zone_id: int | None = None
    why: Mapping[str, Any] = field(default_factory=dict)
    """The values that matched, shown with the alarm (e.g. ``{"kind": "smoke", "value": true,
    "count": 5, "window_seconds": 120}``)."""


class History(Protocol):
    """What the engine may read of the past. The ORM implementation is
    :class:`anwang.rules.history.DatabaseHistory`; tests use an in-memory one."""

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
        """Events received in ``[since, until]``, oldest first (by receive time, then id);
        only of ``kinds``, of ``device_ids`` and with these ``data`` values (dotted paths)
        when given."""
        ...

    def last_event_before(
        self, *, community_id: int, until: dt.datetime, kinds: Sequence[str] | None = None
    ) -> Mapping[int, EventFacts]:
        """The last event (of ``kinds``, or any) of each device of the community received at
        or before ``until``, by device id."""
        ...

    def states(self, *, community_id: int) -> Sequence[StateFacts]:
        """Every current device state of the community's devices in service."""
        ...

    def devices(self, *, community_id: int) -> Sequence[DeviceFacts]:
        """The community's devices in service."""
        ...

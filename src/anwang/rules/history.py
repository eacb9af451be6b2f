"""The rules engine's view of the past, read from the database.

:class:`DatabaseHistory` answers the :class:`~anwang.rules.facts.History` questions with one
query each, and remembers its answers for its own life: make one per engine call (or per
batch), so what it returns is never older than that call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from anwang.devices.models import Device
from anwang.events.models import DeviceEvent, DeviceState
from anwang.rules.facts import DeviceFacts, EventFacts, RuleSpec, StateFacts
from anwang.rules.models import Holiday, Rule

if TYPE_CHECKING:
    from anwang.rules.memory import ReadKey, StoredEventReads

_DEVICE_RELATED = ("zone", "building")
_EVENT_RELATED = ("device__zone", "device__building")
_EVENT_COLUMNS = (
    "id",
    "device_id",
    "kind",
    "received_at",
    "attribute",
    "value",
    "previous_value",
    "edge_key",
    "data",
)


def device_facts(device: Device) -> DeviceFacts:
    """A device as the engine sees it (its zone and building should be selected already)."""
    zone = device.zone
    building = device.building
    return DeviceFacts(
        id=device.pk,
        community_id=device.community_id,
        name=device.name,
        kind=device.kind,
        protocol=device.protocol,
        zone_id=device.zone_id,
        zone_name=zone.name if zone else "",
        is_key_area=bool(zone and zone.is_key_area),
        building_id=device.building_id,
        building_name=building.name if building else "",
        status=device.status,
    )


def _event(event: DeviceEvent, device: DeviceFacts) -> EventFacts:
    return EventFacts(
        id=event.pk,
        device=device,
        kind=event.kind,
        received_at=event.received_at,
        attribute=event.attribute,
        value=event.value,
        previous_value=event.previous_value,
        edge_key=event.edge_key,
        data=event.data if isinstance(event.data, dict) else {},
    )


def _related_loaded(device: Device) -> bool:
    cache = device._state.fields_cache
    return (device.zone_id is None or "zone" in cache) and (
        device.building_id is None or "building" in cache
    )


def event_facts(events: Iterable[DeviceEvent]) -> list[EventFacts]:
    """Stored events as the engine sees them, in the order given.

    Devices already loaded with their zone and building are used as they are; the others are
    read in one query.
    """
    events = list(events)
    devices: dict[int, DeviceFacts] = {}
    missing: set[int] = set()
    for event in events:
        if event.device_id in devices or event.device_id in missing:
            continue
        cached = event._state.fields_cache.get("device")
        if isinstance(cached, Device) and _related_loaded(cached):
            devices[event.device_id] = device_facts(cached)
        else:
            missing.add(event.device_id)
    if missing:
        for device in Device.objects.filter(pk__in=missing).select_related(*_DEVICE_RELATED):
            devices[device.pk] = device_facts(device)
    return [_event(event, devices[event.device_id]) for event in events]


def _row_facts(row: tuple[Any, ...], device: DeviceFacts) -> EventFacts:
    """A row of :data:`_EVENT_COLUMNS` as the engine sees it."""
    pk, _device_id, kind, received_at, attribute, value, previous_value, edge_key, data = row
    return EventFacts(
        id=pk,
        device=device,
        kind=kind,
        received_at=received_at,
        attribute=attribute,
        value=value,
        previous_value=previous_value,
        edge_key=edge_key,
        data=data or {},
    )


def rule_spec(rule: Rule) -> RuleSpec:
    """A stored rule as the engine sees it.

    ``active_since`` is the rule's last change (``updated_at``): the model keeps no separate
    time of enabling, so after any edit an absence is counted afresh from the edit.
    """
    return RuleSpec(
        id=rule.pk,
        community_id=rule.community_id,
        name=rule.name,
        kind=rule.kind,
        condition=rule.condition if isinstance(rule.condition, dict) else {},
        params=rule.params if isinstance(rule.params, dict) else {},
        priority=rule.priority,
        title_template=rule.title_template,
        group_by=rule.group_by,
        cooldown_seconds=rule.cooldown_seconds,
        schedule=rule.schedule if isinstance(rule.schedule, dict) else {},
        active_since=rule.updated_at,
    )


def holidays_map() -> dict[dt.date, bool]:
    """The holiday calendar for schedules: date -> whether it is worked (调休)."""
    return dict(Holiday.objects.values_list("date", "is_workday"))


def data_filter(data_equals: Mapping[str, str | int | float] | None) -> Q:
    """The ``data`` values of a read as a filter (dotted paths into the JSON)."""
    condition = Q()
    for path, value in (data_equals or {}).items():
        condition &= Q(**{"data__" + path.replace(".", "__"): value})
    return condition


def read_key(
    community_id: int,
    kinds: Collection[str] | None,
    data_equals: Mapping[str, str | int | float] | None,
) -> ReadKey:
    """What identifies a read apart from its time bounds and devices."""
    return (
        community_id,
        frozenset(kinds) if kinds is not None else None,
        tuple(sorted((data_equals or {}).items())),
    )


class DatabaseHistory:
    """The :class:`~anwang.rules.facts.History` of the database, one query per question."""

    def __init__(
        self,
        *,
        reads: StoredEventReads | None = None,
        fresh: Sequence[EventFacts] = (),
    ) -> None:
        """With ``reads``, windows of events come from that memory of earlier reads
        (:mod:`anwang.rules.memory`), which only this one history may use at a time.
        ``fresh`` are the events the caller has just stored (in this transaction), as it
        sees them: they are not read back, and their devices are taken as they are."""
        self._reads = reads
        self._caught_up = False
        self._fresh = {
            event.id: (
                event.id,
                event.device.id,
                event.kind,
                event.received_at,
                event.attribute,
                event.value,
                event.previous_value,
                event.edge_key,
                event.data,
                event.device.community_id,
            )
            for event in fresh
        }
        self._devices: dict[int, Sequence[DeviceFacts]] = {}
        self._states: dict[int, Sequence[StateFacts]] = {}
        self._between: dict[
            tuple[
                int,
                dt.datetime,
                dt.datetime,
                frozenset[str] | None,
                frozenset[int] | None,
                tuple[tuple[str, Any], ...],
            ],
            Sequence[EventFacts],
        ] = {}
        self._last: dict[
            tuple[int, dt.datetime, tuple[str, ...] | None], Mapping[int, EventFacts]
        ] = {}
        # The same device is one DeviceFacts for every event of it.
        self._facts: dict[int, DeviceFacts] = {event.device.id: event.device for event in fresh}

    def _device(self, device: Device) -> DeviceFacts:
        facts = self._facts.get(device.pk)
        if facts is None:
            facts = self._facts[device.pk] = device_facts(device)
        return facts

    def _events(self, events: QuerySet[DeviceEvent]) -> list[EventFacts]:
        return [_event(event, self._device(event.device)) for event in events]

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
        """Events of the community received in ``[since, until]``, oldest first; only of
        ``kinds`` and ``device_ids`` when given.

        Read as plain rows (no model instances): windows of busy communities hold thousands
        of events, and this runs inside the pipeline's transaction."""
        key = (
            community_id,
            since,
            until,
            frozenset(kinds) if kinds is not None else None,
            frozenset(device_ids) if device_ids is not None else None,
            tuple(sorted((data_equals or {}).items())),
        )
        if key not in self._between:
            rows = (
                self._rows_between(community_id, since, until, kinds, device_ids, data_equals)
                if self._reads is None
                else self._remembered_rows(
                    community_id, since, until, kinds, device_ids, data_equals, self._reads
                )
            )
            devices = self._devices_by_id(community_id, {row[1] for row in rows})
            # A device deleted since its rows were remembered took its events with it.
            rows = [row for row in rows if row[1] in devices]
            if self._reads is None:
                self._between[key] = [_row_facts(row, devices[row[1]]) for row in rows]
            else:
                self._between[key] = self._reads.event_facts(rows, devices, _row_facts)
        return self._between[key]

    @staticmethod
    def _matching(
        community_id: int,
        kinds: Collection[str] | None,
        data_equals: Mapping[str, str | int | float] | None,
    ) -> QuerySet[DeviceEvent]:
        found = DeviceEvent.objects.filter(community_id=community_id)
        if kinds is not None:
            found = found.filter(kind__in=list(kinds))
        return found.filter(data_filter(data_equals))

    def _rows_between(
        self,
        community_id: int,
        since: dt.datetime,
        until: dt.datetime,
        kinds: Collection[str] | None,
        device_ids: Collection[int] | None,
        data_equals: Mapping[str, str | int | float] | None,
    ) -> list[tuple[Any, ...]]:
        found = self._matching(community_id, kinds, data_equals).filter(
            received_at__gte=since, received_at__lte=until
        )
        if device_ids is not None:
            found = found.filter(device_id__in=list(device_ids))
        return list(found.order_by("received_at", "id").values_list(*_EVENT_COLUMNS))

    def _remembered_rows(
        self,
        community_id: int,
        since: dt.datetime,
        until: dt.datetime,
        kinds: Collection[str] | None,
        device_ids: Collection[int] | None,
        data_equals: Mapping[str, str | int | float] | None,
        reads: StoredEventReads,
    ) -> list[tuple[Any, ...]]:
        if not self._caught_up:
            reads.catch_up(_EVENT_COLUMNS, self._fresh)
            self._caught_up = True
        rows = reads.read(
            read_key(community_id, kinds, data_equals),
            since=since,
            until=until,
            query=lambda: self._matching(community_id, kinds, data_equals),
            columns=_EVENT_COLUMNS,
        )
        if device_ids is None:
            return rows
        wanted = set(device_ids)
        return [row for row in rows if row[1] in wanted]

    def keep_fresh(self) -> None:
        """Hand the fresh events to the memory of reads when this batch read no window (so
        did not catch up): the next batch that does need not read them back."""
        if self._reads is not None and not self._caught_up and self._fresh:
            self._reads.keep_stored(self._fresh)

    def _devices_by_id(self, community_id: int, wanted: set[int]) -> dict[int, DeviceFacts]:
        """Facts of these devices (of the community, retired or not), read once per history."""
        missing = wanted - self._facts.keys()
        if missing:
            for device in Device.objects.filter(
                community_id=community_id, pk__in=missing
            ).select_related(*_DEVICE_RELATED):
                self._device(device)
        return self._facts

    def last_event_before(
        self, *, community_id: int, until: dt.datetime, kinds: Sequence[str] | None = None
    ) -> Mapping[int, EventFacts]:
        """The last event (of ``kinds``, or any) received at or before ``until`` of each
        device of the community in service, by device id."""
        key = (community_id, until, tuple(sorted(kinds)) if kinds is not None else None)
        if key not in self._last:
            # Per device, the newest event through the (device, received_at) index.
            latest = DeviceEvent.objects.filter(device=OuterRef("pk"), received_at__lte=until)
            if kinds is not None:
                latest = latest.filter(kind__in=list(kinds))
            last_ids = Device.objects.filter(
                community_id=community_id, retired_at__isnull=True
            ).values(last_id=Subquery(latest.order_by("-received_at", "-id").values("id")[:1]))
            found = DeviceEvent.objects.filter(pk__in=last_ids).select_related(*_EVENT_RELATED)
            self._last[key] = {facts.device.id: facts for facts in self._events(found)}
        return self._last[key]

    def states(self, *, community_id: int) -> Sequence[StateFacts]:
        """Every current state of the community's devices in service."""
        if community_id not in self._states:
            found = (
                DeviceState.objects.filter(
                    device__community_id=community_id, device__retired_at__isnull=True
                )
                .select_related(*_EVENT_RELATED)
                .order_by("device_id", "attribute")
            )
            self._states[community_id] = [
                StateFacts(
                    device=self._device(state.device),
                    attribute=state.attribute,
                    value=state.value,
                    changed_at=state.changed_at,
                )
                for state in found
            ]
        return self._states[community_id]

    def devices(self, *, community_id: int) -> Sequence[DeviceFacts]:
        """The community's devices in service."""
        if community_id not in self._devices:
            found = Device.objects.filter(
                community_id=community_id, retired_at__isnull=True
            ).select_related(*_DEVICE_RELATED)
            self._devices[community_id] = [self._device(device) for device in found]
        return self._devices[community_id]

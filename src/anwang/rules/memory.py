"""The worker's memory between batches: the stored events its count and sequence rules read,
and its rules as the engine sees them.

Without it, every batch reads the whole window of each rule again (every refused access of the
last ten minutes, say), and the database tests each stored event's ``data`` as JSON: at
1,000 events/s that is most of a batch's time. With it, a batch reads only the events stored
since the last batch, and the window is served from memory.

What makes this safe:

* **Events are never changed**, only inserted (and deleted when old). A row read once stays
  right; the device it belongs to is looked up afresh for every batch (by the caller), so a
  device moved to another zone counts in its new zone at once.
* **Other writers** (a web process taking HTTP events, a second worker) commit rows whose ids
  may be lower than ids already seen: PostgreSQL hands out ids when rows are inserted, not when
  they are committed. Every batch lists the ids stored since the last one (through the primary
  key, without filters); an id skipped over is a *gap*, probably a row still being committed,
  and every cached read is read again from the oldest open gap until the gap fills or
  :data:`GAP_SECONDS` pass (a rolled-back insert leaves a gap that never fills).
* **A rolled-back batch** may have put its own rows in the memory. Every change waits for its
  transaction's commit (``transaction.on_commit``); a change still unconfirmed when the next
  batch starts means that transaction was rolled back, and the memory is emptied.
* **One memory per thread**, so one transaction's rows are never seen by another's.

Rules are remembered by id with their last change (``updated_at``): each batch reads only
the ids and times of the enabled rules, and whole rows only of those changed since. The
holiday calendar (for schedules) is read at most every :data:`HOLIDAYS_SECONDS`: it changes a
few times a year, and reading it was one of a batch's few round trips.

Only the worker turns it on (:func:`remember_between_batches`); every other caller, and the
tests unless they ask, read the database each time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet

from anwang.events.models import DeviceEvent
from anwang.rules.conditions import data_key, value_key
from anwang.rules.facts import DeviceFacts, EventFacts, RuleSpec
from anwang.rules.history import holidays_map, rule_spec
from anwang.rules.models import Rule

GAP_SECONDS = 30.0
"""How long an id skipped over is waited for (the longest a writer's transaction may take
between inserting an event and committing it)."""
SETTLE_BACK = 2_000
"""When the memory starts, how many ids below the newest are checked for gaps."""
KEEP_SECONDS = 300.0
"""A read no batch asked for in this long is forgotten (it is read in full when needed again)."""
HOLIDAYS_SECONDS = 60.0
"""How long the worker uses the holiday calendar it read before reading it again."""
TRIM_SLACK = dt.timedelta(seconds=60)
OWN_ROWS_KEPT = 20_000
"""At most this many rows of batches that read nothing are kept for the next catch-up (beyond
that they are read back, as another writer's would be)."""
"""Rows kept before the oldest moment asked for, so a batch that starts a little earlier than
the one before (events of another writer) does not cause a full read."""

Row = tuple[Any, ...]
ReadKey = tuple[int, frozenset[str] | None, tuple[tuple[str, Any], ...]]


@dataclass
class _CachedRead:
    """The rows of one read (community, kinds, data values) received since ``covered_since``,
    complete up to what the memory has caught up with."""

    community_id: int
    kinds: frozenset[str] | None
    data_equals: dict[str, Any]
    covered_since: dt.datetime
    used_at: float
    rows: dict[int, Row] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._keys = tuple((path, value_key(value)) for path, value in self.data_equals.items())

    def takes(self, community_id: int, kind: str, data: Any) -> bool:
        """Whether a new row belongs to this read (its ``data`` compared as the engine
        compares, see :func:`~anwang.rules.conditions.value_key`)."""
        return (
            community_id == self.community_id
            and (self.kinds is None or kind in self.kinds)
            and all(data_key(data, path) == key for path, key in self._keys)
        )


class StoredEventReads:
    """The remembered reads of one thread (see the module's description)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._reads: dict[ReadKey, _CachedRead] = {}
        self._newest: int | None = None
        self._gaps: dict[int, float] = {}
        self._unconfirmed: object | None = None
        self._own: dict[int, Row] = {}
        self._facts: dict[int, tuple[Row, EventFacts]] = {}
        self._devices: dict[int, DeviceFacts] = {}
        self.full_reads = 0
        self.remembered_reads = 0

    def clear(self) -> None:
        """Forget everything; the next read of each key goes to the database in full."""
        self._reads.clear()
        self._newest = None
        self._gaps.clear()
        self._unconfirmed = None
        self._own.clear()
        self._facts.clear()
        self._devices.clear()

    def keep_stored(self, rows: Mapping[int, Row]) -> None:
        """Keep rows this thread stored in a batch that read nothing (no rule needed the past)
        for the next :meth:`catch_up`, which then need not read them back."""
        if len(self._own) + len(rows) > OWN_ROWS_KEPT:
            self._own.clear()
            return
        self._own.update(rows)
        self._changed()

    def catch_up(self, columns: tuple[str, ...], known: Mapping[int, Row]) -> None:
        """Read the rows stored since the last batch into every remembered read. Call once
        per batch, before :meth:`read`. ``columns`` start with ``id``, ``device_id``,
        ``kind`` and include ``data``; ``known`` are rows of them this batch stored itself
        (by id, ``community_id`` appended), which are not read back, nor are those of earlier
        batches handed to :meth:`keep_stored`."""
        if self._unconfirmed is not None:
            self.clear()  # the last batch's transaction was rolled back
        known = {**self._own, **known}
        self._own = {}
        now = self._clock()
        if self._newest is None:
            self._start(now)
            return
        floor = min(self._gaps) - 1 if self._gaps else self._newest
        # Through the primary key only; ``data`` (JSON) is read only for other writers' rows.
        stored = DeviceEvent.objects.filter(pk__gt=floor).order_by("id").values_list("id")
        others = [
            pk for (pk,) in stored if pk not in known and (pk > self._newest or pk in self._gaps)
        ]
        rows = [*known.values()]
        for start in range(0, len(others), 500):
            rows.extend(
                DeviceEvent.objects.filter(pk__in=others[start : start + 500]).values_list(
                    *columns, "community_id"
                )
            )
        rows.sort(key=lambda row: row[0])
        for row in rows:
            pk = row[0]
            if pk > self._newest:
                for missing in range(self._newest + 1, pk):
                    self._gaps[missing] = now
                self._newest = pk
            else:
                self._gaps.pop(pk, None)  # filled: committed by a slower writer
        for pk, seen_at in list(self._gaps.items()):
            if now - seen_at > GAP_SECONDS:
                del self._gaps[pk]  # rolled back, or deleted before it was seen
        for key, cached in list(self._reads.items()):
            if now - cached.used_at > KEEP_SECONDS:
                del self._reads[key]
        data_at = columns.index("data")
        for cached in self._reads.values():
            for row in rows:
                if cached.takes(row[-1], row[2], row[data_at]):
                    cached.rows[row[0]] = row[:-1]
        self._changed()

    def _start(self, now: float) -> None:
        newest = DeviceEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
        floor = max(0, newest - SETTLE_BACK)
        present = set(
            DeviceEvent.objects.filter(pk__gt=floor, pk__lte=newest).values_list("id", flat=True)
        )
        self._gaps = {pk: now for pk in range(floor + 1, newest + 1) if pk not in present}
        self._newest = newest

    def read(
        self,
        key: ReadKey,
        *,
        since: dt.datetime,
        until: dt.datetime,
        query: Callable[[], QuerySet[DeviceEvent]],
        columns: tuple[str, ...],
    ) -> list[Row]:
        """The rows of ``query`` (the read's filters, without time bounds) received in
        ``[since, until]``, oldest first: from memory when it holds them (after
        :meth:`catch_up`), else from the database, and remembered."""
        received = columns.index("received_at")
        cached = self._reads.get(key)
        if cached is None or since < cached.covered_since:
            community_id, kinds, data = key
            cached = _CachedRead(
                community_id=community_id,
                kinds=kinds,
                data_equals=dict(data),
                covered_since=since - TRIM_SLACK,
                used_at=self._clock(),
            )
            found = query().filter(received_at__gte=cached.covered_since).values_list(*columns)
            cached.rows = {row[0]: row for row in found}
            self._reads[key] = cached
            self._changed()
            self.full_reads += 1
        else:
            cached.used_at = self._clock()
            self.remembered_reads += 1
        if since - TRIM_SLACK > cached.covered_since + TRIM_SLACK:
            # Rows long out of every window asked for go (in steps, not on every batch).
            cached.covered_since = since - TRIM_SLACK
            cached.rows = {
                pk: row for pk, row in cached.rows.items() if row[received] >= cached.covered_since
            }
        return sorted(
            (row for row in cached.rows.values() if since <= row[received] <= until),
            key=lambda row: (row[received], row[0]),
        )

    def event_facts(
        self,
        rows: Sequence[Row],
        devices: Mapping[int, DeviceFacts],
        make: Callable[[Row, DeviceFacts], EventFacts],
    ) -> list[EventFacts]:
        """The rows of a read as the engine sees them, each made once and kept while its
        device's facts stay the same (``devices``: as read for this batch; a device moved to
        another zone makes its events anew)."""
        same: dict[int, DeviceFacts] = {}
        for device_id, facts in devices.items():
            kept = self._devices.get(device_id)
            if kept is None or kept != facts:
                kept = self._devices[device_id] = facts
            same[device_id] = kept
        found = []
        for row in rows:
            device = same[row[1]]
            kept_row, event = self._facts.get(row[0], (None, None))
            # The same row (as remembered, not only the same id) of the same device.
            if kept_row is not row or event is None or event.device is not device:
                event = make(row, device)
                self._facts[row[0]] = (row, event)
            found.append(event)
        if len(self._facts) > 2 * len(found) + 10_000:
            # Events out of every window (or of reads no longer made) go, now and then.
            self._facts = {event.id: (row, event) for row, event in zip(rows, found, strict=True)}
        return found

    def _changed(self) -> None:
        """Hold the memory's changes until their transaction commits (see the module)."""
        token = self._unconfirmed = object()

        def confirm() -> None:
            if self._unconfirmed is token:
                self._unconfirmed = None

        transaction.on_commit(confirm)


class RememberedRules:
    """Rules as the engine sees them, re-read only when changed."""

    def __init__(self) -> None:
        self._specs: dict[int, tuple[dt.datetime, RuleSpec]] = {}

    def specs(self, rules: QuerySet[Rule]) -> list[RuleSpec]:
        """The specs of these rules, in their order."""
        # By id: the default order joins the community for its name, which is not needed here.
        stamps = list(rules.order_by("pk").values_list("id", "updated_at"))
        changed = [pk for pk, updated_at in stamps if self._stamp(pk) != updated_at]
        if changed:
            for rule in Rule.objects.filter(pk__in=changed):
                self._specs[rule.pk] = (rule.updated_at, rule_spec(rule))
        if len(self._specs) > 2 * len(stamps) + 100:
            wanted = {pk for pk, _updated_at in stamps}
            self._specs = {pk: spec for pk, spec in self._specs.items() if pk in wanted}
        return [self._specs[pk][1] for pk, _updated_at in stamps]

    def _stamp(self, pk: int) -> dt.datetime | None:
        found = self._specs.get(pk)
        return found[0] if found is not None else None


class RememberedHolidays:
    """The holiday calendar, read again after :data:`HOLIDAYS_SECONDS`."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._holidays: dict[dt.date, bool] = {}
        self._read_at: float | None = None

    def holidays(self) -> dict[dt.date, bool]:
        """Date -> whether it is worked (see :func:`~anwang.rules.history.holidays_map`)."""
        now = self._clock()
        if self._read_at is None or now - self._read_at >= HOLIDAYS_SECONDS:
            self._holidays = holidays_map()
            self._read_at = now
        return self._holidays


@dataclass
class WorkerMemory:
    """What one thread remembers between batches."""

    events: StoredEventReads = field(default_factory=StoredEventReads)
    rules: RememberedRules = field(default_factory=RememberedRules)
    calendar: RememberedHolidays = field(default_factory=RememberedHolidays)


_local = threading.local()


def remember_between_batches(enabled: bool = True) -> None:
    """Turn this thread's memory on (the worker does, on its database thread) or off."""
    _local.memory = WorkerMemory() if enabled else None


def thread_memory() -> WorkerMemory | None:
    """This thread's memory, if it is turned on."""
    memory: WorkerMemory | None = getattr(_local, "memory", None)
    return memory

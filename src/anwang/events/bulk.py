"""Storing a batch of device events with one statement that skips duplicates and returns what
it stored.

This is the pipeline's hot path. Django's ``bulk_create`` spent about half of the worker's
database time building its INSERT (model instances, field preparation), and with
``ignore_conflicts`` it cannot say which rows were new. Here a batch is one
``INSERT ... ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key``: on PostgreSQL
from a temporary table the batch was copied into (``COPY``), on SQLite as multi-row VALUES.
The rows returned are exactly the events that are new, with their ids, which the rules engine
needs next.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from anwang.devices.models import Device
from anwang.events.models import DeviceEvent

_COLUMNS = (
    "community_id",
    "device_id",
    "kind",
    "attribute",
    "value",
    "previous_value",
    "edge_key",
    "dedup_key",
    "device_time",
    "device_time_raw",
    "received_at",
    "clock_skew_seconds",
    "replay",
    "data",
)
_PG_TYPES = (
    "bigint",
    "bigint",
    "text",
    "text",
    "jsonb",
    "jsonb",
    "text",
    "text",
    "timestamptz",
    "text",
    "timestamptz",
    "double precision",
    "boolean",
    "jsonb",
)
_STAGE = "anwang_event_stage"
"""PostgreSQL: the temporary table a batch is copied into before it is inserted."""
_STAGE_DDL = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (batch_order integer, "
    + ", ".join(f"{name} {kind}" for name, kind in zip(_COLUMNS, _PG_TYPES, strict=True))
    + ") ON COMMIT DELETE ROWS"
)
_PG_VALUES_ROWS = 16
"""PostgreSQL: a batch of up to this many rows is one ``INSERT ... VALUES`` (one round trip);
a bigger one goes through the stage table (three round trips, but COPY formats its rows in C:
from about 16 rows on that costs less than quoting the values in Python)."""
_PG_VALUES_ROW = "(" + ", ".join(f"%s::{kind}" for kind in _PG_TYPES) + ")"
_SQLITE_ROWS_PER_STATEMENT = 1000
"""SQLite allows 32,766 parameters per statement; 1,000 rows of 14 stay well below."""


@dataclass(slots=True)
class NewEvent:
    """An event about to be stored (a ``DeviceEvent`` row without its id)."""

    device: Device
    kind: str
    dedup_key: str
    received_at: dt.datetime
    attribute: str | None = None
    value: Any = None
    previous_value: Any = None
    edge_key: str | None = None
    device_time: dt.datetime | None = None
    device_time_raw: str = ""
    clock_skew_seconds: float | None = None
    replay: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    """Set once stored."""


def _json(value: Any) -> str | None:
    # SQL NULL for None, as Django's JSONField stores a Python None.
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _row(event: NewEvent) -> tuple[Any, ...]:
    return (
        event.device.community_id,
        event.device.pk,
        event.kind,
        event.attribute,
        _json(event.value),
        _json(event.previous_value),
        event.edge_key,
        event.dedup_key,
        event.device_time,
        event.device_time_raw,
        event.received_at,
        event.clock_skew_seconds,
        event.replay,
        json.dumps(event.data, ensure_ascii=False),
    )


def store_events(events: Sequence[NewEvent]) -> list[NewEvent]:
    """Insert events whose key is not stored yet; the new ones, with their ids set."""
    if not events:
        return []
    rows = [_row(event) for event in events]
    if connection.vendor == "postgresql":
        returned = _insert_postgresql(rows)
    else:
        returned = _insert_sqlite(rows)
    by_key = {event.dedup_key: event for event in events}
    stored = []
    for pk, key in returned:
        event = by_key[key]
        event.id = pk
        stored.append(event)
    stored.sort(key=lambda event: event.id or 0)
    return stored


def _insert_postgresql(rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
    # COPY into a per-connection temporary table, then one INSERT ... SELECT from it. COPY's
    # rows are formatted by psycopg's C code; an INSERT over unnest() of one array per column
    # (the first version) spent about three times the CPU quoting array literals in Python.
    table = DeviceEvent._meta.db_table
    names = ", ".join(_COLUMNS)
    if len(rows) <= _PG_VALUES_ROWS:
        # The worker's batches at an ordinary rate (tens of events): one statement. The
        # VALUES rows are inserted in the order given, like the stage's ORDER BY below.
        values = (
            f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608 - constants of this module
            f"{', '.join([_PG_VALUES_ROW] * len(rows))} "
            "ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key"
        )
        with connection.cursor() as cursor:
            cursor.execute(values, [cell for row in rows for cell in row])
            return [(int(pk), str(key)) for pk, key in cursor.fetchall()]
    # Table and column names are constants of this module; values travel by COPY.
    insert = (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {_STAGE} "  # noqa: S608
        "ORDER BY batch_order ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key"
    )
    # The stage empties at the commit (ON COMMIT DELETE ROWS), so the COPY and the INSERT must
    # share a transaction; inside the caller's, no savepoint is needed.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Created here each time rather than remembered per connection: its creation is
        # rolled back with the transaction that made it. Rows of an earlier batch of the same
        # transaction are inserted already. Both in one round trip (no parameters).
        cursor.execute(f"{_STAGE_DDL}; DELETE FROM {_STAGE}")  # noqa: S608
        with cursor.copy(f"COPY {_STAGE} (batch_order, {names}) FROM STDIN") as copy:
            for order, row in enumerate(rows):
                copy.write_row((order, *row))
        cursor.execute(insert)
        return [(int(pk), str(key)) for pk, key in cursor.fetchall()]


def _insert_sqlite(rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
    table = DeviceEvent._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    time_columns = (_COLUMNS.index("device_time"), _COLUMNS.index("received_at"))
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    returned: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + _SQLITE_ROWS_PER_STATEMENT]
            values: list[Any] = []
            for row in chunk:
                cells = list(row)
                for index in time_columns:
                    cells[index] = adapt(cells[index])
                values.extend(cells)
            sql = (
                f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES "  # noqa: S608 - constants
                f"{', '.join([placeholders] * len(chunk))} "
                "ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key"
            )
            cursor.execute(sql, values)
            returned.extend((int(pk), str(key)) for pk, key in cursor.fetchall())
    return returned

"""Helpers for audit tests: write entries and tamper with the log the way an attacker would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from anwang.audit.models import AuditEvent
from anwang.audit.services import audit_record, entry_hash


def write_entries(count: int, *, community_id: int | None = None, **extra: Any) -> list[AuditEvent]:
    """Append ``count`` entries through the service."""
    return [
        audit_record(
            actor=None,
            action=extra.get("action", "probe.write"),
            object_type=extra.get("object_type", "probe.thing"),
            object_id=str(index),
            community_id=community_id,
            changes={"n": [index, index + 1]},
        )
        for index in range(count)
    ]


def raw(sql: str, params: list[Any] | None = None) -> None:
    """Run SQL directly, around the application (as someone with database access would)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def forge_append(*, well_formed: bool) -> int:
    """Insert an entry after the last one without moving the chain head; its seq."""
    last = AuditEvent.objects.order_by("-seq").first()
    seq = (last.seq if last else 0) + 1
    prev = last.hash if last else "0" * 64
    prev_hash = prev if well_formed else "f" * 64
    at = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
    fields = {
        "seq": seq,
        "at": at.isoformat(),
        "actor_id": None,
        "actor_name": "intruder",
        "client_address": "",
        "channel": "web",
        "action": "resident.view",
        "object_type": "people.resident",
        "object_id": "1",
        "object_repr": "",
        "community_id": None,
        "changes": {},
        "prev_hash": prev_hash,
    }
    AuditEvent.objects.create(
        seq=seq,
        at=at,
        actor_name="intruder",
        channel="web",
        action="resident.view",
        object_type="people.resident",
        object_id="1",
        changes={},
        prev_hash=prev_hash,
        hash=entry_hash(fields) if well_formed else "e" * 64,
    )
    return seq

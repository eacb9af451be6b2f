"""API schemas of the audit domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class AuditEventOut(Schema):
    """One audit entry, with the hashes that chain it to its neighbours."""

    id: int
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    client_address: str
    channel: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    community_id: int | None
    changes: dict[str, Any]
    prev_hash: str
    hash: str


class ChainReportOut(Schema):
    """The outcome of verifying the whole audit chain."""

    ok: bool
    checked: int
    first_broken_seq: int | None
    problem: str
    reason: str
    head_seq: int
    head_hash: str

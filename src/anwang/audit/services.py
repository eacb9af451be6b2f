"""Writing to the audit log. Every state change in every app calls :func:`audit_record` in the
same transaction as the change."""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from anwang.accounts.models import User
from anwang.audit.models import AuditChainHead, AuditEvent
from anwang.core.context import current_meta

GENESIS_HASH = "0" * 64
REDACTED = "(encrypted)"

HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "client_address",
    "channel",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "community_id",
    "changes",
    "prev_hash",
)


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a value whose text form survives a database round trip unchanged."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(item) for item in value]
    return str(value)


def entry_hash(fields: Mapping[str, Any]) -> str:
    """The SHA-256 of an entry's canonical JSON form."""
    canonical = json.dumps(
        {name: fields[name] for name in HASHED_FIELDS},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_fields(event: AuditEvent) -> dict[str, Any]:
    """The hashed fields of a stored entry, in the form they were hashed."""
    return {
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "client_address": event.client_address,
        "channel": event.channel,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "community_id": event.community_id,
        "changes": event.changes,
        "prev_hash": event.prev_hash,
    }


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of some fields of a model instance, for a before/after diff."""
    return {name: jsonable(getattr(instance, _attname(instance, name))) for name in fields}


def _attname(instance: models.Model, name: str) -> str:
    field = instance._meta.get_field(name)
    return getattr(field, "attname", name)


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], *, redact: Iterable[str] = ()
) -> dict[str, Any]:
    """Changed fields as ``{field: [before, after]}``; redacted ones say only that they changed."""
    hidden = set(redact)
    changed: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changed[name] = [REDACTED, REDACTED] if name in hidden else [old, new]
    return changed


@dataclass
class _ChainTip:
    """The last entry written in an :func:`audit_batch`, before the head row is moved."""

    start_seq: int
    seq: int
    hash: str


_batch_tip: contextvars.ContextVar[_ChainTip | None] = contextvars.ContextVar(
    "anwang_audit_batch", default=None
)


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # Two first writers at once: one creates the head, the other's insert is skipped;
        # both then lock the same row.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(pk=1, seq=0, hash=GENESIS_HASH)], ignore_conflicts=True
        )
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


@contextmanager
def audit_batch() -> Iterator[None]:
    """Write many entries in one transaction and move the chain head once, at the end.

    Updating the one head row per entry inside per-row savepoints (an import) makes
    PostgreSQL walk an ever longer chain of row versions; a batch locks the head once instead.
    The batch is all-or-nothing: if an entry of it was rolled back by a savepoint while the
    rest stayed, the whole batch fails rather than commit a chain with a gap.
    """
    if _batch_tip.get() is not None:
        yield
        return
    with transaction.atomic():
        head = _locked_head()
        tip = _ChainTip(start_seq=head.seq, seq=head.seq, hash=head.hash)
        token = _batch_tip.set(tip)
        try:
            yield
        finally:
            _batch_tip.reset(token)
        if tip.seq != head.seq:
            written = AuditEvent.objects.filter(seq__gt=tip.start_seq).count()
            if (
                written != tip.seq - tip.start_seq
                or not AuditEvent.objects.filter(seq=tip.seq, hash=tip.hash).exists()
            ):
                raise RuntimeError("an audit entry of this batch was rolled back on its own")
            AuditChainHead.objects.filter(pk=1).update(seq=tip.seq, hash=tip.hash)


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    community_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry to the audit chain, in the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if community_id is None:
            community_id = getattr(obj, "community_id", None)
    meta = current_meta()
    tip = _batch_tip.get()
    # No savepoint of its own: a failure here must abort the caller's whole write anyway.
    with transaction.atomic(savepoint=False):
        if tip is None:
            head = _locked_head()
            prev_seq, prev_hash = head.seq, head.hash
        else:
            prev_seq, prev_hash = tip.seq, tip.hash
        at = timezone.now().astimezone(dt.UTC)
        fields: dict[str, Any] = {
            "seq": prev_seq + 1,
            "at": at.isoformat(),
            "actor_id": actor.pk if actor is not None and actor.pk else None,
            "actor_name": (actor.get_username() if actor is not None else "")[:150],
            "client_address": meta.client_address[:64],
            "channel": meta.channel,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "object_repr": object_repr[:200],
            "community_id": community_id,
            "changes": jsonable(dict(changes or {})),
            "prev_hash": prev_hash,
        }
        digest = entry_hash(fields)
        event = AuditEvent.objects.create(
            seq=fields["seq"],
            at=at,
            actor_id=fields["actor_id"],
            actor_name=fields["actor_name"],
            client_address=fields["client_address"],
            channel=fields["channel"],
            action=action,
            object_type=object_type,
            object_id=fields["object_id"],
            object_repr=fields["object_repr"],
            community_id=community_id,
            changes=fields["changes"],
            prev_hash=prev_hash,
            hash=digest,
        )
        if tip is None:
            AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=digest)
        else:
            tip.seq, tip.hash = event.seq, digest
    return event

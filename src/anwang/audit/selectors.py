"""Reading and verifying the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from anwang.audit.models import AuditChainHead, AuditEvent
from anwang.audit.services import GENESIS_HASH, entry_fields, entry_hash


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the audit chain."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""


def audit_chain_verify() -> ChainReport:
    """Recompute every entry's hash in order and compare the end with the stored head."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                expected_seq,
                f"entry #{expected_seq} is missing (next stored entry is #{event.seq})",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False, checked, event.seq, f"entry #{event.seq} does not link to the previous entry"
            )
        if entry_hash(entry_fields(event)) != event.hash:
            return ChainReport(False, checked, event.seq, f"entry #{event.seq} was altered")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != expected_prev:
        return ChainReport(
            False,
            checked,
            checked + 1 if head_seq > checked else head_seq,
            f"the chain ends at #{checked} but its head records #{head_seq}: entries were "
            "removed from the end or the head was altered",
        )
    return ChainReport(True, checked)


def audit_events_for(community_ids: set[int] | None) -> QuerySet[AuditEvent]:
    """Audit entries of the given communities (``None``: all, for platform auditors)."""
    events = AuditEvent.objects.order_by("-seq")
    if community_ids is not None:
        events = events.filter(community_id__in=community_ids)
    return events

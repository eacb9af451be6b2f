"""Reading and verifying the audit log.

Who may read it: people holding :attr:`Permission.VIEW_AUDIT` (auditors) see the entries of
their communities; a platform admin sees every entry, including those that belong to no
community (accounts, tokens, platform settings).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope
from anwang.audit.models import AuditChainHead, AuditEvent
from anwang.audit.services import GENESIS_HASH, entry_fields, entry_hash


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the audit chain.

    ``problem`` is a stable code (``missing``, ``unlinked``, ``altered``, ``truncated``,
    ``extra``, ``head``) so pages can word it in the reader's language; ``reason`` is the
    English explanation the command line prints.
    """

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    problem: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


def audit_chain_verify() -> ChainReport:
    """Recompute every entry's hash in order and compare the end with the stored head."""
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
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
                "missing",
                head_seq,
                head_hash,
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                checked,
                event.seq,
                f"entry #{event.seq} does not link to the previous entry",
                "unlinked",
                head_seq,
                head_hash,
            )
        if entry_hash(entry_fields(event)) != event.hash:
            return ChainReport(
                False,
                checked,
                event.seq,
                f"entry #{event.seq} was altered",
                "altered",
                head_seq,
                head_hash,
            )
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    if head_seq > checked:
        return ChainReport(
            False,
            checked,
            checked + 1,
            f"the chain ends at #{checked} but its head records #{head_seq}: "
            "entries were removed from the end",
            "truncated",
            head_seq,
            head_hash,
        )
    if head_seq < checked:
        # A well-formed entry appended without moving the head: written around the
        # application, which always moves both in one transaction.
        return ChainReport(
            False,
            checked,
            head_seq + 1,
            f"the head records #{head_seq} but the chain continues to #{checked}: "
            f"entry #{head_seq + 1} was added outside the application",
            "extra",
            head_seq,
            head_hash,
        )
    if head_hash != expected_prev:
        return ChainReport(
            False,
            checked,
            head_seq,
            f"the head's hash does not match entry #{head_seq}: the head was altered",
            "head",
            head_seq,
            head_hash,
        )
    return ChainReport(True, checked, head_seq=head_seq, head_hash=head_hash)


def audit_visible_community_ids(scope: Scope) -> set[int] | None:
    """Communities whose entries the person may read; ``None`` means every entry."""
    if scope.is_platform_admin and scope.token_community_id is None:
        return None
    if scope.is_platform_admin:
        return {scope.token_community_id} if scope.token_community_id is not None else set()
    return scope.community_ids(Permission.VIEW_AUDIT)


def audit_can_read(scope: Scope) -> bool:
    """Whether the person may read the audit log at all."""
    ids = audit_visible_community_ids(scope)
    return ids is None or bool(ids)


def audit_require_reader(scope: Scope) -> None:
    """Refuse people who may not read the audit log (a 403: the log's existence is no
    secret, only its entries are)."""
    if not audit_can_read(scope):
        raise PermissionDenied


def audit_events_for(community_ids: set[int] | None) -> QuerySet[AuditEvent]:
    """Audit entries of the given communities (``None``: all, for platform auditors)."""
    events = AuditEvent.objects.order_by("-seq")
    if community_ids is not None:
        events = events.filter(community_id__in=community_ids)
    return events


@dataclass(frozen=True)
class AuditFilters:
    """What the reader narrowed the log down to; empty values do not filter."""

    action: str = ""
    object_type: str = ""
    object_id: str = ""
    actor: str = ""
    channel: str = ""
    community_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of a day in the display time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_event_list(scope: Scope, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The entries the person may read, newest first, narrowed by ``filters``.

    ``action`` matches a prefix, so ``resident.`` finds every resident action; the date range
    is inclusive and read in the display time zone.
    """
    audit_require_reader(scope)
    filters = filters or AuditFilters()
    events = audit_events_for(audit_visible_community_ids(scope))
    if filters.action:
        events = events.filter(action__startswith=filters.action.strip())
    if filters.object_type:
        events = events.filter(object_type=filters.object_type.strip().lower())
    if filters.object_id:
        events = events.filter(object_id=filters.object_id.strip())
    if filters.actor:
        events = events.filter(actor_name__icontains=filters.actor.strip())
    if filters.channel:
        events = events.filter(channel=filters.channel)
    if filters.community_id is not None:
        events = events.filter(community_id=filters.community_id)
    if filters.date_from is not None:
        events = events.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        events = events.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return events


def audit_event_get(scope: Scope, event_id: int) -> AuditEvent:
    """One entry the person may read; another community's entry, or any entry for someone
    who may not read the log, is simply not found."""
    community_ids = audit_visible_community_ids(scope)
    if community_ids is not None and not community_ids:
        raise Http404
    event = audit_events_for(community_ids).filter(pk=event_id).first()
    if event is None:
        raise Http404
    return event

"""Reads of the events domain, already scoped to what the caller may see.

Device events and dead letters of a community are visible with the view-devices permission
there; dead letters of no known community only to platform administrators. A ``*_get`` of
something the caller cannot see raises :class:`Http404`.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.events.models import DeadLetter, DeviceEvent

VIEW = Permission.VIEW_DEVICES


def event_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    device_id: int | None = None,
    kind: str | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[DeviceEvent]:
    """Device events the caller may see, newest received first."""
    events = DeviceEvent.objects.all()
    if not acts_platform_wide(scope):
        events = scope.filter(events, VIEW, "community_id")
    if community_id is not None:
        events = events.filter(community_id=community_id)
    if device_id is not None:
        events = events.filter(device_id=device_id)
    if kind:
        events = events.filter(kind=kind)
    if since is not None:
        events = events.filter(received_at__gte=since)
    return events.select_related("device", "community").order_by("-received_at", "-id")


def event_get(scope: Scope, device_event_id: int) -> DeviceEvent:
    """One visible device event."""
    found = event_list(scope).filter(pk=device_event_id).first()
    if found is None:
        raise Http404
    return found


def dead_letter_list(
    scope: Scope, *, community_id: int | None = None, resolved: bool | None = None
) -> QuerySet[DeadLetter]:
    """Dead letters the caller may see, newest first."""
    letters = DeadLetter.objects.all()
    if not acts_platform_wide(scope):
        # A filter on the community leaves out those of no known community.
        letters = scope.filter(letters, VIEW, "community_id")
    if community_id is not None:
        letters = letters.filter(community_id=community_id)
    if resolved is not None:
        letters = letters.filter(resolved=resolved)
    return letters.select_related("community").defer("payload").order_by("-received_at", "-id")


def dead_letter_get(scope: Scope, dead_letter_id: int) -> DeadLetter:
    """One visible dead letter, with its payload."""
    letters = DeadLetter.objects.filter(pk=dead_letter_id)
    if not acts_platform_wide(scope):
        letters = scope.filter(letters, VIEW, "community_id")
    found = letters.select_related("community").first()
    if found is None:
        raise Http404
    return found

"""Other domains' work on newly stored events, in the ingestion transaction.

A domain that turns device events into records of its own (access control: an access record
per door event, a watch-list alarm) registers a processor from its ``AppConfig.ready``; the
pipeline calls each with the batch's stored events (replays from a device's log included:
they are history, and each processor decides what history means to it) in the transaction
that stores them, so an acknowledged message always has its records too."""

from __future__ import annotations

from collections.abc import Callable

from anwang.events.bulk import NewEvent

StoredEventsProcessor = Callable[[list[NewEvent]], None]

_processors: dict[str, StoredEventsProcessor] = {}


def register_stored_events_processor(key: str, processor: StoredEventsProcessor) -> None:
    """Add (or replace) the processor called ``key``."""
    _processors[key] = processor


def process_stored_events(stored: list[NewEvent]) -> None:
    """Run every registered processor over the stored events."""
    if not stored:
        return
    for processor in _processors.values():
        processor(stored)

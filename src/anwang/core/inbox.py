"""The 'my work' inbox: one list of what a person has to do, fed by every app through a small
registry (dispatched alarms, assigned hazards, due inspections, incident tasks, welfare visits,
bindings to approve...)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise

if TYPE_CHECKING:
    from anwang.accounts.selectors import Scope


@dataclass(frozen=True)
class WorkItem:
    """One thing for one person to do."""

    source: str
    title: str
    url: str
    community_id: int | None = None
    due_at: dt.datetime | None = None
    priority: int = 3  # 1 is the most urgent
    detail: str = ""


WorkSource = Callable[["Scope"], list[WorkItem]]


@dataclass(frozen=True)
class RegisteredSource:
    """A source of work items and the heading it shows under."""

    key: str
    label: str | Promise
    fetch: WorkSource


_sources: dict[str, RegisteredSource] = {}


def register_work_source(key: str, label: str | Promise, fetch: WorkSource) -> None:
    """Add a source of work items (called from an app's ``AppConfig.ready``)."""
    _sources[key] = RegisteredSource(key, label, fetch)


def work_sources() -> list[RegisteredSource]:
    """Every registered source, in registration order."""
    return list(_sources.values())


def my_work(scope: Scope) -> list[WorkItem]:
    """Everything the person has to do, most urgent and soonest due first."""
    items = [item for source in _sources.values() for item in source.fetch(scope)]
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(items, key=lambda item: (item.priority, item.due_at or far_future))

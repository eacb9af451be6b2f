"""API schemas of cross-cutting endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema

from anwang.accounts.models import User


class PersonOut(Schema):
    """A person an API names (an assignee, an owner, an attendee): account id, login name and
    display name."""

    id: int
    username: str
    display_name: str

    @staticmethod
    def of(user: User | None) -> PersonOut | None:
        """The person, or ``None``."""
        if user is None:
            return None
        return PersonOut(id=user.pk, username=user.username, display_name=user.display_name)


class HealthOut(Schema):
    """Liveness and database status."""

    status: str
    database: str
    version: str


class WorkItemOut(Schema):
    """One thing for the caller to do."""

    source: str
    title: str
    url: str
    community_id: int | None
    due_at: dt.datetime | None
    priority: int
    detail: str


class StatOut(Schema):
    """One dashboard figure."""

    key: str
    label: str
    value: int
    url: str


class LiveMessageOut(Schema):
    """One live update (see the kinds in ``docs/alarms.md``)."""

    id: int
    kind: str
    community: int | None
    data: dict[str, Any]
    created_at: dt.datetime


class LiveOut(Schema):
    """Live updates after a number; ask again with ``after=last_id``."""

    last_id: int
    messages: list[LiveMessageOut]

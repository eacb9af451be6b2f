"""API schemas of cross-cutting endpoints."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


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

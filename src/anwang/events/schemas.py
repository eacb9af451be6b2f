"""Response bodies of the events API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class DeviceEventOut(Schema):
    """A stored device event: one real change."""

    id: int
    community: int = Field(alias="community_id")
    device: int = Field(alias="device_id")
    kind: str
    attribute: str | None
    value: Any = None
    previous_value: Any = None
    edge_key: str | None
    device_time: datetime | None
    device_time_raw: str
    received_at: datetime
    clock_skew_seconds: float | None = Field(
        description="The device's time minus the server's receive time, when it parsed."
    )
    replay: bool
    data: dict[str, Any]


class DeadLetterOut(Schema):
    """A message that could not be used, and why."""

    id: int
    community: int | None = Field(alias="community_id")
    transport: str
    topic: str
    payload_preview: str
    content_type: str
    reason: str
    received_at: datetime
    reprocessed_at: datetime | None
    resolved: bool

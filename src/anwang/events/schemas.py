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


class IngestOut(Schema):
    """What one ingestion request stored."""

    events: int = Field(description="New events stored.")
    duplicates: int = Field(
        description="Events already stored before (a resent message): nothing new."
    )


class IngestErrorOut(Schema):
    """The API's one error shape."""

    detail: str = Field(description="What went wrong, in the request's language.")
    code: str = Field(
        description="Stable code: unknown_adapter, mqtt_only, credentials_missing, "
        "bad_credentials, credential_revoked, device_retired, tls_required, bad_signature, "
        "stale_timestamp, replayed, stale_nonce, body_too_large, unusable_message, "
        "foreign_device, wrong_protocol."
    )
    errors: list[dict[str, Any]]


class WorkerOut(Schema):
    """What one event worker last reported, and what is wrong with it."""

    name: str
    state: str = Field(description="running, silent (stopped reporting) or stopped.")
    problems: list[str]
    host: str
    pid: int | None
    mode: str = Field(description="mqtt, or local (HTTP and in-process input only).")
    broker: str
    connected: bool
    connected_since: datetime | None
    started_at: datetime
    reported_at: datetime
    stopped_at: datetime | None
    last_message_at: datetime | None
    last_commit_at: datetime | None
    lag_seconds: float = Field(description="How long the oldest waiting message has waited.")
    commit_latency_ms: float | None = Field(
        description="Receive-to-commit time of the last batch's oldest message."
    )
    pending: int
    messages_total: int
    events_total: int
    dead_letters_total: int
    last_error: str
    last_error_at: datetime | None


class PipelineOut(Schema):
    """Whether device messages are being stored now, and if not, why."""

    ok: bool
    problems: list[str]
    checked_at: datetime
    workers: list[WorkerOut]

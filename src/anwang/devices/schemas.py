"""Request and response bodies of the devices API."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from anwang.devices.choices import (
    CredentialKind,
    DeviceKind,
    DeviceStatus,
    Protocol,
)


class DeviceOut(Schema):
    """A device and its health."""

    id: int
    community: int = Field(alias="community_id")
    zone: int | None = Field(alias="zone_id")
    building: int | None = Field(alias="building_id")
    name: str
    kind: DeviceKind
    protocol: Protocol
    source_id: str
    latitude: float | None
    longitude: float | None
    heartbeat_seconds: int
    last_seen_at: datetime | None
    battery: int | None
    status: DeviceStatus
    retired_at: datetime | None
    note: str
    ingest_rejections: int = Field(
        description="Requests to HTTP ingestion that named this device and were refused."
    )
    last_rejected_at: datetime | None
    last_rejection_reason: str = Field(
        description="The code of the last refusal (the error `code` the device was sent), "
        "empty if none."
    )


class DeviceIn(Schema):
    """A new device."""

    community_id: int = Field(alias="community")
    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    name: str
    kind: DeviceKind
    protocol: Protocol
    source_id: str = Field(
        description="Zigbee2MQTT friendly name, Frigate camera, Hikvision serial or address, "
        "or our own id; unique per community and protocol among devices in service."
    )
    latitude: float | None = Field(None, description="WGS84.")
    longitude: float | None = None
    heartbeat_seconds: int = Field(600, description="Offline when silent this long; 0: none.")
    note: str = ""


class DevicePatch(Schema):
    """Changes to a device."""

    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    name: str | None = None
    kind: DeviceKind | None = None
    protocol: Protocol | None = None
    source_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    heartbeat_seconds: int | None = None
    note: str | None = None


class CredentialOut(Schema):
    """A device credential (never its secret)."""

    id: int
    device_id: int
    kind: CredentialKind
    username: str
    created_at: datetime
    revoked_at: datetime | None


class CredentialIn(Schema):
    """A credential to issue."""

    kind: CredentialKind
    username: str = Field("", description="For HTTP Basic and Digest; the source id if empty.")


class CredentialIssued(CredentialOut):
    """A new credential with its secret, shown this once."""

    secret: str

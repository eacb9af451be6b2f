"""Schemas of the access API, and the masked form of card numbers and plates that lists show.

Credential numbers leave the server masked (last four characters) everywhere except the
credential's own audited reveal for holders of :attr:`Permission.MANAGE_ACCESS`."""

import datetime as dt

from ninja import Schema
from pydantic import Field

from anwang.access.models import (
    AccessEvent,
    AccessPoint,
    Credential,
)
from anwang.access.selectors import has_finding, reason_text

MASK = "*"
KEEP = 4


def mask_value(value: str) -> str:
    """``3954678211`` → ``******8211``: the last four characters kept, and never more than
    half of a short value."""
    value = value or ""
    keep = min(KEEP, len(value) // 2)
    if not value:
        return ""
    return MASK * (len(value) - keep) + (value[-keep:] if keep else "")


# --------------------------------------------------------------------------- access points


class AccessPointIn(Schema):
    """An access point as created or changed (every field at once)."""

    community_id: int | None = Field(
        None, description="Where to add it (creating only; default: the caller's only one)"
    )
    name: str
    kind: str = Field(description="gate, unit_door, garage_barrier or other")
    device_id: int | None = Field(None, description="A device of the same community")
    door_no: int | None = None
    zone_id: int | None = None
    building_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_restricted: bool = False
    permitted_from: dt.time | None = None
    permitted_until: dt.time | None = None
    is_active: bool = True


class AccessPointOut(Schema):
    """An access point."""

    id: int
    community_id: int
    name: str
    kind: str
    device_id: int | None
    device_name: str
    door_no: int | None
    zone_id: int | None
    building_id: int | None
    latitude: float | None
    longitude: float | None
    is_restricted: bool
    permitted_from: dt.time | None
    permitted_until: dt.time | None
    is_active: bool

    @staticmethod
    def resolve_device_name(point: AccessPoint) -> str:
        """The device's name, or nothing."""
        return point.device.name if point.device is not None else ""


# --------------------------------------------------------------------------- credentials


class AccessCredentialIn(Schema):
    """A new credential for a resident."""

    resident_id: int
    kind: str = Field(description="card, qr, plate or face (the device's template reference)")
    value: str = Field(description="Card number, QR code id, plate, or face template reference")
    label: str = ""
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None


class CredentialPatch(Schema):
    """A credential's label and validity window (the number never changes)."""

    label: str | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    clear_valid_until: bool = Field(False, description="Remove the end of the validity window")


class CredentialStatusIn(Schema):
    """Lost, stolen, revoked, or active again (found)."""

    status: str
    reason: str = ""
    priority: int = Field(2, description="Alarm priority of the watch-list entry (1-4)")


class AccessCredentialOut(Schema):
    """A credential, its number masked (last four characters)."""

    id: int
    community_id: int
    resident_id: int
    resident_name: str
    kind: str
    value_masked: str
    label: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    status: str
    status_changed_at: dt.datetime | None
    consent_id: int | None

    @staticmethod
    def resolve_resident_name(credential: Credential) -> str:
        """Whose credential it is."""
        return credential.resident.name

    @staticmethod
    def resolve_value_masked(credential: Credential) -> str:
        """The number, all but its last four characters hidden."""
        return mask_value(str(credential.value or ""))


class CredentialNumberOut(Schema):
    """A credential's full number (audited)."""

    value: str


# --------------------------------------------------------------------------- consents


class ConsentIn(Schema):
    """A resident's consent as recorded."""

    kind: str = Field(description="face or welfare")
    how: str = Field(description="How it was given, and the text agreed to")
    given_at: dt.datetime | None = None


class ConsentOut(Schema):
    """A recorded consent."""

    id: int
    resident_id: int
    kind: str
    given_at: dt.datetime
    how: str
    recorded_by_id: int | None
    withdrawn_at: dt.datetime | None


# --------------------------------------------------------------------------- access records


class AccessEventOut(Schema):
    """One access: where, when, how, and whether it was let in."""

    id: int
    community_id: int
    access_point_id: int | None
    access_point_name: str
    at: dt.datetime
    result: str
    method: str
    reason: str
    reason_text: str
    finding: bool
    credential_id: int | None
    resident_id: int | None
    resident_name: str
    visitor_pass_id: int | None

    @staticmethod
    def resolve_access_point_name(event: AccessEvent) -> str:
        """Where it happened."""
        return event.access_point.name if event.access_point is not None else ""

    @staticmethod
    def resolve_reason_text(event: AccessEvent) -> str:
        """The device's reason and Anwang's findings in words."""
        return reason_text(event.reason)

    @staticmethod
    def resolve_finding(event: AccessEvent) -> bool:
        """Whether Anwang found something wrong with the access."""
        return has_finding(event)

    @staticmethod
    def resolve_resident_name(event: AccessEvent) -> str:
        """Who it was, when known."""
        return event.resident.name if event.resident is not None else ""


# --------------------------------------------------------------------------- watch list


class WatchIn(Schema):
    """A new watch-list entry."""

    community_id: int | None = Field(None, description="Default: the caller's only community")
    kind: str = Field(description="credential, person or plate")
    reason: str
    credential_id: int | None = None
    resident_id: int | None = None
    plate: str = ""
    description: str = ""
    priority: int = 2


class WatchOut(Schema):
    """A watch-list entry."""

    id: int
    community_id: int
    kind: str
    credential_id: int | None
    resident_id: int | None
    description: str
    reason: str
    priority: int
    created_at: dt.datetime
    created_by_id: int | None
    ended_at: dt.datetime | None


# --------------------------------------------------------------------------- a person's data


class AccessEraseOut(Schema):
    """What erasing a person's access data deleted (consent records are kept as proof)."""

    access_events: int
    access_findings: int
    credentials: int
    watch_entries: int
    consents_kept: int

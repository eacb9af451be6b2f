"""Request and response bodies of the visitor-pass and gate-log API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from anwang.access import passes
from anwang.access.choices import GateEntryKind
from anwang.access.models import AccessEvent, GateLogEntry, VisitorPass
from anwang.people.masking import mask_phone


class PassIn(Schema):
    """A visitor to register."""

    household_id: int
    visitor_name: str = Field(max_length=100)
    visitor_phone: str = Field(description="Mainland mobile number (11 digits).")
    valid_from: datetime = Field(description="With its time zone offset.")
    valid_until: datetime = Field(description="At most 7 days after valid_from.")
    max_entries: int = Field(1, description="1 to 20.")
    plate: str = Field("", description="A car plate that opens the barrier in the window.")


class PassEntryOut(Schema):
    """One time the pass was shown at a gate."""

    at: datetime
    result: str
    reason: str
    access_point: str

    @staticmethod
    def of(event: AccessEvent) -> PassEntryOut:
        """The entry as the API shows it."""
        point = event.access_point
        return PassEntryOut(
            at=event.at, result=event.result, reason=event.reason, access_point=str(point or "")
        )


class PassOut(Schema):
    """A visitor pass (the phone number masked)."""

    id: int
    community_id: int
    household_id: int
    household: str
    visitor_name: str
    visitor_phone: str
    plate: str
    valid_from: datetime
    valid_until: datetime
    max_entries: int
    entries_used: int
    status: str = Field(description="active, upcoming, expired, used_up or revoked.")
    revoked_at: datetime | None
    created_at: datetime
    token: str | None = Field(description="The signed QR code's text; none once revoked.")

    @staticmethod
    def of(visitor_pass: VisitorPass) -> PassOut:
        """The pass as the API shows it."""
        return PassOut.model_validate(_pass_fields(visitor_pass))


class PassDetailOut(PassOut):
    """A visitor pass with its history at the gates."""

    entries: list[PassEntryOut]

    @staticmethod
    def of_detail(visitor_pass: VisitorPass) -> PassDetailOut:
        """The pass and its entries."""
        entries = [PassEntryOut.of(event) for event in passes.pass_entries(visitor_pass)]
        return PassDetailOut.model_validate({**_pass_fields(visitor_pass), "entries": entries})


def _pass_fields(visitor_pass: VisitorPass) -> dict[str, Any]:
    status = passes.pass_status(visitor_pass)
    return {
        "id": visitor_pass.pk,
        "community_id": visitor_pass.community_id,
        "household_id": visitor_pass.household_id,
        "household": str(visitor_pass.household),
        "visitor_name": visitor_pass.visitor_name,
        "visitor_phone": mask_phone(visitor_pass.visitor_phone or ""),
        "plate": visitor_pass.plate or "",
        "valid_from": visitor_pass.valid_from,
        "valid_until": visitor_pass.valid_until,
        "max_entries": visitor_pass.max_entries,
        "entries_used": visitor_pass.entries_used,
        "status": status,
        "revoked_at": visitor_pass.revoked_at,
        "created_at": visitor_pass.created_at,
        "token": None if status == "revoked" else passes.pass_token(visitor_pass),
    }


class PassCheckIn(Schema):
    """A scanned pass at an access point."""

    token: str = Field(max_length=200)
    access_point_id: int


class DevicePassCheckIn(Schema):
    """A scanned pass at a gate device (the device's access point is found from it)."""

    token: str = Field(max_length=200)
    door_no: int | None = Field(None, description="For a controller driving several doors.")


class PassCheckOut(Schema):
    """Whether to let the visitor in, and why."""

    ok: bool
    reason: str = Field(
        description="ok, malformed, forged, not_yet_valid, expired, revoked, used_up, "
        "unknown_pass, wrong_community or access_point_inactive."
    )
    message: str
    pass_id: int | None
    visitor_name: str | None
    household: str | None
    entries_left: int | None
    valid_until: datetime | None

    @staticmethod
    def of(check: passes.PassCheck) -> PassCheckOut:
        """The outcome as the API shows it (the visitor named only when the pass is real)."""
        found = check.visitor_pass
        return PassCheckOut(
            ok=check.ok,
            reason=check.reason,
            message=check.message,
            pass_id=found.pk if found else None,
            visitor_name=found.visitor_name if found else None,
            household=str(found.household) if found else None,
            entries_left=check.entries_left,
            valid_until=check.claims.valid_until if check.claims else None,
        )


class PublicKeyOut(Schema):
    """The key gate devices verify passes with, offline."""

    algorithm: str = "Ed25519"
    key_id: str
    pem: str
    jwk: dict[str, str]
    token_format: str


class GateLogIn(Schema):
    """What the guard writes down at the gate."""

    community_id: int
    kind: GateEntryKind
    access_point_id: int | None = None
    visitor_name: str = Field("", max_length=100)
    visitor_phone: str = ""
    plate: str = ""
    household_id: int | None = None
    note: str = ""


class GateLogOut(Schema):
    """One line of the gate log (the phone number masked)."""

    id: int
    community_id: int
    access_point_id: int | None
    kind: str
    at: datetime
    guard: str
    visitor_name: str
    visitor_phone: str
    plate: str
    household_id: int | None
    household: str
    visitor_pass_id: int | None
    note: str

    @staticmethod
    def of(entry: GateLogEntry) -> GateLogOut:
        """The entry as the API shows it."""
        return GateLogOut(
            id=entry.pk,
            community_id=entry.community_id,
            access_point_id=entry.access_point_id,
            kind=entry.kind,
            at=entry.at,
            guard=entry.guard.display_name if entry.guard else "",
            visitor_name=entry.visitor_name,
            visitor_phone=mask_phone(entry.visitor_phone or ""),
            plate=entry.plate or "",
            household_id=entry.household_id,
            household=str(entry.household) if entry.household else "",
            visitor_pass_id=entry.visitor_pass_id,
            note=entry.note,
        )

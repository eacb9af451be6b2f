"""Schemas of the emergency plans API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from anwang.plans.choices import IncidentType, VersionStatus
from anwang.rosters.choices import DutyRole


class PlanStepSchema(Schema):
    """One step of a version, in order: what to do, by whom, within how many minutes of the
    incident being declared."""

    title: str = Field(max_length=200)
    instructions: str = ""
    duty_role: DutyRole
    target_minutes: int = Field(ge=0, description="Done within this many minutes.")


class PlanStepOut(PlanStepSchema):
    """A step as stored."""

    id: int
    position: int


class PlanContactSchema(Schema):
    """Someone to call during an incident."""

    name: str = Field(max_length=100)
    organisation: str = ""
    phone: str = Field(max_length=30)
    note: str = ""


class PlanContactOut(PlanContactSchema):
    """A contact as stored."""

    id: int
    position: int


class PlanResourceIn(Schema):
    """Equipment or supplies the plan relies on, optionally an asset of the community."""

    description: str = ""
    quantity: int = Field(1, ge=1)
    asset_id: int | None = Field(None, alias="asset")


class AssetBrief(Schema):
    """The linked asset's state, so a reader sees whether the resource is usable."""

    id: int
    name: str
    code: str
    status: str
    expires_on: date | None


class PlanResourceOut(Schema):
    """A resource as stored, with its asset's state."""

    id: int
    position: int
    description: str
    quantity: int
    asset: AssetBrief | None


class ZoneBrief(Schema):
    """A zone to evacuate."""

    id: int
    name: str


class PlanVersionBrief(Schema):
    """A version in a plan's history."""

    id: int
    number: int
    status: VersionStatus
    change_note: str
    based_on: int | None = Field(alias="based_on_id")
    approved_at: datetime | None
    superseded_at: datetime | None
    created_at: datetime


class PlanVersionOut(PlanVersionBrief):
    """One version with everything in it."""

    plan: int = Field(alias="plan_id")
    summary: str
    approved_by: str | None
    steps: list[PlanStepOut]
    contacts: list[PlanContactOut]
    resources: list[PlanResourceOut]
    evacuation_zones: list[ZoneBrief]
    assembly_latitude: float | None
    assembly_longitude: float | None
    assembly_note: str

    @staticmethod
    def resolve_approved_by(obj: Any) -> str | None:
        """Who approved the version, by name."""
        return str(obj.approved_by) if obj.approved_by_id else None

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        """The steps in order."""
        return list(obj.steps.all())

    @staticmethod
    def resolve_contacts(obj: Any) -> list[Any]:
        """The contacts in order."""
        return list(obj.contacts.all())

    @staticmethod
    def resolve_resources(obj: Any) -> list[Any]:
        """The resources in order."""
        return list(obj.resources.all())

    @staticmethod
    def resolve_evacuation_zones(obj: Any) -> list[Any]:
        """The zones to evacuate."""
        return list(obj.evacuation_zones.all())


class EmergencyPlanOut(Schema):
    """A community's plan for one incident type."""

    id: int
    community: int = Field(alias="community_id")
    incident_type: IncidentType
    title: str
    approved_version: int | None = Field(description="Number of the version in force.")
    draft_version: int | None = Field(description="Number of the draft being written.")

    @staticmethod
    def resolve_approved_version(obj: Any) -> int | None:
        """The number of the version in force."""
        return _number_with_status(obj, VersionStatus.APPROVED)

    @staticmethod
    def resolve_draft_version(obj: Any) -> int | None:
        """The number of the draft."""
        return _number_with_status(obj, VersionStatus.DRAFT)


def _number_with_status(plan: Any, status: str) -> int | None:
    for version in plan.versions.all():
        if version.status == status:
            return int(version.number)
    return None


class EmergencyPlanDetailOut(EmergencyPlanOut):
    """A plan with its history of versions, newest first."""

    versions: list[PlanVersionBrief]

    @staticmethod
    def resolve_versions(obj: Any) -> list[Any]:
        """Every version, newest first."""
        return sorted(obj.versions.all(), key=lambda version: -version.number)


class EmergencyPlanIn(Schema):
    """A new plan; it starts with an empty version 1 draft."""

    incident_type: IncidentType
    title: str = Field(max_length=120)
    summary: str = ""


class PlanReviseIn(Schema):
    """Start a new draft from a version (the one in force when ``version`` is left out)."""

    change_note: str = ""
    version_id: int | None = Field(
        None, alias="version", description="The version to copy; default the one in force."
    )


class PlanVersionPatch(Schema):
    """Changes to a draft; lists replace the draft's lists as a whole when given."""

    summary: str | None = None
    change_note: str | None = None
    steps: list[PlanStepSchema] | None = None
    contacts: list[PlanContactSchema] | None = None
    resources: list[PlanResourceIn] | None = None
    evacuation_zone_ids: list[int] | None = Field(None, alias="evacuation_zones")
    assembly_latitude: float | None = None
    assembly_longitude: float | None = None
    assembly_note: str | None = None

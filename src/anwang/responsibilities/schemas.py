"""Schemas of the responsibilities API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from anwang.facilities.choices import AssetType
from anwang.responsibilities.choices import AreaKind
from anwang.rosters.choices import DutyRole


class ResponsiblePersonOut(Schema):
    """A person answering for an area."""

    id: int
    name: str = Field(description="The person's display name.")


class ResponsibilityOut(Schema):
    """Who answers for one zone, building or asset category, and who stands in."""

    id: int
    community: int = Field(alias="community_id")
    area_kind: AreaKind
    zone: int | None = Field(None, alias="zone_id")
    building: int | None = Field(None, alias="building_id")
    asset_type: str = Field(description="Asset category (empty unless area_kind=asset_type).")
    area_name: str
    responsible_person: int | None = Field(None, alias="responsible_person_id")
    responsible_person_name: str
    responsible_role: str = Field(description="Duty role (empty when a person is named).")
    deputy_person: int | None = Field(None, alias="deputy_person_id")
    deputy_person_name: str
    deputy_role: str = Field(description="Duty role (empty when a person or nobody is named).")
    note: str

    @staticmethod
    def resolve_area_name(obj: Any) -> str:
        """The zone's or building's name, or the asset category's label."""
        return str(obj.zone or obj.building or obj.get_asset_type_display())

    @staticmethod
    def resolve_responsible_person_name(obj: Any) -> str:
        """The responsible person's display name (empty for a duty role)."""
        return str(obj.responsible_person or "")

    @staticmethod
    def resolve_deputy_person_name(obj: Any) -> str:
        """The deputy's display name (empty for a duty role or nobody)."""
        return str(obj.deputy_person or "")


class ResponsibilityIn(Schema):
    """A new responsibility: one area (by ``area_kind``) and its responsible side (a person
    or a duty role), optionally a deputy."""

    area_kind: AreaKind
    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    asset_type: AssetType | None = None
    responsible_person_id: int | None = Field(None, alias="responsible_person")
    responsible_role: DutyRole | None = None
    deputy_person_id: int | None = Field(None, alias="deputy_person")
    deputy_role: DutyRole | None = None
    note: str = ""


class ResponsibilityPatch(Schema):
    """Changes to a responsibility. Sending either half of a side (person or duty role)
    replaces the side; send ``null`` for both deputy fields to remove the deputy."""

    area_kind: AreaKind | None = None
    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    asset_type: AssetType | None = None
    responsible_person_id: int | None = Field(None, alias="responsible_person")
    responsible_role: DutyRole | None = None
    deputy_person_id: int | None = Field(None, alias="deputy_person")
    deputy_role: DutyRole | None = None
    note: str | None = None


class GapOut(Schema):
    """An area nobody answers for right now, and why."""

    area_kind: AreaKind
    area_name: str
    zone: int | None = None
    building: int | None = None
    asset_type: str = ""
    reason: str = Field(
        description="unassigned, nobody_on_duty, person_inactive or person_not_staff."
    )
    message: str
    responsibility: int | None = Field(None, description="The responsibility, if there is one.")


class ResponsibleOut(Schema):
    """Who answers for a place at a moment, most specific responsibility first."""

    at: datetime
    people: list[ResponsiblePersonOut]

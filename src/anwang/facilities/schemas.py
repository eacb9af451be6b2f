"""Request and response bodies of the facilities API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.urls import reverse
from ninja import Field, Schema

from anwang.facilities.choices import AssetEventKind, AssetStatus, AssetType, ExtinguisherType
from anwang.facilities.labels import asset_scan_url
from anwang.facilities.models import Asset

PHOTO_FIELDS = {"photo": "photo", "thumbnail": "photo_thumbnail"}
"""Photo kinds of the API's photo path, and the field each serves."""


class AssetOut(Schema):
    """An asset of the register."""

    id: int
    community_id: int
    asset_type: AssetType
    type_label: str
    name: str
    code: str
    status: AssetStatus
    status_label: str
    building_id: int | None
    unit_id: int | None
    zone_id: int | None
    latitude: float | None
    longitude: float | None
    location_note: str
    installed_on: dt.date | None
    last_checked_at: dt.datetime | None
    expires_on: dt.date | None
    extinguisher_type: ExtinguisherType | None
    capacity_kg: Decimal | None
    last_pressure_check: dt.date | None
    quantity: Decimal
    quantity_unit: str
    minimum_stock: Decimal | None
    below_minimum: bool
    note: str
    retired_at: dt.datetime | None
    photo_url: str | None = Field(description="The photo; null when there is none.")
    thumbnail_url: str | None
    scan_url: str = Field(description="The address the asset's QR label holds.")

    @staticmethod
    def resolve_type_label(obj: Asset) -> str:
        return str(obj.get_asset_type_display())

    @staticmethod
    def resolve_status_label(obj: Asset) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_extinguisher_type(obj: Asset) -> str | None:
        return obj.extinguisher_type or None

    @staticmethod
    def resolve_photo_url(obj: Asset) -> str | None:
        if not obj.photo:
            return None
        return reverse("api:asset_photo", kwargs={"asset_id": obj.pk})

    @staticmethod
    def resolve_thumbnail_url(obj: Asset) -> str | None:
        if not obj.photo_thumbnail:
            return None
        return reverse("api:asset_photo", kwargs={"asset_id": obj.pk}) + "?kind=thumbnail"

    @staticmethod
    def resolve_scan_url(obj: Asset) -> str:
        return asset_scan_url(obj)


class AssetEventOut(Schema):
    """One entry of an asset's history."""

    id: int
    at: dt.datetime
    kind: AssetEventKind
    kind_label: str
    actor: str | None = Field(description="Who did it; null for the system.")
    changes: dict[str, Any] = Field(description="Changed fields as {field: [before, after]}.")
    quantity_delta: Decimal | None
    note: str

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class AssetFieldsIn(Schema):
    """The editable fields of an asset (type-specific ones are ignored for other types)."""

    asset_type: AssetType
    name: str
    code: str = Field("", description="Printed on the label; empty to have one generated.")
    status: AssetStatus = AssetStatus.IN_SERVICE
    building_id: int | None = None
    unit_id: int | None = None
    zone_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_note: str = ""
    installed_on: dt.date | None = None
    expires_on: dt.date | None = None
    extinguisher_type: ExtinguisherType | None = None
    capacity_kg: Decimal | None = None
    last_pressure_check: dt.date | None = None
    quantity_unit: str = ""
    minimum_stock: Decimal | None = None
    note: str = ""


class AssetCreateIn(AssetFieldsIn):
    """A new asset (supplies may start with a quantity in stock)."""

    community_id: int
    quantity: Decimal | None = None


class AssetUpdateIn(Schema):
    """Fields to change; those left out keep their value (the quantity changes only by a stock
    adjustment)."""

    asset_type: AssetType | None = None
    name: str | None = None
    code: str | None = None
    status: AssetStatus | None = None
    building_id: int | None = None
    unit_id: int | None = None
    zone_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_note: str | None = None
    installed_on: dt.date | None = None
    expires_on: dt.date | None = None
    extinguisher_type: ExtinguisherType | None = None
    capacity_kg: Decimal | None = None
    last_pressure_check: dt.date | None = None
    quantity_unit: str | None = None
    minimum_stock: Decimal | None = None
    note: str | None = None


class RetireIn(Schema):
    """Why the asset is retired."""

    reason: str


class StockIn(Schema):
    """A stock movement of a supply: positive in, negative out, with the reason."""

    delta: Decimal = Field(description="Quantity added (positive) or taken out (negative).")
    reason: str


def service_values(payload: Schema, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """A payload's fields as the services take them (``building_id`` becomes ``building``)."""
    values: dict[str, Any] = {}
    for name, value in payload.model_dump(exclude=exclude or set()).items():
        key = name.removesuffix("_id") if name in ("building_id", "unit_id", "zone_id") else name
        values[key] = "" if value is None and key == "extinguisher_type" else value
    return values

"""API schemas of the places domain.

Geometry fields are GeoJSON geometry objects in WGS84 (longitude first); the service checks
them, so a bad one is answered with a 400 naming the problem. ``*Patch`` schemas change only
the fields sent; ``null`` clears an optional field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from anwang.places.choices import BuildingUse, ZoneKind

Geometry = dict[str, Any]


class RegionOut(Schema):
    """A street office."""

    id: int
    name: str
    code: str
    community_count: int = 0


class RegionIn(Schema):
    """A new street office."""

    name: str = Field(max_length=100)
    code: str = Field(max_length=50, description="Unique code: letters, digits, hyphens.")


class RegionPatch(Schema):
    """Changes to a street office."""

    name: str | None = None
    code: str | None = None


class CommunityOut(Schema):
    """A community with its place counts."""

    id: int
    region_id: int
    name: str
    slug: str
    address: str
    latitude: float | None
    longitude: float | None
    boundary: Geometry | None
    phone: str
    grid_count: int = 0
    building_count: int = 0
    household_count: int = 0
    zone_count: int = 0
    key_area_count: int = 0


class CommunityIn(Schema):
    """A new community (platform administrators)."""

    region_id: int
    name: str
    slug: str = Field(description="Unique short name: letters, digits, hyphens.")
    address: str = ""
    latitude: float | None = Field(None, description="WGS84; taken from the boundary if absent.")
    longitude: float | None = None
    boundary: Geometry | None = Field(None, description="GeoJSON Polygon or MultiPolygon.")
    phone: str = ""


class CommunityPatch(Schema):
    """Changes to a community; ``region_id`` only for platform administrators."""

    region_id: int | None = None
    name: str | None = None
    slug: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    boundary: Geometry | None = None
    phone: str | None = None


class GridOut(Schema):
    """A grid with its counts."""

    id: int
    community_id: int
    name: str
    code: str
    boundary: Geometry | None
    grid_worker_id: int | None
    building_count: int = 0
    household_count: int = 0


class GridIn(Schema):
    """A new grid."""

    community_id: int
    name: str
    code: str = ""
    boundary: Geometry | None = None
    grid_worker_id: int | None = Field(
        None, description="A user holding the grid worker role in the community."
    )


class GridPatch(Schema):
    """Changes to a grid."""

    name: str | None = None
    code: str | None = None
    boundary: Geometry | None = None
    grid_worker_id: int | None = None


class BuildingOut(Schema):
    """A building with its counts."""

    id: int
    community_id: int
    grid_id: int | None
    name: str
    number: str
    floors: int
    use: BuildingUse
    footprint: Geometry | None
    unit_count: int = 0
    household_count: int = 0


class BuildingIn(Schema):
    """A new building; without a name it is called after its number."""

    community_id: int
    number: str
    name: str = ""
    grid_id: int | None = None
    floors: int = 1
    use: BuildingUse = BuildingUse.RESIDENTIAL
    footprint: Geometry | None = Field(None, description="GeoJSON Polygon or MultiPolygon.")


class BuildingPatch(Schema):
    """Changes to a building."""

    number: str | None = None
    name: str | None = None
    grid_id: int | None = None
    floors: int | None = None
    use: BuildingUse | None = None
    footprint: Geometry | None = None


class UnitOut(Schema):
    """An entrance of a building."""

    id: int
    building_id: int
    community_id: int = Field(alias="building.community_id")
    number: str
    household_count: int = 0


class UnitIn(Schema):
    """A new entrance."""

    building_id: int
    number: str


class UnitPatch(Schema):
    """Changes to an entrance."""

    number: str | None = None


class HouseholdOut(Schema):
    """A household and its address (building-entrance-room)."""

    id: int
    community_id: int
    unit_id: int
    building_id: int = Field(alias="unit.building_id")
    floor: int
    number: str
    address: str
    area_m2: float | None
    is_rented: bool
    note: str


class HouseholdIn(Schema):
    """A new household; its community is that of the entrance."""

    unit_id: int
    floor: int
    number: str
    area_m2: Decimal | None = None
    is_rented: bool = False
    note: str = ""


class HouseholdPatch(Schema):
    """Changes to a household; ``unit_id`` moves it within its community."""

    unit_id: int | None = None
    floor: int | None = None
    number: str | None = None
    area_m2: Decimal | None = None
    is_rented: bool | None = None
    note: str | None = None


class ZoneOut(Schema):
    """A zone; key areas must be covered by cameras and patrols."""

    id: int
    community_id: int
    name: str
    kind: ZoneKind
    is_key_area: bool
    geometry: Geometry
    description: str


class ZoneIn(Schema):
    """A new zone."""

    community_id: int
    name: str
    kind: ZoneKind
    geometry: Geometry = Field(description="GeoJSON Polygon, MultiPolygon, Point or LineString.")
    is_key_area: bool = False
    description: str = ""


class ZonePatch(Schema):
    """Changes to a zone."""

    name: str | None = None
    kind: ZoneKind | None = None
    geometry: Geometry | None = None
    is_key_area: bool | None = None
    description: str | None = None


class FeatureCollectionOut(Schema):
    """A GeoJSON FeatureCollection (RFC 7946) in WGS84."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    bbox: list[float] | None = None

"""Request and response bodies of the patrols API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from anwang.core.api_helpers import request_scope
from anwang.patrols import selectors
from anwang.patrols.choices import Placement
from anwang.patrols.models import DEFAULT_DWELL_SECONDS, DEFAULT_MAX_GAP_SECONDS, Checkpoint


class CheckpointOut(Schema):
    """A checkpoint; ``code`` only for those who manage patrols (a code proves presence)."""

    id: int
    community: int = Field(alias="community_id")
    name: str
    placement: Placement
    zone: int | None = Field(alias="zone_id")
    building: int | None = Field(alias="building_id")
    device: int | None = Field(alias="device_id", description="The door device, if placed at one.")
    point: dict[str, Any] | None = Field(description="GeoJSON Point, WGS84.")
    position: list[float] | None = Field(
        None, description="[longitude, latitude] of the checkpoint (its point or its place's)."
    )
    nfc_tag_id: str
    code: str | None = Field(
        None, description="The current signed code; null for callers who may not print codes."
    )
    code_version: int
    code_issued_at: datetime | None
    note: str
    retired_at: datetime | None

    @staticmethod
    def resolve_position(obj: Checkpoint) -> list[float] | None:
        """Where the checkpoint is, from its point or its zone, building or door."""
        position = obj.position()
        return None if position is None else list(position)

    @staticmethod
    def resolve_code(obj: Checkpoint, context: dict[str, Any]) -> str | None:
        """The code, only for callers who may print codes in the checkpoint's community."""
        request = context["request"]
        shown: dict[int, bool] = getattr(request, "_patrols_codes_shown", {})
        if obj.community_id not in shown:
            shown[obj.community_id] = selectors.can_see_codes(
                request_scope(request), obj.community_id
            )
            request._patrols_codes_shown = shown
        return obj.code if shown[obj.community_id] else None


class CheckpointIn(Schema):
    """A new checkpoint: where it is decides which of zone, building, device or point is used."""

    community_id: int = Field(alias="community")
    name: str
    placement: Placement
    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    device_id: int | None = Field(
        None, alias="device", description="An access reader or door contact."
    )
    point: dict[str, Any] | None = Field(
        None, description="GeoJSON Point, WGS84; required for placement `point`."
    )
    nfc_tag_id: str = ""
    note: str = ""


class CheckpointPatch(Schema):
    """Changes to a checkpoint."""

    name: str | None = None
    placement: Placement | None = None
    zone_id: int | None = Field(None, alias="zone")
    building_id: int | None = Field(None, alias="building")
    device_id: int | None = Field(None, alias="device")
    point: dict[str, Any] | None = None
    nfc_tag_id: str | None = None
    note: str | None = None


class CodeCheckIn(Schema):
    """A scanned or typed code to check against a community's checkpoints."""

    community_id: int = Field(alias="community")
    code: str = Field(description="As printed (groups with dashes) or typed; case is ignored.")


class CodeCheckOut(Schema):
    """The checkpoint a valid code belongs to."""

    checkpoint: int
    name: str
    community: int


class StopIn(Schema):
    """One stop of a route."""

    checkpoint_id: int = Field(alias="checkpoint")
    dwell_seconds: int = Field(DEFAULT_DWELL_SECONDS, description="Expected time at the stop.")
    max_gap_seconds: int = Field(
        DEFAULT_MAX_GAP_SECONDS, description="Longest time allowed until the next stop."
    )


class StopOut(Schema):
    """One stop of a route, in order."""

    order: int
    checkpoint: int = Field(alias="checkpoint_id")
    checkpoint_name: str = Field(alias="checkpoint.name")
    dwell_seconds: int
    max_gap_seconds: int


class RouteOut(Schema):
    """A patrol route and its ordered stops."""

    id: int
    community: int = Field(alias="community_id")
    name: str
    description: str
    is_active: bool
    stops: list[StopOut]


class RouteIn(Schema):
    """A new patrol route."""

    community_id: int = Field(alias="community")
    name: str
    description: str = ""
    is_active: bool = True
    stops: list[StopIn] = []


class RoutePatch(Schema):
    """Changes to a route; ``stops``, when given, replaces all of them in that order."""

    name: str | None = None
    description: str | None = None
    is_active: bool | None = None
    stops: list[StopIn] | None = None

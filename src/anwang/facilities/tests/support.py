"""Helpers of the facilities tests: photos, an extinguisher and a supply."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anwang.facilities import services
from anwang.facilities.models import Asset

LAT, LON = 30.5005, 114.3005  # inside the test world's zone and building footprint


def jpeg(size: tuple[int, int] = (40, 30), *, gps: bool = False) -> bytes:
    """A small JPEG, with a camera's GPS position in its EXIF when asked."""
    image = Image.new("RGB", size, "red")
    buffer = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (30.0, 30.0, 0.0), 3: "E", 4: (114.0, 18.0, 0.0)}
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(name: str = "photo.jpg", content: bytes | None = None) -> SimpleUploadedFile:
    """An uploaded photo (a small JPEG unless ``content`` is given)."""
    return SimpleUploadedFile(name, jpeg() if content is None else content, "image/jpeg")


def extinguisher(world: Any, *, side: str = "a", **fields: Any) -> Asset:
    """A dry-powder extinguisher in the side's building, on the map."""
    chosen = getattr(world, side)
    values: dict[str, Any] = {
        "asset_type": "fire_extinguisher",
        "name": "1号楼2层灭火器",
        "building": chosen.building,
        "latitude": LAT,
        "longitude": LON,
        "extinguisher_type": "dry_powder",
        "capacity_kg": "4",
        "expires_on": dt.date(2030, 1, 1),
    }
    values.update(fields)
    return services.asset_create(
        actor=world.user("community_admin", side), community=chosen.community, values=values
    )


def supply(
    world: Any, *, side: str = "a", quantity: str = "10", minimum: str | None = "5", **fields: Any
) -> Asset:
    """A stock of bottled water in the side's community."""
    chosen = getattr(world, side)
    values: dict[str, Any] = {
        "asset_type": "emergency_supply",
        "name": "应急饮用水",
        "quantity": Decimal(quantity),
        "quantity_unit": "箱",
        "minimum_stock": minimum,
        "zone": chosen.zone,
    }
    values.update(fields)
    return services.asset_create(
        actor=world.user("community_admin", side), community=chosen.community, values=values
    )

"""Helpers of the hazards tests: photos and reports at each stage of the workflow."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from anwang.hazards import services
from anwang.hazards.models import Hazard

LAT, LON = 30.5005, 114.3005  # inside the test world's zone and building footprint


def jpeg(size: tuple[int, int] = (40, 30), *, gps: bool = False, color: str = "red") -> bytes:
    """A small JPEG, with a camera's GPS position in its EXIF when asked."""
    image = Image.new("RGB", size, color)
    buffer = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make
        exif[0x8825] = {1: "N", 2: (30.0, 30.0, 0.0), 3: "E", 4: (114.0, 18.0, 0.0)}
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(name: str = "photo.jpg", content: bytes | None = None) -> SimpleUploadedFile:
    """An uploaded photo (a small JPEG unless ``content`` is given)."""
    return SimpleUploadedFile(name, jpeg() if content is None else content, "image/jpeg")


def report(world: Any, *, side: str = "a", role: str = "resident", **fields: Any) -> Hazard:
    """A fresh report by a person of ``side`` with a map pin."""
    chosen = getattr(world, side)
    values: dict[str, Any] = {
        "community": chosen.community,
        "reporter": world.user(role, side),
        "category": "broken_light",
        "description": "楼道灯不亮",
        "latitude": LAT,
        "longitude": LON,
    }
    values.update(fields)
    return services.hazard_report(**values)


def advance(
    world: Any, hazard: Hazard, to: str, *, at: dt.datetime | None = None, side: str = "a"
) -> Hazard:
    """Move a report along the workflow up to status ``to`` (triaged, assigned, rectified,
    verified, closed); the community admin manages, the guard rectifies and the grid worker
    verifies."""
    at = at or timezone.now()
    admin = world.user("community_admin", side)
    order = ["triaged", "assigned", "rectified", "verified", "closed"]
    for stage in order[: order.index(to) + 1]:
        if stage == "triaged":
            hazard = services.hazard_triage(actor=admin, hazard=hazard, severity="high", at=at)
        elif stage == "assigned":
            hazard = services.hazard_assign(
                actor=admin, hazard=hazard, assignee=world.user("guard", side), at=at
            )
        elif stage == "rectified":
            hazard = services.hazard_rectify(
                actor=world.user("guard", side), hazard=hazard, after_photo=upload(), at=at
            )
        elif stage == "verified":
            hazard = services.hazard_verify(
                actor=world.user("grid_worker", side), hazard=hazard, at=at
            )
        else:
            hazard = services.hazard_close(actor=admin, hazard=hazard, at=at)
    return hazard

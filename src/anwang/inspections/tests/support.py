"""Helpers of the inspections tests."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from anwang.facilities.models import Asset
from anwang.inspections import services
from anwang.inspections.choices import Outcome
from anwang.inspections.models import Checklist, Inspection, InspectionPlan
from anwang.places.models import Community

LAT, LON = 30.5005, 114.3005


def upload(name: str = "photo.jpg") -> SimpleUploadedFile:
    """A small JPEG upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")


def asset(
    community: Community, code: str, asset_type: str = "fire_extinguisher", **extra: Any
) -> Asset:
    """An asset of the community."""
    values: dict[str, Any] = {"name": f"灭火器 {code}", "latitude": LAT, "longitude": LON}
    values.update(extra)
    return Asset.objects.create(community=community, asset_type=asset_type, code=code, **values)


def checklist(community: Community, asset_type: str = "fire_extinguisher") -> Checklist:
    """The community's default checklist for a type (seeded when the community was made)."""
    return Checklist.objects.get(community=community, asset_type=asset_type)


@dataclass
class Setup:
    """What the tests work on."""

    world: Any
    ext1: Asset
    ext2: Asset
    door: Asset
    plan: InspectionPlan

    @property
    def community(self) -> Community:
        return self.world.a.community  # type: ignore[no-any-return]


def build(world: Any) -> Setup:
    """Community a with two extinguishers and a fire door, and a monthly extinguisher plan
    whose first period started a day ago."""
    community = world.a.community
    services.checklists_seed_defaults(community=community)
    ext1 = asset(community, "MHQ-1", building=world.a.building)
    ext2 = asset(community, "MHQ-2")
    door = asset(community, "FD-1", "fire_door", name="1号楼东侧安全出口")
    plan = services.plan_create(
        actor=world.user("community_admin"),
        community=community,
        data=services.PlanInput(
            name="每月灭火器检查",
            checklist=checklist(community),
            first_start=timezone.now() - dt.timedelta(days=1),
            rrule="FREQ=MONTHLY",
        ),
    )
    return Setup(world, ext1, ext2, door, plan)


def answers(
    inspection: Inspection, *, fail: int = 0, note: str = "压力表指针在红区"
) -> list[services.ResultInput]:
    """Pass every item except the first ``fail`` ones, which fail with ``note``."""
    items = list(inspection.checklist.items.filter(is_active=True).order_by("order", "pk"))
    return [
        services.ResultInput(
            item_id=item.pk,
            outcome=Outcome.FAIL if index < fail else Outcome.PASS,
            note=note if index < fail else "",
        )
        for index, item in enumerate(items)
    ]


def inspect(
    setup: Setup,
    target: Asset | None = None,
    *,
    fail: int = 0,
    at: dt.datetime | None = None,
    role: str = "guard",
) -> Inspection:
    """A guard inspects an asset under the plan and submits."""
    guard = setup.world.user(role)
    record = services.inspection_start(
        actor=guard, asset=target or setup.ext1, plan=setup.plan, at=at
    )
    return services.inspection_submit(
        actor=guard, inspection=record, results=answers(record, fail=fail), at=at
    )

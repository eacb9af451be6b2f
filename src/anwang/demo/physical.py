"""Physical defence in the demo community: fire equipment and emergency supplies, the default
inspection checklists with a monthly plan, and hazard reports at every stage.

Written as rows (like the rest of the demo), dated around the day the demo is seeded, so the
pages show a community with work to do: an extinguisher expiring this month, one already
expired, a supply below its minimum stock, a plan due at a patrol checkpoint, a hazard waiting
for triage, one being rectified and one closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from anwang.accounts.models import User
from anwang.core.geo import centroid
from anwang.facilities.choices import AssetType, ExtinguisherType
from anwang.facilities.models import Asset
from anwang.hazards.choices import DEADLINES, HazardCategory, HazardSeverity, HazardStatus
from anwang.hazards.choices import StepAction as HazardAction
from anwang.hazards.models import Hazard, HazardStep
from anwang.inspections.services import PlanInput, checklists_seed_defaults, plan_create
from anwang.patrols.models import Checkpoint
from anwang.places.models import Building, Community

EQUIPPED_BUILDINGS = 6
"""Buildings (the first ones) with an extinguisher on each of two landings."""


def seed_physical_defence(
    *, community: Community, users: dict[str, User], now: dt.datetime
) -> dict[str, int]:
    """Assets, checklists, an inspection plan and hazard reports; the row counts."""
    assets = _assets(community, now)
    checklists = checklists_seed_defaults(community=community)
    extinguishers = next(c for c in checklists if c.asset_type == AssetType.FIRE_EXTINGUISHER)
    checkpoint = Checkpoint.objects.filter(community=community).order_by("pk").first()
    plan_create(
        actor=None,
        community=community,
        data=PlanInput(
            name="每月灭火器检查",
            checklist=extinguishers,
            first_start=now - dt.timedelta(days=3),
            rrule="FREQ=MONTHLY",
            assignees=[users["guard"]] if "guard" in users else [],
            checkpoint=checkpoint,
        ),
    )
    hazards = _hazards(community, users, now)
    return {
        "assets": len(assets),
        "checklists": len(checklists),
        "inspection_plans": 1,
        "hazards": hazards,
    }


def _assets(community: Community, now: dt.datetime) -> list[Asset]:
    today = now.date()
    buildings = list(Building.objects.filter(community=community).order_by("pk"))
    rows: list[Asset] = []
    for index, building in enumerate(buildings[:EQUIPPED_BUILDINGS]):
        where = centroid(building.footprint) if building.footprint else None
        for floor in (1, 4):
            number = len(rows) + 1
            # One expires within the month and one has expired: the dashboard has work.
            expires = today + dt.timedelta(days=400 + 30 * index)
            if number == 2:
                expires = today + dt.timedelta(days=12)
            elif number == 5:
                expires = today - dt.timedelta(days=20)
            rows.append(
                Asset(
                    community=community,
                    asset_type=AssetType.FIRE_EXTINGUISHER,
                    name=f"{building.name}{floor}楼灭火器",
                    code=f"MHQ-{number:04d}",
                    building=building,
                    latitude=where[1] if where else None,
                    longitude=where[0] if where else None,
                    location_note=f"{floor}楼楼梯间",
                    installed_on=today - dt.timedelta(days=700),
                    expires_on=expires,
                    extinguisher_type=ExtinguisherType.DRY_POWDER,
                    capacity_kg=Decimal("4"),
                    last_pressure_check=today - dt.timedelta(days=40),
                )
            )
    first = buildings[0] if buildings else None
    rows += [
        Asset(
            community=community,
            asset_type=AssetType.HYDRANT,
            name="北门室外消火栓",
            code="XHS-0001",
            latitude=community.latitude,
            longitude=community.longitude,
            location_note="北门岗亭东侧",
        ),
        Asset(
            community=community,
            asset_type=AssetType.AED,
            name="物业服务中心AED",
            code="AED-0001",
            building=first,
            location_note="物业服务中心前台",
            expires_on=today + dt.timedelta(days=200),
        ),
        Asset(
            community=community,
            asset_type=AssetType.EMERGENCY_SUPPLY,
            name="应急手电筒",
            code="WZ-0001",
            building=first,
            location_note="微型消防站",
            quantity=Decimal("6"),
            quantity_unit="个",
            minimum_stock=Decimal("10"),
        ),
        Asset(
            community=community,
            asset_type=AssetType.EMERGENCY_SUPPLY,
            name="防汛沙袋",
            code="WZ-0002",
            location_note="地下车库入口",
            quantity=Decimal("120"),
            quantity_unit="袋",
            minimum_stock=Decimal("50"),
            expires_on=today + dt.timedelta(days=25),
        ),
    ]
    return Asset.objects.bulk_create(rows)


def _hazards(community: Community, users: dict[str, User], now: dt.datetime) -> int:
    resident, guard, admin = users.get("resident"), users.get("guard"), users.get("admin")
    buildings = list(Building.objects.filter(community=community).order_by("pk")[:3])
    if len(buildings) < 3:
        return 0
    reported = Hazard.objects.create(
        community=community,
        reported_at=now - dt.timedelta(hours=2),
        category=HazardCategory.EBIKE_CHARGING_INDOORS,
        description="楼道里有电动车在充电，电线从窗户拉进来。",
        reporter=resident,
        building=buildings[0],
    )
    assigned_at = now - dt.timedelta(days=1)
    assigned = Hazard.objects.create(
        community=community,
        reported_at=assigned_at - dt.timedelta(hours=3),
        category=HazardCategory.FIRE_EXIT_BLOCKED,
        description="负一层安全出口被纸箱堵住。",
        reporter=guard,
        building=buildings[1],
        status=HazardStatus.ASSIGNED,
        severity=HazardSeverity.HIGH,
        assignee=guard,
        deadline=assigned_at + DEADLINES[HazardSeverity.HIGH],
    )
    closed_at = now - dt.timedelta(days=5)
    closed = Hazard.objects.create(
        community=community,
        reported_at=closed_at - dt.timedelta(days=2),
        category=HazardCategory.BROKEN_LIGHT,
        description="3单元楼道灯不亮。",
        reporter=resident,
        building=buildings[2],
        status=HazardStatus.CLOSED,
        severity=HazardSeverity.LOW,
        assignee=guard,
        rectified_by=guard,
        verified_by=admin,
        verified_at=closed_at,
        closed_at=closed_at,
    )

    def step(
        hazard: Hazard,
        at: dt.datetime,
        actor: User | None,
        status: str,
        action: str,
        note: str = "",
    ) -> HazardStep:
        return HazardStep(
            hazard=hazard, at=at, actor=actor, status=status, action=action, note=note
        )

    HazardStep.objects.bulk_create(
        [
            step(reported, reported.reported_at, resident, "reported", HazardAction.REPORT),
            step(assigned, assigned.reported_at, guard, "reported", HazardAction.REPORT),
            step(assigned, assigned_at, admin, "triaged", HazardAction.TRIAGE),
            step(assigned, assigned_at, admin, "assigned", HazardAction.ASSIGN, "今天清理"),
            step(closed, closed.reported_at, resident, "reported", HazardAction.REPORT),
            step(closed, closed.reported_at, admin, "assigned", HazardAction.ASSIGN),
            step(closed, closed_at, guard, "rectified", HazardAction.RECTIFY, "已更换灯泡"),
            step(closed, closed_at, admin, "verified", HazardAction.VERIFY),
            step(closed, closed_at, admin, "closed", HazardAction.CLOSE),
        ]
    )
    return 3

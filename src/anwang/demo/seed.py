"""Write the demo plan to the database: places, people, devices, one login per role.

Seeding is one bulk operation, not 1,500 user actions, so it writes rows directly with
``bulk_create`` and records a single ``demo.seed`` audit entry with the counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership, User
from anwang.audit.services import audit_record
from anwang.core.crypto import blind_index
from anwang.demo.access import seed_access
from anwang.demo.alerts import seed_alerts
from anwang.demo.defence import seed_people_defence
from anwang.demo.institutional import seed_institutional_defence
from anwang.demo.physical import seed_physical_defence
from anwang.demo.plan import DEFAULT_SEED, CommunityPlan, DemoPlan, build_plan
from anwang.demo.welfare import seed_welfare
from anwang.devices.models import Device
from anwang.people.choices import BindingStatus, Relation
from anwang.people.models import (
    EmergencyContact,
    HouseholdBinding,
    HouseholdMember,
    Resident,
    ResidentTagLink,
)
from anwang.places.models import Building, Community, Grid, Household, Region, Unit, Zone
from anwang.rules.services import rules_install_builtin

DEMO_PASSWORD = "Anwang-demo-2026"  # noqa: S105 - printed for everyone by `anwang demo`
DEMO_COMMUNITY_SLUG = "cuiyuan"


@dataclass(frozen=True)
class DemoAccount:
    """One demo login: the role it shows, in Chinese and English."""

    username: str
    role: Role | None
    label_zh: str
    label_en: str
    display_name: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("supervisor", Role.SUPERVISOR, "街道主管", "Street-office supervisor", "周建国"),
    DemoAccount("admin", Role.COMMUNITY_ADMIN, "社区管理员", "Community admin", "李静"),
    DemoAccount("operator", Role.OPERATOR, "值班员", "Operator", "陈晓峰"),
    DemoAccount("guard", Role.GUARD, "保安", "Guard", "王海"),
    DemoAccount("gridworker", Role.GRID_WORKER, "网格员", "Grid worker", "赵敏"),
    DemoAccount("volunteer", Role.VOLUNTEER, "志愿者", "Volunteer", "孙丽华"),
    DemoAccount("resident", Role.RESIDENT, "居民", "Resident", ""),
    DemoAccount("auditor", Role.AUDITOR, "审计员", "Auditor", "吴婷"),
    DemoAccount("root", None, "平台管理员", "Platform admin", "平台管理员"),
)


class DemoConflictError(Exception):
    """The database holds data that the demo would collide with."""


@dataclass(frozen=True)
class SeedResult:
    """What seeding did: ``created`` is false when the demo was already there."""

    created: bool
    counts: dict[str, int] = field(default_factory=dict)


def demo_present() -> bool:
    """Whether the demo community has been seeded into this database."""
    return Community.objects.filter(slug=DEMO_COMMUNITY_SLUG).exists()


def database_in_use() -> bool:
    """Whether the database already holds communities or accounts (not a fresh install)."""
    return Community.objects.exists() or User.objects.exists()


def _write_community(region: Region, plan: CommunityPlan) -> tuple[Community, dict[str, int]]:
    """Create one community with its places, people and devices; returns it with row counts."""
    community = Community.objects.create(
        region=region,
        name=plan.name,
        slug=plan.slug,
        address=plan.address,
        phone=plan.phone,
        latitude=plan.latitude,
        longitude=plan.longitude,
        boundary=plan.boundary,
    )
    grids = Grid.objects.bulk_create(
        Grid(community=community, name=grid.name, code=grid.code, boundary=grid.boundary)
        for grid in plan.grids
    )
    buildings = Building.objects.bulk_create(
        Building(
            community=community,
            grid=grids[building.grid],
            name=building.name,
            number=building.number,
            floors=building.floors,
            footprint=building.footprint,
        )
        for building in plan.buildings
    )
    units = Unit.objects.bulk_create(
        Unit(building=building, number=str(number))
        for building, building_plan in zip(buildings, plan.buildings, strict=True)
        for number in range(1, building_plan.units + 1)
    )
    unit_by_key = {(unit.building.number, unit.number): unit for unit in units}
    households = Household.objects.bulk_create(
        Household(
            community=community,
            unit=unit_by_key[(household.building, household.unit)],
            floor=household.floor,
            number=household.number,
            area_m2=household.area_m2,
            is_rented=household.is_rented,
        )
        for household in plan.households
    )
    consent_at = timezone.now() - dt.timedelta(days=90)
    residents = Resident.objects.bulk_create(
        Resident(
            community=community,
            name=person.name,
            gender=person.gender,
            birth_date=person.birth_date,
            id_number=person.id_number,
            id_number_index=blind_index(person.id_number),
            phone=person.phone,
            phone_index=blind_index(person.phone),
            data_consent_at=consent_at if person.consent else None,
        )
        for household in plan.households
        for person in household.members
    )
    people = [person for household in plan.households for person in household.members]
    members: list[HouseholdMember] = []
    index = 0
    for household, household_plan in zip(households, plan.households, strict=True):
        for person in household_plan.members:
            members.append(
                HouseholdMember(
                    household=household, resident=residents[index], relation=person.relation
                )
            )
            index += 1
    HouseholdMember.objects.bulk_create(members)
    tags = ResidentTagLink.objects.bulk_create(
        ResidentTagLink(resident=resident, tag=tag)
        for resident, person in zip(residents, people, strict=True)
        for tag in person.tags
    )
    contacts = EmergencyContact.objects.bulk_create(
        EmergencyContact(
            resident=resident, name=contact.name, relation=contact.relation, phone=contact.phone
        )
        for resident, person in zip(residents, people, strict=True)
        for contact in person.contacts
    )
    zones = Zone.objects.bulk_create(
        Zone(
            community=community,
            name=zone.name,
            kind=zone.kind,
            is_key_area=zone.is_key_area,
            geometry=zone.geometry,
            description=zone.description,
        )
        for zone in plan.zones
    )
    zone_by_name = {zone.name: zone for zone in zones}
    building_by_number = {building.number: building for building in buildings}
    devices = Device.objects.bulk_create(
        Device(
            community=community,
            zone=zone_by_name[device.zone] if device.zone else None,
            building=building_by_number[device.building] if device.building else None,
            name=device.name,
            kind=device.kind,
            protocol=device.protocol,
            source_id=device.source_id,
            latitude=device.latitude,
            longitude=device.longitude,
            heartbeat_seconds=device.heartbeat_seconds,
            note=device.note,
        )
        for device in plan.devices
    )
    counts = {
        "grids": len(grids),
        "buildings": len(buildings),
        "units": len(units),
        "households": len(households),
        "residents": len(residents),
        "resident_tags": len(tags),
        "emergency_contacts": len(contacts),
        "zones": len(zones),
        "key_areas": sum(1 for zone in zones if zone.is_key_area),
        "devices": len(devices),
        # The demo's one audit entry records these too (its counts).
        "rules": len(rules_install_builtin(community=community, audited=False)),
    }
    return community, counts


def _write_accounts(
    *, region: Region, community: Community, password: str
) -> tuple[dict[str, User], Grid, Resident]:
    """One login per role in the main community (the supervisor on the street office), the
    platform admin, the grid worker's grid and the resident's bound household."""
    taken = sorted(
        User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise DemoConflictError(f"demo user names already exist: {', '.join(taken)}")
    # The resident login belongs to the head of a family in building 1, entrance 1.
    resident = (
        Resident.objects.filter(
            community=community,
            memberships__relation=Relation.HEAD,
            memberships__household__unit__building__number="1",
            memberships__household__members__relation=Relation.CHILD,
            phone_index__gt="",
        )
        .order_by("memberships__household__floor", "memberships__household__number", "id")
        .first()
    )
    if resident is None:
        raise DemoConflictError("the demo plan has no family household in building 1")
    household = resident.memberships.get().household
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user = User(
            username=account.username,
            display_name=account.display_name or resident.name,
            is_superuser=account.role is None,
            is_staff=account.role is None,
            preferred_language="",
        )
        user.set_password(password)
        users[account.username] = user
    User.objects.bulk_create(users.values())
    Membership.objects.bulk_create(
        Membership(
            user=users[account.username],
            role=account.role,
            region=region if account.role == Role.SUPERVISOR else None,
            community=None if account.role == Role.SUPERVISOR else community,
        )
        for account in DEMO_ACCOUNTS
        if account.role is not None
    )
    grid = Grid.objects.filter(community=community).order_by("code").first()
    assert grid is not None
    grid.grid_worker = users["gridworker"]
    grid.save(update_fields=["grid_worker", "updated_at"])
    resident.user = users["resident"]
    resident.save(update_fields=["user", "updated_at"])
    HouseholdBinding.objects.create(
        user=users["resident"],
        household=household,
        resident=resident,
        status=BindingStatus.APPROVED,
        relation=Relation.HEAD,
        decided_by=users["admin"],
        decided_at=timezone.now(),
        decision_note="演示数据",
    )
    return users, grid, resident


def write_plan(plan: DemoPlan, *, password: str = DEMO_PASSWORD) -> dict[str, int]:
    """Write a plan in one transaction with one audit entry; returns the row counts."""
    with transaction.atomic():
        region = Region.objects.create(name=plan.region_name, code=plan.region_code)
        totals: dict[str, int] = {"communities": 0}
        main: Community | None = None
        for community_plan in plan.communities:
            community, counts = _write_community(region, community_plan)
            main = main or community
            totals["communities"] += 1
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        assert main is not None
        users, grid, resident = _write_accounts(region=region, community=main, password=password)
        totals["users"] = len(users)
        totals.update(seed_people_defence(community=main, users=users, now=timezone.now()))
        totals.update(seed_physical_defence(community=main, users=users, now=timezone.now()))
        totals.update(seed_institutional_defence(community=main, users=users, now=timezone.now()))
        totals.update(seed_alerts(community=main, users=users, now=timezone.now()))
        access_totals = seed_access(community=main, users=users, now=timezone.now())
        welfare_totals = seed_welfare(community=main, users=users, now=timezone.now())
        access_totals["accesses"] += welfare_totals.pop("accesses", 0)
        totals.update(access_totals | welfare_totals)
        audit_record(
            actor=None,
            action="demo.seed",
            obj=main,
            changes={
                "seed": plan.seed,
                "counts": totals,
                "users": sorted(users),
                "grid_worker_grid": grid.name,
                "resident_household": str(resident.pk),
            },
        )
    return totals


def seed_demo(
    *, seed: int = DEFAULT_SEED, password: str = DEMO_PASSWORD, only_if_empty: bool = False
) -> SeedResult:
    """Seed the demo community unless it is already there (so it is safe to run each time).

    With ``only_if_empty`` nothing is added to a database that already holds other data, so
    ``anwang demo`` pointed at a real database never mixes invented people into it.
    """
    if demo_present():
        return SeedResult(created=False)
    if only_if_empty and database_in_use():
        raise DemoConflictError(
            "the database already holds communities or accounts; not adding the demo to it"
        )
    return SeedResult(created=True, counts=write_plan(build_plan(seed), password=password))

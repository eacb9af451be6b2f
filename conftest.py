"""Shared test fixtures: two communities in two street offices, a user per role, and the
objects every domain test needs. Built directly with the ORM for speed; services are tested
in their own modules."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership, User
from anwang.people.choices import BindingStatus, Gender, Relation, ResidentTag
from anwang.people.models import (
    EmergencyContact,
    HouseholdBinding,
    HouseholdMember,
    Resident,
    ResidentTagLink,
)
from anwang.places.choices import ZoneKind
from anwang.places.models import Building, Community, Grid, Household, Region, Unit, Zone

# The browser tests' chromium and committed world, for every app's browser tests.
pytest_plugins = ("tests.browser_support",)

PASSWORD = "Correct-Horse-42"  # noqa: S105 - test accounts only

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[114.30, 30.50], [114.301, 30.50], [114.301, 30.501], [114.30, 30.501], [114.30, 30.50]]
    ],
}


@dataclass
class Side:
    """One community with one of everything in it."""

    region: Region
    community: Community
    grid: Grid
    building: Building
    unit: Unit
    household: Household
    resident: Resident
    contact: EmergencyContact
    zone: Zone
    users: dict[str, User] = field(default_factory=dict)


@dataclass
class World:
    """Community ``a`` (with a user per role) and community ``b`` (another street office)."""

    a: Side
    b: Side
    platform_admin: User

    def user(self, role: str, side: str = "a") -> User:
        """The user holding ``role`` in community ``side``."""
        chosen: Side = getattr(self, side)
        return chosen.users[role]

    def client_for(self, role: str, side: str = "a") -> Client:
        """A test client logged in as that user."""
        client = Client()
        client.force_login(self.user(role, side))
        return client


def make_user(username: str, **extra: Any) -> User:
    """A user with the shared test password."""
    user = User(username=username, display_name=extra.pop("display_name", username), **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def build_side(prefix: str, region_name: str, community_name: str) -> Side:
    """Build one community with a user per role."""
    region = Region.objects.create(name=region_name, code=f"{prefix}-region")
    community = Community.objects.create(
        region=region, name=community_name, slug=prefix, latitude=30.5, longitude=114.3
    )
    grid = Grid.objects.create(community=community, name=f"{prefix} 第一网格", code="G1")
    building = Building.objects.create(
        community=community, grid=grid, name="1号楼", number="1", floors=6, footprint=SQUARE
    )
    unit = Unit.objects.create(building=building, number="1")
    household = Household.objects.create(community=community, unit=unit, floor=3, number="301")
    # The ID number's check digit is wrong on purpose: registers carry such legacy records, and
    # they must stay editable without being re-validated unless the number itself changes.
    resident = Resident.objects.create(
        community=community,
        name=f"{prefix}张三",
        gender=Gender.MALE,
        id_number="110101199001011234",
        phone="13812345678",
    )
    from anwang.core.crypto import blind_index

    Resident.objects.filter(pk=resident.pk).update(
        id_number_index=blind_index("110101199001011234"), phone_index=blind_index("13812345678")
    )
    HouseholdMember.objects.create(household=household, resident=resident, relation=Relation.HEAD)
    ResidentTagLink.objects.create(resident=resident, tag=ResidentTag.LIVING_ALONE)
    contact = EmergencyContact.objects.create(
        resident=resident, name=f"{prefix}李四", relation="儿子", phone="13900001111"
    )
    zone = Zone.objects.create(
        community=community, name="北门", kind=ZoneKind.GATE, is_key_area=True, geometry=SQUARE
    )
    side = Side(region, community, grid, building, unit, household, resident, contact, zone)
    for role in Role:
        user = make_user(f"{prefix}_{role.value}")
        if role == Role.SUPERVISOR:
            Membership.objects.create(user=user, role=role, region=region)
        else:
            Membership.objects.create(user=user, role=role, community=community)
        side.users[role.value] = user
    resident_user = side.users[Role.RESIDENT.value]
    Resident.objects.filter(pk=resident.pk).update(user=resident_user)
    HouseholdBinding.objects.create(
        user=resident_user,
        household=household,
        resident=resident,
        status=BindingStatus.APPROVED,
        relation=Relation.HEAD,
    )
    return side


@pytest.fixture
def world(db: Any) -> World:
    """Two communities in two street offices with a user per role in each."""
    a = build_side("a", "东湖街道", "翠苑社区")
    b = build_side("b", "西湖街道", "文华社区")
    admin = make_user("platform_admin", is_superuser=True, is_staff=True)
    return World(a=a, b=b, platform_admin=admin)


@pytest.fixture
def under_ci() -> bool:
    """Whether the suite runs in CI, where an unreachable service fails instead of skipping."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Argon2 makes building the two-community world take seconds per test; hashing itself is
    Django's and not what these tests check (production keeps Argon2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache and reads the newest live message afresh. Rows a
    test made are gone after it, and the next test's rows get the same ids: a part of a page
    shared as of "live message 3 of community 1" (the console's queue) must not be found by a
    test whose message 3 is another."""
    from django.core.cache import cache

    from anwang.core.live import live_forget_recent_id

    cache.clear()
    live_forget_recent_id()

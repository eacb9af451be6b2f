"""Helpers of the incidents tests (also for the pages' tests): a plan version in force made
directly with the ORM, daily duty patterns, more members, and moments of a fixed test day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from conftest import make_user

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership, User
from anwang.places.models import Community
from anwang.plans.choices import VersionStatus
from anwang.plans.models import EmergencyPlan, PlanStep, PlanVersion
from anwang.rosters.models import DutyPattern

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 3, 2, tzinfo=SHANGHAI)
"""Midnight of the day the tests' incidents happen (a Monday)."""

FIRE_STEPS: tuple[tuple[str, str, int], ...] = (
    ("确认火情并报警119", "operator", 2),
    ("疏散楼内居民", "guard", 10),
    ("值班领导到场指挥", "on_duty_leader", 15),
)


def at(hour: int, minute: int = 0) -> dt.datetime:
    """A moment of the test day, Shanghai time."""
    return DAY.replace(hour=hour, minute=minute)


def make_version(
    community: Community,
    incident_type: str = "fire",
    steps: Sequence[tuple[str, str, int]] = FIRE_STEPS,
    *,
    number: int | None = None,
    status: str = VersionStatus.APPROVED,
    **extra: Any,
) -> PlanVersion:
    """A plan version with its steps; an approved one supersedes the one in force."""
    plan, _ = EmergencyPlan.objects.get_or_create(
        community=community,
        incident_type=incident_type,
        defaults={"title": f"{community.name}{incident_type}应急预案"},
    )
    if status == VersionStatus.APPROVED:
        plan.versions.filter(status=VersionStatus.APPROVED).update(status=VersionStatus.SUPERSEDED)
    if number is None:
        number = (
            plan.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
    version = PlanVersion.objects.create(plan=plan, number=number, status=status, **extra)
    for position, (title, role, minutes) in enumerate(steps, start=1):
        PlanStep.objects.create(
            version=version,
            position=position,
            title=title,
            duty_role=role,
            target_minutes=minutes,
        )
    return version


def on_duty(
    community: Community,
    duty_role: str,
    person: User,
    *,
    start_hour: int,
    hours: int = 12,
) -> DutyPattern:
    """A daily shift from ``start_hour`` for ``hours`` hours, from the day before the tests."""
    return DutyPattern.objects.create(
        community=community,
        duty_role=duty_role,
        person=person,
        first_start=(DAY - dt.timedelta(days=1)).replace(hour=start_hour),
        duration=dt.timedelta(hours=hours),
        rrule="FREQ=DAILY",
    )


def member(community: Community, username: str, role: str = Role.GUARD) -> User:
    """Another member of the community in a role."""
    user = make_user(username)
    Membership.objects.create(user=user, role=role, community=community)
    return user

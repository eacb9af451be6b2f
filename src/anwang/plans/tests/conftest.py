"""Fixtures of the emergency plans tests: English messages and a fire plan in force."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from anwang.plans import services
from anwang.plans.models import EmergencyPlan, PlanVersion
from anwang.plans.services import ContactInput, StepInput


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield


FIRE_STEPS = [
    StepInput(title="确认火情并报警", duty_role="operator", target_minutes=2),
    StepInput(
        title="疏散楼内人员", duty_role="guard", target_minutes=10, instructions="走楼梯，不坐电梯"
    ),
    StepInput(title="向街道报告", duty_role="on_duty_leader", target_minutes=15),
]


def fire_plan(world: Any, *, approve: bool = True) -> tuple[EmergencyPlan, PlanVersion]:
    """Community A's fire plan with three steps, a contact and the north gate to evacuate;
    version 1, approved unless ``approve`` is false."""
    plan = services.plan_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        incident_type="fire",
        title="翠苑火灾应急预案",
    )
    version = plan.versions.get()
    services.plan_version_update(
        actor=world.user("community_admin"),
        version=version,
        summary="小区火灾的处置流程",
        steps=FIRE_STEPS,
        contacts=[ContactInput(name="消防队", phone="119", organisation="消防")],
        evacuation_zone_ids=[world.a.zone.pk],
        assembly_latitude=30.5005,
        assembly_longitude=114.3005,
        assembly_note="中心广场",
    )
    if approve:
        services.plan_version_approve(actor=world.user("community_admin"), version=version)
    version.refresh_from_db()
    return plan, version


@pytest.fixture
def fire(world: Any) -> tuple[EmergencyPlan, PlanVersion]:
    """Community A's approved fire plan (version 1)."""
    return fire_plan(world)

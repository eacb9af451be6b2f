"""An inspection on a guard's phone in a real browser: the guard opens a due extinguisher
from the list, fails one item with a note, passes the rest, submits, and a hazard report
exists, linked from the record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from tests.browser_support import PHONE, fits_the_phone, page_as, visit

from anwang.hazards.models import Hazard
from anwang.inspections import services
from anwang.inspections.models import Inspection, InspectionResult
from anwang.inspections.tests.support import asset, checklist

pytestmark = pytest.mark.browser


def test_guard_fails_an_item_on_a_phone_and_a_hazard_is_reported(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    world = live_world
    community = world.a.community
    services.checklists_seed_defaults(community=community)
    extinguisher = asset(community, "MHQ-7", building=world.a.building)
    services.plan_create(
        actor=world.user("community_admin"),
        community=community,
        data=services.PlanInput(
            name="每月灭火器检查",
            checklist=checklist(community),
            first_start=timezone.now() - dt.timedelta(days=1),
        ),
    )
    page = page_as(chromium, live_server, world.user("guard"), PHONE)
    visit(page, f"{live_server.url}/inspections/")
    assert fits_the_phone(page)
    card = page.locator(f"[data-testid=due-list] li[data-asset='{extinguisher.pk}']")
    with page.expect_navigation():
        card.locator("[data-testid=inspect]").click()
    with page.expect_navigation():
        page.locator("[data-testid=start-plan]").first.click()
    assert fits_the_phone(page)
    items = page.locator("fieldset.check-item")
    count = items.count()
    assert count == 5
    for index in range(count):
        fieldset = items.nth(index)
        outcome = "fail" if index == 0 else "pass"
        fieldset.locator(f"input[type=radio][value={outcome}]").check()
    items.nth(0).locator("textarea").fill("压力表指针在红区")
    with page.expect_navigation():
        page.locator("[data-testid=submit-inspection]").click()
    assert page.locator("[data-testid=record]").get_attribute("data-passed") == "no"
    assert page.locator("[data-testid=hazard-link]").count() == 1
    assert fits_the_phone(page)
    assert page.js_errors == []

    record = Inspection.objects.get()
    failed = InspectionResult.objects.get(inspection=record, outcome="fail")
    hazard = Hazard.objects.get()
    assert failed.hazard_id == hazard.pk
    assert "压力表指针在红区" in hazard.description
    assert hazard.category == "fire_equipment"
    extinguisher.refresh_from_db()
    assert extinguisher.last_checked_at == record.submitted_at


def test_guard_types_a_label_code_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    world = live_world
    community = world.a.community
    services.checklists_seed_defaults(community=community)
    door = asset(community, "AQCK-1", "fire_door", name="东侧安全出口")
    page = page_as(chromium, live_server, world.user("guard"), PHONE)
    visit(page, f"{live_server.url}/inspections/scan/")
    assert fits_the_phone(page)
    page.locator("input[name=code]").fill("AQCK-1")
    with page.expect_navigation():
        page.locator("[data-testid=code-form] button[type=submit]").click()
    assert f"asset={door.pk}" in page.url
    with page.expect_navigation():
        page.locator("[data-testid=start-plan]").first.click()
    assert page.locator("fieldset.check-item").count() == 3
    assert fits_the_phone(page)
    assert page.js_errors == []

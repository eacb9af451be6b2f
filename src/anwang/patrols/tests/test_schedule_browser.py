"""Patrol schedules in a browser: the manager's form on a phone-sized screen, and the guard's
"My shifts" at 390 px with its Start button opening the run's phone page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from anwang.patrols.models import PatrolRun, PatrolSchedule
from anwang.patrols.tests.conftest import make_checkpoint, make_route
from anwang.patrols.tests.test_browser import PHONE, chromium, live_world, phone_as, visit

pytestmark = pytest.mark.browser

__all__ = ["chromium", "live_world"]  # fixtures used by name below


def test_schedule_form_and_my_shifts_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    route = make_route(live_world.a, make_checkpoint(live_world.a, "北门"))
    admin = phone_as(chromium, live_server, live_world.user("community_admin"))
    visit(admin, f"{live_server.url}/patrols/schedules/create/")
    admin.locator("input[name=name]").fill("夜班")
    admin.locator("select[name=route]").select_option(str(route.pk))
    start = timezone.localtime(timezone.now() - dt.timedelta(minutes=5))
    admin.locator("input[name=first_start]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    admin.locator("input[name=duration_minutes]").fill("120")
    admin.locator("input[name=repeat][value=daily]").check()
    admin.locator("input[name=order_mode][value=fixed]").check()
    admin.locator(f"input[name=guards][value='{live_world.user('guard').pk}']").check()
    with admin.expect_navigation():
        admin.locator("button[name=preview]").click()
    assert admin.locator("[data-testid=preview] li").count() == 10
    assert admin.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with admin.expect_navigation():
        admin.locator("[data-testid=schedule-form] button.button:not([name])").click()
    schedule = PatrolSchedule.objects.get()
    assert schedule.rrule == "FREQ=DAILY"

    guard = phone_as(chromium, live_server, live_world.user("guard"))
    visit(guard, f"{live_server.url}/patrols/my-shifts/")
    assert guard.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with guard.expect_navigation():
        guard.locator("[data-testid=my-shifts] button[type=submit]").first.click()
    run = PatrolRun.objects.get()
    assert run.schedule_id == schedule.pk
    assert guard.url.endswith(f"/patrols/runs/{run.pk}/go/")

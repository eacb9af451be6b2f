"""Duty rosters in a browser at phone size: the admin adds a pattern after previewing its
shifts; the guard sees themself on duty now and their duties with the calendar link."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.rosters.models import DutyPattern

pytestmark = pytest.mark.browser


def test_pattern_form_and_on_duty_now_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    admin = page_as(chromium, live_server, live_world.user("community_admin"))
    visit(admin, f"{live_server.url}/rosters/patterns/new/")
    admin.locator("select[name=duty_role]").select_option("guard")
    admin.locator("select[name=person]").select_option(str(live_world.user("guard").pk))
    start = timezone.localtime(timezone.now() - dt.timedelta(hours=1))
    admin.locator("input[name=first_start]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    admin.locator("input[name=duration_minutes]").fill("720")
    admin.locator("input[name=rrule]").fill("FREQ=DAILY")
    with admin.expect_navigation():
        admin.locator("button[name=preview]").click()
    assert admin.locator("[data-testid=preview] li").count() == 10
    assert fits_the_phone(admin)
    with admin.expect_navigation():
        admin.locator("[data-testid=pattern-form] button.button:not([name])").click()
    assert DutyPattern.objects.get().person == live_world.user("guard")
    assert admin.js_errors == []

    guard = page_as(chromium, live_server, live_world.user("guard"))
    visit(guard, f"{live_server.url}/rosters/")
    assert "a_guard" in guard.locator("[data-testid=on-duty]").inner_text()
    assert fits_the_phone(guard)
    visit(guard, f"{live_server.url}/rosters/mine/")
    assert guard.locator("[data-testid=my-duties] tbody tr").count() >= 14
    assert guard.locator("a[href$='mine.ics']").count() == 1
    assert fits_the_phone(guard)
    assert guard.js_errors == []


def test_week_shows_a_cancelled_shift_and_the_admin_undoes_it_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    from anwang.rosters import services
    from anwang.rosters.models import DutyException

    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    pattern = services.duty_pattern_create(
        actor=None,
        community=live_world.a.community,
        duty_role="guard",
        person=live_world.user("guard"),
        first_start=start,
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )
    exception = services.duty_exception_add(
        actor=live_world.user("community_admin"),
        community=live_world.a.community,
        kind="off",
        pattern=pattern,
        shift_key=timezone.localtime(start).strftime("%Y%m%dT%H%M"),
        reason="病假",
    )
    admin = page_as(chromium, live_server, live_world.user("community_admin"))
    visit(admin, f"{live_server.url}/rosters/week/")
    assert admin.locator("[data-testid=week] del[data-testid=cancelled]").count() == 1
    assert fits_the_phone(admin)
    visit(admin, f"{live_server.url}/rosters/exceptions/")
    assert "病假" in admin.locator("[data-testid=exceptions]").inner_text()
    assert fits_the_phone(admin)
    with admin.expect_navigation():
        admin.locator(f"[data-testid=undo-{exception.pk}]").click()
    assert not DutyException.objects.exists()
    assert admin.locator("[data-testid=exceptions]").count() == 0
    assert admin.js_errors == []

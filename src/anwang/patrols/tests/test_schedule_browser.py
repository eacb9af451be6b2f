"""Patrol schedules in a browser: the manager's form on a phone-sized screen, and the guard's
"My shifts" at 390 px: its calendar file and link, and its Start button opening the run's phone
page.

The browser and the committed world are the shared fixtures of :mod:`tests.browser_support`;
``live_patrols`` (conftest) adds the route.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import icalendar
import pytest
from django.utils import timezone
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.patrols.models import CalendarFeed, PatrolRun, PatrolSchedule

pytestmark = pytest.mark.browser


def test_schedule_form_and_my_shifts_on_a_phone(
    live_server: Any, chromium: Any, live_patrols: Any
) -> None:
    route = live_patrols.route
    admin = page_as(chromium, live_server, live_patrols.user("community_admin"))
    visit(admin, f"{live_server.url}/patrols/schedules/create/")
    admin.locator("input[name=name]").fill("夜班")
    admin.locator("select[name=route]").select_option(str(route.pk))
    start = timezone.localtime(timezone.now() - dt.timedelta(minutes=5))
    admin.locator("input[name=first_start]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    admin.locator("input[name=duration_minutes]").fill("120")
    admin.locator("input[name=repeat][value=daily]").check()
    admin.locator("input[name=order_mode][value=fixed]").check()
    admin.locator(f"input[name=guards][value='{live_patrols.user('guard').pk}']").check()
    with admin.expect_navigation():
        admin.locator("button[name=preview]").click()
    assert admin.locator("[data-testid=preview] li").count() == 10
    assert fits_the_phone(admin)
    with admin.expect_navigation():
        admin.locator("[data-testid=schedule-form] button.button:not([name])").click()
    schedule = PatrolSchedule.objects.get()
    assert schedule.rrule == "FREQ=DAILY"
    visit(admin, f"{live_server.url}/patrols/schedules/")
    assert admin.locator("[data-testid=shifts] tbody tr").count() >= 1
    assert fits_the_phone(admin)
    assert admin.js_errors == []

    guard = page_as(chromium, live_server, live_patrols.user("guard"), accept_downloads=True)
    visit(guard, f"{live_server.url}/patrols/my-shifts/")
    assert fits_the_phone(guard)
    # The calendar file for the phone's calendar app: the shift window, never the plan.
    with guard.expect_download() as download:
        guard.locator("a[href$='my-shifts.ics']").click()
    ics = Path(download.value.path()).read_bytes()
    events = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert [str(event["summary"]) for event in events] == [f"夜班 · {route.name}"]
    # A calendar link is shown once, and fits the phone too.
    with guard.expect_navigation():
        guard.locator("form[action$='calendar-link/'] button:not([name])").click()
    assert CalendarFeed.objects.filter(user=live_patrols.user("guard")).exists()
    url = guard.locator("[data-testid=calendar-link]").input_value()
    assert url.startswith(f"{live_server.url}/patrols/calendar/")
    assert fits_the_phone(guard)
    # The calendar app follows the link without signing in.
    feed = guard.context.request.get(url, headers={"Cookie": ""})
    assert feed.ok
    assert b"FREQ=DAILY" in feed.body()

    visit(guard, f"{live_server.url}/patrols/my-shifts/")
    with guard.expect_navigation():
        guard.locator("[data-testid=my-shifts] button[type=submit]").first.click()
    run = PatrolRun.objects.get()
    assert run.schedule_id == schedule.pk
    assert guard.url.endswith(f"/patrols/runs/{run.pk}/go/")
    assert guard.js_errors == []

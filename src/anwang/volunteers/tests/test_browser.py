"""Volunteer pages in a real browser on a phone (390 px): applying, signing up for a shift
from the list, checking in and out, and seeing the points earned.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.participation.models import PointEntry
from anwang.volunteers import services
from anwang.volunteers.models import Signup, Volunteer

pytestmark = pytest.mark.browser


def test_apply_sign_up_and_check_in_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    resident = live_world.user("resident")
    page = page_as(chromium, live_server, resident)
    visit(page, f"{live_server.url}/volunteers/apply/")
    assert fits_the_phone(page)
    page.locator("input[name=skills][value=first_aid]").check()
    page.locator("input[name=availability][value='sat:morning']").check()
    page.locator("textarea[name=motivation]").fill("Nurse, free on Saturdays")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/volunteers/me/")
    assert "Applied" in page.content()
    volunteer = Volunteer.objects.get(user=resident)
    services.volunteer_approve(actor=live_world.user("community_admin"), volunteer=volunteer)
    start = timezone.now() + dt.timedelta(minutes=20)
    shift = services.shift_create(
        actor=None,
        community=live_world.a.community,
        title="北门护学岗",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=2,
    )
    visit(page, f"{live_server.url}/volunteers/shifts/")
    assert fits_the_phone(page)
    page.locator(f"[data-testid=shift-{shift.pk}] [data-testid=sign-up]").click()
    page.wait_for_url(f"{live_server.url}/volunteers/shifts/")
    assert Signup.objects.filter(shift=shift, volunteer=volunteer).exists()
    visit(page, f"{live_server.url}/volunteers/me/")
    page.locator(f"[data-testid=my-shift-{shift.pk}] [data-testid=check-in]").click()
    page.wait_for_url(f"{live_server.url}/volunteers/me/")
    page.locator(f"[data-testid=my-shift-{shift.pk}] [data-testid=check-out]").click()
    page.wait_for_url(f"{live_server.url}/volunteers/me/")
    signup = Signup.objects.get(shift=shift, volunteer=volunteer)
    assert signup.checked_in_at is not None
    assert signup.checked_out_at is not None
    # Checked out before the start: no hours, so no points.
    assert not PointEntry.objects.filter(user=resident).exists()
    visit(page, f"{live_server.url}/participation/me/")
    assert fits_the_phone(page)
    assert page.js_errors == []

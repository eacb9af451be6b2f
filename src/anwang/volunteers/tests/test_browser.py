"""Volunteer pages in a real browser on a phone (390 px): applying, signing up for a shift
from the list, checking in and out, and seeing the points earned.

Self-contained like the patrols browser tests: a function-scoped chromium, so Playwright's event
loop is gone before any later test uses asyncio.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from anwang.participation.models import PointEntry
from anwang.volunteers import services
from anwang.volunteers.models import Signup, Volunteer

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless chromium; the ORM is used only between page actions."""
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{CHROMIUM} is missing", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


@pytest.fixture
def live_world(transactional_db: None) -> Any:
    """The shared two-community world, committed so the live server's thread sees it."""
    from conftest import World, build_side, make_user

    a = build_side("a", "东湖街道", "翠苑社区")
    b = build_side("b", "西湖街道", "文华社区")
    return World(a=a, b=b, platform_admin=make_user("platform_admin", is_superuser=True))


def phone_as(chromium: Any, live_server: Any, user: Any) -> Any:
    """A phone-sized page logged in as ``user``, in English."""
    client = Client()
    client.force_login(user)
    context = chromium.new_context(viewport=PHONE, locale="en-GB")
    context.set_default_timeout(15_000)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": host,
                "path": "/",
            },
            {"name": "anwang_language", "value": "en", "domain": host, "path": "/"},
        ]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


def visit(page: Any, url: str) -> None:
    """Open a URL and fail clearly when the server answers with an error."""
    response = page.goto(url)
    assert response is not None
    assert response.status < 400, f"GET {url} answered {response.status}"


def fits_the_phone(page: Any) -> bool:
    """Whether the page has no horizontal scrolling at phone width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_apply_sign_up_and_check_in_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    resident = live_world.user("resident")
    page = phone_as(chromium, live_server, resident)
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

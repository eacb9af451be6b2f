"""QR attendance in a real browser on a phone: a participant opens the URL that the session's QR
code carries (as the phone's camera would), confirms, and is recorded once.

Self-contained like the patrols browser tests: a function-scoped chromium, so Playwright's event
loop is gone before any later test uses asyncio.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from anwang.training import services
from anwang.training.models import Attendance
from anwang.training.tests.conftest import make_course, make_session

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
    # Playwright's sync API keeps an event loop in this thread while the browser is open.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Connections opened while Playwright's loop ran would keep PostgreSQL's test
            # database from being dropped.
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


def test_check_in_by_opening_the_qr_url_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    session = make_session(make_course(live_world.a, "消防安全"), place="社区活动室")
    # The trainer's QR page shows the code; its link is exactly what the QR encodes.
    trainer = phone_as(chromium, live_server, live_world.user("community_admin"))
    response = trainer.goto(f"{live_server.url}/training/sessions/{session.pk}/qr/")
    assert response is not None
    assert response.status == 200
    assert trainer.locator("#attendance-qr svg").count() == 1
    url = trainer.locator("[data-testid=check-in-url]").get_attribute("href")
    assert url is not None
    assert "/training/check-in/?t=" in url
    assert trainer.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page = phone_as(chromium, live_server, live_world.user("guard"))
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    assert "消防安全" in page.locator("[data-testid=check-in]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_navigation():
        page.locator("[data-testid=confirm-check-in]").click()
    assert (
        "Your attendance was recorded." in page.locator("[data-testid=check-in-done]").inner_text()
    )
    page.goto(url)
    assert "already checked in" in page.locator("[data-testid=check-in-done]").inner_text()
    assert Attendance.objects.filter(session=session).count() == 1

    # A forged code is refused with a clear message.
    forged = url[:-4] + "abcd"
    response = page.goto(forged)
    assert response is not None
    assert response.status == 400
    assert "not genuine" in page.locator("[data-testid=check-in-error]").inner_text()
    assert page.js_errors == []
    assert trainer.js_errors == []
    assert services.TOKEN_MAX_AGE > 0

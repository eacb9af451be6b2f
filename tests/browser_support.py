"""What the apps' browser tests share: a headless Debian chromium, the two-community world
committed for the live server, and pages logged in as someone.

Import the fixtures into a test module (``from tests.browser_support import chromium,
live_world``). The browser is function-scoped: Playwright's synchronous API keeps an event loop
in the test thread while it is open, and later tests use asyncio. Without /usr/bin/chromium the
tests skip locally and fail in CI (``CI=true``), where a missing browser is a broken machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}


def under_ci() -> bool:
    """Whether the tests run in CI, where a skipped browser test would hide a broken machine."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless chromium; the ORM may be used between page actions. Request it before
    ``live_world``, so the world is written with the connection the test uses afterwards, and
    that connection is closed here."""
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} is missing: apt-get install -y chromium fonts-wqy-microhei "
            "(scripts/test does this)"
        )
        if under_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # Playwright's sync API keeps an event loop in this thread; the ORM is never used while a
    # page action runs, so Django's guard against async use can stand aside.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Connections opened while Playwright's loop ran belong to its context; close them,
            # or PostgreSQL refuses to drop the test database at the end.
            connections.close_all()


@pytest.fixture
def live_world(transactional_db: None) -> Any:
    """The shared two-community world, committed so the live server's thread sees it."""
    from conftest import World, build_side, make_user

    a = build_side("a", "东湖街道", "翠苑社区")
    b = build_side("b", "西湖街道", "文华社区")
    return World(a=a, b=b, platform_admin=make_user("platform_admin", is_superuser=True))


def page_as(
    chromium: Any,
    live_server: Any,
    user: Any,
    viewport: dict[str, int] = PHONE,
    *,
    language: str = "en",
    **context_options: Any,
) -> Any:
    """A page logged in as ``user`` (with the session cookie of a test client); script errors
    are collected in ``page.js_errors``. ``context_options`` go to Playwright's
    ``new_context`` (e.g. ``has_touch=True``)."""
    client = Client()
    client.force_login(user)
    context = chromium.new_context(viewport=viewport, locale="en-GB", **context_options)
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
            {"name": "anwang_language", "value": language, "domain": host, "path": "/"},
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
    """Whether the page has no horizontal scrolling at its width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))

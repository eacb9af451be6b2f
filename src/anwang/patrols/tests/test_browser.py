"""Patrol pages in a real browser on a phone: placing a checkpoint by clicking on the map,
seeing it on the checkpoint map, and reordering a route's stops.

Self-contained like the places browser tests: a function-scoped chromium, so Playwright's event
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

from anwang.patrols import services
from anwang.patrols.models import Checkpoint
from anwang.patrols.services import StopSpec
from anwang.patrols.tests.conftest import make_checkpoint

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


def visit(page: Any, url: str) -> None:
    """Open a URL and fail clearly when the server answers with an error."""
    response = page.goto(url)
    assert response is not None
    assert response.status < 400, f"GET {url} answered {response.status}"


def test_place_a_checkpoint_by_clicking_on_the_map(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    page = phone_as(chromium, live_server, live_world.user("community_admin"))
    visit(page, f"{live_server.url}/patrols/checkpoints/create/")
    page.locator("input[name=name]").fill("花园岗")
    page.locator("input[name=placement][value=point]").check()
    page.locator('[data-anwang-map="editor"][data-loaded="true"]').wait_for()
    editor_map = page.locator("[data-editor-map]")
    editor_map.scroll_into_view_if_needed()
    editor_map.click(position={"x": 150, "y": 100})
    assert '"type":"Point"' in page.locator("textarea[name=point]").input_value()
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").click()
    checkpoint = Checkpoint.objects.get(name="花园岗")
    assert checkpoint.point is not None
    assert checkpoint.point["type"] == "Point"
    assert checkpoint.code in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    visit(page, f"{live_server.url}/patrols/")
    checkpoint_map = page.locator('#checkpoint-map[data-loaded="true"]')
    checkpoint_map.wait_for()
    assert checkpoint_map.get_attribute("data-device-count") == "1"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.js_errors == []


def test_reorder_a_route_on_a_phone(live_server: Any, chromium: Any, live_world: Any) -> None:
    gate = make_checkpoint(live_world.a, "北门")
    yard = make_checkpoint(
        live_world.a, "花园", point={"type": "Point", "coordinates": [114.3008, 30.5008]}
    )
    route = services.patrol_route_create(
        actor=None,
        community=live_world.a.community,
        name="夜巡",
        stops=[StopSpec(gate), StopSpec(yard), StopSpec(gate)],
    )
    page = phone_as(chromium, live_server, live_world.user("community_admin"))
    visit(page, f"{live_server.url}/patrols/routes/{route.pk}/")
    route_map = page.locator('#route-map[data-loaded="true"]')
    route_map.wait_for()
    assert route_map.get_attribute("data-device-count") == "3"
    assert page.locator("[data-testid=stop]").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_navigation():
        page.locator("[data-testid=stop]").first.locator("button[value=down]").click()
    names = list(route.stops.order_by("order").values_list("checkpoint__name", flat=True))
    assert names == ["花园", "北门", "北门"]
    assert page.js_errors == []

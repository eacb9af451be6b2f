"""The pages in a real browser: language, login, map, masked personal data, scoping, layout."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD

from tests.browser.conftest import PHONE, WALL

pytestmark = pytest.mark.browser


def visit(page: Any, url: str) -> Any:
    """Open a URL and fail clearly when the server answers with an error."""
    response = page.goto(url)
    assert response is not None
    assert response.status < 400, f"GET {url} answered {response.status}"
    return response


def log_in(page: Any, base_url: str, username: str) -> None:
    """Log in through the login form and wait until the login page is left."""
    visit(page, f"{base_url}/accounts/login/")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation() as navigation:
        form.locator("button[type=submit]").click()
    landed = navigation.value
    assert "/accounts/login" not in page.url, f"{username} could not log in"
    assert landed is None or landed.status < 400, f"after login {page.url} answered {landed.status}"


def html_lang(page: Any) -> str:
    """The language the page declares."""
    return str(page.locator("html").get_attribute("lang"))


def test_login_page_has_no_horizontal_overflow_on_a_phone(live_server: Any, open_page: Any) -> None:
    page = open_page(PHONE)
    visit(page, f"{live_server.url}/accounts/login/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the login page is {width}px wide on a 390px phone"


def test_community_admin_journey(
    live_server: Any, live_world: Any, open_page: Any, artifacts: Path
) -> None:
    from anwang.audit.models import AuditEvent

    base = live_server.url
    page = open_page(PHONE)

    visit(page, f"{base}/accounts/login/")
    assert html_lang(page) == "zh-hans"
    assert "登录" in page.content()

    log_in(page, base, "a_community_admin")
    with page.expect_navigation():
        page.get_by_test_id("language-en").click()
    assert html_lang(page) == "en"
    assert page.get_by_role("button", name="Log out").is_visible()

    page.set_viewport_size(WALL)
    visit(page, f"{base}/places/map/")
    community_map = page.locator('#community-map[data-loaded="true"]')
    community_map.wait_for()
    features = int(community_map.get_attribute("data-feature-count") or 0)
    assert features >= 2, "the map should draw at least the building and the zone"
    page.screenshot(path=str(artifacts / "map-wall-screen.png"))

    page.set_viewport_size(PHONE)
    resident = live_world.a.resident
    visit(page, f"{base}/people/residents/{resident.pk}/")
    id_number = page.get_by_test_id("resident-id-number")
    phone = page.get_by_test_id("resident-phone")
    assert "110101********1234" in id_number.inner_text()
    assert "138****5678" in phone.inner_text()
    assert "13812345678" not in page.content()
    page.screenshot(path=str(artifacts / "resident-phone.png"))

    revealed_before = AuditEvent.objects.filter(action__contains="reveal").count()
    reveal = page.get_by_test_id("reveal-phone")
    if not reveal.count():
        # The button next to the phone number, whatever the surrounding markup.
        reveal = phone.locator("xpath=ancestor::*[.//button][1]").get_by_role(
            "button", name=re.compile("show", re.IGNORECASE)
        )
    reveal.first.click()
    page.get_by_test_id("resident-phone").filter(has_text="13812345678").wait_for()
    assert AuditEvent.objects.filter(action__contains="reveal").count() > revealed_before, (
        "revealing a phone number must write an audit entry"
    )


def test_residents_are_not_reachable_for_a_resident(
    live_server: Any, live_world: Any, open_page: Any
) -> None:
    from anwang.people.models import Resident

    neighbour = Resident.objects.create(
        community=live_world.a.community, name="a王五", phone="13798765432"
    )
    page = open_page(PHONE)
    log_in(page, live_server.url, "a_resident")
    response = page.goto(f"{live_server.url}/people/residents/")
    assert response is not None
    redirected = not page.url.rstrip("/").endswith("/people/residents")
    # 403 is as good as 404 here: the page itself is no secret, only what it lists.
    refused = response.status in {403, 404} or redirected
    assert refused, f"a resident reached the residents list ({response.status} {page.url})"
    assert neighbour.name not in page.content()
    assert "137****5432" not in page.content()

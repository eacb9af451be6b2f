"""A hazard from a resident's phone to closure in a real browser: the resident pins the place
with the phone's position, sees a nearby report of the same kind suggested, adds a photo and
sends the report; the admin triages and assigns it, the guard rectifies with an after-photo,
the grid worker (not the rectifier) verifies, the admin closes, and the resident sees it closed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.browser_support import PHONE, fits_the_phone, page_as, visit

from anwang.hazards import services
from anwang.hazards.models import Hazard
from anwang.hazards.tests.support import LAT, LON, jpeg

pytestmark = pytest.mark.browser


def _photo(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg((800, 600), gps=True)}


def _act(page: Any, action: str, fill: Any = None) -> None:
    """Open an action's panel on the detail page, fill it and submit."""
    panel = page.locator(f"details[data-action-panel={action}]")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    form = page.locator(f"form[data-action={action}]")
    if fill is not None:
        fill(form)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_resident_reports_on_a_phone_and_staff_close_it(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    world = live_world
    # A guard reported a broken light at the same spot earlier: it is suggested.
    earlier = services.hazard_report(
        community=world.a.community,
        reporter=world.user("guard"),
        category="broken_light",
        latitude=LAT + 0.0001,
        longitude=LON,
    )

    resident = page_as(
        chromium,
        live_server,
        world.user("resident"),
        PHONE,
        geolocation={"latitude": LAT, "longitude": LON, "accuracy": 8},
        permissions=["geolocation"],
    )
    visit(resident, f"{live_server.url}/hazards/report/")
    assert resident.locator("input[type=file][name=photo]").get_attribute("capture") == (
        "environment"
    )
    resident.select_option("#id_category", "broken_light")
    resident.locator("[data-testid=locate]").click()
    nearby = resident.locator("[data-testid=nearby]")
    nearby.wait_for()
    assert f"#{earlier.pk}" in nearby.inner_text()
    assert nearby.locator("[data-action=follow]").count() == 1
    assert resident.locator("#id_latitude").input_value().startswith(f"{LAT:.4f}")
    # Not the same light after all: report it anyway, with a photo.
    resident.select_option("#id_building", str(world.a.building.pk))
    resident.set_input_files("input[name=photo]", _photo("IMG_2041.jpg"))
    resident.fill("#id_description", "3单元门口路灯不亮")
    assert fits_the_phone(resident)
    with resident.expect_navigation():
        resident.locator("[data-testid=submit-report]").click()
    match = re.search(r"/hazards/(\d+)/$", resident.url)
    assert match, resident.url
    hazard = Hazard.objects.get(pk=int(match.group(1)))
    assert hazard.photo
    assert hazard.latitude is not None
    assert abs(hazard.latitude - LAT) < 1e-5
    assert resident.locator("[data-testid=hazard-photo]").count() == 1
    assert fits_the_phone(resident)

    admin = page_as(chromium, live_server, world.user("community_admin"), PHONE)
    visit(admin, f"{live_server.url}/hazards/{hazard.pk}/")
    _act(admin, "triage", lambda form: form.locator("select[name=severity]").select_option("high"))
    _act(
        admin,
        "assign",
        lambda form: form.locator("select[name=assignee]").select_option(
            str(world.user("guard").pk)
        ),
    )
    hazard.refresh_from_db()
    assert hazard.status == "assigned"
    assert hazard.deadline is not None

    guard = page_as(chromium, live_server, world.user("guard"), PHONE)
    visit(guard, f"{live_server.url}/hazards/{hazard.pk}/")
    _act(
        guard,
        "rectify",
        lambda form: form.locator("input[name=after_photo]").set_input_files(_photo("after.jpg")),
    )
    assert guard.locator("[data-testid=after-photo]").count() == 1
    # The guard rectified, so the guard is not offered the verification.
    assert guard.locator("form[data-action=verify]").count() == 0

    grid = page_as(chromium, live_server, world.user("grid_worker"), PHONE)
    visit(grid, f"{live_server.url}/hazards/{hazard.pk}/")
    _act(grid, "verify")
    _act(admin_reload(admin, live_server, hazard.pk), "close")
    hazard.refresh_from_db()
    assert hazard.status == "closed"

    visit(resident, f"{live_server.url}/hazards/mine/")
    card = resident.locator(f"[data-hazard='{hazard.pk}']")
    assert card.get_attribute("data-status") == "closed"
    assert "Closed" in card.inner_text()
    assert fits_the_phone(resident)
    for page in (resident, admin, guard, grid):
        assert page.js_errors == []


def admin_reload(page: Any, live_server: Any, hazard_id: int) -> Any:
    """The admin's page of the report, loaded again after others acted on it."""
    visit(page, f"{live_server.url}/hazards/{hazard_id}/")
    return page

"""The responsibility matrix in a browser at phone size: gaps show in red, the admin assigns
one from its row and it is no longer a gap; a guard reads the matrix."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.responsibilities.models import Responsibility

pytestmark = pytest.mark.browser

RED_BACKGROUND = "rgb(253, 236, 234)"


def test_admin_fills_a_gap_on_a_phone(live_server: Any, chromium: Any, live_world: Any) -> None:
    admin = page_as(chromium, live_server, live_world.user("community_admin"))
    visit(admin, f"{live_server.url}/responsibilities/")
    building_gap = admin.locator("[data-testid=matrix-buildings] tr.gap")
    assert building_gap.count() == 1
    assert building_gap.evaluate("row => getComputedStyle(row).backgroundColor") == RED_BACKGROUND
    assert fits_the_phone(admin)
    with admin.expect_navigation():
        building_gap.locator("a.button").click()
    assert admin.locator("select[name=area]").input_value() == (
        f"building:{live_world.a.building.pk}"
    )
    admin.locator("select[name=responsible]").select_option("role:guard")
    admin.locator("select[name=deputy]").select_option(
        f"person:{live_world.user('grid_worker').pk}"
    )
    assert fits_the_phone(admin)
    with admin.expect_navigation():
        admin.locator("[data-testid=responsibility-form] button.button").click()
    item = Responsibility.objects.get()
    assert (item.building, item.responsible_role) == (live_world.a.building, "guard")
    # Nobody is on duty as a guard: the building is still a gap, now saying why.
    row = admin.locator("[data-testid=matrix-buildings] tr.gap")
    assert row.get_attribute("data-gap") == "nobody_on_duty"
    assert "a_grid_worker" in row.inner_text()
    assert admin.js_errors == []

    guard = page_as(chromium, live_server, live_world.user("guard"))
    visit(guard, f"{live_server.url}/responsibilities/gaps/")
    assert guard.locator("[data-testid=gaps] tr.gap").count() == 2  # the zone and the building
    assert fits_the_phone(guard)
    assert guard.js_errors == []

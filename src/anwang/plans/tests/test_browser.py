"""Emergency plans in a browser at phone size: the plan page draws the zones to evacuate and
the assembly point on its map; the admin revises the plan, adds a step in the draft editor
and puts the new version in force, in Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.plans.tests.conftest import fire_plan

pytestmark = pytest.mark.browser


def test_plan_page_map_and_revision_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    plan, v1 = fire_plan(live_world)
    admin = page_as(chromium, live_server, live_world.user("community_admin"), language="zh-hans")
    visit(admin, f"{live_server.url}/plans/{plan.pk}/")
    map_box = admin.locator("#plan-map")
    admin.wait_for_function(
        "document.querySelector('#plan-map').getAttribute('data-loaded') !== null"
    )
    assert map_box.get_attribute("data-loaded") == "true"
    assert map_box.get_attribute("data-feature-count") == "2"  # one zone, the assembly point
    assert "确认火情并报警" in admin.locator("[data-testid=steps]").inner_text()
    assert fits_the_phone(admin)

    with admin.expect_navigation():
        admin.locator("[data-testid=revise-form] button").click()
    draft = plan.versions.get(number=2)
    assert admin.url.endswith(f"/plans/versions/{draft.pk}/edit/")
    assert fits_the_phone(admin)
    admin.locator("input[name=steps-3-title]").fill("清点人数")
    admin.locator("select[name=steps-3-duty_role]").select_option("grid_worker")
    admin.locator("input[name=steps-3-target_minutes]").fill("20")
    with admin.expect_navigation():
        admin.locator("[data-testid=draft-form] .form-actions button.button:not([name])").click()
    assert draft.steps.count() == 4
    with admin.expect_navigation():
        admin.locator("[data-testid=approve]").click()
    assert "清点人数" in admin.locator("[data-testid=steps]").inner_text()
    v1.refresh_from_db()
    draft.refresh_from_db()
    assert (v1.status, draft.status) == ("superseded", "approved")
    assert admin.js_errors == []

"""Patrol pages in a real browser on a phone: placing a checkpoint by clicking on the map,
seeing it on the checkpoint map, and reordering a route's stops.

The browser and the committed world are the shared fixtures of :mod:`tests.browser_support`;
``live_patrols`` (conftest) adds the checkpoints and the route.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.patrols import services
from anwang.patrols.models import Checkpoint
from anwang.patrols.services import StopSpec

pytestmark = pytest.mark.browser


def test_place_a_checkpoint_by_clicking_on_the_map(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    page = page_as(chromium, live_server, live_world.user("community_admin"))
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
    assert fits_the_phone(page)

    visit(page, f"{live_server.url}/patrols/")
    checkpoint_map = page.locator('#checkpoint-map[data-loaded="true"]')
    checkpoint_map.wait_for()
    assert checkpoint_map.get_attribute("data-device-count") == "1"
    assert fits_the_phone(page)
    assert page.js_errors == []


def test_reorder_a_route_on_a_phone(live_server: Any, chromium: Any, live_patrols: Any) -> None:
    gate, yard = live_patrols.gate, live_patrols.yard
    route = services.patrol_route_create(
        actor=None,
        community=live_patrols.world.a.community,
        name="一圈",
        stops=[StopSpec(gate), StopSpec(yard), StopSpec(gate)],
    )
    page = page_as(chromium, live_server, live_patrols.user("community_admin"))
    visit(page, f"{live_server.url}/patrols/routes/{route.pk}/")
    route_map = page.locator('#route-map[data-loaded="true"]')
    route_map.wait_for()
    assert route_map.get_attribute("data-device-count") == "3"
    assert page.locator("[data-testid=stop]").count() == 3
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.locator("[data-testid=stop]").first.locator("button[value=down]").click()
    names = list(route.stops.order_by("order").values_list("checkpoint__name", flat=True))
    assert names == ["花园", "北门", "北门"]
    assert page.js_errors == []

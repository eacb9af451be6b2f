"""The asset register in a real browser: a manager registers an extinguisher with a photo
(the form shows only the extinguisher's fields), sees it on the list and its map, prints the
label sheet as a PDF; a guard on a phone opens the label's scan page and can inspect it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.browser_support import PHONE, WALL, fits_the_phone, page_as, visit

from anwang.facilities.models import Asset
from anwang.facilities.tests.support import LAT, LON, jpeg

pytestmark = pytest.mark.browser


def test_manager_registers_and_prints_and_a_guard_scans(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    world = live_world
    manager = page_as(
        chromium, live_server, world.user("community_admin"), WALL, accept_downloads=True
    )
    visit(manager, f"{live_server.url}/facilities/new/")
    manager.select_option("#id_asset_type", "emergency_supply")
    assert manager.locator("[data-field=capacity_kg]").is_hidden()
    manager.select_option("#id_asset_type", "fire_extinguisher")
    assert manager.locator("[data-field=capacity_kg]").is_visible()
    assert manager.locator("[data-field=minimum_stock]").is_hidden()
    manager.fill("#id_name", "1号楼大堂灭火器")
    manager.select_option("#id_building", str(world.a.building.pk))
    manager.fill("#id_latitude", str(LAT))
    manager.fill("#id_longitude", str(LON))
    manager.select_option("#id_extinguisher_type", "dry_powder")
    manager.fill("#id_capacity_kg", "4")
    manager.fill("#id_expires_on", "2030-06-30")
    manager.set_input_files(
        "input[name=photo]",
        {"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": jpeg((800, 600), gps=True)},
    )
    with manager.expect_navigation():
        manager.locator("[data-testid=save-asset]").click()
    match = re.search(r"/facilities/(\d+)/$", manager.url)
    assert match, manager.url
    asset = Asset.objects.get(pk=int(match.group(1)))
    assert asset.photo
    photo = manager.locator("[data-testid=asset-photo]")
    photo.wait_for(state="visible")
    manager.wait_for_function(
        "document.querySelector('[data-testid=asset-photo]').naturalWidth > 0"
    )
    assert manager.locator("[data-testid=asset-history] li").count() == 1

    visit(manager, f"{live_server.url}/facilities/")
    asset_map = manager.locator("#asset-map")
    manager.wait_for_function(
        "document.querySelector('#asset-map').getAttribute('data-loaded') === 'true'"
    )
    assert asset_map.get_attribute("data-device-count") == "1"
    with manager.expect_download() as download:
        manager.locator("[data-testid=print-labels]").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert manager.js_errors == []

    guard = page_as(chromium, live_server, world.user("guard"), PHONE)
    visit(guard, f"{live_server.url}/facilities/a/{world.a.community.slug}/{asset.code}/")
    assert guard.locator("h1").inner_text().strip() == "1号楼大堂灭火器"
    assert "MHQ-0001" in guard.locator("[data-testid=scan-card]").inner_text()
    assert guard.locator("[data-testid=inspect-now]").is_visible()
    assert fits_the_phone(guard)
    assert guard.js_errors == []

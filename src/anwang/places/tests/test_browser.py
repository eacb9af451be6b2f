"""The map and the shape editor in Debian's chromium (Playwright), against the live server.

Skipped when /usr/bin/chromium is missing, except in CI where that fails.
"""

import json

import pytest
from tests.browser_support import PHONE, WALL, page_as

from anwang.core import geo
from anwang.places.models import Zone

pytestmark = pytest.mark.browser


def test_community_map_draws_buildings_and_key_areas(live_server, chromium, live_world):
    page = page_as(chromium, live_server, live_world.user("guard"), WALL)
    page.goto(f"{live_server.url}/places/map/")
    community_map = page.locator('#community-map[data-loaded="true"]')
    community_map.wait_for(timeout=15_000)
    assert community_map.get_attribute("data-feature-count") == "2"
    # The key area is drawn in red; the building in blue; no tile images were requested.
    strokes = page.eval_on_selector_all(
        "#community-map path.leaflet-interactive",
        "paths => paths.map(p => p.getAttribute('stroke'))",
    )
    assert "#b42318" in strokes
    assert "#0b5cad" in strokes
    assert page.locator("#community-map img.leaflet-tile").count() == 0
    # Switching the key-area layer off removes its shape.
    page.locator('[data-layer-toggle="key_areas"]').uncheck()
    strokes = page.eval_on_selector_all(
        "#community-map path.leaflet-interactive",
        "paths => paths.map(p => p.getAttribute('stroke'))",
    )
    assert "#b42318" not in strokes
    assert page.js_errors == []


def test_map_fits_a_phone(live_server, chromium, live_world):
    page = page_as(chromium, live_server, live_world.user("guard"), PHONE)
    page.goto(f"{live_server.url}/places/map/")
    page.locator('#community-map[data-loaded="true"]').wait_for(timeout=15_000)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.locator("#community-map").bounding_box()["width"] <= PHONE["width"]


def test_javascript_conversions_match_python(live_server, chromium, live_world):
    page = page_as(chromium, live_server, live_world.user("guard"), WALL)
    page.goto(f"{live_server.url}/places/map/")
    page.locator('#community-map[data-loaded="true"]').wait_for(timeout=15_000)
    for lon, lat in ((116.391, 39.907), (114.305, 30.593), (-0.1276, 51.5072)):
        gcj = page.evaluate(f"AnwangMap.wgs84ToGcj02({lon}, {lat})")
        assert gcj == pytest.approx(list(geo.wgs84_to_gcj02(lon, lat)), abs=1e-9)
        bd = page.evaluate(f"AnwangMap.wgs84ToBd09({lon}, {lat})")
        assert bd == pytest.approx(list(geo.wgs84_to_bd09(lon, lat)), abs=1e-9)
        back = page.evaluate(f"AnwangMap.bd09ToWgs84({bd[0]}, {bd[1]})")
        assert back == pytest.approx([lon, lat], abs=1e-8)


def test_drawing_a_zone_by_clicking(live_server, chromium, live_world):
    page = page_as(chromium, live_server, live_world.user("community_admin"), WALL)
    page.goto(f"{live_server.url}/places/zones/create/")
    editor = page.locator('[data-anwang-map="editor"][data-loaded="true"]')
    editor.wait_for(timeout=15_000)
    surface = editor.locator("[data-editor-map]")
    box = surface.bounding_box()
    textarea = page.locator("textarea[data-geometry-input]")

    def click(dx: float, dy: float) -> None:
        surface.click(position={"x": box["width"] * dx, "y": box["height"] * dy})

    click(0.3, 0.3)
    click(0.7, 0.3)
    assert textarea.input_value() == ""  # two corners are not an area yet
    click(0.7, 0.7)
    polygon = json.loads(textarea.input_value())
    assert polygon["type"] == "Polygon"
    assert len(polygon["coordinates"][0]) == 4
    assert polygon["coordinates"][0][0] == polygon["coordinates"][0][-1]
    page.locator('[data-editor-action="undo"]').click()
    assert textarea.input_value() == ""
    click(0.3, 0.7)
    click(0.5, 0.8)
    polygon = json.loads(textarea.input_value())
    assert len(polygon["coordinates"][0]) == 5
    page.fill("#id_name", "画出来的区域")
    page.select_option("#id_kind", "square")
    page.check("#id_is_key_area")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/places/zones/*/")
    zone = Zone.objects.get(name="画出来的区域")
    assert zone.is_key_area
    assert zone.geometry["type"] == "Polygon"
    # Clicks land near the community (the map opened on its shapes), in WGS84.
    lon, lat = geo.centroid(zone.geometry)
    assert geo.distance_m((lon, lat), (114.3005, 30.5005)) < 500
    assert page.js_errors == []


def test_typed_geojson_is_drawn_and_bad_json_reported(live_server, chromium, live_world):
    page = page_as(chromium, live_server, live_world.user("community_admin"), PHONE)
    page.goto(f"{live_server.url}/places/zones/{live_world.a.zone.pk}/edit/")
    editor = page.locator('[data-anwang-map="editor"][data-loaded="true"]')
    editor.wait_for(timeout=15_000)
    # The stored square is shown as four draggable corners.
    assert editor.locator(".leaflet-marker-icon").count() == 4
    textarea = page.locator("textarea[data-geometry-input]")
    textarea.fill('{"type": "Point", "coordinates": [114.3005, 30.5005]}')
    assert editor.locator(".leaflet-marker-icon").count() == 1
    assert page.locator('[data-editor-mode="point"]').is_checked()
    textarea.fill("{not json")
    assert "not valid JSON" in editor.locator("[data-editor-status]").inner_text()
    page.get_by_role("button", name="Save").click()
    # The server refuses it, and the typed text is still there to correct.
    assert "not valid JSON" in page.locator(".errorlist").inner_text()
    assert page.locator("textarea[data-geometry-input]").input_value() == "{not json"
    assert Zone.objects.get(pk=live_world.a.zone.pk).geometry["type"] == "Polygon"


def test_shapes_are_shifted_for_a_gcj02_base_map(live_server, chromium, live_world, settings):
    # A tile server that answers 404: the test is about where the shapes go, not the tiles.
    settings.ANWANG_MAP_TILE_URL = f"{live_server.url}/static/no-tiles/{{z}}/{{x}}/{{y}}.png"
    settings.ANWANG_MAP_TILE_CRS = "gcj02"
    page = page_as(chromium, live_server, live_world.user("guard"), WALL)
    page.goto(f"{live_server.url}/places/map/")
    page.locator('#community-map[data-loaded="true"]').wait_for(timeout=15_000)
    centre = page.evaluate(
        "(() => { const c = document.getElementById('community-map').anwangMap.getCenter();"
        " return [c.lng, c.lat]; })()"
    )
    expected = geo.wgs84_to_gcj02(114.3005, 30.5005)
    assert geo.distance_m(tuple(centre), expected) < 2
    assert geo.distance_m(tuple(centre), (114.3005, 30.5005)) > 100

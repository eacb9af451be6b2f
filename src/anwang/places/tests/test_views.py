"""Pages of the places domain: lists, details, forms, the map and its GeoJSON."""

import json
from typing import Any

import pytest
from conftest import SQUARE

from anwang.audit.models import AuditEvent
from anwang.places.models import Building, Household, Unit, Zone

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return str(response.content.decode())


# --------------------------------------------------------------------------- lists


@pytest.mark.parametrize(
    ("url", "own"),
    [
        ("/places/buildings/", "1号楼"),
        ("/places/households/", "1-1-301"),
        ("/places/zones/", "北门"),
        ("/places/grids/", "a 第一网格"),
    ],
)
def test_lists_show_own_community(client_for, url, own):
    response = client_for("community_admin").get(url)
    assert response.status_code == 200
    assert own in text(response)
    assert 'class="list responsive"' in text(response)
    assert "data-label=" in text(response)


def test_lists_do_not_show_community_b(client_for, world):
    Building.objects.filter(pk=world.b.building.pk).update(name="文华专属楼")
    Zone.objects.filter(pk=world.b.zone.pk).update(name="文华专属门")
    c = client_for("community_admin")
    assert "文华专属楼" not in text(c.get("/places/buildings/"))
    assert "文华专属门" not in text(c.get("/places/zones/"))


def test_residents_have_no_places_pages(client_for):
    c = client_for("resident")
    for url in ("/places/buildings/", "/places/map/", "/places/zones/", "/places/communities/"):
        assert c.get(url).status_code == 403, url


def test_building_list_filters_and_search(client_for, world):
    Building.objects.create(community=world.a.community, name="南楼", number="2")
    c = client_for("community_admin")
    body = text(c.get("/places/buildings/", {"q": "南"}))
    assert "南楼" in body
    assert "1号楼" not in body
    body = text(c.get("/places/buildings/", {"grid": "none"}))
    assert "南楼" in body
    assert "1号楼" not in body
    body = text(c.get("/places/buildings/", {"grid": str(world.a.grid.pk)}))
    assert "1号楼" in body
    assert "南楼" not in body


def test_household_list_filters(client_for, world):
    Household.objects.create(
        community=world.a.community, unit=world.a.unit, floor=5, number="502", is_rented=True
    )
    c = client_for("community_admin")
    body = text(c.get("/places/households/", {"rented": "yes"}))
    assert "1-1-502" in body
    assert "1-1-301" not in body
    body = text(c.get("/places/households/", {"q": "1-1-301"}))
    assert "1-1-301" in body
    assert "1-1-502" not in body
    body = text(c.get("/places/households/", {"floor": "5", "building": str(world.a.building.pk)}))
    assert "1-1-502" in body


def test_pagination_keeps_filters(client_for, world):
    for index in range(55):
        Building.objects.create(
            community=world.a.community, name=f"楼{index}", number=f"{index + 2}"
        )
    c = client_for("community_admin")
    first = text(c.get("/places/buildings/", {"use": "residential"}))
    assert "Page 1 of 2" in first
    assert "use=residential&amp;page=2" in first
    second = c.get("/places/buildings/", {"use": "residential", "page": 2})
    assert "Page 2 of 2" in text(second)


@pytest.mark.parametrize(
    "url",
    [
        "/places/buildings/",
        "/places/households/",
        "/places/zones/",
        "/places/grids/",
        "/places/communities/",
        "/places/regions/",
        "/places/map/",
    ],
)
def test_list_pages_have_a_fixed_query_count(client_for, world, django_assert_max_num_queries, url):
    community = world.a.community
    for index in range(40):
        building = Building.objects.create(
            community=community, name=f"楼{index}", number=f"{100 + index}", grid=world.a.grid
        )
        unit = Unit.objects.create(building=building, number="1")
        Household.objects.create(community=community, unit=unit, floor=1, number="101")
        Zone.objects.create(
            community=community, name=f"区{index}", kind="other", geometry=SQUARE, is_key_area=True
        )
    c = client_for("community_admin")
    c.get(url)
    with django_assert_max_num_queries(20):
        response = c.get(url)
    assert response.status_code == 200


def test_map_geojson_has_a_fixed_query_count(client_for, world, django_assert_max_num_queries):
    for index in range(40):
        Building.objects.create(
            community=world.a.community,
            name=f"楼{index}",
            number=f"{100 + index}",
            footprint=SQUARE,
        )
    c = client_for("community_admin")
    with django_assert_max_num_queries(12):
        response = c.get("/places/map.geojson", {"community": world.a.community.pk})
    assert len(response.json()["features"]) == 42


# --------------------------------------------------------------------------- details


def test_building_detail_shows_entrances_and_households(client_for, world):
    response = client_for("community_admin").get(f"/places/buildings/{world.a.building.pk}/")
    assert response.status_code == 200
    body = text(response)
    assert f"/places/units/{world.a.unit.pk}/" in body
    assert "1-1-301" in body
    assert 'id="shape-geometry"' in body  # the footprint map
    assert 'class="details"' in body


def test_community_b_objects_are_404_for_admin_of_a(client_for, world):
    c = client_for("community_admin")
    for url in (
        f"/places/buildings/{world.b.building.pk}/",
        f"/places/buildings/{world.b.building.pk}/edit/",
        f"/places/buildings/{world.b.building.pk}/delete/",
        f"/places/units/{world.b.unit.pk}/",
        f"/places/households/{world.b.household.pk}/",
        f"/places/zones/{world.b.zone.pk}/",
        f"/places/zones/{world.b.zone.pk}/edit/",
        f"/places/grids/{world.b.grid.pk}/",
        f"/places/communities/{world.b.community.pk}/",
        f"/places/map/?community={world.b.community.pk}",
    ):
        assert c.get(url).status_code == 404, url
    response = c.post(f"/places/zones/{world.b.zone.pk}/delete/")
    assert response.status_code == 404
    assert Zone.objects.filter(pk=world.b.zone.pk).exists()


def test_household_detail_shows_members_to_staff_who_may_see_residents(client_for, world):
    url = f"/places/households/{world.a.household.pk}/"
    admin_page = text(client_for("community_admin").get(url))
    assert "a张三" in admin_page
    assert "13812345678" not in admin_page  # masked by the people app
    guard = client_for("guard").get(url)
    assert guard.status_code == 200
    assert "a张三" not in text(guard)


def test_guard_sees_details_without_edit_buttons_and_cannot_edit(client_for, world):
    c = client_for("guard")
    body = text(c.get(f"/places/zones/{world.a.zone.pk}/"))
    assert f"/places/zones/{world.a.zone.pk}/edit/" not in body
    assert c.get(f"/places/zones/{world.a.zone.pk}/edit/").status_code == 403
    assert c.get("/places/zones/create/").status_code == 403
    response = c.post(f"/places/zones/{world.a.zone.pk}/edit/", {"name": "x", "kind": "gate"})
    assert response.status_code == 403
    assert Zone.objects.get(pk=world.a.zone.pk).name == "北门"


# --------------------------------------------------------------------------- forms


def test_create_building_with_bad_geojson_keeps_input_and_shows_error(client_for, world):
    c = client_for("community_admin")
    typed = '{"type": "Polygon", "coordinates": [[[114.3, 30.5], [114.31, 30.5], [114.31, 30.51]]]}'
    response = c.post(
        "/places/buildings/create/",
        {"number": "8", "name": "新楼", "floors": "12", "use": "residential", "footprint": typed},
    )
    assert response.status_code == 200
    body = text(response)
    assert "at least 4 positions" in body
    assert 'class="errorlist"' in body
    assert "新楼" in body  # what was typed is shown again
    assert "114.31, 30.51" in body
    assert not Building.objects.filter(number="8").exists()


def test_create_building_and_zone(client_for, world):
    c = client_for("community_admin")
    response = c.post(
        "/places/buildings/create/",
        {
            "number": "8",
            "name": "",
            "grid": str(world.a.grid.pk),
            "floors": "12",
            "use": "residential",
            "footprint": json.dumps(SQUARE),
        },
    )
    building = Building.objects.get(community=world.a.community, number="8")
    assert response.status_code == 302
    assert response["Location"] == f"/places/buildings/{building.pk}/"
    assert building.name == "Building 8"
    assert building.footprint == SQUARE
    response = c.post(
        "/places/zones/create/",
        {
            "name": "地下车库",
            "kind": "garage",
            "is_key_area": "on",
            "geometry": json.dumps({"type": "Feature", "properties": {}, "geometry": SQUARE}),
        },
    )
    zone = Zone.objects.get(name="地下车库")
    assert response.status_code == 302
    assert zone.is_key_area
    assert zone.geometry == SQUARE
    assert AuditEvent.objects.filter(action="zone.create", object_id=str(zone.pk)).exists()


def test_duplicate_number_error_is_on_the_field(client_for, world):
    response = client_for("community_admin").post(
        "/places/buildings/create/", {"number": "1", "floors": "6", "use": "residential"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "already has a building" in form.errors["number"][0]


def test_zone_form_has_the_geometry_editor(client_for):
    body = text(client_for("community_admin").get("/places/zones/create/"))
    assert 'data-anwang-map="editor"' in body
    assert 'data-editor-action="undo"' in body
    assert 'data-editor-action="clear"' in body
    assert 'data-editor-mode="point"' in body
    assert "anwang/map.js" in body
    assert "anwang/vendor/leaflet/leaflet.js" in body
    assert "map.geojson?community=" in body


def test_edit_zone_shows_current_values_and_saves(client_for, world):
    c = client_for("community_admin")
    url = f"/places/zones/{world.a.zone.pk}/edit/"
    body = text(c.get(url))
    assert "北门" in body
    assert "114.301" in body
    response = c.post(
        url,
        {"name": "北大门", "kind": "gate", "geometry": json.dumps(SQUARE), "description": "主入口"},
    )
    assert response.status_code == 302
    zone = Zone.objects.get(pk=world.a.zone.pk)
    assert (zone.name, zone.is_key_area, zone.description) == ("北大门", False, "主入口")
    entry = AuditEvent.objects.get(action="zone.update")
    assert entry.changes["name"] == ["北门", "北大门"]
    assert entry.channel == "web"


def test_household_create_and_add_another(client_for, world):
    c = client_for("community_admin")
    response = c.post(
        "/places/households/create/",
        {"unit": str(world.a.unit.pk), "floor": "4", "number": "401", "add_another": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/places/households/create/?unit={world.a.unit.pk}&floor=4"
    household = Household.objects.get(number="401")
    assert household.community == world.a.community
    response = c.post(
        "/places/households/create/", {"unit": str(world.b.unit.pk), "floor": "4", "number": "402"}
    )
    assert response.status_code == 200  # B's entrance is not a choice
    assert "unit" in response.context["form"].errors


def test_unit_create_suggests_the_next_number(client_for, world):
    c = client_for("community_admin")
    url = f"/places/buildings/{world.a.building.pk}/units/create/"
    assert 'value="2"' in text(c.get(url))
    response = c.post(url, {"number": "2"})
    unit = Unit.objects.get(building=world.a.building, number="2")
    assert response["Location"] == f"/places/units/{unit.pk}/"


def test_deleting_a_building_with_households_is_refused_on_the_page(client_for, world):
    c = client_for("community_admin")
    url = f"/places/buildings/{world.a.building.pk}/delete/"
    assert c.get(url).status_code == 200
    response = c.post(url)
    assert response.status_code == 409
    assert "still has 1 households" in text(response)
    assert Building.objects.filter(pk=world.a.building.pk).exists()


def test_deleting_an_empty_zone(client_for, world):
    c = client_for("community_admin")
    response = c.post(f"/places/zones/{world.a.zone.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/places/zones/"
    assert not Zone.objects.filter(pk=world.a.zone.pk).exists()


def test_community_edit_by_its_admin(client_for, world):
    c = client_for("community_admin")
    url = f"/places/communities/{world.a.community.pk}/edit/"
    body = text(c.get(url))
    assert 'name="region"' not in body  # only platform admins move communities
    response = c.post(
        url,
        {
            "name": "翠苑社区",
            "slug": "a",
            "address": "翠苑路1号",
            "phone": "",
            "latitude": "30.5",
            "longitude": "114.3",
            "boundary": "",
        },
    )
    assert response.status_code == 302
    world.a.community.refresh_from_db()
    assert world.a.community.address == "翠苑路1号"
    assert client_for("community_admin", "b").get(url).status_code == 404


# --------------------------------------------------------------------------- map


def test_map_page_has_the_map_container(client_for, world):
    response = client_for("guard").get("/places/map/")
    assert response.status_code == 200
    body = text(response)
    assert 'id="community-map"' in body
    assert f'data-geojson-url="/places/map.geojson?community={world.a.community.pk}"' in body
    assert 'data-center="114.3,30.5"' in body
    assert 'data-tile-url=""' in body
    assert 'data-layer-toggle="key_areas"' in body


def test_map_page_passes_the_tile_settings(client_for, settings):
    settings.ANWANG_MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    settings.ANWANG_MAP_TILE_CRS = "gcj02"
    body = text(client_for("community_admin").get("/places/map/"))
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in body
    assert 'data-tile-crs="gcj02"' in body


def test_map_geojson_returns_only_own_community_features(client_for, world):
    c = client_for("community_admin")
    response = c.get("/places/map.geojson", {"community": world.a.community.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    ids = {feature["id"] for feature in response.json()["features"]}
    assert ids == {f"building-{world.a.building.pk}", f"zone-{world.a.zone.pk}"}
    assert c.get("/places/map.geojson", {"community": world.b.community.pk}).status_code == 404
    # Without a parameter: the current community.
    default = c.get("/places/map.geojson").json()
    assert {f["id"] for f in default["features"]} == ids


def test_map_geojson_needs_login(client):
    response = client.get("/places/map.geojson")
    assert response.status_code == 302


# --------------------------------------------------------------------------- navigation


def test_navigation_and_tabs(client_for):
    admin_page = text(client_for("community_admin").get("/places/zones/"))
    for url in ("/places/map/", "/places/buildings/", "/places/zones/"):
        assert f'href="{url}"' in admin_page
    assert 'class="subnav"' in admin_page
    assert 'href="/places/communities/"' not in admin_page
    supervisor_page = text(client_for("supervisor").get("/places/zones/"))
    assert 'href="/places/communities/"' in supervisor_page


def test_communities_page_for_supervisor(client_for, world):
    response = client_for("supervisor").get("/places/communities/")
    assert response.status_code == 200
    body = text(response)
    assert world.a.community.name in body
    assert world.b.community.name not in body
    assert "/places/communities/create/" not in body


def test_platform_admin_manages_street_offices(world):
    from django.test import Client

    c = Client()
    c.force_login(world.platform_admin)
    c.cookies["anwang_language"] = "en"
    response = c.post("/places/regions/create/", {"name": "南湖街道", "code": "nanhu"})
    assert response.status_code == 302
    body = text(c.get("/places/regions/"))
    assert "南湖街道" in body
    assert world.b.region.name in body
    response = c.post("/places/regions/create/", {"name": "重复", "code": "nanhu"})
    assert "already exists" in text(response)


def test_dashboard_shows_place_figures(client_for):
    body = text(client_for("community_admin").get("/dashboard/"))
    assert 'data-stat="buildings"' in body
    assert 'data-stat="key_areas"' in body


def test_platform_admin_adds_a_community_with_a_drawn_boundary(world):
    from django.test import Client

    c = Client()
    c.force_login(world.platform_admin)
    c.cookies["anwang_language"] = "en"
    form = c.get("/places/communities/create/", {"region": world.a.region.pk})
    assert form.status_code == 200
    assert 'name="region"' in text(form)
    assert 'data-anwang-map="editor"' in text(form)
    response = c.post(
        "/places/communities/create/",
        {
            "region": str(world.a.region.pk),
            "name": "新苑社区",
            "slug": "xinyuan",
            "boundary": json.dumps(SQUARE),
        },
    )
    assert response.status_code == 302
    detail = c.get(response["Location"])
    assert detail.status_code == 200
    assert "新苑社区" in text(detail)
    assert "30.5005, 114.3005" in text(detail)  # the centre taken from the boundary


def test_community_detail_for_its_admin(client_for, world):
    response = client_for("community_admin").get(f"/places/communities/{world.a.community.pk}/")
    assert response.status_code == 200
    body = text(response)
    assert "a 第一网格" in body
    assert f"/places/map/?community={world.a.community.pk}" in body
    assert f"/places/communities/{world.a.community.pk}/delete/" not in body


def test_unit_detail_lists_its_households(client_for, world):
    response = client_for("guard").get(f"/places/units/{world.a.unit.pk}/")
    assert response.status_code == 200
    assert "1-1-301" in text(response)
    assert "/places/households/create/" not in text(response)


def test_map_page_offers_the_device_layer_only_to_those_who_see_devices(client_for, world):
    from anwang.devices import services as device_services

    device_services.device_create(
        actor=None,
        community=world.a.community,
        name="北门摄像头",
        kind="camera",
        protocol="frigate",
        source_id="map-cam",
        latitude=30.5,
        longitude=114.3,
    )
    devices_url = f"/devices/map.geojson?community={world.a.community.pk}"
    operator = client_for("operator")
    body = text(operator.get("/places/map/"))
    assert f'data-devices-url="{devices_url}"' in body
    assert 'data-layer-toggle="devices"' in body
    features = operator.get(devices_url).json()["features"]
    assert [feature["properties"]["name"] for feature in features] == ["北门摄像头"]
    # A volunteer sees the map but not the devices; a resident does not get the device URL either.
    for role in ("volunteer", "resident"):
        response = client_for(role).get("/places/map/")
        assert "data-devices-url" not in text(response)
        assert 'data-layer-toggle="devices"' not in text(response)
    assert client_for("volunteer").get("/places/map/").status_code == 200
    assert client_for("volunteer").get(devices_url).status_code == 404
    # Community A's staff get 404 for the devices of community B.
    b_devices = f"/devices/map.geojson?community={world.b.community.pk}"
    assert operator.get(b_devices).status_code == 404

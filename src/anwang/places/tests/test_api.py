"""The places API: CRUD, scoping, error shape, pagination and query counts."""

from typing import Any

import pytest
from conftest import SQUARE, World
from django.test import Client

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.accounts.services import api_token_create
from anwang.audit.models import AuditEvent
from anwang.places.models import Building, Household, Unit, Zone

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: World, role: str = "community_admin", side: str = "a") -> Client:
    c = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def post(c: Client, url: str, body: dict[str, Any]) -> Any:
    return c.post(f"{API}{url}", body, content_type="application/json")


def patch(c: Client, url: str, body: dict[str, Any]) -> Any:
    return c.patch(f"{API}{url}", body, content_type="application/json")


def test_list_buildings_is_scoped_and_paginated(world):
    response = client(world).get(f"{API}/buildings")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == world.a.building.pk
    assert item["footprint"] == SQUARE
    assert (item["unit_count"], item["household_count"]) == (1, 1)


def test_get_of_another_community_is_404_in_the_error_shape(world):
    c = client(world)
    for path in (
        f"/buildings/{world.b.building.pk}",
        f"/households/{world.b.household.pk}",
        f"/units/{world.b.unit.pk}",
        f"/grids/{world.b.grid.pk}",
        f"/zones/{world.b.zone.pk}",
        f"/communities/{world.b.community.pk}",
        f"/communities/{world.b.community.pk}/map",
        f"/regions/{world.b.region.pk}",
    ):
        response = c.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_create_building_with_audit(world):
    c = client(world)
    response = post(
        c,
        "/buildings",
        {
            "community_id": world.a.community.pk,
            "number": "12",
            "floors": 11,
            "grid_id": world.a.grid.pk,
            "footprint": SQUARE,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Building 12"
    assert body["grid_id"] == world.a.grid.pk
    assert body["household_count"] == 0
    entry = AuditEvent.objects.get(action="building.create")
    assert entry.channel == "api"
    assert entry.object_id == str(body["id"])


def test_bad_geojson_answers_400_naming_the_field(world):
    response = post(
        client(world),
        "/zones",
        {
            "community_id": world.a.community.pk,
            "name": "坏形状",
            "kind": "gate",
            "geometry": {"type": "Polygon", "coordinates": [[[114.3, 30.5], [114.31, 30.5]]]},
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][0]["loc"] == ["geometry"]
    assert "at least 4 positions" in body["detail"]
    assert not Zone.objects.filter(name="坏形状").exists()


def test_duplicate_number_answers_409(world):
    response = post(client(world), "/units", {"building_id": world.a.building.pk, "number": "1"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["loc"] == ["number"]


def test_writes_into_community_b_are_refused(world):
    c = client(world)
    response = post(c, "/buildings", {"community_id": world.b.community.pk, "number": "77"})
    assert response.status_code == 404
    response = post(c, "/households", {"unit_id": world.b.unit.pk, "floor": 1, "number": "101"})
    assert response.status_code == 404
    response = patch(c, f"/zones/{world.b.zone.pk}", {"name": "hacked"})
    assert response.status_code == 404
    assert c.delete(f"{API}/zones/{world.b.zone.pk}").status_code == 404
    assert not Building.objects.filter(number="77").exists()
    assert Zone.objects.get(pk=world.b.zone.pk).name == "北门"


def test_guard_reads_but_cannot_write(world):
    c = client(world, "guard")
    assert c.get(f"{API}/zones/{world.a.zone.pk}").status_code == 200
    response = patch(c, f"/zones/{world.a.zone.pk}", {"name": "renamed"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_patch_changes_only_what_is_sent(world):
    c = client(world)
    response = patch(c, f"/buildings/{world.a.building.pk}", {"floors": 9})
    assert response.status_code == 200
    building = Building.objects.get(pk=world.a.building.pk)
    assert building.floors == 9
    assert building.footprint == SQUARE
    assert building.grid == world.a.grid
    # null clears an optional field
    response = patch(c, f"/buildings/{world.a.building.pk}", {"grid_id": None, "footprint": None})
    assert response.json()["grid_id"] is None
    assert Building.objects.get(pk=world.a.building.pk).footprint is None


def test_household_crud(world):
    c = client(world)
    response = post(
        c,
        "/households",
        {"unit_id": world.a.unit.pk, "floor": 4, "number": "401", "area_m2": "75.5"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["address"] == "1-1-401"
    assert body["community_id"] == world.a.community.pk
    assert body["building_id"] == world.a.building.pk
    assert body["area_m2"] == 75.5
    household_id = body["id"]
    response = c.get(f"{API}/households", {"q": "1-1-401"})
    assert [h["id"] for h in response.json()["items"]] == [household_id]
    response = patch(c, f"/households/{household_id}", {"floor": 0})
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["floor"]
    assert c.delete(f"{API}/households/{household_id}").status_code == 204
    assert not Household.objects.filter(pk=household_id).exists()


def test_building_with_households_delete_is_409(world):
    response = client(world).delete(f"{API}/buildings/{world.a.building.pk}")
    assert response.status_code == 409
    assert "households" in response.json()["detail"]


def test_unit_and_grid_endpoints(world):
    c = client(world)
    unit = post(c, "/units", {"building_id": world.a.building.pk, "number": "2"}).json()
    assert unit["community_id"] == world.a.community.pk
    assert patch(c, f"/units/{unit['id']}", {"number": "3"}).json()["number"] == "3"
    assert c.delete(f"{API}/units/{unit['id']}").status_code == 204
    assert not Unit.objects.filter(pk=unit["id"]).exists()
    grid = post(
        c,
        "/grids",
        {
            "community_id": world.a.community.pk,
            "name": "第二网格",
            "grid_worker_id": world.user("grid_worker").pk,
        },
    )
    assert grid.status_code == 201, grid.content
    assert grid.json()["grid_worker_id"] == world.user("grid_worker").pk
    wrong = patch(c, f"/grids/{grid.json()['id']}", {"grid_worker_id": world.user("guard").pk})
    assert wrong.status_code == 400
    assert c.delete(f"{API}/grids/{grid.json()['id']}").status_code == 204


def test_regions_and_communities_for_platform_admin(world):
    admin = Client()
    admin.force_login(world.platform_admin)
    region = post(admin, "/regions", {"name": "南湖街道", "code": "nanhu"})
    assert region.status_code == 201
    community = post(
        admin,
        "/communities",
        {"region_id": region.json()["id"], "name": "南湖社区", "slug": "nanhu-1"},
    )
    assert community.status_code == 201, community.content
    assert community.json()["building_count"] == 0
    assert admin.delete(f"{API}/regions/{region.json()['id']}").status_code == 409
    community_id = community.json()["id"]
    assert admin.delete(f"{API}/communities/{community_id}").status_code == 204
    assert admin.delete(f"{API}/regions/{region.json()['id']}").status_code == 204
    # Community admins may not create street offices.
    assert post(client(world), "/regions", {"name": "x", "code": "x"}).status_code == 403


def test_community_admin_patches_own_community(world):
    c = client(world)
    response = patch(c, f"/communities/{world.a.community.pk}", {"phone": "027-1234"})
    assert response.status_code == 200
    assert response.json()["phone"] == "027-1234"
    response = patch(c, f"/communities/{world.a.community.pk}", {"region_id": world.b.region.pk})
    assert response.status_code == 404  # B's street office is not even visible


def test_map_endpoint_returns_own_features(world):
    response = client(world).get(f"{API}/communities/{world.a.community.pk}/map")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    ids = {f["id"] for f in body["features"]}
    assert ids == {f"building-{world.a.building.pk}", f"zone-{world.a.zone.pk}"}


def test_token_limited_to_b_sees_only_b(world):
    admin = world.user("community_admin")
    Membership.objects.create(user=admin, role=Role.COMMUNITY_ADMIN, community=world.b.community)
    _token, raw = api_token_create(actor=admin, user=admin, community_id=world.b.community.pk)
    c = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    items = c.get(f"{API}/buildings").json()["items"]
    assert [b["id"] for b in items] == [world.b.building.pk]
    assert c.get(f"{API}/buildings/{world.a.building.pk}").status_code == 404
    response = c.post(
        f"{API}/zones",
        {"community_id": world.a.community.pk, "name": "x", "kind": "gate", "geometry": SQUARE},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_filters_on_lists(world):
    c = client(world)
    Zone.objects.create(community=world.a.community, name="车库", kind="garage", geometry=SQUARE)
    key = c.get(f"{API}/zones", {"is_key_area": "true"}).json()["items"]
    assert [z["name"] for z in key] == ["北门"]
    garages = c.get(f"{API}/zones", {"kind": "garage"}).json()["items"]
    assert [z["name"] for z in garages] == ["车库"]
    assert c.get(f"{API}/buildings", {"grid_id": world.b.grid.pk}).json()["count"] == 0
    assert c.get(f"{API}/households", {"floor": 3}).json()["count"] == 1


@pytest.mark.parametrize(
    "path", ["/buildings", "/households", "/units", "/grids", "/zones", "/communities", "/regions"]
)
def test_list_endpoints_have_a_fixed_query_count(world, django_assert_max_num_queries, path):
    community = world.a.community
    for index in range(30):
        building = Building.objects.create(
            community=community, name=f"楼{index}", number=f"{100 + index}", grid=world.a.grid
        )
        unit = Unit.objects.create(building=building, number="1")
        Household.objects.create(community=community, unit=unit, floor=1, number="101")
        Zone.objects.create(community=community, name=f"区{index}", kind="other", geometry=SQUARE)
    c = client(world)
    c.get(f"{API}{path}")  # warm the session and scope
    with django_assert_max_num_queries(10):
        response = c.get(f"{API}{path}")
    assert response.status_code == 200

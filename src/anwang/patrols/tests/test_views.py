"""Patrol pages: checkpoint list and map, add/edit, detail with code, retire, re-issue, the
printable sheet; routes with their ordered stops."""

import json

import pytest

from anwang.patrols import services
from anwang.patrols.models import Checkpoint, PatrolRoute
from anwang.patrols.services import StopSpec
from anwang.patrols.tests.conftest import POINT, make_checkpoint, pdf_pages

pytestmark = pytest.mark.django_db


def test_list_and_map(world, client_for, django_assert_max_num_queries):
    for number in range(20):
        make_checkpoint(world.a, f"点{number}", placement="zone", zone=world.a.zone, point=None)
    make_checkpoint(world.b, "b-only")
    c = client_for("guard")
    with django_assert_max_num_queries(20):
        response = c.get("/patrols/")
    assert response.status_code == 200
    assert "点19" in response.text
    assert "b-only" not in response.text
    assert 'data-testid="print-sheet"' not in response.text  # guards cannot print codes
    with django_assert_max_num_queries(12):
        data = c.get(f"/patrols/map.geojson?community={world.a.community.pk}").json()
    assert len(data["features"]) == 20
    assert c.get(f"/patrols/map.geojson?community={world.b.community.pk}").status_code == 404
    assert client_for("resident").get("/patrols/").status_code == 403


def test_create_by_clicking_on_the_map(world, client_for):
    c = client_for("community_admin")
    assert 'data-anwang-map="editor"' in c.get("/patrols/checkpoints/create/").text
    data = {"name": "花园岗", "placement": "point", "point": "", "nfc_tag_id": ""}
    response = c.post("/patrols/checkpoints/create/", data)
    assert response.status_code == 200
    assert "花园岗" in response.text
    assert "Click on the map to place the checkpoint." in response.text
    data["point"] = json.dumps(POINT)
    response = c.post("/patrols/checkpoints/create/", data)
    assert response.status_code == 302
    checkpoint = Checkpoint.objects.get(name="花园岗")
    assert checkpoint.point == POINT
    data = {"name": "楼栋岗", "placement": "building", "building": str(world.a.building.pk)}
    assert c.post("/patrols/checkpoints/create/", data).status_code == 302
    assert client_for("guard").get("/patrols/checkpoints/create/").status_code == 403


def test_detail_shows_the_code_only_to_managers(world, client_for, django_assert_max_num_queries):
    checkpoint = make_checkpoint(world.a)
    for number in range(5):
        services.patrol_route_create(
            actor=None,
            community=world.a.community,
            name=f"r{number}",
            stops=[StopSpec(checkpoint)] * 2,
        )
    c = client_for("community_admin")
    with django_assert_max_num_queries(20):
        admin = c.get(f"/patrols/checkpoints/{checkpoint.pk}/")
    assert admin.text.count("/patrols/routes/") >= 5
    assert checkpoint.code in admin.text
    assert "<svg" in admin.text
    guard = client_for("guard").get(f"/patrols/checkpoints/{checkpoint.pk}/")
    assert guard.status_code == 200
    assert checkpoint.code not in guard.text
    other = client_for("community_admin", "b").get(f"/patrols/checkpoints/{checkpoint.pk}/")
    assert other.status_code == 404


def test_edit_reissue_retire(world, client_for):
    checkpoint = make_checkpoint(world.a)
    c = client_for("community_admin")
    response = c.get(f"/patrols/checkpoints/{checkpoint.pk}/edit/")
    assert "114.3005" in response.text
    data = {"name": "东门岗", "placement": "zone", "zone": str(world.a.zone.pk), "point": ""}
    assert c.post(f"/patrols/checkpoints/{checkpoint.pk}/edit/", data).status_code == 302
    old = checkpoint.code
    assert c.get(f"/patrols/checkpoints/{checkpoint.pk}/reissue/").status_code == 405
    assert c.post(f"/patrols/checkpoints/{checkpoint.pk}/reissue/").status_code == 302
    checkpoint.refresh_from_db()
    assert checkpoint.name == "东门岗"
    assert checkpoint.code != old
    assert (
        client_for("guard").post(f"/patrols/checkpoints/{checkpoint.pk}/reissue/").status_code
        == 403
    )
    assert "retire" in c.get(f"/patrols/checkpoints/{checkpoint.pk}/retire/").text
    assert c.post(f"/patrols/checkpoints/{checkpoint.pk}/retire/").status_code == 302
    checkpoint.refresh_from_db()
    assert checkpoint.is_retired


def test_sheet_download(world, client_for):
    for number in range(9):
        make_checkpoint(world.a, f"点{number}")
    response = client_for("community_admin").get("/patrols/checkpoints/sheet.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert pdf_pages(response.content) == 2
    one = Checkpoint.objects.get(name="点0")
    response = client_for("community_admin").get(
        f"/patrols/checkpoints/sheet.pdf?checkpoint={one.pk}"
    )
    assert pdf_pages(response.content) == 1
    assert client_for("guard").get("/patrols/checkpoints/sheet.pdf").status_code == 403
    page = client_for("community_admin").get("/patrols/")
    assert 'data-testid="print-selected"' in page.text
    assert f'name="checkpoint" value="{one.pk}"' in page.text
    nothing = client_for("community_admin").get("/patrols/checkpoints/sheet.pdf?selected=yes")
    assert nothing.status_code == 302
    two = client_for("community_admin").get(
        f"/patrols/checkpoints/sheet.pdf?selected=yes&checkpoint={one.pk}"
    )
    assert pdf_pages(two.content) == 1


def test_route_pages_and_reordering(world, client_for, django_assert_max_num_queries):
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园")
    c = client_for("community_admin")
    response = c.post(
        "/patrols/routes/create/", {"name": "夜巡", "description": "每晚", "is_active": "on"}
    )
    route = PatrolRoute.objects.get(name="夜巡")
    assert response.status_code == 302
    assert route.is_active
    url = f"/patrols/routes/{route.pk}/stops/"
    for checkpoint in (gate, yard):
        data = {
            "action": "add",
            "checkpoint": checkpoint.pk,
            "dwell_seconds": 30,
            "max_gap_seconds": 600,
        }
        assert c.post(url, data).status_code == 302
    assert c.post(url, {"action": "down", "index": 0}).status_code == 302
    assert list(route.stops.order_by("order").values_list("checkpoint__name", flat=True)) == [
        "花园",
        "北门",
    ]
    c.post(url, {"action": "update", "index": 1, "dwell_seconds": 90, "max_gap_seconds": 120})
    assert route.stops.get(order=2).dwell_seconds == 90
    c.post(url, {"action": "remove", "index": 0})
    assert list(route.stops.values_list("checkpoint__name", flat=True)) == ["北门"]
    response = c.post(
        url, {"action": "add", "checkpoint": "", "dwell_seconds": 30, "max_gap_seconds": 600}
    )
    assert response.status_code == 400
    with django_assert_max_num_queries(25):
        response = c.get(f"/patrols/routes/{route.pk}/")
    assert 'data-testid="stop"' in response.text
    assert 'data-testid="print-route"' in response.text
    data = c.get(f"/patrols/map.geojson?route={route.pk}").json()
    assert [f["properties"]["name"] for f in data["features"]] == ["1. 北门"]
    guard = client_for("guard")
    assert guard.get(f"/patrols/routes/{route.pk}/").status_code == 200
    assert guard.post(url, {"action": "remove", "index": 0}).status_code == 403
    assert client_for("guard", "b").get(f"/patrols/routes/{route.pk}/").status_code == 404


def test_route_list_edit_delete(world, client_for, django_assert_max_num_queries):
    gate = make_checkpoint(world.a)
    for number in range(15):
        services.patrol_route_create(
            actor=None, community=world.a.community, name=f"r{number}", stops=[StopSpec(gate)]
        )
    c = client_for("community_admin")
    with django_assert_max_num_queries(20):
        response = c.get("/patrols/routes/")
    assert "r14" in response.text
    route = PatrolRoute.objects.get(name="r0")
    assert (
        c.post(f"/patrols/routes/{route.pk}/edit/", {"name": "r0", "description": ""}).status_code
        == 302
    )
    route.refresh_from_db()
    assert route.is_active is False
    assert c.get(f"/patrols/routes/{route.pk}/delete/").status_code == 200
    assert c.post(f"/patrols/routes/{route.pk}/delete/").status_code == 302
    assert not PatrolRoute.objects.filter(pk=route.pk).exists()


def test_admin_pages(world):
    from django.test import Client

    gate = make_checkpoint(world.a)
    route = services.patrol_route_create(
        actor=None, community=world.a.community, name="r", stops=[StopSpec(gate)]
    )
    c = Client()
    c.force_login(world.platform_admin)
    assert c.get("/admin/patrols/checkpoint/").status_code == 200
    response = c.get(f"/admin/patrols/checkpoint/{gate.pk}/change/")
    assert response.status_code == 200
    assert gate.code_salt not in response.text
    assert c.get(f"/admin/patrols/patrolroute/{route.pk}/change/").status_code == 200

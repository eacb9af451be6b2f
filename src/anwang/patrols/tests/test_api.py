"""The patrols API: checkpoint and route CRUD, code checks, the PDF sheet, scoping, queries."""

from typing import Any

import pytest
from django.test import Client

from anwang.patrols import services
from anwang.patrols.models import Checkpoint, PatrolRoute
from anwang.patrols.services import StopSpec
from anwang.patrols.tests.conftest import POINT, make_checkpoint, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db

API = "/api/v1/patrols"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def test_checkpoint_crud(world):
    c = client(world)
    body = {
        "community": world.a.community.pk,
        "name": "北门岗",
        "placement": "point",
        "point": POINT,
    }
    response = send(c, "post", "/checkpoints", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["code"]
    assert created["position"] == [114.3005, 30.5005]
    pk = created["id"]
    response = send(
        c,
        "patch",
        f"/checkpoints/{pk}",
        {"placement": "zone", "zone": world.a.zone.pk, "point": None},
    )
    assert response.status_code == 200, response.content
    assert response.json()["zone"] == world.a.zone.pk
    assert response.json()["code"] == created["code"]
    response = send(c, "post", f"/checkpoints/{pk}/reissue-code")
    assert response.json()["code_version"] == 2
    assert response.json()["code"] != created["code"]
    assert send(c, "post", f"/checkpoints/{pk}/retire").json()["retired_at"]
    assert c.get(f"{API}/checkpoints").json()["items"] == []
    assert len(c.get(f"{API}/checkpoints?include_retired=true").json()["items"]) == 1


def test_bad_input_is_400_on_the_field(world):
    c = client(world)
    body = {"community": world.a.community.pk, "name": "x", "placement": "zone"}
    response = send(c, "post", "/checkpoints", body)
    assert response.status_code == 400
    assert "zone" in response.text


def test_guard_sees_checkpoints_without_codes_and_cannot_edit(world):
    checkpoint = make_checkpoint(world.a)
    guard = client(world, "guard")
    item = guard.get(f"{API}/checkpoints/{checkpoint.pk}").json()
    assert item["name"] == "北门岗"
    assert item["code"] is None
    assert send(guard, "post", f"/checkpoints/{checkpoint.pk}/reissue-code").status_code == 403
    assert (
        guard.get(f"{API}/checkpoints/sheet.pdf?community_id={world.a.community.pk}").status_code
        == 403
    )
    other = client(world, "community_admin", "b")
    assert other.get(f"{API}/checkpoints/{checkpoint.pk}").status_code == 404
    assert other.get(f"{API}/checkpoints").json()["items"] == []


def test_verify_endpoint(world):
    checkpoint = make_checkpoint(world.a)
    guard = client(world, "guard")
    body = {"community": world.a.community.pk, "code": checkpoint.code}
    response = send(guard, "post", "/checkpoints/verify", body)
    assert response.status_code == 200
    assert response.json() == {
        "checkpoint": checkpoint.pk,
        "name": "北门岗",
        "community": world.a.community.pk,
    }
    response = send(guard, "post", "/checkpoints/verify", body | {"code": "nonsense"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    old = checkpoint.code
    services.checkpoint_code_reissue(actor=None, checkpoint=checkpoint)
    response = send(guard, "post", "/checkpoints/verify", body | {"code": old})
    assert response.json()["code"] == "reissued"
    b_guard = client(world, "guard", "b")
    response = send(
        b_guard,
        "post",
        "/checkpoints/verify",
        {"community": world.b.community.pk, "code": checkpoint.code},
    )
    assert response.json()["code"] == "other_community"
    assert send(b_guard, "post", "/checkpoints/verify", body).status_code == 404


def test_route_crud_with_stops(world):
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园")
    c = client(world)
    body = {
        "community": world.a.community.pk,
        "name": "夜巡",
        "stops": [
            {"checkpoint": gate.pk, "dwell_seconds": 30},
            {"checkpoint": yard.pk, "max_gap_seconds": 300},
        ],
    }
    assert send(client(world, "guard"), "post", "/routes", body).status_code == 403
    response = send(c, "post", "/routes", body)
    assert response.status_code == 201, response.content
    route = response.json()
    assert [(s["order"], s["checkpoint_name"]) for s in route["stops"]] == [
        (1, "北门"),
        (2, "花园"),
    ]
    pk = route["id"]
    response = send(
        c,
        "patch",
        f"/routes/{pk}",
        {"stops": [{"checkpoint": yard.pk}, {"checkpoint": gate.pk}], "is_active": False},
    )
    assert [s["checkpoint"] for s in response.json()["stops"]] == [yard.pk, gate.pk]
    assert response.json()["is_active"] is False
    foreign = make_checkpoint(world.b)
    response = send(
        c, "patch", f"/routes/{pk}", {"name": "renamed", "stops": [{"checkpoint": foreign.pk}]}
    )
    assert response.status_code == 400
    assert PatrolRoute.objects.get(pk=pk).name == "夜巡"  # the refused change left nothing behind
    assert c.get(f"{API}/routes/{pk}").json()["name"] == "夜巡"
    assert client(world, "guard").delete(f"{API}/routes/{pk}").status_code == 403
    assert c.delete(f"{API}/routes/{pk}").status_code == 204
    assert Checkpoint.objects.count() == 3


def test_sheet_pdf(world):
    checkpoints = [make_checkpoint(world.a, f"点{n}") for n in range(10)]
    route = services.patrol_route_create(
        actor=None, community=world.a.community, name="r", stops=[StopSpec(checkpoints[0])]
    )
    c = client(world)
    url = f"{API}/checkpoints/sheet.pdf?community_id={world.a.community.pk}"
    response = c.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert pdf_pages(response.content) == 2
    response = c.get(f"{url}&patrol_route_id={route.pk}")
    assert pdf_pages(response.content) == 1
    text = pdf_text(response.content)
    assert checkpoints[0].code in text
    assert checkpoints[1].code not in text
    response = c.get(f"{url}&checkpoint_ids={checkpoints[2].pk}&checkpoint_ids={checkpoints[3].pk}")
    text = pdf_text(response.content)
    assert checkpoints[2].code in text
    assert checkpoints[3].code in text
    assert checkpoints[4].code not in text


def test_list_query_counts(world, django_assert_max_num_queries):
    for number in range(30):
        make_checkpoint(
            world.a, f"点{number}", placement="building", building=world.a.building, point=None
        )
    gate = Checkpoint.objects.get(name="点0")
    for number in range(10):
        services.patrol_route_create(
            actor=None, community=world.a.community, name=f"r{number}", stops=[StopSpec(gate)] * 3
        )
    c = client(world)
    with django_assert_max_num_queries(12):
        response = c.get(f"{API}/checkpoints")
    assert len(response.json()["items"]) == 30
    with django_assert_max_num_queries(12):
        response = c.get(f"{API}/routes")
    assert len(response.json()) == 10
    assert all(len(r["stops"]) == 3 for r in response.json())

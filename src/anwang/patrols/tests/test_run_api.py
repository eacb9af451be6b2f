"""The patrol runs API: start, get (plan with names and positions for the phone), list scoped
to one's own runs or the community's, single check-ins with a photo, batch sync, finish,
abandon, SOS; refusals in the API's error shape; query counts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.alarms.models import Alarm
from anwang.patrols import services
from anwang.patrols.models import CheckIn, PatrolRun
from anwang.patrols.tests.conftest import make_checkpoint, make_route, png

pytestmark = pytest.mark.django_db

API = "/api/v1/patrols"


def client(world: Any, role: str = "guard", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def post(c: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return c.post(f"{API}{url}", body or {}, content_type="application/json")


@pytest.fixture
def route(world: Any) -> Any:
    """A route of community a through three checkpoints."""
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园", point={"type": "Point", "coordinates": [114.31, 30.51]})
    shop = make_checkpoint(world.a, "商铺", point={"type": "Point", "coordinates": [114.32, 30.52]})
    return make_route(world.a, gate, yard, shop)


def codes_of(route: Any) -> list[str]:
    return [stop.checkpoint.code for stop in route.stops.order_by("order")]


def test_start_get_and_one_at_a_time(world, route):
    c = client(world)
    response = post(c, "/runs", {"patrol_route": route.pk, "order_mode": "random"})
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["status"] == "in_progress"
    assert run["order_mode"] == "random"
    assert sorted(stop["name"] for stop in run["plan"]) == ["北门", "商铺", "花园"]
    assert all(stop["position"] for stop in run["plan"])
    assert [stop["number"] for stop in run["plan"]] == [1, 2, 3]
    again = post(c, "/runs", {"patrol_route": route.pk})
    assert again.status_code == 409
    assert again.json()["code"] == "run_in_progress"
    got = c.get(f"{API}/runs/{run['id']}")
    assert got.status_code == 200
    assert got.json()["plan"] == run["plan"]
    assert post(client(world, "operator"), "/runs", {"patrol_route": route.pk}).status_code == 403
    assert post(client(world, "guard", "b"), "/runs", {"patrol_route": route.pk}).status_code == 404


def test_single_check_in_with_photo_replay_and_refusals(world, route, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = client(world)
    run = post(c, "/runs", {"patrol_route": route.pk}).json()
    gate, yard, _shop = codes_of(route)
    client_id = str(uuid.uuid4())
    form = {
        "code": gate,
        "client_id": client_id,
        "scanned_at": timezone.now().isoformat(),
        "method": "qr",
        "latitude": "30.5005",
        "longitude": "114.3005",
        "accuracy": "8",
        "note": "正常",
        "photo": png(),
    }
    url = f"{API}/runs/{run['id']}/check-ins"
    response = c.post(url, form)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "accepted"
    assert body["checkpoint_name"] == "北门"
    assert body["distance_m"] == 0
    assert body["far"] is False
    assert body["photo_url"].endswith("/photo")
    assert body["code"] is None  # guards do not see codes
    form.pop("photo")
    replay = c.post(url, form)
    assert replay.status_code == 200
    assert replay.json()["id"] == body["id"]
    duplicate = c.post(url, form | {"client_id": str(uuid.uuid4())})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate"
    forged = c.post(url, form | {"client_id": str(uuid.uuid4()), "code": "0000-0000-0000-0"})
    assert forged.status_code == 400
    assert forged.json()["code"] == "malformed"
    other = make_checkpoint(world.b, "b-gate")
    refused = c.post(url, form | {"client_id": str(uuid.uuid4()), "code": other.code})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "This code belongs to a checkpoint of another community."
    half_form = {key: value for key, value in form.items() if key != "longitude"}
    half = c.post(url, half_form | {"client_id": str(uuid.uuid4()), "code": yard})
    assert half.status_code == 400
    assert half.json()["errors"][0]["loc"] == ["latitude"]
    assert CheckIn.objects.filter(status="rejected").count() == 3
    # The supervisor sees refusals with their reasons, and codes.
    admin_view = client(world, "community_admin").get(f"{API}/runs/{run['id']}").json()
    assert len(admin_view["check_ins"]) == 4
    assert {c["rejection"] for c in admin_view["check_ins"]} == {
        "",
        "duplicate",
        "malformed",
        "other_community",
    }
    assert admin_view["check_ins"][0]["code"] == gate
    assert admin_view["accepted_count"] == 1
    assert admin_view["rejected_count"] == 3


def test_batch_sync_per_item_results(world, route):
    c = client(world)
    run = post(c, "/runs", {"patrol_route": route.pk}).json()
    PatrolRun.objects.filter(pk=run["id"]).update(started_at=timezone.now() - dt.timedelta(hours=3))
    gate, yard, shop = codes_of(route)
    start = timezone.now() - dt.timedelta(hours=3)

    def item(code: str, minutes: int, **extra: Any) -> dict[str, Any]:
        return {
            "code": code,
            "client_id": str(uuid.uuid4()),
            "scanned_at": (start + dt.timedelta(minutes=minutes)).isoformat(),
            "method": "typed",
        } | extra

    items = [
        item(shop, 50),
        item(gate, 5, latitude=30.5005, longitude=114.3005, accuracy=12),
        item(gate, 6),
        item(yard, 20, latitude=30.5005),
        item(yard, -120),
    ]
    response = post(c, f"/runs/{run['id']}/sync", {"items": items})
    assert response.status_code == 200, response.content
    results = response.json()
    assert [r["client_id"] for r in results] == [i["client_id"] for i in items]
    assert [r["result"] for r in results] == [
        "accepted",
        "accepted",
        "rejected",
        "invalid",
        "rejected",
    ]
    assert [r["code"] for r in results] == ["", "", "duplicate", "invalid", "before_start"]
    assert results[0]["check_in"]["skew_seconds"] > 2 * 3600
    assert results[3]["check_in"] is None
    assert "latitude" in results[3]["message"]
    # The same batch again: all found again, nothing new.
    again = post(c, f"/runs/{run['id']}/sync", {"items": items}).json()
    assert [r["created"] for r in again] == [False, False, False, False, False]
    assert CheckIn.objects.count() == 4
    # Clock skew: a phone 20 minutes fast says when it sent.
    fast = timezone.now() + dt.timedelta(minutes=20)
    skewed = post(
        c,
        f"/runs/{run['id']}/sync",
        {"items": [item(yard, 0) | {"scanned_at": fast.isoformat()}], "sent_at": fast.isoformat()},
    ).json()
    assert skewed[0]["result"] == "accepted"
    assert skewed[0]["check_in"]["clock_offset_seconds"] == pytest.approx(-1200, abs=5)
    # Not the guard's run: 403 for an admin, 404 for another community.
    assert (
        post(client(world, "community_admin"), f"/runs/{run['id']}/sync", {"items": []}).status_code
        == 403
    )
    assert (
        post(client(world, "guard", "b"), f"/runs/{run['id']}/sync", {"items": []}).status_code
        == 404
    )


def test_finish_abandon_and_list_scoping(world, route, django_assert_max_num_queries):
    guard = client(world)
    volunteer = client(world, "volunteer")
    run = post(guard, "/runs", {"patrol_route": route.pk}).json()
    finished = post(guard, f"/runs/{run['id']}/finish", {"note": "完成"})
    assert finished.status_code == 200
    assert finished.json()["status"] == "completed"
    assert post(guard, f"/runs/{run['id']}/finish").status_code == 409
    for _ in range(5):
        other = post(volunteer, "/runs", {"patrol_route": route.pk}).json()
        post(volunteer, f"/runs/{other['id']}/finish")
    with django_assert_max_num_queries(8):
        mine = guard.get(f"{API}/runs").json()
    assert [r["id"] for r in mine["items"]] == [run["id"]]
    admin = client(world, "community_admin")
    with django_assert_max_num_queries(8):
        everything = admin.get(f"{API}/runs").json()
    assert everything["count"] == 6
    assert admin.get(f"{API}/runs?guard={world.user('guard').pk}").json()["count"] == 1
    assert admin.get(f"{API}/runs?status=in_progress").json()["count"] == 0
    assert admin.get(f"{API}/runs?mine=true").json()["count"] == 0
    assert client(world, "operator").get(f"{API}/runs").json()["count"] == 6
    assert client(world, "community_admin", "b").get(f"{API}/runs").json()["count"] == 0
    assert guard.get(f"{API}/runs/{other['id']}").status_code == 404
    assert post(guard, f"/runs/{run['id']}/abandon", {"reason": "x"}).status_code == 403
    abandoned = post(admin, f"/runs/{run['id']}/abandon", {"reason": "没有真的走"})
    assert abandoned.status_code == 200
    assert abandoned.json()["status"] == "abandoned"
    assert abandoned.json()["abandon_reason"] == "没有真的走"
    assert post(admin, f"/runs/{run['id']}/abandon", {"reason": "again"}).status_code == 409
    assert (
        post(
            client(world, "community_admin", "b"), f"/runs/{run['id']}/abandon", {"reason": "x"}
        ).status_code
        == 404
    )


def test_sos(world, route):
    c = client(world)
    run = post(c, "/runs", {"patrol_route": route.pk}).json()
    response = post(
        c,
        "/sos",
        {"patrol_run": run["id"], "latitude": 30.5005, "longitude": 114.3005, "accuracy": 9},
    )
    assert response.status_code == 201, response.content
    alarm = Alarm.objects.get(pk=response.json()["alarm"])
    assert alarm.priority == 1
    assert response.json()["priority"] == 1
    assert "30.500500, 114.300500 (±9 m)" in alarm.steps.get().note
    assert PatrolRun.objects.get(pk=run["id"]).last_latitude == 30.5005
    without_run = post(client(world, "volunteer"), "/sos", {"community": world.a.community.pk})
    assert without_run.status_code == 201
    assert "Position unknown." in Alarm.objects.get(pk=without_run.json()["alarm"]).steps.get().note
    assert post(c, "/sos", {}).status_code == 400
    assert post(client(world, "guard", "b"), "/sos", {"patrol_run": run["id"]}).status_code == 404
    assert (
        post(client(world, "guard", "b"), "/sos", {"community": world.a.community.pk}).status_code
        == 404
    )


def test_services_see_the_same_runs_as_the_api(world, route):
    run = services.patrol_run_start(actor=world.user("guard"), route=route)
    assert client(world).get(f"{API}/runs/{run.pk}").json()["guard_name"] == "a_guard"


def test_run_detail_queries_do_not_grow_with_check_ins(world, django_assert_max_num_queries):
    checkpoints = [make_checkpoint(world.a, f"点{n}") for n in range(15)]
    route = make_route(world.a, *checkpoints)
    run = services.patrol_run_start(actor=world.user("guard"), route=route)
    for checkpoint in checkpoints:
        services.patrol_check_in(
            actor=world.user("guard"),
            run=run,
            code=checkpoint.code,
            client_id=uuid.uuid4(),
            scanned_at=timezone.now(),
        )
    admin = client(world, "community_admin")
    with django_assert_max_num_queries(16):
        data = admin.get(f"{API}/runs/{run.pk}").json()
    assert len(data["check_ins"]) == 15
    assert all(stop["check_in"] for stop in data["plan"])
    with django_assert_max_num_queries(22):
        page = admin.get(f"/patrols/runs/{run.pk}/")
    assert page.text.count('data-testid="check-in"') == 15
    guard = client(world)
    with django_assert_max_num_queries(20):
        phone = guard.get(f"/patrols/runs/{run.pk}/go/")
    assert phone.status_code == 200


def test_admin_pages(world, route):
    run = services.patrol_run_start(actor=world.user("guard"), route=route)
    services.patrol_check_in(
        actor=world.user("guard"),
        run=run,
        code=codes_of(route)[0],
        client_id=uuid.uuid4(),
        scanned_at=timezone.now(),
    )
    c = Client()
    c.force_login(world.platform_admin)
    assert c.get("/admin/patrols/patrolrun/").status_code == 200
    assert c.get(f"/admin/patrols/patrolrun/{run.pk}/change/").status_code == 200
    assert c.get("/admin/patrols/checkin/").status_code == 200
    check_in = CheckIn.objects.get()
    assert c.get(f"/admin/patrols/checkin/{check_in.pk}/change/").status_code == 200

"""The alarms API: list and filters, detail, lifecycle actions, errors, manual raise, photos,
stats, export, response times, scoping and query counts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from anwang.alarms import services
from anwang.alarms.models import Alarm
from anwang.alarms.tests.conftest import T0, firing, make_device, make_event

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "operator", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def post(c: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return c.post(f"{API}{url}", body or {}, content_type="application/json")


@pytest.fixture
def alarm(rule, device) -> Alarm:
    event = make_event(device)
    (raised,) = services.alarms_from_firings(
        firings=[firing(rule, device=device, events=(event.pk,))], now=T0
    )
    return raised


def test_list_has_the_fields_and_filters(world, alarm, rule, django_assert_max_num_queries):
    for number in range(10):
        other = make_device(world.a, f"s{number}")
        services.alarms_from_firings(firings=[firing(rule, device=other)], now=T0)
    c = client(world)
    with django_assert_max_num_queries(8):
        body = c.get(f"{API}/alarms").json()
    assert body["count"] == 11
    item = next(i for i in body["items"] if i["id"] == alarm.pk)
    assert item["priority"] == 1
    assert item["state"] == "raised"
    assert item["title"] == "Smoke at sensor smoke-1"
    assert item["device"] == alarm.device_id
    assert item["zone"] == world.a.zone.pk
    assert item["raised_at"].startswith("2026-03-02T22:00:00")
    assert c.get(f"{API}/alarms?device_id={alarm.device_id}").json()["count"] == 1
    assert c.get(f"{API}/alarms?priority=2").json()["count"] == 0
    assert c.get(f"{API}/alarms?state=acknowledged").json()["count"] == 0
    assert c.get(f"{API}/alarms?since=2026-03-03T00:00:00Z").json()["count"] == 0
    assert c.get(f"{API}/alarms?zone_id={world.a.zone.pk}").json()["count"] == 11
    assert client(world, side="b").get(f"{API}/alarms").json()["count"] == 0


def test_detail_and_lifecycle(world, alarm):
    c = client(world)
    detail = c.get(f"{API}/alarms/{alarm.pk}").json()
    assert [step["action"] for step in detail["steps"]] == ["raised"]
    assert detail["events"][0]["kind"] == "smoke"
    assert detail["why"] == {"kind": "smoke", "value": True}
    assert post(c, f"/alarms/{alarm.pk}/acknowledge", {"note": "seen"}).json()["state"] == (
        "acknowledged"
    )
    response = post(c, f"/alarms/{alarm.pk}/acknowledge")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid"
    assert "Only a raised alarm" in response.json()["detail"]
    guard = world.user("guard")
    response = post(c, f"/alarms/{alarm.pk}/dispatch", {"user_id": guard.pk})
    assert response.status_code == 200
    assert response.json()["assignee"] == guard.pk
    resident = post(c, f"/alarms/{alarm.pk}/dispatch", {"user_id": world.user("resident").pk})
    assert resident.status_code == 400
    assert resident.json()["errors"][0]["loc"] == ["user_id"]
    assert post(c, f"/alarms/{alarm.pk}/accept").status_code == 403  # not the assignee
    g = client(world, "guard")
    assert post(g, f"/alarms/{alarm.pk}/accept").status_code == 200
    assert post(g, f"/alarms/{alarm.pk}/arrive").json()["state"] == "on_scene"
    assert post(g, f"/alarms/{alarm.pk}/false-alarm", {"reason": ""}).status_code == 422
    assert post(g, f"/alarms/{alarm.pk}/resolve", {"note": "ok"}).json()["state"] == "resolved"
    assert post(g, f"/alarms/{alarm.pk}/notes", {"note": "after"}).status_code == 201
    steps = [s["action"] for s in g.get(f"{API}/alarms/{alarm.pk}").json()["steps"]]
    assert steps == [
        "raised",
        "acknowledged",
        "dispatched",
        "accepted",
        "on_scene",
        "resolved",
        "note",
    ]


def test_false_alarm(world, alarm):
    c = client(world)
    response = post(c, f"/alarms/{alarm.pk}/false-alarm", {"reason": "cooking"})
    assert response.json()["state"] == "false_alarm"
    assert response.json()["close_reason"] == "cooking"


def test_other_community_and_roles(world, alarm):
    b = client(world, "community_admin", "b")
    assert b.get(f"{API}/alarms/{alarm.pk}").status_code == 404
    assert post(b, f"/alarms/{alarm.pk}/acknowledge").status_code == 404
    supervisor = client(world, "supervisor")
    assert supervisor.get(f"{API}/alarms/{alarm.pk}").status_code == 200
    assert post(supervisor, f"/alarms/{alarm.pk}/acknowledge").status_code == 403
    resident = client(world, "resident")
    assert resident.get(f"{API}/alarms/{alarm.pk}").status_code == 404


def test_manual_raise(world):
    c = client(world)
    body = {
        "community_id": world.a.community.pk,
        "priority": 2,
        "title": "Fight at the gate",
        "zone_id": world.a.zone.pk,
    }
    response = post(c, "/alarms", body)
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Fight at the gate"
    assert response.json()["rule"] is None
    assert post(client(world, "operator", "b"), "/alarms", body).status_code == 404


def test_photo_upload(world, alarm, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, format="PNG")
    c = client(world, "guard")
    response = c.post(
        f"{API}/alarms/{alarm.pk}/photos",
        {"image": SimpleUploadedFile("scene.png", buffer.getvalue(), "image/png")},
    )
    assert response.status_code == 201, response.content
    assert response.json()["url"].startswith("/media/alarms/")
    bad = c.post(f"{API}/alarms/{alarm.pk}/photos", {"image": SimpleUploadedFile("x.png", b"nope")})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["image"]
    photos = c.get(f"{API}/alarms/{alarm.pk}").json()["photos"]
    assert len(photos) == 1


def test_stats_and_export(world, alarm):
    c = client(world)
    post(c, f"/alarms/{alarm.pk}/false-alarm", {"reason": "dust"})
    stats = c.get(f"{API}/alarms/stats").json()
    assert stats["total"] == 1
    assert stats["false"] == 1
    assert stats["by_priority"] == {"P1": 1, "P2": 0, "P3": 0, "P4": 0}
    assert stats["false_by_device"][0]["rate"] == 1.0
    response = c.get(f"{API}/alarms/export?format=csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Number,Raised at,Priority,State,Title")
    assert "Smoke at sensor smoke-1" in text
    assert "dust" in text
    xlsx = c.get(f"{API}/alarms/export?format=xlsx")
    assert xlsx.content.startswith(b"PK")
    b = client(world, "community_admin", "b")
    assert b.get(f"{API}/alarms/export?community_id={world.a.community.pk}").status_code == 404
    assert b.get(f"{API}/alarms/stats?community_id={world.a.community.pk}").status_code == 404


def test_response_times(world):
    url = f"{API}/communities/{world.a.community.pk}/response-times"
    admin = client(world, "community_admin")
    values = admin.get(url).json()
    assert values[0] == {
        "priority": 1,
        "acknowledge_seconds": 15,
        "on_scene_seconds": 300,
        "raise_priority": False,
        "is_default": True,
        "by_next_shift": False,
    }
    assert values[3]["by_next_shift"] is True
    body = [{"priority": 4, "acknowledge_seconds": 3600, "on_scene_seconds": 7200}]
    response = admin.put(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()[3]["acknowledge_seconds"] == 3600
    assert response.json()[3]["is_default"] is False
    assert response.json()[3]["by_next_shift"] is False
    operator = client(world)
    assert operator.get(url).status_code == 200
    assert operator.put(url, body, content_type="application/json").status_code == 403
    other = client(world, "community_admin", "b")
    assert other.get(url).status_code == 404
    assert other.put(url, body, content_type="application/json").status_code == 404

"""Tests of the hazards API: report with a photo, the workflow as POSTs, scoping, errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from anwang.hazards.models import Hazard
from anwang.hazards.tests.support import LAT, LON, advance, jpeg, report, upload

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """Errors in English, so messages are asserted on their source text."""
    settings.LANGUAGE_CODE = "en"


def _report(client: Client, world: Any, **fields: Any) -> Any:
    data: dict[str, Any] = {
        "community_id": world.a.community.pk,
        "category": "broken_light",
        "latitude": LAT,
        "longitude": LON,
        "description": "灯坏了",
    }
    data.update(fields)
    return client.post(f"{API}/hazards", {k: v for k, v in data.items() if v is not None})


def test_report_with_photo_and_follow_the_status(world: Any) -> None:
    """A resident files a report with a photo (multipart) and reads it back, with a timeline."""
    client = world.client_for("resident")
    response = _report(client, world, photo=upload("x.jpg", jpeg(gps=True)), anonymous="true")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "reported"
    assert body["mine"] is True
    assert body["anonymous"] is True
    assert body["photo_url"]
    assert [step["action"] for step in body["steps"]] == ["report"]
    assert client.get(body["photo_url"]).status_code == 200
    mine = client.get(f"{API}/hazards/mine").json()
    assert [item["id"] for item in mine["items"]] == [body["id"]]
    staff = world.client_for("community_admin").get(f"{API}/hazards/{body['id']}").json()
    assert staff["reporter"] is None  # anonymous to staff


def test_report_errors_name_the_field(world: Any) -> None:
    """Bad input is 400 with the field; a spoofed photo is refused by content."""
    client = world.client_for("resident")
    response = _report(client, world, photo=upload("x.jpg", b"GIF89a not really"))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": ["photo"], "msg": "Upload a photo (JPEG, PNG or WebP)."}
    ]
    response = _report(client, world, latitude=None, longitude=None)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["location"]
    response = _report(client, world, community_id=world.b.community.pk)
    assert response.status_code == 404
    assert not Hazard.objects.exists()


def test_workflow_through_the_api(world: Any) -> None:
    """Triage, assign, rectify (multipart), verify by someone else, close; the points land."""
    hazard = report(world)
    admin = world.client_for("community_admin")
    url = f"{API}/hazards/{hazard.pk}"
    response = admin.post(
        f"{url}/triage", {"severity": "critical"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["severity"] == "critical"
    guard = world.user("guard")
    response = admin.post(
        f"{url}/assign", {"assignee_id": guard.pk}, content_type="application/json"
    )
    assert response.json()["assignee"]["id"] == guard.pk
    guard_client = world.client_for("guard")
    response = guard_client.post(f"{url}/rectify", {"note": "ok"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["after_photo"]
    response = guard_client.post(f"{url}/rectify", {"note": "ok", "after_photo": upload()})
    assert response.status_code == 200
    assert response.json()["after_photo_url"]
    grid = world.client_for("grid_worker")
    response = grid.post(f"{url}/verify", {"passed": True}, content_type="application/json")
    assert response.json()["status"] == "verified"
    response = admin.post(f"{url}/close", {}, content_type="application/json")
    assert response.json()["status"] == "closed"
    points = world.client_for("resident").get(f"{API}/hazards/{hazard.pk}").json()
    assert points["status"] == "closed"


def test_the_rectifier_verifying_is_a_conflict(world: Any) -> None:
    """409 ``same_person`` when whoever rectified tries to verify."""
    hazard = advance(world, report(world), "assigned")
    admin = world.client_for("community_admin")
    url = f"{API}/hazards/{hazard.pk}"
    admin.post(f"{url}/rectify", {"after_photo": upload()})
    response = admin.post(f"{url}/verify", {"passed": True}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "same_person"


def test_wrong_status_and_permissions(world: Any) -> None:
    """Closing a new report is 409; a guard triaging is 403; another community 404."""
    hazard = report(world)
    url = f"{API}/hazards/{hazard.pk}"
    admin = world.client_for("community_admin")
    assert admin.post(f"{url}/close", {}, content_type="application/json").status_code == 409
    guard = world.client_for("guard")
    response = guard.post(f"{url}/triage", {"severity": "low"}, content_type="application/json")
    assert response.status_code == 403
    other = world.client_for("community_admin", "b")
    assert other.get(url).status_code == 404
    assert (
        other.post(f"{url}/reject", {"reason": "x"}, content_type="application/json").status_code
        == 404
    )


def test_list_filters_nearby_follow_and_statistics(world: Any) -> None:
    """Staff filter the list; a member sees nearby open reports and follows one."""
    light = report(world)
    report(world, category="other", address="B1")
    admin = world.client_for("community_admin")
    items = admin.get(f"{API}/hazards", {"category": "broken_light"}).json()["items"]
    assert [item["id"] for item in items] == [light.pk]
    assert world.client_for("resident").get(f"{API}/hazards").json()["items"] == []
    volunteer = world.client_for("volunteer")
    nearby = volunteer.get(
        f"{API}/hazards/nearby",
        {
            "community_id": world.a.community.pk,
            "category": "broken_light",
            "latitude": LAT,
            "longitude": LON,
        },
    ).json()
    assert [item["id"] for item in nearby] == [light.pk]
    assert nearby[0]["reporter"] is None
    assert volunteer.post(f"{API}/hazards/{light.pk}/follow").status_code == 200
    response = volunteer.post(f"{API}/hazards/{light.pk}/comments", {"note": "还没修"})
    assert response.status_code == 201
    assert response.json()["steps"][-1]["note"] == "还没修"
    stats = admin.get(f"{API}/hazards/statistics", {"community_id": world.a.community.pk})
    body = stats.json()
    assert body["total"] == 2
    assert {group["key"] for group in body["by_category"]} == {"broken_light", "other"}


def test_openapi_lists_the_hazard_paths(world: Any) -> None:
    """Every capability appears in the API's description."""
    spec = Client().get(reverse("api:openapi-json")).json()
    paths = set(spec["paths"])
    for path in (
        "/api/v1/hazards",
        "/api/v1/hazards/{hazard_id}",
        "/api/v1/hazards/{hazard_id}/triage",
        "/api/v1/hazards/{hazard_id}/assign",
        "/api/v1/hazards/{hazard_id}/rectify",
        "/api/v1/hazards/{hazard_id}/verify",
        "/api/v1/hazards/{hazard_id}/close",
        "/api/v1/hazards/{hazard_id}/reject",
        "/api/v1/hazards/statistics",
    ):
        assert path in paths


def test_list_query_count_does_not_grow(world: Any, django_assert_max_num_queries: Any) -> None:
    """The API list costs a fixed number of queries, however many reports."""
    for _ in range(12):
        advance(world, report(world, building=world.a.building), "assigned")
    client = world.client_for("community_admin")
    client.get(f"{API}/hazards")
    with django_assert_max_num_queries(12):
        response = client.get(f"{API}/hazards")
    assert response.json()["count"] == 12
    resident = world.client_for("resident")
    with django_assert_max_num_queries(12):
        assert resident.get(f"{API}/hazards/mine").json()["count"] == 12

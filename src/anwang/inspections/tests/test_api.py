"""The inspections API: checklists, plans CRUD, due list, start and submit, records."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.hazards.models import Hazard
from anwang.inspections.models import InspectionPlan
from anwang.inspections.tests.support import Setup, inspect

pytestmark = pytest.mark.django_db
API = "/api/v1/inspections"


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def _client(setup: Setup, role: str = "guard", side: str = "a") -> Client:
    return setup.world.client_for(role, side)  # type: ignore[no-any-return]


def test_start_and_submit_with_a_failed_item(setup: Setup) -> None:
    client = _client(setup)
    due = client.get(f"{API}/due").json()
    assert [row["asset_code"] for row in due] == ["MHQ-1", "MHQ-2"]
    started = client.post(
        f"{API}/plans/{setup.plan.pk}/start",
        {"asset_id": setup.ext1.pk},
        content_type="application/json",
    )
    assert started.status_code == 201
    body = started.json()
    items = body["items"]
    results = [{"item_id": item["id"], "outcome": "pass"} for item in items]
    results[0] = {"item_id": items[0]["id"], "outcome": "fail", "note": "封条断了"}
    submitted = client.post(
        f"{API}/records/{body['id']}/submit",
        {"results": results},
        content_type="application/json",
    )
    assert submitted.status_code == 200, submitted.content
    data = submitted.json()
    assert data["passed"] is False
    hazard_ids = [r["hazard_id"] for r in data["results"] if r["hazard_id"]]
    assert hazard_ids == [Hazard.objects.get().pk]
    again = client.post(
        f"{API}/records/{body['id']}/submit",
        {"results": results},
        content_type="application/json",
    )
    assert again.status_code == 409
    assert Hazard.objects.count() == 1
    assert [row["asset_code"] for row in client.get(f"{API}/due").json()] == ["MHQ-2"]
    records = client.get(f"{API}/records").json()
    assert records["count"] == 1
    assert client.get(f"{API}/records/{body['id']}").status_code == 200


def test_submit_errors_name_the_item(setup: Setup) -> None:
    client = _client(setup)
    body = client.post(
        f"{API}/plans/{setup.plan.pk}/start",
        {"asset_id": setup.ext1.pk},
        content_type="application/json",
    ).json()
    response = client.post(
        f"{API}/records/{body['id']}/submit",
        {"results": [{"item_id": body["items"][0]["id"], "outcome": "pass"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "missing" in response.content.decode()


def test_scoping(setup: Setup) -> None:
    record = inspect(setup)
    outsider = _client(setup, "guard", "b")
    assert outsider.get(f"{API}/records/{record.pk}").status_code == 404
    assert outsider.get(f"{API}/plans/{setup.plan.pk}").status_code == 404
    assert (
        outsider.post(
            f"{API}/plans/{setup.plan.pk}/start",
            {"asset_id": setup.ext1.pk},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert outsider.get(f"{API}/due").json() == []
    assert _client(setup, "resident").get(f"{API}/records/{record.pk}").status_code == 404
    operator = _client(setup, "operator")
    assert (
        operator.post(
            f"{API}/plans/{setup.plan.pk}/start",
            {"asset_id": setup.ext1.pk},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert Client().get(f"{API}/due").status_code == 401


def test_plan_crud(setup: Setup) -> None:
    client = _client(setup, "community_admin")
    checklist_id = setup.plan.checklist_id
    payload = {
        "community_id": setup.community.pk,
        "name": "每周灭火器",
        "checklist_id": checklist_id,
        "rrule": "FREQ=WEEKLY;BYDAY=MO",
        "first_start": timezone.now().isoformat(),
        "asset_ids": [setup.ext2.pk],
        "assignee_ids": [setup.world.user("guard").pk],
    }
    created = client.post(f"{API}/plans", payload, content_type="application/json")
    assert created.status_code == 201, created.content
    plan_id = created.json()["id"]
    assert created.json()["asset_ids"] == [setup.ext2.pk]
    listed = client.get(f"{API}/plans").json()
    assert {row["id"] for row in listed["items"]} == {plan_id, setup.plan.pk}
    payload["rrule"] = "FREQ=YEARLY"
    bad = client.put(f"{API}/plans/{plan_id}", payload, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["rrule"]
    payload["rrule"] = "FREQ=DAILY"
    assert (
        client.put(f"{API}/plans/{plan_id}", payload, content_type="application/json").json()[
            "rrule"
        ]
        == "FREQ=DAILY"
    )
    guard = _client(setup)
    assert guard.delete(f"{API}/plans/{plan_id}").status_code == 403
    assert client.delete(f"{API}/plans/{plan_id}").status_code == 204
    assert not InspectionPlan.objects.filter(pk=plan_id).exists()


def test_checklists(setup: Setup) -> None:
    client = _client(setup, "community_admin")
    listed = client.get(f"{API}/checklists", {"community_id": setup.community.pk}).json()
    assert {row["asset_type"] for row in listed} >= {"fire_extinguisher", "fire_door"}
    created = client.post(
        f"{API}/checklists",
        {
            "community_id": setup.community.pk,
            "asset_type": "barrier",
            "name": "道闸检查",
            "items": [{"text": "抬杆正常", "hazard_category": "broken_door_or_lock"}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    item = body["items"][0]
    updated = client.put(
        f"{API}/checklists/{body['id']}",
        {
            "name": "道闸月检",
            "items": [
                {"id": item["id"], "text": "抬杆顺畅", "hazard_category": "broken_door_or_lock"},
                {"text": "遥控可用"},
            ],
        },
        content_type="application/json",
    )
    assert updated.status_code == 200
    assert [i["text"] for i in updated.json()["items"]] == ["抬杆顺畅", "遥控可用"]
    guard = _client(setup)
    assert guard.get(f"{API}/checklists/{body['id']}").status_code == 200
    assert (
        guard.put(
            f"{API}/checklists/{body['id']}", {"name": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert _client(setup, "guard", "b").get(f"{API}/checklists/{body['id']}").status_code == 404


def test_default_checklists(setup: Setup) -> None:
    client = setup.world.client_for("community_admin", "b")
    community_id = setup.world.b.community.pk
    created = client.post(
        f"{API}/checklists/defaults",
        {"community_id": community_id},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert len(created.json()) == 5
    again = client.post(
        f"{API}/checklists/defaults",
        {"community_id": community_id},
        content_type="application/json",
    )
    assert again.json() == []
    outsider = setup.world.client_for("community_admin")
    assert (
        outsider.post(
            f"{API}/checklists/defaults",
            {"community_id": community_id},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_statistics(setup: Setup) -> None:
    inspect(setup, fail=1)
    body = (
        _client(setup, "operator")
        .get(f"{API}/statistics", {"community_id": setup.community.pk})
        .json()
    )
    assert body["plans"][0]["done"] == 1
    assert body["items"][0]["failures"] == 1

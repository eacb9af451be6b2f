"""The emergency plans API: listing and starting plans, reading versions, editing drafts as
whole lists, revising, approving, discarding and printing; 404 outside the community, 403 for
readers who may not write."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from anwang.facilities.models import Asset
from anwang.plans.models import PlanVersion

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A JSON request to the API."""
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


STEPS = [
    {"title": "确认火情", "duty_role": "operator", "target_minutes": 2},
    {"title": "疏散", "duty_role": "guard", "target_minutes": 10, "instructions": "走楼梯"},
]


def test_full_lifecycle_through_the_api(world: Any) -> None:
    admin = client(world)
    community = world.a.community.pk
    created = send(
        admin,
        "post",
        f"/communities/{community}/emergency-plans",
        {"incident_type": "fire", "title": "火灾预案"},
    )
    assert created.status_code == 201, created.content
    plan = created.json()
    assert (plan["draft_version"], plan["approved_version"]) == (1, None)
    draft_id = plan["versions"][0]["id"]
    asset = Asset.objects.create(
        community=world.a.community, asset_type="fire_extinguisher", name="灭火器", code="E1"
    )
    patched = send(
        admin,
        "patch",
        f"/plan-versions/{draft_id}",
        {
            "summary": "范围",
            "steps": STEPS,
            "contacts": [{"name": "消防队", "phone": "119"}],
            "resources": [{"asset": asset.pk, "quantity": 3}],
            "evacuation_zones": [world.a.zone.pk],
            "assembly_latitude": 30.5,
            "assembly_longitude": 114.3,
        },
    )
    assert patched.status_code == 200, patched.content
    body = patched.json()
    assert [step["title"] for step in body["steps"]] == ["确认火情", "疏散"]
    assert body["resources"][0]["asset"]["name"] == "灭火器"
    assert body["evacuation_zones"] == [{"id": world.a.zone.pk, "name": "北门"}]
    # Fields left out keep their value; a list given replaces the whole list.
    again = send(admin, "patch", f"/plan-versions/{draft_id}", {"steps": STEPS[1:]}).json()
    assert [step["title"] for step in again["steps"]] == ["疏散"]
    assert again["summary"] == "范围"
    assert len(again["contacts"]) == 1
    approved = send(admin, "post", f"/plan-versions/{draft_id}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == "a_community_admin"
    # An approved version is not edited; a revision is.
    refused = send(admin, "patch", f"/plan-versions/{draft_id}", {"summary": "x"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_draft"
    revised = send(admin, "post", f"/emergency-plans/{plan['id']}/revise", {"change_note": "加人"})
    assert revised.status_code == 201
    assert (revised.json()["number"], revised.json()["based_on"]) == (2, draft_id)
    assert revised.json()["change_note"] == "加人"
    detail = send(admin, "get", f"/emergency-plans/{plan['id']}").json()
    assert [(v["number"], v["status"]) for v in detail["versions"]] == [
        (2, "draft"),
        (1, "approved"),
    ]
    discarded = send(admin, "post", f"/plan-versions/{revised.json()['id']}/discard")
    assert discarded.json()["status"] == "discarded"
    listed = send(admin, "get", f"/communities/{community}/emergency-plans").json()
    assert [(p["incident_type"], p["approved_version"], p["draft_version"]) for p in listed] == [
        ("fire", 1, None)
    ]
    pdf = admin.get(f"{API}/plan-versions/{draft_id}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_errors_use_the_standard_shape(world: Any, fire: Any) -> None:
    plan, _version = fire
    admin = client(world)
    community = world.a.community.pk
    duplicate = send(
        admin,
        "post",
        f"/communities/{community}/emergency-plans",
        {"incident_type": "fire", "title": "又一个"},
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"] == [
        {"loc": ["incident_type"], "msg": duplicate.json()["detail"]}
    ]
    draft = send(admin, "post", f"/emergency-plans/{plan.pk}/revise", {}).json()
    bad = send(
        admin,
        "patch",
        f"/plan-versions/{draft['id']}",
        {"steps": [{"title": " ", "duty_role": "guard", "target_minutes": 1}]},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["steps.0.title"]
    foreign_zone = send(
        admin, "patch", f"/plan-versions/{draft['id']}", {"evacuation_zones": [world.b.zone.pk]}
    )
    assert foreign_zone.status_code == 400
    wrong_version = send(admin, "post", f"/emergency-plans/{plan.pk}/revise", {"version": 999999})
    assert wrong_version.status_code == 400
    no_steps = send(admin, "patch", f"/plan-versions/{draft['id']}", {"steps": []})
    assert no_steps.status_code == 200
    assert send(admin, "post", f"/plan-versions/{draft['id']}/approve").status_code == 400


def test_readers_get_403_on_writes_and_outsiders_404(world: Any, fire: Any) -> None:
    plan, version = fire
    community = world.a.community.pk
    draft_id = PlanVersion.objects.create(plan=plan, number=2).pk
    operator = client(world, "operator")
    assert send(operator, "get", f"/emergency-plans/{plan.pk}").status_code == 200
    assert send(operator, "get", f"/plan-versions/{version.pk}").status_code == 200
    for method, url, body in [
        (
            "post",
            f"/communities/{community}/emergency-plans",
            {"incident_type": "crowd", "title": "x"},
        ),
        ("post", f"/emergency-plans/{plan.pk}/revise", {}),
        ("patch", f"/plan-versions/{draft_id}", {"summary": "x"}),
        ("post", f"/plan-versions/{draft_id}/approve", None),
        ("post", f"/plan-versions/{draft_id}/discard", None),
    ]:
        assert send(operator, method, url, body).status_code == 403, url
    supervisor = client(world, "supervisor")
    assert send(supervisor, "post", f"/plan-versions/{draft_id}/approve").status_code == 403
    for outsider in (client(world, "community_admin", "b"), client(world, "resident")):
        for method, url in [
            ("get", f"/communities/{community}/emergency-plans"),
            ("get", f"/emergency-plans/{plan.pk}"),
            ("get", f"/plan-versions/{version.pk}"),
            ("get", f"/plan-versions/{version.pk}/pdf"),
            ("post", f"/plan-versions/{draft_id}/approve"),
            ("patch", f"/plan-versions/{draft_id}"),
        ]:
            assert send(outsider, method, url).status_code == 404, url


def test_version_read_query_count(
    world: Any, fire: Any, django_assert_max_num_queries: Any
) -> None:
    _plan, version = fire
    admin = client(world)
    admin.get(f"{API}/plan-versions/{version.pk}")  # warm the session and scope
    with django_assert_max_num_queries(14):
        assert admin.get(f"{API}/plan-versions/{version.pk}").status_code == 200

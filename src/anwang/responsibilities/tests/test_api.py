"""The responsibilities API: CRUD with errors in the standard shape, gaps, who answers for
a place at a moment; other communities answer 404 and viewers 403 on writes."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from anwang.responsibilities.models import Responsibility

from .support import at, duty, responsibility

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


def test_crud(world: Any) -> None:
    admin = client(world)
    community = world.a.community.pk
    created = send(
        admin,
        "post",
        f"/communities/{community}/responsibilities",
        {
            "area_kind": "zone",
            "zone": world.a.zone.pk,
            "responsible_role": "guard",
            "deputy_person": world.user("grid_worker").pk,
            "note": "夜间重点",
        },
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["area_name"] == "北门"
    assert data["responsible_role"] == "guard"
    assert data["deputy_person_name"] == "a_grid_worker"
    item_id = data["id"]

    listed = send(admin, "get", f"/communities/{community}/responsibilities")
    assert [row["id"] for row in listed.json()] == [item_id]
    assert send(admin, "get", f"/responsibilities/{item_id}").json()["note"] == "夜间重点"

    patched = send(
        admin,
        "patch",
        f"/responsibilities/{item_id}",
        {"responsible_person": world.user("operator").pk, "deputy_person": None},
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["responsible_person"] == world.user("operator").pk
    assert patched.json()["responsible_role"] == ""
    assert patched.json()["deputy_person"] is None
    assert patched.json()["note"] == "夜间重点"

    assert send(admin, "delete", f"/responsibilities/{item_id}").status_code == 204
    assert not Responsibility.objects.exists()


def test_errors(world: Any) -> None:
    admin = client(world)
    url = f"/communities/{world.a.community.pk}/responsibilities"
    both = send(
        admin,
        "post",
        url,
        {
            "area_kind": "zone",
            "zone": world.a.zone.pk,
            "responsible_role": "guard",
            "responsible_person": world.user("guard").pk,
        },
    )
    assert both.status_code == 400
    assert both.json()["detail"] == "Name a person or a duty role, not both."
    other_zone = send(
        admin,
        "post",
        url,
        {"area_kind": "zone", "zone": world.b.zone.pk, "responsible_role": "guard"},
    )
    assert other_zone.status_code == 400
    assert other_zone.json()["detail"] == "Choose a zone of this community."
    outsider = send(
        admin,
        "post",
        url,
        {
            "area_kind": "zone",
            "zone": world.a.zone.pk,
            "responsible_person": world.user("guard", "b").pk,
        },
    )
    assert outsider.status_code == 400
    assert "b_guard" not in outsider.content.decode()  # an id from elsewhere names nobody
    neither = send(admin, "post", url, {"area_kind": "zone", "zone": world.a.zone.pk})
    assert neither.status_code == 400
    responsibility(world)
    duplicate = send(
        admin,
        "post",
        url,
        {"area_kind": "zone", "zone": world.a.zone.pk, "responsible_role": "guard"},
    )
    assert duplicate.status_code == 409
    assert "already answers for" in duplicate.json()["detail"]
    assert Responsibility.objects.count() == 1


@pytest.mark.parametrize("role", ["operator", "guard", "grid_worker"])
def test_viewers_read_but_get_403_on_writes(world: Any, role: str) -> None:
    item = responsibility(world)
    c = client(world, role)
    community = world.a.community.pk
    assert send(c, "get", f"/communities/{community}/responsibilities").status_code == 200
    assert send(c, "get", f"/responsibilities/{item.pk}").status_code == 200
    assert send(c, "get", f"/communities/{community}/responsibility-gaps").status_code == 200
    assert send(c, "get", f"/communities/{community}/responsible").status_code == 200
    created = send(
        c,
        "post",
        f"/communities/{community}/responsibilities",
        {"area_kind": "building", "building": world.a.building.pk, "responsible_role": "guard"},
    )
    assert created.status_code == 403
    assert send(c, "patch", f"/responsibilities/{item.pk}", {"note": "x"}).status_code == 403
    assert send(c, "delete", f"/responsibilities/{item.pk}").status_code == 403


@pytest.mark.parametrize(("role", "side"), [("resident", "a"), ("community_admin", "b")])
def test_others_get_404(world: Any, role: str, side: str) -> None:
    item = responsibility(world)
    c = client(world, role, side)
    community = world.a.community.pk
    for url in (
        f"/communities/{community}/responsibilities",
        f"/responsibilities/{item.pk}",
        f"/communities/{community}/responsibility-gaps",
        f"/communities/{community}/responsible?zone_id={world.a.zone.pk}",
    ):
        assert send(c, "get", url).status_code == 404, url
    assert send(c, "patch", f"/responsibilities/{item.pk}", {"note": "x"}).status_code == 404
    assert send(c, "delete", f"/responsibilities/{item.pk}").status_code == 404


def test_gaps_and_who_answers(world: Any) -> None:
    duty(world, user="guard", start=at(1, 8))
    responsibility(world, responsible_role="guard", deputy_person=world.user("grid_worker"))
    c = client(world, "operator")
    community = world.a.community.pk
    gaps = send(c, "get", f"/communities/{community}/responsibility-gaps").json()
    assert {(gap["area_kind"], gap["reason"]) for gap in gaps} >= {("building", "unassigned")}
    url = f"/communities/{community}/responsible?zone_id={world.a.zone.pk}&at="
    day = send(c, "get", url + quote(at(3, 9).isoformat())).json()
    assert [person["name"] for person in day["people"]] == ["a_guard", "a_grid_worker"]
    night = send(c, "get", url + quote(at(3, 22).isoformat())).json()
    assert [person["name"] for person in night["people"]] == ["a_grid_worker"]
    naive = send(c, "get", f"/communities/{community}/responsible?at=2026-03-03T09:00:00")
    assert naive.status_code == 400

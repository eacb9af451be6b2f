"""The points API: ledger, balance, leaderboard, rules, reversal, adjustment; scoping."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.participation import services
from anwang.participation.choices import PointSource
from anwang.participation.models import PointEntry

pytestmark = pytest.mark.django_db

API = "/api/v1/participation/points"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def award(world: Any, key: str, user: Any = None, side: str = "a") -> Any:
    return services.points_award(
        community=getattr(world, side).community,
        user=user or world.user("resident", side),
        source_kind=PointSource.HAZARD_VERIFIED,
        source_key=key,
        occurred_at=timezone.now() - dt.timedelta(minutes=5),
    )


def test_ledger_and_balance(world, django_assert_max_num_queries):
    for number in range(15):
        award(world, f"hazard:{number}", user=world.user("guard"))
    entry = award(world, "hazard:x")
    award(world, "hazard:y", side="b")
    c = client(world)
    with django_assert_max_num_queries(8):
        response = c.get(f"{API}/entries?community_id={world.a.community.pk}")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 16
    assert {item["community"] for item in data["items"]} == {world.a.community.pk}
    mine = client(world, "resident").get(f"{API}/entries").json()
    assert [item["id"] for item in mine["items"]] == [entry.pk]
    balance = client(world, "resident").get(f"{API}/balance").json()
    assert balance == [
        {
            "community": world.a.community.pk,
            "user": world.user("resident").pk,
            "total": 20,
            "by_source": {"hazard_verified": 20},
        }
    ]
    other = c.get(f"{API}/balance?user_id={world.user('resident').pk}").json()
    assert other[0]["total"] == 20
    assert (
        client(world, "community_admin", "b")
        .get(f"{API}/balance?user_id={world.user('resident').pk}")
        .json()
        == []
    )
    assert client(world, "resident").get(f"{API}/entries/{entry.pk}").status_code == 200
    assert client(world, "guard").get(f"{API}/entries/{entry.pk}").status_code == 404


def test_reverse_and_adjust(world):
    entry = award(world, "hazard:1")
    c = client(world)
    response = send(c, "post", f"/entries/{entry.pk}/reverse", {"reason": ""})
    assert response.status_code == 400
    assert "Give a reason." in response.text
    assert (
        send(
            client(world, "grid_worker"), "post", f"/entries/{entry.pk}/reverse", {"reason": "x"}
        ).status_code
        == 403
    )
    assert (
        send(
            client(world, "community_admin", "b"),
            "post",
            f"/entries/{entry.pk}/reverse",
            {"reason": "x"},
        ).status_code
        == 404
    )
    response = send(c, "post", f"/entries/{entry.pk}/reverse", {"reason": "duplicate"})
    assert response.status_code == 201, response.content
    assert response.json()["points"] == -20
    assert response.json()["reverses"] == entry.pk
    again = send(c, "post", f"/entries/{entry.pk}/reverse", {"reason": "duplicate"})
    assert again.status_code == 409
    assert c.get(f"{API}/entries/{entry.pk}").json()["reversed_by"] == response.json()["id"]
    body = {
        "community": world.a.community.pk,
        "user": world.user("resident").pk,
        "points": 5,
        "reason": "helped at the fair",
    }
    response = send(c, "post", "/adjustments", body)
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "adjustment"
    assert (
        send(c, "post", "/adjustments", body | {"user": world.user("resident", "b").pk}).status_code
        == 400
    )
    assert send(client(world, "supervisor"), "post", "/adjustments", body).status_code == 403
    assert (
        send(client(world, "community_admin", "b"), "post", "/adjustments", body).status_code == 404
    )


def test_rules_and_leaderboard(world):
    c = client(world)
    rules = c.get(f"{API}/rules?community_id={world.a.community.pk}").json()
    assert len(rules) == len(PointSource.values)
    assert all(not rule["stored"] for rule in rules)
    body = {
        "community": world.a.community.pk,
        "source_kind": "hazard_verified",
        "points_per_unit": 3,
        "daily_cap": 6,
        "is_active": True,
    }
    response = send(c, "put", "/rules", body)
    assert response.status_code == 200, response.content
    assert response.json()["stored"] is True
    for number in range(3):
        award(world, f"hazard:{number}")
    assert PointEntry.objects.filter(points=0, capped_points=3).count() == 1
    assert send(client(world, "grid_worker"), "put", "/rules", body).status_code == 403
    assert send(client(world, "resident"), "put", "/rules", body).status_code == 404
    board = c.get(f"{API}/leaderboard?community_id={world.a.community.pk}").json()
    assert board == [
        {"rank": 1, "user": world.user("resident").pk, "name": "a_resident", "points": 6}
    ]
    assert (
        client(world, "resident")
        .get(f"{API}/leaderboard?community_id={world.a.community.pk}")
        .status_code
        == 404
    )
    assert (
        client(world, "community_admin", "b")
        .get(f"{API}/rules?community_id={world.a.community.pk}")
        .status_code
        == 404
    )

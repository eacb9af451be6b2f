"""The volunteers API: apply and decide, teams, shifts with sign-up and attendance, hours,
the certificate; scoping and query counts."""

from typing import Any

import pytest
from django.test import Client

from anwang.participation.models import PointEntry
from anwang.volunteers import services
from anwang.volunteers.models import Shift, Team, Volunteer
from anwang.volunteers.tests.conftest import make_shift, make_volunteer

pytestmark = pytest.mark.django_db

API = "/api/v1/volunteers"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def test_apply_and_decide(world, clock):
    resident = client(world, "resident")
    body = {
        "community": world.a.community.pk,
        "skills": ["first_aid", "languages"],
        "languages": "English",
        "availability": ["sat:morning"],
    }
    response = send(resident, "post", "/applications", body)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "applied"
    assert send(resident, "post", "/applications", body).status_code == 409
    bad = send(resident, "post", "/applications", body | {"community": world.b.community.pk})
    assert bad.status_code == 404
    assert (
        send(client(world, "community_admin", "b"), "post", "/applications", body).status_code
        == 404
    )
    admin = client(world)
    assert (
        send(client(world, "grid_worker"), "post", f"/applications/{pk}/approve").status_code == 403
    )
    assert (
        send(
            client(world, "community_admin", "b"), "post", f"/applications/{pk}/approve"
        ).status_code
        == 404
    )
    response = send(admin, "post", f"/applications/{pk}/refuse", {"reason": ""})
    assert response.status_code == 400
    response = send(admin, "post", f"/applications/{pk}/approve")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    response = send(resident, "patch", f"/applications/{pk}", {"availability": ["sun:evening"]})
    assert response.json()["availability"] == ["sun:evening"]
    assert send(client(world, "guard"), "get", f"/applications/{pk}").status_code == 404
    response = send(admin, "post", f"/applications/{pk}/suspend", {"reason": "Absent"})
    assert response.json()["status_reason"] == "Absent"
    response = send(resident, "post", f"/applications/{pk}/withdraw", {})
    assert response.json()["status"] == "withdrawn"


def test_lists_are_scoped_with_few_queries(world, clock, django_assert_max_num_queries):
    for number in range(12):
        make_shift(world, title=f"班次{number}", in_hours=number * 4 + 1)
    make_shift(world, "b", title="b-only")
    make_volunteer(world)
    make_volunteer(world, "resident")
    c = client(world)
    with django_assert_max_num_queries(10):
        shifts = c.get(f"{API}/shifts").json()
    assert shifts["count"] == 12
    assert "b-only" not in str(shifts)
    with django_assert_max_num_queries(10):
        volunteers = c.get(f"{API}/applications").json()
    assert volunteers["count"] == 2
    assert client(world, "community_admin", "b").get(f"{API}/applications").json()["count"] == 0
    assert client(world, "volunteer").get(f"{API}/shifts").json()["count"] == 12
    assert client(world, "guard").get(f"{API}/shifts").json()["count"] == 0


def test_shift_sign_up_attendance_and_hours(world, clock):
    volunteer = make_volunteer(world)
    admin = client(world)
    body = {
        "community": world.a.community.pk,
        "title": "夜巡",
        "starts_at": clock.now.replace(hour=8, minute=20).isoformat(),
        "ends_at": clock.now.replace(hour=10, minute=20).isoformat(),
        "capacity": 1,
        "zone": world.a.zone.pk,
    }
    response = send(admin, "post", "/shifts", body)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert send(admin, "post", "/shifts", body | {"zone": world.b.zone.pk}).status_code == 404
    assert send(admin, "post", "/shifts", body | {"capacity": 0}).status_code in (400, 422)
    me = client(world, "volunteer")
    response = send(me, "post", f"/shifts/{pk}/signup")
    assert response.status_code == 201, response.content
    other = make_volunteer(world, "resident")
    full = send(client(world, "resident"), "post", f"/shifts/{pk}/signup")
    assert full.status_code == 409
    assert "full" in full.json()["detail"] or "full" in full.text
    assert other.pk
    response = send(me, "post", f"/shifts/{pk}/check-in", {})
    assert response.status_code == 200, response.content
    assert response.json()["checked_in_at"]
    clock.advance(hours=1)
    response = send(me, "post", f"/shifts/{pk}/check-out", {})
    assert response.status_code == 200, response.content
    assert response.json()["hours"] == "0.67"  # 08:20-09:00 within the shift: 40 minutes
    assert PointEntry.objects.get(user=volunteer.user).points == 7
    response = send(
        admin,
        "post",
        f"/shifts/{pk}/hours",
        {"volunteer": volunteer.pk, "hours": "1.5", "reason": "Stayed longer"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["hours"] == "0.83"
    roster = admin.get(f"{API}/shifts/{pk}/roster").json()
    assert roster[0]["hours"] == "1.50"
    hours = me.get(f"{API}/hours?mine=true").json()
    assert hours["count"] == 2
    assert me.get(f"{API}/my-shifts?upcoming=false").json()["items"][0]["shift"] == pk
    pdf = me.get(f"{API}/applications/{volunteer.pk}/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert (
        client(world, "resident")
        .get(f"{API}/applications/{volunteer.pk}/certificate.pdf")
        .status_code
        == 404
    )
    # Others' attendance: the resident is not the team leader.
    assert (
        send(
            client(world, "grid_worker"),
            "post",
            f"/shifts/{pk}/check-in",
            {"volunteer": volunteer.pk},
        ).status_code
        == 403
    )


def test_teams_and_shift_edits(world, clock):
    leader = make_volunteer(world)
    admin = client(world)
    response = send(
        admin,
        "post",
        "/teams",
        {"community": world.a.community.pk, "name": "一队", "leader": leader.pk},
    )
    assert response.status_code == 201, response.content
    team_id = response.json()["id"]
    assert response.json()["members"] == [leader.pk]
    other = make_volunteer(world, "resident")
    response = send(admin, "patch", f"/teams/{team_id}", {"members": [other.pk]})
    assert sorted(response.json()["members"]) == sorted([leader.pk, other.pk])
    assert client(world, "volunteer").get(f"{API}/teams/{team_id}").status_code == 200
    assert client(world, "community_admin", "b").get(f"{API}/teams/{team_id}").status_code == 404
    shift = make_shift(world)
    response = send(admin, "patch", f"/shifts/{shift.pk}", {"team": team_id, "capacity": 2})
    assert response.status_code == 200, response.content
    assert response.json()["team"] == team_id
    response = send(admin, "post", f"/shifts/{shift.pk}/cancel", {"reason": "Storm"})
    assert response.json()["cancel_reason"] == "Storm"
    assert send(admin, "delete", f"/teams/{team_id}").status_code == 204
    assert not Team.objects.exists()
    assert Shift.objects.get(pk=shift.pk).team is None
    assert Volunteer.objects.count() == 2
    assert services  # the services module is what the API calls

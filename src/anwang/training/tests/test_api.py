"""The training API: courses, sessions, attendance by hand and by code, completion,
certificates with their windows, a person's status, drills and findings; scoping and queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.training import services
from anwang.training.models import Attendance, Certificate
from anwang.training.tests.conftest import make_course, make_session

pytestmark = pytest.mark.django_db

API = "/api/v1/training"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def test_course_and_session_flow(world: Any) -> None:
    c = client(world)
    body = {
        "community": world.a.community.pk,
        "title": "消防安全",
        "topic": "fire_safety",
        "validity_months": 12,
        "required_for_roles": ["guard"],
    }
    response = send(c, "post", "/courses", body)
    assert response.status_code == 201, response.content
    course = response.json()
    assert course["required_for_roles"] == ["guard"]
    response = send(c, "post", "/courses", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["title"]
    response = send(c, "patch", f"/courses/{course['id']}", {"description": "每年一次"})
    assert response.json()["description"] == "每年一次"

    start = timezone.now() - dt.timedelta(minutes=30)
    response = send(
        c,
        "post",
        "/sessions",
        {
            "course": course["id"],
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "zone": world.a.zone.pk,
            "trainer_name": "王教官",
        },
    )
    assert response.status_code == 201, response.content
    session = response.json()
    code = send(c, "get", f"/sessions/{session['id']}/attendance-code").json()
    assert code["url"].endswith(f"/training/check-in/?t={code['token']}")

    guard = client(world, "guard")
    response = send(guard, "post", "/check-in", {"token": code["token"]})
    assert response.status_code == 201, response.content
    assert response.json()["course_title"] == "消防安全"
    response = send(guard, "post", "/check-in", {"token": code["token"]})
    assert response.status_code == 200
    assert response.json()["created"] is False
    response = send(client(world, "guard", "b"), "post", "/check-in", {"token": code["token"]})
    assert response.status_code == 400
    assert response.json()["code"] == "other_community"
    response = send(guard, "post", "/check-in", {"token": code["token"][:-2] + "xx"})
    assert response.json()["code"] == "forged"
    # Guards may not see the code nor the roster.
    assert send(guard, "get", f"/sessions/{session['id']}/attendance-code").status_code == 404

    volunteer = world.user("volunteer")
    response = send(
        c, "post", f"/sessions/{session['id']}/attendance", {"user": volunteer.pk, "passed": False}
    )
    assert response.status_code == 201
    roster = send(c, "get", f"/sessions/{session['id']}/attendance").json()
    assert [row["user"]["username"] for row in roster] == ["a_guard", "a_volunteer"]
    issued = send(c, "post", f"/sessions/{session['id']}/complete", {}).json()
    assert [row["user"]["username"] for row in issued] == ["a_guard"]
    assert issued[0]["state"] == "current"
    assert send(c, "post", f"/sessions/{session['id']}/complete", {}).json() == []

    mine = send(guard, "get", "/my/status").json()
    assert mine[0]["rows"][0]["state"] == "current"
    assert send(guard, "get", "/my/attendance").json()["count"] == 1
    guard_id = world.user("guard").pk
    status = send(c, "get", f"/people/{guard_id}/status?community_id={world.a.community.pk}").json()
    assert status["rows"][0]["certificate"] == issued[0]["id"]
    assert send(guard, "get", f"/certificates/{issued[0]['id']}/pdf").status_code == 200


def test_certificates_filters_and_revoke(world: Any) -> None:
    course = make_course(world.a, validity_months=12)
    today = timezone.localdate()
    guard, volunteer = world.user("guard"), world.user("volunteer")
    soon = services.certificate_issue(
        actor=None, course=course, user=guard, issued_on=today - dt.timedelta(days=350)
    )
    lapsed = services.certificate_issue(
        actor=None, course=course, user=volunteer, issued_on=today - dt.timedelta(days=400)
    )
    c = client(world)
    ids = [row["id"] for row in send(c, "get", "/certificates?state=expiring").json()["items"]]
    assert ids == [soon.pk]
    ids = [row["id"] for row in send(c, "get", "/certificates?state=lapsed").json()["items"]]
    assert ids == [lapsed.pk]
    wide = send(c, "get", "/certificates?state=expiring&within_days=5").json()["items"]
    assert wide == []
    response = send(
        c, "post", "/certificates", {"course": course.pk, "user": world.user("guard", "b").pk}
    )
    assert response.status_code == 404
    response = send(c, "post", f"/certificates/{lapsed.pk}/revoke", {"reason": "x"})
    assert response.json()["state"] == "revoked"
    assert send(c, "post", f"/certificates/{lapsed.pk}/revoke", {}).status_code == 409
    # The guard sees only their own; the supervisor may look but not revoke.
    guard_ids = [
        r["id"] for r in send(client(world, "guard"), "get", "/certificates").json()["items"]
    ]
    assert guard_ids == [soon.pk]
    supervisor = client(world, "supervisor")
    assert send(supervisor, "post", f"/certificates/{soon.pk}/revoke", {}).status_code == 403
    assert (
        send(client(world, "community_admin", "b"), "get", f"/certificates/{soon.pk}").status_code
        == 404
    )


def test_drills_and_findings(world: Any) -> None:
    c = client(world)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    response = send(
        c,
        "post",
        "/drills",
        {
            "community": world.a.community.pk,
            "kind": "fire_evacuation",
            "title": "消防疏散演练",
            "planned_at": start.isoformat(),
            "resident_count": 35,
        },
    )
    assert response.status_code == 201, response.content
    drill = response.json()
    patch = {
        "started_at": start.isoformat(),
        "alarm_raised_at": (start + dt.timedelta(minutes=1)).isoformat(),
        "evacuation_complete_at": (start + dt.timedelta(minutes=4)).isoformat(),
        "headcount_done_at": (start + dt.timedelta(minutes=6)).isoformat(),
        "ended_at": (start + dt.timedelta(minutes=20)).isoformat(),
        "status": "held",
    }
    updated = send(c, "patch", f"/drills/{drill['id']}", patch).json()
    assert updated["evacuation_seconds"] == 180
    assert updated["headcount_seconds"] == 300
    bad = send(c, "patch", f"/drills/{drill['id']}", {"ended_at": start.isoformat()})
    assert bad.status_code == 400
    people = [world.user("guard").pk, world.user("volunteer").pk]
    response = send(c, "put", f"/drills/{drill['id']}/participants", {"users": people})
    assert len(response.json()) == 2
    response = send(
        c, "put", f"/drills/{drill['id']}/participants", {"users": [world.user("guard", "b").pk]}
    )
    assert response.status_code == 400
    response = send(
        c,
        "post",
        f"/drills/{drill['id']}/findings",
        {"text": "楼道应急灯不亮", "severity": "high", "owner": world.user("guard").pk},
    )
    assert response.status_code == 201
    finding = response.json()
    closed = send(c, "patch", f"/findings/{finding['id']}", {"closed": True}).json()
    assert closed["closed_at"] is not None
    assert send(c, "get", f"/drills/{drill['id']}").json()["participant_count"] == 2
    other = client(world, "community_admin", "b")
    assert send(other, "get", f"/drills/{drill['id']}").status_code == 404
    assert send(other, "patch", f"/findings/{finding['id']}", {"closed": False}).status_code == 404


def test_attendance_edits(world: Any) -> None:
    session = make_session(make_course(world.a))
    result = services.attendance_record(actor=None, session=session, user=world.user("guard"))
    c = client(world)
    response = send(c, "patch", f"/attendance/{result.attendance.pk}", {"passed": True})
    assert response.json()["passed"] is True
    other = client(world, "community_admin", "b")
    assert send(other, "delete", f"/attendance/{result.attendance.pk}").status_code == 404
    assert send(c, "delete", f"/attendance/{result.attendance.pk}").status_code == 204
    assert not Attendance.objects.exists()


def test_list_query_counts(world: Any, django_assert_max_num_queries: Any) -> None:
    courses = [make_course(world.a, f"课程{n}") for n in range(10)]
    for course in courses:
        session = make_session(course)
        for role in ("guard", "volunteer", "operator"):
            services.attendance_record(actor=None, session=session, user=world.user(role))
        services.session_complete(actor=None, session=session)
    assert Certificate.objects.count() == 30
    c = client(world)
    for url, count in (
        ("/courses", 10),
        ("/sessions", 10),
        ("/certificates", 30),
    ):
        with django_assert_max_num_queries(10):
            response = send(c, "get", url)
        assert response.json()["count"] == count, url
    for number in range(10):
        services.drill_create(
            actor=None,
            community=world.a.community,
            kind="earthquake",
            title=f"演练{number}",
            planned_at=timezone.now(),
        )
    with django_assert_max_num_queries(10):
        assert send(c, "get", "/drills").json()["count"] == 10

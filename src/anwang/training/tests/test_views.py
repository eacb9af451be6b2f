"""Training pages: courses, sessions with roster, QR page and check-in, certificates with
filters and PDF, drills and findings, staff overview, profile and my training; other
communities are 404 and lists have query-count guards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from anwang.training import services
from anwang.training.models import Attendance, Certificate, Course, Drill, TrainingSession
from anwang.training.tests.conftest import make_course, make_session

pytestmark = pytest.mark.django_db


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_course_pages(world: Any, client_for: Any) -> None:
    c = client_for("community_admin")
    data = {
        "title": "急救培训",
        "topic": "first_aid",
        "duration_minutes": "90",
        "validity_months": "24",
        "required_for_roles": ["guard", "volunteer"],
        "is_active": "on",
    }
    response = c.post("/training/courses/create/", data)
    assert response.status_code == 302, response.content
    course = Course.objects.get(title="急救培训")
    assert course.required_for_roles == ["guard", "volunteer"]
    response = c.post("/training/courses/create/", data)
    assert response.status_code == 200
    assert "Another course of this community has this title." in response.text
    assert "急救培训" in c.get(f"/training/courses/{course.pk}/").text
    response = c.post(f"/training/courses/{course.pk}/edit/", data | {"validity_months": ""})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.validity_months is None
    assert client_for("supervisor").get(f"/training/courses/{course.pk}/edit/").status_code == 403
    assert (
        client_for("community_admin", "b").get(f"/training/courses/{course.pk}/").status_code == 404
    )
    assert client_for("guard").get("/training/").status_code == 403


def test_session_roster_qr_and_complete(world: Any, client_for: Any) -> None:
    course = make_course(world.a)
    c = client_for("community_admin")
    start = timezone.now() - dt.timedelta(minutes=10)
    response = c.post(
        "/training/sessions/create/",
        {
            "course": course.pk,
            "starts_at": _local(start),
            "ends_at": _local(start - dt.timedelta(hours=1)),
        },
    )
    assert "The end must be after the start." in response.text
    response = c.post(
        "/training/sessions/create/",
        {
            "course": course.pk,
            "starts_at": _local(start),
            "ends_at": _local(start + dt.timedelta(hours=1)),
            "place": "社区活动室",
        },
    )
    assert response.status_code == 302
    session = TrainingSession.objects.get()
    qr = c.get(f"/training/sessions/{session.pk}/qr/")
    assert qr.status_code == 200
    assert "<svg" in qr.text
    assert "/training/check-in/?t=" in qr.text
    assert "<svg" in c.get(f"/training/sessions/{session.pk}/qr/?fragment=qr").text
    count = c.get(f"/training/sessions/{session.pk}/qr/?fragment=count").text
    assert "0 people checked in" in count
    assert "<svg" not in count
    assert client_for("supervisor").get(f"/training/sessions/{session.pk}/qr/").status_code == 403
    response = c.post(f"/training/sessions/{session.pk}/", {"user": world.user("guard").pk})
    assert response.status_code == 302
    response = c.post(f"/training/sessions/{session.pk}/", {"user": world.user("guard", "b").pk})
    assert response.status_code == 400  # not a person of this community
    assert c.post(f"/training/sessions/{session.pk}/complete/").status_code == 302
    assert Certificate.objects.filter(session=session).count() == 1
    page = c.get(f"/training/sessions/{session.pk}/").text
    assert "a_guard" in page
    assert "Issued" in page
    other = client_for("community_admin", "b")
    assert other.get(f"/training/sessions/{session.pk}/").status_code == 404
    assert other.post(f"/training/sessions/{session.pk}/complete/").status_code == 404


def test_check_in_page(world: Any, client_for: Any) -> None:
    session = make_session(make_course(world.a), place="活动室")
    token = services.attendance_token(session)
    guard = client_for("guard")
    page = guard.get(f"/training/check-in/?t={token}")
    assert page.status_code == 200
    assert 'data-testid="confirm-check-in"' in page.text
    assert not Attendance.objects.exists()
    done = guard.post("/training/check-in/", {"t": token})
    assert "Your attendance was recorded." in done.text
    again = guard.post("/training/check-in/", {"t": token})
    assert "You had already checked in" in again.text
    assert Attendance.objects.count() == 1
    refused = client_for("guard", "b").get(f"/training/check-in/?t={token}")
    assert refused.status_code == 400
    assert "not in one of your communities" in refused.text
    forged = guard.get(f"/training/check-in/?t={token[:-3]}abc")
    assert "not genuine" in forged.text
    assert guard.get("/training/check-in/").status_code == 400
    # Anonymous people are sent to log in first, and come back to the code.
    from django.test import Client

    response = Client().get(f"/training/check-in/?t={token}")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_certificates_pages(world: Any, client_for: Any) -> None:
    course = make_course(world.a, validity_months=12)
    today = timezone.localdate()
    soon = services.certificate_issue(
        actor=None,
        course=course,
        user=world.user("guard"),
        issued_on=today - dt.timedelta(days=350),
    )
    services.certificate_issue(
        actor=None,
        course=course,
        user=world.user("volunteer"),
        issued_on=today - dt.timedelta(days=400),
    )
    c = client_for("community_admin")
    expiring = c.get("/training/certificates/?state=expiring").text
    assert "a_guard" in expiring
    assert "a_volunteer" not in expiring
    lapsed = c.get("/training/certificates/?state=lapsed").text
    assert "a_volunteer" in lapsed
    assert "a_guard" not in lapsed
    response = c.post(
        "/training/certificates/issue/",
        {"course": course.pk, "user": world.user("operator").pk, "issued_on": today.isoformat()},
    )
    assert response.status_code == 302
    pdf = c.get(f"/training/certificates/{soon.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    guard = client_for("guard")
    assert guard.get(f"/training/certificates/{soon.pk}/").status_code == 200
    assert guard.post(f"/training/certificates/{soon.pk}/", {"reason": "x"}).status_code == 403
    assert c.post(f"/training/certificates/{soon.pk}/", {"reason": "错发"}).status_code == 302
    soon.refresh_from_db()
    assert soon.revoked_at is not None
    assert (
        client_for("community_admin", "b").get(f"/training/certificates/{soon.pk}/").status_code
        == 404
    )


def test_profile_people_and_my_training(world: Any, client_for: Any) -> None:
    fire = make_course(world.a, "消防安全", roles=("guard",))
    make_course(world.a, "急救", topic="first_aid", roles=("guard",))
    guard = world.user("guard")
    services.certificate_issue(actor=None, course=fire, user=guard)
    c = client_for("community_admin")
    people = c.get("/training/people/").text
    assert "a_guard" in people
    profile = c.get(f"/training/people/{guard.pk}/").text
    assert 'data-state="current"' in profile
    assert 'data-state="missing"' in profile
    community = world.a.community.pk
    assert c.get(f"/training/people/{guard.pk}/?community={community}").status_code == 200
    other_admin = client_for("community_admin", "b")
    url = f"/training/people/{guard.pk}/?community={community}"
    assert other_admin.get(url).status_code == 404
    assert client_for("community_admin", "b").get(f"/training/people/{guard.pk}/").status_code in (
        403,
        404,
    )
    mine = client_for("guard").get("/training/me/")
    assert mine.status_code == 200
    assert 'data-state="missing"' in mine.text
    assert "消防安全" in mine.text
    assert client_for("resident").get("/training/me/").status_code == 200


def test_drill_pages(world: Any, client_for: Any) -> None:
    c = client_for("community_admin")
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    data = {
        "kind": "fire_evacuation",
        "title": "消防疏散演练",
        "planned_at": _local(start),
        "status": "held",
        "started_at": _local(start),
        "alarm_raised_at": _local(start + dt.timedelta(minutes=1)),
        "evacuation_complete_at": _local(start + dt.timedelta(minutes=6)),
        "headcount_done_at": _local(start + dt.timedelta(minutes=9)),
        "ended_at": _local(start + dt.timedelta(minutes=30)),
        "resident_count": "50",
        "participants": [world.user("guard").pk],
    }
    bad = data | {"evacuation_complete_at": _local(start - dt.timedelta(minutes=5))}
    response = c.post("/training/drills/create/", bad)
    assert response.status_code == 200
    assert "before an earlier step" in response.text
    assert not Drill.objects.exists()  # nothing half-saved
    response = c.post("/training/drills/create/", data)
    assert response.status_code == 302, response.content
    drill = Drill.objects.get()
    assert drill.evacuation_seconds == 300
    assert list(drill.participants.all()) == [world.user("guard")]
    page = c.get(f"/training/drills/{drill.pk}/").text
    assert "5 min 00 s" in page
    assert "8 min 00 s" in page
    response = c.post(f"/training/drills/{drill.pk}/", {"text": "应急灯不亮", "severity": "high"})
    assert response.status_code == 302
    finding = drill.findings.get()
    response = c.post(
        f"/training/findings/{finding.pk}/edit/",
        {"text": "应急灯不亮", "severity": "high", "closed": "on"},
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.is_closed
    response = c.post(f"/training/drills/{drill.pk}/edit/", data | {"status": "reviewed"})
    assert response.status_code == 302
    other = client_for("community_admin", "b")
    assert other.get(f"/training/drills/{drill.pk}/").status_code == 404
    assert other.get(f"/training/findings/{finding.pk}/edit/").status_code == 404
    assert client_for("supervisor").post(f"/training/drills/{drill.pk}/", {}).status_code == 403


def test_list_query_counts(world: Any, client_for: Any, django_assert_max_num_queries: Any) -> None:
    for number in range(15):
        course = make_course(world.a, f"课程{number}")
        session = make_session(course)
        services.attendance_record(actor=None, session=session, user=world.user("guard"))
        services.session_complete(actor=None, session=session)
        services.drill_create(
            actor=None,
            community=world.a.community,
            kind="flood",
            title=f"演练{number}",
            planned_at=timezone.now(),
        )
    make_course(world.b, "b-only")
    c = client_for("community_admin")
    for url, text in (
        ("/training/", "课程14"),
        ("/training/sessions/", "课程14"),
        ("/training/certificates/", "课程14"),
        ("/training/drills/", "演练14"),
        ("/training/people/", "a_guard"),
        ("/training/me/", "My training"),
    ):
        with django_assert_max_num_queries(20):
            response = c.get(url)
        assert response.status_code == 200, url
        assert text in response.text, url
        assert "b-only" not in response.text
    guard = client_for("guard")
    with django_assert_max_num_queries(20):
        assert guard.get("/training/me/").status_code == 200


def test_renewals_reach_the_inbox_and_dashboard(world: Any, client_for: Any) -> None:
    course = make_course(world.a, "急救", topic="first_aid", validity_months=1)
    issued = timezone.localdate() - dt.timedelta(days=20)
    services.certificate_issue(
        actor=None, course=course, user=world.user("guard"), issued_on=issued
    )
    admin = client_for("community_admin")
    work = admin.get("/my-work/").text
    assert "a_guard&#x27;s “急救” certificate expires soon" in work
    assert "Certificates expiring within 30 days" in admin.get("/dashboard/").text
    guard_work = client_for("guard").get("/my-work/").text
    assert "Your “急救” certificate expires soon" in guard_work
    assert "急救" not in client_for("community_admin", "b").get("/my-work/").text


def test_django_admin_pages(world: Any) -> None:
    from django.test import Client

    course = make_course(world.a)
    session = make_session(course)
    services.attendance_record(actor=None, session=session, user=world.user("guard"))
    services.session_complete(actor=None, session=session)
    drill = services.drill_create(
        actor=None,
        community=world.a.community,
        kind="gas_leak",
        title="燃气泄漏演练",
        planned_at=timezone.now(),
    )
    services.finding_create(actor=None, drill=drill, text="阀门难关")
    c = Client()
    c.force_login(world.platform_admin)
    for name, pk in (
        ("course", course.pk),
        ("trainingsession", session.pk),
        ("certificate", Certificate.objects.get().pk),
        ("drill", drill.pk),
    ):
        assert c.get(f"/admin/training/{name}/").status_code == 200, name
        assert c.get(f"/admin/training/{name}/{pk}/change/").status_code == 200, name


def test_session_edit_cancel_and_attendance_actions(world: Any, client_for: Any) -> None:
    session = make_session(make_course(world.a))
    c = client_for("community_admin")
    form = c.get(f"/training/sessions/{session.pk}/edit/")
    assert form.status_code == 200
    assert 'name="course"' not in form.text  # the course of a session does not change
    start = timezone.localtime(session.starts_at)
    response = c.post(
        f"/training/sessions/{session.pk}/edit/",
        {
            "starts_at": _local(start),
            "ends_at": _local(start + dt.timedelta(hours=3)),
            "trainer_name": "李医生",
            "capacity": "30",
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.trainer_name == "李医生"
    assert session.capacity == 30
    attendance = services.attendance_record(
        actor=None, session=session, user=world.user("guard")
    ).attendance
    c.post(f"/training/attendance/{attendance.pk}/result/", {"passed": "no"})
    attendance.refresh_from_db()
    assert attendance.passed is False
    other = client_for("community_admin", "b")
    assert other.post(f"/training/attendance/{attendance.pk}/remove/").status_code == 404
    assert c.post(f"/training/attendance/{attendance.pk}/remove/").status_code == 302
    assert not Attendance.objects.exists()
    assert c.get(f"/training/sessions/{session.pk}/cancel/").status_code == 200
    assert c.post(f"/training/sessions/{session.pk}/cancel/").status_code == 302
    session.refresh_from_db()
    assert session.status == "cancelled"
    again = c.post(f"/training/sessions/{session.pk}/cancel/")
    assert again.status_code == 409
    assert "Only a scheduled session can be cancelled." in again.text
    token = services.attendance_token(session)
    assert (
        "This session was cancelled."
        in client_for("guard").get(f"/training/check-in/?t={token}").text
    )

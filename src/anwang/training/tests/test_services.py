"""Training services: courses, attendance by signed code (once; expired, forged and other
community refused), completion issuing certificates, expiry and renewal windows, the training
status of a person with a controllable day, drills and their durations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.training import selectors, services
from anwang.training.choices import CertificateState, SessionStatus, TrainingState
from anwang.training.models import Attendance, Certificate, add_months
from anwang.training.services import CheckInRefusedError
from anwang.training.tests.conftest import make_course, make_session

pytestmark = pytest.mark.django_db


def test_add_months_keeps_the_day_or_the_last_of_the_month() -> None:
    assert add_months(dt.date(2026, 1, 15), 12) == dt.date(2027, 1, 15)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


def test_course_rules(world: Any) -> None:
    admin = world.user("community_admin")
    course = services.course_create(
        actor=admin,
        community=world.a.community,
        title=" 急救 ",
        topic="first_aid",
        validity_months=24,
        required_for_roles=["guard", "guard", "volunteer"],
    )
    assert course.title == "急救"
    assert course.required_for_roles == ["guard", "volunteer"]
    assert AuditEvent.objects.filter(action="course.create").count() == 1
    with pytest.raises(ServiceError) as error:
        services.course_create(
            actor=admin, community=world.a.community, title="急救", topic="first_aid"
        )
    assert error.value.field == "title"
    with pytest.raises(ServiceError) as error:
        services.course_create(actor=admin, community=world.a.community, title="x", topic="cooking")
    assert error.value.field == "topic"
    with pytest.raises(ServiceError) as error:
        services.course_update(actor=admin, course=course, required_for_roles=["king"])
    assert error.value.field == "required_for_roles"
    # Same title in another community is fine; another community's admin is not found.
    make_course(world.b, "急救")
    with pytest.raises(Http404):
        services.course_update(actor=world.user("community_admin", "b"), course=course, title="y")
    # A supervisor sees training but may not change it.
    with pytest.raises(PermissionDenied):
        services.course_update(actor=world.user("supervisor"), course=course, title="y")
    services.course_update(actor=admin, course=course, validity_months=None)
    course.refresh_from_db()
    assert course.validity_months is None


def test_session_times_and_zone(world: Any) -> None:
    course = make_course(world.a)
    now = timezone.now()
    with pytest.raises(ServiceError) as error:
        services.session_create(actor=None, course=course, starts_at=now, ends_at=now)
    assert error.value.field == "ends_at"
    with pytest.raises(ServiceError) as error:
        make_session(course, zone=world.b.zone)
    assert error.value.field == "zone"
    session = make_session(course, zone=world.a.zone, place="活动室")
    services.session_cancel(actor=None, session=session)
    with pytest.raises(ConflictError):
        services.session_update(actor=None, session=session, place="x")


def test_check_in_is_recorded_once(world: Any) -> None:
    session = make_session(make_course(world.a))
    guard = world.user("guard")
    token = services.attendance_token(session)
    first = services.attendance_check_in(actor=guard, token=token)
    again = services.attendance_check_in(actor=guard, token=token)
    assert first.created is True
    assert again.created is False
    assert again.attendance.pk == first.attendance.pk
    assert Attendance.objects.filter(session=session).count() == 1
    assert first.attendance.method == "qr"
    assert AuditEvent.objects.filter(action="attendance.record").count() == 1
    # Marking by hand afterwards finds the same attendance.
    manual = services.attendance_record(actor=None, session=session, user=guard, passed=True)
    assert manual.created is False
    assert Attendance.objects.get(session=session, user=guard).passed is True


def test_check_in_refuses_expired_forged_and_other_community_codes(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = make_session(make_course(world.a))
    guard = world.user("guard")
    token = services.attendance_token(session)

    def refused(user: Any, text: str) -> str:
        with pytest.raises(CheckInRefusedError) as error:
            services.attendance_check_in(actor=user, token=text)
        return error.value.code

    assert refused(guard, "") == "malformed"
    assert refused(guard, "hello") == "malformed"
    body, stamp, mac = token.split(":")
    assert refused(guard, f"{body}:{stamp}:{'A' * len(mac)}") == "forged"
    # A signature made for another purpose (salt) does not verify as an attendance code.
    other = signing.TimestampSigner(salt="elsewhere").sign_object({"s": session.pk, "c": 1})
    assert refused(guard, other) == "forged"
    # Someone of community B cannot check in to community A's session.
    assert refused(world.user("guard", "b"), token) == "other_community"
    # Half an hour later the code has expired.
    later = timezone.now().timestamp() + services.TOKEN_MAX_AGE + 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert refused(guard, token) == "expired"
    monkeypatch.undo()
    services.session_cancel(actor=None, session=session)
    assert refused(guard, token) == "closed"
    assert not Attendance.objects.exists()


def test_capacity_and_members(world: Any) -> None:
    session = make_session(make_course(world.a), capacity=1)
    services.attendance_record(actor=None, session=session, user=world.user("guard"))
    with pytest.raises(ConflictError):
        services.attendance_record(actor=None, session=session, user=world.user("volunteer"))
    with pytest.raises(ServiceError) as error:
        services.attendance_record(
            actor=None, session=make_session(session.course), user=world.user("guard", "b")
        )
    assert error.value.field == "user"


def test_complete_issues_certificates_once_and_skips_failures(world: Any) -> None:
    course = make_course(world.a, validity_months=12)
    session = make_session(course)
    guard, volunteer, operator = (world.user(r) for r in ("guard", "volunteer", "operator"))
    services.attendance_record(actor=None, session=session, user=guard)
    services.attendance_record(actor=None, session=session, user=volunteer, passed=False)
    issued = services.session_complete(
        actor=world.user("community_admin"), session=session, issued_on=dt.date(2026, 3, 1)
    )
    assert [c.user for c in issued] == [guard]
    assert issued[0].expires_on == dt.date(2027, 3, 1)
    assert issued[0].source == "session"
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD
    # A late attendee gets theirs on the second call; nobody gets two.
    services.attendance_record(actor=None, session=session, user=operator)
    again = services.session_complete(actor=None, session=session)
    assert [c.user for c in again] == [operator]
    assert Certificate.objects.filter(session=session).count() == 2
    # Once a certificate exists, the attendance's result and presence stay.
    attendance = Attendance.objects.get(session=session, user=guard)
    with pytest.raises(ConflictError):
        services.attendance_set_result(actor=None, attendance=attendance, passed=False)
    with pytest.raises(ConflictError):
        services.attendance_remove(actor=None, attendance=attendance)
    # Each certificate earned its holder the training points once, keyed by the certificate.
    from anwang.participation.models import PointEntry

    earned = PointEntry.objects.filter(source_kind="training_completed").order_by("pk")
    assert [(entry.user, entry.source_key) for entry in earned] == [
        (guard, f"certificate:{issued[0].pk}"),
        (operator, f"certificate:{again[0].pk}"),
    ]
    assert all(entry.points > 0 for entry in earned)
    services.session_complete(actor=None, session=session)
    assert earned.count() == 2


def test_manual_certificate_without_expiry_and_revoke(world: Any) -> None:
    course = make_course(world.a, "反诈", topic="anti_fraud", validity_months=None)
    certificate = services.certificate_issue(
        actor=None, course=course, user=world.user("resident"), note="街道培训"
    )
    assert certificate.expires_on is None
    assert selectors.certificate_state(certificate) == CertificateState.CURRENT
    with pytest.raises(ServiceError):
        services.certificate_issue(
            actor=None,
            course=course,
            user=world.user("guard"),
            issued_on=timezone.localdate() + dt.timedelta(days=1),
        )
    services.certificate_revoke(actor=None, certificate=certificate, reason="错误")
    assert selectors.certificate_state(certificate) == CertificateState.REVOKED
    with pytest.raises(ConflictError):
        services.certificate_revoke(actor=None, certificate=certificate)


def test_certificate_states_and_renewal_windows(world: Any) -> None:
    course = make_course(world.a, validity_months=12)
    guard = world.user("guard")
    certificate = services.certificate_issue(
        actor=None, course=course, user=guard, issued_on=dt.date(2025, 6, 1)
    )
    assert certificate.expires_on == dt.date(2026, 6, 1)
    state = selectors.certificate_state
    assert state(certificate, dt.date(2026, 4, 1)) == CertificateState.CURRENT
    assert state(certificate, dt.date(2026, 5, 2)) == CertificateState.EXPIRING
    assert state(certificate, dt.date(2026, 6, 1)) == CertificateState.EXPIRING
    assert state(certificate, dt.date(2026, 6, 2)) == CertificateState.LAPSED
    assert state(certificate, dt.date(2026, 4, 1), window_days=90) == CertificateState.EXPIRING
    scope = _scope(world.user("community_admin"))

    def listed(which: str, day: dt.date, days: int = 30) -> list[int]:
        found = selectors.certificate_list(scope, state=which, today=day, window_days=days)
        return [c.pk for c in found]

    assert listed("expiring", dt.date(2026, 5, 10)) == [certificate.pk]
    assert listed("expiring", dt.date(2026, 4, 1)) == []
    assert listed("expiring", dt.date(2026, 4, 1), days=90) == [certificate.pk]
    assert listed("lapsed", dt.date(2026, 6, 2)) == [certificate.pk]
    assert listed("current", dt.date(2026, 4, 1)) == [certificate.pk]


def _scope(user: Any) -> Any:
    from anwang.accounts.selectors import scope_for

    return scope_for(user)


def test_training_status_current_expiring_lapsed_missing(world: Any) -> None:
    fire = make_course(world.a, "消防安全", validity_months=12, roles=("guard",))
    aid = make_course(world.a, "急救", topic="first_aid", validity_months=24, roles=("guard",))
    fraud = make_course(world.a, "反诈", topic="anti_fraud", roles=("guard",))
    make_course(world.a, "志愿服务", topic="other", roles=("volunteer",))
    guard = world.user("guard")
    services.certificate_issue(actor=None, course=fire, user=guard, issued_on=dt.date(2025, 6, 1))
    old = services.certificate_issue(
        actor=None, course=aid, user=guard, issued_on=dt.date(2023, 1, 10)
    )
    community = world.a.community

    def states(day: dt.date) -> dict[str, str]:
        rows = selectors.training_status_for(guard, community, today=day)
        return {row.course.title: row.state for row in rows}

    assert states(dt.date(2026, 1, 1)) == {
        "消防安全": TrainingState.CURRENT,
        "急救": TrainingState.LAPSED,
        "反诈": TrainingState.MISSING,
    }
    assert states(dt.date(2026, 5, 20))["消防安全"] == TrainingState.EXPIRING
    # A renewal supersedes the lapsed certificate.
    services.certificate_issue(actor=None, course=aid, user=guard, issued_on=dt.date(2025, 12, 1))
    rows = selectors.training_status_for(guard, community, today=dt.date(2026, 1, 1))
    aid_row = next(row for row in rows if row.course.pk == aid.pk)
    assert aid_row.state == TrainingState.CURRENT
    assert aid_row.valid_until == dt.date(2027, 12, 1)
    assert aid_row.certificate is not None
    assert aid_row.certificate.pk != old.pk
    assert fraud.pk in {row.course.pk for row in rows}
    # A resident's role requires nothing; a person of another community has no rows here.
    assert selectors.training_status_for(world.user("resident"), community) == []
    assert selectors.training_status_for(world.user("guard", "b"), community) == []


def test_drill_timings_durations_and_findings(world: Any) -> None:
    admin = world.user("community_admin")
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    drill = services.drill_create(
        actor=admin,
        community=world.a.community,
        kind="fire_evacuation",
        title="3号楼消防疏散演练",
        planned_at=start,
        zone=world.a.zone,
        resident_count=40,
    )
    with pytest.raises(ServiceError) as error:
        services.drill_update(
            actor=admin,
            drill=drill,
            started_at=start,
            alarm_raised_at=start + dt.timedelta(minutes=2),
            evacuation_complete_at=start + dt.timedelta(minutes=1),
        )
    assert error.value.field == "evacuation_complete_at"
    drill.refresh_from_db()
    services.drill_update(
        actor=admin,
        drill=drill,
        started_at=start,
        alarm_raised_at=start + dt.timedelta(minutes=1),
        evacuation_complete_at=start + dt.timedelta(minutes=5, seconds=30),
        headcount_done_at=start + dt.timedelta(minutes=8),
        ended_at=start + dt.timedelta(minutes=30),
        status="held",
    )
    assert drill.evacuation_seconds == 270
    assert drill.headcount_seconds == 420
    assert drill.total_seconds == 1800
    with pytest.raises(ServiceError):
        services.drill_set_participants(actor=admin, drill=drill, users=[world.user("guard", "b")])
    services.drill_set_participants(
        actor=admin, drill=drill, users=[world.user("guard"), world.user("volunteer")]
    )
    assert drill.participants.count() == 2
    finding = services.finding_create(
        actor=admin,
        drill=drill,
        text="2单元消防通道堆放杂物",
        severity="high",
        owner=world.user("guard"),
        deadline=dt.date(2026, 12, 1),
    )
    assert finding.community_id == world.a.community.pk
    with pytest.raises(ServiceError) as error:
        services.finding_update(actor=admin, finding=finding, owner=world.user("guard", "b"))
    assert error.value.field == "owner"
    services.finding_update(actor=admin, finding=finding, closed=True)
    assert finding.is_closed
    services.drill_update(actor=admin, drill=drill, status="reviewed")
    assert AuditEvent.objects.filter(action__startswith="drill").count() >= 4
    # The participants of the held drill earned its points once, however often it changed.
    from anwang.participation.models import PointEntry

    earned = PointEntry.objects.filter(source_kind="drill_participation")
    assert sorted(earned.values_list("user__username", "source_key")) == sorted(
        [
            (world.user("guard").username, f"drill:{drill.pk}"),
            (world.user("volunteer").username, f"drill:{drill.pk}"),
        ]
    )


def test_a_planned_drill_earns_no_points(world: Any) -> None:
    admin = world.user("community_admin")
    drill = services.drill_create(
        actor=admin,
        community=world.a.community,
        kind="earthquake",
        title="地震演练",
        planned_at=timezone.now() + dt.timedelta(days=3),
    )
    services.drill_set_participants(actor=admin, drill=drill, users=[world.user("guard")])
    from anwang.participation.models import PointEntry

    assert not PointEntry.objects.filter(source_kind="drill_participation").exists()

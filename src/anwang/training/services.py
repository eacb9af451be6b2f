"""Writes of the training domain: courses, sessions and their attendance (by the session's
signed QR code or marked by staff), completing a session (which issues certificates),
certificates issued or revoked by hand; drills with their timings, participants and findings.

Every function is keyword-only and checks that the caller may act: changes need
:attr:`Permission.MANAGE_TRAINING` in the community (403 for those who may only see training,
404 for everyone else). Checking in with a session's code needs only a membership of the
session's community: it records the caller's own presence. Input is validated with translated
errors on the field they concern, and every change records an audit entry in the same
transaction. Without ``actor`` and ``scope`` the call is the system itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, authorize, scope_for
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import UNSET, Unset, clean_text
from anwang.participation.choices import PointSource
from anwang.participation.services import points_award
from anwang.places.models import Community, Zone
from anwang.training.choices import (
    AttendanceMethod,
    CertificateSource,
    CheckInRejection,
    CourseTopic,
    DrillKind,
    DrillStatus,
    FindingSeverity,
    SessionStatus,
)
from anwang.training.models import (
    Attendance,
    Certificate,
    Course,
    Drill,
    DrillFinding,
    TrainingSession,
)

COURSE_FIELDS = (
    "community",
    "title",
    "topic",
    "description",
    "duration_minutes",
    "validity_months",
    "required_for_roles",
    "is_active",
)
SESSION_FIELDS = (
    "course",
    "starts_at",
    "ends_at",
    "zone",
    "place",
    "trainer_name",
    "capacity",
    "status",
    "note",
)
CERTIFICATE_FIELDS = ("course", "user", "session", "source", "issued_on", "expires_on", "note")
DRILL_FIELDS = (
    "kind",
    "title",
    "zone",
    "planned_at",
    "started_at",
    "alarm_raised_at",
    "evacuation_complete_at",
    "headcount_done_at",
    "ended_at",
    "resident_count",
    "status",
    "summary",
)
FINDING_FIELDS = ("text", "severity", "owner", "deadline", "closed_at")

TOKEN_SALT = "anwang.training.attendance"  # noqa: S105 - a signing salt, not a secret
"""Salt of attendance codes: a signature made for another purpose never verifies as one."""
TOKEN_MAX_AGE = 30 * 60
"""Seconds an attendance code stays valid; the session's QR page shows a fresh one in time, so
a photo of the code passed on after the session does not work."""
MAX_VALIDITY_MONTHS = 240
MAX_MINUTES = 7 * 24 * 60


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_TRAINING,
        community_id=community_id,
        visible_with=Permission.VIEW_TRAINING,
    )


def _choice(name: str, value: Any, choices: Any) -> str:
    if value not in choices.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in choices.labels)},
            field=name,
        )
    return str(value)


def _number(name: str, value: Any, *, low: int, high: int, optional: bool = False) -> int | None:
    if value in (None, "") and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ServiceError(_("Enter a whole number."), field=name)
    try:
        number = int(value)
    except ValueError as error:
        raise ServiceError(_("Enter a whole number."), field=name) from error
    if not low <= number <= high:
        raise ServiceError(
            _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}, field=name
        )
    return number


def _roles(value: Any) -> list[str]:
    roles = [str(role) for role in (value or [])]
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        raise ServiceError(
            _("Unknown roles: %(roles)s.") % {"roles": ", ".join(unknown)},
            field="required_for_roles",
        )
    return sorted(set(roles))


def _zone(community_id: int, zone: Zone | None) -> Zone | None:
    if zone is not None and zone.community_id != community_id:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    return zone


def _member(community_id: int, user: User | None, field: str) -> User:
    if user is None:
        raise ServiceError(_("Choose a person."), field=field)
    if not Membership.objects.filter(user=user, community_id=community_id).exists():
        raise ServiceError(_("Choose a person of this community."), field=field)
    return user


def _audit(
    actor: User | None,
    action: str,
    obj: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        community_id=obj.community_id,
        changes=diff(before, after),
    )


def _now() -> dt.datetime:
    return timezone.now()


# --------------------------------------------------------------------------- courses


def _check_course(course: Course) -> None:
    taken = Course.objects.filter(community_id=course.community_id, title=course.title).exclude(
        pk=course.pk
    )
    if taken.exists():
        raise ServiceError(_("Another course of this community has this title."), field="title")


def _save_course(course: Course) -> None:
    _check_course(course)
    try:
        with transaction.atomic():
            course.save()
    except IntegrityError as error:  # a concurrent save with the same title
        raise ServiceError(
            _("Another course of this community has this title."), field="title"
        ) from error


def course_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    title: str,
    topic: str,
    description: str = "",
    duration_minutes: int = 60,
    validity_months: int | None = None,
    required_for_roles: Iterable[str] = (),
    is_active: bool = True,
) -> Course:
    """Add a course to a community."""
    _require_manage(actor, scope, community.pk)
    course = Course(
        community=community,
        title=clean_text("title", title, limit=120),
        topic=_choice("topic", topic, CourseTopic),
        description=clean_text("description", description, limit=5000, required=False),
        duration_minutes=_number("duration_minutes", duration_minutes, low=1, high=MAX_MINUTES)
        or 1,
        validity_months=_number(
            "validity_months", validity_months, low=1, high=MAX_VALIDITY_MONTHS, optional=True
        ),
        required_for_roles=_roles(required_for_roles),
        is_active=bool(is_active),
    )
    with transaction.atomic():
        _save_course(course)
        _audit(actor, "course.create", course, {}, snapshot(course, COURSE_FIELDS))
    return course


def course_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    course: Course,
    title: str | Unset = UNSET,
    topic: str | Unset = UNSET,
    description: str | Unset = UNSET,
    duration_minutes: int | Unset = UNSET,
    validity_months: int | Unset | None = UNSET,
    required_for_roles: Iterable[str] | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Course:
    """Change a course; arguments left at :data:`UNSET` keep their value. Certificates already
    issued keep their expiry (a new validity applies to new certificates)."""
    _require_manage(actor, scope, course.community_id)
    before = snapshot(course, COURSE_FIELDS)
    if title is not UNSET:
        course.title = clean_text("title", title, limit=120)
    if topic is not UNSET:
        course.topic = _choice("topic", topic, CourseTopic)
    if description is not UNSET:
        course.description = clean_text("description", description, limit=5000, required=False)
    if duration_minutes is not UNSET:
        minutes = _number("duration_minutes", duration_minutes, low=1, high=MAX_MINUTES)
        course.duration_minutes = minutes or 1
    if validity_months is not UNSET:
        course.validity_months = _number(
            "validity_months", validity_months, low=1, high=MAX_VALIDITY_MONTHS, optional=True
        )
    if required_for_roles is not UNSET:
        course.required_for_roles = _roles(required_for_roles)
    if is_active is not UNSET:
        course.is_active = bool(is_active)
    with transaction.atomic():
        _save_course(course)
        after = snapshot(course, COURSE_FIELDS)
        if after != before:
            _audit(actor, "course.update", course, before, after)
    return course


# --------------------------------------------------------------------------- sessions


def _times(starts_at: Any, ends_at: Any) -> tuple[dt.datetime, dt.datetime]:
    if not isinstance(starts_at, dt.datetime):
        raise ServiceError(_("Enter the date and time it starts."), field="starts_at")
    if not isinstance(ends_at, dt.datetime):
        raise ServiceError(_("Enter the date and time it ends."), field="ends_at")
    if ends_at <= starts_at:
        raise ServiceError(_("The end must be after the start."), field="ends_at")
    return starts_at, ends_at


def _refuse_cancelled(session: TrainingSession) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise ConflictError(_("This session was cancelled."), code="cancelled")


def session_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    course: Course,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    zone: Zone | None = None,
    place: str = "",
    trainer_name: str = "",
    capacity: int | None = None,
    note: str = "",
) -> TrainingSession:
    """Schedule a session of a course."""
    _require_manage(actor, scope, course.community_id)
    if not course.is_active:
        raise ServiceError(_("This course is no longer run."), field="course")
    start, end = _times(starts_at, ends_at)
    session = TrainingSession(
        community_id=course.community_id,
        course=course,
        starts_at=start,
        ends_at=end,
        zone=_zone(course.community_id, zone),
        place=clean_text("place", place, limit=200, required=False),
        trainer_name=clean_text("trainer_name", trainer_name, limit=100, required=False),
        capacity=_number("capacity", capacity, low=1, high=100_000, optional=True),
        note=clean_text("note", note, limit=2000, required=False),
    )
    with transaction.atomic():
        session.save()
        _audit(actor, "training_session.create", session, {}, snapshot(session, SESSION_FIELDS))
    return session


def session_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    session: TrainingSession,
    starts_at: dt.datetime | Unset = UNSET,
    ends_at: dt.datetime | Unset = UNSET,
    zone: Zone | Unset | None = UNSET,
    place: str | Unset = UNSET,
    trainer_name: str | Unset = UNSET,
    capacity: int | Unset | None = UNSET,
    note: str | Unset = UNSET,
) -> TrainingSession:
    """Change a session that was not cancelled; arguments left at :data:`UNSET` keep theirs."""
    _require_manage(actor, scope, session.community_id)
    _refuse_cancelled(session)
    before = snapshot(session, SESSION_FIELDS)
    session.starts_at, session.ends_at = _times(
        session.starts_at if starts_at is UNSET else starts_at,
        session.ends_at if ends_at is UNSET else ends_at,
    )
    if zone is not UNSET:
        session.zone = _zone(session.community_id, zone)
    if place is not UNSET:
        session.place = clean_text("place", place, limit=200, required=False)
    if trainer_name is not UNSET:
        session.trainer_name = clean_text("trainer_name", trainer_name, limit=100, required=False)
    if capacity is not UNSET:
        session.capacity = _number("capacity", capacity, low=1, high=100_000, optional=True)
    if note is not UNSET:
        session.note = clean_text("note", note, limit=2000, required=False)
    with transaction.atomic():
        session.save()
        after = snapshot(session, SESSION_FIELDS)
        if after != before:
            _audit(actor, "training_session.update", session, before, after)
    return session


def session_cancel(
    *, actor: User | None, scope: Scope | None = None, session: TrainingSession
) -> TrainingSession:
    """Cancel a scheduled session; its code stops working."""
    _require_manage(actor, scope, session.community_id)
    if session.status != SessionStatus.SCHEDULED:
        raise ConflictError(_("Only a scheduled session can be cancelled."), code="not_scheduled")
    before = snapshot(session, SESSION_FIELDS)
    session.status = SessionStatus.CANCELLED
    with transaction.atomic():
        session.save(update_fields=["status", "updated_at"])
        _audit(actor, "training_session.cancel", session, before, snapshot(session, SESSION_FIELDS))
    return session


def session_complete(
    *,
    actor: User | None,
    scope: Scope | None = None,
    session: TrainingSession,
    issued_on: dt.date | None = None,
) -> list[Certificate]:
    """Mark a session held and issue a certificate of its course to every attendee who did not
    fail; calling it again (after late attendances) issues only the missing ones."""
    _require_manage(actor, scope, session.community_id)
    _refuse_cancelled(session)
    day = issued_on or timezone.localdate(session.ends_at)
    issued: list[Certificate] = []
    with transaction.atomic():
        locked = TrainingSession.objects.select_for_update().get(pk=session.pk)
        before = snapshot(locked, SESSION_FIELDS)
        if locked.status != SessionStatus.HELD:
            locked.status = SessionStatus.HELD
            locked.save(update_fields=["status", "updated_at"])
            _audit(
                actor, "training_session.complete", locked, before, snapshot(locked, SESSION_FIELDS)
            )
        session.status = locked.status
        have = set(Certificate.objects.filter(session=locked).values_list("user_id", flat=True))
        attendances = (
            Attendance.objects.filter(session=locked)
            .exclude(passed=False)
            .exclude(user_id__in=have)
            .select_related("user")
            .order_by("recorded_at", "id")
        )
        course = locked.course
        for attendance in attendances:
            issued.append(
                _issue(
                    actor=actor,
                    course=course,
                    user=attendance.user,
                    session=locked,
                    source=CertificateSource.SESSION,
                    issued_on=day,
                    note="",
                )
            )
    return issued


# --------------------------------------------------------------------------- attendance


class CheckInRefusedError(ServiceError):
    """A scanned attendance code was refused; ``code`` is a :class:`CheckInRejection`."""

    def __init__(self, rejection: CheckInRejection) -> None:
        super().__init__(rejection.label, field="token", code=rejection.value)
        self.rejection = rejection


def attendance_token(session: TrainingSession) -> str:
    """The signed, time-limited code the session's QR carries (see :data:`TOKEN_MAX_AGE`)."""
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    return signer.sign_object({"s": session.pk, "c": session.community_id}, compress=False)


@dataclass(frozen=True)
class CheckInResult:
    """What a check-in did: the attendance, and whether it was recorded just now."""

    attendance: Attendance
    created: bool


def _token_session(token: str) -> TrainingSession:
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    text = (token or "").strip()
    if not text or text.count(":") != 2:
        raise CheckInRefusedError(CheckInRejection.MALFORMED)
    try:
        data = signer.unsign_object(text, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as error:
        raise CheckInRefusedError(CheckInRejection.EXPIRED) from error
    except (signing.BadSignature, ValueError) as error:
        raise CheckInRefusedError(CheckInRejection.FORGED) from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("s"), int)
        or not isinstance(data.get("c"), int)
    ):
        raise CheckInRefusedError(CheckInRejection.FORGED)
    session = (
        TrainingSession.objects.select_related("course", "community")
        .filter(pk=int(data["s"]), community_id=int(data["c"]))
        .first()
    )
    if session is None:  # deleted since, or signed by a database that reused the key
        raise CheckInRefusedError(CheckInRejection.FORGED)
    return session


def attendance_token_check(
    *, actor: User, scope: Scope | None = None, token: str
) -> TrainingSession:
    """The session a scanned code is for, if the caller may check in with it."""
    session = _token_session(token)
    resolved = scope or scope_for(actor)
    if session.community_id not in resolved.community_ids():
        raise CheckInRefusedError(CheckInRejection.OTHER_COMMUNITY)
    if session.status == SessionStatus.CANCELLED:
        raise CheckInRefusedError(CheckInRejection.CLOSED)
    return session


def attendance_check_in(*, actor: User, scope: Scope | None = None, token: str) -> CheckInResult:
    """Record the caller's own presence at the session a scanned code is for; scanning again
    changes nothing."""
    session = attendance_token_check(actor=actor, scope=scope, token=token)
    return _attend(actor=actor, session=session, user=actor, method=AttendanceMethod.QR)


def _attend(
    *,
    actor: User | None,
    session: TrainingSession,
    user: User,
    method: AttendanceMethod,
    passed: bool | None = None,
) -> CheckInResult:
    existing = Attendance.objects.filter(session=session, user=user).first()
    if existing is not None:
        return CheckInResult(existing, False)
    if session.capacity is not None:
        taken = Attendance.objects.filter(session=session).count()
        if taken >= session.capacity:
            raise ConflictError(_("This session is full."), code="full")
    attendance = Attendance(
        session=session,
        user=user,
        method=method,
        recorded_at=_now(),
        recorded_by=actor,
        passed=passed,
    )
    try:
        with transaction.atomic():
            attendance.save()
            audit_record(
                actor=actor,
                action="attendance.record",
                obj=attendance,
                community_id=session.community_id,
                changes={"user": [None, user.pk], "method": [None, method.value]},
            )
    except IntegrityError:
        # Two scans at once: the other one recorded it.
        return CheckInResult(Attendance.objects.get(session=session, user=user), False)
    return CheckInResult(attendance, True)


def attendance_record(
    *,
    actor: User | None,
    scope: Scope | None = None,
    session: TrainingSession,
    user: User,
    passed: bool | None = None,
) -> CheckInResult:
    """Mark a person of the session's community present by hand (once)."""
    _require_manage(actor, scope, session.community_id)
    _refuse_cancelled(session)
    _member(session.community_id, user, "user")
    result = _attend(
        actor=actor, session=session, user=user, method=AttendanceMethod.MANUAL, passed=passed
    )
    if not result.created and passed is not None and result.attendance.passed != passed:
        attendance_set_result(actor=actor, scope=scope, attendance=result.attendance, passed=passed)
    return result


def attendance_set_result(
    *,
    actor: User | None,
    scope: Scope | None = None,
    attendance: Attendance,
    passed: bool | None,
) -> Attendance:
    """Record whether an attendee passed (``None``: not assessed, counts as passed)."""
    session = attendance.session
    _require_manage(actor, scope, session.community_id)
    if Certificate.objects.filter(session=session, user_id=attendance.user_id).exists():
        raise ConflictError(
            _("A certificate was already issued for this attendance; revoke it instead."),
            code="certificate_issued",
        )
    before = attendance.passed
    attendance.passed = passed
    with transaction.atomic():
        attendance.save(update_fields=["passed"])
        if before != passed:
            audit_record(
                actor=actor,
                action="attendance.result",
                obj=attendance,
                community_id=session.community_id,
                changes={"passed": [before, passed]},
            )
    return attendance


def attendance_remove(
    *, actor: User | None, scope: Scope | None = None, attendance: Attendance
) -> None:
    """Take back an attendance recorded by mistake (before a certificate was issued for it)."""
    session = attendance.session
    _require_manage(actor, scope, session.community_id)
    if Certificate.objects.filter(session=session, user_id=attendance.user_id).exists():
        raise ConflictError(
            _("A certificate was already issued for this attendance; revoke it instead."),
            code="certificate_issued",
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="attendance.remove",
            obj=attendance,
            community_id=session.community_id,
            changes={"user": [attendance.user_id, None]},
        )
        attendance.delete()


# --------------------------------------------------------------------------- certificates


def _award_training_points(certificate: Certificate) -> None:
    """The points a certificate earns (rule ``training_completed`` of the community), keyed by
    the certificate so a retry or a second issue of the same certificate awards nothing twice."""
    points_award(
        community=certificate.community,
        user=certificate.user,
        source_kind=PointSource.TRAINING_COMPLETED,
        source_key=f"certificate:{certificate.pk}",
        quantity=1,
        occurred_at=certificate.created_at,
        reason=str(certificate.course),
    )


def _issue(
    *,
    actor: User | None,
    course: Course,
    user: User,
    session: TrainingSession | None,
    source: CertificateSource,
    issued_on: dt.date,
    note: str,
) -> Certificate:
    certificate = Certificate(
        community_id=course.community_id,
        course=course,
        user=user,
        session=session,
        source=source,
        issued_on=issued_on,
        expires_on=course.expiry_for(issued_on),
        issued_by=actor,
        note=note,
    )
    certificate.save()
    _audit(actor, "certificate.issue", certificate, {}, snapshot(certificate, CERTIFICATE_FIELDS))
    _award_training_points(certificate)
    return certificate


def certificate_issue(
    *,
    actor: User | None,
    scope: Scope | None = None,
    course: Course,
    user: User,
    issued_on: dt.date | None = None,
    note: str = "",
) -> Certificate:
    """Issue a certificate by hand (training done elsewhere, a renewal exam); it expires
    after the course's validity."""
    _require_manage(actor, scope, course.community_id)
    _member(course.community_id, user, "user")
    day = issued_on or timezone.localdate()
    if not isinstance(day, dt.date):
        raise ServiceError(_("Enter a date."), field="issued_on")
    if day > timezone.localdate():
        raise ServiceError(_("A certificate cannot be issued in the future."), field="issued_on")
    with transaction.atomic():
        return _issue(
            actor=actor,
            course=course,
            user=user,
            session=None,
            source=CertificateSource.MANUAL,
            issued_on=day,
            note=clean_text("note", note, limit=200, required=False),
        )


def certificate_revoke(
    *, actor: User | None, scope: Scope | None = None, certificate: Certificate, reason: str = ""
) -> Certificate:
    """Withdraw a certificate issued in error; it no longer counts for anything."""
    _require_manage(actor, scope, certificate.community_id)
    if certificate.revoked_at is not None:
        raise ConflictError(_("This certificate was already revoked."), code="revoked")
    certificate.revoked_at = _now()
    with transaction.atomic():
        certificate.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action="certificate.revoke",
            obj=certificate,
            community_id=certificate.community_id,
            changes={
                "revoked": [False, True],
                "reason": [None, clean_text("reason", reason, limit=500, required=False)],
            },
        )
    return certificate


# --------------------------------------------------------------------------- drills


@dataclass
class _Timings:
    started_at: dt.datetime | None
    alarm_raised_at: dt.datetime | None
    evacuation_complete_at: dt.datetime | None
    headcount_done_at: dt.datetime | None
    ended_at: dt.datetime | None


def _check_timings(t: _Timings) -> None:
    """The key times must be in order: start ≤ alarm ≤ evacuation/headcount ≤ end."""
    order = [
        ("alarm_raised_at", t.started_at, t.alarm_raised_at),
        ("evacuation_complete_at", t.alarm_raised_at, t.evacuation_complete_at),
        ("headcount_done_at", t.alarm_raised_at, t.headcount_done_at),
        ("ended_at", t.started_at, t.ended_at),
        ("ended_at", t.evacuation_complete_at, t.ended_at),
        ("ended_at", t.headcount_done_at, t.ended_at),
    ]
    for field, earlier, later in order:
        if earlier is not None and later is not None and later < earlier:
            raise ServiceError(_("This time is before an earlier step of the drill."), field=field)
    if t.ended_at is not None and t.started_at is None:
        raise ServiceError(_("Enter when the drill started."), field="started_at")


def drill_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    kind: str,
    title: str,
    planned_at: dt.datetime,
    zone: Zone | None = None,
    resident_count: int = 0,
    summary: str = "",
) -> Drill:
    """Plan a drill."""
    _require_manage(actor, scope, community.pk)
    if not isinstance(planned_at, dt.datetime):
        raise ServiceError(_("Enter the date and time it is planned for."), field="planned_at")
    drill = Drill(
        community=community,
        kind=_choice("kind", kind, DrillKind),
        title=clean_text("title", title, limit=120),
        planned_at=planned_at,
        zone=_zone(community.pk, zone),
        resident_count=_number("resident_count", resident_count, low=0, high=1_000_000) or 0,
        summary=clean_text("summary", summary, limit=10_000, required=False),
    )
    with transaction.atomic():
        drill.save()
        _audit(actor, "drill.create", drill, {}, snapshot(drill, DRILL_FIELDS))
    return drill


def drill_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    drill: Drill,
    kind: str | Unset = UNSET,
    title: str | Unset = UNSET,
    planned_at: dt.datetime | Unset = UNSET,
    zone: Zone | Unset | None = UNSET,
    started_at: dt.datetime | Unset | None = UNSET,
    alarm_raised_at: dt.datetime | Unset | None = UNSET,
    evacuation_complete_at: dt.datetime | Unset | None = UNSET,
    headcount_done_at: dt.datetime | Unset | None = UNSET,
    ended_at: dt.datetime | Unset | None = UNSET,
    resident_count: int | Unset = UNSET,
    status: str | Unset = UNSET,
    summary: str | Unset = UNSET,
) -> Drill:
    """Change a drill, record its key times and move it along planned → held → reviewed;
    arguments left at :data:`UNSET` keep their value."""
    _require_manage(actor, scope, drill.community_id)
    before = snapshot(drill, DRILL_FIELDS)
    if kind is not UNSET:
        drill.kind = _choice("kind", kind, DrillKind)
    if title is not UNSET:
        drill.title = clean_text("title", title, limit=120)
    if planned_at is not UNSET:
        if not isinstance(planned_at, dt.datetime):
            raise ServiceError(_("Enter the date and time it is planned for."), field="planned_at")
        drill.planned_at = planned_at
    if zone is not UNSET:
        drill.zone = _zone(drill.community_id, zone)
    timings = {
        "started_at": started_at,
        "alarm_raised_at": alarm_raised_at,
        "evacuation_complete_at": evacuation_complete_at,
        "headcount_done_at": headcount_done_at,
        "ended_at": ended_at,
    }
    for name, value in timings.items():
        if value is not UNSET:
            setattr(drill, name, value)
    _check_timings(
        _Timings(
            drill.started_at,
            drill.alarm_raised_at,
            drill.evacuation_complete_at,
            drill.headcount_done_at,
            drill.ended_at,
        )
    )
    if resident_count is not UNSET:
        drill.resident_count = _number("resident_count", resident_count, low=0, high=1_000_000) or 0
    if summary is not UNSET:
        drill.summary = clean_text("summary", summary, limit=10_000, required=False)
    if status is not UNSET:
        drill.status = _choice("status", status, DrillStatus)
    if drill.status != DrillStatus.PLANNED and drill.started_at is None:
        raise ServiceError(_("Enter when the drill started."), field="started_at")
    if drill.status == DrillStatus.REVIEWED and drill.ended_at is None:
        raise ServiceError(_("Enter when the drill ended before reviewing it."), field="ended_at")
    with transaction.atomic():
        drill.save()
        after = snapshot(drill, DRILL_FIELDS)
        if after != before:
            _audit(actor, "drill.update", drill, before, after)
        _award_drill_points(drill)
    return drill


def _award_drill_points(drill: Drill) -> None:
    """Once a drill was held, each participant earns the community's drill points once (keyed
    by the drill), also when they are added to it later."""
    if drill.status == DrillStatus.PLANNED:
        return
    occurred_at = drill.started_at or drill.planned_at
    for user in drill.participants.all():
        points_award(
            community=drill.community,
            user=user,
            source_kind=PointSource.DRILL_PARTICIPATION,
            source_key=f"drill:{drill.pk}",
            quantity=1,
            occurred_at=occurred_at,
            reason=drill.title,
        )


def drill_set_participants(
    *, actor: User | None, scope: Scope | None = None, drill: Drill, users: Iterable[User]
) -> Drill:
    """Replace who took part in a drill (people of its community)."""
    _require_manage(actor, scope, drill.community_id)
    chosen = {user.pk: user for user in users}
    members = set(
        Membership.objects.filter(
            community_id=drill.community_id, user_id__in=list(chosen)
        ).values_list("user_id", flat=True)
    )
    if set(chosen) - members:
        raise ServiceError(_("Choose people of this community."), field="participants")
    before = sorted(drill.participants.values_list("pk", flat=True))
    after = sorted(chosen)
    with transaction.atomic():
        drill.participants.set(list(chosen.values()))
        if before != after:
            audit_record(
                actor=actor,
                action="drill.participants",
                obj=drill,
                community_id=drill.community_id,
                changes={"participants": [before, after]},
            )
        _award_drill_points(drill)
    return drill


def finding_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    drill: Drill,
    text: str,
    severity: str = FindingSeverity.MEDIUM,
    owner: User | None = None,
    deadline: dt.date | None = None,
) -> DrillFinding:
    """Record something a drill showed must be fixed."""
    _require_manage(actor, scope, drill.community_id)
    finding = DrillFinding(
        drill=drill,
        community_id=drill.community_id,
        text=clean_text("text", text, limit=5000),
        severity=_choice("severity", severity, FindingSeverity),
        owner=None if owner is None else _member(drill.community_id, owner, "owner"),
        deadline=deadline,
    )
    with transaction.atomic():
        finding.save()
        _audit(actor, "drill_finding.create", finding, {}, snapshot(finding, FINDING_FIELDS))
    return finding


def finding_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    finding: DrillFinding,
    text: str | Unset = UNSET,
    severity: str | Unset = UNSET,
    owner: User | Unset | None = UNSET,
    deadline: dt.date | Unset | None = UNSET,
    closed: bool | Unset = UNSET,
) -> DrillFinding:
    """Change a finding, or close or reopen it (``closed``)."""
    _require_manage(actor, scope, finding.community_id)
    before = snapshot(finding, FINDING_FIELDS)
    if text is not UNSET:
        finding.text = clean_text("text", text, limit=5000)
    if severity is not UNSET:
        finding.severity = _choice("severity", severity, FindingSeverity)
    if owner is not UNSET:
        finding.owner = None if owner is None else _member(finding.community_id, owner, "owner")
    if deadline is not UNSET:
        finding.deadline = deadline
    if closed is not UNSET and bool(closed) != finding.is_closed:
        finding.closed_at = _now() if closed else None
    with transaction.atomic():
        finding.save()
        after = snapshot(finding, FINDING_FIELDS)
        if after != before:
            _audit(actor, "drill_finding.update", finding, before, after)
    return finding

"""JSON API of the training domain: courses, sessions with their attendance (marked by staff or
checked in with the session's signed QR code), completing a session, certificates (filter
expiring and lapsed), a person's required training, drills with their timings, participants and
findings.

Reads are scoped: an object of a community the caller cannot see is 404. Writes go through
:mod:`anwang.training.services`, which need the manage-training permission (403 when the caller
may only see training). Everyone signed in sees their own attendance and certificates
(``/training/my/...``) and may check in with a session code: a refused code answers 400 with
the reason in ``code`` (``malformed``, ``forged``, ``expired``, ``other_community``,
``closed``).
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.core.schemas import PersonOut
from anwang.places import selectors as place_selectors
from anwang.places.models import Community, Zone
from anwang.training import selectors, services
from anwang.training.certificate_pdf import certificate_pdf
from anwang.training.choices import (
    CertificateState,
    CourseTopic,
    DrillKind,
    DrillStatus,
    SessionStatus,
)
from anwang.training.models import Attendance, Certificate, Course, Drill, DrillFinding
from anwang.training.models import TrainingSession as Session
from anwang.training.schemas import (
    AttendanceCodeOut,
    AttendanceOut,
    AttendanceResultIn,
    CertificateIn,
    CertificateOut,
    CheckInIn,
    CheckInOut,
    CourseIn,
    CourseOut,
    CoursePatch,
    DrillIn,
    DrillOut,
    DrillPatch,
    FindingIn,
    FindingOut,
    FindingPatch,
    MyAttendanceOut,
    ParticipantsIn,
    PersonStatusOut,
    RevokeIn,
    SessionCompleteIn,
    SessionIn,
    SessionOut,
    SessionPatch,
    StatusRowOut,
    TrainingAttendanceIn,
)
from anwang.training.selectors import TrainingStatusRow

router = Router(tags=["training"])
PAGE_SIZE = 50


def community_for(scope: Scope, community_id: int) -> Community:
    """A community whose training the caller may see; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not selectors.can_view(scope, community_id):
        raise Http404
    return community


def _zone(scope: Scope, zone_id: int | None) -> Zone | None:
    return None if zone_id is None else place_selectors.zone_get(scope, zone_id)


def _member(community_id: int, user_id: int) -> User:
    """A person with a role in the community; others are not found (404)."""
    user = selectors.community_members(community_id).filter(pk=user_id).first()
    if user is None:
        raise Http404
    return user


def _rows(rows: list[TrainingStatusRow]) -> list[StatusRowOut]:
    return [
        StatusRowOut(
            course=row.course.pk,
            course_title=row.course.title,
            state=row.state,
            valid_until=row.valid_until,
            certificate=None if row.certificate is None else row.certificate.pk,
            roles=list(row.roles),
        )
        for row in rows
    ]


def check_in_url(request: HttpRequest, token: str) -> str:
    """The absolute URL a session's QR carries: the phone page that records attendance."""
    path = reverse("training:check_in")
    return request.build_absolute_uri(f"{path}?t={token}")


# --------------------------------------------------------------------------- courses


@router.get("/training/courses", response=list[CourseOut], summary="List courses")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def course_list(
    request: HttpRequest,
    community_id: int | None = None,
    topic: CourseTopic | None = None,
    q: str | None = None,
    include_inactive: bool = True,
) -> QuerySet[Course]:
    """Courses of the caller's communities."""
    return selectors.course_list(
        request_scope(request),
        community_id=community_id,
        topic=topic,
        q=q,
        include_inactive=include_inactive,
    )


@router.post("/training/courses", response={201: CourseOut}, summary="Add a course")
def course_create(request: HttpRequest, payload: CourseIn) -> Status[Course]:
    """Add a course to a community."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = community_for(scope, values.pop("community_id"))
    course = services.course_create(
        actor=request_actor(request), scope=scope, community=community, **values
    )
    return Status(201, course)


@router.get("/training/courses/{course_id}", response=CourseOut, summary="A course")
def course_get(request: HttpRequest, course_id: int) -> Course:
    """One course."""
    return selectors.course_get(request_scope(request), course_id)


@router.patch("/training/courses/{course_id}", response=CourseOut, summary="Change a course")
def course_update(request: HttpRequest, course_id: int, payload: CoursePatch) -> Course:
    """Change a course; only the fields sent change."""
    scope = request_scope(request)
    course = selectors.course_get(scope, course_id)
    return services.course_update(
        actor=request_actor(request),
        scope=scope,
        course=course,
        **payload.model_dump(exclude_unset=True),
    )


# --------------------------------------------------------------------------- sessions


@router.get("/training/sessions", response=list[SessionOut], summary="List sessions")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def session_list(
    request: HttpRequest,
    community_id: int | None = None,
    course_id: int | None = None,
    status: SessionStatus | None = None,
    upcoming: bool = False,
) -> QuerySet[Session]:
    """Sessions of the caller's communities, newest first."""
    return selectors.session_list(
        request_scope(request),
        community_id=community_id,
        course_id=course_id,
        status=status,
        upcoming=upcoming,
    )


@router.post("/training/sessions", response={201: SessionOut}, summary="Schedule a session")
def session_create(request: HttpRequest, payload: SessionIn) -> Status[Session]:
    """Schedule a session of a course."""
    scope = request_scope(request)
    values = payload.model_dump()
    course = selectors.course_get(scope, values.pop("course_id"))
    session = services.session_create(
        actor=request_actor(request),
        scope=scope,
        course=course,
        zone=_zone(scope, values.pop("zone_id")),
        **values,
    )
    return Status(201, session)


@router.get("/training/sessions/{training_session_id}", response=SessionOut, summary="A session")
def session_get(request: HttpRequest, training_session_id: int) -> Session:
    """One session."""
    return selectors.session_get(request_scope(request), training_session_id)


@router.patch(
    "/training/sessions/{training_session_id}", response=SessionOut, summary="Change a session"
)
def session_update(
    request: HttpRequest, training_session_id: int, payload: SessionPatch
) -> Session:
    """Change a session; only the fields sent change."""
    scope = request_scope(request)
    session = selectors.session_get(scope, training_session_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "zone_id" in values:
        values["zone"] = _zone(scope, values.pop("zone_id"))
    return services.session_update(
        actor=request_actor(request), scope=scope, session=session, **values
    )


@router.post(
    "/training/sessions/{training_session_id}/cancel",
    response=SessionOut,
    summary="Cancel a session",
)
def session_cancel(request: HttpRequest, training_session_id: int) -> Session:
    """Cancel a scheduled session; its attendance code stops working."""
    scope = request_scope(request)
    session = selectors.session_get(scope, training_session_id)
    return services.session_cancel(actor=request_actor(request), scope=scope, session=session)


@router.post(
    "/training/sessions/{training_session_id}/complete",
    response=list[CertificateOut],
    summary="Mark a session held and issue certificates",
)
def session_complete(
    request: HttpRequest, training_session_id: int, payload: SessionCompleteIn
) -> list[Certificate]:
    """Mark the session held; every attendee who did not fail gets a certificate of the course.
    Answers the certificates issued now (none when all had one already)."""
    scope = request_scope(request)
    session = selectors.session_get(scope, training_session_id)
    return services.session_complete(
        actor=request_actor(request), scope=scope, session=session, issued_on=payload.issued_on
    )


@router.get(
    "/training/sessions/{training_session_id}/attendance-code",
    response=AttendanceCodeOut,
    summary="The session's current attendance code",
)
def session_attendance_code(request: HttpRequest, training_session_id: int) -> AttendanceCodeOut:
    """The signed code (and check-in URL) to show as a QR; valid for 30 minutes. Only for
    people who run the session: whoever has the code can check in."""
    scope = request_scope(request)
    session = selectors.session_get(scope, training_session_id)
    if not selectors.can_manage(scope, session.community_id):
        raise PermissionDenied
    token = services.attendance_token(session)
    return AttendanceCodeOut(
        token=token,
        url=check_in_url(request, token),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=services.TOKEN_MAX_AGE),
    )


@router.get(
    "/training/sessions/{training_session_id}/attendance",
    response=list[AttendanceOut],
    summary="Who attended a session",
)
def session_attendance(request: HttpRequest, training_session_id: int) -> QuerySet[Attendance]:
    """The attendees of a session in the order they came."""
    scope = request_scope(request)
    session = selectors.session_get(scope, training_session_id)
    return selectors.session_attendance(scope, session)


@router.post(
    "/training/sessions/{training_session_id}/attendance",
    response={200: AttendanceOut, 201: AttendanceOut},
    summary="Mark a person present",
)
def attendance_record(
    request: HttpRequest, training_session_id: int, payload: TrainingAttendanceIn
) -> Status[Attendance]:
    """Mark a person of the session's community present by hand (201; 200 when they already
    were, with the result updated if one was sent)."""
    scope = request_scope(request)
    session = selectors.session_get(scope, training_session_id)
    result = services.attendance_record(
        actor=request_actor(request),
        scope=scope,
        session=session,
        user=_member(session.community_id, payload.user_id),
        passed=payload.passed,
    )
    return Status(201 if result.created else 200, result.attendance)


@router.patch(
    "/training/attendance/{attendance_id}",
    response=AttendanceOut,
    summary="Record an attendee's result",
)
def attendance_result(
    request: HttpRequest, attendance_id: int, payload: AttendanceResultIn
) -> Attendance:
    """Whether the attendee passed (null: not assessed); before certificates are issued."""
    scope = request_scope(request)
    attendance = selectors.attendance_get(scope, attendance_id)
    return services.attendance_set_result(
        actor=request_actor(request), scope=scope, attendance=attendance, passed=payload.passed
    )


@router.delete(
    "/training/attendance/{attendance_id}", response={204: None}, summary="Remove an attendance"
)
def attendance_remove(request: HttpRequest, attendance_id: int) -> Status[None]:
    """Take back an attendance recorded by mistake (not once a certificate was issued)."""
    scope = request_scope(request)
    attendance = selectors.attendance_get(scope, attendance_id)
    services.attendance_remove(actor=request_actor(request), scope=scope, attendance=attendance)
    return Status(204, None)


@router.post(
    "/training/check-in",
    response={200: CheckInOut, 201: CheckInOut},
    summary="Check in with a session's code",
)
def check_in(request: HttpRequest, payload: CheckInIn) -> Status[dict[str, Any]]:
    """Record the caller's own attendance at the session whose QR code they scanned (201; 200
    when they had already checked in)."""
    result = services.attendance_check_in(
        actor=request_actor(request), scope=request_scope(request), token=payload.token
    )
    attendance = result.attendance
    body = {
        "created": result.created,
        "attendance": attendance,
        "course_title": attendance.session.course.title,
    }
    return Status(201 if result.created else 200, body)


@router.get("/training/my/attendance", response=list[MyAttendanceOut], summary="My attendance")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def my_attendance(request: HttpRequest) -> QuerySet[Attendance]:
    """The caller's own attendances, newest first."""
    return selectors.my_attendance(request_scope(request))


@router.get("/training/my/status", response=list[PersonStatusOut], summary="My training status")
def my_status(request: HttpRequest, today: dt.date | None = None) -> list[PersonStatusOut]:
    """For each of the caller's communities, the courses their roles require and where they
    stand (``today`` evaluates another day, e.g. to plan renewals)."""
    scope = request_scope(request)
    user = request_actor(request)
    answer: list[PersonStatusOut] = []
    for community in Community.objects.filter(pk__in=scope.community_ids()).order_by("name"):
        rows = selectors.training_status_for(user, community, today=today)
        if rows:
            answer.append(
                PersonStatusOut(
                    user=PersonOut.from_orm(user), community=community.pk, rows=_rows(rows)
                )
            )
    return answer


@router.get(
    "/training/people/{user_id}/status",
    response=PersonStatusOut,
    summary="A person's training status",
)
def person_status(
    request: HttpRequest, user_id: int, community_id: int, today: dt.date | None = None
) -> PersonStatusOut:
    """The courses a person's roles in a community require and where they stand: current
    (with the date it is valid until), expiring soon, lapsed or missing."""
    user, community, rows = selectors.person_training_status(
        request_scope(request), user_id, community_id, today=today
    )
    return PersonStatusOut(user=PersonOut.from_orm(user), community=community.pk, rows=_rows(rows))


# --------------------------------------------------------------------------- certificates


@router.get("/training/certificates", response=list[CertificateOut], summary="List certificates")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def certificate_list(
    request: HttpRequest,
    community_id: int | None = None,
    course_id: int | None = None,
    user_id: int | None = None,
    state: CertificateState | None = None,
    within_days: int = selectors.EXPIRY_WINDOW_DAYS,
) -> QuerySet[Certificate]:
    """Certificates the caller may see, soonest expiring first; ``state=expiring`` keeps those
    expiring within ``within_days`` (default 30), ``state=lapsed`` the expired ones."""
    return selectors.certificate_list(
        request_scope(request),
        community_id=community_id,
        course_id=course_id,
        user_id=user_id,
        state=state,
        window_days=max(0, min(within_days, 3650)),
    )


@router.post(
    "/training/certificates", response={201: CertificateOut}, summary="Issue a certificate"
)
def certificate_issue(request: HttpRequest, payload: CertificateIn) -> Status[Certificate]:
    """Issue a certificate by hand; it expires after the course's validity."""
    scope = request_scope(request)
    course = selectors.course_get(scope, payload.course_id)
    certificate = services.certificate_issue(
        actor=request_actor(request),
        scope=scope,
        course=course,
        user=_member(course.community_id, payload.user_id),
        issued_on=payload.issued_on,
        note=payload.note,
    )
    return Status(201, certificate)


@router.get(
    "/training/certificates/{certificate_id}", response=CertificateOut, summary="A certificate"
)
def certificate_get(request: HttpRequest, certificate_id: int) -> Certificate:
    """One certificate (the caller's own, or one of their communities')."""
    return selectors.certificate_get(request_scope(request), certificate_id)


@router.post(
    "/training/certificates/{certificate_id}/revoke",
    response=CertificateOut,
    summary="Revoke a certificate",
)
def certificate_revoke(request: HttpRequest, certificate_id: int, payload: RevokeIn) -> Certificate:
    """Withdraw a certificate issued in error."""
    scope = request_scope(request)
    certificate = selectors.certificate_get(scope, certificate_id)
    return services.certificate_revoke(
        actor=request_actor(request), scope=scope, certificate=certificate, reason=payload.reason
    )


@router.get(
    "/training/certificates/{certificate_id}/pdf",
    summary="Print a certificate (PDF)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The certificate as an A4 landscape PDF.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def certificate_print(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """The certificate, printable, with Chinese text."""
    certificate = selectors.certificate_get(request_scope(request), certificate_id)
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    return response


# --------------------------------------------------------------------------- drills


@router.get("/training/drills", response=list[DrillOut], summary="List drills")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def drill_list(
    request: HttpRequest,
    community_id: int | None = None,
    kind: DrillKind | None = None,
    status: DrillStatus | None = None,
) -> QuerySet[Drill]:
    """Drills of the caller's communities, newest first."""
    return selectors.drill_list(
        request_scope(request), community_id=community_id, kind=kind, status=status
    )


@router.post("/training/drills", response={201: DrillOut}, summary="Plan a drill")
def drill_create(request: HttpRequest, payload: DrillIn) -> Status[Drill]:
    """Plan a drill in a community."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = community_for(scope, values.pop("community_id"))
    drill = services.drill_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        zone=_zone(scope, values.pop("zone_id")),
        **values,
    )
    return Status(201, selectors.drill_get(scope, drill.pk))


@router.get("/training/drills/{drill_id}", response=DrillOut, summary="A drill")
def drill_get(request: HttpRequest, drill_id: int) -> Drill:
    """One drill with its timings and durations."""
    return selectors.drill_get(request_scope(request), drill_id)


@router.patch("/training/drills/{drill_id}", response=DrillOut, summary="Change a drill")
def drill_update(request: HttpRequest, drill_id: int, payload: DrillPatch) -> Drill:
    """Change a drill, record its key times, move it to held or reviewed."""
    scope = request_scope(request)
    drill = selectors.drill_get(scope, drill_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "zone_id" in values:
        values["zone"] = _zone(scope, values.pop("zone_id"))
    services.drill_update(actor=request_actor(request), scope=scope, drill=drill, **values)
    return selectors.drill_get(scope, drill.pk)


@router.get(
    "/training/drills/{drill_id}/participants",
    response=list[PersonOut],
    summary="Who took part in a drill",
)
def drill_participants(request: HttpRequest, drill_id: int) -> QuerySet[User]:
    """The people who took part."""
    scope = request_scope(request)
    return selectors.drill_participants(scope, selectors.drill_get(scope, drill_id))


@router.put(
    "/training/drills/{drill_id}/participants",
    response=list[PersonOut],
    summary="Set who took part in a drill",
)
def drill_set_participants(
    request: HttpRequest, drill_id: int, payload: ParticipantsIn
) -> QuerySet[User]:
    """Replace the participants (people of the drill's community)."""
    scope = request_scope(request)
    drill = selectors.drill_get(scope, drill_id)
    users = list(selectors.community_members(drill.community_id).filter(pk__in=payload.user_ids))
    if len(users) != len(set(payload.user_ids)):
        raise ServiceError(_("Choose people of this community."), field="users")
    services.drill_set_participants(
        actor=request_actor(request), scope=scope, drill=drill, users=users
    )
    return selectors.drill_participants(scope, drill)


@router.get(
    "/training/drills/{drill_id}/findings",
    response=list[FindingOut],
    summary="A drill's findings",
)
def finding_list(request: HttpRequest, drill_id: int) -> QuerySet[DrillFinding]:
    """The findings of a drill, open ones first."""
    scope = request_scope(request)
    drill = selectors.drill_get(scope, drill_id)
    return selectors.finding_list(scope, drill_id=drill.pk)


@router.post(
    "/training/drills/{drill_id}/findings",
    response={201: FindingOut},
    summary="Add a drill finding",
)
def finding_create(request: HttpRequest, drill_id: int, payload: FindingIn) -> Status[DrillFinding]:
    """Record something the drill showed must be fixed."""
    scope = request_scope(request)
    drill = selectors.drill_get(scope, drill_id)
    owner = None if payload.owner_id is None else _member(drill.community_id, payload.owner_id)
    finding = services.finding_create(
        actor=request_actor(request),
        scope=scope,
        drill=drill,
        text=payload.text,
        severity=payload.severity,
        owner=owner,
        deadline=payload.deadline,
    )
    return Status(201, finding)


@router.get("/training/findings/{drill_finding_id}", response=FindingOut, summary="A drill finding")
def finding_get(request: HttpRequest, drill_finding_id: int) -> DrillFinding:
    """One finding."""
    return selectors.finding_get(request_scope(request), drill_finding_id)


@router.patch(
    "/training/findings/{drill_finding_id}", response=FindingOut, summary="Change a drill finding"
)
def finding_update(
    request: HttpRequest, drill_finding_id: int, payload: FindingPatch
) -> DrillFinding:
    """Change a finding; ``closed`` closes or reopens it."""
    scope = request_scope(request)
    finding = selectors.finding_get(scope, drill_finding_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "owner_id" in values:
        owner_id = values.pop("owner_id")
        values["owner"] = None if owner_id is None else _member(finding.community_id, owner_id)
    return services.finding_update(
        actor=request_actor(request), scope=scope, finding=finding, **values
    )

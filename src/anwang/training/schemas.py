"""Request and response bodies of the training API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from anwang.accounts.choices import Role
from anwang.core.schemas import PersonOut
from anwang.training.choices import (
    AttendanceMethod,
    CertificateSource,
    CertificateState,
    CourseTopic,
    DrillKind,
    DrillStatus,
    FindingSeverity,
    SessionStatus,
    TrainingState,
)
from anwang.training.models import Certificate
from anwang.training.selectors import certificate_state

# --------------------------------------------------------------------------- courses


class CourseOut(Schema):
    """A course of a community."""

    id: int
    community: int = Field(alias="community_id")
    title: str
    topic: CourseTopic
    description: str
    duration_minutes: int
    validity_months: int | None = Field(description="Null: certificates never expire.")
    required_for_roles: list[Role]
    is_active: bool


class CourseIn(Schema):
    """A new course."""

    community_id: int = Field(alias="community")
    title: str
    topic: CourseTopic
    description: str = ""
    duration_minutes: int = Field(60, ge=1)
    validity_months: int | None = Field(None, ge=1, description="Null: never expires.")
    required_for_roles: list[Role] = []
    is_active: bool = True


class CoursePatch(Schema):
    """Changes to a course; ``validity_months`` may be set to null (never expires)."""

    title: str | None = None
    topic: CourseTopic | None = None
    description: str | None = None
    duration_minutes: int | None = Field(None, ge=1)
    validity_months: int | None = Field(None, ge=1)
    required_for_roles: list[Role] | None = None
    is_active: bool | None = None


# --------------------------------------------------------------------------- sessions


class SessionOut(Schema):
    """A session of a course."""

    id: int
    community: int = Field(alias="community_id")
    course: int = Field(alias="course_id")
    course_title: str = Field(alias="course.title")
    starts_at: datetime
    ends_at: datetime
    zone: int | None = Field(alias="zone_id")
    place: str
    trainer_name: str
    capacity: int | None
    status: SessionStatus
    note: str


class SessionIn(Schema):
    """A new session of a course."""

    course_id: int = Field(alias="course")
    starts_at: datetime
    ends_at: datetime
    zone_id: int | None = Field(None, alias="zone")
    place: str = ""
    trainer_name: str = ""
    capacity: int | None = Field(None, ge=1)
    note: str = ""


class SessionPatch(Schema):
    """Changes to a session."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    zone_id: int | None = Field(None, alias="zone")
    place: str | None = None
    trainer_name: str | None = None
    capacity: int | None = Field(None, ge=1)
    note: str | None = None


class SessionCompleteIn(Schema):
    """Completing a session: the day its certificates count from (the session's last day)."""

    issued_on: date | None = None


class AttendanceOut(Schema):
    """One person's attendance at a session."""

    id: int
    session: int = Field(alias="session_id")
    user: PersonOut
    method: AttendanceMethod
    recorded_at: datetime
    passed: bool | None


class TrainingAttendanceIn(Schema):
    """Marking a person present by hand, optionally with their result."""

    user_id: int = Field(alias="user")
    passed: bool | None = None


class AttendanceResultIn(Schema):
    """Whether an attendee passed (null: not assessed)."""

    passed: bool | None


class AttendanceCodeOut(Schema):
    """The session's current attendance code, the URL its QR carries, and until when."""

    token: str
    url: str
    expires_at: datetime


class CheckInIn(Schema):
    """A scanned attendance code."""

    token: str = Field(description="The `t` parameter of the URL in the session's QR code.")


class CheckInOut(Schema):
    """The attendance a check-in recorded (or found, when scanned again)."""

    created: bool
    attendance: AttendanceOut
    course_title: str


class MyAttendanceOut(Schema):
    """One of the caller's attendances."""

    id: int
    session: int = Field(alias="session_id")
    community: int = Field(alias="session.community_id")
    course_title: str = Field(alias="session.course.title")
    starts_at: datetime = Field(alias="session.starts_at")
    method: AttendanceMethod
    recorded_at: datetime
    passed: bool | None


# --------------------------------------------------------------------------- certificates


class CertificateOut(Schema):
    """A certificate and its state today."""

    id: int
    number: str
    community: int = Field(alias="community_id")
    course: int = Field(alias="course_id")
    course_title: str = Field(alias="course.title")
    user: PersonOut
    session: int | None = Field(alias="session_id")
    source: CertificateSource
    issued_on: date
    expires_on: date | None
    revoked_at: datetime | None
    note: str
    state: CertificateState

    @staticmethod
    def resolve_state(obj: Certificate) -> CertificateState:
        """Current, expiring within 30 days, lapsed or revoked."""
        return certificate_state(obj)


class CertificateIn(Schema):
    """A certificate issued by hand."""

    course_id: int = Field(alias="course")
    user_id: int = Field(alias="user")
    issued_on: date | None = Field(None, description="Today when empty.")
    note: str = ""


class RevokeIn(Schema):
    """Why a certificate is withdrawn."""

    reason: str = ""


class StatusRowOut(Schema):
    """Where a person stands on one required course."""

    course: int
    course_title: str
    state: TrainingState
    valid_until: date | None
    certificate: int | None
    roles: list[Role]


class PersonStatusOut(Schema):
    """A person's required training in one community."""

    user: PersonOut
    community: int
    rows: list[StatusRowOut]


# --------------------------------------------------------------------------- drills


class DrillOut(Schema):
    """A drill with its key times and the durations computed from them."""

    id: int
    community: int = Field(alias="community_id")
    kind: DrillKind
    title: str
    zone: int | None = Field(alias="zone_id")
    planned_at: datetime
    started_at: datetime | None
    alarm_raised_at: datetime | None
    evacuation_complete_at: datetime | None
    headcount_done_at: datetime | None
    ended_at: datetime | None
    evacuation_seconds: int | None = Field(description="Alarm raised to evacuation complete.")
    headcount_seconds: int | None = Field(description="Alarm raised to headcount done.")
    total_seconds: int | None = Field(description="Start to end.")
    resident_count: int
    participant_count: int = 0
    status: DrillStatus
    summary: str


class DrillIn(Schema):
    """A new drill."""

    community_id: int = Field(alias="community")
    kind: DrillKind
    title: str
    planned_at: datetime
    zone_id: int | None = Field(None, alias="zone")
    resident_count: int = Field(0, ge=0)
    summary: str = ""


class DrillPatch(Schema):
    """Changes to a drill: its key times and status among them (null clears a time)."""

    kind: DrillKind | None = None
    title: str | None = None
    planned_at: datetime | None = None
    zone_id: int | None = Field(None, alias="zone")
    started_at: datetime | None = None
    alarm_raised_at: datetime | None = None
    evacuation_complete_at: datetime | None = None
    headcount_done_at: datetime | None = None
    ended_at: datetime | None = None
    resident_count: int | None = Field(None, ge=0)
    status: DrillStatus | None = None
    summary: str | None = None


class ParticipantsIn(Schema):
    """Who took part in a drill (replaces the list)."""

    user_ids: list[int] = Field(alias="users")


class FindingOut(Schema):
    """A drill finding."""

    id: int
    drill: int = Field(alias="drill_id")
    community: int = Field(alias="community_id")
    text: str
    severity: FindingSeverity
    owner: PersonOut | None
    deadline: date | None
    closed_at: datetime | None


class FindingIn(Schema):
    """A new drill finding."""

    text: str
    severity: FindingSeverity = FindingSeverity.MEDIUM
    owner_id: int | None = Field(None, alias="owner")
    deadline: date | None = None


class FindingPatch(Schema):
    """Changes to a finding; ``closed`` closes or reopens it."""

    text: str | None = None
    severity: FindingSeverity | None = None
    owner_id: int | None = Field(None, alias="owner")
    deadline: date | None = None
    closed: bool | None = None


def person(user: Any) -> dict[str, Any]:
    """A user as :class:`PersonOut` data."""
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}

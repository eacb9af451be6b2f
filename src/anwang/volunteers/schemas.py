"""Request and response bodies of the volunteers API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Schema

from anwang.volunteers.choices import HoursKind, SignupStatus, Skill, VolunteerStatus
from anwang.volunteers.models import Volunteer


class VolunteerOut(Schema):
    """An application or volunteer; contact details stay on the person's account."""

    id: int
    community: int = Field(alias="community_id")
    user: int = Field(alias="user_id")
    name: str
    status: VolunteerStatus
    skills: list[Skill]
    languages: str
    other_skills: str
    availability: list[str] = Field(description="Slots as `weekday:part`, e.g. `sat:morning`.")
    motivation: str
    applied_at: datetime
    decided_at: datetime | None
    status_reason: str

    @staticmethod
    def resolve_name(obj: Volunteer) -> str:
        """The person's display name, else their user name."""
        return str(obj)


class VolunteerIn(Schema):
    """An application to volunteer in a community the caller belongs to."""

    community_id: int = Field(alias="community")
    skills: list[Skill] = []
    languages: str = ""
    other_skills: str = ""
    availability: list[str] = Field(
        [],
        description="Slots as `weekday:part`: weekdays mon..sun, parts morning, afternoon, "
        "evening.",
    )
    motivation: str = ""


class VolunteerPatch(Schema):
    """Changes to an application or volunteer's skills and availability."""

    skills: list[Skill] | None = None
    languages: str | None = None
    other_skills: str | None = None
    availability: list[str] | None = None
    motivation: str | None = None


class ReasonIn(Schema):
    """Why (refusal, suspension, cancellation)."""

    reason: str


class OptionalReasonIn(Schema):
    """Why, if the person wants to say."""

    reason: str = ""


class TeamOut(Schema):
    """A team with its leader and members (volunteer ids)."""

    id: int
    community: int = Field(alias="community_id")
    name: str
    description: str
    leader: int | None = Field(alias="leader_id")
    members: list[int]


class TeamIn(Schema):
    """A new team."""

    community_id: int = Field(alias="community")
    name: str
    description: str = ""
    leader_id: int | None = Field(None, alias="leader")
    member_ids: list[int] = Field([], alias="members")


class TeamPatch(Schema):
    """Changes to a team; ``members`` replaces them all."""

    name: str | None = None
    description: str | None = None
    leader_id: int | None = Field(None, alias="leader")
    member_ids: list[int] | None = Field(None, alias="members")


class ShiftOut(Schema):
    """A shift with the places taken and whether the caller is signed up."""

    id: int
    community: int = Field(alias="community_id")
    team: int | None = Field(alias="team_id")
    zone: int | None = Field(alias="zone_id")
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    signed_up: int = 0
    mine: bool = False
    cancelled_at: datetime | None
    cancel_reason: str


class ShiftIn(Schema):
    """A new shift."""

    community_id: int = Field(alias="community")
    title: str
    description: str = ""
    team_id: int | None = Field(None, alias="team")
    zone_id: int | None = Field(None, alias="zone")
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1)


class ShiftPatch(Schema):
    """Changes to a shift."""

    title: str | None = None
    description: str | None = None
    team_id: int | None = Field(None, alias="team")
    zone_id: int | None = Field(None, alias="zone")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int | None = Field(None, ge=1)


class SignupOut(Schema):
    """A volunteer's place on a shift with attendance and the hours on the ledger."""

    id: int
    shift: int = Field(alias="shift_id")
    volunteer: int = Field(alias="volunteer_id")
    name: str
    status: SignupStatus
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    hours: Decimal | None = None

    @staticmethod
    def resolve_name(obj: object) -> str:
        """The volunteer's name."""
        return str(getattr(obj, "volunteer", ""))

    @staticmethod
    def resolve_hours(obj: object) -> Decimal | None:
        """The hours on the ledger for this shift, to 0.01 (SQLite sums are not exact)."""
        hours = getattr(obj, "hours", None)
        return None if hours is None else Decimal(str(hours)).quantize(Decimal("0.01"))


class ShiftAttendanceIn(Schema):
    """Check-in or check-out: of the caller, or of ``volunteer`` by a team leader or admin."""

    volunteer_id: int | None = Field(None, alias="volunteer")
    at: datetime | None = Field(None, description="Only for someone else; default now.")


class HoursCorrectionIn(Schema):
    """A volunteer's corrected hours for a shift, with the reason."""

    volunteer_id: int = Field(alias="volunteer")
    hours: Decimal
    reason: str


class HoursOut(Schema):
    """One row of the service-hours ledger."""

    id: int
    community: int = Field(alias="community_id")
    volunteer: int = Field(alias="volunteer_id")
    shift: int | None = Field(alias="shift_id")
    kind: HoursKind
    hours: Decimal
    served_on: date
    reason: str
    recorded_at: datetime

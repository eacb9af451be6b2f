"""Schemas of the rosters API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from anwang.rosters.choices import DutyRole, ExceptionKind


class DutyPatternOut(Schema):
    """A person's recurring duty in a duty role."""

    id: int
    community: int = Field(alias="community_id")
    duty_role: DutyRole
    person: int = Field(alias="person_id")
    person_name: str
    first_start: datetime = Field(description="Start of the first shift (community's zone).")
    duration_minutes: int = Field(description="Length of each shift in minutes.")
    rrule: str = Field(description="RFC 5545 recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO,TU.")
    is_active: bool
    note: str

    @staticmethod
    def resolve_duration_minutes(obj: Any) -> int:
        """The shift length in whole minutes."""
        return int(obj.duration.total_seconds() // 60)

    @staticmethod
    def resolve_person_name(obj: Any) -> str:
        """The person's display name."""
        return str(obj.person)


class DutyPatternIn(Schema):
    """A new duty pattern."""

    community_id: int = Field(alias="community")
    duty_role: DutyRole
    person_id: int = Field(alias="person")
    first_start: datetime
    duration_minutes: int = Field(ge=1, le=24 * 60)
    rrule: str
    is_active: bool = True
    note: str = ""


class DutyPatternPatch(Schema):
    """Changes to a duty pattern."""

    duty_role: DutyRole | None = None
    person_id: int | None = Field(None, alias="person")
    first_start: datetime | None = None
    duration_minutes: int | None = Field(None, ge=1, le=24 * 60)
    rrule: str | None = None
    is_active: bool | None = None
    note: str | None = None


class DutyExceptionIn(Schema):
    """A cancelled or swapped shift (or range of shifts) of a pattern or of a person."""

    community_id: int = Field(alias="community")
    kind: ExceptionKind
    pattern_id: int | None = Field(None, alias="pattern")
    person_id: int | None = Field(None, alias="person")
    duty_role: DutyRole | None = None
    shift_key: str = Field("", description="The shift's key, its local start as YYYYMMDDTHHMM.")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    replacement_id: int | None = Field(None, alias="replacement")
    reason: str = ""


class DutyExceptionOut(Schema):
    """A recorded exception."""

    id: int
    community: int = Field(alias="community_id")
    kind: ExceptionKind
    pattern: int | None = Field(alias="pattern_id")
    person: int | None = Field(alias="person_id")
    duty_role: DutyRole
    shift_key: str
    starts_at: datetime | None
    ends_at: datetime | None
    replacement: int | None = Field(alias="replacement_id")
    reason: str


class OnDutyOut(Schema):
    """One shift of duty as it stands after exceptions and swaps."""

    person: int
    person_name: str
    duty_role: DutyRole
    start: datetime
    end: datetime = Field(description="Exclusive: at this instant the next shift holds duty.")
    pattern: int
    shift_key: str
    swapped_from: int | None

    @classmethod
    def of(cls, duty: Any) -> OnDutyOut:
        """The schema of a :class:`anwang.rosters.selectors.OnDuty`."""
        return cls(
            person=duty.person.pk,
            person_name=str(duty.person),
            duty_role=duty.duty_role,
            start=duty.start,
            end=duty.end,
            pattern=duty.pattern.pk,
            shift_key=duty.shift_key,
            swapped_from=duty.swapped_from.pk if duty.swapped_from else None,
        )

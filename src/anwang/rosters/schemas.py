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
    """A recorded exception: whose shifts (one by key, or those starting in a range), what
    happens to them, and who made the change."""

    id: int
    community: int = Field(alias="community_id")
    kind: ExceptionKind
    pattern: int | None = Field(alias="pattern_id")
    person: int | None = Field(alias="person_id")
    person_name: str = Field(description="Whose shifts these are.")
    duty_role: DutyRole
    shift_key: str
    shift_start: datetime | None = Field(
        description="The start of the shift the key names (null for a range)."
    )
    starts_at: datetime | None
    ends_at: datetime | None
    replacement: int | None = Field(alias="replacement_id")
    replacement_name: str = Field(description="Who takes the shifts of a swap, else empty.")
    reason: str
    created_by: int | None = Field(alias="created_by_id")
    created_by_name: str = Field(description="Who made the change; empty for the system.")
    created_at: datetime

    @staticmethod
    def resolve_person_name(obj: Any) -> str:
        """The display name of the person whose shifts these are."""
        return str(obj.person) if obj.person_id else ""

    @staticmethod
    def resolve_replacement_name(obj: Any) -> str:
        """The replacement's display name."""
        return str(obj.replacement) if obj.replacement_id else ""

    @staticmethod
    def resolve_created_by_name(obj: Any) -> str:
        """The display name of who made the change."""
        return str(obj.created_by) if obj.created_by_id else ""

    @staticmethod
    def resolve_shift_start(obj: Any) -> datetime | None:
        """The start the shift key names."""
        from anwang.rosters.selectors import shift_key_start

        return shift_key_start(obj.shift_key) if obj.shift_key else None


class ShiftSwapIn(Schema):
    """Two people swap one shift each: the other pattern's person takes the first shift, the
    first pattern's person takes the other."""

    community_id: int = Field(alias="community")
    pattern_id: int = Field(alias="pattern")
    shift_key: str = Field(description="The first shift's key, its local start YYYYMMDDTHHMM.")
    other_pattern_id: int = Field(alias="other_pattern")
    other_shift_key: str = Field(description="The other shift's key.")
    reason: str = ""


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

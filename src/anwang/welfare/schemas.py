"""Schemas of the welfare-check API. Names start with ``Welfare`` (they are unique across the
project's OpenAPI document). Family contacts' phone numbers leave the server masked."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from anwang.welfare.models import (
    DEFAULT_ESCALATE_MINUTES,
    DEFAULT_QUIET_HOURS,
    WelfareCheck,
    WelfareWatch,
)

# --------------------------------------------------------------------------- enrolments


class WelfareWatchIn(Schema):
    """A resident's enrolment in welfare checks."""

    resident_id: int
    consent_id: int | None = Field(
        None, description="The resident's welfare-check consent (default: the one in force)"
    )
    consent_how: str = Field(
        "",
        description="How the resident consented, when no consent is on record: recorded as "
        "their welfare-check consent",
    )
    quiet_hours: int = Field(DEFAULT_QUIET_HOURS, description="Hours of silence before a check")
    use_baseline: bool = Field(
        True, description="Wait up to twice as long when the home is usually quiet longer"
    )
    assignee_id: int | None = Field(
        None, description="Who visits (default: the household's grid worker)"
    )
    escalate_after_minutes: int = Field(
        DEFAULT_ESCALATE_MINUTES, description="When the family contact is called if not closed"
    )
    family_contact_id: int | None = Field(None, description="One of the resident's contacts")
    device_ids: list[int] = Field(
        default_factory=list, description="Home sensors of the community whose activity counts"
    )


class WelfareWatchPatch(Schema):
    """An enrolment's settings; fields left out keep their value."""

    quiet_hours: int | None = None
    use_baseline: bool | None = None
    assignee_id: int | None = Field(None, description="null: the household's grid worker")
    escalate_after_minutes: int | None = None
    family_contact_id: int | None = Field(None, description="null: no family contact")
    device_ids: list[int] | None = None


class WelfarePauseIn(Schema):
    """Pause checks until a time (away, in hospital); ``until`` null resumes them now."""

    until: dt.datetime | None = None


class WelfareEndIn(Schema):
    """End an enrolment; ``withdraw_consent`` records that the resident withdrew it."""

    withdraw_consent: bool = False


class WelfareBaselineOut(Schema):
    """The household's usual longest quiet spell, learned over some weeks."""

    hours: float
    weeks: int


class WelfareWatchStatusOut(Schema):
    """Where the resident stands now (reading it is audited)."""

    last_activity_at: dt.datetime | None
    quiet_for_hours: float | None
    threshold_hours: float
    baseline: WelfareBaselineOut | None
    paused: bool
    open_check_id: int | None
    next_check_at: dt.datetime | None


class WelfareWatchOut(Schema):
    """An enrolment."""

    id: int
    community_id: int
    resident_id: int
    resident_name: str
    consent_id: int
    enrolled_at: dt.datetime
    quiet_hours: int
    use_baseline: bool
    assignee_id: int | None
    assignee_name: str
    escalate_after_minutes: int
    family_contact_id: int | None
    family_contact_name: str
    device_ids: list[int]
    paused_until: dt.datetime | None
    ended_at: dt.datetime | None
    baseline_hours: float | None

    @staticmethod
    def resolve_resident_name(watch: WelfareWatch) -> str:
        """Who is watched."""
        return watch.resident.name

    @staticmethod
    def resolve_assignee_name(watch: WelfareWatch) -> str:
        """Who visits; empty: the household's grid worker."""
        return str(watch.assignee) if watch.assignee is not None else ""

    @staticmethod
    def resolve_family_contact_name(watch: WelfareWatch) -> str:
        """The family contact's name (the number is on the resident's page, masked)."""
        return watch.family_contact.name if watch.family_contact is not None else ""

    @staticmethod
    def resolve_device_ids(watch: WelfareWatch) -> list[int]:
        """The home sensors."""
        return sorted(device.pk for device in watch.devices.all())


class WelfareWatchDetailOut(WelfareWatchOut):
    """An enrolment and where the resident stands now."""

    status: WelfareWatchStatusOut


# --------------------------------------------------------------------------- checks


class WelfareCheckOut(Schema):
    """A check opened by a silence."""

    id: int
    watch_id: int
    community_id: int
    resident_id: int
    resident_name: str
    household_id: int | None
    household_label: str
    opened_at: dt.datetime
    quiet_since: dt.datetime | None
    threshold_hours: float
    assignee_id: int | None
    assignee_name: str
    escalate_at: dt.datetime
    escalated_at: dt.datetime | None
    status: str
    outcome: str
    note: str
    closed_at: dt.datetime | None
    closed_by_id: int | None

    @staticmethod
    def resolve_resident_id(check: WelfareCheck) -> int:
        """Who is checked on."""
        return check.watch.resident_id

    @staticmethod
    def resolve_resident_name(check: WelfareCheck) -> str:
        """Who is checked on."""
        return check.watch.resident.name

    @staticmethod
    def resolve_household_label(check: WelfareCheck) -> str:
        """Building-entrance-room of the household."""
        return check.household.address if check.household is not None else ""

    @staticmethod
    def resolve_assignee_name(check: WelfareCheck) -> str:
        """Who is to visit."""
        return str(check.assignee) if check.assignee is not None else ""


class WelfareCheckCloseIn(Schema):
    """What the visit or call found; a note is needed when the resident needed help."""

    outcome: str = Field(description="safe, away, resumed, needed_help or emergency")
    note: str = ""


class WelfareCheckReassignIn(Schema):
    """Who visits instead: a volunteer, grid worker or community admin of the community."""

    assignee_id: int


# --------------------------------------------------------------------------- report


class WelfareReportRowOut(Schema):
    """Checks and false alarms of one household in one month (``household_id`` null: the
    whole community)."""

    household_id: int | None
    household_label: str
    month: dt.date
    checks: int
    false_alarms: int
    real: int
    rate: float | None


class WelfareReportOut(Schema):
    """False alarms per household and month of one community."""

    community_id: int
    months: int
    rows: list[WelfareReportRowOut]

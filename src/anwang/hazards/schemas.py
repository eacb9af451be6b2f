"""Request and response bodies of the hazards API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from ninja import Field, Schema

from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_scope
from anwang.core.schemas import PersonOut
from anwang.hazards.choices import (
    DEADLINE_STATUSES,
    HazardCategory,
    HazardSeverity,
    HazardStatus,
)
from anwang.hazards.models import Hazard
from anwang.hazards.selectors import can_view, hazard_steps, reporter_shown

PHOTO_FIELDS = {
    "photo": "photo",
    "thumbnail": "photo_thumbnail",
    "after": "after_photo",
    "after-thumbnail": "after_photo_thumbnail",
}
"""Photo kinds of the API's photo path, and the field each serves."""


class HazardStepOut(Schema):
    """One step of a report's timeline."""

    at: datetime
    action: str
    status: HazardStatus
    note: str
    actor: str | None = Field(description="Who did it; null for the system or when hidden.")
    photo_url: str | None = None


def _scope(context: dict[str, Any]) -> Scope:
    return request_scope(context["request"])


def _photo_url(hazard: Hazard, kind: str) -> str | None:
    if not getattr(hazard, PHOTO_FIELDS[kind]):
        return None
    url = reverse("api:hazard_photo", kwargs={"hazard_id": hazard.pk})
    return f"{url}?kind={kind}"


class HazardOut(Schema):
    """A hazard report as the caller may see it (an anonymous reporter is never named to
    others)."""

    id: int
    community_id: int
    category: HazardCategory
    category_label: str
    status: HazardStatus
    status_label: str
    severity: HazardSeverity | None
    description: str
    latitude: float | None
    longitude: float | None
    building_id: int | None
    unit_id: int | None
    zone_id: int | None
    address: str
    anonymous: bool
    reporter: str | None = Field(description="Shown to hazard staff unless anonymous.")
    mine: bool = Field(description="Whether the caller reported it.")
    reported_at: datetime
    assignee: PersonOut | None
    deadline: datetime | None
    overdue: bool
    escalated_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    rejection_reason: str
    photo_url: str | None
    thumbnail_url: str | None
    after_photo_url: str | None

    @staticmethod
    def resolve_category_label(obj: Hazard) -> str:
        return str(obj.get_category_display())

    @staticmethod
    def resolve_status_label(obj: Hazard) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_severity(obj: Hazard) -> str | None:
        return obj.severity or None

    @staticmethod
    def resolve_reporter(obj: Hazard, context: dict[str, Any]) -> str | None:
        return reporter_shown(_scope(context), obj) or None

    @staticmethod
    def resolve_mine(obj: Hazard, context: dict[str, Any]) -> bool:
        user = _scope(context).user
        return user is not None and obj.reporter_id == user.pk

    @staticmethod
    def resolve_overdue(obj: Hazard) -> bool:
        return (
            obj.status in DEADLINE_STATUSES
            and obj.deadline is not None
            and obj.deadline < timezone.now()
        )

    @staticmethod
    def resolve_photo_url(obj: Hazard) -> str | None:
        return _photo_url(obj, "photo")

    @staticmethod
    def resolve_thumbnail_url(obj: Hazard) -> str | None:
        return _photo_url(obj, "thumbnail")

    @staticmethod
    def resolve_after_photo_url(obj: Hazard) -> str | None:
        return _photo_url(obj, "after")


class HazardDetailOut(HazardOut):
    """A report with its timeline."""

    steps: list[HazardStepOut]

    @staticmethod
    def resolve_steps(obj: Hazard, context: dict[str, Any]) -> list[dict[str, Any]]:
        scope = _scope(context)
        hide = obj.anonymous and not can_view(scope, obj.community_id)
        return [
            {
                "at": step.at,
                "action": step.action,
                "status": step.status,
                "note": step.note,
                "actor": None if hide or step.actor is None else str(step.actor),
                "photo_url": (
                    reverse("api:hazard_step_photo", kwargs={"hazard_step_id": step.pk})
                    if step.photo
                    else None
                ),
            }
            for step in hazard_steps(obj)
        ]


class HazardReportIn(Schema):
    """A new report (multipart form; the photo is the ``photo`` file field). Give a place:
    ``latitude`` and ``longitude`` (WGS84), a ``building_id`` or ``unit_id``, or an
    ``address``."""

    community_id: int
    category: HazardCategory
    description: str = ""
    latitude: float | None = None
    longitude: float | None = None
    building_id: int | None = None
    unit_id: int | None = None
    address: str = ""
    anonymous: bool = False


class TriageIn(Schema):
    """The severity, which fixes the deadline."""

    severity: HazardSeverity
    note: str = ""


class AssignIn(Schema):
    """The responsible person (a member of the community) and optionally a deadline."""

    assignee_id: int | None = Field(
        None,
        description=(
            "Default: whoever the responsibility matrix names for the report's building or "
            "zone now (400 when nobody does)."
        ),
    )
    deadline: datetime | None = Field(None, description="Default: the severity's deadline.")
    note: str = ""


class HazardNoteIn(Schema):
    """An optional note (rectification, closing)."""

    note: str = ""


class VerifyIn(Schema):
    """The result of checking a rectification; a failed check needs a note."""

    passed: bool = True
    note: str = ""


class RejectIn(Schema):
    """Why the report is turned down."""

    reason: str


class FollowOut(Schema):
    """The caller follows the report."""

    hazard_id: int
    followed_at: datetime


class GroupOut(Schema):
    """Counts of reports of one category, building or zone."""

    key: str
    label: str
    total: int
    open: int
    overdue: int
    closed: int


class StatisticsOut(Schema):
    """Figures of the reports of the last ``days`` days."""

    since: datetime
    total: int
    open: int
    overdue: int
    closed: int
    rejected: int
    escalated: int
    mean_hours_to_close: float | None
    median_hours_to_close: float | None
    by_category: list[GroupOut]
    by_building: list[GroupOut]
    by_zone: list[GroupOut]

"""Request and response bodies of the anomaly-finding API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from anwang.access.anomalies import finding_sentence
from anwang.access.choices import FindingStatus
from anwang.access.models import AccessFinding


class AccessFindingOut(Schema):
    """An anomaly finding: which detector, when, where, who, why (``sentence``, in the
    caller's language, and ``explanation``, the detector's numbers with points and credentials
    as ids), and its review."""

    id: int
    community_id: int
    detector: str
    detector_label: str
    at: dt.datetime
    access_point_id: int | None
    access_point_name: str
    credential_id: int | None
    resident_id: int | None
    resident_name: str
    sentence: str
    explanation: dict[str, Any]
    found_at: dt.datetime
    status: str
    status_label: str
    reviewed_by: str
    reviewed_at: dt.datetime | None
    review_note: str
    device_event_id: int | None = Field(
        description="The access.anomaly event handed to the alarm rules (none: stale, or no "
        "device at the access point)"
    )

    @staticmethod
    def resolve_detector_label(finding: AccessFinding) -> str:
        """The detector in words."""
        return str(finding.get_detector_display())

    @staticmethod
    def resolve_status_label(finding: AccessFinding) -> str:
        """The review status in words."""
        return str(finding.get_status_display())

    @staticmethod
    def resolve_access_point_name(finding: AccessFinding) -> str:
        """The access point's name, or nothing."""
        return finding.access_point.name if finding.access_point is not None else ""

    @staticmethod
    def resolve_resident_name(finding: AccessFinding) -> str:
        """The person's name, or nothing when unknown."""
        return finding.resident.name if finding.resident is not None else ""

    @staticmethod
    def resolve_reviewed_by(finding: AccessFinding) -> str:
        """Who reviewed it, or nothing."""
        user = finding.reviewed_by
        return (user.get_full_name() or user.get_username()) if user is not None else ""

    @staticmethod
    def resolve_sentence(finding: AccessFinding) -> str:
        """Why it fired, in one sentence."""
        return finding_sentence(finding)

    @staticmethod
    def resolve_explanation(finding: AccessFinding) -> dict[str, Any]:
        """The detector's numbers."""
        return dict(finding.explanation) if isinstance(finding.explanation, dict) else {}


class FindingReviewIn(Schema):
    """Confirm or dismiss a finding."""

    status: FindingStatus = Field(description="confirmed or dismissed")
    note: str = Field("", description="Needed to dismiss: why it was not a problem")


class FindingScanIn(Schema):
    """Which community to scan now."""

    community_id: int


class FindingScanOut(Schema):
    """What a scan found."""

    findings: int = Field(description="New findings stored")
    handed: int = Field(description="New findings handed to the alarm rules")
    alarms: int = Field(description="Alarms raised or fired again")
    by_detector: dict[str, int]

"""Request and response bodies of the alarms API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Schema

from anwang.alarms import selectors
from anwang.alarms.choices import AlarmState, SlaKind, StepAction
from anwang.core.api_helpers import request_scope
from anwang.events import selectors as event_selectors


class AlarmOut(Schema):
    """An alarm as listed."""

    id: int
    community: int = Field(alias="community_id")
    rule: int | None = Field(alias="rule_id")
    priority: int = Field(description="1 (P1, most urgent) to 4.")
    state: AlarmState
    title: str = Field(description="In the language of the request.")
    device: int | None = Field(alias="device_id")
    device_name: str | None
    zone: int | None = Field(alias="zone_id")
    zone_name: str | None
    count: int = Field(description="How many times the rule fired for this alarm.")
    why: dict[str, Any] = Field(description="The values that made the rule fire.")
    raised_at: datetime
    last_fired_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None = Field(alias="acknowledged_by_id")
    dispatched_at: datetime | None
    assignee: int | None = Field(alias="assignee_id")
    accepted_at: datetime | None
    on_scene_at: datetime | None
    closed_at: datetime | None
    closed_by: int | None = Field(alias="closed_by_id")
    close_reason: str
    acknowledge_due_at: datetime | None
    on_scene_due_at: datetime | None
    escalations: int

    @staticmethod
    def resolve_title(obj: Any) -> str:
        """The title in the request's language."""
        return str(obj.display_title())

    @staticmethod
    def resolve_device_name(obj: Any) -> str | None:
        """The device's name."""
        return obj.device.name if obj.device_id else None

    @staticmethod
    def resolve_zone_name(obj: Any) -> str | None:
        """The zone's name."""
        return obj.zone.name if obj.zone_id else None


class AlarmStepOut(Schema):
    """One entry of an alarm's history."""

    id: int
    action: StepAction
    actor: int | None = Field(alias="actor_id")
    actor_name: str | None
    at: datetime
    note: str
    data: dict[str, Any]

    @staticmethod
    def resolve_actor_name(obj: Any) -> str | None:
        """Who did it (``None``: the system)."""
        return str(obj.actor) if obj.actor_id else None


class LinkedEventOut(Schema):
    """A device event that made the alarm fire."""

    id: int
    device: int = Field(alias="device_id")
    kind: str
    attribute: str | None
    value: Any = None
    received_at: datetime


class PhotoOut(Schema):
    """A photo of the alarm."""

    id: int
    url: str
    uploaded_by: int | None = Field(alias="uploaded_by_id")
    uploaded_at: datetime

    @staticmethod
    def resolve_url(obj: Any) -> str:
        """Where the image is served."""
        return str(obj.image.url)


class EscalationOut(Schema):
    """A missed response time."""

    sla: SlaKind
    at: datetime
    priority_before: int
    priority_after: int
    recipients: list[int]

    @staticmethod
    def resolve_recipients(obj: Any) -> list[int]:
        """The ids of the people it was escalated to."""
        return sorted(user.pk for user in obj.recipients.all())


class AlarmDetailOut(AlarmOut):
    """An alarm with its history, events, photos and escalations."""

    steps: list[AlarmStepOut]
    events: list[LinkedEventOut]
    photos: list[PhotoOut]
    escalation_records: list[EscalationOut]
    snapshot_url: str | None = Field(
        description="The camera picture of the alarm (GET it with the same credentials), or "
        "null when no camera took one around the time it was raised."
    )

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        """The alarm's history, oldest first."""
        return list(selectors.alarm_steps(obj))

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        """The device events that fired it, newest first."""
        return selectors.alarm_events(obj)

    @staticmethod
    def resolve_photos(obj: Any) -> list[Any]:
        """Its photos."""
        return list(selectors.alarm_photos(obj))

    @staticmethod
    def resolve_escalation_records(obj: Any) -> list[Any]:
        """Its missed response times."""
        return list(selectors.alarm_escalations(obj))

    @staticmethod
    def resolve_snapshot_url(obj: Any, context: dict[str, Any]) -> str | None:
        """The API address of its camera snapshot, if it has one (detail only: two queries)."""
        snapshot = event_selectors.alarm_snapshot(request_scope(context["request"]), obj)
        if snapshot is None:
            return None
        return reverse("api:alarm_snapshot", kwargs={"alarm_id": obj.pk})


class AlarmIn(Schema):
    """An alarm raised by hand."""

    community_id: int
    priority: int = Field(ge=1, le=4, description="1 (P1, most urgent) to 4.")
    title: str = Field(min_length=1, max_length=300)
    device_id: int | None = None
    zone_id: int | None = None
    note: str = ""


class AlarmNoteIn(Schema):
    """An optional note with a lifecycle step."""

    note: str = ""


class RequiredNoteIn(Schema):
    """A note for the alarm's history."""

    note: str = Field(min_length=1)


class DispatchIn(Schema):
    """Whom to send."""

    user_id: int = Field(description="Someone with the handle-alarms permission there.")
    note: str = ""


class FalseAlarmIn(Schema):
    """Why it was a false alarm (required)."""

    reason: str = Field(min_length=1)


class CountOut(Schema):
    """A count of alarms for one value."""

    key: int | None
    name: str
    count: int


class FalseRateOut(Schema):
    """False alarms of one device or rule."""

    id: int | None
    name: str
    total: int
    false: int
    rate: float


class DurationsOut(Schema):
    """Median and mean in seconds."""

    count: int
    median_seconds: float | None
    mean_seconds: float | None


class StatsOut(Schema):
    """Alarm figures of one community over a period."""

    community_id: int
    since: datetime | None
    until: datetime | None
    total: int
    open: int
    false: int
    by_priority: dict[str, int] = Field(description='Keyed "P1" to "P4".')
    by_rule: list[CountOut]
    to_acknowledge: DurationsOut
    to_resolve: DurationsOut = Field(description="Of resolved alarms (not false ones).")
    false_by_device: list[FalseRateOut]
    false_by_rule: list[FalseRateOut]


class ResponseTimeOut(Schema):
    """A community's response time for one priority."""

    priority: int
    acknowledge_seconds: int
    on_scene_seconds: int
    raise_priority: bool
    is_default: bool = Field(description="Not set by the community: the built-in default.")
    by_next_shift: bool = Field(
        False,
        description=(
            "Due at the operators' next shift change in the duty roster (the built-in P4); "
            "the seconds stand when the roster has no operator."
        ),
    )


class ResponseTimeIn(Schema):
    """A response time to set."""

    priority: int = Field(ge=1, le=4)
    acknowledge_seconds: int = Field(ge=1)
    on_scene_seconds: int = Field(ge=1)
    raise_priority: bool = False


# --------------------------------------------------------------------------- shift handover


class HandedOverAlarmOut(Schema):
    """An open alarm as it stood when the shift was handed over."""

    id: int
    priority: int
    state: AlarmState
    title: str
    raised_at: datetime
    assignee: int | None
    assignee_name: str


class HandedOverTaskOut(Schema):
    """An unfinished incident task as it stood when the shift was handed over."""

    id: int
    incident: int
    incident_title: str
    is_drill: bool
    title: str
    due_at: datetime | None
    assignee: int | None
    assignee_name: str


class HandoverOut(Schema):
    """A shift handover and what was handed over."""

    id: int
    community: int = Field(alias="community_id")
    from_user: int | None = Field(alias="from_user_id")
    from_user_name: str | None
    to_user: int | None = Field(
        alias="to_user_id", description="``null``: whoever of the next shift acknowledges first."
    )
    note: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None = Field(alias="acknowledged_by_id")
    alarms: list[HandedOverAlarmOut] = Field(description="The open alarms when it was written.")
    tasks: list[HandedOverTaskOut] = Field(
        description="The unfinished tasks of open incidents and drills when it was written."
    )

    @staticmethod
    def resolve_from_user_name(obj: Any) -> str | None:
        """Who wrote it."""
        return str(obj.from_user) if obj.from_user_id else None

    @staticmethod
    def resolve_alarms(obj: Any) -> list[dict[str, Any]]:
        """The snapshot's open alarms."""
        return list((obj.snapshot or {}).get("alarms") or [])

    @staticmethod
    def resolve_tasks(obj: Any) -> list[dict[str, Any]]:
        """The snapshot's unfinished incident tasks."""
        return list((obj.snapshot or {}).get("tasks") or [])


class HandoverIn(Schema):
    """A handover note."""

    community_id: int
    note: str = Field(min_length=1, max_length=5000)
    to_user_id: int | None = Field(
        default=None, description="Who takes over; empty: whoever acknowledges first."
    )

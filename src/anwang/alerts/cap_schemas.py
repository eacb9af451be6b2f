"""Request and response bodies of the CAP API (received alerts, upstream feeds)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from anwang.alerts.choices import Confirmation, IncomingState
from anwang.alerts.models import CapFeed, IncomingAlert


class IncomingOut(Schema):
    """A CAP alert received from upstream, with its summary fields."""

    id: int
    community_id: int
    feed_id: int | None
    identifier: str
    sender: str
    sent: datetime
    cap_status: str
    msg_type: str
    event: str
    headline: str
    description: str
    instruction: str
    category: str
    severity: str
    urgency: str
    certainty: str
    area_description: str
    expires_at: datetime | None
    received_at: datetime
    state: IncomingState
    handled_by_id: int | None
    handled_at: datetime | None

    @staticmethod
    def of(incoming: IncomingAlert) -> IncomingOut:
        """The received alert's summary."""
        return IncomingOut.model_validate(incoming, from_attributes=True)


class IncomingDetailOut(IncomingOut):
    """A received alert with everything parsed (every info block, its areas) and the
    document as received."""

    parsed: dict[str, Any]
    raw: str
    relayed_alert_ids: list[int]


class CapErrorOut(Schema):
    """The API's error shape."""

    detail: str
    code: str
    errors: list[dict[str, Any]]


class RelayIn(Schema):
    """How to relay a received alert to the residents."""

    channels: list[str] = Field(
        default_factory=list,
        description="Personal channels besides the inbox: web_push, sms, wechat, email, voice.",
    )
    confirmation: Confirmation = Confirmation.NONE
    whole_community: bool = True
    building_ids: list[int] = Field(default_factory=list)
    unit_ids: list[int] = Field(default_factory=list)
    household_ids: list[int] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    publish: bool = Field(True, description="Send at once; false keeps a draft.")


class RelayOut(Schema):
    """The safety alert a relay made."""

    alert_id: int
    state: str
    households_reached: int
    incoming: IncomingOut


class FeedOut(Schema):
    """An upstream CAP feed."""

    id: int
    community_id: int
    name: str
    url: str
    is_enabled: bool
    poll_minutes: int
    last_polled_at: datetime | None
    last_error: str

    @staticmethod
    def of(feed: CapFeed) -> FeedOut:
        """The feed."""
        return FeedOut.model_validate(feed, from_attributes=True)


class FeedIn(Schema):
    """A new upstream CAP feed."""

    community_id: int
    name: str
    url: str = Field(description="http(s) address of a CAP document or an Atom/RSS feed.")
    poll_minutes: int = 5
    is_enabled: bool = True


class FeedPatch(Schema):
    """Changes to a feed; fields left out keep their value."""

    name: str | None = None
    url: str | None = None
    poll_minutes: int | None = None
    is_enabled: bool | None = None


class FetchOut(Schema):
    """What fetching a feed brought."""

    stored: int
    feed: FeedOut

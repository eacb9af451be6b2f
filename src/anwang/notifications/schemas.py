"""Request and response shapes of the notifications API. A channel setting's secret is
write-only: answers say only whether one is set."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext
from ninja import Field, Schema

from anwang.notifications.models import ChannelConfig, Delivery


class InboxItemOut(Schema):
    """One message in the caller's inbox."""

    id: int = Field(description="The inbox delivery's id (what /read takes).")
    notification_id: int
    kind: str
    title: str
    body: str
    url: str
    priority: int
    urgent: bool
    needs_confirmation: bool
    confirm_label: str = Field(description="Label of the confirm button, if it asks.")
    created_at: dt.datetime
    read_at: dt.datetime | None
    confirmed_at: dt.datetime | None

    @staticmethod
    def of(delivery: Delivery) -> dict[str, Any]:
        """The answer for one inbox delivery."""
        notification = delivery.notification
        return {
            "id": delivery.pk,
            "notification_id": notification.pk,
            "kind": notification.kind,
            "title": notification.title,
            "body": notification.body,
            "url": notification.url,
            "priority": notification.priority,
            "urgent": notification.urgent,
            "needs_confirmation": notification.needs_confirmation,
            # Stored as source text where the sender could (alerts), so it reads in the
            # caller's language; other labels come back as they were written.
            "confirm_label": _translated(str(notification.data.get("confirm_label", ""))),
            "created_at": notification.created_at,
            "read_at": delivery.read_at,
            "confirmed_at": delivery.confirmed_at,
        }


class UnreadCountOut(Schema):
    """How many inbox messages are unread."""

    unread: int


class ReadIn(Schema):
    """Which inbox messages to mark read: ``ids``, or ``all``."""

    ids: list[int] = Field(default_factory=list)
    all: bool = False


class ReadOut(Schema):
    """How many were marked read."""

    marked: int


class PreferenceOut(Schema):
    """How the caller is reached."""

    channels: list[str]
    phone: str
    wechat_openid: str
    quiet_start: dt.time | None
    quiet_end: dt.time | None
    channels_offered: list[str]


class PreferenceIn(Schema):
    """Change how the caller is reached; fields left out keep their value."""

    channels: list[str] | None = None
    phone: str | None = None
    wechat_openid: str | None = None
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None


class ChannelConfigOut(Schema):
    """A channel setting (never its secret)."""

    id: int
    community_id: int | None
    channel: str
    name: str
    is_enabled: bool
    settings: dict[str, Any]
    secret_set: bool
    kinds: list[str]
    max_priority: int
    rate_per_minute: int

    @staticmethod
    def resolve_secret_set(config: ChannelConfig) -> bool:
        """Whether a secret is stored."""
        return bool(config.secret)


class ChannelConfigIn(Schema):
    """A new channel setting."""

    channel: str
    name: str
    is_enabled: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)
    secret: str = Field("", description="Write-only.")
    kinds: list[str] = Field(default_factory=list)
    max_priority: int = 4
    rate_per_minute: int = 60


class ChannelConfigPatch(Schema):
    """Changes to a channel setting; an empty or missing secret keeps the stored one."""

    name: str | None = None
    is_enabled: bool | None = None
    settings: dict[str, Any] | None = None
    secret: str | None = Field(None, description="Write-only.")
    kinds: list[str] | None = None
    max_priority: int | None = None
    rate_per_minute: int | None = None


class TestOut(Schema):
    """The queued test message."""

    notification_id: int
    delivery_ids: list[int]


class DeliveryOut(Schema):
    """One delivery in a community's report."""

    id: int
    notification_id: int
    kind: str = Field(alias="notification.kind")
    title: str = Field(alias="notification.title")
    recipient_id: int | None
    channel: str
    config_id: int | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    confirmed_at: dt.datetime | None


def _translated(text: str) -> str:
    # gettext("") answers the catalogue's header, not "".
    return gettext(text) if text else ""

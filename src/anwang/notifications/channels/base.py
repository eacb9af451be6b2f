"""The one interface every channel implements, and the registry the sender reads.

A channel module defines a backend (an object with ``channel`` and ``send``) and registers it
with :func:`register_backend` when it is imported (``anwang.notifications.apps`` imports every
channel module). The sender (:mod:`anwang.notifications.sending`) builds an
:class:`OutgoingMessage` per delivery, calls ``send`` outside any database transaction, and
records the :class:`SendOutcome`: a channel never raises for a refusal or a network failure,
it says so in the outcome, so one failing channel never holds up the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class ChannelSettings:
    """A :class:`~anwang.notifications.models.ChannelConfig` as a channel sees it: its
    settings and its decrypted secret (or the platform's settings for personal channels)."""

    config_id: int | None
    settings: Mapping[str, Any] = field(default_factory=dict)
    secret: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    """What one delivery sends."""

    delivery_id: int
    notification_id: int
    kind: str
    title: str
    body: str
    url: str  # absolute, or empty
    priority: int
    urgent: bool
    needs_confirmation: bool
    data: Mapping[str, Any]
    community_id: int | None
    # The person's address on this channel (email, mobile number, OpenID, push
    # subscription id), empty for group robots and webhooks.
    address: str = ""
    recipient_id: int | None = None
    recipient_name: str = ""
    language: str = "zh-hans"


@dataclass(frozen=True)
class SendOutcome:
    """What happened. ``retry`` false means trying again cannot help (bad address, refused
    signature, unsubscribed browser): the delivery fails at once instead of backing off."""

    status: Literal["sent", "delivered", "failed"]
    provider_id: str = ""
    error: str = ""
    retry: bool = True


class ChannelBackend(Protocol):
    """One channel."""

    channel: str

    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        ...


_backends: dict[str, ChannelBackend] = {}


def register_backend(backend: ChannelBackend) -> None:
    """Make a channel available to the sender (called when its module is imported)."""
    _backends[backend.channel] = backend


def backend_for(channel: str) -> ChannelBackend | None:
    """The registered backend of a channel, if any."""
    return _backends.get(channel)


def registered_channels() -> list[str]:
    """Every channel with a backend, in registration order."""
    return list(_backends)

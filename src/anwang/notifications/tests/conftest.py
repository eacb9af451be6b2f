"""Fixtures of the notifications tests: a controllable clock, fake channel backends
registered for one test only, and channel settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from anwang.notifications.channels import base
from anwang.notifications.channels.base import ChannelSettings, OutgoingMessage, SendOutcome
from anwang.notifications.models import ChannelConfig

# 10:00 in Shanghai (the site's zone), a Friday.
NOW = dt.datetime(2026, 3, 6, 2, 0, tzinfo=dt.UTC)


@dataclass
class FakeBackend:
    """A channel that answers what the test says and remembers what it was asked."""

    channel: str
    answer: Callable[[OutgoingMessage], SendOutcome] = lambda message: SendOutcome(
        status="sent", provider_id="p-1"
    )
    calls: list[tuple[OutgoingMessage, ChannelSettings]] = field(default_factory=list)

    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Record the call and answer."""
        self.calls.append((message, settings))
        return self.answer(message)


@pytest.fixture
def fake_backends() -> Iterator[Callable[..., FakeBackend]]:
    """Register fake backends for this test; the real registry comes back afterwards."""
    saved = dict(base._backends)

    def register(
        channel: str, answer: Callable[[OutgoingMessage], Any] | None = None
    ) -> FakeBackend:
        backend = FakeBackend(channel) if answer is None else FakeBackend(channel, answer)
        base.register_backend(backend)
        return backend

    yield register
    base._backends.clear()
    base._backends.update(saved)


@pytest.fixture
def platform_channels(db: Any) -> dict[str, ChannelConfig]:
    """Platform-wide settings for every personal channel."""
    return {
        channel: ChannelConfig.objects.create(
            channel=channel, name=f"platform {channel}", settings={"k": "v"}, secret="s3cret"
        )
        for channel in ("email", "sms", "voice", "wechat", "web_push")
    }

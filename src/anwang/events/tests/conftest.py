"""Fixtures of the events tests: a smoke detector in each community, and some ingested
messages (events of both, a dead letter of no community and one of community A)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.events.adapters.base import InboundMessage
from anwang.events.services import ingest_messages

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


@pytest.fixture
def english_client(world: Any) -> Any:
    """A logged-in test client that asks for English pages."""

    def make(role: str, side: str = "a") -> Any:
        client = world.client_for(role, side)
        client.cookies["anwang_language"] = "en"
        return client

    return make


def smoke(source_id: str, value: bool, second: int = 0) -> InboundMessage:
    return InboundMessage(
        transport="mqtt",
        topic=f"zigbee2mqtt/{source_id}",
        payload=json.dumps({"smoke": value}).encode(),
        received_at=T0 + dt.timedelta(seconds=second),
    )


@pytest.fixture
def devices(world: Any) -> dict[str, Device]:
    made = {}
    for side in ("a", "b"):
        made[side] = Device.objects.create(
            community=getattr(world, side).community,
            name=f"{side} smoke",
            kind=DeviceKind.SMOKE,
            protocol=Protocol.ZIGBEE2MQTT,
            source_id=f"{side}_smoke",
        )
    ingest_messages(
        messages=[
            smoke("a_smoke", False),
            smoke("a_smoke", True, 60),
            smoke("b_smoke", True, 10),
            smoke("stranger", True),
        ]
    )
    ingest_messages(messages=[smoke("a_stranger", True)], community=world.a.community)
    return made

"""Fixtures of the alarms tests: English messages, a rule and a device in community A, and a
builder of the engine's firings (no engine needed)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation

from anwang.devices.models import Device
from anwang.events.models import DeviceEvent
from anwang.rules.facts import Firing
from anwang.rules.models import Rule

T0 = dt.datetime(2026, 3, 2, 22, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(world: Any) -> Callable[..., Any]:
    """A logged-in test client that asks for English pages."""

    def make(role: str, side: str = "a") -> Any:
        client = world.client_for(role, side)
        client.cookies["anwang_language"] = "en"
        return client

    return make


def make_rule(side: Any, name: str = "smoke", **extra: Any) -> Rule:
    """A rule of a community."""
    values: dict[str, Any] = {
        "kind": "immediate",
        "priority": 1,
        "title_template": "Smoke at {device}",
        "cooldown_seconds": 300,
    } | extra
    return Rule.objects.create(community=side.community, name=name, **values)


def make_device(side: Any, source_id: str = "smoke-1") -> Device:
    """A smoke sensor in the side's zone."""
    return Device.objects.create(
        community=side.community,
        zone=side.zone,
        name=f"sensor {source_id}",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id=source_id,
    )


_keys = itertools.count(1)


def make_event(device: Device, at: dt.datetime = T0) -> DeviceEvent:
    """A stored smoke event of a device."""
    number = next(_keys)
    return DeviceEvent.objects.create(
        community_id=device.community_id,
        device=device,
        kind="smoke",
        attribute="smoke",
        value=True,
        previous_value=False,
        dedup_key=f"test:{number}",
        received_at=at,
    )


@pytest.fixture
def rule(world: Any) -> Rule:
    """A P1 smoke rule of community A, cooldown 5 minutes."""
    return make_rule(world.a)


@pytest.fixture
def device(world: Any) -> Device:
    """A smoke sensor of community A."""
    return make_device(world.a)


def firing(
    rule: Rule,
    *,
    at: dt.datetime = T0,
    key: str | None = None,
    device: Device | None = None,
    events: tuple[int, ...] = (),
    group: str | None = None,
    priority: int | None = None,
) -> Firing:
    """A firing of a rule, as the engine would make it."""
    return Firing(
        rule_id=rule.pk,
        community_id=rule.community_id,
        priority=priority or rule.priority,
        group_key=group or (f"device:{device.pk}" if device else "rule"),
        trigger_key=key or f"event:{next(_keys)}",
        at=at,
        title_template=rule.title_template,
        title_values={"device": device.name if device else "", "rule": rule.name},
        event_ids=events,
        device_id=device.pk if device else None,
        zone_id=device.zone_id if device else None,
        why={"kind": "smoke", "value": True},
    )

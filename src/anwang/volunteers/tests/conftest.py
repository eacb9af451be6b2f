"""Fixtures of the volunteers tests: English messages, clients, a settable clock, and helpers
that make volunteers and shifts through the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone, translation

from anwang.volunteers import services
from anwang.volunteers.models import Shift, Volunteer


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(world):
    """A logged-in test client that asks for English pages."""

    def make(role: str, side: str = "a"):
        client = world.client_for(role, side)
        client.cookies["anwang_language"] = "en"
        return client

    return make


@dataclass
class Clock:
    """The time ``timezone.now()`` answers, moved by the test."""

    now: dt.datetime

    def advance(self, **delta: float) -> dt.datetime:
        """Move the clock forward and answer the new time."""
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock starting at 2026-06-01 08:00 local time (a Monday)."""
    start = timezone.make_aware(dt.datetime(2026, 6, 1, 8, 0))  # noqa: DTZ001 - local time
    current = Clock(start)
    monkeypatch.setattr(timezone, "now", lambda: current.now)
    return current


def make_volunteer(world: Any, role: str = "volunteer", side: str = "a") -> Volunteer:
    """An approved volunteer: ``role``'s user of ``side`` applied and the admin approved."""
    volunteer = services.volunteer_apply(
        actor=world.user(role, side),
        community=getattr(world, side).community,
        skills=["first_aid"],
        availability=["sat:morning"],
    )
    return services.volunteer_approve(
        actor=world.user("community_admin", side), volunteer=volunteer
    )


def make_shift(
    world: Any,
    side: str = "a",
    *,
    title: str = "北门巡逻",
    in_hours: float = 1,
    hours: float = 3,
    capacity: int = 5,
    **extra: Any,
) -> Shift:
    """A shift starting ``in_hours`` from now and lasting ``hours``."""
    start = timezone.now() + dt.timedelta(hours=in_hours)
    return services.shift_create(
        actor=None,
        community=getattr(world, side).community,
        title=title,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        capacity=capacity,
        **extra,
    )

"""Helpers of the responsibilities tests: a controllable clock, duty patterns and
responsibilities added by the system."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from anwang.accounts.models import User
from anwang.responsibilities import services
from anwang.responsibilities.models import Responsibility
from anwang.rosters import services as roster_services
from anwang.rosters.models import DutyPattern

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of March 2026 in Shanghai."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=ZONE)


def duty(
    world: Any,
    *,
    role: str = "guard",
    user: str = "guard",
    start: dt.datetime | None = None,
    hours: int = 12,
    side: str = "a",
) -> DutyPattern:
    """A daily duty of a user (by default 08:00-20:00 from 1 March), added by the system."""
    chosen = getattr(world, side)
    return roster_services.duty_pattern_create(
        actor=None,
        community=chosen.community,
        duty_role=role,
        person=world.user(user, side),
        first_start=start or at(1, 8),
        duration=dt.timedelta(hours=hours),
        rrule="FREQ=DAILY",
    )


def responsibility(world: Any, side: str = "a", **fields: Any) -> Responsibility:
    """A responsibility of community ``side`` added by the system; by default its zone with
    the guard on duty responsible."""
    chosen = getattr(world, side)
    values: dict[str, Any] = {"area_kind": "zone", "zone": chosen.zone}
    if not any(key.startswith("responsible_") for key in fields):
        values["responsible_role"] = "guard"
    values.update(fields)
    return services.responsibility_create(actor=None, community=chosen.community, **values)


def names(people: list[User]) -> list[str]:
    """Usernames, in order."""
    return [person.username for person in people]

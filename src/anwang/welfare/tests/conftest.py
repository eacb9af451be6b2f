"""Fixtures of the welfare-check tests: a controllable clock and a watched resident living alone
(world.a.resident, 翠苑社区 1-1-301) in a grid with a grid worker, with a family contact and a
door sensor at home."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from anwang.access.choices import AccessMethod, AccessResult
from anwang.access.models import AccessEvent
from anwang.accounts.models import User
from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.events.models import DeviceEvent
from anwang.people.models import EmergencyContact, Resident
from anwang.places.models import Grid
from anwang.welfare.models import WelfareWatch
from anwang.welfare.services import watch_enrol

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2025, 3, 3, 8, 0, tzinfo=SHANGHAI)
"""Monday 3 March 2025, 08:00 local: the enrolment starts here."""

_keys = itertools.count()


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield


class Clock:
    """The time every service call of a test is given: moved by hand, never by the wall."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward and answer the new time."""
        self.now += dt.timedelta(**delta)
        return self.now

    def at(self, **delta: float) -> dt.datetime:
        """The time ``delta`` after the start of the enrolment (T0)."""
        self.now = T0 + dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock standing at T0."""
    return Clock(T0)


@dataclass
class Home:
    """World.a.resident watched at home."""

    world: Any
    resident: Resident
    grid: Grid
    grid_worker: User
    volunteer: User
    admin: User
    contact: EmergencyContact
    door: Device
    watch: WelfareWatch

    def access(self, at: dt.datetime, *, resident: Resident | None = None) -> AccessEvent:
        """The resident (or another) swipes their card at the gate at ``at``."""
        return AccessEvent.objects.create(
            community=self.world.a.community,
            at=at,
            result=AccessResult.GRANTED,
            method=AccessMethod.CARD,
            resident=resident or self.resident,
        )

    def sensor(
        self,
        at: dt.datetime,
        *,
        kind: str = "contact",
        device: Device | None = None,
        replay: bool = False,
        device_time: dt.datetime | None = None,
    ) -> DeviceEvent:
        """The home's door sensor (or another device) reports an event received at ``at``."""
        chosen = device or self.door
        return DeviceEvent.objects.create(
            community_id=chosen.community_id,
            device=chosen,
            kind=kind,
            attribute="contact" if kind == "contact" else None,
            value=False,
            dedup_key=f"welfare-test-{next(_keys)}",
            received_at=at,
            replay=replay,
            device_time=device_time,
        )


def make_sensor(community: Any, name: str, source_id: str) -> Device:
    """A Zigbee door contact of the community."""
    return Device.objects.create(
        community=community,
        name=name,
        kind=DeviceKind.CONTACT,
        protocol=Protocol.ZIGBEE2MQTT,
        source_id=source_id,
    )


@pytest.fixture
def home(world: Any) -> Home:
    """World.a.resident (living alone in 1-1-301 of 翠苑社区) enrolled at T0 with the default 24
    hours, on a consent recorded at enrolment, the family contact 李四 and the door sensor;
    the grid G1 has the grid worker ``a_grid_worker``."""
    side = world.a
    grid_worker = world.user("grid_worker")
    side.grid.grid_worker = grid_worker
    side.grid.save(update_fields=["grid_worker"])
    door = make_sensor(side.community, "翠苑 1-1-301 door", "0x00158d0001a1b2c3")
    resident = Resident.objects.select_related("user").get(pk=side.resident.pk)
    watch = watch_enrol(
        actor=world.user("community_admin"),
        resident=resident,
        consent_how="signed form 2025-03-03",
        family_contact=side.contact,
        devices=[door],
        now=T0,
    )
    return Home(
        world=world,
        resident=resident,
        grid=side.grid,
        grid_worker=grid_worker,
        volunteer=world.user("volunteer"),
        admin=world.user("community_admin"),
        contact=side.contact,
        door=door,
        watch=watch,
    )

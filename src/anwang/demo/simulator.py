"""The device simulator: a community's devices producing believable traffic in their own
formats, for the demo console and for load.

:class:`TrafficGenerator` is pure (no database, no network, no clock of its own): given the
devices, a seed and the current time, it says which messages go out now. Zigbee2MQTT sensors
report their whole state every few minutes (battery slowly falling, link quality jittering,
``last_seen``), unit doors open and close as residents come and go (more in the mornings and
evenings), access readers report card and face passes and the odd unknown card, Frigate
cameras track people, cars and bicycles (``frigate/events`` new/update/end and
``frigate/reviews``, and a JPEG of each person on ``frigate/<camera>/person/snapshot``),
Hikvision devices post a heartbeat every minute, and now and then an alarm scenario plays
out: smoke in a stairwell that clears, a water leak, a door held open, a burst of refused
cards, a door forced open, a line crossed at night, a device going silent.

Routine traffic is what the built-in rules consider normal: at night (22:00-06:00, when the
night rules are armed) cameras in key areas see nobody, doors close well within five minutes
and refused cards stay rare, so alarms come from the scenarios and not from the noise.

:class:`Simulator` runs a generator as a long-running service (``anwang demo``,
``anwang simulate``) at a set number of messages per second, and hands the messages to a
:class:`Delivery`: MQTT topics to the broker (paho-mqtt, QoS 1, its network loop in its own
thread) or to an in-process :class:`~anwang.events.worker.EventWorker`; Hikvision's HTTP
alerts, which have no broker topic, to the in-process worker or straight to
:func:`~anwang.events.services.ingest_messages`, as the HTTP ingestion endpoint would.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import io
import itertools
import json
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from django.db import connection as db_connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion
from PIL import Image, ImageDraw

from anwang.devices.choices import DeviceKind
from anwang.devices.choices import Protocol as DeviceProtocol
from anwang.events.adapters.base import InboundMessage, Transport
from anwang.events.worker import BrokerAddress, EventWorker

log = logging.getLogger("anwang.simulator")

DEMO_RATE = 2.0
"""Messages per second under ``anwang demo``: enough for a console that looks alive."""
DEMO_ALARMS_EVERY = 150.0
"""Seconds between alarm scenarios under ``anwang demo``."""
FIRST_ALARM_MAX_SECONDS = 45.0
"""The first scenario comes sooner than the interval, so a fresh demo shows one quickly."""
RELOAD_SECONDS = 300.0
"""How often the device list is read again (devices added or retired meanwhile)."""
TICK_SECONDS = 0.05
ZIGBEE_REPORT_SECONDS = (120.0, 300.0)
"""Battery sensors report their state every few minutes (their heartbeat is an hour)."""
ZIGBEE_MAINS_REPORT_SECONDS = (600.0, 1200.0)
HIKVISION_HEARTBEAT_SECONDS = 60.0
"""ISAPI devices post a heartbeat every minute (five silent minutes mean trouble)."""
BATTERY_LOW_PERCENT = 15
NIGHT_START_HOUR, NIGHT_END_HOUR = 22, 6
"""The built-in night rules are armed from 22:00 to 06:00."""
MQTT_QUEUE_LIMIT = 100_000
"""Messages paho keeps while the broker is away; beyond it they are dropped and counted."""

HIKVISION_TOPIC = "hikvision"
ZIGBEE_PREFIX = "zigbee2mqtt/"
ACCESS_VALID_CARD, ACCESS_CARD_EXPIRED, ACCESS_NO_PERMISSION = 1, 8, 6
ACCESS_INVALID_CARD, ACCESS_DOOR_CLOSED = 9, 26
ACCESS_DOOR_FORCED, ACCESS_DOOR_HELD, ACCESS_FACE_VERIFIED = 27, 28, 75

# How busy the community is by local hour (1.0 = the morning and evening peaks).
_ACTIVITY_BY_HOUR = (
    0.04, 0.03, 0.02, 0.02, 0.03, 0.12,  # 00-05
    0.45, 1.0, 0.95, 0.5, 0.35, 0.45,  # 06-11
    0.6, 0.45, 0.35, 0.4, 0.55, 0.95,  # 12-17
    1.0, 0.8, 0.55, 0.35, 0.15, 0.08,  # 18-23
)  # fmt: skip


@dataclass(frozen=True)
class SimDevice:
    """A device in service as the simulator sees it."""

    name: str
    kind: str
    protocol: str
    source_id: str
    zone: str | None = None
    key_area: bool = False
    building: str | None = None
    heartbeat_seconds: int = 0


@dataclass(frozen=True)
class Outgoing:
    """One message in a device's native format, on its native topic (or HTTP path)."""

    transport: Transport
    topic: str
    payload: bytes
    content_type: str = ""
    retain: bool = False

    def inbound(self, received_at: dt.datetime) -> InboundMessage:
        """The message as the pipeline receives it."""
        return InboundMessage(
            transport=self.transport,
            topic=self.topic,
            payload=self.payload,
            received_at=received_at,
            content_type=self.content_type,
        )


@dataclass
class _Live:
    """What the simulator remembers about one device between messages."""

    device: SimDevice
    battery: float
    linkquality: int
    voltage: int
    serial: int = 0
    closed: bool = True
    alarm: bool = False
    """Smoke, gas or water for the detectors; only scenarios set it."""
    busy_until: dt.datetime | None = None
    """A scenario owns the device until then: routine traffic leaves it alone."""
    silent: bool = False

    def free(self, now: dt.datetime) -> bool:
        """Whether routine traffic may use the device now."""
        return not self.silent and (self.busy_until is None or self.busy_until <= now)


Action = Callable[[dt.datetime], list[Outgoing]]


def is_night(local: dt.datetime) -> bool:
    """Whether a local time falls in the night window of the built-in rules."""
    return local.hour >= NIGHT_START_HOUR or local.hour < NIGHT_END_HOUR


class TrafficGenerator:
    """Believable traffic from a set of devices, reproducible from a seed."""

    def __init__(
        self,
        devices: Sequence[SimDevice],
        *,
        start: dt.datetime,
        seed: int,
        tz: dt.tzinfo = dt.UTC,
        alarms_every: float = 0.0,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - simulated traffic, not a secret
        self.tz = tz
        self.alarms_every = alarms_every
        self.live: dict[tuple[str, str], _Live] = {}
        self._heap: list[tuple[dt.datetime, int, Outgoing | Action]] = []
        self._order = itertools.count()
        self._scenarios: list[str] = []
        self.played: list[str] = []
        """The scenarios started, in order."""
        self.next_alarm: dt.datetime | None = None
        if alarms_every > 0:
            first = min(alarms_every, FIRST_ALARM_MAX_SECONDS) * self.rng.uniform(0.6, 1.0)
            self.next_alarm = start + dt.timedelta(seconds=first)
        # Residents' cards: enough for a community; numbers as Hikvision readers print them.
        self.cards = [
            (f"{self.rng.randrange(10**9, 4 * 10**9)}", f"R{index:05d}") for index in range(400)
        ]
        self.set_devices(devices, start)

    # ------------------------------------------------------------------ devices

    def set_devices(self, devices: Sequence[SimDevice], now: dt.datetime) -> None:
        """Take a (new) device list: devices kept keep their state, new ones start reporting,
        retired ones fall silent."""
        wanted = {(d.protocol, d.source_id): d for d in devices if _simulated(d)}
        for key in list(self.live):
            if key not in wanted:
                del self.live[key]
        for key, device in wanted.items():
            live = self.live.get(key)
            if live is not None:
                live.device = device
                continue
            live = self.live[key] = self._new_live(device, now)
            self._introduce(live, now)

    def _new_live(self, device: SimDevice, now: dt.datetime) -> _Live:
        rng = self.rng
        # A few batteries start nearly empty, so 'battery low' turns up now and then.
        battery = rng.uniform(12, 22) if rng.random() < 0.04 else rng.uniform(55, 100)
        # Serial numbers grow over the device's life; starting from the clock keeps a restarted
        # simulator from repeating one (the pipeline would take it as a duplicate).
        serial = int(now.timestamp() * 10) % 2_000_000_000
        return _Live(
            device=device,
            battery=battery,
            linkquality=rng.randrange(40, 200),
            voltage=rng.randrange(2900, 3100),
            serial=serial,
        )

    def _introduce(self, live: _Live, now: dt.datetime) -> None:
        """A device's first words, then its periodic reports."""
        device = live.device
        if device.protocol == DeviceProtocol.ZIGBEE2MQTT:
            self.schedule(now, _availability(device, online=True))
            low, high = (
                ZIGBEE_MAINS_REPORT_SECONDS
                if device.heartbeat_seconds == 0
                else ZIGBEE_REPORT_SECONDS
            )
            first = now + dt.timedelta(seconds=self.rng.uniform(1, low))
            self.schedule(first, self._periodic_report(live, low, high))
        elif device.protocol == DeviceProtocol.HIKVISION:
            first = now + dt.timedelta(seconds=self.rng.uniform(0, HIKVISION_HEARTBEAT_SECONDS))
            self.schedule(first, self._periodic_heartbeat(live))
        elif device.protocol == DeviceProtocol.FRIGATE and device.kind == DeviceKind.GATEWAY:
            self.schedule(now, Outgoing("mqtt", "frigate/available", b"online", retain=True))

    def _periodic_report(self, live: _Live, low: float, high: float) -> Action:
        def report(now: dt.datetime) -> list[Outgoing]:
            if not self._current(live):
                return []  # retired meanwhile: nothing more from it
            self.schedule(now + dt.timedelta(seconds=self.rng.uniform(low, high)), report)
            return [] if live.silent else [self._zigbee_state(live, now)]

        return report

    def _periodic_heartbeat(self, live: _Live) -> Action:
        def beat(now: dt.datetime) -> list[Outgoing]:
            if not self._current(live):
                return []
            jitter = self.rng.uniform(-2, 2)
            self.schedule(now + dt.timedelta(seconds=HIKVISION_HEARTBEAT_SECONDS + jitter), beat)
            return [] if live.silent else [self._hikvision_channel(live, now, "heartBeat", 1)]

        return beat

    def _current(self, live: _Live) -> bool:
        """Whether a device is still in service (periodic reports stop when it is not)."""
        return self.live.get((live.device.protocol, live.device.source_id)) is live

    def _of(self, *kinds: str, protocol: str | None = None) -> list[_Live]:
        return [
            live
            for live in self.live.values()
            if live.device.kind in kinds and (protocol is None or live.device.protocol == protocol)
        ]

    def _reader_of(self, contact: _Live) -> _Live | None:
        """The access reader at the same entrance as a door contact, if there is one."""
        entrance = contact.device.name.split(" ", 1)[0]
        for reader in self._of(DeviceKind.ACCESS_READER, protocol=DeviceProtocol.HIKVISION):
            same_building = reader.device.building == contact.device.building
            if same_building and reader.device.name.split(" ", 1)[0] == entrance:
                return reader
        return None

    # ------------------------------------------------------------------ the clock

    def schedule(self, at: dt.datetime, item: Outgoing | Action) -> None:
        """Send a message (or run an action that makes messages) at a time."""
        heapq.heappush(self._heap, (at, next(self._order), item))

    def step(self, now: dt.datetime, *, budget: int) -> list[Outgoing]:
        """Everything due by ``now``, then routine traffic until ``budget`` messages."""
        out: list[Outgoing] = []
        if self.next_alarm is not None and now >= self.next_alarm:
            self.scenario(now)
            jitter = self.rng.uniform(0.75, 1.25)
            self.next_alarm = now + dt.timedelta(seconds=self.alarms_every * jitter)
        while self._heap and self._heap[0][0] <= now:
            _at, _order, item = heapq.heappop(self._heap)
            out.extend(item(now) if callable(item) else [item])
        attempts = 0
        while len(out) < budget and attempts < budget + 10:
            attempts += 1
            out.extend(self.routine(now))
        return out

    def pending(self) -> int:
        """Messages and actions scheduled for later."""
        return len(self._heap)

    # ------------------------------------------------------------------ routine traffic

    def routine(self, now: dt.datetime) -> list[Outgoing]:
        """One routine activity, chosen by the time of day; the messages due now (later ones
        are scheduled)."""
        local = now.astimezone(self.tz)
        busy = _ACTIVITY_BY_HOUR[local.hour]
        night = is_night(local)
        choices: list[tuple[Callable[[dt.datetime, bool], list[Outgoing]], float]] = [
            (self._routine_report, 3.0),
            (self._routine_entrance, 4.0 * busy),
            (self._routine_gate, 3.0 * busy),
            (self._routine_camera, 1.0 + 3.0 * busy),
            (self._routine_refused, 0.12 * busy),
            (self._routine_motion, 0.4),
        ]
        action = self.rng.choices(
            [choice for choice, _weight in choices], weights=[weight for _a, weight in choices]
        )[0]
        return action(now, night)

    def _routine_report(self, now: dt.datetime, night: bool) -> list[Outgoing]:
        sensors = [
            live
            for live in self._of(
                DeviceKind.SMOKE,
                DeviceKind.CONTACT,
                DeviceKind.WATER_LEAK,
                DeviceKind.GAS,
                DeviceKind.PANIC_BUTTON,
                DeviceKind.MOTION,
                DeviceKind.TEMPERATURE,
                protocol=DeviceProtocol.ZIGBEE2MQTT,
            )
            if not live.silent
        ]
        if not sensors:
            return []
        return [self._zigbee_state(self.rng.choice(sensors), now)]

    def _routine_entrance(self, now: dt.datetime, night: bool) -> list[Outgoing]:
        """A resident passes a unit door: face or card at the reader (where there is one),
        the door opens and closes again within seconds."""
        doors = [live for live in self._of(DeviceKind.CONTACT) if live.free(now)]
        if not doors:
            return []
        door = self.rng.choice(doors)
        out: list[Outgoing] = []
        at = now
        reader = self._reader_of(door)
        if reader is not None and reader.free(now) and self.rng.random() < 0.7:
            out.append(self._access(reader, now, self._pass_minor()))
            at = now + dt.timedelta(seconds=self.rng.uniform(1, 3))
        closes = at + dt.timedelta(seconds=self.rng.uniform(5, 25))
        door.busy_until = closes
        self.schedule(at, self._door(door, closed=False))
        self.schedule(closes, self._door(door, closed=True))
        return out

    def _routine_gate(self, now: dt.datetime, night: bool) -> list[Outgoing]:
        """Someone passes a gate reader; often a gate camera sees them too."""
        gates = [
            live
            for live in self._of(DeviceKind.ACCESS_READER, protocol=DeviceProtocol.HIKVISION)
            if live.device.building is None and live.free(now)
        ]
        if not gates:
            return []
        gate = self.rng.choice(gates)
        out = [self._access(gate, now, self._pass_minor())]
        cameras = [
            live
            for live in self._cameras(now, night)
            if live.device.zone is not None and live.device.zone == gate.device.zone
        ]
        if cameras and self.rng.random() < 0.5:
            out.extend(self._track(self.rng.choice(cameras), now, "person"))
        return out

    def _routine_camera(self, now: dt.datetime, night: bool) -> list[Outgoing]:
        cameras = self._cameras(now, night)
        if not cameras:
            return []
        camera = self.rng.choice(cameras)
        return self._track(camera, now, self._label_for(camera.device.source_id))

    def _routine_refused(self, now: dt.datetime, night: bool) -> list[Outgoing]:
        """An old or unknown card, now and then: never five at one door in two minutes."""
        readers = [
            live
            for live in self._of(DeviceKind.ACCESS_READER, protocol=DeviceProtocol.HIKVISION)
            if live.free(now)
        ]
        if not readers:
            return []
        reader = self.rng.choice(readers)
        # Keeps the reader out of routine use for a while, so refusals never pile up at it.
        reader.busy_until = now + dt.timedelta(seconds=150)
        minor = self.rng.choice((ACCESS_INVALID_CARD, ACCESS_CARD_EXPIRED, ACCESS_NO_PERMISSION))
        return [self._access(reader, now, minor)]

    def _routine_motion(self, now: dt.datetime, night: bool) -> list[Outgoing]:
        """Motion on one of the recorder's channels, which ends a little later."""
        recorders = self._recorders(now)
        if not recorders:
            return []
        recorder = self.rng.choice(recorders)
        channel = self.rng.randrange(1, 33)
        ends = now + dt.timedelta(seconds=self.rng.uniform(8, 40))
        self.schedule(
            ends, lambda at: [self._hikvision_channel(recorder, at, "VMD", channel, active=False)]
        )
        return [self._hikvision_channel(recorder, now, "VMD", channel)]

    def _cameras(self, now: dt.datetime, night: bool) -> list[_Live]:
        """Cameras routine traffic may use: at night none in a key area, where any person
        would be an alarm."""
        return [
            live
            for live in self._of(DeviceKind.CAMERA, protocol=DeviceProtocol.FRIGATE)
            if live.free(now) and not (night and live.device.key_area)
        ]

    def _recorders(self, now: dt.datetime) -> list[_Live]:
        return [
            live
            for live in self._of(DeviceKind.GATEWAY, protocol=DeviceProtocol.HIKVISION)
            if live.free(now)
        ]

    def _label_for(self, camera: str) -> str:
        if "bike" in camera:
            weights = {"bicycle": 5, "person": 3, "motorcycle": 1}
        elif any(part in camera for part in ("vehicle", "garage", "parking")):
            weights = {"car": 6, "person": 2}
        else:
            weights = {"person": 8, "bicycle": 1, "dog": 1}
        labels = list(weights)
        return self.rng.choices(labels, weights=[weights[label] for label in labels])[0]

    def _pass_minor(self) -> int:
        return ACCESS_FACE_VERIFIED if self.rng.random() < 0.6 else ACCESS_VALID_CARD

    # ------------------------------------------------------------------ alarm scenarios

    def scenarios_available(self, now: dt.datetime) -> list[str]:
        """The scenarios this community's devices can play now (night ones only at night)."""
        night = is_night(now.astimezone(self.tz))
        return [
            name
            for name, scenario in SCENARIOS.items()
            if (night or not scenario.night_only) and scenario.possible(self, now)
        ]

    def scenario(self, now: dt.datetime, name: str | None = None) -> str | None:
        """Start an alarm scenario (by name, else the next of a shuffled round); its name, or
        ``None`` when none can be played."""
        if name is None:
            available = self.scenarios_available(now)
            if not available:
                return None
            self._scenarios = [s for s in self._scenarios if s in available]
            if not self._scenarios:
                self._scenarios = list(available)
                self.rng.shuffle(self._scenarios)
            name = self._scenarios.pop()
        SCENARIOS[name].play(self, now)
        self.played.append(name)
        log.info("Simulated scenario: %s", name)
        return name

    def _pick(self, lives: Iterable[_Live], now: dt.datetime) -> _Live:
        return self.rng.choice([live for live in lives if live.free(now)])

    def _play_detector(self, now: dt.datetime, kind: str, lasts: tuple[float, float]) -> None:
        """A smoke, gas or water detector goes off, and clears after a while."""
        detector = self._pick(self._of(kind, protocol=DeviceProtocol.ZIGBEE2MQTT), now)
        clears = now + dt.timedelta(seconds=self.rng.uniform(*lasts))
        detector.busy_until = clears + dt.timedelta(seconds=5)
        self.schedule(now, self._detector(detector, alarm=True))
        # Zigbee2MQTT repeats the whole state when another attribute changes meanwhile.
        self.schedule(now + dt.timedelta(seconds=20), self._detector(detector, alarm=True))
        self.schedule(clears, self._detector(detector, alarm=False))

    def _play_held_open(self, now: dt.datetime) -> None:
        """A unit door left open: the reader there reports it held open; without a reader the
        door contact stays open past the five minutes of the built-in rule."""
        doors = [door for door in self._of(DeviceKind.CONTACT) if door.free(now)]
        with_reader = [door for door in doors if self._reader_of(door) is not None]
        door = self.rng.choice(with_reader or doors)
        reader = self._reader_of(door)
        self.schedule(now, self._door(door, closed=False))
        if reader is not None:
            reported = now + dt.timedelta(seconds=self.rng.uniform(30, 60))
            closes = reported + dt.timedelta(seconds=self.rng.uniform(60, 120))
            reader.busy_until = closes
            self.schedule(reported, self._access_at(reader, ACCESS_DOOR_HELD))
            self.schedule(closes, self._access_at(reader, ACCESS_DOOR_CLOSED))
        else:
            closes = now + dt.timedelta(seconds=self.rng.uniform(330, 420))
        door.busy_until = closes
        self.schedule(closes, self._door(door, closed=True))

    def _play_forced(self, now: dt.datetime) -> None:
        """A reader's door opened without a release (kicked in, or pulled while locked)."""
        reader = self._pick(
            self._of(DeviceKind.ACCESS_READER, protocol=DeviceProtocol.HIKVISION), now
        )
        reader.busy_until = now + dt.timedelta(seconds=60)
        self.schedule(now, self._access_at(reader, ACCESS_DOOR_FORCED))
        self.schedule(
            now + dt.timedelta(seconds=self.rng.uniform(10, 40)),
            self._access_at(reader, ACCESS_DOOR_CLOSED),
        )

    def _play_refused_burst(self, now: dt.datetime) -> None:
        """Someone tries card after card at one door: six refusals in about a minute."""
        reader = self._pick(
            self._of(DeviceKind.ACCESS_READER, protocol=DeviceProtocol.HIKVISION), now
        )
        at = now
        for _attempt in range(6):
            minor = self.rng.choice((ACCESS_INVALID_CARD, ACCESS_CARD_EXPIRED))
            self.schedule(at, self._access_at(reader, minor, stranger=True))
            at += dt.timedelta(seconds=self.rng.uniform(4, 12))
        reader.busy_until = at + dt.timedelta(seconds=150)

    def _play_panic(self, now: dt.datetime) -> None:
        button = self._pick(self._of(DeviceKind.PANIC_BUTTON), now)
        button.busy_until = now + dt.timedelta(seconds=30)
        self.schedule(now, lambda at: [_panic_press(button, at, self.tz)])

    def _play_line_crossing(self, now: dt.datetime) -> None:
        """The recorder's perimeter line detection triggers at night; Hikvision repeats
        ``active`` every second while it lasts."""
        recorder = self._pick(self._recorders(now), now)
        channel = self.rng.randrange(1, 33)
        lasts = self.rng.uniform(5, 15)
        recorder.busy_until = now + dt.timedelta(seconds=lasts + 2)
        for second in range(int(lasts)):
            self.schedule(
                now + dt.timedelta(seconds=second),
                lambda at: [self._hikvision_channel(recorder, at, "linedetection", channel)],
            )
        self.schedule(
            now + dt.timedelta(seconds=lasts),
            lambda at: [
                self._hikvision_channel(recorder, at, "linedetection", channel, active=False)
            ],
        )

    def _play_person_at_night(self, now: dt.datetime) -> None:
        """Someone walks through a key area at night, tracked by its camera."""
        camera = self._pick([c for c in self._of(DeviceKind.CAMERA) if c.device.key_area], now)
        camera.busy_until = now + dt.timedelta(seconds=60)
        for outgoing in self._track(camera, now, "person", alert=True):
            self.schedule(now, outgoing)

    def _play_silence(self, now: dt.datetime) -> None:
        """A battery sensor drops off the Zigbee network for a few minutes and comes back."""
        sensor = self._pick(
            [
                live
                for live in self.live.values()
                if live.device.protocol == DeviceProtocol.ZIGBEE2MQTT
                and live.device.heartbeat_seconds > 0
            ],
            now,
        )
        back = now + dt.timedelta(seconds=self.rng.uniform(240, 420))
        sensor.busy_until = back + dt.timedelta(seconds=5)

        def leave(at: dt.datetime) -> list[Outgoing]:
            sensor.silent = True
            return [_availability(sensor.device, online=False)]

        def come_back(at: dt.datetime) -> list[Outgoing]:
            sensor.silent = False
            return [_availability(sensor.device, online=True), self._zigbee_state(sensor, at)]

        self.schedule(now, leave)
        self.schedule(back, come_back)

    # ------------------------------------------------------------------ native messages

    def _door(self, door: _Live, *, closed: bool) -> Action:
        def change(at: dt.datetime) -> list[Outgoing]:
            door.closed = closed
            return [self._zigbee_state(door, at)]

        return change

    def _detector(self, detector: _Live, *, alarm: bool) -> Action:
        def change(at: dt.datetime) -> list[Outgoing]:
            detector.alarm = alarm
            return [self._zigbee_state(detector, at)]

        return change

    def _access_at(self, reader: _Live, minor: int, *, stranger: bool = False) -> Action:
        return lambda at: [self._access(reader, at, minor, stranger=stranger)]

    def _zigbee_state(self, live: _Live, now: dt.datetime) -> Outgoing:
        """A Zigbee2MQTT device's whole state, as it publishes it on every change."""
        rng = self.rng
        live.linkquality = max(0, min(255, live.linkquality + rng.randrange(-12, 13)))
        if rng.random() < 0.08:
            live.battery = max(1.0, live.battery - rng.uniform(0.2, 1.0))
        kind = live.device.kind
        state: dict[str, Any] = {}
        if live.device.heartbeat_seconds > 0:
            # Battery powered; mains devices (gas detectors) report no battery level.
            state["battery"] = round(live.battery)
            state["voltage"] = live.voltage - int((100 - live.battery) * 4)
        state["battery_low"] = live.battery < BATTERY_LOW_PERCENT
        state["linkquality"] = live.linkquality
        if kind == DeviceKind.SMOKE:
            state |= {"smoke": live.alarm, "tamper": False, "test": False}
        elif kind == DeviceKind.GAS:
            state |= {"gas": live.alarm, "tamper": False}
        elif kind == DeviceKind.WATER_LEAK:
            state |= {"water_leak": live.alarm, "device_temperature": rng.randrange(18, 27)}
        elif kind == DeviceKind.CONTACT:
            # Zigbee2MQTT's contact is true when the magnet is near: the door is closed.
            state |= {"contact": live.closed, "device_temperature": rng.randrange(15, 30)}
        elif kind == DeviceKind.MOTION:
            state["occupancy"] = False
        else:
            state["tamper"] = False
        state["last_seen"] = _local_iso(now, self.tz)
        return Outgoing(
            "mqtt", ZIGBEE_PREFIX + live.device.source_id, _json(state), "application/json"
        )

    def _access(
        self, reader: _Live, now: dt.datetime, minor: int, *, stranger: bool = False
    ) -> Outgoing:
        """A Hikvision access controller's ``AccessControllerEvent`` (ISAPI JSON)."""
        reader.serial += 1
        event: dict[str, Any] = {
            "deviceName": reader.device.source_id.replace(":", "")[-6:],
            "majorEventType": 5,
            "subEventType": minor,
            "cardReaderNo": 1,
            "doorNo": 1,
            "serialNo": reader.serial,
            "currentEvent": True,
        }
        if minor == ACCESS_FACE_VERIFIED:
            _card, employee = self.rng.choice(self.cards)
            event |= {
                "employeeNoString": employee,
                "userType": "normal",
                "currentVerifyMode": "cardOrFace",
                "mask": "no",
                "picturesNumber": 1,
            }
        elif minor in (ACCESS_VALID_CARD, ACCESS_CARD_EXPIRED, ACCESS_NO_PERMISSION):
            card, employee = self.rng.choice(self.cards)
            if stranger or minor != ACCESS_VALID_CARD:
                card = str(self.rng.randrange(10**9, 4 * 10**9))
            event |= {
                "cardNo": card,
                "cardType": 1,
                "employeeNoString": employee,
                "currentVerifyMode": "cardOrFace",
            }
        elif minor == ACCESS_INVALID_CARD:
            event |= {
                "cardNo": str(self.rng.randrange(10**9, 4 * 10**9)),
                "cardType": 1,
                "currentVerifyMode": "card",
            }
        alert = {
            **_hikvision_header(reader.device, now, self.tz),
            "channelID": 1,
            "activePostCount": 1,
            "eventType": "AccessControllerEvent",
            "eventState": "active",
            "eventDescription": "Access Controller Event",
            "AccessControllerEvent": event,
        }
        return Outgoing("http", HIKVISION_TOPIC, _json(alert), "application/json")

    def _hikvision_channel(
        self, live: _Live, now: dt.datetime, event_type: str, channel: int, *, active: bool = True
    ) -> Outgoing:
        """A channel alert (heartbeat, motion, line crossing) in ISAPI XML."""
        header = _hikvision_header(live.device, now, self.tz)
        descriptions = {
            "heartBeat": "heartBeat",
            "VMD": "Motion alarm",
            "linedetection": "linedetection alarm",
        }
        count = 0 if event_type == "heartBeat" else 1
        state = "active" if active else "inactive"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">\n'
            f"<ipAddress>{header['ipAddress']}</ipAddress>\n"
            "<portNo>80</portNo>\n<protocol>HTTP</protocol>\n"
            f"<macAddress>{header['macAddress']}</macAddress>\n"
            f"<channelID>{channel}</channelID>\n"
            f"<dateTime>{header['dateTime']}</dateTime>\n"
            f"<activePostCount>{count}</activePostCount>\n"
            f"<eventType>{event_type}</eventType>\n"
            f"<eventState>{state}</eventState>\n"
            f"<eventDescription>{descriptions.get(event_type, event_type)}</eventDescription>\n"
        )
        if event_type == "linedetection":
            body += (
                "<DetectionRegionList>\n<DetectionRegionEntry>\n<regionID>1</regionID>\n"
                "<sensitivityLevel>50</sensitivityLevel>\n"
                "<detectionTarget>human</detectionTarget>\n"
                "</DetectionRegionEntry>\n</DetectionRegionList>\n"
            )
        body += "</EventNotificationAlert>\n"
        return Outgoing("http", HIKVISION_TOPIC, body.encode(), "application/xml")

    def _track(
        self, camera: _Live, now: dt.datetime, label: str, *, alert: bool | None = None
    ) -> list[Outgoing]:
        """Frigate tracking one object: ``new`` now, ``update`` and ``end`` later, with the
        review item around it. Returns what is due now and schedules the rest."""
        rng = self.rng
        start = now.timestamp()
        suffix = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6))
        event_id = f"{start:.6f}-{suffix}"
        review_suffix = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6))
        review_id = f"{start + 0.4:.6f}-{review_suffix}"
        updated = start + rng.uniform(1.5, 5)
        ended = updated + rng.uniform(4, 25)
        zones = [camera.device.source_id.split("_")[0]] if rng.random() < 0.6 else []
        score = round(rng.uniform(0.62, 0.8), 6)
        top = round(min(0.97, score + rng.uniform(0.05, 0.2)), 6)
        box = [rng.randrange(100, 900), rng.randrange(100, 500)]
        box += [box[0] + rng.randrange(60, 220), box[1] + rng.randrange(120, 380)]
        area = (box[2] - box[0]) * (box[3] - box[1])

        def obj(*, at: float, end: float | None, current: list[str]) -> dict[str, Any]:
            return {
                "id": event_id,
                "camera": camera.device.source_id,
                "frame_time": at,
                "snapshot_time": at,
                "label": label,
                "sub_label": None,
                "top_score": top,
                "false_positive": False,
                "start_time": start,
                "end_time": end,
                "score": score,
                "box": box,
                "area": area,
                "ratio": round((box[2] - box[0]) / (box[3] - box[1]), 6),
                "region": [max(0, box[0] - 100), max(0, box[1] - 100), box[2] + 100, box[3] + 100],
                "current_zones": current,
                "entered_zones": zones,
                "thumbnail": None,
                "has_snapshot": True,
                "has_clip": True,
                "active": end is None,
                "stationary": False,
                "motionless_count": 0,
                "position_changes": 1 if end is None else 2,
                "attributes": {},
                "current_attributes": [],
            }

        first = obj(at=start, end=None, current=zones)
        moved = obj(at=updated, end=None, current=zones)
        last = obj(at=ended, end=ended, current=[])
        if alert is None:
            alert = label in ("person", "car") and not camera.device.key_area
        severity = "alert" if alert else "detection"

        def review(kind: str, *, end: float | None) -> dict[str, Any]:
            return {
                "id": review_id,
                "camera": camera.device.source_id,
                "start_time": start + 0.4,
                "end_time": end,
                "severity": severity,
                "thumb_path": (
                    f"/media/frigate/clips/review/thumb-{camera.device.source_id}-{review_id}.webp"
                ),
                "data": {
                    "detections": [event_id],
                    "objects": [label],
                    "sub_labels": [],
                    "zones": zones,
                    "audio": [],
                },
            }

        def message(
            topic: str, kind: str, before: dict[str, Any], after: dict[str, Any]
        ) -> Outgoing:
            body = {"type": kind, "before": before, "after": after}
            return Outgoing("mqtt", topic, _json(body), "application/json")

        seconds = dt.timedelta
        opened = review("new", end=None)
        closed = review("end", end=ended + 1)
        self.schedule(now + seconds(seconds=0.4), message("frigate/reviews", "new", opened, opened))
        self.schedule(
            now + seconds(seconds=updated - start),
            message("frigate/events", "update", first, moved),
        )
        self.schedule(
            now + seconds(seconds=ended - start), message("frigate/events", "end", moved, last)
        )
        self.schedule(
            now + seconds(seconds=ended + 1 - start),
            message("frigate/reviews", "end", opened, closed),
        )
        if label == "person":
            # Frigate publishes its best picture of the object soon after it starts tracking.
            self.schedule(now + seconds(seconds=0.5), _frigate_snapshot(camera.device, now, label))
        return [message("frigate/events", "new", first, first)]


SNAPSHOT_SIZE = (320, 180)
"""The simulated snapshots' size: Frigate's MQTT snapshots are small too (270 px high)."""


def _frigate_snapshot(device: SimDevice, now: dt.datetime, label: str) -> Outgoing:
    """Frigate's retained snapshot of a tracked object: a grey frame with the camera's name and
    the time drawn on it (ASCII only: Pillow's built-in font has no Chinese), as a JPEG."""
    frame = Image.new("RGB", SNAPSHOT_SIZE, (96, 96, 96))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((130, 50, 190, 170), outline=(230, 230, 230), width=2)
    draw.text((8, 8), device.source_id, fill=(255, 255, 255))
    draw.text((8, 24), now.strftime("%Y-%m-%d %H:%M:%S"), fill=(255, 255, 255))
    draw.text((134, 36), label, fill=(255, 255, 255))
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=70)
    topic = f"frigate/{device.source_id}/{label}/snapshot"
    return Outgoing("mqtt", topic, out.getvalue(), "image/jpeg", retain=True)


def _simulated(device: SimDevice) -> bool:
    """Whether the simulator speaks for a device (the Zigbee coordinator never reports)."""
    if device.protocol == DeviceProtocol.ZIGBEE2MQTT:
        return device.kind != DeviceKind.GATEWAY
    return device.protocol in (DeviceProtocol.FRIGATE, DeviceProtocol.HIKVISION)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _local_iso(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


def _hikvision_header(device: SimDevice, now: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    """The fields every ISAPI alert starts with; the address is made up from the MAC."""
    octets = device.source_id.split(":")
    try:
        ip = f"10.20.{int(octets[-2], 16)}.{int(octets[-1], 16)}"
    except (IndexError, ValueError):
        ip = "10.20.0.1"
    return {
        "ipAddress": ip,
        "portNo": 80,
        "protocol": "HTTP",
        "macAddress": device.source_id,
        "dateTime": _local_iso(now, tz),
    }


def _availability(device: SimDevice, *, online: bool) -> Outgoing:
    """Zigbee2MQTT's availability message (retained, as the bridge publishes it)."""
    state = b'{"state":"online"}' if online else b'{"state":"offline"}'
    return Outgoing("mqtt", f"{ZIGBEE_PREFIX}{device.source_id}/availability", state, retain=True)


def _panic_press(button: _Live, now: dt.datetime, tz: dt.tzinfo) -> Outgoing:
    """An emergency button pressed, as Zigbee2MQTT publishes it (an ``action``)."""
    state = {
        "action": "emergency",
        "battery": round(button.battery),
        "battery_low": button.battery < BATTERY_LOW_PERCENT,
        "linkquality": button.linkquality,
        "tamper": False,
        "last_seen": _local_iso(now, tz),
    }
    return Outgoing("mqtt", ZIGBEE_PREFIX + button.device.source_id, _json(state))


@cache
def panic_press_raises_panic() -> bool:
    """Whether the Zigbee2MQTT adapter turns a button's ``action: emergency`` into a
    ``panic`` observation. Until it does, a press would reach no rule, so the panic scenario
    is left out rather than shown as an alarm that never comes."""
    from anwang.events.adapters.registry import adapter_for

    device = SimDevice("probe", DeviceKind.PANIC_BUTTON, DeviceProtocol.ZIGBEE2MQTT, "probe")
    live = _Live(device=device, battery=90, linkquality=100, voltage=3000)
    message = _panic_press(live, timezone.now(), dt.UTC).inbound(timezone.now())
    adapter = adapter_for(message)
    if adapter is None:
        return False
    try:
        observations = adapter.parse(message, known_source_ids=["probe"])
    except ValueError:
        return False
    return any(o.kind == "panic" and o.value is not False for o in observations)


@dataclass(frozen=True)
class Scenario:
    """Something that raises an alarm under the built-in rules."""

    play: Callable[[TrafficGenerator, dt.datetime], None]
    possible: Callable[[TrafficGenerator, dt.datetime], bool]
    night_only: bool = False
    rule: str = ""
    """The built-in rule it raises (its code)."""


def _has(
    kind: str, *, protocol: str | None = None, key_area: bool = False
) -> Callable[[TrafficGenerator, dt.datetime], bool]:
    def possible(generator: TrafficGenerator, now: dt.datetime) -> bool:
        return any(
            live.free(now) and (live.device.key_area or not key_area)
            for live in generator._of(kind, protocol=protocol)
        )

    return possible


SCENARIOS: dict[str, Scenario] = {
    "smoke": Scenario(
        lambda g, now: g._play_detector(now, DeviceKind.SMOKE, (60, 150)),
        _has(DeviceKind.SMOKE, protocol=DeviceProtocol.ZIGBEE2MQTT),
        rule="smoke",
    ),
    "gas": Scenario(
        lambda g, now: g._play_detector(now, DeviceKind.GAS, (90, 180)),
        _has(DeviceKind.GAS, protocol=DeviceProtocol.ZIGBEE2MQTT),
        rule="gas",
    ),
    "water_leak": Scenario(
        lambda g, now: g._play_detector(now, DeviceKind.WATER_LEAK, (120, 300)),
        _has(DeviceKind.WATER_LEAK, protocol=DeviceProtocol.ZIGBEE2MQTT),
        rule="water_leak",
    ),
    "door_held_open": Scenario(
        lambda g, now: g._play_held_open(now),
        _has(DeviceKind.CONTACT, protocol=DeviceProtocol.ZIGBEE2MQTT),
        rule="door_held_open_reader",
    ),
    "door_forced": Scenario(
        lambda g, now: g._play_forced(now),
        _has(DeviceKind.ACCESS_READER, protocol=DeviceProtocol.HIKVISION),
        rule="door_forced",
    ),
    "access_denied_burst": Scenario(
        lambda g, now: g._play_refused_burst(now),
        _has(DeviceKind.ACCESS_READER, protocol=DeviceProtocol.HIKVISION),
        rule="access_denied_burst",
    ),
    "panic": Scenario(
        lambda g, now: g._play_panic(now),
        lambda g, now: (
            panic_press_raises_panic()
            and _has(DeviceKind.PANIC_BUTTON, protocol=DeviceProtocol.ZIGBEE2MQTT)(g, now)
        ),
        rule="panic",
    ),
    "line_crossing": Scenario(
        lambda g, now: g._play_line_crossing(now),
        _has(DeviceKind.GATEWAY, protocol=DeviceProtocol.HIKVISION),
        night_only=True,
        rule="perimeter_crossing_night",
    ),
    "person_at_night": Scenario(
        lambda g, now: g._play_person_at_night(now),
        _has(DeviceKind.CAMERA, protocol=DeviceProtocol.FRIGATE, key_area=True),
        night_only=True,
        rule="key_area_person_night",
    ),
    "device_silent": Scenario(
        lambda g, now: g._play_silence(now),
        lambda g, now: any(
            live.free(now)
            and live.device.protocol == DeviceProtocol.ZIGBEE2MQTT
            and live.device.heartbeat_seconds > 0
            for live in g.live.values()
        ),
        rule="device_offline",
    ),
}
"""The alarm scenarios by name, with the built-in rule each one raises."""


# ---------------------------------------------------------------------- reading the devices


class SimulatorError(Exception):
    """The simulator cannot run: no such community, or no devices to speak for."""


def community_devices(slug: str) -> list[SimDevice]:
    """A community's devices in service, for the simulator (a system reader, not a person:
    nothing to scope)."""
    from anwang.devices.models import Device
    from anwang.places.models import Community

    if not Community.objects.filter(slug=slug).exists():
        raise SimulatorError(f"no community with the short name {slug!r}")
    rows = (
        Device.objects.filter(community__slug=slug, retired_at__isnull=True)
        .select_related("zone", "building")
        .order_by("pk")
    )
    devices = [
        SimDevice(
            name=row.name,
            kind=row.kind,
            protocol=row.protocol,
            source_id=row.source_id,
            zone=row.zone.name if row.zone else None,
            key_area=bool(row.zone and row.zone.is_key_area),
            building=row.building.number if row.building else None,
            heartbeat_seconds=row.heartbeat_seconds,
        )
        for row in rows
    ]
    if not any(_simulated(device) for device in devices):
        raise SimulatorError(
            f"community {slug!r} has no Zigbee2MQTT, Frigate or Hikvision devices to simulate"
        )
    return devices


def _read_devices(slug: str) -> list[SimDevice]:
    """:func:`community_devices` from a worker thread, which then gives its connection back."""
    try:
        return community_devices(slug)
    finally:
        with contextlib.suppress(Exception):
            db_connection.close()


# ---------------------------------------------------------------------- delivery


class Delivery(Protocol):
    """Where the simulator's messages go."""

    def describe(self) -> str:
        """Where, for the start-up line."""
        ...

    async def start(self) -> None:
        """Get ready (connect)."""
        ...

    def send(self, messages: Sequence[Outgoing], now: dt.datetime) -> None:
        """Hand messages over without blocking the event loop."""
        ...

    async def close(self) -> None:
        """Finish what is in flight and let go."""
        ...


class InProcessDelivery:
    """Everything straight into an in-process :class:`EventWorker` (no broker)."""

    def __init__(self, worker: EventWorker) -> None:
        self.worker = worker

    def describe(self) -> str:
        """Where the messages go."""
        return "in-process"

    async def start(self) -> None:
        """Nothing to connect."""

    def send(self, messages: Sequence[Outgoing], now: dt.datetime) -> None:
        """Queue the messages in the worker, as if they had arrived."""
        for message in messages:
            self.worker.submit(message.inbound(now))

    async def close(self) -> None:
        """The worker stores what it was handed before it stops."""


class _DirectIngest:
    """Hikvision's HTTP alerts stored as the ingestion endpoint would, on one database thread,
    when no in-process worker runs (``anwang simulate`` publishing to a broker)."""

    def __init__(self) -> None:
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anwang-simulator-db")
        self._last: Any = None

    def send(self, messages: list[InboundMessage]) -> None:
        from anwang.events.services import ingest_messages

        def store() -> None:
            try:
                ingest_messages(messages=messages)
            except Exception:
                log.exception("Storing %d simulated HTTP alerts failed", len(messages))
                with contextlib.suppress(Exception):
                    db_connection.close()

        self._last = self._db.submit(store)

    def close(self) -> None:
        def finish() -> None:
            with contextlib.suppress(Exception):
                db_connection.close()

        self._db.submit(finish)
        self._db.shutdown(wait=True)


class MqttDelivery:
    """MQTT topics published to a broker (QoS 1, paho's network loop in its own thread);
    Hikvision's HTTP alerts to the in-process worker, or stored directly without one."""

    def __init__(
        self,
        *,
        url: str,
        worker: EventWorker | None = None,
        ca_file: str = "",
        client_id: str | None = None,
    ) -> None:
        self.address = BrokerAddress.from_url(url)
        self.worker = worker
        self.direct = None if worker is not None else _DirectIngest()
        self.connected = threading.Event()
        self.dropped = 0
        self._last: mqtt.MQTTMessageInfo | None = None
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"anwang-simulator-{os.getpid()}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if self.address.username:
            self.client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self.client.tls_set(ca_certs=ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(MQTT_QUEUE_LIMIT)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def describe(self) -> str:
        """The broker, and where Hikvision's alerts go."""
        http = "in-process" if self.worker is not None else "stored directly"
        return f"MQTT {self.address.shown()} (Hikvision HTTP alerts {http})"

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if reason_code.is_failure:
            log.error("The MQTT broker refused the simulator: %s", reason_code)
            return
        self.connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        self.connected.clear()

    async def start(self) -> None:
        """Connect from paho's network thread; wait a little for the connection (messages
        published before it are queued and sent once connected)."""
        self.client.connect_async(self.address.host, self.address.port, 30)
        self.client.loop_start()
        if not await asyncio.to_thread(self.connected.wait, 10.0):
            log.warning("Simulator: no connection to %s yet; queueing", self.address.shown())

    def send(self, messages: Sequence[Outgoing], now: dt.datetime) -> None:
        """Publish (paho only queues here; its thread writes) or hand over HTTP alerts."""
        http: list[InboundMessage] = []
        for message in messages:
            if message.transport == "http":
                if self.worker is not None:
                    self.worker.submit(message.inbound(now))
                else:
                    http.append(message.inbound(now))
                continue
            info = self.client.publish(message.topic, message.payload, qos=1, retain=message.retain)
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                self.dropped += 1
            else:
                self._last = info
        if http and self.direct is not None:
            self.direct.send(http)

    async def close(self) -> None:
        """Wait (briefly) for the broker to take what was published, then disconnect."""
        last = self._last

        def finish() -> None:
            if last is not None and self.connected.is_set():
                with contextlib.suppress(Exception):
                    last.wait_for_publish(timeout=5.0)
            with contextlib.suppress(Exception):
                self.client.disconnect()
            self.client.loop_stop()
            if self.direct is not None:
                self.direct.close()

        await asyncio.to_thread(finish)


# ---------------------------------------------------------------------- the service


@dataclass
class SimulatorCounters:
    """What the simulator has sent."""

    messages: int = 0


class Simulator:
    """The device simulator as a long-running service (``anwang demo``, ``anwang simulate``)."""

    name = "simulator"
    finite = True
    """With a duration it ends on its own, and that ends a run cleanly."""

    def __init__(
        self,
        *,
        community: str,
        delivery: Delivery,
        rate: float = DEMO_RATE,
        alarms_every: float = DEMO_ALARMS_EVERY,
        duration: float | None = None,
        seed: int | None = None,
        tz: dt.tzinfo | None = None,
        reload_seconds: float = RELOAD_SECONDS,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be above zero")
        self.community = community
        self.delivery = delivery
        self.rate = rate
        self.alarms_every = alarms_every
        self.duration = duration
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self.tz = tz
        self.reload_seconds = reload_seconds
        self.counters = SimulatorCounters()
        self.generator: TrafficGenerator | None = None
        self.stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    async def run(self) -> None:
        """Send traffic until stopped (or for ``duration`` seconds)."""
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        if self.stopping:
            return
        devices = await asyncio.to_thread(_read_devices, self.community)
        tz = self.tz or timezone.get_default_timezone()
        generator = self.generator = TrafficGenerator(
            devices, start=timezone.now(), seed=self.seed, tz=tz, alarms_every=self.alarms_every
        )
        await self.delivery.start()
        started = last = time.monotonic()
        next_reload = started + self.reload_seconds
        allowance = 0.0
        try:
            while not self.stopping:
                tick = time.monotonic()
                if self.duration is not None and tick - started >= self.duration:
                    break
                # A token bucket: scheduled messages (heartbeats, a scenario's steps) count
                # against the rate too; after a stall, no burst beyond one second's worth.
                allowance = min(allowance + (tick - last) * self.rate, max(self.rate, 1.0))
                last = tick
                now = timezone.now()
                messages = generator.step(now, budget=int(allowance))
                allowance -= len(messages)
                if messages:
                    self.delivery.send(messages, now)
                    self.counters.messages += len(messages)
                if tick >= next_reload:
                    next_reload = tick + self.reload_seconds
                    try:
                        devices = await asyncio.to_thread(_read_devices, self.community)
                    except Exception as error:  # the next reload tries again
                        log.warning("Simulator: reading the devices failed: %s", error)
                    else:
                        generator.set_devices(devices, timezone.now())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), timeout=TICK_SECONDS)
        finally:
            await self.delivery.close()
            self._loop = None

    def stop(self, *, force: bool = False) -> None:
        """Stop after the current tick."""
        self.stopping = True
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(event.set)

"""Zigbee2MQTT: device state, availability and the bridge's device list, over MQTT.

Topics (base topic ``zigbee2mqtt``): ``zigbee2mqtt/<friendly_name>`` carries a device's whole
state as a JSON object, re-sent on every change and on restart (level-triggered);
``zigbee2mqtt/<friendly_name>/availability`` carries ``{"state":"online"}`` or, in legacy mode,
plain ``online``/``offline``; ``zigbee2mqtt/bridge/...`` is the bridge's own traffic and
``.../set``, ``.../get`` are commands to devices, so neither is device state. Friendly names
may contain ``/``, so a topic is matched against the known friendly names, longest first.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from typing import Any

from anwang.events.adapters.base import (
    AdapterError,
    InboundMessage,
    Observation,
    parse_device_time,
)
from anwang.events.adapters.registry import register_adapter

BASE_TOPIC = "zigbee2mqtt"
_PREFIX = BASE_TOPIC + "/"
_AVAILABILITY = "availability"
_COMMANDS = frozenset({"set", "get"})

# Zigbee2MQTT boolean fields after smoke and test, and the normalised kind of each
# (the observation's attribute is its kind).
_BOOLEAN_FIELDS: tuple[tuple[str, str], ...] = (
    ("water_leak", "water_leak"),
    ("gas", "gas"),
    ("contact", "contact"),
    ("occupancy", "motion"),
    ("tamper", "tamper"),
    ("battery_low", "battery_low"),
)


class Zigbee2MqttAdapter:
    """Zigbee2MQTT device state and availability messages."""

    name = "zigbee2mqtt"

    def accepts(self, message: InboundMessage) -> bool:
        """Every MQTT message under the ``zigbee2mqtt/`` base topic."""
        return message.transport == "mqtt" and message.topic.startswith(_PREFIX)

    def parse(
        self, message: InboundMessage, *, known_source_ids: Collection[str] = ()
    ) -> list[Observation]:
        """Observations of one device state or availability message; none for bridge
        traffic and commands."""
        if not message.topic.startswith(_PREFIX):
            raise AdapterError(f"Topic {message.topic!r} is not under {_PREFIX!r}.")
        rest = message.topic[len(_PREFIX) :]
        if rest == "bridge" or rest.startswith("bridge/"):
            # The bridge's own state, logs, device list and responses: not device state.
            return []
        name, suffix = _split_topic(rest, known_source_ids)
        if not name:
            raise AdapterError(f"Topic {message.topic!r} names no device.")
        if suffix == _AVAILABILITY:
            return [_availability(name, message)]
        if suffix:
            # A command (set/get) or a per-attribute copy of the state: never device state.
            return []
        return _state(name, message)


def _split_topic(rest: str, known_source_ids: Collection[str]) -> tuple[str, str]:
    """The friendly name and what follows it (``""``, ``"availability"`` or a command)."""
    best = ""
    for known in known_source_ids:
        if len(known) > len(best) and (rest == known or rest.startswith(known + "/")):
            best = known
    if best:
        suffix = rest[len(best) + 1 :]
        if not suffix or suffix == _AVAILABILITY or suffix.split("/", 1)[0] in _COMMANDS:
            return best, suffix
        # A known name plus more: a device we do not know yet whose name extends a known one.
    segments = rest.split("/")
    if len(segments) > 1 and segments[-1] == _AVAILABILITY:
        return "/".join(segments[:-1]), _AVAILABILITY
    for index, segment in enumerate(segments[1:], start=1):
        if segment in _COMMANDS:
            return "/".join(segments[:index]), "/".join(segments[index:])
    return rest, ""


def _availability(name: str, message: InboundMessage) -> Observation:
    """An availability report, JSON (``{"state": "online"}``) or legacy plain text."""
    try:
        text = message.payload.decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise AdapterError(f"Availability of {name!r} is not UTF-8 text.") from error
    state: Any = text
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError as error:
            raise AdapterError(f"Availability of {name!r} is not valid JSON: {error}.") from error
        state = decoded.get("state") if isinstance(decoded, dict) else None
    if state not in ("online", "offline"):
        raise AdapterError(
            f"Availability of {name!r} is neither online nor offline: {text[:100]!r}."
        )
    return Observation(
        source_id=name,
        kind="availability",
        attribute="availability",
        value=state,
        replay=message.retained,
    )


def _state(name: str, message: InboundMessage) -> list[Observation]:
    """One observation per known field of a device's state message."""
    try:
        payload = json.loads(message.payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AdapterError(f"State of {name!r} is not valid JSON: {error}.") from error
    if not isinstance(payload, dict):
        raise AdapterError(f"State of {name!r} is a JSON {type(payload).__name__}, not an object.")
    battery = _battery(payload.get("battery"))
    device_time, device_time_raw = _last_seen(payload.get("last_seen"))

    def observe(kind: str, value: Any) -> Observation:
        return Observation(
            source_id=name,
            kind=kind,
            attribute=kind,
            value=value,
            device_time=device_time,
            device_time_raw=device_time_raw,
            replay=message.retained,
            battery=battery,
            data=dict(payload),
        )

    observations: list[Observation] = []
    smoke = _flag(payload, "smoke", name)
    testing = _flag(payload, "test", name)
    # A smoke alarm raised by the self-test button is not a fire: it is reported only as
    # the test, and the smoke attribute keeps its last real value.
    if smoke is not None and not (smoke and testing):
        observations.append(observe("smoke", smoke))
    if testing is not None:
        observations.append(observe("smoke_test", testing))
    for field, kind in _BOOLEAN_FIELDS:
        flag = _flag(payload, field, name)
        if flag is None:
            continue
        value: bool | str = flag
        if field == "contact":
            # Zigbee2MQTT's contact is true when the magnet is near, i.e. the door is closed.
            value = "closed" if flag else "open"
        observations.append(observe(kind, value))
    action = payload.get("action")
    if isinstance(action, str) and action.lower() in _PANIC_ACTIONS and not message.retained:
        # A press is momentary (no state to compare): an edge. It is told apart by the
        # device's last_seen when Zigbee2MQTT sends it (a redelivered message then stores
        # nothing), else by the receive time (a redelivery after a crash may count the press
        # twice, which joins the same open alarm: better than losing a press).
        moment = device_time.isoformat() if device_time else message.received_at.isoformat()
        observations.append(
            Observation(
                source_id=name,
                kind="panic",
                edge_key=f"action:{action.lower()}:{moment}",
                device_time=device_time,
                device_time_raw=device_time_raw,
                battery=battery,
                data=dict(payload),
            )
        )
    return observations


_PANIC_ACTIONS = frozenset({"emergency", "sos", "panic"})
"""``action`` values of emergency buttons (e.g. Heiman HS1EB ``emergency``, Aqara/Tuya SOS
buttons ``sos``)."""


def _flag(payload: dict[str, Any], field: str, name: str) -> bool | None:
    """A boolean field, ``None`` when absent or null; anything else is malformed."""
    value = payload.get(field)
    if value is None or isinstance(value, bool):
        return value
    raise AdapterError(f"Field {field!r} of {name!r} is {value!r}, not true or false.")


def _battery(value: Any) -> float | None:
    """Battery percent; old Zigbee2MQTT versions sent it as a string such as ``"80.00"``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        percent = float(value)
    except ValueError:
        return None
    return percent if 0 <= percent <= 100 else None


def _last_seen(value: Any) -> tuple[dt.datetime | None, str | None]:
    """The device time from ``last_seen`` (ISO 8601 or epoch milliseconds), with its raw form."""
    if isinstance(value, str):
        return parse_device_time(value), value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC), str(value)
        except (OverflowError, OSError, ValueError):
            return None, str(value)
    return None, None


def bridge_device_names(payload: bytes) -> list[str]:
    """The friendly names in a ``zigbee2mqtt/bridge/devices`` message, coordinator excluded."""
    try:
        devices = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AdapterError(f"The bridge's device list is not valid JSON: {error}.") from error
    if not isinstance(devices, list):
        raise AdapterError("The bridge's device list is not a JSON array.")
    names: list[str] = []
    for device in devices:
        if not isinstance(device, dict) or device.get("type") == "Coordinator":
            continue
        name = device.get("friendly_name")
        if isinstance(name, str) and name:
            names.append(name)
    return names


register_adapter(Zigbee2MqttAdapter())

"""The one interface every device adapter implements, and what it returns.

An adapter turns one native message (an MQTT publish or an HTTP body) into observations: what
a device says about itself right now. Adapters are pure: no database, no network, no clock
except the receive time they are given. Deciding what is a *new* event (a transition of a
level-triggered attribute, or an edge-triggered identity not seen before) is the pipeline's
job, from the observations' ``attribute``/``value`` and ``edge_key``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Transport = Literal["mqtt", "http"]


class AdapterError(ValueError):
    """A message the adapter cannot use; ``reason`` goes to the dead-letter table."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InboundMessage:
    """One message as it arrived: MQTT topic or HTTP path, raw bytes, and when we got it."""

    transport: Transport
    topic: str
    payload: bytes
    received_at: dt.datetime
    content_type: str = ""
    retained: bool = False


@dataclass(frozen=True)
class Observation:
    """One thing a device reports, normalised.

    Level-triggered reports (a Zigbee sensor's whole state, Hikvision repeating ``active``)
    set ``attribute`` and ``value``: the pipeline makes an event only when the value changes.
    Edge-triggered reports (an access swipe, a Frigate event) set ``edge_key``, their own
    identity within the device: the pipeline stores each key once.
    """

    source_id: str
    """The device's identity in its own world: Zigbee2MQTT friendly name, Frigate camera,
    Hikvision serial number or address, or our own device id."""
    kind: str
    """Normalised kind, e.g. ``smoke``, ``smoke_test`` (a self-test, never a fire), ``gas``,
    ``water_leak``, ``contact``, ``motion``, ``tamper``, ``battery_low``, ``panic``,
    ``temperature``, ``availability``, ``object_detected``, ``review``, ``line_crossing``,
    ``intrusion``, ``video_loss``, ``heartbeat``, ``access``, ``plate`` (a licence plate
    read), ``snapshot``, ``other``."""
    attribute: str | None = None
    value: Any = None
    edge_key: str | None = None
    device_time: dt.datetime | None = None
    device_time_raw: str | None = None
    replay: bool = False
    """True for retained messages and device-log replays: they update state, never count as
    new events."""
    battery: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    image: bytes | None = None
    """A camera picture (JPEG or PNG bytes, already checked by the adapter): the pipeline stores
    it as a snapshot of the device, never as an event."""


class Adapter(Protocol):
    """A native device format."""

    name: str
    """Short name, also the HTTP ingestion path: ``/api/v1/ingest/<name>``."""

    def accepts(self, message: InboundMessage) -> bool:
        """Whether this message is in this adapter's format (by topic, path or content type)."""
        ...

    def parse(
        self, message: InboundMessage, *, known_source_ids: Collection[str] = ()
    ) -> list[Observation]:
        """The observations in a message (possibly none, e.g. an object count); raise
        :class:`AdapterError` for a malformed or unknown one."""
        ...


def parse_device_time(raw: str | None) -> dt.datetime | None:
    """A device's timestamp if it parses as ISO 8601 (naive times are taken as UTC), else
    ``None``: device clocks and formats are not trusted (``2024-01-22T11:46:3100:00`` occurs)."""
    if not raw:
        return None
    text = raw.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

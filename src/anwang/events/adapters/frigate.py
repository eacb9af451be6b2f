"""Frigate NVR over MQTT: tracked objects, review items and Frigate's own availability.

Topics (default prefix ``frigate``, see https://docs.frigate.video/integrations/mqtt/):

- ``frigate/events``: JSON ``{"type": "new"|"update"|"end", "before": {...}, "after": {...}}``
  for each tracked object; edge-triggered on ``<event id>:<type>``.
- ``frigate/reviews``: the same shape for review items (severity ``alert``/``detection``);
  edge-triggered on ``<review id>:<type>``.
- ``frigate/available``: ``online``/``offline`` for the Frigate server itself.
- ``frigate/<camera>/<label>/snapshot``: the best current picture of a tracked object, JPEG
  bytes (usually retained). It becomes a ``snapshot`` observation carrying the image, once its
  magic bytes and header say it is a JPEG or PNG of bounded size; anything else is an
  AdapterError (a dead letter). Only the header is read, never the whole picture.
- Everything else is ignored and yields no observation: the per-camera and per-zone object counts
  (``frigate/<camera or zone>/<label>``) are ignored because a zone and a camera share the
  same topic shape, so a count cannot be tied to a device, and the events already say
  everything a count would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from typing import Any

from anwang.events.adapters.base import AdapterError, InboundMessage, Observation
from anwang.events.adapters.pictures import picture_facts
from anwang.events.adapters.registry import register_adapter

PREFIX = "frigate"
EVENT_TYPES = frozenset({"new", "update", "end"})
AVAILABILITY_SOURCE = "frigate"
"""The source id of the Frigate server itself, for ``frigate/available``."""


class FrigateAdapter:
    """Frigate's MQTT messages."""

    name = "frigate"

    def accepts(self, message: InboundMessage) -> bool:
        """Any MQTT message under the ``frigate/`` prefix."""
        return message.transport == "mqtt" and message.topic.startswith(PREFIX + "/")

    def parse(
        self, message: InboundMessage, *, known_source_ids: Collection[str] = ()
    ) -> list[Observation]:
        """Observations in one Frigate message; binary and count topics give none."""
        topic = message.topic
        if topic == f"{PREFIX}/events":
            return [_object_event(message)]
        if topic == f"{PREFIX}/reviews":
            return [_review(message)]
        if topic == f"{PREFIX}/available":
            return [_availability(message)]
        parts = topic.split("/")
        if len(parts) == 4 and parts[3] == "snapshot" and parts[1] and parts[2]:
            return [_snapshot(message, camera=parts[1], label=parts[2])]
        # Counts, stats, camera switches: never decoded, nothing to report.
        return []


def _object_event(message: InboundMessage) -> Observation:
    kind, after = _envelope(message, "event")
    event_id = _required_str(after, "id", "event")
    camera = _required_str(after, "camera", "event")
    raw_time = after.get("end_time") if kind == "end" else after.get("start_time")
    device_time, device_time_raw = _unix_time(raw_time)
    return Observation(
        source_id=camera,
        kind="object_detected",
        edge_key=f"{event_id}:{kind}",
        device_time=device_time,
        device_time_raw=device_time_raw,
        replay=message.retained,
        data={
            "event_id": event_id,
            "type": kind,
            "label": after.get("label"),
            "sub_label": after.get("sub_label"),
            "score": after.get("score"),
            "top_score": after.get("top_score"),
            "zones": list(after.get("current_zones") or []),
            "entered_zones": list(after.get("entered_zones") or []),
        },
    )


def _review(message: InboundMessage) -> Observation:
    kind, after = _envelope(message, "review")
    review_id = _required_str(after, "id", "review")
    camera = _required_str(after, "camera", "review")
    raw_time = after.get("end_time") if kind == "end" else after.get("start_time")
    device_time, device_time_raw = _unix_time(raw_time)
    details = after.get("data")
    details = details if isinstance(details, dict) else {}
    return Observation(
        source_id=camera,
        kind="review",
        edge_key=f"{review_id}:{kind}",
        device_time=device_time,
        device_time_raw=device_time_raw,
        replay=message.retained,
        data={
            "review_id": review_id,
            "type": kind,
            "severity": after.get("severity"),
            "objects": list(details.get("objects") or []),
            "sub_labels": list(details.get("sub_labels") or []),
            "zones": list(details.get("zones") or []),
            "detections": list(details.get("detections") or []),
        },
    )


def _availability(message: InboundMessage) -> Observation:
    state = message.payload.decode("utf-8", errors="replace").strip().lower()
    if state not in {"online", "offline"}:
        raise AdapterError(f"Frigate availability must be 'online' or 'offline', not {state!r}.")
    return Observation(
        source_id=AVAILABILITY_SOURCE,
        kind="availability",
        attribute="availability",
        value=state,
        replay=message.retained,
    )


def _snapshot(message: InboundMessage, *, camera: str, label: str) -> Observation:
    """A picture of a tracked object, checked to be a JPEG or PNG of bounded size."""
    facts = picture_facts(message.payload, what="Frigate snapshot")
    return Observation(
        source_id=camera,
        kind="snapshot",
        replay=message.retained,
        data={"label": label, **facts},
        image=message.payload,
    )


def _envelope(message: InboundMessage, what: str) -> tuple[str, dict[str, Any]]:
    """The message's type and its ``after`` object, or an AdapterError saying what is wrong."""
    try:
        body = json.loads(message.payload)
    except (UnicodeDecodeError, ValueError) as error:
        raise AdapterError(f"Frigate {what} message is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise AdapterError(f"Frigate {what} message is not a JSON object.")
    kind = body.get("type")
    if kind not in EVENT_TYPES:
        raise AdapterError(f"Frigate {what} message has an unknown type {kind!r}.")
    after = body.get("after")
    if not isinstance(after, dict):
        raise AdapterError(f"Frigate {what} message has no 'after' object.")
    return kind, after


def _required_str(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise AdapterError(f"Frigate {what} message has no '{key}'.")
    return value


def _unix_time(value: object) -> tuple[dt.datetime | None, str | None]:
    """A Frigate timestamp (unix seconds as a float) as a UTC datetime, and as given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, None if value is None else str(value)
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC), repr(value)
    except (OverflowError, OSError, ValueError):
        return None, repr(value)


register_adapter(FrigateAdapter())

"""Anwang's own JSON event format, for devices and gateways we program ourselves.

Over MQTT on ``anwang/<community>/<device>/event``, over HTTP at ``/api/v1/ingest/anwang``.
A message is one event object or a JSON array of them. The format is :class:`AnwangEvent`;
its JSON Schema is committed at ``src/anwang/events/schemas/anwang-event-v1.schema.json``
(regenerate it with ``python -m anwang.events.adapters.anwang_json``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from anwang.events.adapters.base import (
    AdapterError,
    InboundMessage,
    Observation,
    parse_device_time,
)
from anwang.events.adapters.registry import register_adapter

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "anwang-event-v1.schema.json"
MAX_BATCH = 1000

EventKind = Literal[
    "smoke",
    "gas",
    "water_leak",
    "contact",
    "motion",
    "tamper",
    "battery_low",
    "panic",
    "temperature",
    "availability",
    "object_detected",
    "review",
    "line_crossing",
    "intrusion",
    "video_loss",
    "heartbeat",
    "access",
    "plate",
    "other",
]


class AnwangEvent(BaseModel):
    """One event in Anwang's own device format, version 1."""

    model_config = ConfigDict(
        extra="forbid",
        title="Anwang device event",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            # The validator below, said in the schema's own terms.
            "oneOf": [{"required": ["state"]}, {"required": ["event_id"]}],
        },
    )

    schema_version: Literal[1] = Field(description="Version of this format; always 1.")
    device: str = Field(
        min_length=1,
        max_length=200,
        # It is also a level of the MQTT topic, so it cannot hold a level separator or wildcard.
        pattern=r"^[^/#+]+$",
        description="The device's source id as registered in Anwang (no '/', '#' or '+').",
    )
    kind: EventKind = Field(description="The normalised kind of what the device reports.")
    state: bool | int | float | str | None = Field(
        default=None,
        description=(
            "For level-triggered kinds (smoke, contact, motion, ...): the current state. "
            "Repeating the same state makes no new event; a change makes one."
        ),
    )
    event_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "For edge-triggered kinds (access, object_detected, ...): an identity unique "
            "within the device. Each event_id is stored once, however often it is sent."
        ),
    )
    time: str | None = Field(
        default=None,
        max_length=64,
        description=(
            "The device's own time, ISO 8601 (e.g. 2026-11-26T15:04:05+08:00). Kept as sent; "
            "Anwang orders events by its own receive time."
        ),
    )
    battery: float | None = Field(
        default=None, ge=0, le=100, description="Battery level in percent, if battery powered."
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Anything else the device wants to keep with the event."
    )

    @model_validator(mode="after")
    def _state_or_event_id(self) -> AnwangEvent:
        """Exactly one of state and event_id: an event is level- or edge-triggered."""
        if (self.state is None) == (self.event_id is None):
            raise ValueError("exactly one of 'state' and 'event_id' is required")
        return self


def event_json_schema() -> dict[str, Any]:
    """The JSON Schema of one event, as published in the docs."""
    return AnwangEvent.model_json_schema()


class AnwangJsonAdapter:
    """Anwang's own JSON events, over MQTT and HTTP."""

    name = "anwang"

    def accepts(self, message: InboundMessage) -> bool:
        """``anwang/<community>/<device>/event`` over MQTT, the ``anwang`` path over HTTP."""
        if message.transport == "http":
            return message.topic.strip("/").rsplit("/", 1)[-1] == self.name
        return _topic_device(message.topic) is not None

    def parse(
        self, message: InboundMessage, *, known_source_ids: Collection[str] = ()
    ) -> list[Observation]:
        """The observations in one event or a batch of events."""
        topic_device: str | None = None
        if message.transport == "mqtt":
            topic_device = _topic_device(message.topic)
            if topic_device is None:
                raise AdapterError(
                    f"Topic {message.topic!r} is not of the form anwang/<community>/<device>/event."
                )
        try:
            decoded = json.loads(message.payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise AdapterError(f"The event is not valid JSON: {error}.") from error
        items = decoded if isinstance(decoded, list) else [decoded]
        if len(items) > MAX_BATCH:
            raise AdapterError(f"A batch holds at most {MAX_BATCH} events, not {len(items)}.")
        observations: list[Observation] = []
        for index, item in enumerate(items):
            where = f"Event {index}" if isinstance(decoded, list) else "The event"
            event = _validate(item, where)
            if topic_device is not None and event.device != topic_device:
                raise AdapterError(
                    f"{where} is for device {event.device!r} but was published on the topic "
                    f"of device {topic_device!r}."
                )
            observations.append(_observation(event, replay=message.retained))
        return observations


def _topic_device(topic: str) -> str | None:
    """The device named by an ``anwang/<community>/<device>/event`` topic, if it is one."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "anwang" and parts[3] == "event" and all(parts[1:3]):
        return parts[2]
    return None


def _validate(item: Any, where: str) -> AnwangEvent:
    """An event checked against the format, or an :class:`AdapterError` saying what is wrong."""
    try:
        return AnwangEvent.model_validate(item)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'event'}: {problem['msg']}"
            for problem in error.errors()
        )
        reason = f"{where} does not match the Anwang event format: {problems}."
        raise AdapterError(reason) from error


def _observation(event: AnwangEvent, *, replay: bool) -> Observation:
    """The normalised observation of one event."""
    level = event.state is not None
    return Observation(
        source_id=event.device,
        kind=event.kind,
        attribute=event.kind if level else None,
        value=event.state,
        edge_key=None if level else event.event_id,
        device_time=parse_device_time(event.time),
        device_time_raw=event.time,
        replay=replay,
        battery=event.battery,
        data=dict(event.data),
    )


register_adapter(AnwangJsonAdapter())


if __name__ == "__main__":
    sys.stdout.write(json.dumps(event_json_schema(), indent=2, ensure_ascii=False) + "\n")

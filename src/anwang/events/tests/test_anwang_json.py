"""Anwang's own JSON event format: the adapter and its published JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from anwang.events.adapters.anwang_json import (
    SCHEMA_PATH,
    AnwangEvent,
    AnwangJsonAdapter,
    event_json_schema,
)
from anwang.events.adapters.base import AdapterError, InboundMessage, Observation

FIXTURES = Path(__file__).resolve().parents[4] / "tests/fixtures/payloads/anwang"
RECEIVED = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
adapter = AnwangJsonAdapter()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def mqtt(topic: str, payload: bytes, *, retained: bool = False) -> InboundMessage:
    return InboundMessage(
        transport="mqtt", topic=topic, payload=payload, received_at=RECEIVED, retained=retained
    )


def http(payload: bytes, path: str = "anwang") -> InboundMessage:
    return InboundMessage(
        transport="http",
        topic=path,
        payload=payload,
        received_at=RECEIVED,
        content_type="application/json",
    )


def test_committed_schema_is_the_generated_one():
    committed = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == event_json_schema(), (
        "Regenerate: .venv/bin/python -m anwang.events.adapters.anwang_json > " + str(SCHEMA_PATH)
    )
    assert committed["additionalProperties"] is False
    assert committed["properties"]["schema_version"]["const"] == 1


def test_level_triggered_event_over_mqtt():
    (observation,) = adapter.parse(
        mqtt("anwang/sunrise/b3-u2-smoke/event", fixture("smoke_alarm.json"))
    )
    assert observation == Observation(
        source_id="b3-u2-smoke",
        kind="smoke",
        attribute="smoke",
        value=True,
        edge_key=None,
        device_time=dt.datetime(2026, 11, 26, 7, 4, 5, tzinfo=dt.UTC),
        device_time_raw="2026-11-26T15:04:05+08:00",
        replay=False,
        battery=87.0,
        data={"sensor": "photoelectric", "obscuration": 4.2},
    )


def test_edge_triggered_event_over_http():
    (observation,) = adapter.parse(http(fixture("access_granted.json")))
    assert observation == Observation(
        source_id="gate-north",
        kind="access",
        attribute=None,
        value=None,
        edge_key="2026-11-26-000417",
        device_time=dt.datetime(2026, 11, 26, 7, 31, 12, tzinfo=dt.UTC),
        device_time_raw="2026-11-26T07:31:12Z",
        replay=False,
        battery=None,
        data={"result": "granted", "method": "card", "card_no": "9F03A1C2"},
    )


def test_batch_over_http():
    observations = adapter.parse(http(fixture("batch.json")))
    assert [(o.source_id, o.kind, o.attribute, o.value, o.battery) for o in observations] == [
        ("gw7-door-1", "contact", "contact", "open", None),
        ("gw7-door-1", "contact", "contact", "closed", None),
        ("gw7-pir-2", "motion", "motion", True, 12.5),
    ]
    assert observations[1].device_time == dt.datetime(2026, 11, 26, 14, 10, 4, tzinfo=dt.UTC)
    assert observations[2].device_time is None


def test_empty_batch_gives_nothing():
    assert adapter.parse(http(b"[]")) == []


def test_batch_over_mqtt_must_all_be_the_topic_device():
    with pytest.raises(AdapterError, match="Event 2 is for device 'gw7-pir-2'"):
        adapter.parse(mqtt("anwang/sunrise/gw7-door-1/event", fixture("batch.json")))


def test_topic_device_must_be_the_body_device():
    with pytest.raises(AdapterError, match="for device 'b3-u2-smoke' but was published"):
        adapter.parse(mqtt("anwang/sunrise/b3-u1-smoke/event", fixture("smoke_alarm.json")))


def test_retained_event_is_a_replay():
    (observation,) = adapter.parse(
        mqtt("anwang/sunrise/b3-u2-smoke/event", fixture("smoke_alarm.json"), retained=True)
    )
    assert observation.replay is True


def test_malformed_device_time_is_kept_raw():
    (observation,) = adapter.parse(http(fixture("bad_device_time.json")))
    assert observation.device_time is None
    assert observation.device_time_raw == "2024-01-22T11:46:3100:00"
    assert observation.value is False


@pytest.mark.parametrize(
    ("name", "reasons"),
    [
        ("state_and_event_id.json", ["exactly one of 'state' and 'event_id' is required"]),
        ("neither_state_nor_event_id.json", ["exactly one of 'state' and 'event_id'"]),
        ("extra_field.json", ["severity: Extra inputs are not permitted"]),
        (
            "wrong_version_kind_battery.json",
            ["schema_version: Input should be 1", "kind: Input should be", "battery: Input"],
        ),
        ("malformed.json", ["The event is not valid JSON"]),
    ],
)
def test_invalid_events_are_adapter_errors(name, reasons):
    with pytest.raises(AdapterError) as caught:
        adapter.parse(http(fixture(name)))
    for reason in reasons:
        assert reason in caught.value.reason


@pytest.mark.parametrize(
    "payload",
    [b"42", b'"smoke"', b"[1]", b"\xff\xd8\xff\xe0\x00\x10JFIF", b""],
)
def test_payloads_that_are_not_events(payload):
    with pytest.raises(AdapterError):
        adapter.parse(http(payload))


def test_device_ids_cannot_hold_topic_separators():
    body = b'{"schema_version": 1, "device": "gw7/door-1", "kind": "contact", "state": "open"}'
    with pytest.raises(AdapterError, match="device: String should match pattern"):
        adapter.parse(http(body))


def test_oversized_batch_is_refused():
    event = {"schema_version": 1, "device": "d", "kind": "heartbeat", "event_id": "1"}
    with pytest.raises(AdapterError, match="at most 1000 events"):
        adapter.parse(http(json.dumps([event] * 1001).encode()))


@pytest.mark.parametrize(
    ("transport", "topic", "accepted"),
    [
        ("mqtt", "anwang/sunrise/b3-u2-smoke/event", True),
        ("mqtt", "anwang/sunrise/b3-u2-smoke/status", False),
        ("mqtt", "anwang/sunrise/event", False),
        ("mqtt", "anwang//b3-u2-smoke/event", False),
        ("mqtt", "zigbee2mqtt/anwang", False),
        ("http", "anwang", True),
        ("http", "/api/v1/ingest/anwang", True),
        ("http", "hikvision", False),
    ],
)
def test_accepts(transport, topic, accepted):
    message = InboundMessage(transport=transport, topic=topic, payload=b"{}", received_at=RECEIVED)
    assert adapter.accepts(message) is accepted


def test_the_documented_examples_are_valid():
    docs = Path(__file__).resolve().parents[4] / "docs/device-events.md"
    text = docs.read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in text.split("```json\n")[1:]]
    events = [json.loads(block) for block in blocks if '"schema_version"' in block]
    assert len(events) >= 3
    for event in events:
        for item in event if isinstance(event, list) else [event]:
            AnwangEvent.model_validate(item)

"""Frigate adapter against payloads from the Frigate MQTT documentation."""

from __future__ import annotations

import datetime as dt
import io
import zlib
from pathlib import Path

import pytest
from PIL import Image

from anwang.events.adapters.base import AdapterError, InboundMessage, Observation
from anwang.events.adapters.frigate import FrigateAdapter
from anwang.events.adapters.pictures import PICTURE_MAX_BYTES

FIXTURES = Path(__file__).resolve().parents[4] / "tests/fixtures/payloads/frigate"
RECEIVED = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
ADAPTER = FrigateAdapter()


def message(topic: str, fixture: str, *, retained: bool = False) -> InboundMessage:
    return InboundMessage(
        transport="mqtt",
        topic=topic,
        payload=(FIXTURES / fixture).read_bytes(),
        received_at=RECEIVED,
        retained=retained,
    )


def test_event_update_from_docs():
    msg = message("frigate/events", "events_update.json")
    assert ADAPTER.accepts(msg)
    assert ADAPTER.parse(msg) == [
        Observation(
            source_id="front_door",
            kind="object_detected",
            edge_key="1607123955.475377-mxklsc:update",
            device_time=dt.datetime.fromtimestamp(1607123955.475377, tz=dt.UTC),
            device_time_raw="1607123955.475377",
            data={
                "event_id": "1607123955.475377-mxklsc",
                "type": "update",
                "label": "person",
                "sub_label": ["John Smith", 0.79],
                "score": 0.87890625,
                "top_score": 0.958984375,
                "zones": ["yard", "driveway"],
                "entered_zones": ["yard", "driveway"],
            },
        )
    ]


def test_event_end_uses_end_time_and_has_its_own_key():
    [obs] = ADAPTER.parse(message("frigate/events", "events_end.json"))
    assert obs.edge_key == "1607123955.475377-mxklsc:end"
    assert obs.device_time == dt.datetime.fromtimestamp(1607123970.5, tz=dt.UTC)
    assert obs.data["zones"] == []


def test_retained_event_is_a_replay():
    [obs] = ADAPTER.parse(message("frigate/events", "events_update.json", retained=True))
    assert obs.replay is True


def test_review_from_docs():
    [obs] = ADAPTER.parse(message("frigate/reviews", "reviews_update.json"))
    assert obs == Observation(
        source_id="front_cam",
        kind="review",
        edge_key="1718987129.308396-fqk5ka:update",
        device_time=dt.datetime.fromtimestamp(1718987129.308396, tz=dt.UTC),
        device_time_raw="1718987129.308396",
        data={
            "review_id": "1718987129.308396-fqk5ka",
            "type": "update",
            "severity": "alert",
            "objects": ["person", "car"],
            "sub_labels": ["Bob"],
            "zones": ["front_yard"],
            "detections": [
                "1718987128.947436-g92ztx",
                "1718987148.879516-d7oq7r",
                "1718987126.934663-q5ywpt",
            ],
        },
    )


@pytest.mark.parametrize(
    ("fixture", "state"), [("available_online.txt", "online"), ("available_offline.txt", "offline")]
)
def test_availability(fixture, state):
    assert ADAPTER.parse(message("frigate/available", fixture, retained=True)) == [
        Observation(
            source_id="frigate",
            kind="availability",
            attribute="availability",
            value=state,
            replay=True,
        )
    ]


def test_snapshot_carries_the_picture_with_camera_and_label():
    msg = message("frigate/front_door/person/snapshot", "snapshot_made_here.jpg")
    assert ADAPTER.accepts(msg)
    [obs] = ADAPTER.parse(msg)
    assert obs == Observation(
        source_id="front_door",
        kind="snapshot",
        data={"label": "person", "format": "JPEG", "width": 96, "height": 54},
        image=(FIXTURES / "snapshot_made_here.jpg").read_bytes(),
    )
    # Not an event: neither level- nor edge-triggered.
    assert obs.attribute is None
    assert obs.edge_key is None


def test_retained_snapshot_is_a_replay():
    msg = message("frigate/front_door/person/snapshot", "snapshot_made_here.jpg", retained=True)
    [obs] = ADAPTER.parse(msg)
    assert obs.replay
    assert obs.image is not None


def test_png_snapshot_is_accepted():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    msg = InboundMessage("mqtt", "frigate/yard/car/snapshot", buffer.getvalue(), RECEIVED)
    [obs] = ADAPTER.parse(msg)
    assert obs.data == {"label": "car", "format": "PNG", "width": 4, "height": 3}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"hello, not a picture", "not a JPEG or PNG image"),
        (b"GIF89a" + b"\x00" * 20, "not a JPEG or PNG image"),
        (b"", "not a JPEG or PNG image"),
        ((FIXTURES / "snapshot.bin").read_bytes(), "not a readable JPEG image"),
        ((FIXTURES / "snapshot_made_here.jpg").read_bytes()[:200], "not a readable JPEG image"),
        (b"\xff\xd8\xff" + b"\x00" * PICTURE_MAX_BYTES, "more than 2097152 allowed"),
    ],
)
def test_unusable_snapshots_raise(payload, reason):
    msg = InboundMessage("mqtt", "frigate/front_door/person/snapshot", payload, RECEIVED)
    with pytest.raises(AdapterError, match=reason):
        ADAPTER.parse(msg)


def test_huge_picture_header_is_refused():
    # A valid PNG header claiming 8000 x 6000 pixels: never decoded, refused by size.
    buffer = io.BytesIO()
    Image.new("1", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (8000).to_bytes(4, "big") + (6000).to_bytes(4, "big")
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    msg = InboundMessage("mqtt", "frigate/front_door/person/snapshot", bytes(data), RECEIVED)
    with pytest.raises(AdapterError, match="unusable size 8000x6000"):
        ADAPTER.parse(msg)
    # Far bigger headers are refused by Pillow's own decompression-bomb check.
    data[16:24] = (100000).to_bytes(4, "big") * 2
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    msg = InboundMessage("mqtt", "frigate/front_door/person/snapshot", bytes(data), RECEIVED)
    with pytest.raises(AdapterError, match="decompression bomb"):
        ADAPTER.parse(msg)


@pytest.mark.parametrize(
    ("topic", "fixture"),
    [
        ("frigate/front_door/person/snapshot/extra", "snapshot_made_here.jpg"),
        ("frigate/front_door/person", "count_person.txt"),
        ("frigate/stats", "events_truncated.txt"),
    ],
)
def test_binary_and_count_topics_are_never_decoded(topic, fixture):
    msg = message(topic, fixture)
    assert ADAPTER.accepts(msg)
    assert ADAPTER.parse(msg) == []


@pytest.mark.parametrize(
    ("topic", "fixture", "reason"),
    [
        ("frigate/events", "events_truncated.txt", "not valid JSON"),
        ("frigate/reviews", "snapshot.bin", "not valid JSON"),
        ("frigate/events", "events_missing_id.json", "no 'id'"),
        ("frigate/available", "count_person.txt", "'online' or 'offline'"),
    ],
)
def test_malformed_messages_raise(topic, fixture, reason):
    with pytest.raises(AdapterError, match=reason):
        ADAPTER.parse(message(topic, fixture))


def test_accepts_only_frigate_mqtt():
    assert not ADAPTER.accepts(message("zigbee2mqtt/kitchen", "available_online.txt"))
    http = InboundMessage(
        transport="http", topic="frigate/events", payload=b"{}", received_at=RECEIVED
    )
    assert not ADAPTER.accepts(http)

"""Hikvision ISAPI adapter against captures from public issue threads and the ISAPI guide."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from anwang.events.adapters.base import AdapterError, InboundMessage, Observation
from anwang.events.adapters.hikvision import HikvisionAdapter

FIXTURES = Path(__file__).resolve().parents[4] / "tests/fixtures/payloads/hikvision"
RECEIVED = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
ADAPTER = HikvisionAdapter()


def message(fixture: str, content_type: str = "") -> InboundMessage:
    return InboundMessage(
        transport="http",
        topic="hikvision",
        payload=(FIXTURES / fixture).read_bytes(),
        received_at=RECEIVED,
        content_type=content_type,
    )


def parse_one(fixture: str, content_type: str = "") -> Observation:
    msg = message(fixture, content_type)
    assert ADAPTER.accepts(msg)
    [obs] = ADAPTER.parse(msg)
    return obs


def test_vmd_active_hikvision_namespace():
    assert parse_one("vmd_active_hikvision_ns.xml", "application/xml") == Observation(
        source_id="a6:63:9e:f8:01:09",
        kind="motion",
        attribute="motion:1",
        value=True,
        device_time=dt.datetime(2025, 3, 5, 10, 47, 40, tzinfo=dt.UTC),
        device_time_raw="2025-03-05T10:47:40+00:00",
        data={
            "event_type": "VMD",
            "event_state": "active",
            "channel": "1",
            "description": "Motion alarm",
            "images": 0,
        },
    )


def test_heartbeat_isapi_namespace():
    obs = parse_one("heartbeat_isapi_ns.xml")
    assert (obs.source_id, obs.kind, obs.attribute, obs.value) == (
        "44:19:b6:6d:24:85",
        "heartbeat",
        "heartbeat:1",
        True,
    )
    assert obs.device_time == dt.datetime(2017, 5, 4, 3, 20, 2, tzinfo=dt.UTC)


def test_videoloss_std_cgi_namespace_with_malformed_time():
    obs = parse_one("videoloss_std_cgi_ns_bad_time.xml")
    assert (obs.source_id, obs.kind, obs.attribute, obs.value) == (
        "3c:1b:f8:09:88:85",
        "video_loss",
        "video_loss:0",
        False,
    )
    assert obs.device_time is None
    assert obs.device_time_raw == "2024-01-22T11:47:1500:00"


def test_videoloss_inactive():
    obs = parse_one("videoloss_inactive_hikvision_ns.xml")
    assert (obs.kind, obs.attribute, obs.value) == ("video_loss", "video_loss:1", False)


def test_vmd_inactive_without_namespace_falls_back_to_ip():
    obs = parse_one("vmd_inactive_no_ns.xml")
    assert (obs.source_id, obs.kind, obs.attribute, obs.value) == (
        "192.168.1.64",
        "motion",
        "motion:5",
        False,
    )


def test_linedetection():
    obs = parse_one("linedetection_isapi_ns.xml")
    assert (obs.source_id, obs.kind, obs.attribute, obs.value) == (
        "58:50:ed:21:f0:9b",
        "line_crossing",
        "line_crossing:2",
        True,
    )


def test_fielddetection_psia_namespace_uses_extension_serial():
    obs = parse_one("fielddetection_psia_serial_only.xml")
    assert obs.source_id == "DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU"
    assert (obs.kind, obs.attribute, obs.value) == ("intrusion", "intrusion:34", True)


@pytest.mark.parametrize("fixture", ["vmd_json_bad_time.json", "vmd_json_wrapped_bad_time.json"])
def test_vmd_json(fixture):
    obs = parse_one(fixture, "application/json")
    assert (obs.source_id, obs.kind, obs.attribute, obs.value) == (
        "3c:1b:f8:09:88:85",
        "motion",
        "motion:3",
        True,
    )
    assert obs.device_time is None
    assert obs.device_time_raw == "2024-01-22T11:47:0500:00"


def test_unknown_event_type_is_other_not_an_error():
    obs = parse_one("io_unknown_type.xml")
    assert obs.kind == "other"
    assert obs.attribute == "other:IO:1"
    assert obs.value is True
    assert obs.data["event_type"] == "IO"
    assert obs.data["description"] == "IO alarm"


def test_access_face_verified_with_employee_string():
    assert parse_one("access_face_employee_string.json", "application/json") == Observation(
        source_id="01:17:24:45:d9:f4",
        kind="access",
        edge_key="4512",
        device_time=dt.datetime(2024, 5, 3, 9, 30, 8, tzinfo=dt.UTC),
        device_time_raw="2024-05-03T17:30:08+08:00",
        data={
            "major": 5,
            "minor": 75,
            "name": "face_verified",
            "employee_no": "A0012",
            "card_no": None,
            "door": 1,
            "verify_mode": "cardOrFace",
            "current_event": True,
            "images": 0,
        },
    )


def test_access_invalid_card_with_numeric_employee():
    obs = parse_one("access_invalid_card_numeric_employee.json", "application/json")
    assert obs.edge_key == "4513"
    assert obs.replay is False
    assert obs.data["name"] == "invalid_card"
    assert obs.data["employee_no"] == "1007"
    assert obs.data["card_no"] == "3954678211"


def test_access_log_replay_is_marked():
    obs = parse_one("access_door_forced_replay.json")
    assert obs.replay is True
    assert obs.edge_key == "4398"
    assert obs.data["name"] == "door_forced_open"
    assert obs.data["current_event"] is False


def test_multipart_with_jpeg_parts():
    obs = parse_one(
        "multipart_linedetection_two_jpegs.bin", "multipart/form-data; boundary=MIME_boundary"
    )
    assert (obs.kind, obs.attribute, obs.value) == ("line_crossing", "line_crossing:2", True)
    assert obs.data["images"] == 2


def multipart(alert: bytes, *pictures: bytes) -> bytes:
    """A multipart body as Hikvision cameras post it: the alert, then JPEG parts."""
    parts = [b"Content-Type: application/xml\r\n\r\n" + alert]
    parts += [b"Content-Type: image/jpeg\r\n\r\n" + picture for picture in pictures]
    return b"".join(b"--MIME_boundary\r\n" + part + b"\r\n" for part in parts) + (
        b"--MIME_boundary--\r\n"
    )


JPEG = (FIXTURES.parent / "frigate/snapshot_made_here.jpg").read_bytes()


def test_a_cameras_readable_pictures_become_snapshots_and_broken_ones_are_left_out():
    alert = (FIXTURES / "linedetection_isapi_ns.xml").read_bytes()
    body = multipart(alert, JPEG, b"\xff\xd8\xff\xe0 not really a JPEG")
    msg = InboundMessage(
        transport="http",
        topic="hikvision",
        payload=body,
        received_at=RECEIVED,
        content_type="multipart/form-data; boundary=MIME_boundary",
    )
    crossing, snapshot = ADAPTER.parse(msg)
    assert crossing.kind == "line_crossing"
    assert crossing.data["images"] == 2
    assert snapshot.kind == "snapshot"
    assert snapshot.source_id == crossing.source_id
    assert snapshot.image == JPEG
    assert snapshot.data["label"] == "linedetection"
    assert snapshot.data["format"] == "JPEG"
    assert snapshot.data["width"] > 0
    assert snapshot.data["height"] > 0


def test_access_controllers_pictures_are_not_kept():
    alert = (FIXTURES / "access_face_employee_string.json").read_bytes()
    body = multipart(alert, JPEG).replace(b"application/xml", b"application/json")
    msg = InboundMessage(
        transport="http",
        topic="hikvision",
        payload=body,
        received_at=RECEIVED,
        content_type="multipart/form-data; boundary=MIME_boundary",
    )
    [access] = ADAPTER.parse(msg)
    assert access.kind == "access"
    assert access.image is None


def test_multipart_without_declared_content_type():
    obs = parse_one("multipart_linedetection_two_jpegs.bin")
    assert obs.data["images"] == 2


def test_body_neither_xml_nor_json_raises():
    with pytest.raises(AdapterError, match="neither XML nor JSON"):
        ADAPTER.parse(message("not_an_alert.txt", "text/plain"))


@pytest.mark.parametrize(
    ("payload", "content_type", "reason"),
    [
        (b"<EventNotificationAlert><eventType>VMD", "application/xml", "not well-formed"),
        (b"<ResponseStatus/>", "application/xml", "Expected an EventNotificationAlert"),
        (b'{"eventType": "VMD"', "application/json", "not valid JSON"),
        (b'{"ipAddress": "1.2.3.4"}', "application/json", "no eventType"),
        (
            b"<EventNotificationAlert><eventType>VMD</eventType></EventNotificationAlert>",
            "",
            "no macAddress",
        ),
        (
            b"--b\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n--b--",
            "multipart/mixed; boundary=b",
            "no XML or JSON",
        ),
        (
            b'{"macAddress": "m", "eventType": "AccessControllerEvent",'
            b' "AccessControllerEvent": {"majorEventType": 5}}',
            "application/json",
            "no serialNo",
        ),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><EventNotificationAlert/>', "", "not well-formed"),
    ],
)
def test_malformed_bodies_raise(payload, content_type, reason):
    msg = InboundMessage(
        transport="http",
        topic="hikvision",
        payload=payload,
        received_at=RECEIVED,
        content_type=content_type,
    )
    with pytest.raises(AdapterError, match=reason):
        ADAPTER.parse(msg)


def test_accepts_only_http_on_its_path():
    mqtt = InboundMessage(transport="mqtt", topic="hikvision", payload=b"", received_at=RECEIVED)
    assert not ADAPTER.accepts(mqtt)
    other = InboundMessage(transport="http", topic="frigate", payload=b"", received_at=RECEIVED)
    assert not ADAPTER.accepts(other)

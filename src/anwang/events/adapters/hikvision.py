"""Hikvision ISAPI ``EventNotificationAlert`` pushed over HTTP (alarm server / HTTP host).

A body is XML, JSON, or a multipart (``form-data`` or ``mixed``) body where one part is the
XML/JSON alert and the others are JPEG pictures. XML elements are matched by local name,
because devices use several namespaces (``hikvision.com/ver20``, ``isapi.org/ver20``,
``std-cgi.com/ver20``, ``urn:psialliance-org`` and none at all).

Device identity (``source_id``): ``macAddress`` when present (stable and unique), else the
``serialNumber`` some NVRs put in ``Extensions``, else ``ipAddress``; an alert with none of
these is refused. Channel alarms (VMD, line crossing, intrusion, video loss, heartbeat) are
level-triggered per channel: an NVR has many channels, so the attribute is
``<kind>:<channel>``. Access-controller events are edge-triggered on the device's own
``serialNo``; ``currentEvent: false`` marks a replay from the device's log. Plate reads of
ANPR (barrier) cameras, ``eventType`` ``ANPR`` with an ``ANPR`` element (``licensePlate``,
``direction``, ``confidenceLevel``, ``vehicleType``...), are edge-triggered ``plate``
observations keyed by plate and device time; their pictures are not kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any
from xml.etree.ElementTree import Element  # only the type: parsing goes through defusedxml

import defusedxml.ElementTree as SafeElementTree

from anwang.events.adapters.base import (
    AdapterError,
    InboundMessage,
    Observation,
    parse_device_time,
)
from anwang.events.adapters.pictures import picture_facts
from anwang.events.adapters.registry import register_adapter

TOPIC = "hikvision"

CHANNEL_KINDS = {
    "vmd": "motion",
    "linedetection": "line_crossing",
    "fielddetection": "intrusion",
    "videoloss": "video_loss",
    "heartbeat": "heartbeat",
}
"""Level-triggered channel alarms, by lower-cased ISAPI ``eventType``."""

ACCESS_MAJOR_EVENT = 5
ACCESS_MINOR_NAMES = {
    1: "valid_card",
    2: "card_and_password_passed",
    3: "card_and_password_failed",
    6: "card_no_permission",
    7: "card_outside_schedule",
    8: "card_expired",
    9: "invalid_card",
    21: "lock_opened",
    22: "lock_closed",
    23: "exit_button_pressed",
    24: "exit_button_released",
    25: "door_opened",
    26: "door_closed",
    27: "door_forced_open",
    28: "door_held_open",
    38: "fingerprint_passed",
    39: "fingerprint_failed",
    75: "face_verified",
    76: "face_failed",
    80: "face_not_recognised",
    1024: "remote_open",
}
"""Minor codes of major type 5 (event), from Hikvision's own SDK constants
(``MINOR_LEGAL_CARD_PASS = 0x01``, ``MINOR_INVALID_CARD = 0x09``, ``MINOR_LOCK_OPEN = 0x15``,
``MINOR_DOOR_OPEN_ABNORMAL = 0x1b``, ``MINOR_DOOR_OPEN_TIMEOUT = 0x1c``,
``MINOR_FACE_VERIFY_PASS = 0x4b``, ``MINOR_FACE_VERIFY_FAIL = 0x4c``, ...)."""

NO_PLATE = frozenset({"", "unknown", "无车牌", "车牌", "none"})
"""What ANPR cameras put in ``licensePlate`` when they saw a vehicle but read no plate."""

PICTURE_KINDS = frozenset({"motion", "line_crossing", "intrusion"})
"""Camera alarms whose pictures are kept as snapshots, shown with the alarm. Access
controllers' pictures (face captures of residents) are not kept: they are personal data that
the access records do not need."""
MAX_PICTURES = 2
"""Cameras send a scene picture and sometimes a close-up of the target; more are ignored."""

_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)


class HikvisionAdapter:
    """Hikvision ISAPI alerts received by HTTP ingestion."""

    name = "hikvision"

    def accepts(self, message: InboundMessage) -> bool:
        """HTTP bodies posted to the ``hikvision`` ingestion path."""
        return message.transport == "http" and message.topic == TOPIC

    def parse(
        self, message: InboundMessage, *, known_source_ids: Collection[str] = ()
    ) -> list[Observation]:
        """The observation in an alert body, and for a camera's alarm the pictures that came
        with it (each checked; an unreadable one is left out, the alert is kept)."""
        body, pictures = _alert_part(message.payload, message.content_type)
        alert = _decode(body)
        observation = _observation(alert, images=len(pictures))
        if observation.kind in PICTURE_KINDS:
            return [observation, *_pictures(observation, pictures)]
        return [observation]


def _pictures(alert: Observation, pictures: list[bytes]) -> list[Observation]:
    """Snapshot observations of an alert's pictures that can be used, at most a few."""
    found = []
    for payload in pictures[:MAX_PICTURES]:
        try:
            facts = picture_facts(payload, what="Hikvision picture")
        except AdapterError:
            continue
        label = str(alert.data.get("event_type") or alert.kind)
        found.append(
            Observation(
                source_id=alert.source_id,
                kind="snapshot",
                replay=alert.replay,
                data={"label": label, "channel": alert.data.get("channel"), **facts},
                image=payload,
            )
        )
    return found


def _alert_part(payload: bytes, content_type: str) -> tuple[bytes, list[bytes]]:
    """The alert document in a body, and the image parts that came with it."""
    boundary = _boundary(payload, content_type)
    if boundary is None:
        return payload, []
    alert: bytes | None = None
    images: list[bytes] = []
    delimiter = b"--" + boundary
    for chunk in payload.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        headers, body = _split_part(chunk)
        part_type = _header(headers, "content-type")
        if part_type.startswith("image/"):
            images.append(body)
        elif alert is None and body.strip()[:1] in (b"<", b"{"):
            alert = body
    if alert is None:
        raise AdapterError("Multipart body has no XML or JSON alert part.")
    return alert, images


def _boundary(payload: bytes, content_type: str) -> bytes | None:
    if content_type.lower().startswith("multipart/"):
        found = _BOUNDARY.search(content_type)
        if not found:
            raise AdapterError("Multipart body without a boundary in its content type.")
        return found.group(1).strip().encode("latin-1")
    # Some devices post multipart without saying so: the body starts with the delimiter.
    stripped = payload.lstrip()
    if stripped.startswith(b"--"):
        first_line = stripped.split(b"\n", 1)[0].strip()
        return first_line[2:] or None
    return None


def _split_part(chunk: bytes) -> tuple[bytes, bytes]:
    chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = chunk.partition(separator)
        if found:
            return head, body.removesuffix(b"\r\n").removesuffix(b"\n")
    return b"", chunk


def _header(headers: bytes, name: str) -> str:
    for line in headers.decode("latin-1").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip().lower()
    return ""


def _decode(body: bytes) -> dict[str, Any]:
    """The alert as a dict keyed by local element names, from XML or JSON."""
    text = body.strip()
    if text.startswith(b"<"):
        try:
            root = SafeElementTree.fromstring(text)
        except Exception as error:  # defusedxml raises its own errors as well as ParseError
            raise AdapterError(f"Hikvision alert is not well-formed XML: {error}") from error
        if _local(root.tag) != "EventNotificationAlert":
            raise AdapterError(f"Expected an EventNotificationAlert, got <{_local(root.tag)}>.")
        return _element_dict(root)
    if text.startswith(b"{"):
        try:
            decoded = json.loads(text)
        except ValueError as error:
            raise AdapterError(f"Hikvision alert is not valid JSON: {error}") from error
        if isinstance(decoded, dict) and isinstance(decoded.get("EventNotificationAlert"), dict):
            decoded = decoded["EventNotificationAlert"]
        if not isinstance(decoded, dict) or "eventType" not in decoded:
            raise AdapterError("Hikvision JSON alert has no eventType.")
        return decoded
    raise AdapterError("Hikvision alert body is neither XML nor JSON.")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element_dict(element: Element) -> dict[str, Any]:
    """Children by local name: text for leaves, a dict for elements with children."""
    result: dict[str, Any] = {}
    for child in element:
        key = _local(child.tag)
        if key in result:
            continue  # repeated elements (e.g. region lists) are not needed here
        result[key] = _element_dict(child) if len(child) else (child.text or "").strip()
    return result


def _observation(alert: dict[str, Any], *, images: int) -> Observation:
    source_id = _source_id(alert)
    event_type = _text(alert.get("eventType")) or ""
    raw_time = _text(alert.get("dateTime"))
    common: dict[str, Any] = {
        "source_id": source_id,
        "device_time": parse_device_time(raw_time),
        "device_time_raw": raw_time,
    }
    if event_type == "AccessControllerEvent":
        access = alert.get("AccessControllerEvent")
        if not isinstance(access, dict):
            raise AdapterError("AccessControllerEvent alert has no AccessControllerEvent object.")
        return _access(access, common=common, images=images)
    if event_type.upper() == "ANPR":
        anpr = alert.get("ANPR")
        if not isinstance(anpr, dict):
            raise AdapterError("ANPR alert has no ANPR object.")
        return _plate(anpr, common=common, channel=_text(alert.get("channelID")), images=images)

    channel = _text(alert.get("channelID")) or _text(alert.get("dynChannelID"))
    state = (_text(alert.get("eventState")) or "").lower()
    data: dict[str, Any] = {
        "event_type": event_type,
        "event_state": state or None,
        "channel": channel,
        "description": _text(alert.get("eventDescription")),
        "images": images,
    }
    kind = CHANNEL_KINDS.get(event_type.lower(), "other")
    # Unknown types are still tracked per (type, channel) so an operator can see them.
    attribute_base = kind if kind != "other" else f"other:{event_type}"
    attribute = f"{attribute_base}:{channel}" if channel is not None else attribute_base
    return Observation(
        kind=kind,
        attribute=attribute,
        value=state == "active" if state else None,
        data=data,
        **common,
    )


def _access(access: dict[str, Any], *, common: dict[str, Any], images: int) -> Observation:
    serial = _text(access.get("serialNo"))
    if not serial:
        raise AdapterError("AccessControllerEvent has no serialNo, so it cannot be deduplicated.")
    major = _int(access.get("majorEventType"))
    minor = _int(access.get("subEventType"))
    name = ACCESS_MINOR_NAMES.get(minor) if major == ACCESS_MAJOR_EVENT and minor else None
    employee = _text(access.get("employeeNoString")) or _text(access.get("employeeNo"))
    current = _bool(access.get("currentEvent"))
    return Observation(
        kind="access",
        edge_key=serial,
        replay=current is False,
        data={
            "major": major,
            "minor": minor,
            "name": name or "unknown",
            "employee_no": employee or None,
            "card_no": _text(access.get("cardNo")) or None,
            "door": _int(access.get("doorNo")),
            "verify_mode": _text(access.get("currentVerifyMode")),
            "current_event": current,
            "images": images,
        },
        **common,
    )


def _plate(
    anpr: dict[str, Any], *, common: dict[str, Any], channel: str | None, images: int
) -> Observation:
    """A plate read: the plate as the camera read it (``None`` when it read none), the
    direction (``forward``: towards the camera, ``reverse``: away), confidence and vehicle."""
    raw_plate = _text(anpr.get("licensePlate")) or ""
    plate = None if raw_plate.lower() in NO_PLATE else raw_plate
    vehicle = anpr.get("vehicleInfo")
    vehicle_type = _text(anpr.get("vehicleType"))
    if vehicle_type is None and isinstance(vehicle, dict):
        vehicle_type = _text(vehicle.get("vehicleType"))
    # ANPR alerts carry no serial number: a read is identified by the plate and the time the
    # camera gives it (a camera posting the same read again sends both unchanged).
    moment = common["device_time_raw"] or ""
    return Observation(
        kind="plate",
        edge_key=f"anpr:{channel or ''}:{raw_plate}:{moment}",
        data={
            "plate": plate,
            "direction": _text(anpr.get("direction")),
            "confidence": _int(anpr.get("confidenceLevel")),
            "vehicle_type": vehicle_type,
            "list": _text(anpr.get("vehicleListName")),
            "channel": channel,
            "images": images,
        },
        **common,
    )


def _source_id(alert: dict[str, Any]) -> str:
    extensions = alert.get("Extensions")
    serial = _text(extensions.get("serialNumber")) if isinstance(extensions, dict) else None
    for candidate in (_text(alert.get("macAddress")), serial, _text(alert.get("ipAddress"))):
        if candidate:
            return candidate
    raise AdapterError("Hikvision alert has no macAddress, serialNumber or ipAddress.")


def _text(value: object) -> str | None:
    """A scalar as stripped text (JSON numbers become their decimal form)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def _int(value: object) -> int | None:
    text = _text(value)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    return {"true": True, "false": False}.get(text)


register_adapter(HikvisionAdapter())

"""Helpers of the access tests (also for the pages', API's and passes' tests): an access
world in community ``a`` (a gate on a Hikvision door controller, a garage barrier on a
camera, a restricted plant room), credentials made directly with the ORM, and Hikvision
payloads (AccessControllerEvent, ANPR) as devices post them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from anwang.access.choices import (
    AccessCredentialKind,
    AccessPointKind,
    ConsentKind,
    CredentialStatus,
)
from anwang.access.models import AccessPoint, ConsentRecord, Credential
from anwang.access.services import normalise_value
from anwang.core.crypto import blind_index
from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.events.adapters.base import InboundMessage
from anwang.people.models import Resident
from anwang.places.models import Community

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
"""08:00 of the tests' day (a Monday), Shanghai time; credentials are valid from a year
before."""

CARD_NO = "3954678211"
"""world.a.resident's card."""
QR_ID = "QR-A-0001"
"""world.a.resident's QR code id."""
PLATE = "浙A12345"
"""world.a.resident's car."""
FACE_REF = "A0012"
"""world.a.resident's face template reference (the Hikvision employeeNoString)."""
GATE_MAC = "01:17:24:45:d9:f4"
BARRIER_MAC = "01:17:24:45:e0:01"
PLANT_MAC = "01:17:24:45:e0:02"


def make_credential(
    resident: Resident,
    kind: str,
    value: str,
    *,
    status: str = CredentialStatus.ACTIVE,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    consent: ConsentRecord | None = None,
    label: str = "",
) -> Credential:
    """A credential made directly (no rules checked: face needs no consent here)."""
    normalised = normalise_value(kind, value)
    return Credential.objects.create(
        community=resident.community,
        resident=resident,
        kind=kind,
        value=normalised,
        value_index=blind_index(normalised),
        label=label,
        valid_from=valid_from or T0 - dt.timedelta(days=365),
        valid_until=valid_until,
        status=status,
        consent=consent,
        status_changed_at=valid_from or T0 - dt.timedelta(days=365),
    )


def make_device(
    community: Community,
    source_id: str,
    *,
    name: str,
    kind: str = DeviceKind.ACCESS_READER,
    protocol: str = Protocol.HIKVISION,
) -> Device:
    """A device of the community (Hikvision by default)."""
    return Device.objects.create(
        community=community, name=name, kind=kind, protocol=protocol, source_id=source_id
    )


@dataclass
class AccessWorld:
    """Community ``a``'s access control: devices, points and world.a.resident's credentials."""

    world: Any
    controller: Device
    barrier_camera: Device
    plant_controller: Device
    gate: AccessPoint
    barrier: AccessPoint
    plant_room: AccessPoint
    card: Credential
    qr: Credential
    plate: Credential
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def community(self) -> Community:
        """Community ``a``."""
        community: Community = self.world.a.community
        return community

    @property
    def resident(self) -> Resident:
        """world.a.resident, who holds the card, QR code and plate."""
        resident: Resident = self.world.a.resident
        return resident


def build_access_world(world: Any) -> AccessWorld:
    """A gate (door 1 of a Hikvision door controller), a garage barrier on an ANPR camera and
    a restricted plant room (08:00-18:00) in community ``a``, and a card, QR code and plate
    for world.a.resident (no face credential: see :func:`give_face`)."""
    side = world.a
    controller = make_device(side.community, GATE_MAC, name="北门门禁控制器")
    barrier_camera = make_device(
        side.community, BARRIER_MAC, name="车库道闸相机", kind=DeviceKind.CAMERA
    )
    plant_controller = make_device(side.community, PLANT_MAC, name="设备间门禁")
    gate = AccessPoint.objects.create(
        community=side.community,
        name="北门",
        kind=AccessPointKind.GATE,
        device=controller,
        door_no=1,
        zone=side.zone,
    )
    barrier = AccessPoint.objects.create(
        community=side.community,
        name="地下车库道闸",
        kind=AccessPointKind.GARAGE_BARRIER,
        device=barrier_camera,
        zone=side.zone,
    )
    plant_room = AccessPoint.objects.create(
        community=side.community,
        name="水泵房",
        kind=AccessPointKind.OTHER,
        device=plant_controller,
        is_restricted=True,
        permitted_from=dt.time(8, 0),
        permitted_until=dt.time(18, 0),
    )
    resident = side.resident
    return AccessWorld(
        world=world,
        controller=controller,
        barrier_camera=barrier_camera,
        plant_controller=plant_controller,
        gate=gate,
        barrier=barrier,
        plant_room=plant_room,
        card=make_credential(resident, AccessCredentialKind.CARD, CARD_NO, label="门禁卡"),
        qr=make_credential(resident, AccessCredentialKind.QR, QR_ID),
        plate=make_credential(resident, AccessCredentialKind.PLATE, PLATE),
    )


def give_face(resident: Resident, reference: str = FACE_REF) -> Credential:
    """A face consent in force and a face credential for the resident (made directly)."""
    consent = ConsentRecord.objects.filter(
        resident=resident, kind=ConsentKind.FACE, withdrawn_at__isnull=True
    ).first() or ConsentRecord.objects.create(
        resident=resident,
        kind=ConsentKind.FACE,
        given_at=T0 - dt.timedelta(days=30),
        how="书面同意书",
    )
    return make_credential(resident, AccessCredentialKind.FACE, reference, consent=consent)


# --------------------------------------------------------------------------- device payloads


def hikvision_access(
    *,
    minor: int,
    serial: int,
    at: dt.datetime = T0,
    mac: str = GATE_MAC,
    card_no: str | None = None,
    employee_no: str | None = None,
    door: int | None = 1,
    current: bool = True,
    major: int = 5,
) -> InboundMessage:
    """A Hikvision AccessControllerEvent as a door controller posts it (JSON, as in
    ``tests/fixtures/payloads/hikvision``): minor 1 valid card, 9 invalid card, 6 no
    permission, 75 face verified, 25 door opened..."""
    event: dict[str, Any] = {
        "deviceName": "Gate A",
        "majorEventType": major,
        "subEventType": minor,
        "cardReaderNo": 1,
        "serialNo": serial,
        "currentVerifyMode": "cardOrFace",
        "currentEvent": current,
    }
    if card_no is not None:
        event["cardNo"] = card_no
        event["cardType"] = 1
    if employee_no is not None:
        event["employeeNoString"] = employee_no
    if door is not None:
        event["doorNo"] = door
    alert = {
        "ipAddress": "172.6.64.7",
        "portNo": 80,
        "protocol": "HTTP",
        "macAddress": mac,
        "channelID": 1,
        "dateTime": at.isoformat(),
        "activePostCount": 1,
        "eventType": "AccessControllerEvent",
        "eventState": "active",
        "eventDescription": "Access Controller Event",
        "AccessControllerEvent": event,
    }
    return InboundMessage(
        transport="http",
        topic="hikvision",
        payload=json.dumps(alert, ensure_ascii=False).encode(),
        received_at=at,
        content_type="application/json",
    )


def hikvision_anpr(
    plate: str,
    *,
    at: dt.datetime = T0,
    mac: str = BARRIER_MAC,
    direction: str = "forward",
    vehicle_type: str = "vehicle",
) -> InboundMessage:
    """A Hikvision ANPR plate read as a barrier camera posts it: multipart with the
    EventNotificationAlert XML (ISAPI namespace) and a picture (which is not kept)."""
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">\n'
        "<ipAddress>172.6.64.20</ipAddress>\n<protocol>HTTP</protocol>\n"
        f"<macAddress>{mac}</macAddress>\n<channelID>1</channelID>\n"
        f"<dateTime>{at.isoformat()}</dateTime>\n<activePostCount>1</activePostCount>\n"
        "<eventType>ANPR</eventType>\n<eventState>active</eventState>\n"
        "<eventDescription>ANPR</eventDescription>\n<channelName>Barrier</channelName>\n"
        "<ANPR>\n<country>3</country>\n"
        f"<licensePlate>{plate}</licensePlate>\n<line>1</line>\n"
        f"<direction>{direction}</direction>\n<confidenceLevel>96</confidenceLevel>\n"
        "<plateType>92TypeCivil</plateType>\n<plateColor>blue</plateColor>\n"
        f"<vehicleType>{vehicle_type}</vehicleType>\n"
        "<vehicleInfo>\n<index>1</index>\n<color>white</color>\n</vehicleInfo>\n"
        f"<originalLicensePlate>{plate}</originalLicensePlate>\n"
        "<vehicleListName>otherList</vehicleListName>\n"
        "</ANPR>\n</EventNotificationAlert>"
    )
    body = (
        b"--MIME_boundary\r\n"
        b'Content-Disposition: form-data; name="anpr.xml"; filename="anpr.xml"\r\n'
        b"Content-Type: application/xml\r\n\r\n" + xml.encode() + b"\r\n"
        b"--MIME_boundary\r\n"
        b'Content-Disposition: form-data; name="licensePlatePicture.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0\xff\xd9\r\n"
        b"--MIME_boundary--\r\n"
    )
    return InboundMessage(
        transport="http",
        topic="hikvision",
        payload=body,
        received_at=at,
        content_type="multipart/form-data; boundary=MIME_boundary",
    )

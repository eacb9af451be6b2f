"""The access processor end to end: Hikvision AccessControllerEvent and ANPR payloads through
``ingest_messages`` become access records linked to credentials and people, with watch-list
alarms."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anwang.access import services
from anwang.access.choices import (
    AccessCredentialKind,
    AccessMethod,
    AccessResult,
    CredentialStatus,
    WatchKind,
)
from anwang.access.models import AccessEvent, VisitorPass
from anwang.access.tests.support import (
    CARD_NO,
    FACE_REF,
    PLATE,
    T0,
    AccessWorld,
    give_face,
    hikvision_access,
    hikvision_anpr,
    make_credential,
)
from anwang.alarms.models import Alarm
from anwang.core.crypto import blind_index
from anwang.events.adapters.base import InboundMessage
from anwang.events.models import DeviceEvent
from anwang.events.services import ingest_messages


def ingest(*messages: InboundMessage) -> None:
    ingest_messages(messages=list(messages))


def test_valid_card_links_to_the_person(access_world: AccessWorld) -> None:
    ingest(hikvision_access(minor=1, serial=100, card_no=CARD_NO))
    event = AccessEvent.objects.get()
    assert event.access_point == access_world.gate
    assert event.result == AccessResult.GRANTED
    assert event.method == AccessMethod.CARD
    assert event.reason == "valid_card"
    assert event.credential == access_world.card
    assert event.resident == access_world.resident
    assert event.at == T0
    assert event.device_event == DeviceEvent.objects.get(kind="access")
    assert event.presented_index == access_world.card.value_index
    assert not Alarm.objects.exists()


def test_unknown_card_is_kept_by_index_only(access_world: AccessWorld) -> None:
    ingest(hikvision_access(minor=9, serial=101, card_no="77 00 12"))
    event = AccessEvent.objects.get()
    assert (event.result, event.reason) == (AccessResult.DENIED, "invalid_card")
    assert event.credential is None
    assert event.resident is None
    assert event.presented_index == blind_index("770012")
    # The number itself is not in the access record.
    assert "770012" not in str(AccessEvent.objects.values().get())


def test_door_states_are_not_accesses(access_world: AccessWorld) -> None:
    ingest(
        hikvision_access(minor=25, serial=102),  # door opened
        hikvision_access(minor=21, serial=103),  # lock opened
        hikvision_access(minor=27, serial=104),  # forced open
    )
    assert DeviceEvent.objects.filter(kind="access").count() == 3
    assert not AccessEvent.objects.exists()


def test_events_of_other_devices_and_doors_are_skipped(access_world: AccessWorld) -> None:
    ingest(
        hikvision_access(minor=1, serial=105, card_no=CARD_NO, door=2),
        hikvision_access(minor=1, serial=106, card_no=CARD_NO, mac="aa:bb:cc:dd:ee:ff"),
    )
    assert not AccessEvent.objects.exists()


def test_lost_card_raises_one_alarm_per_use_with_place_and_time(
    access_world: AccessWorld,
) -> None:
    services.credential_set_status(
        actor=None, credential=access_world.card, status=CredentialStatus.LOST, priority=1
    )
    entry = access_world.card.watch_entries.get()
    assert entry.kind == WatchKind.CREDENTIAL
    ingest(hikvision_access(minor=1, serial=110, card_no=CARD_NO))
    # The same message again (a device retry) is no new use.
    ingest(hikvision_access(minor=1, serial=110, card_no=CARD_NO))
    first = AccessEvent.objects.get()
    assert first.credential == access_world.card
    assert first.reason == "valid_card|credential_lost"
    alarm = Alarm.objects.get()
    assert alarm.priority == 1
    assert alarm.source_key == f"watch:{entry.pk}:{first.pk}"
    assert "北门" in alarm.title
    assert "2026-03-02 08:00:00" in alarm.title
    assert alarm.zone == access_world.gate.zone
    assert alarm.device == access_world.controller
    ingest(hikvision_access(minor=9, serial=111, card_no=CARD_NO, at=T0 + dt.timedelta(minutes=5)))
    assert AccessEvent.objects.count() == 2
    assert Alarm.objects.count() == 2
    assert Alarm.objects.filter(title__contains="08:05:00").exists()


def test_replayed_event_is_recorded_without_alarm(access_world: AccessWorld) -> None:
    services.credential_set_status(
        actor=None, credential=access_world.card, status=CredentialStatus.STOLEN
    )
    earlier = T0 - dt.timedelta(hours=3)
    ingest(hikvision_access(minor=1, serial=120, card_no=CARD_NO, at=earlier, current=False))
    event = AccessEvent.objects.get()
    assert event.at == earlier
    assert event.credential == access_world.card
    assert event.reason == "valid_card|credential_stolen"
    assert not Alarm.objects.exists()


def test_barred_person_raises_an_alarm(access_world: AccessWorld, world: Any) -> None:
    services.watch_add(
        actor=None,
        community=access_world.community,
        kind=WatchKind.PERSON,
        resident=access_world.resident,
        reason="法院限制令",
    )
    ingest(hikvision_access(minor=1, serial=121, card_no=CARD_NO))
    alarm = Alarm.objects.get()
    assert "Barred person" in alarm.title


def test_face_event_links_by_employee_number(access_world: AccessWorld) -> None:
    face = give_face(access_world.resident)
    ingest(hikvision_access(minor=75, serial=130, employee_no=FACE_REF))
    event = AccessEvent.objects.get()
    assert (event.result, event.method) == (AccessResult.GRANTED, AccessMethod.FACE)
    assert event.credential == face
    assert event.resident == access_world.resident


def test_expired_credential_still_links_as_a_finding(access_world: AccessWorld) -> None:
    tenant = make_credential(
        access_world.resident,
        AccessCredentialKind.CARD,
        "55501",
        valid_until=T0 - dt.timedelta(days=1),
    )
    ingest(hikvision_access(minor=1, serial=140, card_no="55501"))
    event = AccessEvent.objects.get()
    assert event.credential == tenant
    assert event.reason == "valid_card|credential_expired"


def test_restricted_point_outside_hours_is_a_finding(access_world: AccessWorld) -> None:
    from anwang.access.tests.support import PLANT_MAC

    ingest(
        hikvision_access(
            minor=1, serial=150, card_no=CARD_NO, mac=PLANT_MAC, at=T0.replace(hour=23)
        ),
        hikvision_access(
            minor=1, serial=151, card_no=CARD_NO, mac=PLANT_MAC, at=T0.replace(hour=9)
        ),
    )
    reasons = sorted(AccessEvent.objects.values_list("reason", flat=True))
    assert reasons == ["valid_card", "valid_card|outside_permitted_hours"]


def test_anwang_format_access(access_world: AccessWorld) -> None:
    import json

    from anwang.access.models import AccessPoint
    from anwang.access.tests.support import make_device
    from anwang.devices.choices import Protocol

    reader = make_device(
        access_world.community, "gate-east", name="东门读卡器", protocol=Protocol.ANWANG
    )
    east = AccessPoint.objects.create(
        community=access_world.community, name="东门", kind="gate", device=reader
    )
    message = InboundMessage(
        transport="http",
        topic="anwang",
        payload=json.dumps(
            {
                "schema_version": 1,
                "device": "gate-east",
                "kind": "access",
                "event_id": "e-1",
                "time": T0.isoformat(),
                "data": {"result": "granted", "method": "card", "card_no": CARD_NO},
            }
        ).encode(),
        received_at=T0,
    )
    ingest(message)
    event = AccessEvent.objects.get()
    assert event.access_point == east
    assert event.credential == access_world.card
    assert event.method == AccessMethod.CARD


# --------------------------------------------------------------------------- plates


def test_plate_read_links_to_plate_credential(access_world: AccessWorld) -> None:
    ingest(hikvision_anpr("浙A·12345"))
    stored = DeviceEvent.objects.get(kind="plate")
    assert stored.data["plate"] == "浙A·12345"
    assert stored.data["direction"] == "forward"
    event = AccessEvent.objects.get()
    assert event.access_point == access_world.barrier
    assert (event.result, event.method) == (AccessResult.GRANTED, AccessMethod.PLATE)
    assert event.credential == access_world.plate
    assert event.resident == access_world.resident


def test_unknown_plate_is_refused_and_kept_by_index(access_world: AccessWorld) -> None:
    ingest(hikvision_anpr("沪B99999"))
    event = AccessEvent.objects.get()
    assert (event.result, event.reason) == (AccessResult.DENIED, "unknown_plate")
    assert event.credential is None
    assert event.presented_index == blind_index("沪B99999")


def test_read_without_plate_is_no_access(access_world: AccessWorld) -> None:
    ingest(hikvision_anpr("unknown"))
    assert DeviceEvent.objects.filter(kind="plate").count() == 1
    assert not AccessEvent.objects.exists()


def test_barred_vehicle_raises_an_alarm(access_world: AccessWorld) -> None:
    services.watch_add(
        actor=None,
        community=access_world.community,
        kind=WatchKind.PLATE,
        plate="苏E 54321",
        reason="多次强闯道闸",
    )
    ingest(hikvision_anpr("苏E54321"))
    alarm = Alarm.objects.get()
    assert "Watch-listed vehicle" in alarm.title
    assert "地下车库道闸" in alarm.title


def test_plate_of_a_visitor_pass(access_world: AccessWorld) -> None:
    side = access_world.world.a
    visitor_pass = VisitorPass.objects.create(
        community=side.community,
        household=side.household,
        visitor_name="王五",
        plate="浙C11111",
        plate_index=blind_index("浙C11111"),
        valid_from=T0 - dt.timedelta(hours=1),
        valid_until=T0 + dt.timedelta(hours=4),
        max_entries=1,
        nonce="n-test-1",
        created_at=T0 - dt.timedelta(hours=2),
    )
    ingest(hikvision_anpr("浙C11111"))
    ingest(hikvision_anpr("浙C11111", at=T0 + dt.timedelta(minutes=30)))
    first, second = AccessEvent.objects.order_by("at")
    assert first.visitor_pass == visitor_pass
    assert first.result == AccessResult.GRANTED
    assert second.result == AccessResult.DENIED
    visitor_pass.refresh_from_db()
    assert visitor_pass.entries_used == 1


@pytest.mark.parametrize("plate", [PLATE])
def test_lost_plate_credential_read_is_refused_with_alarm(
    access_world: AccessWorld, plate: str
) -> None:
    services.credential_set_status(
        actor=None, credential=access_world.plate, status=CredentialStatus.STOLEN
    )
    ingest(hikvision_anpr(plate))
    event = AccessEvent.objects.get()
    assert event.result == AccessResult.DENIED
    assert event.reason == "plate_read|credential_stolen"
    assert Alarm.objects.count() == 1

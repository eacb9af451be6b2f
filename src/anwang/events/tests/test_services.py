"""The ingestion pipeline against recorded payloads: one event per real change, dead letters,
health, clock skew, and re-processing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError
from anwang.devices.choices import DeviceKind, DeviceStatus, Protocol
from anwang.devices.models import Device
from anwang.events.adapters.base import InboundMessage
from anwang.events.models import DeadLetter, DeviceEvent, DeviceState
from anwang.events.services import (
    ForeignDeviceError,
    UnusableMessageError,
    dead_letter_reprocess,
    device_heartbeat_sweep,
    ingest_messages,
)

FIXTURES = Path(__file__).resolve().parents[4] / "tests/fixtures/payloads"
T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def mqtt(
    topic: str, payload: bytes | dict[str, Any], *, second: int = 0, retained: bool = False
) -> InboundMessage:
    body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
    return InboundMessage(
        transport="mqtt", topic=topic, payload=body, received_at=at(second), retained=retained
    )


def hikvision(name: str, *, second: int = 0) -> InboundMessage:
    return InboundMessage(
        transport="http",
        topic="hikvision",
        payload=(FIXTURES / "hikvision" / name).read_bytes(),
        received_at=at(second),
        content_type="application/json",
    )


def fixture(vendor: str, name: str) -> bytes:
    return (FIXTURES / vendor / name).read_bytes()


def device(world: Any, source_id: str, protocol: str, kind: str, side: str = "a") -> Device:
    community = getattr(world, side).community
    return Device.objects.create(
        community=community, name=source_id, kind=kind, protocol=protocol, source_id=source_id
    )


def smoke(value: bool, *, second: int = 0, retained: bool = False) -> InboundMessage:
    return mqtt("zigbee2mqtt/kitchen_smoke", {"smoke": value}, second=second, retained=retained)


def events(**filters: Any) -> list[tuple[Any, ...]]:
    return list(
        DeviceEvent.objects.filter(**filters)
        .order_by("received_at", "id")
        .values_list("kind", "previous_value", "value")
    )


@pytest.fixture
def detector(world: Any) -> Device:
    return device(world, "kitchen_smoke", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)


def test_smoke_transitions_are_one_event_each(detector: Device) -> None:
    # The first reading, 'no smoke', is the baseline: state, no event.
    assert ingest_messages(messages=[smoke(False)]).events == 0
    result = ingest_messages(messages=[smoke(True, second=1)])
    assert (result.events, result.dead_letters) == (1, 0)
    # The same state again is no event.
    assert ingest_messages(messages=[smoke(True, second=2)]).events == 0
    assert events(kind="smoke") == [("smoke", False, True)]
    # A fire that clears and returns is a new event, although the payload is byte-identical.
    ingest_messages(messages=[smoke(False, second=3), smoke(True, second=4)])
    assert events(kind="smoke")[-2:] == [("smoke", True, False), ("smoke", False, True)]
    state = DeviceState.objects.get(device=detector, attribute="smoke")
    assert (state.value, state.changed_at, state.updated_at) == (True, at(4), at(4))


def test_a_redelivered_message_stores_nothing(detector: Device) -> None:
    ingest_messages(messages=[smoke(False)])
    alarm = smoke(True, second=1)
    assert ingest_messages(messages=[alarm]).events == 1
    assert ingest_messages(messages=[alarm]).events == 0
    # Even twice in one batch.
    again = smoke(False, second=2)
    assert ingest_messages(messages=[again, again]).events == 1
    assert DeviceEvent.objects.count() == 2


def test_a_first_reading_out_of_the_ordinary_is_an_event(detector: Device) -> None:
    assert ingest_messages(messages=[smoke(True)]).events == 1
    assert events(kind="smoke") == [("smoke", None, True)]


def test_a_retained_message_updates_state_and_is_no_event(detector: Device) -> None:
    result = ingest_messages(messages=[smoke(True, retained=True)])
    assert result.events == 0
    assert DeviceState.objects.get(device=detector, attribute="smoke").value is True
    # The broker's memory is not a sign of life.
    detector.refresh_from_db()
    assert detector.last_seen_at is None
    # Still true after the restart: no event; clearing is one.
    assert ingest_messages(messages=[smoke(True, second=1)]).events == 0
    assert ingest_messages(messages=[smoke(False, second=2)]).events == 1


def test_recorded_zigbee_state_and_health(world: Any) -> None:
    sensor = device(world, "livingroomsmokedetector", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)
    message = mqtt(
        "zigbee2mqtt/livingroomsmokedetector", fixture("zigbee2mqtt", "smoke_state.json")
    )
    # 'No smoke' on first sight is the baseline: health and state, no event.
    assert ingest_messages(messages=[message]).events == 0
    sensor.refresh_from_db()
    assert (sensor.last_seen_at, sensor.battery, sensor.status) == (T0, 100, DeviceStatus.ONLINE)
    assert DeviceState.objects.get(device=sensor, attribute="smoke").value is False
    fire = json.loads(fixture("zigbee2mqtt", "smoke_state.json")) | {"smoke": True}
    assert ingest_messages(messages=[mqtt(message.topic, fire, second=5)]).events == 1
    stored = DeviceEvent.objects.get()
    assert (stored.community_id, stored.device_id) == (world.a.community.pk, sensor.pk)
    assert stored.data["voltage"] == 3055


def test_battery_low_spam_is_one_event_per_transition(world: Any) -> None:
    contact = device(world, "front_door", Protocol.ZIGBEE2MQTT, DeviceKind.CONTACT)
    low = fixture("zigbee2mqtt", "battery_low_made_here.json")
    ingest_messages(messages=[mqtt("zigbee2mqtt/front_door", low, second=s) for s in range(20)])
    assert events(kind="battery_low") == [("battery_low", None, True)]
    ok = {"battery": 90, "battery_low": False, "contact": True}
    ingest_messages(messages=[mqtt("zigbee2mqtt/front_door", ok, second=30 + s) for s in range(5)])
    ingest_messages(messages=[mqtt("zigbee2mqtt/front_door", low, second=40 + s) for s in range(5)])
    assert [v for _k, _p, v in events(kind="battery_low")] == [True, False, True]
    contact.refresh_from_db()
    assert contact.battery == 7


def test_contact_flapping_is_one_event_per_change(world: Any) -> None:
    device(world, "0x00158e5202e6be17", Protocol.ZIGBEE2MQTT, DeviceKind.CONTACT)
    topic = "zigbee2mqtt/0x00158e5202e6be17"
    closed = fixture("zigbee2mqtt", "contact_closed.json")
    opened = fixture("zigbee2mqtt", "contact_open.json")
    sequence = [closed, closed, opened, opened, closed, opened, closed, closed]
    ingest_messages(messages=[mqtt(topic, body, second=i) for i, body in enumerate(sequence)])
    # Closed on first sight is the baseline; then four real changes.
    assert [v for _k, _p, v in events(kind="contact")] == [
        "open",
        "closed",
        "open",
        "closed",
    ]


def test_availability_offline_is_one_event_and_marks_the_device(world: Any) -> None:
    sensor = device(world, "hall_pir", Protocol.ZIGBEE2MQTT, DeviceKind.MOTION)
    offline = fixture("zigbee2mqtt", "availability_offline.json")
    topic = "zigbee2mqtt/hall_pir/availability"
    ingest_messages(messages=[mqtt(topic, offline, second=s) for s in range(3)])
    assert events(kind="availability") == [("availability", None, "offline")]
    sensor.refresh_from_db()
    assert sensor.status == DeviceStatus.OFFLINE
    online = fixture("zigbee2mqtt", "availability_online.json")
    ingest_messages(messages=[mqtt(topic, online, second=5)])
    sensor.refresh_from_db()
    assert sensor.status == DeviceStatus.ONLINE
    assert len(events(kind="availability")) == 2
    # The device's health changed twice: unknown -> offline (reported), offline -> online.
    assert events(kind__startswith="device.") == [
        ("device.offline", None, "offline"),
        ("device.online", None, "online"),
    ]


def test_first_sighting_is_no_health_event(detector: Device) -> None:
    ingest_messages(messages=[smoke(False), smoke(False, second=5)])
    detector.refresh_from_db()
    assert detector.status == DeviceStatus.ONLINE
    assert events(kind__startswith="device.") == []


def test_last_seen_is_written_in_steps_and_health_changes_at_once(world: Any) -> None:
    sensor = device(world, "hallway", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)
    sensor.heartbeat_seconds = 3600
    sensor.save()

    def state(second: int, battery: int) -> InboundMessage:
        payload = json.dumps({"smoke": False, "battery": battery}).encode()
        return mqtt("zigbee2mqtt/hallway", payload, second=second)

    def seen() -> tuple[Any, Any]:
        sensor.refresh_from_db()
        return sensor.last_seen_at, sensor.battery

    ingest_messages(messages=[state(0, 90)])
    assert seen() == (at(0), 90)
    # Heard again within the step: the row is not rewritten for the time alone.
    ingest_messages(messages=[state(5, 90)])
    assert seen() == (at(0), 90)
    # A change of battery is written at once, with the time.
    ingest_messages(messages=[state(6, 89)])
    assert seen() == (at(6), 89)
    # A step later the time is written again.
    ingest_messages(messages=[state(16, 89)])
    assert seen() == (at(16), 89)
    # A device with a short heartbeat gets a quarter of it as its step.
    sensor.heartbeat_seconds = 8
    sensor.save()
    ingest_messages(messages=[state(18, 89)])
    assert seen() == (at(18), 89)


def test_a_silent_device_goes_offline_once_with_an_event(detector: Device) -> None:
    detector.heartbeat_seconds = 600
    detector.save()
    ingest_messages(messages=[smoke(False)])
    assert device_heartbeat_sweep(now=at(599)) == 0
    assert device_heartbeat_sweep(now=at(601)) == 1
    # A second sweep (or a second worker sweeping) finds nothing new.
    assert device_heartbeat_sweep(now=at(900)) == 0
    detector.refresh_from_db()
    assert detector.status == DeviceStatus.OFFLINE
    offline = DeviceEvent.objects.get(kind="device.offline")
    assert offline.received_at == at(601)
    assert offline.data == {
        "reason": "heartbeat_missed",
        "last_seen_at": T0.isoformat(),
        "heartbeat_seconds": 600,
    }
    # Heard again: back online, with an event.
    ingest_messages(messages=[smoke(False, second=1000)])
    detector.refresh_from_db()
    assert detector.status == DeviceStatus.ONLINE
    assert [kind for kind, *_ in events(kind__startswith="device.")] == [
        "device.offline",
        "device.online",
    ]


def test_the_sweep_spares_quiet_kinds_unknown_and_retired_devices(world: Any) -> None:
    never_heard = device(world, "new_one", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)
    no_heartbeat = device(world, "mains_powered", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)
    no_heartbeat.heartbeat_seconds = 0
    no_heartbeat.save()
    retired = device(world, "old_one", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)
    ingest_messages(
        messages=[
            mqtt("zigbee2mqtt/mains_powered", {"smoke": False}),
            mqtt("zigbee2mqtt/old_one", {"smoke": False}),
        ]
    )
    Device.objects.filter(pk=retired.pk).update(retired_at=T0)
    assert device_heartbeat_sweep(now=at(10**6)) == 0
    never_heard.refresh_from_db()
    assert never_heard.status == DeviceStatus.UNKNOWN


def test_an_authenticated_device_speaks_only_for_itself(world: Any, detector: Device) -> None:
    other = device(world, "other_smoke", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)
    with pytest.raises(ForeignDeviceError):
        ingest_messages(messages=[smoke(True)], device=other)
    camera = device(world, "DS-2CD", Protocol.HIKVISION, DeviceKind.CAMERA)
    with pytest.raises(ForeignDeviceError):
        ingest_messages(messages=[smoke(True)], device=camera)
    assert DeviceEvent.objects.count() == 0
    result = ingest_messages(messages=[smoke(True)], device=detector)
    assert result.events == 1


def test_unusable_messages_can_be_refused_instead_of_kept(detector: Device) -> None:
    with pytest.raises(UnusableMessageError) as refused:
        ingest_messages(
            messages=[smoke(True), mqtt("zigbee2mqtt/kitchen_smoke", b"{not json")],
            device=detector,
            reject_unusable=True,
        )
    assert "JSON" in str(refused.value)
    assert DeviceEvent.objects.count() == 0
    assert DeadLetter.objects.count() == 0


def test_hikvision_access_event_is_stored_once_per_serial_number(world: Any) -> None:
    reader = device(world, "01:17:24:45:d9:f4", Protocol.HIKVISION, DeviceKind.ACCESS_READER)
    first = ingest_messages(messages=[hikvision("access_face_employee_string.json")])
    # The device posts it again (a retry, or a second worker): same serialNo, nothing new.
    again = ingest_messages(messages=[hikvision("access_face_employee_string.json", second=9)])
    assert (first.events, again.events, again.duplicates) == (1, 0, 1)
    stored = DeviceEvent.objects.get(device=reader)
    assert (stored.kind, stored.edge_key, stored.replay) == ("access", "4512", False)
    assert stored.dedup_key == f"{reader.pk}:4512"


def test_hikvision_replay_is_stored_flagged(world: Any) -> None:
    device(world, "01:17:24:45:d9:f4", Protocol.HIKVISION, DeviceKind.ACCESS_READER)
    ingest_messages(messages=[hikvision("access_door_forced_replay.json")])
    ingest_messages(messages=[hikvision("access_door_forced_replay.json", second=1)])
    assert list(DeviceEvent.objects.values_list("edge_key", "replay")) == [("4398", True)]


def test_clock_skew_is_recorded_and_order_is_by_receive_time(world: Any) -> None:
    device(world, "01:17:24:45:d9:f4", Protocol.HIKVISION, DeviceKind.ACCESS_READER)
    ingest_messages(messages=[hikvision("access_face_employee_string.json")])
    stored = DeviceEvent.objects.get()
    assert stored.device_time == dt.datetime(2024, 5, 3, 9, 30, 8, tzinfo=dt.UTC)
    assert stored.device_time_raw == "2024-05-03T17:30:08+08:00"
    assert stored.received_at == T0
    assert stored.clock_skew_seconds == (stored.device_time - T0).total_seconds()


def test_unparsable_device_time_is_kept_raw(world: Any) -> None:
    device(world, "3c:1b:f8:09:88:85", Protocol.HIKVISION, DeviceKind.CAMERA)
    ingest_messages(messages=[hikvision("vmd_json_bad_time.json")])
    stored = DeviceEvent.objects.get()
    assert stored.device_time is None
    assert stored.device_time_raw
    assert stored.clock_skew_seconds is None


def test_frigate_event_is_stored_once_per_id_and_type(world: Any) -> None:
    device(world, "front_door", Protocol.FRIGATE, DeviceKind.CAMERA)
    update = mqtt("frigate/events", fixture("frigate", "events_update.json"))
    end = mqtt("frigate/events", fixture("frigate", "events_end.json"), second=5)
    result = ingest_messages(messages=[update, update, end])
    assert (result.events, result.duplicates) == (2, 1)
    assert ingest_messages(messages=[update, end]).events == 0
    assert sorted(str(k) for k in DeviceEvent.objects.values_list("edge_key", flat=True)) == [
        "1607123955.475377-mxklsc:end",
        "1607123955.475377-mxklsc:update",
    ]


def test_bad_messages_become_dead_letters_and_the_rest_is_stored(detector: Device) -> None:
    unknown = mqtt("zigbee2mqtt/nobody_knows_me", {"smoke": True})
    malformed = mqtt(
        "zigbee2mqtt/kitchen_smoke", fixture("zigbee2mqtt", "malformed_made_here.json")
    )
    stray = mqtt("somewhere/else", b"hello")
    result = ingest_messages(messages=[unknown, malformed, smoke(True, second=1), stray])
    assert (result.events, result.dead_letters) == (1, 3)
    letters = {letter.topic: letter for letter in DeadLetter.objects.all()}
    assert letters["zigbee2mqtt/nobody_knows_me"].reason == "Unknown device nobody_knows_me."
    assert letters["somewhere/else"].reason == "No adapter accepts this topic."
    assert letters["zigbee2mqtt/kitchen_smoke"].reason
    assert bytes(letters["somewhere/else"].payload) == b"hello"
    assert letters["somewhere/else"].payload_preview == "hello"
    assert all(letter.community_id is None for letter in letters.values())


def test_retired_devices_are_unknown(detector: Device) -> None:
    Device.objects.filter(pk=detector.pk).update(retired_at=T0)
    assert ingest_messages(messages=[smoke(True)]).dead_letters == 1
    assert not DeviceEvent.objects.exists()


def test_a_community_limits_the_devices_matched(world: Any, detector: Device) -> None:
    result = ingest_messages(messages=[smoke(True)], community=world.b.community)
    assert (result.events, result.dead_letters) == (0, 1)
    assert DeadLetter.objects.get().community_id == world.b.community.pk


def test_reprocess_after_registering_the_device(world: Any) -> None:
    ingest_messages(messages=[smoke(True)])
    letter = DeadLetter.objects.get()
    admin = world.platform_admin
    still = dead_letter_reprocess(actor=admin, scope=scope_for(admin), dead_letter=letter)
    assert (still.resolved, DeadLetter.objects.count()) == (False, 1)
    assert still.reprocessed_at is not None
    device(world, "kitchen_smoke", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE)
    done = dead_letter_reprocess(actor=admin, scope=scope_for(admin), dead_letter=letter)
    assert done.resolved is True
    assert events(kind="smoke") == [("smoke", None, True)]
    assert DeviceEvent.objects.get().received_at == T0  # when it really arrived
    assert AuditEvent.objects.filter(action="dead_letter.reprocess").count() == 2
    with pytest.raises(ConflictError):
        dead_letter_reprocess(actor=admin, scope=scope_for(admin), dead_letter=done)


def test_reprocess_needs_the_right_person(world: Any) -> None:
    ingest_messages(messages=[smoke(True)])
    orphan = DeadLetter.objects.get()
    admin_a = world.user("community_admin")
    # A dead letter of no known community is for platform administrators only.
    with pytest.raises(PermissionDenied):
        dead_letter_reprocess(actor=admin_a, scope=scope_for(admin_a), dead_letter=orphan)
    ingest_messages(messages=[smoke(True)], community=world.a.community)
    of_a = DeadLetter.objects.get(community=world.a.community)
    admin_b = world.user("community_admin", "b")
    with pytest.raises(Http404):
        dead_letter_reprocess(actor=admin_b, scope=scope_for(admin_b), dead_letter=of_a)
    dead_letter_reprocess(actor=admin_a, scope=scope_for(admin_a), dead_letter=of_a)
    assert AuditEvent.objects.filter(action="dead_letter.reprocess").count() == 1


def test_anwang_topics_name_the_community_of_the_device(world: Any) -> None:
    slug_a, slug_b = world.a.community.slug, world.b.community.slug
    of_a = device(world, "gate", Protocol.ANWANG, DeviceKind.ACCESS_READER, side="a")
    of_b = device(world, "gate", Protocol.ANWANG, DeviceKind.ACCESS_READER, side="b")

    def swipe(slug: str, number: int) -> InboundMessage:
        body = {"schema_version": 1, "device": "gate", "kind": "access", "event_id": str(number)}
        return mqtt(f"anwang/{slug}/gate/event", body)

    result = ingest_messages(messages=[swipe(slug_a, 1), swipe(slug_b, 2), swipe("nowhere", 3)])
    assert (result.events, result.dead_letters) == (2, 1)
    assert list(DeviceEvent.objects.filter(device=of_a).values_list("edge_key", flat=True)) == ["1"]
    assert list(DeviceEvent.objects.filter(device=of_b).values_list("edge_key", flat=True)) == ["2"]
    assert DeadLetter.objects.get().reason == "Unknown device gate in community nowhere."


@pytest.mark.parametrize("size", [1, 16, 17, 300])
def test_batches_of_every_size_store_each_event_once_in_order(world: Any, size: int) -> None:
    """Small batches are one INSERT, large ones go through a staging table on PostgreSQL
    (from 17 rows): both skip what is stored, and ids follow the batch's order."""
    gate = device(world, "gate", Protocol.ANWANG, DeviceKind.ACCESS_READER)
    slug = world.a.community.slug

    def swipe(number: int) -> InboundMessage:
        body = {
            "schema_version": 1,
            "device": "gate",
            "kind": "access",
            "event_id": str(number),
            "data": {"result": "granted", "method": "card", "card_no": f"{number:08X}"},
        }
        return mqtt(f"anwang/{slug}/gate/event", body, second=number)

    first = [swipe(number) for number in range(size)]
    assert ingest_messages(messages=[*first, first[0]]).events == size
    # Redelivered with one new message: only that one is stored.
    assert ingest_messages(messages=[*first, swipe(size)]).events == 1
    stored = DeviceEvent.objects.filter(device=gate).order_by("id")
    assert [event.edge_key for event in stored] == [str(number) for number in range(size + 1)]
    newest = stored.last()
    assert newest is not None
    assert newest.data == {"result": "granted", "method": "card", "card_no": f"{size:08X}"}


def _smoke_rule(world: Any) -> Any:
    from anwang.rules.models import Rule

    return Rule.objects.create(
        community=world.a.community,
        name="Smoke",
        kind="immediate",
        condition={
            "all": [
                {"field": "kind", "op": "eq", "value": "smoke"},
                {"field": "value", "op": "eq", "value": True},
            ]
        },
        priority=1,
        title_template="Smoke at {device}",
    )


def test_a_fire_raises_one_alarm_in_the_same_transaction(world: Any, detector: Device) -> None:
    from anwang.alarms.models import Alarm

    _smoke_rule(world)
    fire = smoke(True, second=1)
    result = ingest_messages(messages=[smoke(False), fire])
    assert (result.events, result.alarms) == (1, 1)
    # Delivered twice more: no new event, no new alarm, no new firing.
    assert ingest_messages(messages=[fire, fire]).alarms == 0
    alarm = Alarm.objects.get()
    assert (alarm.priority, alarm.count, alarm.device_id) == (1, 1, detector.pk)
    assert alarm.title_values["device"] == "kitchen_smoke"
    assert list(alarm.alarm_events.values_list("device_event__kind", flat=True)) == ["smoke"]


def test_self_tests_replays_and_other_communities_raise_nothing(
    world: Any, detector: Device
) -> None:
    from anwang.alarms.models import Alarm

    _smoke_rule(world)
    test = {"smoke": True, "test": True}
    assert ingest_messages(messages=[mqtt("zigbee2mqtt/kitchen_smoke", test)]).alarms == 0
    other = device(world, "b_smoke", Protocol.ZIGBEE2MQTT, DeviceKind.SMOKE, side="b")
    assert ingest_messages(messages=[mqtt("zigbee2mqtt/b_smoke", {"smoke": True})]).alarms == 0
    assert other.pk
    assert not Alarm.objects.exists()


def test_timed_rules_and_response_times_run_in_the_pipeline_tick(
    world: Any, detector: Device
) -> None:
    from anwang.alarms.models import Alarm
    from anwang.events.services import pipeline_tick
    from anwang.rules.models import Rule

    door = device(world, "back_door", Protocol.ZIGBEE2MQTT, DeviceKind.CONTACT)
    Rule.objects.create(
        community=world.a.community,
        name="Door held open",
        kind="duration",
        params={"attribute": "contact", "value": "open", "seconds": 300},
        condition={"field": "device_kind", "op": "eq", "value": "contact"},
        priority=3,
        title_template="{device} held open",
    )
    ingest_messages(messages=[mqtt("zigbee2mqtt/back_door", {"contact": False}, second=0)])
    assert pipeline_tick(now=at(299)) == (0, 0)
    alarms, _escalations = pipeline_tick(now=at(301))
    assert alarms == 1
    # Again, or after a restart: the same firing is not counted twice.
    assert pipeline_tick(now=at(302))[0] == 0
    alarm = Alarm.objects.get()
    assert (alarm.device_id, alarm.priority) == (door.pk, 3)
    # P3 is to be acknowledged within 5 minutes: past that, one escalation.
    assert pipeline_tick(now=alarm.raised_at + dt.timedelta(seconds=299))[1] == 0
    assert pipeline_tick(now=alarm.raised_at + dt.timedelta(seconds=301))[1] == 1

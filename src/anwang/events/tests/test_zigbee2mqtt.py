"""The Zigbee2MQTT adapter against recorded payloads (see the fixtures' SOURCES.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from anwang.events.adapters.base import AdapterError, InboundMessage, Observation
from anwang.events.adapters.zigbee2mqtt import Zigbee2MqttAdapter, bridge_device_names

FIXTURES = Path(__file__).resolve().parents[4] / "tests/fixtures/payloads/zigbee2mqtt"
RECEIVED = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
adapter = Zigbee2MqttAdapter()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def message(topic: str, payload: bytes, *, retained: bool = False) -> InboundMessage:
    return InboundMessage(
        transport="mqtt", topic=topic, payload=payload, received_at=RECEIVED, retained=retained
    )


def parse(
    topic: str, name: str, *, retained: bool = False, known: tuple[str, ...] = ()
) -> list[Observation]:
    return adapter.parse(message(topic, fixture(name), retained=retained), known_source_ids=known)


def values(observations: list[Observation]) -> list[tuple[str, str, str | None, object]]:
    return [(o.source_id, o.kind, o.attribute, o.value) for o in observations]


def test_smoke_state_with_string_battery():
    observations = parse("zigbee2mqtt/livingroomsmokedetector", "smoke_state.json")
    assert values(observations) == [("livingroomsmokedetector", "smoke", "smoke", False)]
    only = observations[0]
    assert only.battery == 100.0
    assert only.replay is False
    assert only.edge_key is None
    assert only.device_time is None
    # Fields with no normalised kind stay in data.
    assert only.data == {"battery": "100.00", "voltage": 3055, "linkquality": 60, "smoke": False}


def test_water_leak():
    observations = parse("zigbee2mqtt/0x286d9700010511f8", "water_leak.json")
    assert values(observations) == [("0x286d9700010511f8", "water_leak", "water_leak", True)]
    assert observations[0].battery == 80.0
    assert observations[0].data["temperature"] == 27.35


def test_contact_true_means_closed():
    closed = parse("zigbee2mqtt/0x00158e5202e6be17", "contact_closed.json")
    opened = parse("zigbee2mqtt/0x00158e5202e6be17", "contact_open.json")
    assert values(closed) == [("0x00158e5202e6be17", "contact", "contact", "closed")]
    assert values(opened) == [("0x00158e5202e6be17", "contact", "contact", "open")]
    assert closed[0].battery == 100.0
    assert opened[0].battery == 99.0


def test_occupancy_is_motion():
    observations = parse("zigbee2mqtt/hall_pir", "occupancy.json")
    assert values(observations) == [("hall_pir", "motion", "motion", True)]
    assert observations[0].battery is None


def test_smoke_self_test_is_not_a_fire():
    observations = parse("zigbee2mqtt/0x0015bc00310095bd", "smoke_self_test.json")
    assert values(observations) == [
        ("0x0015bc00310095bd", "smoke", "smoke", False),
        ("0x0015bc00310095bd", "smoke_test", "smoke_test", True),
        ("0x0015bc00310095bd", "tamper", "tamper", False),
        ("0x0015bc00310095bd", "battery_low", "battery_low", False),
    ]
    assert {o.battery for o in observations} == {100.0}


def test_smoke_true_during_self_test_is_only_the_test():
    observations = parse("zigbee2mqtt/hall_smoke", "smoke_true_during_test_made_here.json")
    assert values(observations) == [
        ("hall_smoke", "smoke_test", "smoke_test", True),
        ("hall_smoke", "tamper", "tamper", False),
        ("hall_smoke", "battery_low", "battery_low", False),
    ]
    assert not any(o.kind == "smoke" for o in observations)


def test_gas_and_tamper():
    observations = parse("zigbee2mqtt/kitchen_gas", "gas_tamper_made_here.json")
    assert values(observations) == [
        ("kitchen_gas", "gas", "gas", True),
        ("kitchen_gas", "tamper", "tamper", True),
        ("kitchen_gas", "battery_low", "battery_low", False),
    ]


def test_battery_low_repeated_gives_the_same_level_each_time():
    # Zigbee2MQTT repeats battery_low in every message; the pipeline sees one unchanged
    # level and makes one event for the transition, not one per message.
    first = parse("zigbee2mqtt/back_door", "battery_low_made_here.json")
    again = parse("zigbee2mqtt/back_door", "battery_low_made_here.json")
    assert (
        values(first)
        == values(again)
        == [
            ("back_door", "contact", "contact", "closed"),
            ("back_door", "battery_low", "battery_low", True),
        ]
    )
    assert {o.battery for o in first + again} == {7.0}


def test_retained_state_is_a_replay():
    observations = parse("zigbee2mqtt/back_door", "battery_low_made_here.json", retained=True)
    assert observations
    assert all(o.replay for o in observations)


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("availability_online.json", "online"),
        ("availability_offline.json", "offline"),
        ("availability_legacy_online.txt", "online"),
        ("availability_legacy_offline.txt", "offline"),
    ],
)
def test_availability(name, state):
    observations = parse("zigbee2mqtt/hall_pir/availability", name, retained=True)
    assert values(observations) == [("hall_pir", "availability", "availability", state)]
    assert observations[0].replay is True


def test_friendly_name_with_slashes_matches_the_longest_known_name():
    known = ("building 3/unit 2", "building 3/unit 2/kitchen/leak", "building 3/unit 2/smoke")
    leak = parse("zigbee2mqtt/building 3/unit 2/kitchen/leak", "water_leak.json", known=known)
    assert [o.source_id for o in leak] == ["building 3/unit 2/kitchen/leak"]
    online = parse(
        "zigbee2mqtt/building 3/unit 2/smoke/availability", "availability_online.json", known=known
    )
    assert values(online) == [("building 3/unit 2/smoke", "availability", "availability", "online")]


def test_friendly_name_with_slashes_unknown_takes_the_whole_remainder():
    observations = parse("zigbee2mqtt/building 3/unit 2/smoke", "smoke_state.json")
    assert [o.source_id for o in observations] == ["building 3/unit 2/smoke"]
    offline = parse("zigbee2mqtt/building 3/unit 2/smoke/availability", "availability_offline.json")
    assert [o.source_id for o in offline] == ["building 3/unit 2/smoke"]


def test_a_new_device_whose_name_extends_a_known_one_is_its_own_device():
    observations = parse(
        "zigbee2mqtt/building 3/unit 2/smoke", "smoke_state.json", known=("building 3/unit 2",)
    )
    assert [o.source_id for o in observations] == ["building 3/unit 2/smoke"]


@pytest.mark.parametrize(
    "topic",
    [
        "zigbee2mqtt/bridge/devices",
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/bridge/event",
        "zigbee2mqtt/hall_pir/set",
        "zigbee2mqtt/hall_pir/get",
        "zigbee2mqtt/building 3/unit 2/smoke/set",
        "zigbee2mqtt/hall_pir/set/state",
    ],
)
def test_bridge_traffic_and_commands_are_not_device_state(topic):
    # Not even a malformed payload is looked at: these topics never carry device state.
    assert adapter.accepts(message(topic, b"ON"))
    assert adapter.parse(message(topic, b"ON")) == []
    assert adapter.parse(message(topic, b"ON"), known_source_ids=("building 3/unit 2/smoke",)) == []


def test_bridge_devices_gives_names_not_observations():
    payload = fixture("bridge_devices_made_here.json")
    assert adapter.parse(message("zigbee2mqtt/bridge/devices", payload, retained=True)) == []
    assert bridge_device_names(payload) == [
        "building 3/unit 2/smoke",
        "building 3/unit 2/kitchen/leak",
    ]


def test_bridge_devices_documentation_example_is_not_strict_json():
    # The documentation's example elides fields with "[...]" and "//" comments.
    with pytest.raises(AdapterError, match="not valid JSON"):
        bridge_device_names(fixture("bridge_devices_docs.txt"))
    # Once its placeholders are removed it names the three devices, not the coordinator.
    text = fixture("bridge_devices_docs.txt").decode()
    cleaned = "\n".join(line.split("//")[0] for line in text.splitlines())
    cleaned = cleaned.replace("[...],", "[],").replace("[...]", "[]")
    cleaned = cleaned.replace("},\n            ],", "}\n            ],").replace("},\n]", "}\n]")
    json.loads(cleaned)
    assert bridge_device_names(cleaned.encode()) == ["my_plug", "my_bulb", "my_sensor"]


def test_bridge_devices_not_a_list():
    with pytest.raises(AdapterError, match="not a JSON array"):
        bridge_device_names(b'{"friendly_name": "x"}')


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed_made_here.json", "not valid JSON"),
        ("not_object_made_here.json", "JSON list, not an object"),
        ("snapshot_made_here.bin", "not valid JSON"),
    ],
)
def test_malformed_state_is_an_adapter_error(name, reason):
    with pytest.raises(AdapterError, match=reason) as caught:
        parse("zigbee2mqtt/hall_smoke", name)
    assert "'hall_smoke'" in caught.value.reason


@pytest.mark.parametrize(
    "payload", [b"maybe", b'{"state": "ON"}', b"{not json", b"\xff\xd8\xff", b"[]"]
)
def test_malformed_availability_is_an_adapter_error(payload):
    with pytest.raises(AdapterError, match="Availability of 'hall_pir'"):
        adapter.parse(message("zigbee2mqtt/hall_pir/availability", payload))


def test_a_non_boolean_safety_field_is_an_adapter_error():
    with pytest.raises(AdapterError, match="Field 'smoke' of 'hall_smoke' is 'yes'"):
        adapter.parse(message("zigbee2mqtt/hall_smoke", b'{"smoke": "yes"}'))


def test_null_fields_are_skipped():
    observations = adapter.parse(message("zigbee2mqtt/hall_smoke", b'{"smoke": null, "gas": true}'))
    assert values(observations) == [("hall_smoke", "gas", "gas", True)]


def test_a_state_without_known_fields_gives_no_observation():
    payload = b'{\n  "temperature": 27.34,\n  "humidity": 44.72\n}'
    assert adapter.parse(message("zigbee2mqtt/0x00158d0001d64498", payload)) == []


def test_last_seen_is_the_device_time():
    iso = b'{"occupancy": false, "last_seen": "2024-03-09T18:27:40+01:00"}'
    (observation,) = adapter.parse(message("zigbee2mqtt/hall_pir", iso))
    assert observation.device_time == dt.datetime(2024, 3, 9, 17, 27, 40, tzinfo=dt.UTC)
    assert observation.device_time_raw == "2024-03-09T18:27:40+01:00"
    epoch = b'{"occupancy": false, "last_seen": 1710005260000}'
    (observation,) = adapter.parse(message("zigbee2mqtt/hall_pir", epoch))
    assert observation.device_time == dt.datetime(2024, 3, 9, 17, 27, 40, tzinfo=dt.UTC)
    assert observation.device_time_raw == "1710005260000"
    bad = b'{"occupancy": false, "last_seen": "2024-01-22T11:46:3100:00"}'
    (observation,) = adapter.parse(message("zigbee2mqtt/hall_pir", bad))
    assert observation.device_time is None
    assert observation.device_time_raw == "2024-01-22T11:46:3100:00"


def test_accepts_only_zigbee2mqtt_mqtt_topics():
    assert adapter.accepts(message("zigbee2mqtt/hall_pir", b"{}"))
    assert not adapter.accepts(message("frigate/events", b"{}"))
    assert not adapter.accepts(message("zigbee2mqttx/hall_pir", b"{}"))
    http = InboundMessage(
        transport="http", topic="zigbee2mqtt/hall_pir", payload=b"{}", received_at=RECEIVED
    )
    assert not adapter.accepts(http)


def test_an_emergency_button_press_is_a_panic_edge():
    [press] = parse("zigbee2mqtt/guard/south/panic", "emergency_button_made_here.json")
    assert (press.source_id, press.kind, press.attribute) == ("guard/south/panic", "panic", None)
    # Told apart by the device's last_seen: a redelivery is the same press.
    assert press.edge_key == "action:emergency:2026-11-26T22:14:05+08:00"
    assert press.battery == 95
    # Without last_seen, by the receive time.
    bare = adapter.parse(message("zigbee2mqtt/b", b'{"action":"sos"}'))
    assert [o.edge_key for o in bare] == [f"action:sos:{RECEIVED.isoformat()}"]
    # A retained action is the broker's memory of an old press, not a press now.
    assert parse("zigbee2mqtt/b", "emergency_button_made_here.json", retained=True) == []
    # Other actions (a wireless switch's "single") are not emergencies.
    assert adapter.parse(message("zigbee2mqtt/b", b'{"action":"single"}')) == []

"""End to end through a real Mosquitto: a device publishes, the worker stores, the API shows it.

The broker is a private Mosquitto with the shipped configuration; the worker is the real
:class:`~anwang.events.worker.EventWorker` (paho-mqtt, manual acknowledgement, persistent
session) running its own asyncio loop in a thread against the test database, which is why
these tests use real transactions (``transaction=True``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.devices.services import device_create
from anwang.events.models import DeadLetter, DeviceEvent, WorkerStatus
from tests.services.mosquitto import Broker, broker_for_test
from tests.services.worker_support import Publisher, WorkerThread, token_client, wait_until

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A private broker with the shipped configuration."""
    with broker_for_test(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def publisher(broker: Broker) -> Iterator[Publisher]:
    """A connected publisher."""
    client = Publisher(broker)
    yield client
    client.close()


@pytest.fixture
def devices(world: Any) -> dict[str, Device]:
    """A Zigbee smoke detector and a door reader speaking Anwang's format, in community A."""
    community = world.a.community
    return {
        "smoke": device_create(
            actor=world.user("community_admin"),
            community=community,
            name="1号楼烟感",
            kind=DeviceKind.SMOKE,
            protocol=Protocol.ZIGBEE2MQTT,
            source_id="hall_smoke",
        ),
        "door": device_create(
            actor=world.user("community_admin"),
            community=community,
            name="北门门禁",
            kind=DeviceKind.ACCESS_READER,
            protocol=Protocol.ANWANG,
            source_id="gate-north",
        ),
    }


def api_events(client: Client, device: Device) -> list[dict[str, Any]]:
    """The device's events as the API lists them."""
    response = client.get(f"/api/v1/events?device_id={device.pk}")
    assert response.status_code == 200, response.content
    return list(response.json()["items"])


def access_event(event_id: str) -> bytes:
    """An access event of the north gate in Anwang's own format."""
    event = json.loads((PAYLOADS / "anwang" / "access_granted.json").read_bytes())
    event["event_id"] = event_id
    return json.dumps(event).encode()


def test_published_events_reach_the_api(
    world: Any, devices: dict[str, Device], broker: Broker, publisher: Publisher
) -> None:
    smoke_topic = "zigbee2mqtt/hall_smoke"
    door_topic = f"anwang/{world.a.community.slug}/gate-north/event"
    quiet = (PAYLOADS / "zigbee2mqtt" / "smoke_state.json").read_bytes()
    # The bridge's last state, retained by the broker since before the worker subscribed:
    # the worker learns the state from it, but it is the broker's memory, not news.
    publisher.publish(smoke_topic, quiet, retain=True)
    worker = WorkerThread(broker)
    worker.start()
    try:
        wait_until(
            lambda: (
                Device.objects.filter(pk=devices["smoke"].pk, states__attribute="smoke")
                .values_list("states__value", flat=True)
                .first()
                is False
            ),
            "the retained state to be stored",
        )
        assert not DeviceEvent.objects.filter(device=devices["smoke"]).exists()

        burning = json.loads(quiet)
        burning["smoke"] = True
        publisher.publish(smoke_topic, json.dumps(burning).encode())
        publisher.publish(door_topic, access_event("2026-11-26-000417"))
        # The same message again, as the broker redelivers it after a lost acknowledgement.
        publisher.publish(door_topic, access_event("2026-11-26-000417"))
        # No adapter reads this topic: kept as a dead letter, and the stream goes on.
        publisher.publish("homeassistant/binary_sensor/porch/state", b"ON")
        publisher.publish(door_topic, access_event("2026-11-26-000418"))

        client = token_client(world.user("community_admin"))
        doors = wait_until(
            lambda: len(found := api_events(client, devices["door"])) >= 2 and found,
            "both access events in the API",
        )
        smokes = wait_until(
            lambda: api_events(client, devices["smoke"]), "the smoke event in the API"
        )
        wait_until(lambda: worker.worker.counters.messages >= 6, "every message to be handled")
        status = wait_until(
            lambda: WorkerStatus.objects.filter(
                name=worker.worker.client_id, messages_total__gte=6
            ).first(),
            "a health report after the last message",
        )
    finally:
        worker.stop()

    assert sorted(event["edge_key"] for event in doors) == [
        "2026-11-26-000417",
        "2026-11-26-000418",
    ]
    assert [(e["kind"], e["value"], e["previous_value"]) for e in smokes] == [
        ("smoke", True, False)
    ]
    assert DeviceEvent.objects.count() == 3
    dead = DeadLetter.objects.get()
    assert dead.topic == "homeassistant/binary_sensor/porch/state"
    assert dead.reason == "No adapter accepts this topic."
    assert status.connected is True
    assert status.mode == "mqtt"
    assert status.broker == f"mqtt://{broker.username}@{broker.host}:{broker.port}"
    assert status.dead_letters_total == 1
    assert status.events_total == 3
    stopped = WorkerStatus.objects.get(name=worker.worker.client_id)
    assert stopped.connected is False
    assert stopped.stopped_at is not None


def test_messages_published_while_the_worker_is_away_are_delivered(
    world: Any, devices: dict[str, Device], broker: Broker, publisher: Publisher
) -> None:
    door_topic = f"anwang/{world.a.community.slug}/gate-north/event"
    first = WorkerThread(broker)
    first.start()
    publisher.publish(door_topic, access_event("before"))
    wait_until(lambda: DeviceEvent.objects.filter(edge_key="before").exists(), "the first event")
    first.stop()

    # The broker keeps the worker's persistent session while it is gone.
    publisher.publish(door_topic, access_event("while-away"))
    second = WorkerThread(broker, client_id=first.worker.client_id)
    second.start()
    try:
        client = token_client(world.user("community_admin"))
        keys = wait_until(
            lambda: (
                len(found := api_events(client, devices["door"])) >= 2
                and {event["edge_key"] for event in found}
            ),
            "the event published while the worker was away",
        )
    finally:
        second.stop()
    assert keys == {"before", "while-away"}

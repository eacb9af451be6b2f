"""End to end through a real Mosquitto: a device publishes, the worker stores, the API shows it.

The broker is a private Mosquitto with the shipped configuration; the worker is the real
:class:`~anwang.events.worker.EventWorker` (paho-mqtt, manual acknowledgement, persistent
session) running its own asyncio loop in a thread against the test database, which is why
these tests use real transactions (``transaction=True``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.test import Client
from paho.mqtt.enums import CallbackAPIVersion

from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.devices.services import device_create
from anwang.events.models import DeadLetter, DeviceEvent, WorkerStatus
from anwang.events.worker import EventWorker
from tests.services.mosquitto import Broker, broker_for_test

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
# The shipped subscriptions plus one no adapter reads, to see an unusable message kept.
TOPICS = ["zigbee2mqtt/#", "frigate/#", "anwang/+/+/event", "homeassistant/#"]
WAIT_SECONDS = 20.0

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A private broker with the shipped configuration."""
    with broker_for_test(tmp_path / "broker") as running:
        yield running


class Publisher:
    """A device (or bridge) publishing with QoS 1, waiting for the broker's acknowledgement."""

    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-publisher-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(broker.publisher_username, broker.publisher_password)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish and wait until the broker has it."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), f"the broker did not acknowledge {topic}"

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(broker: Broker) -> Iterator[Publisher]:
    """A connected publisher."""
    client = Publisher(broker)
    yield client
    client.close()


class WorkerThread:
    """The event worker in a thread of its own, with its own event loop."""

    def __init__(self, broker: Broker, client_id: str | None = None) -> None:
        self.worker = EventWorker(
            mqtt_url=broker.worker_url,
            client_id=client_id or f"test-worker-{secrets.token_hex(4)}",
            topics=TOPICS,
            report_seconds=0.2,
        )
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="test-worker", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self.worker.run())
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def start(self) -> None:
        """Start, and wait until the worker is subscribed."""
        self.thread.start()
        link = self.worker.link
        assert link is not None
        wait_until(lambda: link.connected, "the worker to connect")
        # The subscription is sent right after connecting; the broker answers quickly.
        time.sleep(0.3)

    def stop(self) -> None:
        """Stop the worker and wait for its thread."""
        self.worker.stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the worker did not stop"
        assert self.error is None, f"the worker failed: {self.error!r}"


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll until ``condition()`` is truthy; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


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

        client = world.client_for("community_admin")
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
        client = world.client_for("community_admin")
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

"""End to end through a real Mosquitto: a Zigbee2MQTT detector publishes, the worker stores the
event and the built-in rule pack raises its alarm in the same transaction, the API shows it.

The broker is a private Mosquitto with the shipped configuration; the worker is the real
:class:`~anwang.events.worker.EventWorker` in a thread against the test database
(:mod:`tests.services.worker_support`), hence real transactions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from anwang.alarms.models import Alarm
from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.devices.services import device_create
from anwang.events.models import DeviceEvent, WorkerStatus
from anwang.rules.services import rules_install_builtin
from tests.services.mosquitto import Broker, broker_for_test
from tests.services.worker_support import Publisher, WorkerThread, token_client, wait_until

ZIGBEE = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "zigbee2mqtt"
QUIET_SECONDS = 1.5
"""How long a test keeps watching after the expected outcome, for anything arriving late."""

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A private broker with the shipped configuration."""
    with broker_for_test(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def publisher(broker: Broker) -> Iterator[Publisher]:
    """A connected publisher standing in for the Zigbee2MQTT bridge."""
    client = Publisher(broker)
    yield client
    client.close()


@pytest.fixture
def devices(world: Any) -> dict[str, Device]:
    """Community A with the built-in rule pack, two Zigbee smoke detectors and a door contact."""
    community = world.a.community
    rules_install_builtin(community=community)
    admin = world.user("community_admin")

    def zigbee(name: str, kind: str, source_id: str) -> Device:
        return device_create(
            actor=admin,
            community=community,
            name=name,
            kind=kind,
            protocol=Protocol.ZIGBEE2MQTT,
            source_id=source_id,
            zone=world.a.zone,
        )

    return {
        "smoke": zigbee("1号楼烟感", DeviceKind.SMOKE, "hall_smoke"),
        "tested": zigbee("2号楼烟感", DeviceKind.SMOKE, "stair_smoke"),
        "door": zigbee("北门门磁", DeviceKind.CONTACT, "north_door"),
    }


@pytest.fixture
def worker(broker: Broker, devices: dict[str, Device]) -> Iterator[WorkerThread]:
    """The event worker, subscribed, stopped afterwards."""
    running = WorkerThread(broker)
    running.start()
    yield running
    if running.thread.is_alive():
        running.stop()


@pytest.fixture
def client(world: Any) -> Client:
    """The API as an integration polling it sees it: a bearer token of the community's admin
    (unlike a browser session, reading does not write the session on every request)."""
    return token_client(world.user("community_admin"))


def api_alarms(client: Client) -> dict[str, Any]:
    """The first page of alarms as the API lists them (``items`` and ``count``)."""
    response = client.get("/api/v1/alarms")
    assert response.status_code == 200, response.content
    return dict(response.json())


def payload(name: str, **changes: Any) -> bytes:
    """A recorded Zigbee2MQTT message with some fields changed."""
    values = json.loads((ZIGBEE / name).read_bytes())
    values.update(changes)
    return json.dumps(values).encode()


def handled(worker: WorkerThread, count: int) -> WorkerStatus:
    """Wait until the worker's health report counts ``count`` messages: it counts a message
    after acknowledging it, which it does after the commit."""
    return wait_until(  # type: ignore[no-any-return]
        lambda: WorkerStatus.objects.filter(
            name=worker.worker.client_id, messages_total__gte=count
        ).first(),
        f"the worker to report {count} messages handled",
    )


def test_smoke_delivered_three_times_raises_one_p1_alarm(
    devices: dict[str, Device],
    broker: Broker,
    publisher: Publisher,
    worker: WorkerThread,
    client: Client,
) -> None:
    smoke = devices["smoke"]
    topic = "zigbee2mqtt/hall_smoke"
    # The bridge reports the detector's normal state first: a baseline, no event.
    publisher.publish(topic, payload("smoke_state.json"))
    burning = payload("smoke_state.json", smoke=True)
    for _delivery in range(3):
        publisher.publish(topic, burning)

    wait_until(lambda: api_alarms(client)["count"], "the alarm in the API")
    # Acknowledged (and counted) only after the commit that stored the event and its alarm.
    status = handled(worker, 4)
    time.sleep(QUIET_SECONDS)
    still = wait_until(lambda: api_alarms(client), "the alarms again")
    worker.stop()
    listed = api_alarms(client)

    assert still["count"] == 1

    assert listed["count"] == 1
    (alarm,) = listed["items"]
    assert alarm["priority"] == 1
    assert alarm["state"] == "raised"
    assert alarm["device"] == smoke.pk
    assert alarm["count"] == 1
    assert "1号楼烟感" in alarm["title"]
    assert alarm["why"]
    stored = Alarm.objects.get()
    assert stored.rule is not None
    assert stored.rule.builtin == "smoke"
    assert stored.title_template == "Smoke at {device}"
    assert status.last_commit_at is not None
    assert status.last_commit_at >= stored.raised_at

    event = DeviceEvent.objects.get(device=smoke)
    assert (event.kind, event.value, event.previous_value) == ("smoke", True, False)
    assert stored.raised_at == event.received_at
    detail = client.get(f"/api/v1/alarms/{alarm['id']}")
    assert detail.status_code == 200, detail.content
    assert [(e["id"], e["kind"], e["value"]) for e in detail.json()["events"]] == [
        (event.pk, "smoke", True)
    ]

    # Everything was acknowledged: the broker keeps nothing for the worker's session.
    again = WorkerThread(broker, client_id=worker.worker.client_id)
    again.start()
    time.sleep(QUIET_SECONDS)
    again.stop()
    assert again.worker.counters.messages == 0
    assert Alarm.objects.count() == 1
    assert DeviceEvent.objects.filter(device=smoke).count() == 1


def test_smoke_self_test_and_closed_contact_raise_nothing(
    devices: dict[str, Device], publisher: Publisher, worker: WorkerThread, client: Client
) -> None:
    # The self-test button: smoke and test both true.
    publisher.publish(
        "zigbee2mqtt/stair_smoke", (ZIGBEE / "smoke_true_during_test_made_here.json").read_bytes()
    )
    # Zigbee2MQTT's contact is true when the magnet is near: the door is closed.
    publisher.publish("zigbee2mqtt/north_door", (ZIGBEE / "contact_closed.json").read_bytes())

    handled(worker, 2)
    wait_until(
        lambda: DeviceEvent.objects.filter(device=devices["tested"], kind="smoke_test").exists(),
        "the self-test event",
    )
    time.sleep(QUIET_SECONDS)
    still = wait_until(lambda: api_alarms(client), "the alarms")
    worker.stop()
    listed = api_alarms(client)

    assert still["count"] == 0

    assert listed["count"] == 0
    assert not Alarm.objects.exists()
    assert not DeviceEvent.objects.filter(device=devices["tested"], kind="smoke").exists()
    door = Device.objects.get(pk=devices["door"].pk)
    assert door.states.get(attribute="contact").value == "closed"
    assert door.last_seen_at is not None

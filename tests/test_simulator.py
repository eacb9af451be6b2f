"""The device simulator: native messages every adapter accepts, reproducible traffic, alarm
scenarios that raise their alarms, and the three ways out (in-process, broker, command)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from anwang.demo.plan import build_plan
from anwang.demo.simulator import (
    SCENARIOS,
    InProcessDelivery,
    MqttDelivery,
    Outgoing,
    SimDevice,
    Simulator,
    TrafficGenerator,
    community_devices,
)
from anwang.events.adapters.base import InboundMessage, Observation
from anwang.events.adapters.registry import adapter_for
from anwang.events.worker import EventWorker
from tests.cli_support import cli_env, run_cli
from tests.services.mosquitto import broker_for_test

CUIYUAN = build_plan().communities[0]
ZONES = {zone.name: zone for zone in CUIYUAN.zones}
DEVICES = [
    SimDevice(
        name=d.name,
        kind=d.kind,
        protocol=d.protocol,
        source_id=d.source_id,
        zone=d.zone,
        key_area=bool(d.zone and ZONES[d.zone].is_key_area),
        building=d.building,
        heartbeat_seconds=d.heartbeat_seconds,
    )
    for d in CUIYUAN.devices
]
KNOWN: dict[str, list[str]] = {}
for _device in DEVICES:
    KNOWN.setdefault(_device.protocol, []).append(_device.source_id)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def play(
    generator: TrafficGenerator, start: dt.datetime, seconds: float, *, rate: float
) -> list[tuple[dt.datetime, Outgoing]]:
    """Run a generator on a simulated clock in 0.1 s ticks at ``rate`` messages per second."""
    sent: list[tuple[dt.datetime, Outgoing]] = []
    allowance = 0.0
    for tick in range(1, int(seconds * 10) + 1):
        now = start + dt.timedelta(seconds=tick / 10)
        allowance += rate / 10
        messages = generator.step(now, budget=int(allowance))
        allowance -= len(messages)
        sent.extend((now, message) for message in messages)
    return sent


def parse(at: dt.datetime, message: Outgoing) -> list[Observation]:
    inbound = message.inbound(at)
    adapter = adapter_for(inbound)
    assert adapter is not None, message.topic
    return adapter.parse(inbound, known_source_ids=KNOWN.get(adapter.name, []))


# --- the generator (no database) -------------------------------------------------------------


def test_every_message_is_native_and_names_a_known_device():
    start = dt.datetime(2026, 3, 2, 21, 30, tzinfo=SHANGHAI)  # evening into the night
    generator = TrafficGenerator(DEVICES, start=start, seed=5, tz=SHANGHAI, alarms_every=60)
    sent = play(generator, start, 3600, rate=4)
    assert len(sent) > 3600 * 3
    topics = Counter(message.topic.split("/")[0] for _at, message in sent)
    assert set(topics) == {"zigbee2mqtt", "frigate", "hikvision"}
    seen: Counter[tuple[str, Any]] = Counter()
    for at, message in sent:
        observations = parse(at, message)  # an AdapterError here would be a dead letter
        assert observations, message
        for observation in observations:
            protocol = {"zigbee2mqtt": "zigbee2mqtt", "frigate": "frigate"}.get(
                message.topic.split("/")[0], "hikvision"
            )
            assert observation.source_id in KNOWN[protocol]
            label = observation.value if observation.attribute else observation.data.get("name")
            seen[observation.kind, label if observation.kind != "object_detected" else None] += 1
    for wanted in [
        ("contact", "open"),
        ("contact", "closed"),
        ("smoke", True),
        ("smoke", False),
        ("access", "valid_card"),
        ("access", "face_verified"),
        ("access", "invalid_card"),
        ("object_detected", None),
        ("review", None),
        ("snapshot", None),
        ("heartbeat", True),
        ("availability", "online"),
        ("line_crossing", True),
    ]:
        assert seen[wanted], wanted
    # Every alarm scenario the community allows was played within the hour.
    assert set(generator.played) >= set(SCENARIOS) - {"panic"}
    # Battery sensors report well within their hour-long heartbeat.
    reported = {m.topic for at, m in sent if m.topic.startswith("zigbee2mqtt/")}
    for device in DEVICES:
        if device.protocol == "zigbee2mqtt" and device.heartbeat_seconds:
            assert f"zigbee2mqtt/{device.source_id}" in reported


def test_frigate_tracks_objects_new_update_end_with_reviews():
    start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    generator = TrafficGenerator(DEVICES, start=start, seed=3, tz=SHANGHAI)
    sent = play(generator, start, 600, rate=3)
    types: dict[str, list[str]] = {}
    for at, message in sent:
        if message.topic == "frigate/events":
            (observation,) = parse(at, message)
            types.setdefault(observation.data["event_id"], []).append(observation.data["type"])
    finished = [kinds for kinds in types.values() if "end" in kinds]
    assert len(finished) > 20
    assert all(kinds == ["new", "update", "end"] for kinds in finished)


def test_the_same_seed_gives_the_same_traffic():
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)

    def traffic(seed: int) -> list[tuple[dt.datetime, Outgoing]]:
        generator = TrafficGenerator(DEVICES, start=start, seed=seed, tz=SHANGHAI, alarms_every=30)
        return play(generator, start, 300, rate=20)

    assert traffic(11) == traffic(11)
    assert traffic(11) != traffic(12)


def test_routine_traffic_follows_the_day_and_keeps_key_areas_quiet_at_night():
    def entrances(hour: int) -> tuple[int, int]:
        start = dt.datetime(2026, 3, 2, hour, 0, tzinfo=SHANGHAI)
        generator = TrafficGenerator(DEVICES, start=start, seed=1, tz=SHANGHAI)
        sent = play(generator, start, 1200, rate=2)
        opened = sum(
            1
            for at, m in sent
            if m.topic.endswith("/door")
            for o in parse(at, m)
            if o.kind == "contact" and o.value == "open"
        )
        key_area_people = sum(
            1
            for at, m in sent
            if m.topic == "frigate/events"
            for o in parse(at, m)
            if o.data["label"] == "person"
            and next(d for d in DEVICES if d.source_id == o.source_id).key_area
        )
        return opened, key_area_people

    morning, night = entrances(8), entrances(3)
    assert morning[0] > 5 * max(night[0], 1)
    assert night[1] == 0  # a person in a key area at night is an alarm, never routine
    assert morning[1] > 0


# --- through the pipeline --------------------------------------------------------------------


@pytest.fixture
def demo(settings: Any) -> Any:
    """The demo community (devices and the built-in rules), seeded."""
    from anwang.demo.seed import seed_demo
    from anwang.places.models import Community

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_demo()
    return Community.objects.get(slug="cuiyuan")


def _ingest(sent: list[tuple[dt.datetime, Outgoing]]) -> int:
    """Store messages as the worker would, in batches (here: 10 simulated seconds each)."""
    from anwang.events.services import ingest_messages

    dead = 0
    batches: dict[int, list[InboundMessage]] = {}
    for at, message in sent:
        batches.setdefault(int(at.timestamp() // 10), []).append(message.inbound(at))
    for _slot, batch in sorted(batches.items()):
        dead += ingest_messages(messages=batch).dead_letters
    return dead


@pytest.mark.django_db
def test_each_alarm_scenario_raises_its_alarm(demo: Any):
    from anwang.alarms.models import Alarm
    from anwang.events.models import DeadLetter, DeviceEvent
    from anwang.events.services import pipeline_tick

    tz = timezone.get_default_timezone()
    devices = community_devices("cuiyuan")
    # 23:00 local, yesterday: the night rules are armed.
    start = (timezone.now() - dt.timedelta(days=1)).astimezone(tz).replace(hour=23, minute=0)
    generator = TrafficGenerator(devices, start=start, seed=9, tz=tz)
    # Baseline: every device's first report, then a quiet minute of routine traffic.
    assert _ingest(play(generator, start, 60, rate=2)) == 0
    assert not Alarm.objects.exists()
    now = start + dt.timedelta(seconds=60)
    for name in [n for n in SCENARIOS if n != "panic"]:
        before = set(Alarm.objects.values_list("pk", flat=True))
        assert generator.scenario(now, name) == name
        sent = play(generator, now, 480, rate=0)
        assert _ingest(sent) == 0, name
        pipeline_tick(now=now + dt.timedelta(seconds=480))
        raised = Alarm.objects.exclude(pk__in=before)
        assert SCENARIOS[name].rule in {a.rule.builtin for a in raised if a.rule}, name
        now += dt.timedelta(seconds=480)
    smoke = Alarm.objects.get(rule__builtin="smoke")
    assert smoke.priority == 1
    assert smoke.device is not None
    assert smoke.device.kind == "smoke"
    # Smoke came and cleared: two transitions on that detector.
    values = list(
        DeviceEvent.objects.filter(device=smoke.device, kind="smoke")
        .order_by("received_at")
        .values_list("value", flat=True)
    )
    assert values == [True, False]
    assert not DeadLetter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_in_process_simulator_feeds_a_worker_without_a_broker(demo: Any):
    from anwang.events.models import DeadLetter, DeviceEvent

    worker = EventWorker(client_id="test-simulator-worker", batch_ms=5)
    simulator = Simulator(
        community="cuiyuan",
        delivery=InProcessDelivery(worker),
        rate=200,
        alarms_every=0,
        duration=2,
        seed=4,
    )

    async def main() -> None:
        task = asyncio.create_task(worker.run())
        await simulator.run()
        worker.stop()
        await task

    asyncio.run(main())
    assert simulator.counters.messages >= 300
    assert worker.counters.messages == simulator.counters.messages
    assert DeviceEvent.objects.filter(kind="access").exists()
    assert DeviceEvent.objects.filter(kind="object_detected").exists()
    assert not DeadLetter.objects.exists()


def test_simulator_stops_promptly_when_asked():
    class Nowhere:
        def describe(self) -> str:
            return "nowhere"

        async def start(self) -> None:
            return None

        def send(self, messages: Any, now: dt.datetime) -> None:
            return None

        async def close(self) -> None:
            return None

    simulator = Simulator(community="cuiyuan", delivery=Nowhere(), rate=5)
    simulator.stop()
    asyncio.run(asyncio.wait_for(simulator.run(), timeout=5))  # no database touched


# --- the broker ------------------------------------------------------------------------------


def test_mqtt_delivery_publishes_what_a_subscriber_receives(tmp_path: Path):
    received: list[mqtt.MQTTMessage] = []
    subscribed = threading.Event()
    handed_in: list[InboundMessage] = []

    class Worker:
        def submit(self, message: InboundMessage) -> None:
            handed_in.append(message)

    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    generator = TrafficGenerator(DEVICES, start=start, seed=2, tz=SHANGHAI)
    sent = play(generator, start, 60, rate=10)
    published = [m for _at, m in sent if m.transport == "mqtt"]
    with broker_for_test(tmp_path / "broker") as broker:
        listener = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        listener.username_pw_set(broker.publisher_username, broker.publisher_password)
        listener.on_message = lambda client, userdata, message: received.append(message)
        listener.on_subscribe = lambda *args: subscribed.set()
        listener.connect(broker.host, broker.port)
        listener.subscribe("#", qos=1)
        listener.loop_start()
        try:
            assert subscribed.wait(10)
            url = (
                f"mqtt://{broker.publisher_username}:{broker.publisher_password}"
                f"@{broker.host}:{broker.port}"
            )
            delivery = MqttDelivery(url=url, worker=Worker())  # type: ignore[arg-type]
            assert delivery.describe().startswith(
                f"MQTT mqtt://anwang-test@127.0.0.1:{broker.port}"
            )

            async def main() -> None:
                await delivery.start()
                for at, message in sent:
                    delivery.send([message], at)
                await delivery.close()

            asyncio.run(main())
            deadline = timezone.now() + dt.timedelta(seconds=10)
            while len(received) < len(published) and timezone.now() < deadline:
                threading.Event().wait(0.05)
        finally:
            listener.disconnect()
            listener.loop_stop()
    assert sorted((m.topic, m.payload) for m in received) == sorted(
        (m.topic, m.payload) for m in published
    )
    assert all(m.qos == 1 for m in received)
    # Hikvision speaks HTTP only: its alerts went to the in-process worker, not the broker.
    assert handed_in
    assert {m.topic for m in handed_in} == {"hikvision"}


# --- the command -----------------------------------------------------------------------------


def test_simulate_command_stores_events(tmp_path: Path):
    home = tmp_path / "home"
    env = cli_env(home)
    seeded = run_cli("seed-demo", env=env)
    assert seeded.returncode == 0, seeded.stderr
    result = run_cli(
        "simulate", "--rate", "200", "--duration", "3", "--in-process", "--seed", "1", env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "in-process" in result.stdout
    assert "Sent " in result.stdout
    with sqlite3.connect(home / "anwang.sqlite3") as db:
        events = db.execute("SELECT count(*) FROM events_deviceevent").fetchone()[0]
        dead = db.execute("SELECT count(*) FROM events_deadletter").fetchone()[0]
    assert events > 50
    assert dead == 0


def test_simulate_command_explains_a_missing_community(tmp_path: Path):
    env = cli_env(tmp_path)
    assert run_cli("migrate", "-v", "0", env=env).returncode == 0
    result = run_cli("simulate", "--duration", "1", "--in-process", env=env)
    assert result.returncode == 1
    assert "no community with the short name 'cuiyuan'" in result.stderr
    assert "seed-demo" in result.stderr
    unmigrated = run_cli("simulate", env=cli_env(tmp_path / "empty"))
    assert unmigrated.returncode == 1
    assert "anwang migrate" in unmigrated.stderr

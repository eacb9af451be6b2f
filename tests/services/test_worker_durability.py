"""Durability of the shipped ``anwang worker``: killed twice mid-stream, it loses nothing and
stores nothing twice.

The worker runs as the real command in a child process, on a database of its own (an SQLite
file in a fresh data folder, or a fresh PostgreSQL database when the suite runs on
PostgreSQL), against a private Mosquitto with the shipped configuration. 10,000 numbered QoS 1
messages are published; the worker is killed with SIGKILL twice while storing them and
restarted each time; then the stored events are counted by number.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.cli_support import Running, cli_env, run_cli, start_cli
from tests.services.conftest import require_service
from tests.services.mosquitto import Broker, broker_for_test

MESSAGES = 10_000
KILL_AT = (2_500, 6_000)
"""Stored events after which the worker is killed (the first kill, then the second)."""
PACE = 2_500
"""Messages published per second, so that the stream is still flowing at the kills."""
COMMUNITY = "cuiyuan"
DEVICE = "gate-north"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRESQL = DATABASE_URL.startswith(("postgres://", "postgresql://"))
COUNT_SQL = "SELECT COUNT(*) FROM events_deviceevent WHERE edge_key IS NOT NULL"
GROUPED_SQL = (
    "SELECT edge_key, COUNT(*) FROM events_deviceevent WHERE edge_key IS NOT NULL GROUP BY edge_key"
)
REGISTER = f"""
from anwang.devices.services import device_create
from anwang.places.models import Community, Region

region = Region.objects.create(name="东湖街道", code="durability")
community = Community.objects.create(region=region, name="翠苑社区", slug="{COMMUNITY}")
device_create(
    actor=None, community=community, name="北门门禁", kind="access_reader", protocol="anwang",
    source_id="{DEVICE}",
)
"""


@dataclass
class Store:
    """The child's database, and a way to read it from the test."""

    home: Path
    url: str
    """``DATABASE_URL`` of the child; empty for the SQLite file in ``home``."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one query on the child's database."""
        if self.url:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as connection:
                return list(connection.execute(sql).fetchall())
        uri = f"file:{self.home / 'anwang.sqlite3'}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=10) as connection:
            return list(connection.execute(sql).fetchall())

    def stored(self) -> int:
        """How many numbered events are stored."""
        return int(self.rows(COUNT_SQL)[0][0])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh database for the child: a new PostgreSQL database when the suite runs on
    PostgreSQL (dropped afterwards), else the SQLite file of a fresh data folder."""
    home = tmp_path / "home"
    home.mkdir()
    if not ON_POSTGRESQL:
        yield Store(home=home, url="")
        return
    import psycopg
    from psycopg import sql

    server = urlsplit(DATABASE_URL)
    require_service("PostgreSQL", server.hostname or "127.0.0.1", server.port or 5432)
    name = f"anwang_durability_{secrets.token_hex(4)}"
    maintenance = urlunsplit(server._replace(path=server.path or "/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Store(home=home, url=urlunsplit(server._replace(path=f"/{name}")))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A private broker with the shipped configuration."""
    with broker_for_test(tmp_path / "broker") as running:
        yield running


class NumberedPublisher(threading.Thread):
    """Publishes messages 0..count-1 at QoS 1, paced, and waits for every acknowledgement."""

    def __init__(self, broker: Broker, count: int) -> None:
        super().__init__(name="numbered-publisher", daemon=True)
        self.count = count
        self.acknowledged = 0
        self.error: BaseException | None = None
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"durability-publisher-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(broker.publisher_username, broker.publisher_password)
        self.client.max_inflight_messages_set(500)
        self.client.connect(broker.host, broker.port)
        self.topic = f"anwang/{COMMUNITY}/{DEVICE}/event"

    def run(self) -> None:
        """Publish everything, then wait for the broker to have acknowledged all of it."""
        self.client.loop_start()
        try:
            sent = []
            started = time.monotonic()
            for number in range(self.count):
                payload = {
                    "schema_version": 1,
                    "device": DEVICE,
                    "kind": "access",
                    "event_id": str(number),
                }
                sent.append(self.client.publish(self.topic, json.dumps(payload), qos=1))
                if number % 100 == 99:
                    # Keep to the pace: sleep off any lead over the schedule.
                    time.sleep(max(0.0, started + (number + 1) / PACE - time.monotonic()))
            for info in sent:
                info.wait_for_publish(timeout=60)
                self.acknowledged += int(info.is_published())
        except BaseException as error:
            self.error = error
        finally:
            self.client.disconnect()
            self.client.loop_stop()


def start_worker(env: dict[str, str]) -> Running:
    """Start ``anwang worker`` and wait until it has subscribed."""
    worker = start_cli("worker", env=env)
    worker.wait_for(r"Connected to .* subscribed to", timeout=60)
    # The subscription was sent just before that line; give the broker a moment to take it.
    time.sleep(0.3)
    return worker


def wait_for_stored(store: Store, at_least: int, worker: Running, timeout: float = 60) -> int:
    """Poll until at least ``at_least`` events are stored; the count then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = store.stored()
        if stored >= at_least:
            return stored
        assert worker.process.poll() is None, "the worker died:\n" + worker.output()
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} events stored after {timeout} s")


def test_sigkill_twice_mid_stream_loses_nothing_and_duplicates_nothing(
    store: Store, broker: Broker
) -> None:
    env = cli_env(
        store.home,
        DATABASE_URL=store.url or None,
        ANWANG_MQTT_URL=broker.worker_url,
        ANWANG_MQTT_CLIENT_ID=f"durability-{secrets.token_hex(4)}",
    )
    for step in (("migrate", "-v", "0"), ("manage", "shell", "-c", REGISTER)):
        done = run_cli(*step, env=env)
        assert done.returncode == 0, done.stdout + done.stderr

    worker = start_worker(env)
    publisher = NumberedPublisher(broker, MESSAGES)
    publisher.start()
    at_kill = []
    try:
        for threshold in KILL_AT:
            wait_for_stored(store, threshold, worker)
            os.kill(worker.process.pid, signal.SIGKILL)
            assert worker.process.wait(timeout=10) == -signal.SIGKILL
            at_kill.append(store.stored())
            worker = start_worker(env)
        publisher.join(timeout=120)
        assert publisher.error is None, repr(publisher.error)
        assert publisher.acknowledged == MESSAGES
        wait_for_stored(store, MESSAGES, worker, timeout=90)
        # Anything redelivered late would show up as a duplicate now, not later.
        time.sleep(1.0)
    finally:
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
        exit_code = worker.process.wait(timeout=30)
    assert exit_code == 0, worker.output()

    # Both kills happened mid-stream, with events still to store.
    assert all(count < MESSAGES for count in at_kill), at_kill
    counts = dict(store.rows(GROUPED_SQL))
    missing = sorted(set(range(MESSAGES)) - {int(key) for key in counts})
    twice = {key: count for key, count in counts.items() if count > 1}
    assert not missing, f"{len(missing)} events lost, e.g. {missing[:10]}"
    assert not twice, f"{len(twice)} events stored more than once, e.g. {list(twice)[:10]}"
    assert len(counts) == MESSAGES
    assert store.stored() == MESSAGES

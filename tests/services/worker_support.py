"""The event worker and a device publishing through a real broker, for end-to-end tests.

The worker is the real :class:`~anwang.events.worker.EventWorker` (paho-mqtt, manual
acknowledgement, persistent session) running its own asyncio loop in a thread against the test
database, so tests using it need real transactions (``transaction=True``).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from django.db import OperationalError
from django.test import Client
from paho.mqtt.enums import CallbackAPIVersion

from anwang.core.tests.shared_cache import write_past_readers
from anwang.events.worker import EventWorker
from tests.services.mosquitto import Broker

# The shipped subscriptions plus one no adapter reads, to see an unusable message kept.
TOPICS = ["zigbee2mqtt/#", "frigate/#", "anwang/+/+/event", "homeassistant/#"]
WAIT_SECONDS = 20.0


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


class WorkerThread:
    """The event worker in a thread of its own, with its own event loop."""

    def __init__(
        self,
        broker: Broker | None,
        client_id: str | None = None,
        *,
        mqtt_url: str = "",
        ca_file: str = "",
    ) -> None:
        self.worker = EventWorker(
            mqtt_url=mqtt_url or (broker.worker_url if broker is not None else ""),
            client_id=client_id or f"test-worker-{secrets.token_hex(4)}",
            topics=TOPICS,
            ca_file=ca_file,
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
    """Poll until ``condition()`` is truthy; its value. A poll that finds a table locked by
    the worker's transaction counts as not yet (see :func:`table_locked`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OperationalError as error:
            if not table_locked(error):
                raise
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def table_locked(error: OperationalError) -> bool:
    """Whether an error is SQLite's "database table is locked": the test database is in memory
    with a shared cache, where a table written by the worker's open transaction cannot be read
    from the test's connection, and the busy timeout does not wait for it (a file database in
    WAL mode, as in production, lets readers read)."""
    return "table is locked" in str(error)


def token_client(user: Any) -> Client:
    """The API as an integration polling it sees it: a bearer token, no session. A session
    is saved on every request, and with the worker writing to the same in-memory SQLite test
    database such a save can be refused (HTTP 400) while the worker's transaction is open; the
    token's own write waits past the worker's reads the same way."""
    from anwang.accounts.services import api_token_create

    _token, raw = write_past_readers(
        lambda: api_token_create(actor=user, user=user, name="test poller")
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

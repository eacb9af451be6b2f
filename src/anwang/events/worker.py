"""The ``anwang worker`` process: MQTT in, events stored, acknowledged only after commit.

One :class:`EventWorker` runs as a :class:`~anwang.cli.Service` in an asyncio loop (alone under
``anwang worker``, beside the web server under ``anwang demo``). Its parts:

- :class:`MqttLink` owns the one broker connection: a paho-mqtt 2.x client with
  ``manual_ack=True``, QoS 1 and a persistent session (``clean_session=False`` under a fixed
  client id), so the broker keeps every message the worker has not acknowledged, across
  worker crashes and restarts. paho's network thread hands messages over; reconnecting with
  backoff is paho's own loop.
- The consume loop takes up to ``worker_batch_size`` messages (waiting at most
  ``worker_batch_ms`` for a batch to fill), stores them with
  :func:`anwang.events.services.ingest_messages` in one transaction on the worker's one
  database thread, and only then acknowledges them. A crash before the commit loses nothing
  (the broker redelivers) and a crash after it duplicates nothing (event keys are unique).
- Housekeeping: every few seconds the worker reports its health (:class:`WorkerStatus`), and
  marks devices offline that missed their heartbeat.

Messages can also be handed in directly (:meth:`EventWorker.submit`), which the demo's device
simulator uses when no broker is reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import itertools
import logging
import os
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.db import InterfaceError, OperationalError
from django.db import connection as db_connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from anwang.access.anomalies import access_anomalies_scan
from anwang.access.retention import access_retention_purge
from anwang.alerts.cap_in import feeds_due_fetch
from anwang.alerts.services import alerts_due_check
from anwang.core.live import live_prune
from anwang.events.adapters.base import InboundMessage
from anwang.events.services import (
    IngestResult,
    camera_snapshot_prune,
    dead_letter_store,
    device_heartbeat_sweep,
    ingest_messages,
    pipeline_tick,
    worker_status_report,
)
from anwang.hazards.services import hazards_overdue_check
from anwang.incidents.services import incident_tasks_check
from anwang.notifications.sending import SEND_SECONDS, SenderThread, SendReport, send_due
from anwang.patrols.services import patrol_runs_check
from anwang.rules.memory import remember_between_batches
from anwang.welfare.services import welfare_checks_run

log = logging.getLogger("anwang.worker")
T = TypeVar("T")

REPORT_SECONDS = 5.0
"""How often the worker writes its health; the web app calls a worker silent for three times
this long not responding."""
SWEEP_SECONDS = 15.0
"""How often devices are checked for missed heartbeats."""
TICK_SECONDS = 1.0
"""How often time-driven rules and alarm response times are checked: a P1 alarm left
unacknowledged escalates within a second of its deadline."""
PATROL_CHECK_SECONDS = 5.0
"""How often patrol runs and shifts are checked (a checkpoint is missed 2 minutes after its due
time, so 5 seconds late is nothing, and batches wait less often behind the check)."""
HAZARD_CHECK_SECONDS = 30.0
"""How often hazard reports are checked against their deadlines (deadlines are hours apart,
so a half-minute delay is nothing, and it spares a query every second)."""
RETENTION_PURGE_SECONDS = 24 * 60 * 60
"""How often access records past their retention are purged (at start, then daily)."""
INCIDENT_CHECK_SECONDS = 10.0
"""How often open incidents' tasks are checked for shift changes and lateness (tasks are due
minutes apart; one query when no incident is open)."""
ACCESS_SCAN_SECONDS = 60.0
"""How often new access records go through the anomaly detectors (findings are for people to
review, and the cheap detectors look back a day: a minute late is nothing)."""
WELFARE_CHECK_SECONDS = 60.0
"""How often enrolled residents' silence is checked (thresholds are hours long)."""
RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30)
"""Waits before storing a batch again after the database failed (then the last, repeated)."""
RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 30
KEEPALIVE_SECONDS = 30


def _fetch_feeds_and_send() -> SendReport:
    """The sender thread's pass: fetch the upstream CAP feeds that are due (network I/O, so
    here and not on the database thread of the batches), then send due notifications. A
    failing feed never stops the sending."""
    try:
        feeds_due_fetch()
    except Exception as error:  # the next pass tries again
        log.warning("Fetching CAP feeds failed: %s", error)
    return send_due()


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is and how to log in, from ``ANWANG_MQTT_URL``."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        """Parse ``mqtt://user:password@host:port`` (``mqtts://`` for TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
            raise ValueError(f"not an MQTT broker URL: {masked_url(url)}")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def shown(self) -> str:
        """The address without the password, for logs and the health page."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def masked_url(url: str) -> str:
    """A URL with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def broker_reachable(address: BrokerAddress, *, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at the broker's address."""
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Received:
    """A message waiting to be stored, with what is needed to acknowledge it afterwards."""

    message: InboundMessage
    mid: int | None = None
    """The MQTT message id to acknowledge; ``None`` for messages handed in directly."""
    qos: int = 0
    connection: int = 0
    """Which broker connection delivered it: an acknowledgement only makes sense on that one."""
    arrived: float = field(default_factory=time.monotonic)
    """When the worker got it (monotonic clock), for how long a batch may wait to fill."""


def fill_wait(
    *, waiting: int, oldest_arrived: float, now: float, batch_size: int, batch_seconds: float
) -> float:
    """How long to let a batch fill before storing it: one commit for many messages is what
    makes the worker fast. The wait counts from the oldest message's arrival, so messages
    that came in while the last batch was being stored are not held a second time, and a
    full batch never waits."""
    if waiting >= batch_size:
        return 0.0
    return max(0.0, batch_seconds - (now - oldest_arrived))


@dataclass
class WorkerCounters:
    """What the worker has done since it started, for its health report."""

    messages: int = 0
    events: int = 0
    dead_letters: int = 0
    batches: int = 0
    last_message_at: dt.datetime | None = None
    last_commit_at: dt.datetime | None = None
    commit_latency_ms: float | None = None
    last_error: str = ""
    last_error_at: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self, text: str) -> None:
        """Remember the latest problem."""
        self.last_error, self.last_error_at = text[:2000], timezone.now()


READ_AHEAD_BYTES: Final = 64 * 1024


class _ReadAheadSocket:
    """A broker socket that reads ahead into a buffer.

    paho reads each packet with three or four small ``recv`` calls (command byte, length bytes,
    body), a system call each; under load that was a good part of the worker's time per
    message. Reading up to 64 KiB at once and serving paho from the buffer turns them into one
    call per many messages. ``pending()`` tells paho's loop that buffered bytes are waiting
    (it asks TLS sockets the same), so it does not wait in ``select`` while they are.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buffer = b""
        self._offset = 0

    def recv(self, buffer_size: int) -> bytes:
        if self._offset >= len(self._buffer):
            # Raises what the socket raises (BlockingIOError, SSLWantReadError), as paho expects.
            self._buffer, self._offset = self._sock.recv(max(buffer_size, READ_AHEAD_BYTES)), 0
        chunk = self._buffer[self._offset : self._offset + buffer_size]
        self._offset += len(chunk)
        return chunk

    def pending(self) -> int:
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._buffer) - self._offset + int(inner)

    def send(self, buffer: bytes | bytearray) -> int:
        sent: int = self._sock.send(buffer)
        return sent

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        number: int = self._sock.fileno()
        return number

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _NoTopicCallbacks:
    """Stands in for paho's per-topic callback registry, which the worker does not use: paho
    walks it for every message (about a tenth of the worker's time per message)."""

    def iter_match(self, topic: str) -> tuple[()]:
        return ()

    def __setitem__(self, key: str, value: Any) -> None:
        raise NotImplementedError("the worker takes every message in on_message")

    def __delitem__(self, key: str) -> None:
        raise KeyError(key)


class _Client(mqtt.Client):
    """paho's client with a read-ahead socket and no per-topic callbacks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if hasattr(self, "_on_message_filtered"):
            self._on_message_filtered = _NoTopicCallbacks()  # type: ignore[assignment]

    def _create_socket(self) -> Any:
        return _ReadAheadSocket(super()._create_socket())


class MqttLink:
    """The worker's one broker connection (paho-mqtt 2.x, manual acknowledgement)."""

    def __init__(
        self,
        *,
        address: BrokerAddress,
        client_id: str,
        topics: Sequence[str],
        ca_file: str = "",
        deliver: Callable[[Received], None],
        counters: WorkerCounters,
    ) -> None:
        self.address = address
        self.topics = list(topics)
        self.deliver = deliver
        self.counters = counters
        self.connected = False
        self.closing = False
        self.connected_since: dt.datetime | None = None
        # Bumped on every new connection; read by the consume loop in another thread, and an
        # int assignment is atomic.
        self.connection = 0
        self.client = _Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            # A persistent session: the broker keeps unacknowledged messages for this id.
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        if address.tls:
            self.client.tls_set(ca_certs=ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        self.client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_connect_fail = self._on_connect_fail
        self._queue_packet = _packet_queue_of(self.client)

    def start(self) -> None:
        """Connect in paho's own network thread, which also reconnects with backoff."""
        self.client.connect_async(self.address.host, self.address.port, KEEPALIVE_SECONDS)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect; whatever is not acknowledged stays with the broker."""
        self.closing = True
        with contextlib.suppress(Exception):
            self.client.disconnect()
        self.client.loop_stop()
        self.connected = False

    def ack(self, batch: Sequence[Received]) -> None:
        """Acknowledge stored messages that came over the connection that is still up.

        After a reconnect the broker redelivers what was unacknowledged on the old connection;
        acknowledging an old message id on the new connection could acknowledge another
        message, so old ones are left to the redelivery (which stores nothing new).

        The QoS 1 acknowledgements of a batch go out as one write: paho's ``ack`` queues each
        PUBACK as a packet of its own, with a wake-up of its network thread and a ``send`` per
        packet, which cost about a fifth of the worker's time per message under load.
        """
        if not self.connected:
            return
        connection = self.connection
        pubacks = bytearray()
        for item in batch:
            if item.mid is None or item.qos == 0 or item.connection != connection:
                continue
            if item.qos == 1 and self._queue_packet is not None:
                pubacks += PUBACK_PACKET.pack(PUBACK, 2, item.mid)
            else:
                self.client.ack(item.mid, item.qos)
        if pubacks and self._queue_packet is not None:
            self._queue_packet(PUBACK, bytes(pubacks), 0, 0)

    # ------------------------------------------------------------- paho callbacks (its thread)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: Any,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            self.counters.error(f"The broker refused the connection: {reason_code}")
            log.error(
                "MQTT broker %s refused the connection: %s", self.address.shown(), reason_code
            )
            return
        self.connection += 1
        self.connected = True
        self.connected_since = timezone.now()
        client.subscribe([(topic, 1) for topic in self.topics])
        log.info(
            "Connected to %s (session %s); subscribed to %s",
            self.address.shown(),
            "resumed" if flags.session_present else "new",
            ", ".join(self.topics),
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: Any,
        properties: Any,
    ) -> None:
        was_connected = self.connected
        self.connected = False
        self.connected_since = None
        if was_connected and not self.closing:
            self.counters.error(f"Disconnected from the broker: {reason_code}")
            log.warning("Disconnected from %s: %s; reconnecting", self.address.shown(), reason_code)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self.counters.error(f"Cannot reach the broker at {self.address.shown()}")
        log.warning("Cannot reach the MQTT broker at %s; retrying", self.address.shown())

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            # Kept (as a dead letter, since no adapter accepts it) rather than dropped.
            topic = bytes(message._topic).decode("utf-8", errors="replace")
        self.deliver(
            Received(
                message=InboundMessage(
                    transport="mqtt",
                    topic=topic,
                    payload=bytes(message.payload),
                    # timezone.now() without its settings look-up (USE_TZ is always on).
                    received_at=dt.datetime.now(dt.UTC),
                    retained=bool(message.retain),
                ),
                mid=message.mid,
                qos=message.qos,
                connection=self.connection,
            )
        )


class EventWorker:
    """The event pipeline as a long-running service: broker (optional) -> store -> ack."""

    name = "worker"

    def __init__(
        self,
        *,
        mqtt_url: str = "",
        client_id: str = "anwang-worker",
        topics: Sequence[str] = (),
        ca_file: str = "",
        batch_size: int = 500,
        batch_ms: int = 5,
        report_seconds: float = REPORT_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
        tick_seconds: float = TICK_SECONDS,
        send_seconds: float = SEND_SECONDS,
    ) -> None:
        self.client_id = client_id
        # The notification sender runs in a thread of its own (0: not at all), so channels'
        # network I/O never delays ingestion on the database thread.
        self.send_seconds = send_seconds
        self.sender: SenderThread | None = None
        self.batch_size = batch_size
        self.batch_seconds = batch_ms / 1000
        self.report_seconds = report_seconds
        self.sweep_seconds = sweep_seconds
        self.tick_seconds = tick_seconds
        self.counters = WorkerCounters()
        self.pending: deque[Received] = deque()
        self.started_at = timezone.now()
        self.stopping = False
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._wake_lock = threading.Lock()
        self._wake_pending = False
        self._idle = True
        """Whether the consume loop waits for a message (and must be woken for one)."""
        # One thread for all database work: one connection, used from one thread, as Django
        # (and SQLite) expect.
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anwang-worker-db")
        self.link: MqttLink | None = None
        if mqtt_url:
            self.link = MqttLink(
                address=BrokerAddress.from_url(mqtt_url),
                client_id=client_id,
                topics=topics,
                ca_file=ca_file,
                deliver=self._deliver,
                counters=self.counters,
            )

    @property
    def mode(self) -> str:
        """``mqtt`` with a broker, ``local`` (HTTP and in-process input only) without."""
        return "mqtt" if self.link is not None else "local"

    # ----------------------------------------------------------------------------- input

    def submit(self, message: InboundMessage) -> None:
        """Hand a message in directly (no broker, nothing to acknowledge); thread-safe."""
        self._deliver(Received(message=message))

    def _deliver(self, received: Received) -> None:
        """Queue a message and wake the consume loop if it waits for one (from any thread).

        Waking the loop is a system call; under load the loop is busy storing the previous
        batch and picks the message up when it is done, so it is only woken when idle.
        """
        self.pending.append(received)
        loop = self._loop
        if loop is None or not self._idle:
            return
        with self._wake_lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the loop closed while stopping
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        with self._wake_lock:
            self._wake_pending = False
        if self._wakeup is not None:
            self._wakeup.set()

    # ----------------------------------------------------------------------------- service

    async def run(self) -> None:
        """Consume and keep house until stopped."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._stop_event = asyncio.Event()
        if self.stopping:
            self._stop_event.set()
        await self._in_db(remember_between_batches)
        if self.link is not None:
            log.info("Worker %s: connecting to %s", self.client_id, self.link.address.shown())
            self.link.start()
        else:
            log.info(
                "Worker %s: no MQTT broker; taking HTTP and in-process input only", self.client_id
            )
        if self.send_seconds > 0 and not self.stopping:
            self.sender = SenderThread(interval=self.send_seconds, send=_fetch_feeds_and_send)
            self.sender.start()
        chores = [
            asyncio.create_task(self._housekeeping(), name="worker-housekeeping"),
            asyncio.create_task(self._ticks(), name="worker-ticks"),
        ]
        try:
            await self._consume()
        finally:
            for chore in chores:
                chore.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await chore
            if self.link is not None:
                await asyncio.to_thread(self.link.stop)
            if self.sender is not None:
                await asyncio.to_thread(self.sender.stop)
                self.sender = None
            with contextlib.suppress(Exception):
                await self._in_db(self._report, True)
            await self._in_db(_drop_broken_connection)
            await self._in_db(remember_between_batches, False)
            self._db.shutdown(wait=True)
            self._loop = None

    def stop(self, *, force: bool = False) -> None:
        """Finish the batch in hand, then stop; unacknowledged messages stay with the broker."""
        self.stopping = True
        if self._loop is not None and self._stop_event is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
            self._loop.call_soon_threadsafe(self._wake)

    async def _in_db(self, function: Callable[..., T], *args: Any) -> T:
        """Run a function on the worker's database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, function, *args)

    # ----------------------------------------------------------------------------- consuming

    async def _consume(self) -> None:
        assert self._wakeup is not None
        while not self.stopping:
            if not self.pending:
                # Idle first, then look again: a message queued in between is either seen
                # here or wakes the loop (see _deliver).
                self._idle = True
                self._wakeup.clear()
                if not self.pending:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), timeout=1.0)
                    self._idle = False
                    continue
                self._idle = False
            wait = fill_wait(
                waiting=len(self.pending),
                oldest_arrived=self.pending[0].arrived,
                now=time.monotonic(),
                batch_size=self.batch_size,
                batch_seconds=self.batch_seconds,
            )
            if wait:
                await asyncio.sleep(wait)
            batch = [self.pending.popleft() for _ in range(min(self.batch_size, len(self.pending)))]
            await self._store_until_done(batch)
        # Messages handed in directly have no broker to redeliver them: store them before going.
        local = [item for item in self.pending if item.mid is None]
        if local:
            await self._store_until_done(local, retry=False)

    async def _store_until_done(self, batch: list[Received], *, retry: bool = True) -> None:
        """Store a batch, acknowledging it after the commit; retry while the database is down."""
        for attempt in itertools.count():
            try:
                result = await self._in_db(self._store, batch)
            except (OperationalError, InterfaceError) as error:
                self.counters.error(f"Database unavailable: {error}")
                log.warning("Database unavailable (%s); batch of %d kept", error, len(batch))
                await self._in_db(_drop_broken_connection)
                if not retry or self.stopping:
                    return  # not acknowledged: the broker delivers them again
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                continue
            self._committed(batch, result)
            return

    def _store(self, batch: list[Received]) -> IngestResult:
        """Store one batch (database thread). A message that makes the pipeline fail (rather
        than one it cannot use, which is a dead letter already) is found by storing the batch
        one by one, and kept as a dead letter so it cannot stop the stream."""
        messages = [item.message for item in batch]
        try:
            return ingest_messages(messages=messages)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            log.exception("A batch of %d failed; storing its messages one by one", len(batch))
        total = IngestResult()
        for message in messages:
            try:
                result = ingest_messages(messages=[message])
            except (OperationalError, InterfaceError):
                raise
            except Exception as error:
                log.exception("Message on %s failed; kept as a dead letter", message.topic)
                dead_letter_store(
                    message=message, reason=f"Processing failed: {type(error).__name__}: {error}"
                )
                result = IngestResult(dead_letters=1)
            total.events += result.events
            total.duplicates += result.duplicates
            total.dead_letters += result.dead_letters
        return total

    def _committed(self, batch: list[Received], result: IngestResult) -> None:
        """After the commit: acknowledge, count."""
        if self.link is not None:
            self.link.ack(batch)
        now = timezone.now()
        counters = self.counters
        counters.messages += len(batch)
        counters.events += result.events
        counters.dead_letters += result.dead_letters
        counters.batches += 1
        counters.last_commit_at = now
        counters.last_message_at = batch[-1].message.received_at
        oldest = min(item.message.received_at for item in batch)
        counters.commit_latency_ms = (now - oldest).total_seconds() * 1000

    # ----------------------------------------------------------------------------- housekeeping

    async def _housekeeping(self) -> None:
        """Report health, sweep heartbeats, purge access records past their retention (at
        start, then daily); never let a failure here stop the worker."""
        next_sweep = 0.0
        next_purge = 0.0
        while True:
            try:
                await self._in_db(self._report, False)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.sweep_seconds
                    went = await self._in_db(device_heartbeat_sweep)
                    if went:
                        log.info("%d device(s) missed their heartbeat and went offline", went)
                    await self._in_db(live_prune)
                    await self._in_db(camera_snapshot_prune)
                if time.monotonic() >= next_purge:
                    next_purge = time.monotonic() + RETENTION_PURGE_SECONDS
                    purged = await self._in_db(access_retention_purge)
                    log.info("Access records past their retention: %s", purged)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.counters.error(f"Housekeeping failed: {error}")
                log.warning("Housekeeping failed: %s", error)
                with contextlib.suppress(Exception):
                    await self._in_db(_drop_broken_connection)
            await asyncio.sleep(self.report_seconds)

    async def _ticks(self) -> None:
        """Time-driven rules and response times every second; patrols every
        :data:`PATROL_CHECK_SECONDS` and hazard deadlines every :data:`HAZARD_CHECK_SECONDS`
        (they share the database thread with the batches, which wait while they run)."""
        hazards_checked = -HAZARD_CHECK_SECONDS
        incidents_checked = -INCIDENT_CHECK_SECONDS
        patrols_checked = -PATROL_CHECK_SECONDS
        access_scanned = -ACCESS_SCAN_SECONDS
        welfare_checked = -WELFARE_CHECK_SECONDS
        while True:
            started = time.monotonic()
            timed = await self._check("Timed checks", pipeline_tick)
            if timed and any(timed):
                log.info("Timed checks: %d alarm(s), %d escalation(s)", *timed)
            if started - patrols_checked >= PATROL_CHECK_SECONDS:
                patrols_checked = started
                patrol_alarms = await self._check("Patrol checks", patrol_runs_check)
                if patrol_alarms:
                    log.info("Patrol checks: %d alarm(s)", patrol_alarms)
            if started - hazards_checked >= HAZARD_CHECK_SECONDS:
                hazards_checked = started
                hazard_alarms = await self._check("Hazard checks", hazards_overdue_check)
                if hazard_alarms:
                    log.info("Hazard deadlines: %d alarm(s)", hazard_alarms)
            if started - incidents_checked >= INCIDENT_CHECK_SECONDS:
                incidents_checked = started
                await self._check("Incident task checks", incident_tasks_check)
                published = await self._check("Safety alert schedule", alerts_due_check)
                if published and any(published):
                    log.info("Safety alerts: %d sent, %d expired", *published)
            if started - access_scanned >= ACCESS_SCAN_SECONDS:
                access_scanned = started
                scan = await self._check("Access anomaly scan", access_anomalies_scan)
                if scan is not None and scan.findings:
                    log.info("Access anomalies: %s", scan)
            if started - welfare_checked >= WELFARE_CHECK_SECONDS:
                welfare_checked = started
                welfare = await self._check("Welfare checks", welfare_checks_run)
                if welfare is not None and (welfare.opened or welfare.resumed or welfare.escalated):
                    log.info("Welfare checks: %s", welfare)
            await asyncio.sleep(max(0.0, self.tick_seconds - (time.monotonic() - started)))

    async def _check(self, name: str, check: Callable[[], T]) -> T | None:
        """One timed check on the database thread; a failure is counted and reported, and
        answers ``None`` (the next tick tries again)."""
        try:
            return await self._in_db(check)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the next tick tries again
            self.counters.error(f"{name} failed: {error}")
            log.warning("%s failed: %s", name, error)
            with contextlib.suppress(Exception):
                await self._in_db(_drop_broken_connection)
            return None

    def status_values(self, *, stopped: bool = False) -> dict[str, Any]:
        """The health report as stored in :class:`WorkerStatus`."""
        now = timezone.now()
        counters = self.counters
        oldest = self.pending[0].message.received_at if self.pending else None
        link = self.link
        return {
            "host": socket.gethostname()[:200],
            "pid": os.getpid(),
            "mode": self.mode,
            "broker": link.address.shown() if link is not None else "",
            "connected": bool(link is not None and link.connected and not stopped),
            "connected_since": link.connected_since if link is not None else None,
            "started_at": self.started_at,
            "reported_at": now,
            "stopped_at": now if stopped else None,
            "last_message_at": counters.last_message_at,
            "last_commit_at": counters.last_commit_at,
            "lag_seconds": (now - oldest).total_seconds() if oldest is not None else 0.0,
            "commit_latency_ms": counters.commit_latency_ms,
            "pending": len(self.pending),
            "messages_total": counters.messages,
            "events_total": counters.events,
            "dead_letters_total": counters.dead_letters,
            "last_error": counters.last_error,
            "last_error_at": counters.last_error_at,
        }

    def _report(self, stopped: bool) -> None:
        """Write the health report (database thread)."""
        worker_status_report(name=self.client_id, values=self.status_values(stopped=stopped))


PUBACK: Final = 0x40
"""The PUBACK control packet type (MQTT 3.1.1 section 3.4)."""
PUBACK_PACKET: Final = struct.Struct("!BBH")
"""A PUBACK: type, remaining length 2, the message id."""


def _packet_queue_of(client: mqtt.Client) -> Callable[[int, bytes, int, int], Any] | None:
    """paho's internal "queue these bytes for the network thread", if this paho has it.

    It is not public API: with a paho that changes it, acknowledgements fall back to one
    ``ack()`` call per message (slower, equally correct). ``test_worker_mqtt`` checks that the
    pinned paho has it.
    """
    queue = getattr(client, "_packet_queue", None)
    if not callable(queue):
        return None
    try:
        parameters = list(inspect.signature(queue).parameters)
    except (TypeError, ValueError):
        return None
    if parameters[:4] != ["command", "packet", "mid", "qos"]:
        return None
    packet_queue: Callable[[int, bytes, int, int], Any] = queue
    return packet_queue


def _drop_broken_connection() -> None:
    """Close this thread's database connection (after an error, so the next use opens a fresh
    one; or when stopping)."""
    with contextlib.suppress(Exception):
        db_connection.close()

"""The worker's loop without a broker: batches stored, acknowledged only after the commit,
database outages retried, a message that breaks the pipeline kept aside, health reported.

The worker against a real Mosquitto is tested in ``tests/services/``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.events import worker as worker_module
from anwang.events.adapters.base import InboundMessage
from anwang.events.models import DeadLetter, DeviceEvent, WorkerStatus
from anwang.events.services import ingest_messages as real_ingest
from anwang.events.worker import (
    BrokerAddress,
    EventWorker,
    MqttLink,
    Received,
    WorkerCounters,
    masked_url,
)

pytestmark = pytest.mark.django_db(transaction=True)


def access(number: int, topic_device: str = "reader") -> InboundMessage:
    return InboundMessage(
        transport="mqtt",
        topic=f"anwang/a/{topic_device}/event",
        payload=json.dumps(
            {"schema_version": 1, "device": "reader", "kind": "access", "event_id": str(number)}
        ).encode(),
        received_at=timezone.now(),
    )


@pytest.fixture
def reader(world: Any) -> Device:
    return Device.objects.create(
        community=world.a.community,
        name="Gate reader",
        kind=DeviceKind.ACCESS_READER,
        protocol=Protocol.ANWANG,
        source_id="reader",
    )


class FakeLink:
    """Stands in for the broker connection: records acknowledgements."""

    def __init__(self) -> None:
        self.acked: list[int] = []
        self.address = BrokerAddress(host="broker.test", port=1883, tls=False)
        self.connected = True
        self.connected_since = timezone.now()

    def start(self) -> None:
        """Nothing to connect."""

    def stop(self) -> None:
        self.connected = False

    def ack(self, batch: Sequence[Received]) -> None:
        for received in batch:
            if received.mid is not None:
                self.acked.append(received.mid)


def run(worker: EventWorker, until: Callable[[], bool], *, timeout: float = 15) -> None:
    """Run the worker until ``until()`` (checked on another thread, as it reads the
    database) holds, then stop it and wait for it to finish."""

    def holds() -> bool:
        try:
            return until()
        except OperationalError:
            # The test database is SQLite in memory with a shared cache, where a reader
            # gets "table is locked" while the worker writes (a file database in WAL mode,
            # as deployed, lets readers through): ask again.
            return False

    async def main() -> None:
        task = asyncio.create_task(worker.run())
        deadline = asyncio.get_running_loop().time() + timeout
        while not await asyncio.to_thread(holds):
            if task.done():
                await task
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.02)
        worker.stop()
        await task

    asyncio.run(main())


def stored_numbers() -> list[str]:
    return sorted(
        (str(key) for key in DeviceEvent.objects.values_list("edge_key", flat=True)), key=int
    )


def test_submitted_messages_are_stored_and_health_is_reported(reader: Device) -> None:
    worker = EventWorker(client_id="test-worker", batch_size=50, report_seconds=0.05)
    for number in range(120):
        worker.submit(access(number))
    run(worker, lambda: DeviceEvent.objects.count() == 120)
    assert stored_numbers() == [str(n) for n in range(120)]
    status = WorkerStatus.objects.get(name="test-worker")
    assert status.mode == "local"
    assert not status.connected
    assert status.stopped_at is not None
    assert (status.messages_total, status.events_total, status.pending) == (120, 120, 0)
    assert status.last_commit_at is not None


def test_messages_handed_in_are_stored_before_stopping(reader: Device) -> None:
    worker = EventWorker(client_id="test-worker", batch_ms=5000)
    worker.submit(access(1))
    worker.stop()  # before it even ran: the message handed in must still be stored
    asyncio.run(worker.run())
    assert stored_numbers() == ["1"]


def test_broker_messages_are_acknowledged_only_after_the_commit(reader: Device) -> None:
    worker = EventWorker(client_id="test-worker")
    link = FakeLink()
    worker.link = link  # type: ignore[assignment]
    seen_at_commit: list[list[int]] = []

    def ingest(**kwargs: Any) -> Any:
        seen_at_commit.append(list(link.acked))
        return real_ingest(**kwargs)

    with mock.patch.object(worker_module, "ingest_messages", side_effect=ingest):
        for mid in range(1, 6):
            worker._deliver(Received(message=access(mid), mid=mid, qos=1))
        run(worker, lambda: len(link.acked) == 5)
    assert seen_at_commit[0] == []  # nothing acknowledged before the first commit
    assert link.acked == [1, 2, 3, 4, 5]
    assert stored_numbers() == ["1", "2", "3", "4", "5"]


def test_a_database_outage_is_retried_and_nothing_is_acknowledged_meanwhile(
    reader: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "RETRY_SECONDS", (0.01,))
    worker = EventWorker(client_id="test-worker")
    link = FakeLink()
    worker.link = link  # type: ignore[assignment]
    failures = iter([True, True])
    acked_during_outage: list[int] = []

    def flaky(**kwargs: Any) -> Any:
        if next(failures, False):
            acked_during_outage.extend(link.acked)
            raise OperationalError("server closed the connection unexpectedly")
        return real_ingest(**kwargs)

    with mock.patch.object(worker_module, "ingest_messages", side_effect=flaky):
        worker._deliver(Received(message=access(7), mid=7, qos=1))
        run(worker, lambda: link.acked == [7])
    assert acked_during_outage == []
    assert stored_numbers() == ["7"]
    assert "Database unavailable" in worker.counters.last_error


def test_a_message_that_breaks_the_pipeline_is_kept_aside(reader: Device) -> None:
    worker = EventWorker(client_id="test-worker")
    link = FakeLink()
    worker.link = link  # type: ignore[assignment]

    def breaks_on_13(*, messages: list[InboundMessage], **kwargs: Any) -> Any:
        if any(b'"13"' in message.payload for message in messages):
            raise RuntimeError("adapter bug")
        return real_ingest(messages=messages, **kwargs)

    with mock.patch.object(worker_module, "ingest_messages", side_effect=breaks_on_13):
        for mid in range(10, 16):
            worker._deliver(Received(message=access(mid), mid=mid, qos=1))
        run(worker, lambda: len(link.acked) == 6)
    assert stored_numbers() == ["10", "11", "12", "14", "15"]
    dead = DeadLetter.objects.get()
    assert dead.reason == "Processing failed: RuntimeError: adapter bug"
    assert b'"13"' in bytes(dead.payload)


def test_the_heartbeat_sweep_runs_in_the_worker(reader: Device) -> None:
    long_ago = timezone.now() - dt.timedelta(hours=2)
    Device.objects.filter(pk=reader.pk).update(
        status="online", last_seen_at=long_ago, heartbeat_seconds=60
    )
    worker = EventWorker(client_id="test-worker", report_seconds=0.05)
    run(worker, lambda: DeviceEvent.objects.filter(kind="device.offline").exists())
    reader.refresh_from_db()
    assert reader.status == "offline"


def test_broker_urls_are_parsed_and_never_shown_with_their_password() -> None:
    address = BrokerAddress.from_url("mqtts://anwang%2Dworker:s%40cret@broker.example:8884")
    assert address == BrokerAddress(
        host="broker.example", port=8884, tls=True, username="anwang-worker", password="s@cret"
    )
    assert address.shown() == "mqtts://anwang-worker@broker.example:8884"
    assert BrokerAddress.from_url("mqtt://127.0.0.1").port == 1883
    assert BrokerAddress.from_url("mqtts://h").port == 8883
    assert masked_url("mqtt://u:pw@h:1883") == "mqtt://u:***@h:1883"
    with pytest.raises(ValueError, match="not an MQTT broker URL"):
        BrokerAddress.from_url("http://u:pw@h")


def link_with_fake_client(
    *, without_packet_queue: bool = False
) -> tuple[MqttLink, mock.Mock, mock.Mock]:
    """A link on connection 2 whose paho client and packet queue are mocks."""
    link = MqttLink(
        address=BrokerAddress(host="127.0.0.1", port=1883, tls=False),
        client_id="test",
        topics=["anwang/#"],
        deliver=lambda received: None,
        counters=WorkerCounters(),
    )
    client, queue = mock.Mock(), mock.Mock()
    link.client = client
    link._queue_packet = None if without_packet_queue else queue
    link.connection, link.connected = 2, True
    return link, client, queue


def test_the_pinned_paho_takes_a_batch_of_acknowledgements_as_one_write() -> None:
    link = MqttLink(
        address=BrokerAddress(host="127.0.0.1", port=1883, tls=False),
        client_id="test",
        topics=["anwang/#"],
        deliver=lambda received: None,
        counters=WorkerCounters(),
    )
    assert link._queue_packet is not None, "paho changed _packet_queue: see _packet_queue_of"
    # paho's per-topic callback registry, walked for every message, is replaced.
    registry: Any = link.client._on_message_filtered
    assert isinstance(registry, worker_module._NoTopicCallbacks)
    assert list(registry.iter_match("anwang/a/b/event")) == []


def test_a_batch_is_acknowledged_in_one_write_on_the_connection_that_delivered() -> None:
    link, client, queue = link_with_fake_client()
    link.ack(
        [
            Received(message=access(1), mid=5, qos=1, connection=1),  # an older connection
            Received(message=access(2), mid=6, qos=1, connection=2),
            Received(message=access(3), mid=None),  # handed in directly
            Received(message=access(4), mid=7, qos=0, connection=2),  # nothing to acknowledge
            Received(message=access(5), mid=0x1234, qos=1, connection=2),
        ]
    )
    queue.assert_called_once_with(0x40, bytes([0x40, 2, 0, 6, 0x40, 2, 0x12, 0x34]), 0, 0)
    client.ack.assert_not_called()
    link.connected = False
    link.ack([Received(message=access(1), mid=8, qos=1, connection=2)])
    assert queue.call_count == 1


def test_without_pahos_packet_queue_each_message_is_acknowledged_on_its_own() -> None:
    link, client, _queue = link_with_fake_client(without_packet_queue=True)
    link.ack(
        [
            Received(message=access(1), mid=5, qos=1, connection=1),
            Received(message=access(2), mid=6, qos=1, connection=2),
            Received(message=access(3), mid=9, qos=2, connection=2),
        ]
    )
    assert client.ack.call_args_list == [mock.call(6, 1), mock.call(9, 2)]


class ChunkedSocket:
    """A socket whose ``recv`` returns the given chunks, then would block."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sizes: list[int] = []

    def recv(self, size: int) -> bytes:
        self.sizes.append(size)
        if not self.chunks:
            raise BlockingIOError
        return self.chunks.pop(0)


def test_the_read_ahead_socket_serves_small_reads_from_one_large_one() -> None:
    inner = ChunkedSocket([b"\x30\x05hello\x30", b"\x02hi"])
    sock = worker_module._ReadAheadSocket(inner)
    assert sock.pending() == 0
    assert sock.recv(1) == b"\x30"
    assert inner.sizes == [worker_module.READ_AHEAD_BYTES]
    assert sock.pending() == 7  # paho's loop reads on without waiting in select
    assert sock.recv(1) == b"\x05"
    assert sock.recv(5) == b"hello"
    assert sock.recv(10) == b"\x30"  # a short read at the end of the buffer, as recv may
    assert sock.pending() == 0
    assert sock.recv(1) == b"\x02"
    assert sock.recv(2) == b"hi"
    assert len(inner.sizes) == 2
    with pytest.raises(BlockingIOError):
        sock.recv(1)


def test_a_batch_fills_for_batch_ms_from_its_oldest_message() -> None:
    from anwang.events.worker import fill_wait

    def wait(waiting: int, age: float) -> float:
        return fill_wait(
            waiting=waiting,
            oldest_arrived=100.0,
            now=100.0 + age,
            batch_size=500,
            batch_seconds=0.02,
        )

    assert wait(1, 0.0) == pytest.approx(0.02)
    assert wait(20, 0.015) == pytest.approx(0.005)
    assert wait(20, 0.05) == 0.0  # arrived while the last batch was stored: no second wait
    assert wait(500, 0.0) == 0.0  # a full batch goes at once

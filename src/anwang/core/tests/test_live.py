"""Live updates: publishing in the writer's transaction, scoping, the SSE stream (resume with
Last-Event-ID), the JSON fallback, the publish hooks of alarms and devices, and on PostgreSQL
the LISTEN/NOTIFY path."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import AsyncClient
from django.utils import timezone

from anwang.accounts.selectors import scope_for
from anwang.alarms.services import alarm_acknowledge, alarms_from_firings
from anwang.core import live
from anwang.core.live import (
    LiveUpdate,
    live_last_id,
    live_messages_after,
    live_prune,
    live_publish,
    live_publish_many,
)
from anwang.core.models import LiveMessage
from anwang.core.tests.shared_cache import write_past_readers
from anwang.devices.models import Device
from anwang.events.services import device_heartbeat_sweep, worker_status_report
from anwang.rules.facts import Firing
from anwang.rules.models import Rule

ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def alarm_message(world: Any, side: str = "a", **data: Any) -> LiveMessage:
    community = getattr(world, side).community
    return live_publish(
        kind="alarm", data={"id": 1, "community": community.pk, **data}, community_id=community.pk
    )


# --------------------------------------------------------------------------- publish, scope


def test_a_message_published_in_a_rolled_back_transaction_never_exists(world: Any) -> None:
    before = live_last_id()

    def change_that_fails() -> None:
        with transaction.atomic():
            alarm_message(world)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert live_last_id() == before
    assert not LiveMessage.objects.exists()


def test_messages_are_numbered_in_order_and_kept_as_json(world: Any) -> None:
    first = alarm_message(world, at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    rows = live_publish_many(updates=[LiveUpdate("health", {"ok": True, "problems": []}, None)] * 2)
    assert [row.pk for row in rows] == [first.pk + 1, first.pk + 2]
    assert LiveMessage.objects.get(pk=first.pk).data["at"] == "2026-01-01T00:00:00Z"
    assert live_last_id() == first.pk + 2


def test_an_operator_sees_only_their_communitys_messages_and_the_health(world: Any) -> None:
    mine = alarm_message(world, "a")
    alarm_message(world, "b")
    device_b = live_publish(kind="device", data={}, community_id=world.b.community.pk)
    health = live_publish(kind="health", data={"ok": True, "problems": []}, community_id=None)
    operator = scope_for(world.user("operator", "a"))
    assert [m.pk for m in live_messages_after(operator, 0)] == [mine.pk, health.pk]
    assert [m.pk for m in live_messages_after(operator, mine.pk)] == [health.pk]
    admin = scope_for(world.platform_admin)
    assert device_b.pk in [m.pk for m in live_messages_after(admin, 0)]
    assert live_messages_after(scope_for(world.user("resident", "a")), 0) == []
    assert live_messages_after(scope_for(world.user("auditor", "a")), 0) == []


def test_old_messages_are_pruned(world: Any) -> None:
    old = alarm_message(world)
    LiveMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    new = alarm_message(world)
    assert live_prune(older_than=dt.timedelta(days=1)) == 1
    assert list(LiveMessage.objects.values_list("pk", flat=True)) == [new.pk]


# --------------------------------------------------------------------------- hooks


def test_an_alarm_raised_from_a_firing_and_acknowledged_is_published(world: Any) -> None:
    rule = Rule.objects.create(
        community=world.a.community,
        name="smoke",
        kind="immediate",
        priority=1,
        title_template="Smoke",
        cooldown_seconds=300,
    )
    at = timezone.now()
    firing = Firing(
        rule_id=rule.pk,
        community_id=world.a.community.pk,
        title_values={},
        group_key="smoke-1",
        trigger_key="event:1",
        at=at,
        priority=1,
        title_template="Smoke",
    )
    (alarm,) = alarms_from_firings(firings=[firing], now=at)
    alarm_acknowledge(actor=world.user("operator", "a"), alarm=alarm)
    raised, acknowledged = LiveMessage.objects.order_by("id")
    assert raised.kind == "alarm"
    assert raised.community_id == world.a.community.pk
    assert raised.data["id"] == alarm.pk
    assert raised.data["change"] == "raised"
    assert raised.data["state"] == "raised"
    assert raised.data["priority"] == 1
    assert raised.data["count"] == 1
    assert set(raised.data) == {
        "id", "community", "priority", "state", "title", "device", "zone", "raised_at",
        "acknowledge_due_at", "on_scene_due_at", "count", "assignee", "change",
    }  # fmt: skip
    assert acknowledged.data["change"] == "acknowledged"
    assert acknowledged.data["state"] == "acknowledged"


def test_a_device_going_offline_is_published_once(world: Any) -> None:
    device = Device.objects.create(
        community=world.a.community,
        name="smoke",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id="smoke-1",
        heartbeat_seconds=60,
        status="online",
        last_seen_at=timezone.now() - dt.timedelta(minutes=5),
    )
    assert device_heartbeat_sweep() == 1
    assert device_heartbeat_sweep() == 0
    (message,) = LiveMessage.objects.all()
    assert message.kind == "device"
    assert message.community_id == world.a.community.pk
    assert message.data == {
        "id": device.pk,
        "community": world.a.community.pk,
        "status": "offline",
        "alarming": False,
    }


def test_a_worker_report_publishes_health_only_when_it_changes(world: Any) -> None:
    now = timezone.now()
    values = {
        "mode": "mqtt",
        "connected": True,
        "started_at": now,
        "reported_at": now,
        "lag_seconds": 0.0,
    }
    worker_status_report(name="w1", values=values)
    worker_status_report(name="w1", values=values)
    worker_status_report(name="w1", values=values | {"connected": False})
    first, lost = LiveMessage.objects.filter(kind="health").order_by("id")
    assert first.data == {"ok": True, "problems": []}
    assert lost.data["ok"] is False
    assert len(lost.data["problems"]) == 1


# --------------------------------------------------------------------------- JSON fallback


def test_the_json_fallback_returns_visible_messages_after_a_number(world: Any) -> None:
    client = world.client_for("operator", "a")
    start = client.get("/api/v1/live").json()
    assert start["messages"] == []
    mine = alarm_message(world, "a")
    alarm_message(world, "b")
    body = client.get(f"/api/v1/live?after={start['last_id']}").json()
    assert [m["id"] for m in body["messages"]] == [mine.pk]
    assert body["messages"][0]["kind"] == "alarm"
    assert body["messages"][0]["community"] == world.a.community.pk
    assert body["last_id"] == live_last_id()
    again = client.get(f"/api/v1/live?after={body['last_id']}").json()
    assert again["messages"] == []
    assert world.client_for("resident", "a").get("/api/v1/live").status_code == 403


def test_the_stream_refuses_people_who_may_see_nothing(world: Any) -> None:
    assert world.client_for("resident", "a").get("/live/stream").status_code == 403
    response = world.client_for("operator", "a").get("/live/stream?after=x")
    assert response.status_code == 400


# --------------------------------------------------------------------------- the stream


class Reader:
    """Reads SSE messages off a streaming response."""

    def __init__(self, response: Any) -> None:
        self.chunks: AsyncIterator[bytes] = aiter(response.streaming_content)
        self.buffer = ""

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message (comments and ``retry`` included), parsed."""
        while "\n\n" not in self.buffer:
            chunk = await asyncio.wait_for(anext(self.chunks), timeout)
            self.buffer += chunk.decode()
        block, self.buffer = self.buffer.split("\n\n", 1)
        fields: dict[str, Any] = {}
        for line in block.split("\n"):
            name, _colon, value = line.partition(":")
            fields[name or "comment"] = value.strip()
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
        return fields

    async def next_event(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message that is an event."""
        while True:
            message = await self.next(timeout)
            if "event" in message:
                return message

    async def close(self) -> None:
        """Disconnect."""
        await self.chunks.aclose()  # type: ignore[attr-defined]


async def open_stream(user: Any, **headers: Any) -> tuple[Reader, str]:
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.get("/live/stream", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    return Reader(response), response.get("Cache-Control", "")


def _publish_and_close(world: Any, side: str, **data: Any) -> LiveMessage:
    """Publish from another thread, on its own connection, closed afterwards."""
    from django.db import connection

    try:
        return write_past_readers(lambda: alarm_message(world, side, **data))
    finally:
        connection.close()


publish = sync_to_async(_publish_and_close, thread_sensitive=False)


@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_new_messages_and_resumes_after_the_last_event_id(world: Any) -> None:
    operator = world.user("operator", "a")

    async def scenario() -> None:
        old = await publish(world, "a", n=0)
        reader, cache = await open_stream(operator)
        assert cache == "no-cache"
        assert (await reader.next()) == {"retry": "2000"}
        hello = await reader.next_event()
        assert hello["event"] == "hello"
        assert int(hello["id"]) == old.pk
        assert hello["data"]["last_id"] == old.pk
        assert set(hello["data"]["health"]) == {"ok", "problems"}
        first = await publish(world, "a", n=1)
        await publish(world, "b", n=99)  # another community: never sent
        message = await reader.next_event()
        assert (message["id"], message["event"]) == (str(first.pk), "alarm")
        assert message["data"]["n"] == 1
        await reader.close()

        missed = [await publish(world, "a", n=n) for n in (2, 3)]
        await publish(world, "b", n=98)
        resumed, _cache = await open_stream(operator, last_event_id=str(first.pk))
        await resumed.next_event()  # hello
        got = [await resumed.next_event() for _ in missed]
        assert [int(m["id"]) for m in got] == [m.pk for m in missed]
        assert [m["data"]["n"] for m in got] == [2, 3]
        later = await publish(world, "a", n=4)
        assert int((await resumed.next_event())["id"]) == later.pk
        await resumed.close()
        live.live_shutdown()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_streams_end_when_the_server_shuts_down(world: Any) -> None:
    async def scenario() -> None:
        reader, _cache = await open_stream(world.user("guard", "a"))
        await reader.next_event()  # hello
        live.live_shutdown()
        with pytest.raises(StopAsyncIteration):
            await reader.next(timeout=2.0)

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_the_stream_says_when_the_health_changes(world: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(live, "HEALTH_SECONDS", 0.2)

    async def scenario() -> None:
        reader, _cache = await open_stream(world.user("operator", "a"))
        hello = await reader.next_event()
        assert hello["data"]["health"]["ok"] is False  # no worker at all
        now = timezone.now()
        await sync_to_async(write_past_readers)(
            lambda: worker_status_report(
                name="w1", values={"mode": "local", "started_at": now, "reported_at": now}
            )
        )
        health = await reader.next_event()
        assert health["event"] == "health"
        assert health["data"] == {"ok": True, "problems": []}
        await reader.close()
        live.live_shutdown()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_a_new_message_reaches_the_stream_within_the_poll_on_sqlite(world: Any) -> None:
    # A hub reads the newest id every POLL_SECONDS on SQLite: much sooner than the 250 ms an
    # operator may wait for a P1 alarm (PostgreSQL wakes at the commit).
    async def scenario() -> None:
        reader, _cache = await open_stream(world.user("operator", "a"))
        await reader.next_event()  # hello
        delays = []
        for n in range(5):
            started = time.monotonic()
            sent = await publish(world, "a", n=n)
            message = await reader.next_event()
            delays.append(time.monotonic() - started)
            assert int(message["id"]) == sent.pk
        await reader.close()
        live.live_shutdown()
        assert sorted(delays)[2] < 0.2, delays  # the median, on a loaded test machine

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's shared cache only")
def test_a_live_read_waits_for_a_writer_of_the_shared_in_memory_database(world: Any) -> None:
    # The tests' in-memory SQLite database is one shared cache, which refuses a reader at once
    # ("database table is locked") while another connection writes the table, where a database
    # file in WAL mode lets it read; the hub's reads wait for the writer instead of failing
    # (a failed read broke the stream or held every stream back a second).
    import threading

    from django.db import connection

    read: list[int] = []
    failed: list[BaseException] = []

    def reader() -> None:
        try:
            read.append(live._in_db(live.live_last_id)())
        except BaseException as error:  # reported by the assertions below
            failed.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=reader)
    with transaction.atomic():
        written = alarm_message(world)
        thread.start()
        thread.join(0.3)
        assert not failed, failed  # not refused
        assert thread.is_alive()  # but waiting for the writer
    thread.join(10)
    assert not failed, failed
    assert read == [written.pk]


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRESQL, reason="LISTEN/NOTIFY needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_message_from_another_connection_arrives_at_once(world: Any) -> None:
    async def scenario() -> None:
        reader, _cache = await open_stream(world.user("operator", "a"))
        await reader.next_event()  # hello
        await asyncio.sleep(0.3)  # the hub's LISTEN connection is up
        delays = []
        for n in range(3):
            started = time.monotonic()
            sent = await publish(world, "a", n=n)
            message = await reader.next_event(timeout=2.0)
            delays.append(time.monotonic() - started)
            assert int(message["id"]) == sent.pk
        # Polling would take 5 s here (the safety interval on PostgreSQL).
        assert max(delays) < 1.0
        await reader.close()
        live.live_shutdown()

    asyncio.run(scenario())


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_later_number_committed_first_does_not_skip_the_earlier(
    world: Any,
) -> None:
    """Two publishers: the one holding the lower number commits last; a reader never moves
    past it before it commits."""
    import threading

    from django.db import connection

    holding = threading.Event()
    release = threading.Event()

    def slow() -> None:
        with transaction.atomic():
            alarm_message(world, n="slow")
            holding.set()
            release.wait(5)
        connection.close()

    thread = threading.Thread(target=slow)
    thread.start()
    holding.wait(5)
    fast = alarm_message(world, n="fast")
    settled, gap = live.live_settled_id(0)
    assert gap
    assert settled == 0
    release.set()
    thread.join()
    settled, gap = live.live_settled_id(0)
    assert not gap
    assert settled == fast.pk
    assert [m.data["n"] for m in live_messages_after(scope_for(world.platform_admin), 0)] == [
        "slow",
        "fast",
    ]

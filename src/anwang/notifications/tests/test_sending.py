"""The sender with fake channel backends and a controllable clock: success, retries with
exact backoff, permanent failures, exceptions, missing settings or addresses, rate limits,
slow channels not holding up others, and SKIP LOCKED between two senders on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from anwang.notifications import sending, services
from anwang.notifications.channels.base import OutgoingMessage, SendOutcome
from anwang.notifications.choices import DeliveryStatus
from anwang.notifications.models import ChannelConfig, Delivery, NotificationPreference
from anwang.notifications.sending import backoff, send_due
from anwang.notifications.services import notify
from anwang.notifications.tests.conftest import NOW, FakeBackend

S = dt.timedelta(seconds=1)


def failing(retry: bool = True) -> Callable[[OutgoingMessage], SendOutcome]:
    return lambda message: SendOutcome(status="failed", error="provider said no", retry=retry)


def sms_person(world: Any) -> Any:
    person = world.user("guard")
    services.preference_set(user=person, channels=["sms"], phone="13800138000")
    return person


def test_success_records_sent_with_address_and_settings(
    world: Any, fake_backends: Any, platform_channels: Any
) -> None:
    push: FakeBackend = fake_backends("web_push")
    person = world.user("resident")
    notify(recipients=[person], kind="k", title="翠苑", url="/hazards/1/", now=NOW)
    report = send_due(now=NOW)
    assert report.sent == 1
    delivery = Delivery.objects.get(channel="web_push")
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, NOW)
    assert delivery.provider_id == "p-1"
    assert delivery.config == platform_channels["web_push"]
    message, settings = push.calls[0]
    assert message.address == str(person.pk)
    assert message.title == "翠苑"
    assert message.url.endswith("/hazards/1/")
    assert settings.secret == "s3cret"
    assert settings.settings == {"k": "v"}
    assert send_due(now=NOW + S).handled == 0  # nothing twice


def test_delivered_and_community_config_preferred(
    world: Any, fake_backends: Any, platform_channels: Any
) -> None:
    sms = fake_backends("sms", lambda message: SendOutcome(status="delivered"))
    own = ChannelConfig.objects.create(community=world.a.community, channel="sms", name="own")
    notify(
        recipients=[sms_person(world)], kind="k", title="t", community=world.a.community, now=NOW
    )
    send_due(now=NOW)
    delivery = Delivery.objects.get(channel="sms")
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.delivered_at == NOW
    assert delivery.config == own
    assert sms.calls[0][0].address == "13800138000"


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_retryable_failure_backs_off_exactly_then_fails_after_8(
    world: Any, fake_backends: Any, platform_channels: Any
) -> None:
    fake_backends("sms", failing())
    notify(recipients=[sms_person(world)], kind="k", title="t", now=NOW)
    clock = NOW
    waits = []
    for attempt in range(1, 8):
        assert send_due(now=clock).retried == 1
        delivery = Delivery.objects.get(channel="sms")
        assert delivery.attempts == attempt
        assert delivery.status == "queued"
        next_attempt = delivery.next_attempt_at
        assert next_attempt is not None
        waits.append((next_attempt - clock).total_seconds())
        # Not before its time.
        assert send_due(now=next_attempt - S).handled == 0
        clock = next_attempt
    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    assert send_due(now=clock).failed == 1
    delivery = Delivery.objects.get(channel="sms")
    assert (delivery.status, delivery.attempts) == ("failed", 8)
    assert delivery.last_error == "provider said no"
    assert delivery.next_attempt_at is None


def test_permanent_failure_fails_at_once(
    world: Any, fake_backends: Any, platform_channels: Any
) -> None:
    fake_backends("sms", failing(retry=False))
    notify(recipients=[sms_person(world)], kind="k", title="t", now=NOW)
    assert send_due(now=NOW).failed == 1
    assert Delivery.objects.get(channel="sms").status == DeliveryStatus.FAILED


def test_exception_is_a_retryable_failure(
    world: Any, fake_backends: Any, platform_channels: Any
) -> None:
    def explode(message: OutgoingMessage) -> SendOutcome:
        raise ConnectionError("timed out")

    fake_backends("sms", explode)
    fake_backends("email")
    person = sms_person(world)
    person.email = "guard@example.com"
    person.save()
    services.preference_set(user=person, channels=["sms", "email"])
    notify(recipients=[person], kind="k", title="t", now=NOW)
    report = send_due(now=NOW)
    assert (report.retried, report.sent) == (1, 1)  # the other channel went out regardless
    delivery = Delivery.objects.get(channel="sms")
    assert "ConnectionError: timed out" in delivery.last_error
    assert delivery.next_attempt_at == NOW + 30 * S


def test_missing_settings_address_or_backend_are_skipped_with_reason(
    world: Any, fake_backends: Any
) -> None:
    fake_backends("sms")
    fake_backends("email")
    person = world.user("resident")  # no email address
    NotificationPreference.objects.create(user=person, channels=["inbox", "sms", "email", "voice"])
    ChannelConfig.objects.create(channel="email", name="mail")
    notify(recipients=[person], kind="k", title="t", now=NOW)
    report = send_due(now=NOW)
    assert report.skipped == 3
    reasons = dict(Delivery.objects.exclude(channel="inbox").values_list("channel", "last_error"))
    assert reasons["sms"] == "channel not set up"
    assert reasons["email"] == "no address"
    assert reasons["voice"] in {"channel not available", "channel not set up"}
    assert set(Delivery.objects.exclude(channel="inbox").values_list("status", flat=True)) == {
        "skipped"
    }


def test_group_robot_rate_limit_leaves_the_rest_queued(world: Any, fake_backends: Any) -> None:
    robot_backend = fake_backends("wecom")
    robot = ChannelConfig.objects.create(
        community=world.a.community, channel="wecom", name="r", rate_per_minute=2
    )
    for number in range(5):
        notify(recipients=[], kind="k", title=str(number), community=world.a.community, now=NOW)
    report = send_due(now=NOW)
    assert (report.sent, report.deferred) == (2, 3)
    waiting = Delivery.objects.filter(config=robot, status="queued")
    assert {d.next_attempt_at for d in waiting} == {NOW + 60 * S}
    assert send_due(now=NOW + 30 * S).handled == 0
    assert send_due(now=NOW + 60 * S).sent == 2
    assert send_due(now=NOW + 120 * S).sent == 1
    assert [m.title for m, _settings in robot_backend.calls] == ["0", "1", "2", "3", "4"]


def test_slow_channel_does_not_hold_up_another(
    world: Any, fake_backends: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    elapsed = [0.0]
    order: list[str] = []

    def slow(message: OutgoingMessage) -> SendOutcome:
        elapsed[0] += 6.0  # every call takes 6 s of the 10 s budget
        order.append("slow")
        return SendOutcome(status="sent")

    def fast(message: OutgoingMessage) -> SendOutcome:
        order.append("fast")
        return SendOutcome(status="sent")

    fake_backends("wecom", slow)
    fake_backends("webhook", fast)
    community = world.a.community
    ChannelConfig.objects.create(community=community, channel="wecom", name="slow")
    ChannelConfig.objects.create(community=community, channel="webhook", name="fast")
    for number in range(4):
        notify(recipients=[], kind="k", title=str(number), community=community, now=NOW)
    report = send_due(now=NOW, clock=lambda: elapsed[0])
    # Channels take turns; the slow one stops after its budget, the fast one finishes.
    assert order == ["slow", "fast", "slow", "fast", "fast", "fast"]
    assert report.sent == 6
    assert report.deferred == 2
    waiting = Delivery.objects.filter(channel="wecom", status="queued")
    assert [d.next_attempt_at for d in waiting] == [NOW, NOW]
    assert not Delivery.objects.filter(channel="webhook", status="queued").exists()


def test_each_channel_gets_at_most_its_share_per_pass(
    world: Any, fake_backends: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending, "PER_CHANNEL", 2)
    fake_backends("wecom")
    fake_backends("webhook")
    community = world.a.community
    ChannelConfig.objects.create(community=community, channel="wecom", name="a")
    ChannelConfig.objects.create(community=community, channel="webhook", name="b")
    for number in range(3):
        notify(recipients=[], kind="k", title=str(number), community=community, now=NOW)
    assert send_due(now=NOW).sent == 4
    assert send_due(now=NOW).sent == 2


def test_claimed_rows_are_leased(world: Any, fake_backends: Any) -> None:
    community = world.a.community
    ChannelConfig.objects.create(community=community, channel="wecom", name="a")
    notify(recipients=[], kind="k", title="t", community=community, now=NOW)
    claimed = sending._claim(NOW, 10)
    assert len(claimed) == 1
    # A sender that died mid-send leaves the row leased; it comes back after the lease.
    assert sending._claim(NOW + S, 10) == []
    assert len(sending._claim(NOW + sending.LEASE, 10)) == 1


@pytest.mark.django_db(transaction=True)
def test_second_sender_skips_rows_locked_by_the_first(world: Any, fake_backends: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite runs one sender")
    backend = fake_backends("wecom")
    community = world.a.community
    ChannelConfig.objects.create(community=community, channel="wecom", name="a")
    for number in range(3):
        notify(recipients=[], kind="k", title=str(number), community=community, now=NOW)
    first_id = Delivery.objects.order_by("pk").values_list("pk", flat=True)[0]
    locked = threading.Event()
    release = threading.Event()

    def other_sender() -> None:
        # Another worker in the middle of claiming: it holds the first row's lock.
        try:
            with transaction.atomic():
                list(Delivery.objects.select_for_update().filter(pk=first_id))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_sender)
    thread.start()
    try:
        assert locked.wait(10)
        report = send_due(now=NOW)
    finally:
        release.set()
        thread.join()
    assert report.sent == 2
    assert first_id not in {message.delivery_id for message, _settings in backend.calls}
    assert Delivery.objects.get(pk=first_id).status == DeliveryStatus.QUEUED


def test_sender_thread_keeps_going_after_a_failure_and_stops() -> None:
    calls: list[int] = []

    def send() -> sending.SendReport:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return sending.SendReport(sent=1)

    sender = sending.SenderThread(interval=0.01, send=send)
    sender.start()
    deadline = threading.Event()
    for _ in range(500):
        if len(calls) >= 4:
            break
        deadline.wait(0.01)
    sender.stop(timeout=5)
    assert not sender.is_alive()
    assert len(calls) >= 4
    assert sender.failures == 1


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_sender_in_its_own_thread_and_stops_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from anwang.events import worker as worker_module

    passes: list[str] = []
    started: list[sending.SenderThread] = []

    class RecordingSender(sending.SenderThread):
        def __init__(self, *, interval: float, send: object = None) -> None:
            super().__init__(interval=interval, send=self._record)
            started.append(self)

        def _record(self) -> sending.SendReport:
            passes.append(threading.current_thread().name)
            return sending.SendReport()

    monkeypatch.setattr(worker_module, "SenderThread", RecordingSender)
    worker = worker_module.EventWorker(client_id="test-sender", send_seconds=0.01)

    async def main() -> None:
        task = asyncio.create_task(worker.run())
        for _ in range(500):
            if len(passes) >= 3:
                break
            await asyncio.sleep(0.01)
        worker.stop()
        await task

    asyncio.run(main())
    assert len(passes) >= 3
    assert set(passes) == {"anwang-sender"}  # never the worker's database thread
    assert started
    assert not started[0].is_alive()
    assert worker.sender is None

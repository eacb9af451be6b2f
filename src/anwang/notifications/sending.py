"""The sender: the worker's loop over the outbox.

:func:`send_due` claims queued deliveries whose time has come, in a short transaction (with
``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never claim one delivery;
claimed rows are leased for :data:`LEASE` so a crashed sender's rows come back), then calls
each channel's backend outside any transaction and records what happened:

- sent or delivered: done;
- a failure the channel may recover from (or any exception of the backend): tried again after
  30 s, 1 min, 2 min... (doubling, at most 1 h), and failed for good after
  :data:`MAX_ATTEMPTS` attempts with the last error;
- a failure trying again cannot help (``retry=False``): failed at once;
- no backend, no settings or no address: not sent, with the reason.

Channels take turns (round robin), each gets at most :data:`PER_CHANNEL` deliveries and
:data:`CHANNEL_BUDGET_SECONDS` of backend time per pass, so a slow or failing channel never
holds up the others; per-channel rate limits leave the excess queued until the minute frees.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    backend_for,
)
from anwang.notifications.choices import PERSONAL_CHANNELS, Channel, DeliveryStatus
from anwang.notifications.models import ChannelConfig, Delivery, NotificationPreference

log = logging.getLogger("anwang.notifications")

MAX_ATTEMPTS = 8
"""Attempts before a delivery fails for good."""
FIRST_RETRY = dt.timedelta(seconds=30)
"""Wait after the first failure; doubled after each further one."""
LONGEST_RETRY = dt.timedelta(hours=1)
"""Longest wait between two attempts."""
LEASE = dt.timedelta(minutes=10)
"""How long a claimed delivery stays with the sender that claimed it; if that sender dies
mid-send, the delivery is tried again after this."""
PER_CHANNEL = 50
"""Most deliveries of one channel per pass."""
CHANNEL_BUDGET_SECONDS = 10.0
"""Backend time one channel may use per pass; the rest of its deliveries wait for the next."""
RATE_WINDOW = dt.timedelta(minutes=1)

_PERSONAL = {c.value for c in PERSONAL_CHANNELS}


@dataclass
class SendReport:
    """What one pass did."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Deliveries taken from the queue this pass."""
        return self.sent + self.failed + self.retried + self.skipped


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min... 1 h."""
    wait: dt.timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(wait, LONGEST_RETRY)


def _claim(now: dt.datetime, limit: int) -> list[Delivery]:
    """Take due deliveries (at most :data:`PER_CHANNEL` per channel) and lease them."""
    due = Delivery.objects.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
    claimed: list[int] = []
    if not due.exists():
        # The usual case, answered without opening a transaction.
        return []
    with transaction.atomic():
        channels = list(due.values_list("channel", flat=True).distinct().order_by("channel"))
        for channel in channels:
            room = min(PER_CHANNEL, limit - len(claimed))
            if room <= 0:
                break
            rows = due.filter(channel=channel).order_by("next_attempt_at", "pk")
            if connection.features.has_select_for_update_skip_locked:
                # PostgreSQL: rows another sender holds are passed over, not waited for.
                rows = rows.select_for_update(skip_locked=True)
            claimed.extend(rows.values_list("pk", flat=True)[:room])
        if claimed:
            Delivery.objects.filter(pk__in=claimed).update(next_attempt_at=now + LEASE)
    return list(
        Delivery.objects.filter(pk__in=claimed)
        .select_related("notification", "recipient", "resident", "emergency_contact", "config")
        .order_by("next_attempt_at", "pk")
    )


def personal_channel_config(channel: str, community_id: int | None) -> ChannelConfig | None:
    """The setting a personal channel (SMS, calls, email, WeChat, push) uses for a message of
    a community: the community's enabled one, else the platform-wide one."""
    candidates = ChannelConfig.objects.filter(channel=channel, is_enabled=True)
    return (
        candidates.filter(community_id=community_id).order_by("pk").first()
        if community_id
        else None
    ) or candidates.filter(community__isnull=True).order_by("pk").first()


def _settings_for(delivery: Delivery) -> ChannelSettings | str:
    """The channel settings of a delivery, or why there are none."""
    if delivery.channel == Channel.INBOX:
        return ChannelSettings(config_id=None)
    config = delivery.config
    if config is None and delivery.channel in _PERSONAL:
        config = personal_channel_config(delivery.channel, delivery.notification.community_id)
    if config is None:
        return "channel not set up"
    if not config.is_enabled:
        return "channel switched off"
    delivery.config = config
    return ChannelSettings(
        config_id=config.pk, settings=dict(config.settings), secret=config.secret
    )


def _address_for(delivery: Delivery) -> str | None:
    """The recipient's address on the channel ('' for groups), ``None`` when missing."""
    user = delivery.recipient
    if delivery.channel not in _PERSONAL or delivery.channel == Channel.INBOX:
        return ""
    if user is None:
        if delivery.channel not in (Channel.SMS, Channel.VOICE):
            return None
        if delivery.resident is not None:
            return delivery.resident.phone or None
        if delivery.emergency_contact is not None:
            return delivery.emergency_contact.phone or None
        return None
    if delivery.channel == Channel.EMAIL:
        return user.email or None
    if delivery.channel == Channel.WEB_PUSH:
        # The web push backend finds the person's browser subscriptions itself.
        return str(user.pk)
    preference = NotificationPreference.objects.filter(user=user).first()
    if delivery.channel in (Channel.SMS, Channel.VOICE):
        return (preference.phone if preference else "") or None
    if delivery.channel == Channel.WECHAT:
        return (preference.wechat_openid if preference else "") or None
    return None


def _absolute(url: str) -> str:
    if not url or "://" in url:
        return url
    base = getattr(django_settings, "ANWANG_PUBLIC_URL", "")
    return f"{base}{url}" if base and url.startswith("/") else url


def _message(delivery: Delivery, address: str) -> OutgoingMessage:
    notification = delivery.notification
    recipient = delivery.recipient
    named = delivery.resident or delivery.emergency_contact
    return OutgoingMessage(
        delivery_id=delivery.pk,
        notification_id=notification.pk,
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        url=_absolute(notification.url),
        priority=notification.priority,
        urgent=notification.urgent,
        needs_confirmation=notification.needs_confirmation,
        data=dict(notification.data),
        community_id=notification.community_id,
        address=address,
        recipient_id=recipient.pk if recipient else None,
        recipient_name=str(recipient) if recipient else (named.name if named else ""),
        language=(getattr(recipient, "language", "") or "zh-hans") if recipient else "zh-hans",
    )


def _rate_key(delivery: Delivery) -> tuple[str, int | None]:
    # Personal channels are limited per channel (one provider account), others per setting.
    if delivery.channel in _PERSONAL:
        return (delivery.channel, None)
    return (delivery.channel, delivery.config_id)


def _window_free_at(delivery: Delivery, now: dt.datetime, limit: int) -> dt.datetime | None:
    """``None`` if one more message fits the channel's rate, else when the window frees."""
    sent = Delivery.objects.filter(sent_at__gt=now - RATE_WINDOW, sent_at__lte=now)
    if delivery.channel in _PERSONAL:
        sent = sent.filter(channel=delivery.channel)
    else:
        sent = sent.filter(config_id=delivery.config_id)
    if sent.count() < limit:
        return None
    oldest = sent.aggregate(oldest=Min("sent_at"))["oldest"]
    return (oldest or now) + RATE_WINDOW


def _finish(delivery: Delivery, **values: object) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(**values)


def _record(delivery: Delivery, outcome: SendOutcome, now: dt.datetime, report: SendReport) -> None:
    attempts = delivery.attempts + 1
    if outcome.status in ("sent", "delivered"):
        report.sent += 1
        _finish(
            delivery,
            status=DeliveryStatus.DELIVERED
            if outcome.status == "delivered"
            else DeliveryStatus.SENT,
            attempts=attempts,
            sent_at=now,
            delivered_at=now if outcome.status == "delivered" else None,
            provider_id=outcome.provider_id[:200],
            last_error="",
            next_attempt_at=None,
            config=delivery.config,
        )
        return
    error = outcome.error or "failed"
    if not outcome.retry or attempts >= MAX_ATTEMPTS:
        report.failed += 1
        _finish(
            delivery,
            status=DeliveryStatus.FAILED,
            attempts=attempts,
            last_error=error,
            next_attempt_at=None,
            config=delivery.config,
        )
        return
    report.retried += 1
    _finish(
        delivery,
        attempts=attempts,
        last_error=error,
        next_attempt_at=now + backoff(attempts),
        config=delivery.config,
    )


def _round_robin(deliveries: list[Delivery]) -> list[Delivery]:
    """Deliveries with the channels taking turns, so no channel waits behind another."""
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_channel[delivery.channel].append(delivery)
    turns = itertools.zip_longest(*by_channel.values())
    return [delivery for turn in turns for delivery in turn if delivery is not None]


def send_due(
    *,
    now: dt.datetime | None = None,
    limit: int = 200,
    clock: Callable[[], float] = time.monotonic,
) -> SendReport:
    """Send the deliveries that are due; ``clock`` measures the backends' time (tests pass a
    fake one)."""
    now = now or timezone.now()
    report = SendReport()
    spent: dict[str, float] = defaultdict(float)
    held: dict[tuple[str, int | None], dt.datetime] = {}
    for delivery in _round_robin(_claim(now, limit)):
        if spent[delivery.channel] >= CHANNEL_BUDGET_SECONDS:
            # This channel used its time for this pass; the next pass continues.
            _finish(delivery, next_attempt_at=now)
            report.deferred += 1
            continue
        backend = backend_for(delivery.channel)
        if backend is None:
            report.skipped += 1
            _finish(delivery, status=DeliveryStatus.SKIPPED, last_error="channel not available")
            continue
        channel_settings = _settings_for(delivery)
        if isinstance(channel_settings, str):
            report.skipped += 1
            _finish(delivery, status=DeliveryStatus.SKIPPED, last_error=channel_settings)
            continue
        address = _address_for(delivery)
        if address is None:
            report.skipped += 1
            _finish(delivery, status=DeliveryStatus.SKIPPED, last_error="no address")
            continue
        key = _rate_key(delivery)
        if key in held:
            _finish(delivery, next_attempt_at=held[key])
            report.deferred += 1
            continue
        if delivery.config is not None and delivery.channel != Channel.INBOX:
            free_at = _window_free_at(delivery, now, delivery.config.rate_per_minute)
            if free_at is not None:
                held[key] = free_at
                _finish(delivery, next_attempt_at=free_at)
                report.deferred += 1
                continue
        started = clock()
        try:
            outcome = backend.send(_message(delivery, address), channel_settings)
        except Exception as error:  # a backend bug or an unexpected failure: retry later
            log.warning("Channel %s raised: %s", delivery.channel, error)
            outcome = SendOutcome(status="failed", error=f"{type(error).__name__}: {error}")
        finally:
            spent[delivery.channel] += clock() - started
        if outcome.error:
            report.errors.append(f"{delivery.channel}: {outcome.error}")
        _record(delivery, outcome, now, report)
    return report


def queued_due_count(now: dt.datetime | None = None) -> int:
    """Deliveries waiting to be sent now (for health pages)."""
    now = now or timezone.now()
    return Delivery.objects.filter(
        Q(status=DeliveryStatus.QUEUED) & Q(next_attempt_at__lte=now)
    ).count()


SEND_SECONDS = 1.0
"""How often the worker's sender looks for due deliveries."""


class SenderThread(threading.Thread):
    """Runs :func:`send_due` every ``interval`` seconds in a thread of its own, with its own
    database connection, so slow channels (network I/O) never delay event ingestion on the
    worker's database thread. :meth:`stop` ends it after the pass in hand."""

    def __init__(
        self, *, interval: float = SEND_SECONDS, send: Callable[[], SendReport] | None = None
    ) -> None:
        super().__init__(name="anwang-sender", daemon=True)
        self.interval = interval
        self.passes = 0
        self.failures = 0
        self._send = send or (lambda: send_due())
        self._stopping = threading.Event()

    def run(self) -> None:
        """Send until stopped; a failed pass is logged and the next one tries again."""
        try:
            # Wait one interval first: the worker's own start-up comes before the outbox.
            while not self._stopping.wait(self.interval):
                try:
                    report = self._send()
                    if report.handled:
                        log.info(
                            "Sent %d, failed %d, retrying %d, not sent %d",
                            report.sent,
                            report.failed,
                            report.retried,
                            report.skipped,
                        )
                except Exception as error:  # the next pass tries again, on a fresh connection
                    self.failures += 1
                    log.warning("Sending notifications failed: %s", error)
                    connection.close()
                self.passes += 1
        finally:
            # This thread's connection is its own: close it, or it leaks until exit.
            connection.close()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the pass in hand and wait for the thread to end."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)

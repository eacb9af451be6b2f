"""The outbox writes: notify (preferences, quiet hours, group robots, transactions), the
inbox (read, confirm), preferences and channel settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from anwang.audit.models import AuditEvent
from anwang.core.errors import ServiceError
from anwang.notifications import selectors, services
from anwang.notifications.choices import DeliveryStatus
from anwang.notifications.models import ChannelConfig, Delivery, Notification
from anwang.notifications.services import in_quiet_hours, notify
from anwang.notifications.tests.conftest import NOW

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def local(hour: int, minute: int = 0, day: int = 6) -> dt.datetime:
    """A wall-clock time in Shanghai, as an aware datetime."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def by_channel(notification: Notification) -> dict[str, Delivery]:
    return {d.channel: d for d in notification.deliveries.all()}


class TestNotify:
    def test_default_channels_inbox_sent_at_once(self, world: Any) -> None:
        person = world.user("resident")
        notification = notify(
            recipients=[person], kind="hazard.assigned", title="翠苑 隐患", now=NOW
        )
        deliveries = by_channel(notification)
        assert set(deliveries) == {"inbox", "web_push"}
        assert deliveries["inbox"].status == DeliveryStatus.SENT
        assert deliveries["inbox"].sent_at == NOW
        assert deliveries["web_push"].status == DeliveryStatus.QUEUED
        assert deliveries["web_push"].next_attempt_at == NOW

    def test_rows_roll_back_with_the_callers_transaction(self, world: Any) -> None:
        def change_that_fails() -> None:
            with transaction.atomic():
                notify(recipients=[world.user("resident")], kind="x", title="t", now=NOW)
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):
            change_that_fails()
        assert not Notification.objects.exists()
        assert not Delivery.objects.exists()

    def test_chosen_channels_narrowed_and_inbox_always(self, world: Any) -> None:
        person = world.user("operator")
        services.preference_set(user=person, channels=["email", "sms"], phone="13800138000")
        notification = notify(recipients=[person, person], kind="k", title="t", now=NOW)
        assert sorted(by_channel(notification)) == ["email", "inbox", "sms"]
        assert notification.deliveries.count() == 3  # the same person twice counts once
        narrowed = notify(recipients=[person], kind="k", title="t", channels=["sms"], now=NOW)
        assert sorted(by_channel(narrowed)) == ["inbox", "sms"]

    def test_quiet_hours_spanning_midnight_defer_all_but_inbox(self, world: Any) -> None:
        person = world.user("guard")
        services.preference_set(
            user=person,
            channels=["sms"],
            phone="13800138000",
            quiet_start=dt.time(22, 0),
            quiet_end=dt.time(7, 0),
        )
        late = local(23, 30)
        deliveries = by_channel(notify(recipients=[person], kind="k", title="t", now=late))
        assert deliveries["sms"].next_attempt_at == local(7, 0, day=7)
        assert deliveries["inbox"].status == DeliveryStatus.SENT
        early = local(6, 15)
        deliveries = by_channel(notify(recipients=[person], kind="k", title="t", now=early))
        assert deliveries["sms"].next_attempt_at == local(7, 0)
        daytime = local(12, 0)
        deliveries = by_channel(notify(recipients=[person], kind="k", title="t", now=daytime))
        assert deliveries["sms"].next_attempt_at == daytime

    def test_urgent_ignores_quiet_hours(self, world: Any) -> None:
        person = world.user("guard")
        services.preference_set(
            user=person,
            channels=["sms"],
            phone="13800138000",
            quiet_start=dt.time(22, 0),
            quiet_end=dt.time(7, 0),
        )
        late = local(23, 30)
        notification = notify(recipients=[person], kind="alarm", title="P1", urgent=True, now=late)
        assert by_channel(notification)["sms"].next_attempt_at == late

    def test_quiet_hours_within_one_day(self) -> None:
        assert in_quiet_hours(local(13, 0), dt.time(12), dt.time(14)) == local(14, 0)
        assert in_quiet_hours(local(14, 0), dt.time(12), dt.time(14)) is None
        assert in_quiet_hours(local(13, 0), None, None) is None
        assert in_quiet_hours(local(22, 0), dt.time(22), dt.time(7)) == local(7, 0, day=7)

    def test_group_robots_chosen_by_kind_and_priority(self, world: Any) -> None:
        community = world.a.community
        every = ChannelConfig.objects.create(community=community, channel="wecom", name="翠苑 all")
        alarms = ChannelConfig.objects.create(
            community=community, channel="dingtalk", name="alarms", kinds=["alarm.escalated"]
        )
        p1_only = ChannelConfig.objects.create(
            community=community, channel="feishu", name="p1", max_priority=1
        )
        ChannelConfig.objects.create(
            community=community, channel="webhook", name="off", is_enabled=False
        )
        ChannelConfig.objects.create(community=world.b.community, channel="wecom", name="other")
        notification = notify(
            recipients=[],
            kind="hazard.assigned",
            title="t",
            community=community,
            priority=2,
            now=NOW,
        )
        assert [d.config for d in notification.deliveries.all()] == [every]
        notification = notify(
            recipients=[],
            kind="alarm.escalated",
            title="t",
            community=community,
            priority=1,
            now=NOW,
        )
        assert {d.config for d in notification.deliveries.all()} == {every, alarms, p1_only}
        assert all(d.recipient is None for d in notification.deliveries.all())

    def test_source_and_data_kept(self, world: Any) -> None:
        source = world.a.zone
        notification = notify(
            recipients=[],
            kind="k",
            title="t",
            source=source,
            data={"confirm_label": "我平安"},
            now=NOW,
        )
        assert (notification.source_type, notification.source_id) == ("places.zone", str(source.pk))
        assert notification.data == {"confirm_label": "我平安"}


class TestInbox:
    def test_mark_read_one_and_all(self, world: Any) -> None:
        person = world.user("resident")
        first = notify(recipients=[person], kind="k", title="1", now=NOW)
        notify(recipients=[person], kind="k", title="2", now=NOW)
        notify(recipients=[world.user("guard")], kind="k", title="other", now=NOW)
        assert selectors.unread_count(person) == 2
        inbox_delivery = first.deliveries.get(channel="inbox")
        assert services.mark_read(user=person, delivery_ids=[inbox_delivery.pk], now=NOW) == 1
        inbox_delivery.refresh_from_db()
        assert inbox_delivery.status == DeliveryStatus.READ
        assert selectors.unread_count(person) == 1
        assert services.mark_read(user=person, now=NOW) == 1
        assert selectors.unread_count(person) == 0
        assert selectors.unread_count(world.user("guard")) == 1

    def test_confirm(self, world: Any) -> None:
        person = world.user("resident")
        asking = notify(recipients=[person], kind="k", title="t", needs_confirmation=True, now=NOW)
        services.confirm(user=person, notification=asking, now=NOW)
        delivery = asking.deliveries.get(channel="inbox")
        assert delivery.status == DeliveryStatus.CONFIRMED
        assert delivery.confirmed_at == NOW
        assert delivery.read_at == NOW
        assert AuditEvent.objects.filter(action="notification.confirm").exists()
        with pytest.raises(ServiceError):
            services.confirm(user=world.user("guard"), notification=asking)
        plain = notify(recipients=[person], kind="k", title="t", now=NOW)
        with pytest.raises(ServiceError):
            services.confirm(user=person, notification=plain)

    def test_notification_of_someone_else_is_404(self, world: Any) -> None:
        notification = notify(recipients=[world.user("resident")], kind="k", title="t", now=NOW)
        with pytest.raises(Http404):
            selectors.notification_for(world.user("guard"), notification.pk)


class TestPreferences:
    def test_phone_validated(self, world: Any) -> None:
        person = world.user("resident")
        with pytest.raises(ServiceError) as error:
            services.preference_set(user=person, phone="12345")
        assert error.value.field == "phone"
        preference = services.preference_set(user=person, phone="+86 138-0013-8000")
        assert preference.phone == "13800138000"

    def test_unknown_channel_and_missing_address_refused(self, world: Any) -> None:
        person = world.user("resident")
        with pytest.raises(ServiceError) as error:
            services.preference_set(user=person, channels=["wecom"])
        assert error.value.field == "channels"
        with pytest.raises(ServiceError) as error:
            services.preference_set(user=person, channels=["sms"])
        assert error.value.field == "phone"
        with pytest.raises(ServiceError):
            services.preference_set(user=person, quiet_start=dt.time(22))

    def test_inbox_always_kept(self, world: Any) -> None:
        preference = services.preference_set(user=world.user("resident"), channels=["email"])
        assert preference.channels == ["inbox", "email"]


class TestChannelConfigs:
    def test_create_update_delete_audited_secret_never_logged(self, world: Any) -> None:
        admin = world.user("community_admin")
        config = services.channel_config_create(
            actor=admin,
            community=world.a.community,
            channel="wecom",
            name="翠苑 群",
            settings={"webhook_url": "https://example.com"},
            secret="KEY-123",
        )
        services.channel_config_update(actor=admin, config=config, name="new", secret="")
        config.refresh_from_db()
        assert config.secret == "KEY-123"  # an empty secret keeps the stored one
        services.channel_config_update(actor=admin, config=config, secret="KEY-456")
        config.refresh_from_db()
        assert config.secret == "KEY-456"
        services.channel_config_delete(actor=admin, config=config)
        entries = AuditEvent.objects.filter(action__startswith="channel_config.")
        assert entries.count() == 4
        assert not any("KEY-" in str(entry.changes) for entry in entries)

    def test_bad_values_refused(self, world: Any) -> None:
        admin = world.user("community_admin")
        for values, field in (
            ({"channel": "inbox"}, "channel"),
            ({"channel": "nope"}, "channel"),
            ({"max_priority": 9}, "max_priority"),
            ({"rate_per_minute": 0}, "rate_per_minute"),
        ):
            arguments: dict[str, Any] = {"channel": "wecom", "name": "n", **values}
            with pytest.raises(ServiceError) as error:
                services.channel_config_create(
                    actor=admin, community=world.a.community, **arguments
                )
            assert error.value.field == field
        assert not ChannelConfig.objects.exists()

    def test_only_channel_managers(self, world: Any) -> None:
        with pytest.raises(PermissionDenied):
            services.channel_config_create(
                actor=world.user("operator"),
                community=world.a.community,
                channel="wecom",
                name="n",
            )
        with pytest.raises(Http404):
            services.channel_config_create(
                actor=world.user("community_admin", "b"),
                community=world.a.community,
                channel="wecom",
                name="n",
            )

    def test_channel_test_queues_one_delivery(self, world: Any) -> None:
        admin = world.user("community_admin")
        robot = ChannelConfig.objects.create(community=world.a.community, channel="wecom", name="r")
        notification = services.channel_test(actor=admin, config=robot, now=NOW)
        delivery = notification.deliveries.get()
        assert (delivery.config, delivery.recipient, delivery.status) == (robot, None, "queued")
        mail = ChannelConfig.objects.create(community=world.a.community, channel="email", name="m")
        personal = services.channel_test(actor=admin, config=mail, now=NOW).deliveries.get()
        assert personal.recipient == admin
        assert personal.config == mail

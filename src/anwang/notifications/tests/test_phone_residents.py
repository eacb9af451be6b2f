"""Residents without an account, reached on the phone number the community registered for them
(safety alerts): :func:`notify` queues SMS and calls for them only where the message names
those channels, and the sender sends to their number, here against the local SMS gateway of
tests/http_peer.py."""

from __future__ import annotations

from typing import Any

import pytest
from tests.http_peer import HttpPeer, http_peer, template_gateway

from anwang.notifications.choices import DeliveryStatus
from anwang.notifications.models import ChannelConfig, Delivery
from anwang.notifications.sending import send_due
from anwang.notifications.services import notify
from anwang.notifications.tests.conftest import NOW
from anwang.people.models import EmergencyContact, Resident

__all__ = ["http_peer"]  # the fixture, imported to be used

pytestmark = pytest.mark.django_db


def resident(world: Any, name: str = "翠苑赵六", phone: str = "13700001111") -> Resident:
    return Resident.objects.create(community=world.a.community, name=name, phone=phone)


def queued(channels: Any, residents: list[Resident], world: Any, **extra: Any) -> list[Any]:
    notification = notify(
        recipients=[],
        residents_by_phone=residents,
        kind="alert",
        title="翠苑台风预警",
        body="今晚台风过境。",
        community=world.a.community,
        channels=channels,
        now=NOW,
        **extra,
    )
    return list(
        Delivery.objects.filter(notification=notification)
        .order_by("resident_id", "channel")
        .values_list("resident__name", "channel", "recipient_id", "next_attempt_at")
    )


@pytest.mark.parametrize("channels", [None, [], ["inbox"], ["web_push", "wechat", "email"]])
def test_no_delivery_unless_sms_or_voice_is_named(world: Any, channels: Any) -> None:
    assert queued(channels, [resident(world)], world) == []


def test_sms_and_calls_where_named(world: Any) -> None:
    zhao, qian = resident(world), resident(world, "翠苑钱七", "13700002222")
    assert queued(["sms"], [zhao, qian], world) == [
        ("翠苑赵六", "sms", None, NOW),
        ("翠苑钱七", "sms", None, NOW),
    ]
    Delivery.objects.all().delete()
    assert queued(["sms", "voice", "web_push"], [zhao], world) == [
        ("翠苑赵六", "sms", None, NOW),
        ("翠苑赵六", "voice", None, NOW),
    ]


def test_phone_deliveries_go_with_people_and_groups(world: Any) -> None:
    person = world.user("guard")
    notification = notify(
        recipients=[person],
        residents_by_phone=[resident(world)],
        kind="alert",
        title="翠苑台风预警",
        community=world.a.community,
        channels=["sms"],
        urgent=True,
        now=NOW,
    )
    rows = set(
        Delivery.objects.filter(notification=notification).values_list(
            "recipient__username", "resident__name", "channel"
        )
    )
    # The guard never chose SMS: only the inbox for them.
    assert rows == {("a_guard", None, "inbox"), (None, "翠苑赵六", "sms")}


SMS_SETTINGS = {"sign_name": "安网社区", "templates": {"default": "SMS_DEFAULT"}}


@pytest.fixture
def sms_gateway(world: Any, http_peer: HttpPeer) -> HttpPeer:
    """The community's SMS gateway, played by the local peer."""
    http_peer.route("/sms", template_gateway("api-key"))
    ChannelConfig.objects.create(
        community=world.a.community,
        channel="sms",
        name="翠苑短信",
        settings={"url": http_peer.url("/sms"), **SMS_SETTINGS},
        secret="api-key",
    )
    return http_peer


def test_sender_texts_the_registered_number(world: Any, sms_gateway: HttpPeer) -> None:
    queued(["sms"], [resident(world)], world)
    report = send_due(now=NOW)
    assert (report.sent, report.failed, report.skipped) == (1, 0, 0)
    body = sms_gateway.requests[0].json()
    assert body["phone"] == "13700001111"
    assert body["template_id"] == "SMS_DEFAULT"
    assert body["params"]["title"] == "翠苑台风预警"
    assert body["sign_name"] == "安网社区"
    delivery = Delivery.objects.get(channel="sms")
    assert (delivery.status, delivery.provider_id, delivery.sent_at) == (
        DeliveryStatus.SENT,
        "msg-1",
        NOW,
    )


def test_number_is_read_when_sending(world: Any, sms_gateway: HttpPeer) -> None:
    zhao = resident(world)
    queued(["sms"], [zhao], world)
    # The community corrected the number after the message was queued.
    zhao.phone = "13900003333"
    zhao.save(update_fields=["phone"])
    send_due(now=NOW)
    assert sms_gateway.requests[0].json()["phone"] == "13900003333"


def test_resident_without_a_number_is_not_sent(world: Any, sms_gateway: HttpPeer) -> None:
    queued(["sms"], [resident(world, phone="")], world)
    report = send_due(now=NOW)
    assert report.skipped == 1
    delivery = Delivery.objects.get(channel="sms")
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.SKIPPED, "no address")
    assert sms_gateway.requests == []


def test_family_contact_is_texted_and_called_on_their_number(
    world: Any, sms_gateway: HttpPeer
) -> None:
    contact = EmergencyContact.objects.create(
        resident=resident(world), name="翠苑赵小六", relation="女儿", phone="13600004444"
    )
    notification = notify(
        recipients=[],
        contacts_by_phone=[contact],
        kind="welfare.escalated",
        title="翠苑关爱探访",
        community=world.a.community,
        channels=["sms", "voice"],
        urgent=True,
        now=NOW,
    )
    rows: set[tuple[Any, ...]] = set(
        Delivery.objects.filter(notification=notification).values_list(
            "emergency_contact__name", "resident_id", "recipient_id", "channel"
        )
    )
    assert rows == {("翠苑赵小六", None, None, "sms"), ("翠苑赵小六", None, None, "voice")}
    send_due(now=NOW)
    texts = [r.json() for r in sms_gateway.requests]
    assert [t["phone"] for t in texts] == ["13600004444"]

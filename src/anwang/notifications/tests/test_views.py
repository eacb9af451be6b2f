"""Pages of notifications: the inbox (unread bold, mark read, confirm with its label), the
unread badge in the header, preferences, channel settings (secret never shown) with a test
button, and the delivery report."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from anwang.notifications.models import ChannelConfig, Delivery, NotificationPreference
from anwang.notifications.services import notify

pytestmark = pytest.mark.django_db


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def test_inbox_page_read_and_confirm(world: Any) -> None:
    person = world.user("resident")
    asking = notify(
        recipients=[person],
        kind="k",
        title="翠苑 请报平安",
        url="/hazards/",
        needs_confirmation=True,
        data={"confirm_label": "我平安"},
    )
    notify(recipients=[person], kind="k", title="second")
    c = client(world, "resident")
    page = c.get("/notifications/").content.decode()
    assert page.count('data-testid="inbox-item"') == 2
    assert "<strong>" in page
    assert "我平安" in page
    assert 'href="/hazards/"' in page
    assert 'data-testid="unread-count">2<' in page
    delivery = asking.deliveries.get(channel="inbox")
    c.post("/notifications/read/", {"delivery": delivery.pk})
    delivery.refresh_from_db()
    assert delivery.read_at is not None
    response = c.post(f"/notifications/{asking.pk}/confirm/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.confirmed_at is not None
    c.post("/notifications/read/", {"all": "1"})
    page = c.get("/notifications/").content.decode()
    assert 'data-testid="unread-count"' not in page
    assert "<strong>" not in page


def test_unread_badge_on_other_pages_costs_one_query(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    notify(recipients=[world.user("community_admin")], kind="k", title="t")
    c = client(world)
    page = c.get("/notifications/preferences/").content.decode()
    assert 'data-testid="unread-count">1<' in page
    with django_assert_max_num_queries(15):
        c.get("/notifications/")


def test_preferences_page(world: Any) -> None:
    ChannelConfig.objects.create(channel="sms", name="platform sms")
    c = client(world, "resident")
    page = c.get("/notifications/preferences/").content.decode()
    assert 'value="sms"' in page
    assert 'value="email"' not in page
    bad = c.post("/notifications/preferences/", {"channels": ["sms"], "phone": "12"})
    assert bad.status_code == 400
    ok = c.post(
        "/notifications/preferences/",
        {"channels": ["sms"], "phone": "13800138000", "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    assert ok.status_code == 302
    preference = NotificationPreference.objects.get(user=world.user("resident"))
    assert preference.channels == ["inbox", "sms"]
    assert preference.phone == "13800138000"


def test_channel_pages_secret_write_only(world: Any) -> None:
    c = client(world)
    response = c.post(
        "/notifications/channels/new/",
        {
            "channel": "wecom",
            "name": "翠苑 值班群",
            "is_enabled": "on",
            "settings": '{"webhook_url": "https://x"}',
            "secret": "ROBOT-KEY",
            "kinds": "alarm.escalated, hazard.assigned",
            "max_priority": "2",
            "rate_per_minute": "20",
        },
    )
    assert response.status_code == 302, response.content.decode()
    config = ChannelConfig.objects.get()
    assert config.kinds == ["alarm.escalated", "hazard.assigned"]
    assert config.secret == "ROBOT-KEY"
    listing = c.get("/notifications/channels/").content.decode()
    assert "翠苑 值班群" in listing
    form = c.get(f"/notifications/channels/{config.pk}/").content.decode()
    assert "ROBOT-KEY" not in form
    assert 'data-testid="secret-set"' in form
    edited = c.post(
        f"/notifications/channels/{config.pk}/",
        {
            "name": "renamed",
            "is_enabled": "on",
            "settings": "{}",
            "secret": "",
            "kinds": "",
            "max_priority": "4",
            "rate_per_minute": "60",
        },
    )
    assert edited.status_code == 302, edited.content.decode()
    config.refresh_from_db()
    assert config.name == "renamed"
    assert config.secret == "ROBOT-KEY"
    assert (
        c.post(
            f"/notifications/channels/{config.pk}/",
            {"name": "x", "settings": "[1]", "max_priority": "4", "rate_per_minute": "60"},
        ).status_code
        == 400
    )
    c.post(f"/notifications/channels/{config.pk}/test/")
    assert Delivery.objects.filter(config=config, status="queued").count() == 1
    report = c.get("/notifications/deliveries/", {"status": "queued"}).content.decode()
    assert report.count("<tr>") == 2  # the header and the test message
    c.post(f"/notifications/channels/{config.pk}/delete/")
    assert not ChannelConfig.objects.exists()


def test_channel_pages_closed_to_others(world: Any) -> None:
    config = ChannelConfig.objects.create(community=world.a.community, channel="wecom", name="r")
    operator = client(world, "operator")
    assert operator.get("/notifications/channels/").status_code == 403
    assert operator.get(f"/notifications/channels/{config.pk}/").status_code == 403
    outsider = client(world, "community_admin", "b")
    assert outsider.get(f"/notifications/channels/{config.pk}/").status_code == 404
    assert outsider.post(f"/notifications/channels/{config.pk}/delete/").status_code == 404
    assert ChannelConfig.objects.filter(pk=config.pk).exists()

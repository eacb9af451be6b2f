"""The notifications API: the caller's inbox (paginated, unread only, read, confirm), their
preferences, channel settings (secret write-only) and the delivery report, with 404 outside
the community and 403 for members without MANAGE_CHANNELS."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from anwang.notifications.models import ChannelConfig, Delivery
from anwang.notifications.services import notify

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: Any = None) -> Any:
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def test_inbox_unread_count_read_and_confirm(world: Any) -> None:
    person = world.user("resident")
    first = notify(recipients=[person], kind="k", title="first")
    second = notify(
        recipients=[person],
        kind="k",
        title="second",
        needs_confirmation=True,
        data={"confirm_label": "我平安"},
    )
    notify(recipients=[world.user("guard")], kind="k", title="not mine")
    c = client(world, "resident")
    answer = c.get(f"{API}/notifications").json()
    assert answer["count"] == 2
    assert [item["title"] for item in answer["items"]] == ["second", "first"]
    assert answer["items"][0]["confirm_label"] == "我平安"
    assert c.get(f"{API}/notifications/unread-count").json() == {"unread": 2}
    first_id = first.deliveries.get(channel="inbox").pk
    assert send(c, "post", "/notifications/read", {"ids": [first_id]}).json() == {"marked": 1}
    unread = c.get(f"{API}/notifications", {"unread_only": True}).json()
    assert [item["title"] for item in unread["items"]] == ["second"]
    assert send(c, "post", f"/notifications/{second.pk}/confirm").status_code == 204
    assert second.deliveries.get(channel="inbox").confirmed_at is not None
    assert send(c, "post", f"/notifications/{first.pk}/confirm").status_code == 400
    other = client(world, "guard")
    assert send(other, "post", f"/notifications/{second.pk}/confirm").status_code == 404
    assert send(c, "post", "/notifications/read", {"all": True}).json() == {"marked": 0}


def test_inbox_needs_login() -> None:
    assert Client().get(f"{API}/notifications").status_code in (401, 403)


def test_preferences(world: Any) -> None:
    ChannelConfig.objects.create(channel="sms", name="platform sms")
    c = client(world, "resident")
    answer = c.get(f"{API}/notification-preferences").json()
    assert answer["channels"] == ["inbox", "web_push"]
    assert answer["channels_offered"] == ["inbox", "sms"]
    bad = send(c, "put", "/notification-preferences", {"channels": ["sms"], "phone": "123"})
    assert bad.status_code == 400
    ok = send(
        c,
        "put",
        "/notification-preferences",
        {"channels": ["sms"], "phone": "13800138000", "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["channels"] == ["inbox", "sms"]
    assert ok.json()["quiet_end"] == "07:00:00"


def test_channel_configs_crud_secret_write_only(world: Any) -> None:
    c = client(world)
    community = world.a.community.pk
    created = send(
        c,
        "post",
        f"/communities/{community}/channel-configs",
        {
            "channel": "wecom",
            "name": "翠苑 值班群",
            "settings": {"webhook_url": "https://x"},
            "secret": "ROBOT-KEY",
        },
    )
    assert created.status_code == 201, created.content
    config = created.json()
    assert config["secret_set"] is True
    assert "ROBOT-KEY" not in created.content.decode()
    url = f"/channel-configs/{config['id']}"
    listed = c.get(f"{API}/communities/{community}/channel-configs")
    assert [item["name"] for item in listed.json()] == ["翠苑 值班群"]
    assert "ROBOT-KEY" not in listed.content.decode()
    patched = send(c, "patch", url, {"name": "renamed", "max_priority": 1})
    assert patched.json()["name"] == "renamed"
    assert patched.json()["max_priority"] == 1
    assert ChannelConfig.objects.get().secret == "ROBOT-KEY"
    assert send(c, "patch", url, {"rate_per_minute": 0}).status_code == 400
    tested = send(c, "post", f"{url}/test")
    assert tested.status_code == 202
    assert Delivery.objects.filter(pk__in=tested.json()["delivery_ids"], channel="wecom").exists()
    report = c.get(f"{API}/communities/{community}/deliveries", {"channel": "wecom"}).json()
    assert report["count"] == 1
    assert report["items"][0]["status"] == "queued"
    assert send(c, "delete", url).status_code == 204
    assert not ChannelConfig.objects.exists()


def test_channel_configs_scoping(world: Any) -> None:
    config = ChannelConfig.objects.create(
        community=world.a.community, channel="wecom", name="翠苑 群", secret="S"
    )
    community = world.a.community.pk
    operator = client(world, "operator")
    assert operator.get(f"{API}/communities/{community}/channel-configs").status_code == 403
    assert operator.get(f"{API}/channel-configs/{config.pk}").status_code == 403
    assert send(operator, "post", f"/channel-configs/{config.pk}/test").status_code == 403
    outsider = client(world, "community_admin", "b")
    assert outsider.get(f"{API}/communities/{community}/channel-configs").status_code == 404
    assert outsider.get(f"{API}/channel-configs/{config.pk}").status_code == 404
    assert send(outsider, "delete", f"/channel-configs/{config.pk}").status_code == 404
    assert outsider.get(f"{API}/communities/{community}/deliveries").status_code == 404
    assert ChannelConfig.objects.filter(pk=config.pk).exists()

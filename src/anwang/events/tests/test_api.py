"""The events API: scoped lists, filters, dead letters and re-processing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.events.models import DeadLetter, DeviceEvent
from anwang.events.services import worker_status_report

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
URL = "/api/v1/events"

pytestmark = pytest.mark.django_db


def items(client: Client, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return list(response.json()["items"])


def test_events_are_scoped_to_the_callers_communities(
    world: Any, devices: dict[str, Device], django_assert_max_num_queries: Any
) -> None:
    admin_a = world.client_for("community_admin")
    with django_assert_max_num_queries(8):
        listed = items(admin_a, URL)
    # The first reading (no smoke) was the baseline; the change to smoke is the event.
    assert [(e["device"], e["value"]) for e in listed] == [(devices["a"].pk, True)]
    assert listed[0]["previous_value"] is False
    admin_b = world.client_for("community_admin", "b")
    assert [e["device"] for e in items(admin_b, URL)] == [devices["b"].pk]
    of_a = DeviceEvent.objects.filter(device=devices["a"]).first()
    assert of_a is not None
    assert admin_b.get(f"{URL}/{of_a.pk}").status_code == 404
    assert admin_a.get(f"{URL}/{of_a.pk}").json()["id"] == of_a.pk
    assert items(admin_b, f"{URL}?community_id={world.a.community.pk}") == []


def test_event_filters(world: Any, devices: dict[str, Device]) -> None:
    admin = world.platform_admin
    client = Client()
    client.force_login(admin)
    assert len(items(client, URL)) == 2
    assert len(items(client, f"{URL}?device_id={devices['b'].pk}")) == 1
    assert len(items(client, f"{URL}?kind=smoke")) == 2
    assert items(client, f"{URL}?kind=gas") == []
    since = (T0 + dt.timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    assert [e["value"] for e in items(client, f"{URL}?since={since}")] == [True]


def test_residents_see_no_events(world: Any, devices: dict[str, Device]) -> None:
    assert items(world.client_for("resident"), URL) == []


def test_dead_letters_are_scoped(world: Any, devices: dict[str, Device]) -> None:
    orphan = DeadLetter.objects.get(community__isnull=True)
    of_a = DeadLetter.objects.get(community=world.a.community)
    admin_a = world.client_for("community_admin")
    assert [d["id"] for d in items(admin_a, "/api/v1/dead-letters")] == [of_a.pk]
    assert admin_a.get(f"/api/v1/dead-letters/{orphan.pk}").status_code == 404
    admin_b = world.client_for("community_admin", "b")
    assert items(admin_b, "/api/v1/dead-letters") == []
    assert admin_b.get(f"/api/v1/dead-letters/{of_a.pk}").status_code == 404
    assert admin_b.post(f"/api/v1/dead-letters/{of_a.pk}/reprocess").status_code == 404
    platform = Client()
    platform.force_login(world.platform_admin)
    listed = items(platform, "/api/v1/dead-letters")
    assert {d["id"] for d in listed} == {orphan.pk, of_a.pk}
    assert "payload" not in listed[0]
    assert listed[0]["reason"].startswith("Unknown device")


def test_reprocess_through_the_api(world: Any, devices: dict[str, Device]) -> None:
    of_a = DeadLetter.objects.get(community=world.a.community)
    Device.objects.create(
        community=world.a.community,
        name="late",
        kind=DeviceKind.SMOKE,
        protocol=Protocol.ZIGBEE2MQTT,
        source_id="a_stranger",
    )
    admin_a = world.client_for("community_admin")
    response = admin_a.post(f"/api/v1/dead-letters/{of_a.pk}/reprocess")
    assert response.status_code == 200, response.content
    assert response.json()["resolved"] is True
    assert DeviceEvent.objects.filter(device__source_id="a_stranger").count() == 1
    again = admin_a.post(f"/api/v1/dead-letters/{of_a.pk}/reprocess")
    assert again.status_code == 409


def test_pipeline_health(world: Any, english_client: Any) -> None:
    client = english_client("operator")
    empty = client.get("/api/v1/pipeline").json()
    assert empty["ok"] is False
    assert empty["workers"] == []
    assert empty["problems"][0].startswith("No event worker is running")
    now = timezone.now()
    worker_status_report(
        name="anwang-worker",
        values={
            "mode": "mqtt",
            "broker": "mqtt://127.0.0.1:1883",
            "connected": True,
            "started_at": now,
            "reported_at": now,
            "messages_total": 12,
        },
    )
    running = client.get("/api/v1/pipeline").json()
    assert running["ok"] is True
    [worker] = running["workers"]
    assert (worker["name"], worker["state"], worker["messages_total"]) == (
        "anwang-worker",
        "running",
        12,
    )
    assert world.client_for("resident").get("/api/v1/pipeline").status_code == 403

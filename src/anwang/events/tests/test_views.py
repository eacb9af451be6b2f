"""The events pages: scoped lists, and the re-process button."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from anwang.devices.models import Device
from anwang.events.models import DeadLetter
from anwang.events.services import worker_status_report

pytestmark = pytest.mark.django_db


def test_event_pages(
    world: Any, devices: dict[str, Device], django_assert_max_num_queries: Any
) -> None:
    client = world.client_for("community_admin")
    with django_assert_max_num_queries(20):
        page = client.get("/events/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "a smoke" in text
    assert "b smoke" not in text
    with django_assert_max_num_queries(20):
        letters = client.get("/events/dead-letters/").content.decode()
    assert "zigbee2mqtt/a_stranger" in letters
    assert "zigbee2mqtt/stranger" not in letters
    assert world.client_for("resident").get("/events/").status_code == 403


def test_reprocess_button(world: Any, devices: dict[str, Device]) -> None:
    of_a = DeadLetter.objects.get(community=world.a.community)
    client = world.client_for("community_admin")
    response = client.post(f"/events/dead-letters/{of_a.pk}/reprocess/")
    assert response.status_code == 302
    of_a.refresh_from_db()
    assert of_a.reprocessed_at is not None
    assert of_a.resolved is False
    other = world.client_for("community_admin", "b")
    assert other.post(f"/events/dead-letters/{of_a.pk}/reprocess/").status_code == 404


def _report(name: str, **values: Any) -> None:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "mode": "mqtt",
        "broker": "mqtt://127.0.0.1:1883",
        "connected": True,
        "started_at": now,
        "reported_at": now,
    }
    worker_status_report(name=name, values=defaults | values)


def test_pipeline_page_says_when_nothing_stores_messages(world: Any, english_client: Any) -> None:
    client = english_client("operator")
    text = client.get("/events/pipeline/").content.decode()
    assert "No event worker is running" in text
    # The events list carries the same warning.
    assert "No event worker is running" in client.get("/events/").content.decode()
    _report("anwang-worker")
    fragment = client.get("/events/pipeline/", headers={"HX-Request": "true"}).content.decode()
    assert "Device messages are being stored." in fragment
    assert "<html" not in fragment
    assert "No event worker is running" not in client.get("/events/").content.decode()
    assert world.client_for("resident").get("/events/pipeline/").status_code == 403


def test_pipeline_page_shows_a_disconnected_or_lagging_worker(english_client: Any) -> None:
    _report("anwang-worker", connected=False, lag_seconds=42.0, pending=9000)
    text = english_client("operator").get("/events/pipeline/").content.decode()
    assert "is not connected to the MQTT broker mqtt://127.0.0.1:1883" in text
    assert "is 42 s behind, with 9000 messages waiting" in text

"""An alarm's camera snapshot on the detail page, as an image URL, and in the API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anwang.alarms import services
from anwang.alarms.models import Alarm
from anwang.alarms.tests.conftest import T0, firing, make_rule
from anwang.devices.models import Device
from anwang.events import selectors as event_selectors
from anwang.events.adapters.base import InboundMessage
from anwang.events.models import DeviceEvent
from anwang.events.services import ingest_messages

JPEG = (
    Path(__file__).resolve().parents[4] / "tests/fixtures/payloads/frigate/snapshot_made_here.jpg"
).read_bytes()

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def cam(world: Any) -> Device:
    return Device.objects.create(
        community=world.a.community,
        zone=world.a.zone,
        name="Gate camera",
        kind="camera",
        protocol="frigate",
        source_id="gate_cam",
    )


@pytest.fixture
def alarm(world: Any, cam: Device) -> Alarm:
    event = DeviceEvent.objects.create(
        community_id=cam.community_id,
        device=cam,
        kind="object_detected",
        edge_key="1:new",
        dedup_key="test:snapshot",
        received_at=T0,
        data={"label": "person"},
    )
    (raised,) = services.alarms_from_firings(
        firings=[firing(make_rule(world.a), device=cam, events=(event.pk,))], now=T0
    )
    return raised


def store_snapshot(seconds: float = 2) -> None:
    message = InboundMessage(
        transport="mqtt",
        topic="frigate/gate_cam/person/snapshot",
        payload=JPEG,
        received_at=T0 + dt.timedelta(seconds=seconds),
    )
    assert ingest_messages(messages=[message]).snapshots == 1


def test_the_detail_page_shows_the_snapshot_with_camera_and_time(client_for, alarm):
    url = f"/alarms/{alarm.pk}/"
    assert b'data-testid="alarm-snapshot"' not in client_for("operator").get(url).content
    store_snapshot()
    page = client_for("operator").get(url).content.decode()
    assert 'data-testid="alarm-snapshot"' in page
    assert f'src="/alarms/{alarm.pk}/snapshot.jpg"' in page
    assert "Snapshot from Gate camera" in page


def test_the_console_panel_shows_the_snapshot(client_for, alarm):
    url = f"/alarms/console/{alarm.pk}/"
    assert 'data-testid="console-snapshot"' not in client_for("operator").get(url).text
    store_snapshot()
    panel = client_for("operator").get(url).text
    assert 'data-testid="console-snapshot"' in panel
    assert f'src="/alarms/{alarm.pk}/snapshot.jpg"' in panel
    assert "Snapshot from Gate camera" in panel
    # Another community's operator cannot open the panel at all.
    assert client_for("operator", "b").get(url).status_code == 404


def test_the_snapshot_url_serves_the_picture_privately(client_for, alarm):
    url = f"/alarms/{alarm.pk}/snapshot.jpg"
    assert client_for("operator").get(url).status_code == 404
    store_snapshot()
    response = client_for("operator").get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private")
    assert b"".join(response.streaming_content) == JPEG
    # Another community, a role without alarms, and nobody: never the picture.
    assert client_for("operator", "b").get(url).status_code == 404
    assert client_for("grid_worker").get(url).status_code in (403, 404)
    from django.test import Client

    assert Client().get(url).status_code == 302


def test_the_api_serves_the_snapshot_and_links_it_from_the_detail(client_for, alarm):
    c = client_for("operator")
    assert c.get(f"/api/v1/alarms/{alarm.pk}").json()["snapshot_url"] is None
    assert c.get(f"/api/v1/alarms/{alarm.pk}/snapshot").status_code == 404
    store_snapshot()
    detail = c.get(f"/api/v1/alarms/{alarm.pk}").json()
    assert detail["snapshot_url"] == f"/api/v1/alarms/{alarm.pk}/snapshot"
    response = c.get(detail["snapshot_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == JPEG
    assert client_for("operator", "b").get(detail["snapshot_url"]).status_code == 404
    # The list has no snapshot field: no per-alarm lookups there.
    listed = c.get("/api/v1/alarms").json()
    assert "snapshot_url" not in listed["items"][0]


def test_the_api_documents_the_picture(client_for):
    schema = client_for("operator").get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/alarms/{alarm_id}/snapshot"]["get"]
    assert "image/jpeg" in operation["responses"]["200"]["content"]
    detail = schema["components"]["schemas"]["AlarmDetailOut"]["properties"]
    assert "snapshot_url" in detail


def test_the_snapshot_lookup_is_two_queries_on_detail_pages(client_for, alarm):
    c = client_for("operator")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert c.get(url).status_code == 200
        return len(queries.captured_queries)

    store_snapshot()
    for url in (f"/api/v1/alarms/{alarm.pk}", f"/alarms/{alarm.pk}/"):
        count(url)  # warm the session
        with patch.object(event_selectors, "alarm_snapshot", return_value=None):
            without = count(url)
        assert count(url) <= without + 2, url

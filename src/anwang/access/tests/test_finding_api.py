"""The finding API: list (filters, pagination, audited), one finding with its sentence and
detector label, the review (managers; viewers 403; other communities 404; a dismissal needs a
note), and the scan of one community."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from anwang.access import anomalies
from anwang.access.choices import AccessMethod, AccessResult
from anwang.access.models import AccessEvent, AccessFinding
from anwang.access.tests.support import AccessWorld
from anwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    cache.delete(anomalies.STATE_KEY)
    yield
    cache.delete(anomalies.STATE_KEY)


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, url: str, body: dict[str, Any]) -> Any:
    return c.post(f"{API}{url}", body, content_type="application/json")


def _finding(w: AccessWorld) -> AccessFinding:
    at = timezone.localtime().replace(hour=2, minute=30, second=0, microsecond=0)
    AccessEvent.objects.create(
        community=w.community,
        access_point=w.plant_room,
        at=at,
        result=AccessResult.GRANTED,
        method=AccessMethod.CARD,
        credential=w.card,
        resident=w.resident,
    )
    anomalies.access_anomalies_scan(now=at + dt.timedelta(minutes=5), community=w.community)
    return AccessFinding.objects.get(detector="outside_hours")


def test_list_and_detail(world, access_world: AccessWorld):
    finding = _finding(access_world)
    operator = client(world, "operator")
    body = operator.get(f"{API}/access/findings?status=new").json()
    assert body["count"] >= 1
    item = next(item for item in body["items"] if item["id"] == finding.pk)
    assert item["detector"] == "outside_hours"
    assert item["access_point_name"] == "水泵房"
    assert item["sentence"].endswith("it is open 08:00–18:00.")
    assert AuditEvent.objects.filter(action="access.view_findings").exists()
    one = operator.get(f"{API}/access/findings/{finding.pk}").json()
    assert one["detector_label"] == "Restricted area outside its hours"
    assert one["explanation"]["local_time"] == "02:30"
    assert one["status_label"] == "To review"
    assert AuditEvent.objects.filter(action="access.view_finding").exists()
    assert operator.get(f"{API}/access/findings?detector=impossible_travel").json()["count"] == 0
    outsider = client(world, "community_admin", "b")
    assert outsider.get(f"{API}/access/findings/{finding.pk}").status_code == 404
    assert outsider.get(f"{API}/access/findings").json()["count"] == 0
    community = access_world.community.pk
    assert outsider.get(f"{API}/access/findings?community_id={community}").status_code == 404


def test_review(world, access_world: AccessWorld):
    finding = _finding(access_world)
    url = f"/access/findings/{finding.pk}/review"
    assert send(client(world, "operator"), url, {"status": "confirmed"}).status_code == 403
    outsider = client(world, "community_admin", "b")
    assert send(outsider, url, {"status": "confirmed"}).status_code == 404
    admin = client(world)
    refused = send(admin, url, {"status": "dismissed"})
    assert refused.status_code == 400
    assert "note" in str(refused.json())
    done = send(admin, url, {"status": "confirmed", "note": "已通知物业"})
    assert done.status_code == 200
    assert done.json()["status"] == "confirmed"
    assert done.json()["review_note"] == "已通知物业"
    assert AuditEvent.objects.filter(action="access.finding_review").count() == 1


def test_scan(world, access_world: AccessWorld):
    _finding(access_world)
    community = access_world.community.pk
    assert (
        send(client(world, "operator"), "/access/findings/scan", {"community_id": community})
    ).status_code == 403
    outsider = client(world, "community_admin", "b")
    assert send(outsider, "/access/findings/scan", {"community_id": community}).status_code == 404
    body = send(client(world), "/access/findings/scan", {"community_id": community}).json()
    assert set(body) == {"findings", "handed", "alarms", "by_detector"}
    assert AuditEvent.objects.filter(action="access.anomalies_scan").count() == 1

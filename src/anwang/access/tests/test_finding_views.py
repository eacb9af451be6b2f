"""The finding pages: the list (filters, sentence, audited, a query-count guard), a finding's
page (numbers, links, alarm, review form), the review (managers; viewers 403; other
communities 404), "scan now" for managers, and the count on the overview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from anwang.access import anomalies
from anwang.access.choices import AccessMethod, AccessResult
from anwang.access.models import AccessEvent, AccessFinding, AccessPoint
from anwang.access.tests.support import AccessWorld
from anwang.audit.models import AuditEvent
from anwang.rules.services import rules_install_builtin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    cache.delete(anomalies.STATE_KEY)
    yield
    cache.delete(anomalies.STATE_KEY)


def _records(w: AccessWorld, now: dt.datetime, nights: int = 1) -> None:
    """The card in the plant room at night (outside 08:00-18:00), and at the gate and the
    barrier 1.1 km apart a minute apart, ``nights`` times in the last day."""
    AccessPoint.objects.filter(pk=w.gate.pk).update(latitude=30.0, longitude=120.0)
    AccessPoint.objects.filter(pk=w.barrier.pk).update(latitude=30.01, longitude=120.0)
    for night in range(nights):
        at = now - dt.timedelta(minutes=30 + night * 10)
        for point, minute in ((w.plant_room, 0), (w.gate, 2), (w.barrier, 3)):
            AccessEvent.objects.create(
                community=w.community,
                access_point=point,
                at=at + dt.timedelta(minutes=minute),
                result=AccessResult.GRANTED,
                method=AccessMethod.CARD,
                credential=w.card,
                resident=w.resident,
            )


def _night() -> dt.datetime:
    """Today 03:00 local time, or yesterday's if it is earlier now (outside 08:00-18:00)."""
    now = timezone.localtime()
    three = now.replace(hour=3, minute=0, second=0, microsecond=0)
    return three if three <= now else three - dt.timedelta(days=1)


def _scanned(w: AccessWorld, nights: int = 1) -> list[AccessFinding]:
    now = _night()
    _records(w, now, nights)
    anomalies.access_anomalies_scan(now=now, community=w.community)
    return list(AccessFinding.objects.order_by("pk"))


def test_the_list_shows_sentences_and_is_audited(
    world, access_world: AccessWorld, django_assert_max_num_queries: Any
):
    _scanned(access_world, nights=3)
    operator = world.client_for("operator")
    operator.get("/access/findings/")  # warm up (session, language)
    with django_assert_max_num_queries(14):
        response = operator.get("/access/findings/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "entered the restricted area 水泵房" in page
    assert "used the same credential at 北门" in page
    assert 'data-testid="scan-now"' not in page  # viewers do not scan
    assert AuditEvent.objects.filter(action="access.view_findings").count() == 2
    filtered = operator.get("/access/findings/?detector=impossible_travel").content.decode()
    assert "used the same credential" in filtered
    assert "entered the restricted area" not in filtered
    assert world.client_for("resident").get("/access/findings/").status_code == 404
    # Community b sees none of a's findings.
    other = world.client_for("community_admin", "b").get("/access/findings/").content.decode()
    assert "水泵房" not in other


def test_the_detail_page_links_and_reviews(world, access_world: AccessWorld):
    rules_install_builtin(community=access_world.community)
    findings = _scanned(access_world)
    travel = next(f for f in findings if f.detector == "impossible_travel")
    admin = world.client_for("community_admin")
    page = admin.get(f"/access/findings/{travel.pk}/").content.decode()
    assert "used the same credential at 北门" in page
    assert "Distance (m)" in page
    assert f"/access/residents/{access_world.resident.pk}/" in page
    assert f"/access/events/?point={access_world.barrier.pk}&amp;date=" in page
    assert 'data-testid="alarm-link"' in page  # fresh, at a point with a device
    assert AuditEvent.objects.filter(action="access.view_finding").exists()
    url = f"/access/findings/{travel.pk}/review/"
    refused = admin.post(url, {"status": "dismissed", "note": ""})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    assert admin.post(url, {"status": "dismissed", "note": "两张卡"}).status_code == 302
    stored = AccessFinding.objects.get(pk=travel.pk)
    assert (stored.status, stored.review_note) == ("dismissed", "两张卡")
    assert AuditEvent.objects.filter(action="access.finding_review").count() == 1


def test_review_is_refused_to_viewers_and_outsiders(world, access_world: AccessWorld):
    finding = _scanned(access_world)[0]
    url = f"/access/findings/{finding.pk}/review/"
    operator = world.client_for("operator")
    assert operator.get(f"/access/findings/{finding.pk}/").status_code == 200
    assert operator.post(url, {"status": "confirmed"}).status_code == 403
    outsider = world.client_for("community_admin", "b")
    assert outsider.get(f"/access/findings/{finding.pk}/").status_code == 404
    assert outsider.post(url, {"status": "confirmed"}).status_code == 404
    assert AccessFinding.objects.get(pk=finding.pk).status == "new"


def test_scan_now_and_the_overview_count(world, access_world: AccessWorld):
    _records(access_world, timezone.now())
    admin = world.client_for("community_admin")
    response = admin.post("/access/findings/scan/", follow=True)
    assert "The scan found" in response.content.decode()
    assert AccessFinding.objects.exists()
    assert world.client_for("operator").post("/access/findings/scan/").status_code == 403
    home = admin.get("/access/").content.decode()
    assert 'data-testid="findings-link"' in home
    count = AccessFinding.objects.filter(status="new").count()
    badge = admin.get("/access/findings/badge/").content.decode()
    assert f"{count} to review" in badge

"""The access pages: overview figures, access points (device picker limited to the
community), credentials masked with an audited reveal for managers, face refused without
consent (the service's words shown), a resident's page audited with its notice, the access
log and the watch list; other communities 404, viewers 403 on changes."""

from __future__ import annotations

from typing import Any

import pytest

from anwang.access.models import AccessPoint, ConsentRecord, WatchListEntry
from anwang.access.tests.support import CARD_NO, AccessWorld, make_device
from anwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def test_overview_and_lists_render_for_viewers(world, access_world: AccessWorld):
    operator = world.client_for("operator")
    assert operator.get("/access/").status_code == 200
    assert world.client_for("operator").get("/access/points/").status_code == 200
    page = operator.get("/access/credentials/").content.decode()
    assert "******8211" in page
    assert CARD_NO not in page
    assert operator.get("/access/events/").status_code == 200
    assert operator.get("/access/watch-list/").status_code == 200
    assert world.client_for("resident").get("/access/").status_code == 404
    assert operator.get("/access/points/new/").status_code == 403


def test_point_form_offers_only_the_communitys_devices(world, access_world: AccessWorld):
    make_device(world.b.community, "ff:ff", name="文华门禁")
    admin = world.client_for("community_admin")
    page = admin.get("/access/points/new/").content.decode()
    assert "北门门禁控制器" in page
    assert "文华门禁" not in page
    response = admin.post(
        "/access/points/new/",
        {"name": "东门", "kind": "gate", "device": access_world.controller.pk, "door_no": "1"},
    )
    assert response.status_code == 400
    assert "Another access point already uses this door" in response.content.decode()
    response = admin.post(
        "/access/points/new/",
        {"name": "东门", "kind": "gate", "device": access_world.controller.pk, "door_no": "2"},
    )
    assert response.status_code == 302
    assert AccessPoint.objects.filter(name="东门", door_no=2).exists()


def test_reveal_on_the_credential_page_is_audited(world, access_world: AccessWorld):
    url = f"/access/credentials/{access_world.card.pk}/"
    admin = world.client_for("community_admin")
    assert CARD_NO not in admin.get(url).content.decode()
    shown = admin.post(url, {"action": "reveal"}).content.decode()
    assert CARD_NO in shown
    assert AuditEvent.objects.filter(action="access.credential_reveal").count() == 1
    assert world.client_for("operator").post(url, {"action": "reveal"}).status_code == 403
    assert world.client_for("community_admin", "b").get(url).status_code == 404


def test_face_without_consent_shows_the_services_error(world, access_world: AccessWorld):
    resident = access_world.resident
    admin = world.client_for("community_admin")
    url = f"/access/credentials/new/?resident={resident.pk}"
    response = admin.post(url, {"kind": "face", "value": "A0012"})
    assert response.status_code == 400
    assert "face credential needs its own recorded consent" in response.content.decode()
    consent = admin.post(
        f"/access/residents/{resident.pk}/consent/", {"kind": "face", "how": "书面同意书"}
    )
    assert consent.status_code == 302
    assert admin.post(url, {"kind": "face", "value": "A0012"}).status_code == 302
    record = ConsentRecord.objects.get(resident=resident)
    admin.post(f"/access/residents/{resident.pk}/consent/", {"withdraw": record.pk})
    record.refresh_from_db()
    assert record.withdrawn_at is not None


def test_resident_page_is_audited_and_says_so(world, access_world: AccessWorld):
    page = world.client_for("operator").get(f"/access/residents/{access_world.resident.pk}/")
    assert page.status_code == 200
    assert "This view is recorded" in page.content.decode()
    assert AuditEvent.objects.filter(action="access.view_movements").count() == 1


def test_watch_list_add_and_end(world, access_world: AccessWorld):
    admin = world.client_for("community_admin")
    response = admin.post(
        "/access/watch-list/new/",
        {"kind": "person", "description": "戴红帽的男子", "reason": "盗窃", "priority": "1"},
    )
    assert response.status_code == 302
    entry = WatchListEntry.objects.get()
    assert "戴红帽的男子" in admin.get("/access/watch-list/").content.decode()
    admin.post(f"/access/watch-list/{entry.pk}/end/")
    entry.refresh_from_db()
    assert entry.ended_at is not None

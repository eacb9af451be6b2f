"""The access API: access points, credentials (masked, audited reveal), face needs consent
and an alternative, consents, a person's movements audited on every call, the access log,
the watch list; other communities 404, viewers 403 on writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.access.choices import AccessMethod, AccessResult
from anwang.access.models import AccessEvent, WatchListEntry
from anwang.access.tests.support import CARD_NO, AccessWorld
from anwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A JSON request to the API."""
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def test_points_list_and_create_with_a_device_of_the_community(world, access_world: AccessWorld):
    admin = client(world)
    listed = admin.get(f"{API}/access/points").json()
    assert {item["name"] for item in listed["items"]} == {"北门", "地下车库道闸", "水泵房"}
    created = send(
        admin,
        "post",
        "/access/points",
        {"name": "2号楼单元门", "kind": "unit_door", "device_id": access_world.controller.pk,
         "door_no": 2},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["device_name"] == "北门门禁控制器"
    other = send(
        client(world, side="b"),
        "put",
        f"/access/points/{access_world.gate.pk}",
        {"name": "x", "kind": "gate"},
    )
    assert other.status_code == 404
    viewer = send(
        client(world, "operator"), "post", "/access/points", {"name": "x", "kind": "gate"}
    )
    assert viewer.status_code in (403, 404)


def test_credentials_are_masked_and_the_reveal_is_audited(world, access_world: AccessWorld):
    admin = client(world)
    body = admin.get(f"{API}/access/credentials?kind=card").json()
    assert [item["value_masked"] for item in body["items"]] == ["******8211"]
    assert CARD_NO not in str(body)
    revealed = send(admin, "post", f"/access/credentials/{access_world.card.pk}/reveal")
    assert revealed.json() == {"value": CARD_NO}
    assert AuditEvent.objects.filter(action="access.credential_reveal").count() == 1
    viewer = send(
        client(world, "operator"), "post", f"/access/credentials/{access_world.card.pk}/reveal"
    )
    assert viewer.status_code == 403


def test_face_needs_consent_and_then_is_given(world, access_world: AccessWorld):
    admin = client(world)
    resident = access_world.resident
    face = {"resident_id": resident.pk, "kind": "face", "value": "A0012"}
    refused = send(admin, "post", "/access/credentials", face)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["loc"] == ["kind"]
    consent = send(
        admin,
        "post",
        f"/access/residents/{resident.pk}/consents",
        {"kind": "face", "how": "书面同意书"},
    )
    assert consent.status_code == 201
    given = send(admin, "post", "/access/credentials", face)
    assert given.status_code == 201, given.content
    withdrawn = send(admin, "post", f"/access/consents/{consent.json()['id']}/withdraw")
    assert withdrawn.status_code == 200
    assert admin.get(f"{API}/access/credentials/{given.json()['id']}").json()["status"] == "revoked"


def test_lost_card_goes_on_the_watch_list_which_can_be_ended(world, access_world: AccessWorld):
    admin = client(world)
    lost = send(
        admin, "post", f"/access/credentials/{access_world.card.pk}/status", {"status": "lost"}
    )
    assert lost.json()["status"] == "lost"
    entries = admin.get(f"{API}/access/watch-list").json()["items"]
    assert [entry["credential_id"] for entry in entries] == [access_world.card.pk]
    plate = send(
        admin,
        "post",
        "/access/watch-list",
        {"kind": "plate", "plate": "浙B99999", "reason": "闹事"},
    )
    assert plate.status_code == 201
    ended = send(admin, "post", f"/access/watch-list/{plate.json()['id']}/end")
    assert ended.json()["ended_at"] is not None
    assert send(admin, "post", f"/access/watch-list/{plate.json()['id']}/end").status_code == 409
    assert WatchListEntry.objects.filter(ended_at__isnull=True).count() == 1


def test_movements_are_audited_on_every_call(world, access_world: AccessWorld):
    AccessEvent.objects.create(
        community=access_world.community,
        access_point=access_world.gate,
        at=timezone.now(),
        result=AccessResult.GRANTED,
        method=AccessMethod.CARD,
        credential=access_world.card,
        resident=access_world.resident,
    )
    operator = client(world, "operator")
    url = f"{API}/access/residents/{access_world.resident.pk}/movements"
    assert [e["access_point_name"] for e in operator.get(url).json()] == ["北门"]
    operator.get(url)
    assert AuditEvent.objects.filter(action="access.view_movements").count() == 2
    assert client(world, side="b").get(url).status_code == 404
    events = operator.get(f"{API}/access/events?result=granted").json()
    assert len(events) == 1
    assert client(world, "resident").get(f"{API}/access/events").json() == []

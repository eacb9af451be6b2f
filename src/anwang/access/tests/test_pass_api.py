"""The visitor-pass API: residents' passes, checks by guards and by gate devices, the public
key for offline verification, and the gate log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client
from django.utils import timezone, translation

from anwang.access import passes
from anwang.access.choices import AccessPointKind
from anwang.access.models import AccessEvent, AccessPoint, GateLogEntry, VisitorPass
from anwang.accounts.services import api_token_create
from anwang.devices import services as device_services
from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device

API = "/api/v1"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield


def _window() -> dict[str, str]:
    now = timezone.now()
    return {
        "valid_from": now.isoformat(),
        "valid_until": (now + dt.timedelta(hours=3)).isoformat(),
    }


def register(client: Client, world: Any, **extra: Any) -> Any:
    body = {
        "household_id": world.a.household.pk,
        "visitor_name": "王五 翠苑",
        "visitor_phone": "13900002222",
        "max_entries": 1,
        **_window(),
        **extra,
    }
    return client.post(f"{API}/access/passes", body, content_type="application/json")


@pytest.fixture
def point(world: Any) -> AccessPoint:
    return AccessPoint.objects.create(
        community=world.a.community, name="北门 翠苑", kind=AccessPointKind.GATE
    )


@pytest.mark.django_db
def test_a_resident_registers_lists_gets_and_revokes(world: Any) -> None:
    client = world.client_for("resident")
    created = register(client, world, plate="浙a 12345")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["visitor_phone"] == "139****2222"
    assert body["plate"] == "浙A12345"
    assert body["status"] == "active"
    assert body["token"].startswith("AWP1.")
    listed = client.get(f"{API}/access/passes").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert client.get(f"{API}/access/passes/{body['id']}").json()["entries"] == []
    revoked = client.post(f"{API}/access/passes/{body['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["token"] is None
    assert client.post(f"{API}/access/passes/{body['id']}/revoke").status_code == 409


@pytest.mark.django_db
def test_registration_errors_have_the_field(world: Any) -> None:
    response = register(world.client_for("resident"), world, visitor_phone="123")
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["visitor_phone"]
    other = register(world.client_for("resident", "b"), world)
    assert other.status_code == 404


@pytest.mark.django_db
def test_others_do_not_see_a_pass(world: Any) -> None:
    pass_id = register(world.client_for("resident"), world).json()["id"]
    assert (
        world.client_for("resident", "b").get(f"{API}/access/passes/{pass_id}").status_code == 404
    )
    assert world.client_for("guard", "b").get(f"{API}/access/passes/{pass_id}").status_code == 404
    assert world.client_for("guard").get(f"{API}/access/passes/{pass_id}").status_code == 200
    revoke = world.client_for("resident", "b").post(f"{API}/access/passes/{pass_id}/revoke")
    assert revoke.status_code == 404


@pytest.mark.django_db
def test_a_guard_checks_a_pass_once(world: Any, point: AccessPoint) -> None:
    token = register(world.client_for("resident"), world).json()["token"]
    guard = world.client_for("guard")
    body = {"token": token, "access_point_id": point.pk}
    first = guard.post(f"{API}/access/passes/check", body, content_type="application/json")
    assert first.status_code == 200
    assert first.json()["ok"] is True
    assert first.json()["visitor_name"] == "王五 翠苑"
    assert first.json()["entries_left"] == 0
    again = guard.post(f"{API}/access/passes/check", body, content_type="application/json")
    assert (again.json()["ok"], again.json()["reason"]) == (False, "used_up")
    resident = world.client_for("resident").post(
        f"{API}/access/passes/check", body, content_type="application/json"
    )
    assert resident.status_code == 404
    other = world.client_for("guard", "b").post(
        f"{API}/access/passes/check", body, content_type="application/json"
    )
    assert other.status_code == 404


@pytest.mark.django_db
def test_an_api_token_checks_passes(world: Any, point: AccessPoint) -> None:
    token = register(world.client_for("resident"), world).json()["token"]
    _row, raw = api_token_create(actor=None, user=world.user("guard"), name="gate app")
    response = Client().post(
        f"{API}/access/passes/check",
        {"token": token, "access_point_id": point.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200
    assert response.json()["ok"] is True


@pytest.mark.django_db
def test_the_public_key_verifies_issued_tokens(world: Any) -> None:
    response = Client().get(f"{API}/access/passes/public-key")
    assert response.status_code == 200
    body = response.json()
    key = serialization.load_pem_public_key(body["pem"].encode())
    assert isinstance(key, Ed25519PublicKey)
    assert body["jwk"]["kid"] == body["key_id"]
    token = register(world.client_for("resident"), world).json()["token"]
    assert passes.pass_verify_offline(token, now=timezone.now(), key=key).ok


def _gate_device(world: Any, point: AccessPoint) -> str:
    device = Device.objects.create(
        community=world.a.community,
        name="北门 门禁 翠苑",
        kind=DeviceKind.ACCESS_READER,
        protocol=Protocol.ANWANG,
        source_id="gate-reader",
    )
    AccessPoint.objects.filter(pk=point.pk).update(device=device)
    _credential, raw = device_services.device_credential_issue(
        actor=None, device=device, kind="token"
    )
    return raw


@pytest.mark.django_db
def test_a_gate_device_checks_a_pass_as_itself(world: Any, point: AccessPoint) -> None:
    token = register(world.client_for("resident"), world).json()["token"]
    raw = _gate_device(world, point)
    url = f"{API}/access/devices/pass-check"
    body = json.dumps({"token": token})
    anonymous = Client().post(url, body, content_type="application/json")
    assert anonymous.status_code == 401
    assert "Bearer" in anonymous["WWW-Authenticate"]
    response = Client().post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    event = AccessEvent.objects.get()
    assert event.access_point == point
    assert event.result == "granted"
    assert not GateLogEntry.objects.exists()  # a device is not a guard
    again = Client().post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert again.json()["reason"] == "used_up"


@pytest.mark.django_db
def test_a_device_that_drives_no_access_point_is_refused(world: Any) -> None:
    device = Device.objects.create(
        community=world.a.community,
        name="烟感 翠苑",
        kind=DeviceKind.SMOKE,
        protocol=Protocol.ANWANG,
        source_id="smoke-1",
    )
    _credential, raw = device_services.device_credential_issue(
        actor=None, device=device, kind="token"
    )
    response = Client().post(
        f"{API}/access/devices/pass-check",
        {"token": "AWP1.x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_an_access_point"


@pytest.mark.django_db
def test_the_gate_log_api(world: Any, point: AccessPoint) -> None:
    guard = world.client_for("guard")
    body = {
        "community_id": world.a.community.pk,
        "kind": "walk_in",
        "access_point_id": point.pk,
        "visitor_name": "赵六",
        "visitor_phone": "13900003333",
        "household_id": world.a.household.pk,
    }
    created = guard.post(f"{API}/access/gate-log", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["visitor_phone"] == "139****3333"
    listed = guard.get(f"{API}/access/gate-log").json()
    assert listed["count"] == 1
    assert world.client_for("guard", "b").get(f"{API}/access/gate-log").json()["count"] == 0
    refused = world.client_for("resident").post(
        f"{API}/access/gate-log", body, content_type="application/json"
    )
    assert refused.status_code == 404
    bad = guard.post(
        f"{API}/access/gate-log",
        {**body, "household_id": world.b.household.pk},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert VisitorPass.objects.count() == 0

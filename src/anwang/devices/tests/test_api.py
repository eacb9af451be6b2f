"""The devices API: CRUD, scoping, credentials and query counts."""

from typing import Any

import pytest
from django.test import Client

from anwang.devices import services
from anwang.devices.models import Device, DeviceCredential

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def post(c: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return c.post(f"{API}{url}", body or {}, content_type="application/json")


def device_of(side, source_id="cam-1") -> Device:
    return services.device_create(
        actor=None,
        community=side.community,
        name=f"camera {source_id}",
        kind="camera",
        protocol="frigate",
        source_id=source_id,
        zone=side.zone,
    )


def test_create_get_patch_retire(world):
    c = client(world)
    body = {
        "name": "北门摄像头",
        "kind": "camera",
        "protocol": "frigate",
        "source_id": "north_gate",
        "community": world.a.community.pk,
        "zone": world.a.zone.pk,
        "building": world.a.building.pk,
        "latitude": 30.5,
        "longitude": 114.3,
    }
    response = post(c, "/devices", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["community"] == world.a.community.pk
    assert created["zone"] == world.a.zone.pk
    assert created["building"] == world.a.building.pk
    assert created["status"] == "unknown"
    device_id = created["id"]

    response = c.get(f"{API}/devices/{device_id}")
    assert response.json()["source_id"] == "north_gate"

    response = c.patch(
        f"{API}/devices/{device_id}",
        {"zone": None, "name": "南门"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["zone"] is None
    assert response.json()["name"] == "南门"
    assert response.json()["latitude"] == 30.5

    response = post(c, f"/devices/{device_id}/retire")
    assert response.status_code == 200
    assert response.json()["retired_at"]
    assert c.get(f"{API}/devices").json()["count"] == 0
    assert c.get(f"{API}/devices?include_retired=true").json()["count"] == 1


def test_duplicate_source_id_is_a_field_error(world):
    device_of(world.a)
    body = {
        "name": "x",
        "kind": "camera",
        "protocol": "frigate",
        "source_id": "cam-1",
        "community": world.a.community.pk,
    }
    response = post(client(world), "/devices", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["source_id"]


def test_other_community_is_404(world):
    device = device_of(world.a)
    c = client(world, side="b")
    assert c.get(f"{API}/devices/{device.pk}").status_code == 404
    assert post(c, f"/devices/{device.pk}/retire").status_code == 404
    assert c.get(f"{API}/devices").json()["count"] == 0
    body = {
        "name": "x",
        "kind": "camera",
        "protocol": "frigate",
        "source_id": "x",
        "community": world.a.community.pk,
    }
    assert post(c, "/devices", body).status_code == 404
    # A zone of community A cannot be given to a device of community B.
    own = device_of(world.b)
    response = c.patch(
        f"{API}/devices/{own.pk}", {"zone": world.a.zone.pk}, content_type="application/json"
    )
    assert response.status_code == 404


def test_operator_reads_but_cannot_write(world):
    device = device_of(world.a)
    c = client(world, "operator")
    assert c.get(f"{API}/devices/{device.pk}").status_code == 200
    assert post(c, f"/devices/{device.pk}/retire").status_code == 403


def test_credentials_issue_list_revoke(world):
    device = device_of(world.a)
    c = client(world)
    response = post(c, f"/devices/{device.pk}/credentials", {"kind": "token"})
    assert response.status_code == 201, response.content
    issued = response.json()
    assert issued["secret"].startswith("awd_")
    listed = c.get(f"{API}/devices/{device.pk}/credentials").json()
    assert [item["id"] for item in listed] == [issued["id"]]
    assert "secret" not in listed[0]
    response = c.delete(f"{API}/devices/{device.pk}/credentials/{issued['id']}")
    assert response.status_code == 204
    assert DeviceCredential.objects.get(pk=issued["id"]).revoked_at is not None


def test_credential_of_another_device_is_404(world):
    device = device_of(world.a)
    other = device_of(world.a, "cam-2")
    credential, _raw = services.device_credential_issue(actor=None, device=other, kind="hmac")
    response = client(world).delete(f"{API}/devices/{device.pk}/credentials/{credential.pk}")
    assert response.status_code == 404


def test_list_query_count(world, django_assert_max_num_queries):
    for number in range(30):
        device_of(world.a, f"cam-{number}")
    c = client(world)
    with django_assert_max_num_queries(12):
        response = c.get(f"{API}/devices?kind=camera")
    assert response.json()["count"] == 30

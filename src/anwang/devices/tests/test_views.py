"""Device pages: list, detail, create with bad input, retire, credentials, import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from anwang.devices import services
from anwang.devices.models import Device, DeviceCredential

pytestmark = pytest.mark.django_db


def device_of(side, source_id="cam-1", **extra) -> Device:
    values = {"name": f"camera {source_id}", "kind": "camera", "protocol": "frigate"} | extra
    return services.device_create(
        actor=None, community=side.community, source_id=source_id, **values
    )


def test_list_filters_and_badges(world, client_for, django_assert_max_num_queries):
    for number in range(20):
        device_of(world.a, f"cam-{number}", zone=world.a.zone)
    Device.objects.filter(source_id="cam-3").update(status="offline")
    c = client_for("guard")
    with django_assert_max_num_queries(20):
        response = c.get("/devices/")
    assert response.status_code == 200
    assert "camera cam-19" in response.text
    response = c.get("/devices/?status=offline")
    assert "camera cam-3" in response.text
    assert "camera cam-4" not in response.text
    assert 'class="badge warn"' in response.text


def test_list_of_other_community_devices_is_not_shown(world, client_for):
    device_of(world.a, "a-only")
    response = client_for("community_admin", "b").get("/devices/")
    assert "a-only" not in response.text


def test_detail_is_404_across_communities(world, client_for):
    device = device_of(world.a)
    assert client_for("community_admin", "b").get(f"/devices/{device.pk}/").status_code == 404
    assert client_for("guard").get(f"/devices/{device.pk}/").status_code == 200


def test_create_with_bad_input_keeps_what_was_typed(world, client_for):
    device_of(world.a, "taken")
    c = client_for("community_admin")
    data = {
        "name": "新摄像头",
        "kind": "camera",
        "protocol": "frigate",
        "source_id": "taken",
        "heartbeat_seconds": "600",
        "latitude": "30.5",
        "longitude": "114.3",
    }
    response = c.post("/devices/create/", data)
    assert response.status_code == 200
    assert "新摄像头" in response.text
    assert "already has this source identity" in response.text
    assert Device.objects.count() == 1

    data["source_id"] = "fresh"
    data["zone"] = str(world.a.zone.pk)
    response = c.post("/devices/create/", data)
    assert response.status_code == 302
    created = Device.objects.get(source_id="fresh")
    assert created.zone == world.a.zone


def test_guard_cannot_open_create(world, client_for):
    assert client_for("guard").get("/devices/create/").status_code == 403


def test_edit_and_retire(world, client_for):
    device = device_of(world.a)
    c = client_for("community_admin")
    response = c.get(f"/devices/{device.pk}/edit/")
    assert 'value="cam-1"' in response.text
    data = {
        "name": "renamed",
        "kind": "camera",
        "protocol": "frigate",
        "source_id": "cam-1",
        "heartbeat_seconds": "0",
    }
    assert c.post(f"/devices/{device.pk}/edit/", data).status_code == 302
    device.refresh_from_db()
    assert device.name == "renamed"
    assert device.heartbeat_seconds == 0
    assert c.post(f"/devices/{device.pk}/retire/").status_code == 302
    device.refresh_from_db()
    assert device.retired_at is not None


def test_secret_is_shown_once(world, client_for):
    device = device_of(world.a)
    c = client_for("community_admin")
    response = c.post(f"/devices/{device.pk}/credentials/", {"kind": "hmac"}, follow=True)
    credential = DeviceCredential.objects.get()
    assert credential.secret in response.text
    again = c.get(f"/devices/{device.pk}/")
    assert credential.secret not in again.text
    c.post(f"/devices/{device.pk}/credentials/{credential.pk}/revoke/")
    credential.refresh_from_db()
    assert credential.revoked_at is not None


def test_import_page_lists_problems_and_imports_nothing(world, client_for):
    c = client_for("community_admin")
    bad = SimpleUploadedFile("d.csv", "名称,类型,协议,来源标识\nx,toaster,frigate,s1\n".encode())
    response = c.post("/devices/import/", {"file": bad})
    assert response.status_code == 200
    assert 'data-testid="import-errors"' in response.text
    assert ">Kind<" in response.text  # the column the problem is in, as people know it
    assert not Device.objects.exists()
    good = SimpleUploadedFile("d.csv", "名称,类型,协议,来源标识\nx,camera,frigate,s1\n".encode())
    assert c.post("/devices/import/", {"file": good}).status_code == 302
    assert Device.objects.filter(source_id="s1").exists()


def test_map_geojson(world, client_for):
    device_of(world.a, "placed", latitude=30.5, longitude=114.3)
    device_of(world.a, "unplaced")
    c = client_for("guard")
    body = c.get(f"/devices/map.geojson?community={world.a.community.pk}").json()
    assert [f["properties"]["name"] for f in body["features"]] == ["camera placed"]
    assert body["features"][0]["geometry"]["coordinates"] == [114.3, 30.5]
    other = client_for("guard", "b").get(f"/devices/map.geojson?community={world.a.community.pk}")
    assert other.status_code == 404

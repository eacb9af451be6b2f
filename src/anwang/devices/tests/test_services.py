"""Device services: permissions, validation, unique source identity, retiring, credentials."""

import hashlib
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.devices import services
from anwang.devices.choices import CredentialKind, DeviceKind, Protocol
from anwang.devices.models import Device, DeviceCredential

pytestmark = pytest.mark.django_db


def make(world: Any, *, actor: Any = None, source_id: str = "cam-1", **extra: Any) -> Device:
    values = {
        "name": "北门摄像头",
        "kind": DeviceKind.CAMERA,
        "protocol": Protocol.FRIGATE,
        "source_id": source_id,
    } | extra
    return services.device_create(
        actor=actor or world.user("community_admin"), community=world.a.community, **values
    )


def test_create_is_audited(world):
    device = make(world, zone=world.a.zone, latitude=30.5, longitude=114.3)
    assert device.zone == world.a.zone
    assert device.status == "unknown"
    assert device.heartbeat_seconds == 600
    entry = AuditEvent.objects.get(action="device.create")
    assert entry.community_id == world.a.community.pk
    assert entry.changes["source_id"] == [None, "cam-1"]


def test_operator_may_see_but_not_register(world):
    with pytest.raises(PermissionDenied):
        make(world, actor=world.user("operator"))


def test_admin_of_another_community_gets_404(world):
    with pytest.raises(Http404):
        make(world, actor=world.user("community_admin", "b"))
    device = make(world)
    with pytest.raises(Http404):
        services.device_update(
            actor=world.user("community_admin", "b"), device=device, name="taken over"
        )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"name": " "}, "name"),
        ({"kind": "toaster"}, "kind"),
        ({"protocol": "zwave"}, "protocol"),
        ({"source_id": ""}, "source_id"),
        ({"latitude": 95, "longitude": 114}, "latitude"),
        ({"latitude": 30.5}, "longitude"),
        ({"heartbeat_seconds": -1}, "heartbeat_seconds"),
        ({"heartbeat_seconds": "often"}, "heartbeat_seconds"),
    ],
)
def test_bad_values_are_refused_on_their_field(world, extra, field):
    with pytest.raises(ServiceError) as caught:
        make(world, **extra)
    assert caught.value.field == field
    assert not Device.objects.exists()


def test_zone_must_be_of_the_same_community(world):
    with pytest.raises(ServiceError) as caught:
        make(world, zone=world.b.zone)
    assert caught.value.field == "zone"


def test_source_identity_is_unique_per_community_and_protocol(world):
    make(world)
    with pytest.raises(ServiceError) as caught:
        make(world, name="another")
    assert caught.value.field == "source_id"
    # Another protocol, or another community, may use the same name.
    make(world, protocol=Protocol.HIKVISION)
    services.device_create(
        actor=None,
        community=world.b.community,
        name="b",
        kind=DeviceKind.CAMERA,
        protocol=Protocol.FRIGATE,
        source_id="cam-1",
    )


def test_update_keeps_values_not_passed_and_audits_the_difference(world):
    device = make(world, latitude=30.5, longitude=114.3)
    services.device_update(actor=world.user("community_admin"), device=device, name="南门摄像头")
    device.refresh_from_db()
    assert device.name == "南门摄像头"
    assert device.latitude == 30.5
    entry = AuditEvent.objects.get(action="device.update")
    assert entry.changes == {"name": ["北门摄像头", "南门摄像头"]}


def test_update_to_a_taken_source_identity_is_refused(world):
    make(world)
    other = make(world, source_id="cam-2")
    with pytest.raises(ServiceError):
        services.device_update(actor=None, device=other, source_id="cam-1")


def test_retire_frees_the_source_identity_and_revokes_credentials(world):
    device = make(world)
    credential, _raw = services.device_credential_issue(
        actor=None, device=device, kind=CredentialKind.TOKEN
    )
    services.device_retire(actor=world.user("community_admin"), device=device)
    device.refresh_from_db()
    credential.refresh_from_db()
    assert device.retired_at is not None
    assert credential.revoked_at is not None
    replacement = make(world)
    assert replacement.pk != device.pk
    assert AuditEvent.objects.filter(action="device.retire").count() == 1
    with pytest.raises(ConflictError):
        services.device_update(actor=None, device=device, name="again")
    with pytest.raises(ConflictError):
        services.device_retire(actor=None, device=device)


def test_token_is_stored_only_as_digest(world):
    device = make(world)
    credential, raw = services.device_credential_issue(
        actor=world.user("community_admin"), device=device, kind=CredentialKind.TOKEN
    )
    assert raw.startswith("awd_")
    assert credential.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert credential.secret == ""
    entry = AuditEvent.objects.get(action="device_credential.issue")
    assert raw not in str(entry.changes)
    assert credential.digest not in str(entry.changes)


@pytest.mark.parametrize("kind", [CredentialKind.HMAC, CredentialKind.HTTP_DIGEST])
def test_other_secrets_are_encrypted_at_rest(world, kind):
    device = make(world)
    credential, raw = services.device_credential_issue(actor=None, device=device, kind=kind)
    assert DeviceCredential.objects.get(pk=credential.pk).secret == raw
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM devices_devicecredential WHERE id = %s", [credential.pk])
        stored = cursor.fetchone()[0]
    assert raw not in stored
    if kind == CredentialKind.HTTP_DIGEST:
        assert credential.username == "cam-1"
    entry = AuditEvent.objects.get(action="device_credential.issue")
    assert raw not in str(entry.changes)


def test_revoke_is_audited_and_idempotent(world):
    device = make(world)
    credential, _raw = services.device_credential_issue(
        actor=None, device=device, kind=CredentialKind.HMAC
    )
    services.device_credential_revoke(actor=world.user("community_admin"), credential=credential)
    services.device_credential_revoke(actor=world.user("community_admin"), credential=credential)
    assert credential.revoked_at is not None
    assert AuditEvent.objects.filter(action="device_credential.revoke").count() == 1


def test_guard_cannot_issue_credentials(world):
    device = make(world)
    with pytest.raises(PermissionDenied):
        services.device_credential_issue(
            actor=world.user("guard"), device=device, kind=CredentialKind.TOKEN
        )


def test_a_device_may_sit_in_a_building_of_its_own_community(world: Any) -> None:
    from anwang.devices.services import device_create, device_update
    from anwang.places.models import Building

    admin = world.user("community_admin")
    device = device_create(
        actor=admin,
        community=world.a.community,
        name="1号楼 烟感",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id="b01/smoke",
        building=world.a.building,
    )
    assert device.building == world.a.building
    other = Building.objects.filter(community=world.b.community).first()
    with pytest.raises(ServiceError) as refused:
        device_update(actor=admin, device=device, building=other)
    assert refused.value.field == "building"
    device_update(actor=admin, device=device, building=None)
    device.refresh_from_db()
    assert device.building is None

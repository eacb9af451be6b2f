"""Access services and selectors: access points, credentials (normalised and indexed, face
rules), consent, the watch list, permissions, and audited reads of movements."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from anwang.access import selectors, services
from anwang.access.choices import (
    AccessCredentialKind,
    AccessMethod,
    AccessPointKind,
    AccessResult,
    ConsentKind,
    CredentialStatus,
    WatchKind,
)
from anwang.access.models import AccessEvent, AccessPoint, Credential, WatchListEntry
from anwang.access.tests.support import T0, AccessWorld, give_face, make_device
from anwang.accounts.selectors import scope_for
from anwang.alarms.models import Alarm
from anwang.audit.models import AuditEvent
from anwang.core.crypto import blind_index
from anwang.core.errors import ConflictError, ServiceError


def manager(world: Any) -> Any:
    return world.user("community_admin")


# --------------------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("浙a 123.45", "浙A12345"), ("浙A·12345", "浙A12345"), ("粤B-D12345", "粤BD12345")],
)
def test_plates_are_normalised(raw: str, stored: str) -> None:
    assert services.normalise_value(AccessCredentialKind.PLATE, raw) == stored


def test_bad_values_are_refused() -> None:
    with pytest.raises(ServiceError) as plate:
        services.normalise_value(AccessCredentialKind.PLATE, "A1")
    assert plate.value.field == "value"
    with pytest.raises(ServiceError):
        services.normalise_value(AccessCredentialKind.CARD, "12-34")
    assert services.normalise_value(AccessCredentialKind.CARD, " 9f03 a1c2 ") == "9F03A1C2"


def test_credential_is_encrypted_and_indexed(world: Any) -> None:
    credential = services.credential_create(
        actor=manager(world),
        resident=world.a.resident,
        kind=AccessCredentialKind.PLATE,
        value="浙a·88888",
        valid_until=T0 + dt.timedelta(days=365),
        now=T0,
    )
    credential.refresh_from_db()
    assert credential.value == "浙A88888"
    assert credential.value_index == blind_index("浙A88888")
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM access_credential WHERE id = %s", [credential.pk])
        assert "88888" not in cursor.fetchone()[0]
    entry = AuditEvent.objects.filter(action="access.credential_create").get()
    assert "88888" not in str(entry.changes)
    scope = scope_for(manager(world))
    assert list(selectors.credentials(scope, number="浙A 88888")) == [credential]
    assert selectors.credential_find(world.a.community.pk, "plate", "浙A.88888") == credential


def test_duplicate_active_number_is_refused(access_world: AccessWorld, world: Any) -> None:
    with pytest.raises(ConflictError):
        services.credential_create(
            actor=manager(world),
            resident=world.a.resident,
            kind=AccessCredentialKind.CARD,
            value=access_world.card.value,
        )


def test_window_end_must_follow_start(world: Any) -> None:
    with pytest.raises(ServiceError) as error:
        services.credential_create(
            actor=manager(world),
            resident=world.a.resident,
            kind=AccessCredentialKind.CARD,
            value="1234",
            valid_from=T0,
            valid_until=T0 - dt.timedelta(days=1),
        )
    assert error.value.field == "valid_until"


# --------------------------------------------------------------------------- permissions


def test_writes_need_manage_access(access_world: AccessWorld, world: Any) -> None:
    resident = world.a.resident
    # The operator sees access data (403), a resident does not (404), nor another community.
    with pytest.raises(PermissionDenied):
        services.credential_create(
            actor=world.user("operator"), resident=resident, kind="card", value="42"
        )
    with pytest.raises(Http404):
        services.credential_create(
            actor=world.user("resident"), resident=resident, kind="card", value="42"
        )
    with pytest.raises(Http404):
        services.credential_create(
            actor=world.user("community_admin", "b"), resident=resident, kind="card", value="42"
        )


def test_lists_are_per_community(access_world: AccessWorld, world: Any) -> None:
    assert selectors.may_view(scope_for(world.user("operator")), world.a.community.pk)
    assert not selectors.may_manage(scope_for(world.user("operator")), world.a.community.pk)
    other = scope_for(world.user("community_admin", "b"))
    assert not selectors.credentials(other).exists()
    assert not selectors.access_points(other).exists()
    with pytest.raises(Http404):
        selectors.credential_get(other, access_world.card.pk)
    mine = scope_for(manager(world))
    assert selectors.credentials(mine, resident_id=world.a.resident.pk).count() == 3


# --------------------------------------------------------------------------- access points


def test_access_point_device_must_be_the_communitys(access_world: AccessWorld, world: Any) -> None:
    foreign = make_device(world.b.community, "b-controller", name="b 门禁")
    with pytest.raises(ServiceError) as error:
        services.access_point_create(
            actor=manager(world),
            community=world.a.community,
            name="南门",
            kind=AccessPointKind.GATE,
            device=foreign,
        )
    assert error.value.field == "device"


def test_access_point_doors_of_one_device(access_world: AccessWorld, world: Any) -> None:
    point = services.access_point_create(
        actor=manager(world),
        community=world.a.community,
        name="北门 2",
        kind=AccessPointKind.GATE,
        device=access_world.controller,
        door_no=2,
    )
    assert point.door_no == 2
    with pytest.raises(ServiceError):
        services.access_point_create(
            actor=manager(world),
            community=world.a.community,
            name="北门 again",
            kind=AccessPointKind.GATE,
            device=access_world.controller,
            door_no=1,
        )
    with pytest.raises(ServiceError):
        services.access_point_create(
            actor=manager(world),
            community=world.a.community,
            name="北门 any",
            kind=AccessPointKind.GATE,
            device=access_world.controller,
        )
    assert AuditEvent.objects.filter(action="access.point_create").count() == 1


def test_restricted_hours(access_world: AccessWorld, world: Any) -> None:
    with pytest.raises(ServiceError) as error:
        services.access_point_create(
            actor=manager(world),
            community=world.a.community,
            name="屋顶",
            kind=AccessPointKind.OTHER,
            is_restricted=True,
            permitted_from=dt.time(8),
        )
    assert error.value.field == "permitted_until"
    night = services.access_point_create(
        actor=manager(world),
        community=world.a.community,
        name="屋顶",
        kind=AccessPointKind.OTHER,
        is_restricted=True,
        permitted_from=dt.time(22),
        permitted_until=dt.time(6),
    )
    assert not services.outside_permitted_hours(night, T0.replace(hour=23))
    assert services.outside_permitted_hours(night, T0.replace(hour=12))
    updated = services.access_point_update(
        actor=manager(world),
        point=night,
        name="屋顶平台",
        kind=AccessPointKind.OTHER,
        is_active=False,
    )
    assert (updated.name, updated.is_active, updated.is_restricted) == ("屋顶平台", False, False)
    assert AccessPoint.objects.get(pk=night.pk).permitted_from is None


# --------------------------------------------------------------------------- face rules


def test_face_needs_consent_and_an_alternative(world: Any) -> None:
    resident = world.a.resident
    actor = manager(world)
    with pytest.raises(ServiceError, match="consent"):
        services.credential_create(actor=actor, resident=resident, kind="face", value="A0012")
    consent = services.consent_record(
        actor=actor, resident=resident, kind=ConsentKind.FACE, how="书面同意书 v1", now=T0
    )
    with pytest.raises(ServiceError, match="never the only way in"):
        services.credential_create(
            actor=actor, resident=resident, kind="face", value="A0012", now=T0
        )
    services.credential_create(actor=actor, resident=resident, kind="qr", value="QR-9", now=T0)
    face = services.credential_create(
        actor=actor, resident=resident, kind="face", value="A0012", now=T0
    )
    assert face.consent == consent
    with pytest.raises(ConflictError):
        services.consent_record(actor=actor, resident=resident, kind="face", how="again", now=T0)


def test_last_alternative_cannot_be_revoked(access_world: AccessWorld, world: Any) -> None:
    actor = manager(world)
    give_face(world.a.resident)
    services.credential_set_status(
        actor=actor, credential=access_world.qr, status=CredentialStatus.REVOKED
    )
    with pytest.raises(ConflictError, match="last card or QR"):
        services.credential_set_status(
            actor=actor, credential=access_world.card, status=CredentialStatus.REVOKED
        )


def test_consent_withdrawal_revokes_face_credentials(access_world: AccessWorld, world: Any) -> None:
    face = give_face(world.a.resident)
    assert face.consent is not None
    services.consent_withdraw(actor=manager(world), consent=face.consent, now=T0)
    face.refresh_from_db()
    assert face.status == CredentialStatus.REVOKED
    assert face.consent.withdrawn_at == T0
    assert access_world.card.status == CredentialStatus.ACTIVE
    with pytest.raises(ConflictError):
        services.consent_withdraw(actor=manager(world), consent=face.consent, now=T0)
    with pytest.raises(ServiceError, match="consent"):
        services.credential_create(
            actor=manager(world), resident=world.a.resident, kind="face", value="A0013"
        )


# --------------------------------------------------------------------------- watch list


def test_lost_card_goes_on_the_watch_list_and_found_comes_off(
    access_world: AccessWorld, world: Any
) -> None:
    actor = manager(world)
    services.credential_set_status(
        actor=actor, credential=access_world.card, status=CredentialStatus.LOST, now=T0
    )
    entry = WatchListEntry.objects.get()
    assert (entry.kind, entry.credential, entry.ended_at) == (
        WatchKind.CREDENTIAL,
        access_world.card,
        None,
    )
    assert entry.reason == "Reported lost."
    services.credential_set_status(
        actor=actor, credential=access_world.card, status=CredentialStatus.ACTIVE, now=T0
    )
    entry.refresh_from_db()
    assert entry.ended_at == T0
    services.credential_set_status(
        actor=actor, credential=access_world.card, status=CredentialStatus.REVOKED
    )
    with pytest.raises(ConflictError):
        services.credential_set_status(
            actor=actor, credential=access_world.card, status=CredentialStatus.ACTIVE
        )


def test_watch_list_entries(access_world: AccessWorld, world: Any) -> None:
    actor = manager(world)
    with pytest.raises(ServiceError) as error:
        services.watch_add(
            actor=actor, community=world.a.community, kind=WatchKind.PERSON, reason="x"
        )
    assert error.value.field == "description"
    with pytest.raises(ServiceError):
        services.watch_add(
            actor=actor,
            community=world.a.community,
            kind=WatchKind.PERSON,
            resident=world.b.resident,
            reason="x",
        )
    entry = services.watch_add(
        actor=actor,
        community=world.a.community,
        kind=WatchKind.PLATE,
        plate="苏E 54321",
        reason="强闯道闸",
        priority=1,
    )
    assert entry.value_index == blind_index("苏E54321")
    assert entry.description == "苏E54321"
    assert list(selectors.watch_entries(scope_for(actor))) == [entry]
    with pytest.raises(PermissionDenied):
        services.watch_end(actor=world.user("operator"), entry=entry)
    services.watch_end(actor=actor, entry=entry)
    assert not selectors.watch_entries(scope_for(actor)).exists()
    with pytest.raises(ConflictError):
        services.watch_end(actor=actor, entry=entry)


def test_access_record_checks_the_watch_list(access_world: AccessWorld, world: Any) -> None:
    entry = services.watch_add(
        actor=None,
        community=world.a.community,
        kind=WatchKind.PERSON,
        resident=world.a.resident,
        reason="限制进入",
    )
    event = services.access_record(
        community=world.a.community,
        access_point=access_world.gate,
        at=T0,
        result=AccessResult.DENIED,
        method=AccessMethod.QR,
        credential=access_world.qr,
    )
    assert event.resident == world.a.resident
    assert Alarm.objects.get().source_key == f"watch:{entry.pk}:{event.pk}"
    services.access_record(
        community=world.a.community,
        access_point=access_world.gate,
        at=T0,
        result=AccessResult.DENIED,
        method=AccessMethod.QR,
        credential=access_world.qr,
        raise_alarms=False,
    )
    assert Alarm.objects.count() == 1
    with pytest.raises(ServiceError):
        services.access_record(
            community=world.b.community,
            access_point=access_world.gate,
            at=T0,
            result=AccessResult.GRANTED,
            method=AccessMethod.CARD,
        )


# --------------------------------------------------------------------------- audited reads


def test_every_view_of_movements_is_audited(access_world: AccessWorld, world: Any) -> None:
    AccessEvent.objects.create(
        community=world.a.community,
        access_point=access_world.gate,
        at=T0,
        result=AccessResult.GRANTED,
        method=AccessMethod.CARD,
        credential=access_world.card,
        resident=world.a.resident,
    )
    operator = world.user("operator")
    scope = scope_for(operator)
    for _ in range(2):
        found = selectors.resident_movements(scope, operator, world.a.resident)
        assert len(found) == 1
    entries = AuditEvent.objects.filter(action="access.view_movements")
    assert entries.count() == 2
    assert {entry.actor_id for entry in entries} == {operator.pk}
    with pytest.raises(Http404):
        selectors.resident_movements(
            scope_for(world.user("community_admin", "b")), None, world.a.resident
        )
    selectors.access_events(scope)
    assert AuditEvent.objects.filter(action="access.view_events").count() == 1


def test_reason_text() -> None:
    assert selectors.reason_text("valid_card|credential_lost") == (
        "valid card; credential reported lost"
    )


def test_credentials_of_residents_by_status(access_world: AccessWorld, world: Any) -> None:
    scope = scope_for(manager(world))
    Credential.objects.filter(pk=access_world.qr.pk).update(status=CredentialStatus.LOST)
    assert list(selectors.credentials(scope, status="lost")) == [
        Credential.objects.get(pk=access_world.qr.pk)
    ]
    info = selectors.resident_access(scope, world.a.resident)
    assert len(info.credentials) == 3
    assert info.face_consent is None

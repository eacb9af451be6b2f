"""A person's access data on request: the export (contents, masking, audited with counts)
and the erasure (records, credentials and watch-list entries go, consents stay, audited with
counts); erasing the resident in the people app deletes their access records too; the page's
buttons and the API's permissions."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from anwang.access import receivers  # noqa: F401  (the lead connects it in AccessConfig.ready)
from anwang.access.choices import AccessMethod, AccessResult, WatchKind
from anwang.access.models import (
    AccessEvent,
    AccessFinding,
    ConsentRecord,
    Credential,
    VisitorPass,
    WatchListEntry,
)
from anwang.access.retention import resident_access_erase, resident_access_export
from anwang.access.tests.support import CARD_NO, PLATE, T0, AccessWorld, give_face
from anwang.audit.models import AuditEvent
from anwang.people.models import HouseholdBinding
from anwang.people.services import resident_erase

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def movements(aw: AccessWorld, count: int = 2) -> list[AccessEvent]:
    """Card accesses of the resident at the gate."""
    return [
        AccessEvent.objects.create(
            community=aw.community,
            access_point=aw.gate,
            at=T0 + dt.timedelta(hours=hour),
            result=AccessResult.GRANTED,
            method=AccessMethod.CARD,
            credential=aw.card,
            resident=aw.resident,
            presented_index=aw.card.value_index,
        )
        for hour in range(count)
    ]


def a_finding(aw: AccessWorld, *, resident: bool = True) -> AccessFinding:
    """An anomaly finding about the resident's card in the plant room at night (by person, or
    by credential only)."""
    at = T0.replace(hour=2)
    return AccessFinding.objects.create(
        community=aw.community,
        detector="outside_hours",
        at=at,
        access_point=aw.plant_room,
        credential=aw.card,
        resident=aw.resident if resident else None,
        explanation={"local_time": "02:00", "permitted_from": "08:00", "permitted_until": "18:00"},
        key=f"outside_hours:{int(at.timestamp())}:{aw.plant_room.pk}:{aw.card.pk}:{resident}",
        found_at=T0,
    )


def populate(aw: AccessWorld) -> dict[str, Any]:
    """Movements, an anomaly finding, a face credential with consent, a watch-list entry and a
    visitor pass registered by an account bound to the resident."""
    events = movements(aw)
    a_finding(aw)
    # An access by credential only (the person not resolved at the time) is theirs too.
    by_card = AccessEvent.objects.create(
        community=aw.community,
        access_point=aw.barrier,
        at=T0 + dt.timedelta(hours=5),
        result=AccessResult.DENIED,
        method=AccessMethod.PLATE,
        credential=aw.plate,
        presented_index=aw.plate.value_index,
    )
    face = give_face(aw.resident)
    watch = WatchListEntry.objects.create(
        community=aw.community,
        kind=WatchKind.CREDENTIAL,
        credential=aw.card,
        reason="挂失",
        created_at=T0,
    )
    account = aw.world.user("resident")
    HouseholdBinding.objects.get_or_create(
        user=account,
        household=aw.world.a.household,
        defaults={"resident": aw.resident},
    )
    HouseholdBinding.objects.filter(user=account).update(resident=aw.resident)
    visitor = VisitorPass.objects.create(
        community=aw.community,
        household=aw.world.a.household,
        host=account,
        visitor_name="李雷",
        visitor_phone="13912345678",
        valid_from=T0,
        valid_until=T0 + dt.timedelta(hours=4),
        nonce=secrets.token_hex(16),
        created_at=T0,
    )
    return {"events": [*events, by_card], "face": face, "watch": watch, "pass": visitor}


def test_export_holds_the_person_s_data_with_full_numbers_for_managers(
    world, access_world: AccessWorld
):
    populate(access_world)
    admin = world.user("community_admin")
    data = resident_access_export(actor=admin, resident=access_world.resident)
    json.dumps(data)  # JSON-able
    assert data["resident"]["id"] == access_world.resident.pk
    assert data["numbers_masked"] is False
    numbers = {c["kind"]: c["number"] for c in data["credentials"]}
    assert numbers["card"] == CARD_NO
    assert numbers["plate"] == PLATE
    assert {"kind", "label", "valid_from", "valid_until", "status"} <= set(data["credentials"][0])
    assert [c["kind"] for c in data["consents"]] == ["face"]
    assert len(data["accesses"]) == 3
    assert data["accesses"][0] == {
        "at": T0.isoformat(),
        "point": "北门",
        "result": "granted",
        "method": "card",
    }
    assert [p["visitor_name"] for p in data["visitor_passes"]] == ["李雷"]
    assert data["visitor_passes"][0]["visitor_phone"] == "13912345678"
    assert [w["reason"] for w in data["watch_entries"]] == ["挂失"]
    [finding] = data["access_findings"]
    assert finding["detector"] == "outside_hours"
    assert finding["point"] == "水泵房"
    assert finding["status"] == "new"
    [entry] = AuditEvent.objects.filter(action="access.export")
    assert entry.actor_id == admin.pk
    assert entry.changes == {
        "credentials": 4,
        "consents": 1,
        "accesses": 3,
        "access_findings": 1,
        "visitor_passes": 1,
        "watch_entries": 1,
        "masked": False,
    }
    assert access_world.resident.name not in entry.object_repr


def test_export_masks_numbers_for_viewers(world, access_world: AccessWorld):
    populate(access_world)
    data = resident_access_export(actor=world.user("operator"), resident=access_world.resident)
    assert data["numbers_masked"] is True
    text = json.dumps(data, ensure_ascii=False)
    assert CARD_NO not in text
    assert PLATE not in text
    assert "13912345678" not in text
    card = next(c for c in data["credentials"] if c["kind"] == "card")
    assert card["number"] == "******8211"
    assert AuditEvent.objects.get(action="access.export").changes["masked"] is True


def test_erase_removes_events_credentials_and_watch_entries_and_keeps_consents(
    world, access_world: AccessWorld
):
    made = populate(access_world)
    a_finding(access_world, resident=False)  # by the card only: the person's too
    other = AccessEvent.objects.create(
        community=access_world.community,
        access_point=access_world.gate,
        at=T0,
        result=AccessResult.DENIED,
        method=AccessMethod.CARD,
        presented_index="someone-else",
    )
    counts = resident_access_erase(
        actor=world.user("community_admin"), resident=access_world.resident
    )
    assert counts == {
        "access_events": 3,
        "access_findings": 2,
        "credentials": 4,
        "watch_entries": 1,
        "consents_kept": 1,
    }
    assert list(AccessEvent.objects.values_list("pk", flat=True)) == [other.pk]
    assert not AccessFinding.objects.exists()
    assert not Credential.objects.filter(resident=access_world.resident).exists()
    assert not WatchListEntry.objects.exists()
    assert ConsentRecord.objects.filter(resident=access_world.resident).count() == 1
    # The visitor pass is the host's record of their visitor, not the resident's movements.
    assert VisitorPass.objects.filter(pk=made["pass"].pk).exists()
    [entry] = AuditEvent.objects.filter(action="access.erase")
    assert entry.changes == counts
    assert entry.object_repr == f"#{access_world.resident.pk}"
    assert CARD_NO not in json.dumps(entry.changes)


def test_erase_needs_manage_access(world, access_world: AccessWorld):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises(PermissionDenied):
        resident_access_erase(actor=world.user("operator"), resident=access_world.resident)
    with pytest.raises(Http404):
        resident_access_erase(
            actor=world.user("community_admin", "b"), resident=access_world.resident
        )
    with pytest.raises(Http404):
        resident_access_export(
            actor=world.user("community_admin", "b"), resident=access_world.resident
        )
    assert Credential.objects.filter(resident=access_world.resident).count() == 3


def test_erasing_the_resident_in_people_deletes_their_access_events(
    world, access_world: AccessWorld
):
    events = movements(access_world, 3)
    finding = a_finding(access_world)
    kept = AccessEvent.objects.create(
        community=access_world.community,
        access_point=access_world.gate,
        at=T0,
        result=AccessResult.DENIED,
        method=AccessMethod.CARD,
        presented_index="someone-else",
    )
    resident_erase(actor=world.user("community_admin"), resident=access_world.resident)
    assert not AccessEvent.objects.filter(pk__in=[e.pk for e in events]).exists()
    assert not AccessEvent.objects.filter(presented_index=access_world.card.value_index).exists()
    assert AccessEvent.objects.filter(pk=kept.pk).exists()
    assert not AccessFinding.objects.filter(pk=finding.pk).exists()


def test_erasing_a_resident_with_a_face_credential_takes_consent_and_face_with_them(
    world, access_world: AccessWorld
):
    from anwang.access.models import ConsentRecord, Credential
    from anwang.access.tests.support import give_face

    face = give_face(access_world.resident)
    assert face.consent_id is not None
    resident_erase(actor=world.user("community_admin"), resident=access_world.resident)
    assert not Credential.objects.filter(pk=face.pk).exists()
    assert not ConsentRecord.objects.filter(pk=face.consent_id).exists()


# --------------------------------------------------------------------------- API


def test_api_export_and_erase(world, access_world: AccessWorld):
    populate(access_world)
    rid = access_world.resident.pk
    admin = client(world)
    exported = admin.get(f"{API}/access/residents/{rid}/export")
    assert exported.status_code == 200, exported.content
    assert len(exported.json()["accesses"]) == 3
    viewer = client(world, "operator")
    assert viewer.get(f"{API}/access/residents/{rid}/export").json()["numbers_masked"] is True
    assert viewer.post(f"{API}/access/residents/{rid}/erase").status_code == 403
    outsider = client(world, side="b")
    assert outsider.get(f"{API}/access/residents/{rid}/export").status_code == 404
    assert outsider.post(f"{API}/access/residents/{rid}/erase").status_code == 404
    assert client(world, "guard").get(f"{API}/access/residents/{rid}/export").status_code == 404
    erased = admin.post(f"{API}/access/residents/{rid}/erase")
    assert erased.status_code == 200, erased.content
    assert erased.json() == {
        "access_events": 3,
        "access_findings": 1,
        "credentials": 4,
        "watch_entries": 1,
        "consents_kept": 1,
    }
    assert not AccessEvent.objects.exists()


# --------------------------------------------------------------------------- pages


def test_page_offers_export_to_viewers_and_erase_to_managers(world, access_world: AccessWorld):
    url = reverse("access:resident", args=[access_world.resident.pk])
    admin_page = client(world).get(url).content.decode()
    assert 'data-testid="export-access-data"' in admin_page
    assert 'data-testid="erase-access-data"' in admin_page
    viewer_page = client(world, "operator").get(url).content.decode()
    assert 'data-testid="export-access-data"' in viewer_page
    assert 'data-testid="erase-access-data"' not in viewer_page


def test_page_export_downloads_json(world, access_world: AccessWorld):
    movements(access_world)
    response = client(world).get(reverse("access:resident_export", args=[access_world.resident.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert len(json.loads(response.content)["accesses"]) == 2


def test_page_erase_needs_the_typed_name(world, access_world: AccessWorld):
    movements(access_world)
    url = reverse("access:resident_erase", args=[access_world.resident.pk])
    admin = client(world)
    wrong = admin.post(url, {"confirm": "someone"})
    assert wrong.status_code == 400
    body = wrong.content.decode()
    assert "Type the resident&#x27;s name exactly" in body
    assert 'value="someone"' in body
    assert AccessEvent.objects.count() == 2
    assert (
        client(world, "operator").post(url, {"confirm": access_world.resident.name}).status_code
        == 403
    )
    assert (
        client(world, side="b").post(url, {"confirm": access_world.resident.name}).status_code
        == 404
    )
    done = admin.post(url, {"confirm": access_world.resident.name}, follow=True)
    assert done.status_code == 200
    assert "access data was erased" in done.content.decode()
    assert not AccessEvent.objects.exists()
    assert not Credential.objects.filter(resident=access_world.resident).exists()
    assert AuditEvent.objects.filter(action="access.erase").count() == 1

"""The Django admin of places: changes are audited and geometry is checked."""

import json

import pytest
from conftest import SQUARE
from django.test import Client

from anwang.audit.models import AuditEvent
from anwang.places.models import Building, Household, Zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(world) -> Client:
    client = Client()
    client.force_login(world.platform_admin)
    client.cookies["anwang_language"] = "en"
    return client


def test_changelists_render(admin_client):
    for model in ("region", "community", "grid", "building", "unit", "household", "zone"):
        response = admin_client.get(f"/admin/places/{model}/")
        assert response.status_code == 200, model


def test_saving_a_zone_in_the_admin_is_audited(admin_client, world):
    zone = world.a.zone
    response = admin_client.post(
        f"/admin/places/zone/{zone.pk}/change/",
        {
            "community": world.a.community.pk,
            "name": "北大门",
            "kind": "gate",
            "is_key_area": "on",
            "geometry": json.dumps(SQUARE),
            "description": "",
        },
    )
    assert response.status_code == 302
    entry = AuditEvent.objects.get(action="zone.update")
    assert entry.actor_id == world.platform_admin.pk
    assert entry.community_id == world.a.community.pk
    assert entry.changes == {"name": ["北门", "北大门"]}


def test_bad_geometry_is_refused_in_the_admin(admin_client, world):
    response = admin_client.post(
        f"/admin/places/zone/{world.a.zone.pk}/change/",
        {
            "community": world.a.community.pk,
            "name": "北门",
            "kind": "gate",
            "geometry": json.dumps({"type": "Polygon", "coordinates": [[[114.3, 30.5]]]}),
            "description": "",
        },
    )
    assert response.status_code == 200
    assert "at least 4 positions" in response.content.decode()
    assert Zone.objects.get(pk=world.a.zone.pk).geometry == SQUARE
    assert not AuditEvent.objects.filter(action="zone.update").exists()


def test_household_in_the_admin_takes_the_entrance_community(admin_client, world):
    response = admin_client.post(
        "/admin/places/household/add/",
        {"unit": world.b.unit.pk, "floor": 2, "number": "201", "note": ""},
    )
    assert response.status_code == 302
    household = Household.objects.get(unit=world.b.unit, number="201")
    assert household.community == world.b.community
    entry = AuditEvent.objects.get(action="household.create")
    assert entry.community_id == world.b.community.pk


def test_deleting_in_the_admin_is_audited(admin_client, world):
    building = Building.objects.create(community=world.a.community, name="临时", number="T")
    response = admin_client.post(f"/admin/places/building/{building.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Building.objects.filter(pk=building.pk).exists()
    entry = AuditEvent.objects.get(action="building.delete")
    assert entry.changes["number"] == ["T", None]

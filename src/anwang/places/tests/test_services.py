"""Writes of the places domain: permissions, validation, audit entries."""

import pytest
from conftest import SQUARE
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.accounts.selectors import scope_for
from anwang.accounts.services import api_token_create
from anwang.audit.models import AuditEvent
from anwang.audit.selectors import audit_chain_verify
from anwang.core.errors import ConflictError, ServiceError
from anwang.places import services
from anwang.places.choices import BuildingUse, ZoneKind
from anwang.places.models import Building, Community, Grid, Household, Region, Unit, Zone

pytestmark = pytest.mark.django_db

LINE = {"type": "LineString", "coordinates": [[114.30, 30.50], [114.302, 30.501]]}


def last_audit(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("seq")


# --------------------------------------------------------------------------- permissions


def test_community_admin_creates_a_building_with_an_audit_entry(world):
    admin = world.user("community_admin")
    building = services.building_create(
        actor=admin,
        community=world.a.community,
        number="7",
        floors=18,
        grid=world.a.grid,
        footprint=SQUARE,
    )
    assert building.name == "Building 7"
    assert building.use == BuildingUse.RESIDENTIAL
    entry = last_audit("building.create")
    assert entry.actor_id == admin.pk
    assert entry.object_id == str(building.pk)
    assert entry.community_id == world.a.community.pk
    assert entry.changes["number"] == [None, "7"]
    assert entry.changes["floors"] == [None, 18]
    assert entry.changes["grid"] == [None, world.a.grid.pk]
    assert audit_chain_verify().ok


def test_admin_of_b_gets_404_for_community_a(world):
    with pytest.raises(Http404):
        services.building_create(
            actor=world.user("community_admin", "b"), community=world.a.community, number="9"
        )
    with pytest.raises(Http404):
        services.zone_update(actor=world.user("community_admin", "b"), zone=world.a.zone, name="x")
    assert not Building.objects.filter(number="9").exists()
    assert Zone.objects.get(pk=world.a.zone.pk).name == "北门"


@pytest.mark.parametrize("role", ["guard", "operator", "grid_worker", "supervisor"])
def test_viewers_who_cannot_manage_get_403(world, role):
    with pytest.raises(PermissionDenied):
        services.zone_update(actor=world.user(role), zone=world.a.zone, name="renamed")
    assert Zone.objects.get(pk=world.a.zone.pk).name == "北门"


def test_resident_cannot_see_so_gets_404(world):
    with pytest.raises(Http404):
        services.household_update(
            actor=world.user("resident"), household=world.a.household, is_rented=True
        )


def test_token_limited_to_b_cannot_write_in_a(world):
    admin = world.user("community_admin")
    Membership.objects.create(user=admin, role=Role.COMMUNITY_ADMIN, community=world.b.community)
    token, _raw = api_token_create(actor=admin, user=admin, community_id=world.b.community.pk)
    scope = scope_for(admin, token=token)
    with pytest.raises(Http404):
        services.grid_create(actor=admin, scope=scope, community=world.a.community, name="X")
    grid = services.grid_create(actor=admin, scope=scope, community=world.b.community, name="X")
    assert grid.community == world.b.community


def test_regions_and_new_communities_are_for_platform_admins(world):
    with pytest.raises(PermissionDenied):
        services.region_create(actor=world.user("community_admin"), name="南湖街道", code="nanhu")
    with pytest.raises(PermissionDenied):
        services.community_create(
            actor=world.user("supervisor"), region=world.a.region, name="新社区", slug="new"
        )
    # A supervisor sees their street office, so changing it is forbidden, not hidden.
    with pytest.raises(PermissionDenied):
        services.region_update(actor=world.user("supervisor"), region=world.a.region, name="x")
    with pytest.raises(Http404):
        services.region_update(actor=world.user("supervisor", "b"), region=world.a.region, name="x")
    region = services.region_create(actor=world.platform_admin, name="南湖街道", code="nanhu")
    community = services.community_create(
        actor=world.platform_admin, region=region, name="新社区", slug="xin", boundary=SQUARE
    )
    # The centre is taken from the boundary when not given.
    assert community.latitude == pytest.approx(30.5005)
    assert community.longitude == pytest.approx(114.3005)
    # The platform admin may work in the new community at once (the scope was cached before).
    services.building_create(actor=world.platform_admin, community=community, number="1")


def test_community_admin_edits_own_community_but_not_its_street_office(world):
    admin = world.user("community_admin")
    services.community_update(
        actor=admin, community=world.a.community, phone="027-8888 1234", address="翠苑路1号"
    )
    entry = last_audit("community.update")
    assert entry.changes == {
        "address": ["", "翠苑路1号"],
        "phone": ["", "027-8888 1234"],
    }
    with pytest.raises(ServiceError) as caught:
        services.community_update(actor=admin, community=world.a.community, region=world.b.region)
    assert caught.value.field == "region"
    assert Community.objects.get(pk=world.a.community.pk).region == world.a.region


def test_system_calls_need_no_actor(world):
    region = services.region_create(actor=None, name="系统街道", code="system")
    assert last_audit("region.create").actor_id is None
    assert region.pk


# --------------------------------------------------------------------------- validation


def test_duplicate_building_number_is_a_field_error_not_an_integrity_error(world):
    with pytest.raises(ConflictError) as caught:
        services.building_create(
            actor=world.user("community_admin"), community=world.a.community, number="1"
        )
    assert caught.value.field == "number"
    assert "already has a building" in str(caught.value.message)
    # The same number in another community is fine.
    services.building_create(actor=None, community=world.b.community, number="2")
    services.building_create(actor=None, community=world.a.community, number="2")


def test_duplicate_numbers_within_parents(world):
    with pytest.raises(ConflictError) as caught:
        services.unit_create(actor=None, building=world.a.building, number="1")
    assert caught.value.field == "number"
    with pytest.raises(ConflictError) as caught:
        services.household_create(actor=None, unit=world.a.unit, floor=3, number="301")
    assert caught.value.field == "number"
    with pytest.raises(ConflictError) as caught:
        services.grid_create(actor=None, community=world.a.community, name="a 第一网格")
    assert caught.value.field == "name"
    with pytest.raises(ConflictError) as caught:
        services.grid_create(actor=None, community=world.a.community, name="二", code="G1")
    assert caught.value.field == "code"
    with pytest.raises(ConflictError) as caught:
        services.zone_create(
            actor=None, community=world.a.community, name="北门", kind=ZoneKind.GATE, geometry=LINE
        )
    assert caught.value.field == "name"
    with pytest.raises(ConflictError):
        services.region_create(actor=None, name="x", code="a-region")


def test_bad_geojson_is_refused_and_the_saved_shape_kept(world):
    building = world.a.building
    open_ring = {"type": "Polygon", "coordinates": [SQUARE["coordinates"][0][:-1]]}
    with pytest.raises(ServiceError) as caught:
        services.building_update(actor=None, building=building, footprint=open_ring, floors=9)
    assert caught.value.field == "footprint"
    assert "not closed" in str(caught.value.message)
    stored = Building.objects.get(pk=building.pk)
    assert stored.footprint == SQUARE
    assert stored.floors == 6
    assert not AuditEvent.objects.filter(action="building.update").exists()


def test_zone_needs_a_geometry_of_an_allowed_kind(world):
    community = world.a.community
    with pytest.raises(ServiceError) as caught:
        services.zone_create(
            actor=None, community=community, name="无形", kind=ZoneKind.OTHER, geometry=""
        )
    assert caught.value.field == "geometry"
    zone = services.zone_create(
        actor=None, community=community, name="河堤", kind=ZoneKind.RIVER_BANK, geometry=LINE
    )
    assert zone.geometry == LINE
    with pytest.raises(ServiceError):
        services.zone_create(
            actor=None, community=community, name="坏", kind="lake", geometry=SQUARE
        )
    # A footprint must be an area.
    with pytest.raises(ServiceError) as caught:
        services.building_create(actor=None, community=community, number="8", footprint=LINE)
    assert caught.value.field == "footprint"


def test_text_lengths_and_required_fields(world):
    with pytest.raises(ServiceError) as caught:
        services.building_create(actor=None, community=world.a.community, number="  ")
    assert caught.value.field == "number"
    with pytest.raises(ServiceError) as caught:
        services.building_create(actor=None, community=world.a.community, number="x" * 21)
    assert caught.value.field == "number"
    assert "at most 20" in str(caught.value.message)


def test_slug_and_phone_are_checked(world):
    admin = world.user("community_admin")
    with pytest.raises(ServiceError) as caught:
        services.community_update(actor=admin, community=world.a.community, slug="翠 苑")
    assert caught.value.field == "slug"
    with pytest.raises(ServiceError) as caught:
        services.community_update(actor=admin, community=world.a.community, phone="call me")
    assert caught.value.field == "phone"
    with pytest.raises(ServiceError) as caught:
        services.community_update(
            actor=admin, community=world.a.community, latitude=114.3, longitude=30.5
        )
    assert "swapped" in str(caught.value.message)
    with pytest.raises(ServiceError) as caught:
        services.community_update(actor=admin, community=world.a.community, latitude=None)
    assert caught.value.field == "latitude"


def test_grid_worker_must_hold_the_role_in_the_community(world):
    worker = world.user("grid_worker")
    grid = services.grid_update(actor=None, grid=world.a.grid, grid_worker=worker)
    assert grid.grid_worker == worker
    for wrong in (world.user("guard"), world.user("grid_worker", "b")):
        with pytest.raises(ServiceError) as caught:
            services.grid_update(actor=None, grid=world.a.grid, grid_worker=wrong)
        assert caught.value.field == "grid_worker"
        assert wrong.username not in str(caught.value.message)
    services.grid_update(actor=None, grid=world.a.grid, grid_worker=None)
    assert Grid.objects.get(pk=world.a.grid.pk).grid_worker is None


def test_building_grid_must_be_of_the_same_community(world):
    with pytest.raises(ServiceError) as caught:
        services.building_update(actor=None, building=world.a.building, grid=world.b.grid)
    assert caught.value.field == "grid"
    services.building_update(actor=None, building=world.a.building, grid=None)
    assert Building.objects.get(pk=world.a.building.pk).grid is None


def test_household_community_follows_its_entrance(world):
    household = services.household_create(
        actor=world.user("community_admin"),
        unit=world.a.unit,
        floor=5,
        number="502",
        area_m2="89.5",
    )
    assert household.community == world.a.community
    assert str(household.area_m2) == "89.50"
    assert last_audit("household.create").changes["area_m2"] == [None, "89.50"]
    with pytest.raises(ServiceError) as caught:
        services.household_create(
            actor=None,
            unit=world.b.unit,
            floor=2,
            number="201",
            community=world.a.community,
        )
    assert caught.value.field == "unit"
    with pytest.raises(ServiceError) as caught:
        services.household_update(actor=None, household=household, unit=world.b.unit)
    assert caught.value.field == "unit"
    assert Household.objects.get(pk=household.pk).unit == world.a.unit


def test_household_floor_is_within_the_building(world):
    for floor, text in ((0, "no floor 0"), (7, "only 6 floors"), (-11, "from -10")):
        with pytest.raises(ServiceError) as caught:
            services.household_create(actor=None, unit=world.a.unit, floor=floor, number="x")
        assert caught.value.field == "floor"
        assert text in str(caught.value.message)
    basement = services.household_create(actor=None, unit=world.a.unit, floor=-1, number="B1")
    assert basement.floor == -1


def test_household_moves_to_another_entrance_of_the_same_community(world):
    second = services.unit_create(actor=None, building=world.a.building, number="2")
    moved = services.household_update(actor=None, household=world.a.household, unit=second)
    assert moved.unit == second
    assert moved.address == "1-2-301"
    entry = last_audit("household.update")
    assert entry.changes == {"unit": [world.a.unit.pk, second.pk]}


def test_building_cannot_lose_floors_households_live_on(world):
    with pytest.raises(ConflictError) as caught:
        services.building_update(actor=None, building=world.a.building, floors=2)
    assert caught.value.field == "floors"
    assert Building.objects.get(pk=world.a.building.pk).floors == 6
    services.building_update(actor=None, building=world.a.building, floors=3)


def test_update_without_changes_writes_no_audit_entry(world):
    before = AuditEvent.objects.count()
    services.zone_update(actor=None, zone=world.a.zone, name="北门", is_key_area=True)
    assert AuditEvent.objects.count() == before


def test_building_name_falls_back_to_its_number(world):
    services.building_update(actor=None, building=world.a.building, name="", number="1A")
    assert Building.objects.get(pk=world.a.building.pk).name == "Building 1A"


# --------------------------------------------------------------------------- deleting


def test_building_with_households_cannot_be_deleted(world):
    admin = world.user("community_admin")
    with pytest.raises(ConflictError) as caught:
        services.building_delete(actor=admin, building=world.a.building)
    assert "still has 1 households" in str(caught.value.message)
    assert Building.objects.filter(pk=world.a.building.pk).exists()
    assert not AuditEvent.objects.filter(action="building.delete").exists()


def test_empty_building_is_deleted_with_its_entrances(world):
    admin = world.user("community_admin")
    building = services.building_create(actor=admin, community=world.a.community, number="5")
    services.unit_create(actor=admin, building=building, number="1")
    services.unit_create(actor=admin, building=building, number="2")
    services.building_delete(actor=admin, building=building)
    assert not Unit.objects.filter(building_id=building.pk).exists()
    entry = last_audit("building.delete")
    assert entry.changes["number"] == ["5", None]
    assert entry.changes["units"] == [["1", "2"], []]


def test_household_with_residents_cannot_be_deleted(world):
    with pytest.raises(ConflictError) as caught:
        services.household_delete(actor=None, household=world.a.household)
    assert "household members" in str(caught.value.message)
    assert Household.objects.filter(pk=world.a.household.pk).exists()


def test_unit_with_households_cannot_be_deleted(world):
    with pytest.raises(ConflictError):
        services.unit_delete(actor=None, unit=world.a.unit)
    empty = services.unit_create(actor=None, building=world.a.building, number="9")
    services.unit_delete(actor=None, unit=empty)
    assert last_audit("unit.delete").community_id == world.a.community.pk


def test_deleting_a_grid_keeps_its_buildings(world):
    services.grid_delete(actor=world.user("community_admin"), grid=world.a.grid)
    building = Building.objects.get(pk=world.a.building.pk)
    assert building.grid is None
    assert last_audit("grid.delete").changes["buildings"] == [["1"], []]


def test_community_with_data_cannot_be_deleted_but_an_empty_one_can(world):
    with pytest.raises(ConflictError):
        services.community_delete(actor=world.platform_admin, community=world.a.community)
    with pytest.raises(PermissionDenied):
        services.community_delete(actor=world.user("community_admin"), community=world.a.community)
    empty = services.community_create(
        actor=world.platform_admin, region=world.a.region, name="空社区", slug="empty"
    )
    services.community_delete(actor=world.platform_admin, community=empty)
    assert not Community.objects.filter(slug="empty").exists()
    with pytest.raises(ConflictError):
        services.region_delete(actor=world.platform_admin, region=world.a.region)
    lonely = Region.objects.create(name="空街道", code="lonely")
    services.region_delete(actor=world.platform_admin, region=lonely)
    assert last_audit("region.delete").changes["code"] == ["lonely", None]


def test_zone_delete_is_audited(world):
    services.zone_delete(actor=world.user("community_admin"), zone=world.a.zone)
    assert not Zone.objects.filter(pk=world.a.zone.pk).exists()
    entry = last_audit("zone.delete")
    assert entry.changes["is_key_area"] == [True, None]
    assert audit_chain_verify().ok

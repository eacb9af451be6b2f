"""Reads of the places domain: scoping, search, filters, map features and counts."""

from typing import Any

import pytest
from conftest import SQUARE, World
from django.http import Http404

from anwang.accounts.selectors import Scope, scope_for
from anwang.core.dashboard import dashboard_stats
from anwang.places import selectors
from anwang.places.choices import ZoneKind
from anwang.places.models import Building, Household, Unit, Zone

pytestmark = pytest.mark.django_db


def scope(world: World, role: str = "community_admin", side: str = "a") -> Scope:
    return scope_for(world.user(role, side))


def counts(obj: Any, *names: str) -> tuple[int, ...]:
    """Annotated counts of a selector's row."""
    return tuple(getattr(obj, name) for name in names)


def test_lists_show_only_visible_communities(world):
    admin_a = scope(world)
    assert list(selectors.building_list(admin_a)) == [world.a.building]
    assert list(selectors.household_list(admin_a)) == [world.a.household]
    assert list(selectors.zone_list(admin_a)) == [world.a.zone]
    assert list(selectors.grid_list(admin_a)) == [world.a.grid]
    assert list(selectors.unit_list(admin_a)) == [world.a.unit]
    assert list(selectors.community_list(admin_a)) == [world.a.community]
    assert list(selectors.region_list(admin_a)) == [world.a.region]


def test_residents_and_auditors_see_no_places(world):
    for role in ("resident", "auditor"):
        assert not selectors.building_list(scope(world, role)).exists()
        assert not selectors.region_list(scope(world, role)).exists()


def test_platform_admin_sees_everything(world):
    admin = scope_for(world.platform_admin)
    assert selectors.building_list(admin).count() == 2
    assert selectors.region_list(admin).count() == 2


def test_get_of_another_community_is_404(world):
    admin_a = scope(world)
    for get, obj in (
        (selectors.building_get, world.b.building),
        (selectors.household_get, world.b.household),
        (selectors.unit_get, world.b.unit),
        (selectors.grid_get, world.b.grid),
        (selectors.zone_get, world.b.zone),
        (selectors.community_get, world.b.community),
        (selectors.region_get, world.b.region),
    ):
        with pytest.raises(Http404):
            get(admin_a, obj.pk)
    with pytest.raises(Http404):
        selectors.building_get(admin_a, 999_999)


def test_supervisor_sees_every_community_of_their_street_office(world):
    supervisor = scope(world, "supervisor")
    assert selectors.building_get(supervisor, world.a.building.pk) == world.a.building
    with pytest.raises(Http404):
        selectors.building_get(supervisor, world.b.building.pk)
    assert selectors.sees_many_communities(supervisor)
    assert not selectors.sees_many_communities(scope(world))


def test_counts_are_annotated(world):
    Unit.objects.create(building=world.a.building, number="2")
    building = selectors.building_get(scope(world), world.a.building.pk)
    assert counts(building, "unit_count", "household_count") == (2, 1)
    community = selectors.community_get(scope(world), world.a.community.pk)
    assert counts(
        community, "building_count", "household_count", "zone_count", "key_area_count", "grid_count"
    ) == (1, 1, 1, 1, 1)
    grid = selectors.grid_get(scope(world), world.a.grid.pk)
    assert counts(grid, "building_count", "household_count") == (1, 1)


def test_buildings_sort_naturally_and_filter(world):
    community = world.a.community
    for number in ("10", "2", "3"):
        Building.objects.create(community=community, name=f"{number}号楼", number=number)
    numbers = [b.number for b in selectors.building_list(scope(world), community_id=community.pk)]
    assert numbers == ["1", "2", "3", "10"]
    in_grid = selectors.building_list(scope(world), grid_id=world.a.grid.pk)
    assert [b.number for b in in_grid] == ["1"]
    without = selectors.building_list(scope(world), community_id=community.pk, without_grid=True)
    assert [b.number for b in without] == ["2", "3", "10"]
    assert [b.number for b in selectors.building_list(scope(world), q="10")] == ["10"]


def test_household_search_by_address(world):
    unit2 = Unit.objects.create(building=world.a.building, number="2")
    Household.objects.create(community=world.a.community, unit=unit2, floor=3, number="301")
    Household.objects.create(
        community=world.a.community, unit=world.a.unit, floor=5, number="502", is_rented=True
    )
    s = scope(world)

    def addresses(**filters: Any) -> list[str]:
        return [h.address for h in selectors.household_list(s, **filters)]

    assert addresses(q="1-1-301") == ["1-1-301"]
    assert addresses(q="1 2 301") == ["1-2-301"]
    assert addresses(q="1-301") == ["1-1-301", "1-2-301"]
    assert addresses(q="502") == ["1-1-502"]
    assert addresses(floor=3) == ["1-1-301", "1-2-301"]
    assert addresses(is_rented=True) == ["1-1-502"]
    assert addresses(unit_id=unit2.pk) == ["1-2-301"]
    assert addresses(q="9-9-999") == []


def test_zone_filters(world):
    Zone.objects.create(
        community=world.a.community, name="停车场", kind=ZoneKind.PARKING, geometry=SQUARE
    )
    s = scope(world)
    assert [z.name for z in selectors.zone_list(s)] == ["北门", "停车场"]  # key areas first
    assert [z.name for z in selectors.zone_list(s, is_key_area=False)] == ["停车场"]
    assert [z.name for z in selectors.zone_list(s, kind=ZoneKind.GATE)] == ["北门"]
    assert [z.name for z in selectors.zone_list(s, q="停车")] == ["停车场"]


def test_map_features_of_own_community(world):
    world.a.community.boundary = SQUARE
    world.a.community.save()
    Building.objects.create(community=world.a.community, name="无图", number="99")
    Zone.objects.filter(pk=world.a.zone.pk).update(is_key_area=True)
    collection = selectors.map_features(scope(world), world.a.community.pk)
    assert collection["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds == ["community", "building", "zone"]  # a building without footprint is left out
    building = collection["features"][1]
    assert building["geometry"] == SQUARE
    assert building["properties"]["household_count"] == 1
    assert building["properties"]["url"] == f"/places/buildings/{world.a.building.pk}/"
    zone = collection["features"][2]
    assert zone["properties"]["is_key_area"] is True
    assert zone["properties"]["zone_kind"] == "gate"
    assert collection["bbox"] == [114.30, 30.50, 114.301, 30.501]


def test_map_features_skip_broken_stored_geometry(world):
    Building.objects.filter(pk=world.a.building.pk).update(footprint={"type": "Polygon"})
    collection = selectors.map_features(scope(world), world.a.community.pk)
    assert [f["properties"]["kind"] for f in collection["features"]] == ["zone"]


def test_map_features_of_another_community_are_404(world):
    with pytest.raises(Http404):
        selectors.map_features(scope(world), world.b.community.pk)
    with pytest.raises(Http404):
        selectors.map_features(scope(world, "resident"), world.a.community.pk)


def test_place_counts_and_dashboard_stats(world):
    counts = selectors.place_counts(scope(world), world.a.community)
    assert (counts.buildings, counts.households, counts.zones, counts.key_areas) == (1, 1, 1, 1)
    assert selectors.place_counts(scope(world), world.b.community) == selectors.PlaceCounts()
    everything = selectors.place_counts(scope_for(world.platform_admin), None)
    assert everything.buildings == 2
    stats = {s.key: s for s in dashboard_stats(scope(world), world.a.community)}
    assert stats["buildings"].value == 1
    assert stats["key_areas"].value == 1
    assert stats["key_areas"].url == "/places/zones/?key_area=yes"
    resident_stats = {s.key for s in dashboard_stats(scope(world, "resident"), None)}
    assert "buildings" not in resident_stats


def test_household_floors_for_the_filter(world):
    Household.objects.create(community=world.a.community, unit=world.a.unit, floor=-1, number="B")
    assert selectors.household_floors(scope(world), world.a.community.pk) == [-1, 3]
    assert selectors.household_floors(scope(world), world.b.community.pk) == []


def test_grid_worker_choices(world):
    workers = list(selectors.grid_worker_choices(scope(world), world.a.community.pk))
    assert workers == [world.user("grid_worker")]
    assert not selectors.grid_worker_choices(scope(world), world.b.community.pk).exists()

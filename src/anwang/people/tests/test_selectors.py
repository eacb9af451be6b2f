"""Reads of the people domain: scoping, search, filters, addresses."""

from collections.abc import Iterable

import pytest
from django.http import Http404

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import scope_for
from anwang.people import selectors, services
from anwang.people.choices import ResidentTag
from anwang.people.models import Resident
from anwang.places.models import Building, Grid, Household, Unit

pytestmark = pytest.mark.django_db


def names(queryset: Iterable[Resident]) -> list[str]:
    return sorted(resident.name for resident in queryset)


def test_residents_are_scoped_by_view_permission(world):
    assert names(selectors.residents_list(scope_for(world.user("community_admin")))) == ["a张三"]
    assert names(selectors.residents_list(scope_for(world.user("supervisor", "b")))) == ["b张三"]
    assert names(selectors.residents_list(scope_for(world.user("guard")))) == []
    assert names(selectors.residents_list(scope_for(world.user("resident")))) == []
    assert len(selectors.residents_list(scope_for(world.platform_admin))) == 2


def test_resident_get_is_404_across_communities_and_without_permission(world):
    admin = scope_for(world.user("community_admin"))
    assert selectors.resident_get(admin, world.a.resident.pk) == world.a.resident
    with pytest.raises(Http404):
        selectors.resident_get(admin, world.b.resident.pk)
    with pytest.raises(Http404):
        selectors.resident_get(scope_for(world.user("guard")), world.a.resident.pk)
    with pytest.raises(Http404):
        selectors.resident_get(
            scope_for(world.user("operator")), world.a.resident.pk, Permission.MANAGE_RESIDENTS
        )
    with pytest.raises(Http404):
        selectors.resident_get(admin, 999_999)


def test_search_by_name_phone_id_and_address(world):
    scope = scope_for(world.user("grid_worker"))
    for query in ("张三", "138 1234 5678", "+8613812345678", "110101199001011234", "1-1-301",
                  "1号楼1单元301室"):  # fmt: skip
        assert names(selectors.residents_list(scope, q=query)) == ["a张三"], query
    for query in ("李", "13812345679", "1-1-302"):
        assert names(selectors.residents_list(scope, q=query)) == [], query


def test_filters_by_tag_building_grid_and_moved_out(world):
    scope = scope_for(world.user("community_admin"))
    other_grid = Grid.objects.create(community=world.a.community, name="第二网格")
    other_building = Building.objects.create(
        community=world.a.community, grid=other_grid, name="2号楼", number="2"
    )
    unit = Unit.objects.create(building=other_building, number="1")
    household = Household.objects.create(
        community=world.a.community, unit=unit, floor=1, number="101"
    )
    other = services.resident_create(
        actor=None,
        community=world.a.community,
        name="蒋十三",
        tags=[ResidentTag.CHILD],
        household=household,
    )
    assert names(selectors.residents_list(scope, tag="child")) == ["蒋十三"]
    assert names(selectors.residents_list(scope, building=other_building.pk)) == ["蒋十三"]
    assert names(selectors.residents_list(scope, grid=world.a.grid.pk)) == ["a张三"]
    services.resident_move_out(actor=None, resident=other)
    assert names(selectors.residents_list(scope)) == ["a张三"]
    assert names(selectors.residents_list(scope, include_moved_out=True)) == ["a张三", "蒋十三"]


def test_address_parsing_and_lookup(world):
    assert selectors.address_parse("1-2-301") == ("1", "2", "301")
    assert selectors.address_parse("3号楼2单元1201室") == ("3", "2", "1201")
    assert selectors.address_parse("3栋 2单元 1201") == ("3", "2", "1201")
    assert selectors.address_parse("301") is None
    found = selectors.household_by_address(community_id=world.a.community.pk, address="1-1-301")
    assert found == world.a.household
    assert selectors.household_by_address(community_id=world.b.community.pk, address="x") is None


def test_bindings_list_shows_own_and_decidable(world):
    resident_scope = scope_for(world.user("resident"))
    assert [b.household for b in selectors.bindings_list(resident_scope)] == [world.a.household]
    admin_scope = scope_for(world.user("community_admin"))
    assert [b.household for b in selectors.bindings_list(admin_scope)] == [world.a.household]
    assert list(selectors.bindings_list(admin_scope, mine=True)) == []

"""Who answers for a place, with a controllable clock: duty roles resolved through the
roster across a shift change, specificity (asset category, building, zone), responsible
before deputy, no duplicates, inactive people left out; the matrix and its gaps; scoping."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.accounts.selectors import scope_for
from anwang.facilities.models import Asset
from anwang.places.models import Building, Zone
from anwang.responsibilities import selectors
from anwang.responsibilities.selectors import GapReason, responsible_people

from .support import at, duty, names, responsibility

pytestmark = pytest.mark.django_db


def who(world: Any, moment: Any = None, **place: Any) -> list[str]:
    return names(responsible_people(community_id=world.a.community.pk, at=moment, **place))


def test_a_duty_role_follows_the_shift_change(world: Any) -> None:
    day_guard = world.user("guard")
    night_guard = world.user("operator")  # a second person who may be on duty as a guard
    Membership.objects.create(user=night_guard, role=Role.GUARD, community=world.a.community)
    duty(world, user="guard", start=at(1, 8))
    duty(world, user="operator", start=at(1, 20))
    responsibility(world, responsible_role="guard")
    zone = world.a.zone.pk
    assert who(world, at(3, 19, 59), zone_id=zone) == [day_guard.username]
    # Shift ends are exclusive: at 20:00 only the night guard answers.
    assert who(world, at(3, 20), zone_id=zone) == [night_guard.username]
    assert who(world, at(4, 7, 59), zone_id=zone) == [night_guard.username]
    assert who(world, at(4, 8), zone_id=zone) == [day_guard.username]


def test_nobody_on_duty_means_nobody_but_the_deputy(world: Any) -> None:
    duty(world, user="guard", start=at(1, 8))
    responsibility(world, responsible_role="guard", deputy_person=world.user("grid_worker"))
    assert who(world, at(3, 9), zone_id=world.a.zone.pk) == ["a_guard", "a_grid_worker"]
    assert who(world, at(3, 22), zone_id=world.a.zone.pk) == ["a_grid_worker"]


def test_most_specific_first_responsible_before_deputy_no_duplicates(world: Any) -> None:
    duty(world, role="on_duty_leader", user="community_admin", start=at(1, 0), hours=24)
    responsibility(
        world,
        responsible_person=world.user("grid_worker"),
        deputy_role="on_duty_leader",
    )
    responsibility(
        world,
        area_kind="building",
        zone=None,
        building=world.a.building,
        responsible_person=world.user("operator"),
        deputy_person=world.user("grid_worker"),
    )
    responsibility(
        world,
        area_kind="asset_type",
        zone=None,
        asset_type="fire_extinguisher",
        responsible_person=world.user("guard"),
    )
    place = {"zone_id": world.a.zone.pk, "building_id": world.a.building.pk}
    assert who(world, at(3, 9), **place, asset_type="fire_extinguisher") == [
        "a_guard",
        "a_operator",
        "a_grid_worker",
        "a_community_admin",
    ]
    assert who(world, at(3, 9), **place) == ["a_operator", "a_grid_worker", "a_community_admin"]
    assert who(world, at(3, 9), zone_id=world.a.zone.pk) == ["a_grid_worker", "a_community_admin"]
    assert who(world, at(3, 9), asset_type="aed") == []
    assert who(world, at(3, 9)) == []


def test_inactive_or_departed_people_do_not_answer(world: Any) -> None:
    responsibility(
        world, responsible_person=world.user("guard"), deputy_person=world.user("grid_worker")
    )
    guard = world.user("guard")
    guard.is_active = False
    guard.save()
    Membership.objects.filter(user=world.user("grid_worker")).delete()
    assert who(world, at(3, 9), zone_id=world.a.zone.pk) == []


def test_other_communities_do_not_mix(world: Any) -> None:
    responsibility(world, responsible_person=world.user("guard"))
    assert responsible_people(community_id=world.b.community.pk, zone_id=world.a.zone.pk) == []


def test_query_count_does_not_grow_with_matches(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    duty(world, user="guard", start=at(1, 8))
    responsibility(world, responsible_role="guard", deputy_person=world.user("operator"))
    responsibility(
        world, area_kind="building", zone=None, building=world.a.building, responsible_role="guard"
    )
    with django_assert_max_num_queries(4):
        responsible_people(
            community_id=world.a.community.pk,
            zone_id=world.a.zone.pk,
            building_id=world.a.building.pk,
            at=at(3, 9),
        )


def test_matrix_lists_every_area_and_asset_category_in_use(world: Any) -> None:
    Zone.objects.create(community=world.a.community, name="南门", kind="gate", geometry={})
    Asset.objects.create(community=world.a.community, asset_type="aed", name="AED", code="AED-1")
    Asset.objects.create(
        community=world.a.community,
        asset_type="hydrant",
        name="H",
        code="H-1",
        status="retired",
    )
    responsibility(world, responsible_person=world.user("guard"))
    matrix = selectors.responsibility_matrix(world.a.community, at=at(3, 9))
    assert [row.area_label for row in matrix.zones] == ["北门", "南门"]
    assert matrix.zones[0].responsibility is not None
    assert matrix.zones[0].responsible is not None
    assert names(matrix.zones[0].responsible.holders) == ["a_guard"]
    assert matrix.zones[1].responsibility is None
    assert [row.building_id for row in matrix.buildings] == [world.a.building.pk]
    assert [row.asset_type for row in matrix.asset_types] == ["aed"]  # retired ones don't count


def test_gaps_say_why(world: Any) -> None:
    second = Building.objects.create(community=world.a.community, name="2号楼", number="2")
    third = Building.objects.create(community=world.a.community, name="3号楼", number="3")
    duty(world, user="guard", start=at(1, 8))
    responsibility(world, responsible_role="guard")
    responsibility(
        world,
        area_kind="building",
        zone=None,
        building=world.a.building,
        responsible_person=world.user("operator"),
    )
    responsibility(
        world,
        area_kind="building",
        zone=None,
        building=second,
        responsible_person=world.user("volunteer"),
    )
    operator = world.user("operator")
    operator.is_active = False
    operator.save()
    Membership.objects.filter(user=world.user("volunteer")).delete()

    by_day = {
        gap.area_label: gap.reason
        for gap in selectors.responsibility_gaps(world.a.community, at=at(3, 9))
    }
    assert by_day == {
        str(world.a.building): GapReason.PERSON_INACTIVE,
        str(second): GapReason.PERSON_NOT_STAFF,
        str(third): GapReason.UNASSIGNED,
    }
    by_night = selectors.responsibility_gaps(world.a.community, at=at(3, 22))
    zone_gap = next(gap for gap in by_night if gap.zone_id == world.a.zone.pk)
    assert zone_gap.reason == GapReason.NOBODY_ON_DUTY
    assert str(zone_gap.message) == "Nobody is on duty as Guard on duty."


def test_scoping(world: Any) -> None:
    item = responsibility(world)
    for role in ("community_admin", "operator", "guard", "grid_worker", "supervisor"):
        scope = scope_for(world.user(role))
        assert selectors.responsibility_get(scope, item.pk) == item
        assert list(selectors.responsibilities_visible(scope, world.a.community.pk)) == [item]
        assert world.a.community in selectors.responsibility_communities(scope)
    for role in ("resident", "volunteer", "auditor"):
        scope = scope_for(world.user(role))
        with pytest.raises(Http404):
            selectors.responsibility_get(scope, item.pk)
        with pytest.raises(Http404):
            selectors.community_get(scope, world.a.community.pk)
    outsider = scope_for(world.user("community_admin", "b"))
    with pytest.raises(Http404):
        selectors.responsibility_get(outsider, item.pk)
    with pytest.raises(Http404):
        selectors.responsibilities_visible(outsider, world.a.community.pk)


def test_dashboard_figure_counts_gaps(world: Any) -> None:
    scope = scope_for(world.user("community_admin"))
    [stat] = selectors.responsibility_stats(scope, world.a.community)
    assert (stat.key, stat.value, stat.tone) == ("responsibility_gaps", 2, "warn")  # zone, building
    responsibility(world, responsible_person=world.user("guard"))
    [stat] = selectors.responsibility_stats(scope, None)
    assert stat.value == 1
    assert (
        selectors.responsibility_stats(scope_for(world.user("resident")), world.a.community) == []
    )

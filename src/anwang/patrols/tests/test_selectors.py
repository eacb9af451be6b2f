"""Patrol selectors: scoping by community and role, who sees codes, the map."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts.selectors import Scope, scope_for
from anwang.patrols import selectors, services
from anwang.patrols.services import StopSpec
from anwang.patrols.tests.conftest import make_checkpoint

pytestmark = pytest.mark.django_db


def scope(world: Any, role: str, side: str = "a") -> Scope:
    return scope_for(world.user(role, side))


def test_lists_are_scoped(world):
    mine = make_checkpoint(world.a)
    make_checkpoint(world.b, "b岗")
    assert list(selectors.checkpoint_list(scope(world, "guard"))) == [mine]
    assert list(selectors.checkpoint_list(scope(world, "volunteer"))) == [mine]
    assert list(selectors.checkpoint_list(scope(world, "resident"))) == []
    assert list(selectors.checkpoint_list(scope(world, "grid_worker"))) == []
    with pytest.raises(Http404):
        selectors.checkpoint_get(scope(world, "community_admin", "b"), mine.pk)
    route = services.patrol_route_create(actor=None, community=world.a.community, name="r")
    assert list(selectors.patrol_route_list(scope(world, "supervisor"))) == [route]
    with pytest.raises(Http404):
        selectors.patrol_route_get(scope(world, "guard", "b"), route.pk)


def test_retired_only_on_request(world):
    checkpoint = make_checkpoint(world.a)
    services.checkpoint_retire(actor=None, checkpoint=checkpoint)
    guard = scope(world, "guard")
    assert list(selectors.checkpoint_list(guard)) == []
    assert list(selectors.checkpoint_list(guard, include_retired=True)) == [checkpoint]


def test_only_managers_see_codes(world):
    community = world.a.community.pk
    assert selectors.can_see_codes(scope(world, "community_admin"), community)
    assert selectors.can_see_codes(scope(world, "supervisor"), community)
    assert not selectors.can_see_codes(scope(world, "guard"), community)
    make_checkpoint(world.a)
    with pytest.raises(PermissionDenied):
        selectors.sheet_checkpoints(scope(world, "guard"), community)
    with pytest.raises(Http404):
        selectors.sheet_checkpoints(scope(world, "community_admin", "b"), community)


def test_sheet_of_a_route_lists_each_checkpoint_once_in_order(world):
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园")
    make_checkpoint(world.a, "其他")
    route = services.patrol_route_create(
        actor=None,
        community=world.a.community,
        name="r",
        stops=[StopSpec(yard), StopSpec(gate), StopSpec(yard)],
    )
    admin = scope(world, "community_admin")
    assert selectors.sheet_checkpoints(admin, world.a.community.pk, route=route) == [yard, gate]
    chosen = selectors.sheet_checkpoints(admin, world.a.community.pk, checkpoint_ids=[gate.pk])
    assert chosen == [gate]
    assert len(selectors.sheet_checkpoints(admin, world.a.community.pk)) == 3


def test_map_features(world):
    make_checkpoint(world.a, "北门")
    make_checkpoint(world.a, "区内", placement="zone", zone=world.a.zone, point=None)
    data = selectors.map_features(scope(world, "guard"), world.a.community.pk)
    names = sorted(f["properties"]["name"] for f in data["features"])
    assert names == ["北门", "区内"]
    assert all(f["geometry"]["type"] == "Point" for f in data["features"])
    with pytest.raises(Http404):
        selectors.map_features(scope(world, "guard", "b"), world.a.community.pk)

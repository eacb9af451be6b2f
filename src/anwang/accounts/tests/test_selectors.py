"""Scoped reads of the accounts domain."""

import dataclasses

import pytest
from conftest import World
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts import selectors, services
from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import (
    Scope,
    authorize,
    authorize_platform_admin,
    is_unrestricted,
    scope_for,
    service_scope,
)

pytestmark = pytest.mark.django_db


def test_staff_memberships_lists_staff_of_a_managed_community_only(world):
    scope = scope_for(world.user("community_admin"))
    memberships = list(selectors.staff_memberships(scope, world.a.community.pk))
    roles = {m.role for m in memberships}
    assert Role.RESIDENT not in roles
    assert Role.SUPERVISOR not in roles
    assert {Role.GUARD, Role.VOLUNTEER, Role.COMMUNITY_ADMIN} <= roles
    assert {m.community_id for m in memberships} == {world.a.community.pk}
    with pytest.raises(Http404):
        selectors.staff_memberships(scope, world.b.community.pk)
    with pytest.raises(Http404):
        selectors.staff_memberships(scope_for(world.user("guard")), world.a.community.pk)


def test_staff_memberships_search(world):
    scope = scope_for(world.user("community_admin"))
    world.user("guard").email = "night.shift@example.org"
    world.user("guard").save()
    found = list(selectors.staff_memberships(scope, world.a.community.pk, "NIGHT.shift"))
    assert [m.user.username for m in found] == ["a_guard"]
    found = list(selectors.staff_memberships(scope, world.a.community.pk, "a_grid"))
    assert [m.role for m in found] == [Role.GRID_WORKER]


def test_staff_membership_get_is_404_across_communities(world):
    scope = scope_for(world.user("community_admin"))
    b_guard = Membership.objects.get(user=world.user("guard", "b"))
    a_guard = Membership.objects.get(user=world.user("guard"))
    assert selectors.staff_membership_get(scope, a_guard.pk) == a_guard
    with pytest.raises(Http404):
        selectors.staff_membership_get(scope, b_guard.pk)


def test_memberships_visible_are_own_plus_managed(world):
    admin_scope = scope_for(world.user("community_admin"))
    visible = selectors.memberships_visible(admin_scope)
    assert {m.community_id for m in visible} == {world.a.community.pk}
    assert visible.count() == Membership.objects.filter(community=world.a.community).count()
    resident_scope = scope_for(world.user("resident"))
    assert [m.user for m in selectors.memberships_visible(resident_scope)] == [
        world.user("resident")
    ]
    supervisor_scope = scope_for(world.user("supervisor"))
    own = list(selectors.memberships_visible(supervisor_scope))
    assert [m.region_id for m in own] == [world.a.region.pk]


def test_community_member_lookup(world):
    scope = scope_for(world.user("community_admin"))
    assert selectors.community_member_get(scope, world.a.community.pk, "A_RESIDENT") == (
        world.user("resident")
    )
    with pytest.raises(Http404):
        selectors.community_member_get(scope, world.a.community.pk, "b_resident")
    with pytest.raises(Http404):
        selectors.community_member_by_id(
            scope, world.b.community.pk, world.user("resident", "b").pk
        )


def test_tokens_are_only_the_owners(world):
    guard, operator = world.user("guard"), world.user("operator")
    token, _raw = services.api_token_create(actor=guard, user=guard)
    assert selectors.api_token_get(scope_for(guard), token.pk) == token
    with pytest.raises(Http404):
        selectors.api_token_get(scope_for(operator), token.pk)
    assert list(selectors.api_tokens_of(scope_for(operator))) == []


def test_user_summary_lists_roles_per_community(world):
    summary = selectors.user_summary(scope_for(world.user("supervisor")))
    assert summary == [(world.a.community.pk, world.a.community.name, [Role.SUPERVISOR])]
    assert selectors.token_communities(scope_for(world.user("resident", "b"))) == [
        (world.b.community.pk, world.b.community.name)
    ]


def test_memberships_visible_through_a_limited_token_stay_in_its_community(world):
    admin = world.user("community_admin")
    Membership.objects.create(user=admin, role=Role.COMMUNITY_ADMIN, community=world.b.community)
    token, _raw = services.api_token_create(
        actor=admin, user=admin, community_id=world.b.community.pk
    )
    limited = scope_for(admin, token=token)
    assert {m.community_id for m in selectors.memberships_visible(limited)} == {
        world.b.community.pk
    }
    assert selectors.memberships_visible(limited, community_id=world.a.community.pk).count() == 0
    supervisor = world.user("supervisor")
    token, _raw = services.api_token_create(
        actor=supervisor, user=supervisor, community_id=world.a.community.pk
    )
    own = list(selectors.memberships_visible(scope_for(supervisor, token=token)))
    assert [m.region_id for m in own] == [world.a.region.pk]


def _authorize(
    world: World,
    actor: User | None,
    scope: Scope | None = None,
    side: str = "a",
    visible_with: Permission | None = Permission.VIEW_RESIDENTS,
) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_RESIDENTS,
        community_id=getattr(world, side).community.pk,
        visible_with=visible_with,
    )


def test_authorize_allows_holders_the_system_and_platform_admins(world):
    _authorize(world, world.user("community_admin"))
    _authorize(world, world.user("grid_worker"))
    _authorize(world, None)  # the system itself
    _authorize(world, world.platform_admin)
    _authorize(world, world.user("community_admin", "b"), side="b")


def test_authorize_is_403_for_those_who_see_and_404_for_the_others(world):
    with pytest.raises(PermissionDenied):
        _authorize(world, world.user("operator"))
    for role in ("guard", "volunteer", "resident"):
        with pytest.raises(Http404):
            _authorize(world, world.user(role))
    with pytest.raises(Http404):
        _authorize(world, world.user("community_admin", "b"))
    # Without ``visible_with`` nobody learns that the object exists.
    with pytest.raises(Http404):
        _authorize(world, world.user("operator"), visible_with=None)


def test_authorize_checks_the_scope_given_not_the_account(world):
    admin = world.user("community_admin")
    with pytest.raises(Http404):
        _authorize(world, admin, scope=scope_for(world.user("guard")))
    # A token limited to another community narrows even a superuser.
    limited = dataclasses.replace(
        scope_for(world.platform_admin), token_community_id=world.b.community.pk
    )
    with pytest.raises(Http404):
        _authorize(world, world.platform_admin, scope=limited)
    _authorize(world, world.platform_admin, scope=limited, side="b")
    assert not is_unrestricted(actor=world.platform_admin, scope=limited)
    assert is_unrestricted(actor=world.platform_admin, scope=None)
    assert is_unrestricted(actor=None, scope=None)
    assert not is_unrestricted(actor=admin, scope=None)
    assert service_scope(None, None) is None
    assert service_scope(admin, None) == scope_for(admin)


def test_authorize_platform_admin(world):
    authorize_platform_admin(actor=None, scope=None)
    authorize_platform_admin(actor=world.platform_admin, scope=None)
    a_ids = [world.a.community.pk]
    view = Permission.VIEW_PLACES
    with pytest.raises(PermissionDenied):
        authorize_platform_admin(
            actor=world.user("community_admin"), scope=None, visible_with=view, community_ids=a_ids
        )
    with pytest.raises(Http404):
        authorize_platform_admin(
            actor=world.user("community_admin", "b"),
            scope=None,
            visible_with=view,
            community_ids=a_ids,
        )
    with pytest.raises(PermissionDenied):
        authorize_platform_admin(actor=world.user("community_admin", "b"), scope=None)
    limited = dataclasses.replace(
        scope_for(world.platform_admin), token_community_id=world.a.community.pk
    )
    with pytest.raises(PermissionDenied):
        authorize_platform_admin(
            actor=world.platform_admin, scope=limited, visible_with=view, community_ids=a_ids
        )

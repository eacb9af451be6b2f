"""The people services check permissions themselves: whoever calls them (a page, the API, the
admin, a command) gets the same answer. Staff who cannot see a community's residents get 404,
those who see but may not change them get 403; the system itself (no actor, no scope) and
platform administrators may do everything."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from conftest import World, make_user
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.roles import ROLE_PERMISSIONS
from anwang.accounts.selectors import Scope, scope_for
from anwang.audit.models import AuditEvent
from anwang.people import services
from anwang.people.choices import BindingStatus, PersonalField, Relation, ResidentTag
from anwang.people.importing import ImportRejectedError
from anwang.people.models import (
    EmergencyContact,
    HouseholdBinding,
    HouseholdMember,
    Resident,
)
from anwang.places.models import Household

pytestmark = pytest.mark.django_db

Call = Callable[[World, User | None, Scope | None], Any]

IMPORT_HEADER = ["Building", "Unit", "Floor", "Room", "Name"]


def _csv(*rows: list[str]) -> bytes:
    lines = [",".join(IMPORT_HEADER), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def _second_household(world: World) -> Household:
    household, _created = Household.objects.get_or_create(
        community=world.a.community, unit=world.a.unit, floor=4, number="401"
    )
    return household


def _member(world: World) -> HouseholdMember:
    return HouseholdMember.objects.select_related("household").get(resident=world.a.resident)


WRITES: dict[str, Call] = {
    "resident_create": lambda world, actor, scope: services.resident_create(
        actor=actor, scope=scope, community=world.a.community, name="王五"
    ),
    "resident_create_in_household": lambda world, actor, scope: services.resident_create(
        actor=actor,
        scope=scope,
        community=world.a.community,
        name="王五",
        household=world.a.household,
        relation=Relation.SPOUSE,
    ),
    "resident_update": lambda world, actor, scope: services.resident_update(
        actor=actor, scope=scope, resident=world.a.resident, note="changed"
    ),
    "resident_tags_set": lambda world, actor, scope: services.resident_tags_set(
        actor=actor, scope=scope, resident=world.a.resident, tags=[ResidentTag.DISABLED]
    ),
    "resident_consent_record": lambda world, actor, scope: services.resident_consent_record(
        actor=actor, scope=scope, resident=world.a.resident, consented=True
    ),
    "resident_move_out": lambda world, actor, scope: services.resident_move_out(
        actor=actor, scope=scope, resident=world.a.resident
    ),
    "resident_erase": lambda world, actor, scope: services.resident_erase(
        actor=actor, scope=scope, resident=world.a.resident
    ),
    "household_member_add": lambda world, actor, scope: services.household_member_add(
        actor=actor, scope=scope, household=_second_household(world), resident=world.a.resident
    ),
    "household_member_end": lambda world, actor, scope: services.household_member_end(
        actor=actor, scope=scope, member=_member(world)
    ),
    "household_member_update": lambda world, actor, scope: services.household_member_update(
        actor=actor, scope=scope, member=_member(world), relation=Relation.OTHER
    ),
    "emergency_contact_create": lambda world, actor, scope: services.emergency_contact_create(
        actor=actor, scope=scope, resident=world.a.resident, name="赵六", phone="13700001111"
    ),
    "emergency_contact_update": lambda world, actor, scope: services.emergency_contact_update(
        actor=actor, scope=scope, contact=world.a.contact, name="李四四"
    ),
    "emergency_contact_delete": lambda world, actor, scope: services.emergency_contact_delete(
        actor=actor, scope=scope, contact=world.a.contact
    ),
    "resident_import": lambda world, actor, scope: services.resident_import(
        actor=actor,
        scope=scope,
        community=world.a.community,
        file_name="r.csv",
        content=_csv(["1", "1", "", "301", "周七"]),
    ),
}


def _token_limited(user: User, community_id: int) -> Scope:
    """The scope of ``user`` calling with an API token limited to one community."""
    return dataclasses.replace(scope_for(user), token_community_id=community_id)


def _state(world: World) -> tuple[Any, ...]:
    """Everything the writes above could change, to prove a refused one changed nothing."""
    return (
        AuditEvent.objects.count(),
        list(Resident.objects.order_by("pk").values()),
        list(HouseholdMember.objects.order_by("pk").values()),
        list(EmergencyContact.objects.order_by("pk").values()),
        sorted(world.a.resident.tag_links.values_list("tag", flat=True)),
    )


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize(
    ("role", "side", "expected"),
    [
        ("guard", "a", Http404),  # cannot see residents at all
        ("volunteer", "a", Http404),
        ("resident", "a", Http404),
        ("auditor", "a", Http404),
        ("operator", "a", PermissionDenied),  # sees residents, may not change them
        ("supervisor", "a", PermissionDenied),
        ("community_admin", "b", Http404),  # another community
        ("grid_worker", "b", Http404),
    ],
)
def test_writes_are_refused_to_callers_without_the_permission(world, write, role, side, expected):
    before = _state(world)
    with pytest.raises(expected):
        WRITES[write](world, world.user(role, side), None)
    assert _state(world) == before


@pytest.mark.parametrize("write", WRITES)
def test_a_token_limited_to_another_community_is_refused_even_a_superusers(world, write):
    before = _state(world)
    admin_of_a = world.user("community_admin")
    with pytest.raises(Http404):
        WRITES[write](world, admin_of_a, _token_limited(admin_of_a, world.b.community.pk))
    with pytest.raises(Http404):
        WRITES[write](
            world, world.platform_admin, _token_limited(world.platform_admin, world.b.community.pk)
        )
    assert _state(world) == before


@pytest.mark.parametrize("write", WRITES)
def test_the_scope_given_is_checked_not_the_actors_account(world, write):
    # An admin's account, but the narrower scope of a guard: the scope decides.
    with pytest.raises(Http404):
        WRITES[write](world, world.user("community_admin"), scope_for(world.user("guard")))


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("caller", ["community_admin", "grid_worker", "platform_admin", "system"])
def test_writes_are_allowed_to_managers_platform_admins_and_the_system(world, write, caller):
    if caller == "system":
        actor = None
    elif caller == "platform_admin":
        actor = world.platform_admin
    else:
        actor = world.user(caller)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    WRITES[write](world, actor, None)
    actors = set(AuditEvent.objects.filter(pk__gt=last).values_list("actor_id", flat=True))
    assert actors == {actor.pk if actor else None}


@pytest.mark.parametrize("write", WRITES)
def test_a_token_limited_to_the_right_community_is_allowed(world, write):
    admin = world.platform_admin
    WRITES[write](world, admin, _token_limited(admin, world.a.community.pk))


def test_import_checks_new_households_with_the_importers_scope(world):
    # The admin's account may manage places, but the scope given (a grid worker's) may not.
    content = _csv(["1", "1", "", "302", "新户"])
    with pytest.raises(ImportRejectedError) as raised:
        services.resident_import(
            actor=world.user("community_admin"),
            scope=scope_for(world.user("grid_worker")),
            community=world.a.community,
            file_name="r.csv",
            content=content,
        )
    assert [(e.row, e.column) for e in raised.value.errors] == [(2, "building")]
    assert not Household.objects.filter(number="302").exists()
    # The system itself creates it.
    result = services.resident_import(
        actor=None, community=world.a.community, file_name="r.csv", content=content
    )
    assert (result.created, result.households_created) == (1, 1)


# Reveal and export ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "side"), [("operator", "a"), ("guard", "a"), ("community_admin", "b")]
)
def test_reveal_without_the_permission_is_404_also_without_a_scope(world, role, side):
    user = world.user(role, side)
    with pytest.raises(Http404):
        services.resident_reveal(actor=user, resident=world.a.resident, field=PersonalField.PHONE)
    with pytest.raises(Http404):
        services.emergency_contact_reveal(actor=user, contact=world.a.contact)
    assert not AuditEvent.objects.filter(action__endswith=".reveal").exists()


def test_reveal_scope_defaults_to_the_actors_and_a_limited_token_is_respected(world):
    worker = world.user("grid_worker")
    value = services.resident_reveal(actor=worker, resident=world.a.resident, field="phone")
    assert value == "13812345678"
    admin = world.platform_admin
    with pytest.raises(Http404):
        services.resident_reveal(
            actor=admin,
            scope=_token_limited(admin, world.b.community.pk),
            resident=world.a.resident,
            field="phone",
        )


def test_export_needs_the_view_permission_and_masks_without_reveal(world):
    residents = Resident.objects.all()
    with pytest.raises(Http404):
        services.resident_export(
            actor=world.user("guard"),
            community=world.a.community,
            residents=residents,
            file_format="csv",
        )
    with pytest.raises(Http404):
        services.resident_export(
            actor=world.user("community_admin", "b"),
            community=world.a.community,
            residents=residents,
            file_format="csv",
        )
    content, _name, _type = services.resident_export(
        actor=world.user("operator"),
        community=world.a.community,
        residents=residents,
        file_format="csv",
    )
    assert b"13812345678" not in content
    content, _name, _type = services.resident_export(
        actor=world.platform_admin,
        community=world.a.community,
        residents=residents,
        file_format="csv",
    )
    assert b"13812345678" in content


# Bindings -----------------------------------------------------------------------------------------


@pytest.fixture
def newcomer(world: World) -> User:
    return make_user("newcomer", display_name="新住户")


@pytest.fixture
def pending(world: World, newcomer: User) -> HouseholdBinding:
    flat = _second_household(world)
    return services.binding_request(actor=newcomer, household=flat, relation=Relation.HEAD)


DECISIONS: dict[str, Callable[[User, Scope | None, HouseholdBinding], Any]] = {
    "approve": lambda actor, scope, binding: services.binding_approve(
        actor=actor, scope=scope, binding=binding
    ),
    "refuse": lambda actor, scope, binding: services.binding_refuse(
        actor=actor, scope=scope, binding=binding, note="not known here"
    ),
}


@pytest.mark.parametrize("decision", DECISIONS)
@pytest.mark.parametrize(
    ("role", "side"),
    [
        ("guard", "a"),
        ("volunteer", "a"),
        ("resident", "a"),
        ("operator", "a"),
        ("grid_worker", "a"),  # manages residents, but does not approve bindings
        ("community_admin", "b"),
    ],
)
def test_deciding_on_a_binding_is_404_for_non_approvers(world, pending, decision, role, side):
    with pytest.raises(Http404):
        DECISIONS[decision](world.user(role, side), None, pending)
    pending.refresh_from_db()
    assert pending.status == BindingStatus.PENDING
    assert not AuditEvent.objects.filter(action=f"binding.{decision}").exists()


@pytest.mark.parametrize("decision", DECISIONS)
def test_the_requester_cannot_decide_on_their_own_request(world, newcomer, pending, decision):
    # They can see their request (403, not 404), but not decide on it.
    with pytest.raises(PermissionDenied):
        DECISIONS[decision](newcomer, None, pending)
    pending.refresh_from_db()
    assert pending.status == BindingStatus.PENDING


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_token_limited_to_another_community_cannot_decide(world, pending, decision):
    admin = world.platform_admin
    with pytest.raises(Http404):
        DECISIONS[decision](admin, _token_limited(admin, world.b.community.pk), pending)
    DECISIONS[decision](admin, _token_limited(admin, world.a.community.pk), pending)


def test_approving_needs_no_permission_to_manage_residents(world, newcomer, pending, monkeypatch):
    # An approver who may not edit residents still gets the record and household membership
    # that approving writes: the approval is the authority for them.
    monkeypatch.setitem(
        ROLE_PERMISSIONS,
        Role.OPERATOR,
        ROLE_PERMISSIONS[Role.OPERATOR] | {Permission.APPROVE_BINDINGS},
    )
    operator = world.user("operator")
    assert not scope_for(operator).has(Permission.MANAGE_RESIDENTS, world.a.community.pk)
    services.binding_approve(actor=operator, binding=pending)
    resident = Resident.objects.get(user=newcomer)
    assert HouseholdMember.objects.filter(resident=resident, household=pending.household).exists()
    assert Membership.objects.filter(user=newcomer, role=Role.RESIDENT).exists()
    with pytest.raises(PermissionDenied):
        services.resident_update(actor=operator, resident=resident, note="x")


def test_binding_end_is_for_its_own_account_and_approvers(world, newcomer, pending):
    admin = world.user("community_admin")
    services.binding_approve(actor=admin, binding=pending)
    for role, side in [("guard", "a"), ("resident", "a"), ("community_admin", "b")]:
        with pytest.raises(Http404):
            services.binding_end(actor=world.user(role, side), binding=pending)
    pending.refresh_from_db()
    assert pending.status == BindingStatus.APPROVED
    # The account itself ends it (the household membership ends with it, although a resident
    # may not end memberships by hand).
    services.binding_end(actor=newcomer, binding=pending)
    pending.refresh_from_db()
    assert pending.status == BindingStatus.ENDED
    assert not HouseholdMember.objects.filter(
        household=pending.household, resident__user=newcomer, until__isnull=True
    ).exists()
    # An approver ends someone else's binding.
    own = HouseholdBinding.objects.get(user=world.user("resident"))
    services.binding_end(actor=admin, binding=own)
    own.refresh_from_db()
    assert own.status == BindingStatus.ENDED


def test_binding_request_needs_an_active_account_asking_for_itself(world, newcomer):
    flat = _second_household(world)
    newcomer.is_active = False
    newcomer.save()
    with pytest.raises(PermissionDenied):
        services.binding_request(actor=newcomer, household=flat)
    # Another person's scope does not let anyone ask in their name.
    with pytest.raises(PermissionDenied):
        services.binding_request(
            actor=world.user("guard"), scope=scope_for(world.user("volunteer")), household=flat
        )
    # Any logged-in account may ask, also with a token limited to another community.
    guard_of_b = world.user("guard", "b")
    binding = services.binding_request(
        actor=guard_of_b, scope=_token_limited(guard_of_b, world.b.community.pk), household=flat
    )
    assert binding.status == BindingStatus.PENDING
    assert not HouseholdBinding.objects.filter(user=newcomer).exists()

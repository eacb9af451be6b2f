"""Household bindings: request, approve (resident record, membership, role), refuse, end;
the 'my work' inbox and the dashboard figures."""

import pytest
from conftest import make_user
from django.http import Http404

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.accounts.selectors import scope_for
from anwang.audit.models import AuditEvent
from anwang.core.dashboard import dashboard_stats
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.inbox import my_work
from anwang.people import selectors, services
from anwang.people.choices import BindingStatus, Relation
from anwang.people.models import HouseholdMember, Resident
from anwang.places.models import Household

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(world):
    return make_user("newcomer", display_name="新住户")


@pytest.fixture
def flat(world):
    return Household.objects.create(
        community=world.a.community, unit=world.a.unit, floor=5, number="502"
    )


def test_full_flow_creates_resident_adds_member_grants_role_and_feeds_inbox(world, newcomer, flat):
    binding = services.binding_request(
        actor=newcomer, household=flat, relation=Relation.HEAD, message="刚搬来"
    )
    assert binding.status == BindingStatus.PENDING
    admin = world.user("community_admin")
    items = [item for item in my_work(scope_for(admin)) if item.source == "bindings"]
    assert [item.community_id for item in items] == [world.a.community.pk]
    assert "502" in items[0].title
    # Staff of the other community and staff without the permission get no item.
    assert not [
        i for i in my_work(scope_for(world.user("community_admin", "b"))) if i.source == "bindings"
    ]
    assert not [i for i in my_work(scope_for(world.user("operator"))) if i.source == "bindings"]

    services.binding_approve(actor=admin, binding=binding)
    binding.refresh_from_db()
    assert binding.status == BindingStatus.APPROVED
    assert binding.decided_by == admin
    resident = Resident.objects.get(user=newcomer)
    assert resident.community == world.a.community
    assert resident.name == "新住户"
    assert HouseholdMember.objects.filter(
        household=flat, resident=resident, relation=Relation.HEAD, until__isnull=True
    ).exists()
    assert Membership.objects.filter(
        user=newcomer, role=Role.RESIDENT, community=world.a.community
    ).exists()
    assert Role.RESIDENT in scope_for(newcomer).all_roles()
    assert not [i for i in my_work(scope_for(admin)) if i.source == "bindings"]
    assert AuditEvent.objects.filter(action="binding.approve", object_id=str(binding.pk)).exists()
    assert AuditEvent.objects.filter(action="membership.grant").exists()

    # The resident now sees their own household, and only that one.
    scope = scope_for(newcomer)
    assert [m.resident for m in selectors.household_members(scope=scope, household=flat)] == [
        resident
    ]
    assert selectors.household_members(scope=scope, household=world.a.household) == []

    services.binding_end(actor=newcomer, binding=binding)
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ENDED
    assert not HouseholdMember.objects.filter(resident=resident, until__isnull=True).exists()
    assert not Membership.objects.filter(user=newcomer, role=Role.RESIDENT).exists()
    resident.refresh_from_db()
    assert resident.moved_out_at is not None


def test_approve_links_an_existing_record(world, newcomer):
    record = services.resident_create(
        actor=None,
        community=world.a.community,
        name="李梅",
        household=world.a.household,
        relation=Relation.SPOUSE,
    )
    binding = services.binding_request(
        actor=newcomer, household=world.a.household, relation=Relation.SPOUSE
    )
    assert selectors.binding_candidates([binding])[world.a.household.pk] == [record]
    services.binding_approve(actor=world.user("community_admin"), binding=binding, resident=record)
    record.refresh_from_db()
    assert record.user == newcomer
    assert HouseholdMember.objects.filter(resident=record, until__isnull=True).count() == 1


def test_approve_refuses_a_record_of_another_community(world, newcomer, flat):
    binding = services.binding_request(actor=newcomer, household=flat)
    with pytest.raises(ServiceError):
        services.binding_approve(
            actor=world.user("community_admin"), binding=binding, resident=world.b.resident
        )


def test_duplicate_request_and_deciding_twice_are_conflicts(world, newcomer, flat):
    binding = services.binding_request(actor=newcomer, household=flat)
    with pytest.raises(ConflictError):
        services.binding_request(actor=newcomer, household=flat)
    services.binding_refuse(actor=world.user("community_admin"), binding=binding, note="查无此人")
    binding.refresh_from_db()
    assert binding.status == BindingStatus.REFUSED
    assert binding.decision_note == "查无此人"
    with pytest.raises(ConflictError):
        services.binding_approve(actor=world.user("community_admin"), binding=binding)
    # Refused: asking again is allowed.
    services.binding_request(actor=newcomer, household=flat)


def test_refuse_needs_a_reason(world, newcomer, flat):
    binding = services.binding_request(actor=newcomer, household=flat)
    with pytest.raises(ServiceError) as raised:
        services.binding_refuse(actor=world.user("community_admin"), binding=binding, note=" ")
    assert raised.value.field == "note"


def test_role_stays_while_another_binding_in_the_community_is_approved(world, flat):
    user = world.user("resident")
    admin = world.user("community_admin")
    second = services.binding_request(actor=user, household=flat)
    services.binding_approve(actor=admin, binding=second)
    first = world.a.resident.bindings.get(household=world.a.household)
    services.binding_end(actor=admin, binding=first)
    assert Membership.objects.filter(user=user, role=Role.RESIDENT).exists()
    services.binding_end(actor=user, binding=second)
    assert not Membership.objects.filter(user=user, role=Role.RESIDENT).exists()


def test_binding_get_is_404_across_communities_and_for_others(world, newcomer, flat):
    binding = services.binding_request(actor=newcomer, household=flat)
    with pytest.raises(Http404):
        selectors.binding_get(
            scope_for(world.user("community_admin", "b")), binding.pk, decide=True
        )
    with pytest.raises(Http404):
        selectors.binding_get(scope_for(newcomer), binding.pk, decide=True)
    assert selectors.binding_get(scope_for(newcomer), binding.pk, decide=False) == binding


def test_dashboard_figures(world, newcomer, flat):
    services.binding_request(actor=newcomer, household=flat)
    stats = {
        s.key: s.value for s in dashboard_stats(scope_for(world.user("community_admin")), None)
    }
    assert stats["residents"] == 1
    assert stats["living_alone"] == 1
    assert stats["pending_bindings"] == 1
    operator = {s.key for s in dashboard_stats(scope_for(world.user("operator")), None)}
    assert "residents" in operator
    assert "pending_bindings" not in operator
    assert not {s.key for s in dashboard_stats(scope_for(world.user("guard")), None)} & {
        "residents",
        "pending_bindings",
    }
    stats_b = {
        s.key: s.value for s in dashboard_stats(scope_for(world.user("community_admin", "b")), None)
    }
    assert stats_b["pending_bindings"] == 0

"""Test data of the alerts tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership, User
from anwang.alerts.models import SafetyAlert
from anwang.alerts.services import alert_create, alert_publish
from anwang.core.crypto import blind_index
from anwang.people.choices import BindingStatus, Relation
from anwang.people.models import HouseholdBinding, HouseholdMember, Resident
from anwang.places.models import Building, Grid, Household, Unit


@dataclass
class AlertWorld:
    """Community a's households and people as the alerts tests use them."""

    world: Any
    tenant_household: Household  # building 1, resident with an account
    phone_household: Household  # building 1, resident without an account, phone registered
    far_household: Household  # building 2 (another grid, no grid worker), bound account
    tenant: User
    far_user: User
    phone_resident: Resident
    building2: Building
    volunteer: User

    @property
    def admin(self) -> User:
        user: User = self.world.user("community_admin")
        return user

    @property
    def grid_worker(self) -> User:
        user: User = self.world.user("grid_worker")
        return user


def _user(username: str) -> User:
    from conftest import make_user

    return make_user(username)


def build_alert_world(world: Any) -> AlertWorld:
    """See the ``alert_world`` fixture."""
    a = world.a
    Grid.objects.filter(pk=a.grid.pk).update(grid_worker=world.user("grid_worker"))
    tenant_household = Household.objects.create(
        community=a.community, unit=a.unit, floor=4, number="401"
    )
    phone_household = Household.objects.create(
        community=a.community, unit=a.unit, floor=5, number="501"
    )
    other_grid = Grid.objects.create(community=a.community, name="翠苑第二网格", code="G2")
    building2 = Building.objects.create(
        community=a.community, grid=other_grid, name="2号楼", number="2", floors=6
    )
    unit2 = Unit.objects.create(building=building2, number="1")
    far_household = Household.objects.create(
        community=a.community, unit=unit2, floor=1, number="101"
    )
    # An empty household: alerts never count it.
    Household.objects.create(community=a.community, unit=unit2, floor=2, number="201")

    tenant = _user("a_tenant")
    Membership.objects.create(user=tenant, role=Role.RESIDENT, community=a.community)
    tenant_resident = Resident.objects.create(community=a.community, name="翠苑王五", user=tenant)
    HouseholdMember.objects.create(
        household=tenant_household, resident=tenant_resident, relation=Relation.HEAD
    )
    phone_resident = Resident.objects.create(
        community=a.community, name="翠苑赵六", phone="13700001111"
    )
    Resident.objects.filter(pk=phone_resident.pk).update(phone_index=blind_index("13700001111"))
    phone_resident.refresh_from_db()
    HouseholdMember.objects.create(
        household=phone_household, resident=phone_resident, relation=Relation.HEAD
    )
    far_user = _user("a_far")
    Membership.objects.create(user=far_user, role=Role.RESIDENT, community=a.community)
    far_resident = Resident.objects.create(community=a.community, name="翠苑钱七")
    HouseholdMember.objects.create(
        household=far_household, resident=far_resident, relation=Relation.HEAD
    )
    HouseholdBinding.objects.create(
        user=far_user,
        household=far_household,
        resident=far_resident,
        status=BindingStatus.APPROVED,
        relation=Relation.HEAD,
    )
    return AlertWorld(
        world=world,
        tenant_household=tenant_household,
        phone_household=phone_household,
        far_household=far_household,
        tenant=tenant,
        far_user=far_user,
        phone_resident=phone_resident,
        building2=building2,
        volunteer=world.user("volunteer"),
    )


def sent_alert(
    alerts: AlertWorld,
    *,
    confirmation: str = "safe",
    now: dt.datetime | None = None,
    **fields: Any,
) -> SafetyAlert:
    """A typhoon alert to the whole community (unless ``fields`` say otherwise), sent."""
    now = now or timezone.now()
    values: dict[str, Any] = {
        "event": "台风",
        "category": "Met",
        "severity": "Severe",
        "urgency": "Expected",
        "certainty": "Likely",
        "response_type": "Shelter",
        "headline": "台风预警:请留在室内",
        "description": "今晚台风过境,风力很大。",
        "instruction": "收好阳台物品,关好门窗。",
        "confirmation": confirmation,
    }
    values.update(fields)
    alert = alert_create(actor=alerts.admin, community=alerts.world.a.community, now=now, **values)
    return alert_publish(actor=alerts.admin, alert=alert, now=now)

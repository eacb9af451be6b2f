"""Writes of the responsibility matrix: every validation error (nothing saved), duplicates
as a clear conflict, permissions (403 for viewers, 404 for outsiders), and audit entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts.models import Membership
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.places.models import Building
from anwang.responsibilities import services
from anwang.responsibilities.models import Responsibility

from .support import responsibility

pytestmark = pytest.mark.django_db


def create(world: Any, **fields: Any) -> Responsibility:
    """Create in community a as its admin."""
    values: dict[str, Any] = {"area_kind": "zone", "zone": world.a.zone}
    values.update(fields)
    return services.responsibility_create(
        actor=world.user("community_admin"), community=world.a.community, **values
    )


def error_of(world: Any, **fields: Any) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        create(world, **fields)
    assert Responsibility.objects.count() == 0
    return caught.value


def test_create_by_person_and_by_role_is_audited(world: Any) -> None:
    item = create(world, responsible_person=world.user("grid_worker"), deputy_role="on_duty_leader")
    assert item.responsible_person == world.user("grid_worker")
    assert item.deputy_role == "on_duty_leader"
    event = AuditEvent.objects.get(action="responsibility.create")
    assert event.community_id == world.a.community.pk
    assert event.changes["responsible_person"] == [None, world.user("grid_worker").pk]
    assert event.actor == world.user("community_admin")


def test_building_and_asset_type(world: Any) -> None:
    building = create(
        world, area_kind="building", zone=None, building=world.a.building, responsible_role="guard"
    )
    assets = create(
        world, area_kind="asset_type", zone=None, asset_type="aed", responsible_role="operator"
    )
    assert (building.building, building.zone) == (world.a.building, None)
    assert (assets.asset_type, assets.zone) == ("aed", None)


def test_area_of_another_community(world: Any) -> None:
    error = error_of(world, zone=world.b.zone, responsible_role="guard")
    assert (error.field, str(error.message)) == ("zone", "Choose a zone of this community.")
    error = error_of(
        world, area_kind="building", zone=None, building=world.b.building, responsible_role="guard"
    )
    assert (error.field, str(error.message)) == (
        "building",
        "Choose a building of this community.",
    )


def test_missing_or_unknown_area(world: Any) -> None:
    assert error_of(world, zone=None, responsible_role="guard").field == "zone"
    assert error_of(world, area_kind="asset_type", zone=None, responsible_role="guard").field == (
        "asset_type"
    )
    assert error_of(world, area_kind="grid", responsible_role="guard").field == "area_kind"


def test_both_person_and_role_on_one_side(world: Any) -> None:
    error = error_of(world, responsible_person=world.user("guard"), responsible_role="guard")
    assert (error.field, str(error.message)) == (
        "responsible_person",
        "Name a person or a duty role, not both.",
    )
    error = error_of(
        world, responsible_role="guard", deputy_person=world.user("guard"), deputy_role="guard"
    )
    assert error.field == "deputy_person"


def test_neither_on_the_responsible_side(world: Any) -> None:
    error = error_of(world, deputy_role="guard")
    assert (error.field, str(error.message)) == (
        "responsible_person",
        "Name the responsible person or a duty role.",
    )


def test_unknown_duty_role(world: Any) -> None:
    assert error_of(world, responsible_role="captain").field == "responsible_role"


def test_person_not_staff_of_the_community(world: Any) -> None:
    error = error_of(world, responsible_person=world.user("guard", "b"))
    assert error.field == "responsible_person"
    assert "is not staff or a volunteer of this community" in str(error.message)
    # Residents and auditors do not answer for areas either.
    assert error_of(world, responsible_person=world.user("resident")).field == (
        "responsible_person"
    )
    assert error_of(world, responsible_role="guard", deputy_person=world.user("auditor")).field == (
        "deputy_person"
    )


def test_inactive_person(world: Any) -> None:
    guard = world.user("guard")
    guard.is_active = False
    guard.save()
    error = error_of(world, responsible_person=guard)
    assert str(error.message) == "Choose an active person."


def test_duplicate_area_is_a_clear_conflict(world: Any) -> None:
    create(world, responsible_role="guard")
    with pytest.raises(ConflictError) as caught:
        create(world, responsible_role="operator")
    assert caught.value.field == "zone"
    assert "already answers for" in str(caught.value.message)
    assert Responsibility.objects.count() == 1
    create(world, area_kind="asset_type", zone=None, asset_type="aed", responsible_role="guard")
    with pytest.raises(ConflictError):
        create(world, area_kind="asset_type", zone=None, asset_type="aed", responsible_role="guard")


def test_update_replaces_a_side_and_moves_the_area(world: Any) -> None:
    item = responsibility(world, deputy_person=world.user("operator"))
    services.responsibility_update(
        actor=world.user("community_admin"),
        responsibility=item,
        responsible_person=world.user("grid_worker"),
    )
    item.refresh_from_db()
    assert (item.responsible_person, item.responsible_role) == (world.user("grid_worker"), "")
    assert item.deputy_person == world.user("operator")
    services.responsibility_update(
        actor=None,
        responsibility=item,
        deputy_person=None,
        deputy_role=None,  # type: ignore[arg-type]
    )
    cleared = Responsibility.objects.get(pk=item.pk)
    assert (cleared.deputy_person_id, cleared.deputy_role) == (None, "")
    services.responsibility_update(
        actor=None, responsibility=item, area_kind="building", building=world.a.building
    )
    item.refresh_from_db()
    assert (item.area_kind, item.zone, item.building) == ("building", None, world.a.building)
    event = AuditEvent.objects.filter(action="responsibility.update").latest("id")
    assert event.changes["area_kind"] == ["zone", "building"]


def test_update_errors_save_nothing(world: Any) -> None:
    item = responsibility(world)
    other = Building.objects.create(community=world.a.community, name="2号楼", number="2")
    responsibility(world, area_kind="building", zone=None, building=other)
    with pytest.raises(ServiceError):
        services.responsibility_update(actor=None, responsibility=item, responsible_role="")
    with pytest.raises(ConflictError):
        services.responsibility_update(
            actor=None, responsibility=item, area_kind="building", building=other
        )
    item.refresh_from_db()
    assert (item.area_kind, item.zone, item.responsible_role) == ("zone", world.a.zone, "guard")


def test_delete_is_audited(world: Any) -> None:
    item = responsibility(world)
    services.responsibility_delete(actor=world.user("community_admin"), responsibility=item)
    assert not Responsibility.objects.exists()
    event = AuditEvent.objects.get(action="responsibility.delete")
    assert event.changes["responsible_role"] == ["guard", None]


@pytest.mark.parametrize("role", ["operator", "guard", "grid_worker"])
def test_viewers_get_403(world: Any, role: str) -> None:
    with pytest.raises(PermissionDenied):
        services.responsibility_create(
            actor=world.user(role),
            community=world.a.community,
            area_kind="zone",
            zone=world.a.zone,
            responsible_role="guard",
        )
    item = responsibility(world)
    with pytest.raises(PermissionDenied):
        services.responsibility_delete(actor=world.user(role), responsibility=item)


@pytest.mark.parametrize("role", ["resident", "volunteer", "auditor"])
def test_others_get_404(world: Any, role: str) -> None:
    item = responsibility(world)
    with pytest.raises(Http404):
        services.responsibility_update(actor=world.user(role), responsibility=item, note="x")
    with pytest.raises(Http404):
        services.responsibility_delete(
            actor=world.user("community_admin", "b"), responsibility=item
        )


def test_supervisor_may_manage(world: Any) -> None:
    assert Membership.objects.filter(user=world.user("supervisor")).exists()
    item = services.responsibility_create(
        actor=world.user("supervisor"),
        community=world.a.community,
        area_kind="zone",
        zone=world.a.zone,
        responsible_role="on_duty_leader",
    )
    assert item.pk is not None

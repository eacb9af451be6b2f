"""Services of the inspections domain: checklists, plans, carrying out inspections."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.facilities.models import Asset, AssetEvent
from anwang.hazards.models import Hazard
from anwang.inspections import services
from anwang.inspections.choices import InspectionStatus, Outcome
from anwang.inspections.models import Checklist, ChecklistItem, InspectionResult
from anwang.inspections.tests.support import Setup, answers, asset, checklist, inspect, upload
from anwang.patrols.models import Checkpoint

pytestmark = pytest.mark.django_db


def test_default_checklists_are_added_once_by_a_manager(world: Any) -> None:
    community = world.a.community
    assert not Checklist.objects.filter(community=community).exists()
    with pytest.raises(PermissionDenied):
        services.checklists_seed_defaults(actor=world.user("operator"), community=community)
    with pytest.raises(Http404):
        services.checklists_seed_defaults(
            actor=world.user("community_admin", "b"), community=community
        )
    created = services.checklists_seed_defaults(
        actor=world.user("community_admin"), community=community
    )
    types = {c.asset_type for c in created}
    assert types == {"fire_extinguisher", "fire_door", "aed", "hydrant", "emergency_supply"}
    door = checklist(community, "fire_door")
    assert "fire_exit_blocked" in set(door.items.values_list("hazard_category", flat=True))
    assert AuditEvent.objects.filter(action="inspections.checklist.seed").count() == 1
    # Again adds nothing.
    assert services.checklists_seed_defaults(community=community) == []


def test_failed_item_reports_exactly_one_hazard(setup: Setup) -> None:
    record = inspect(setup, fail=1)
    assert record.status == InspectionStatus.SUBMITTED
    assert record.passed is False
    failed = InspectionResult.objects.get(inspection=record, outcome=Outcome.FAIL)
    assert Hazard.objects.count() == 1
    hazard = Hazard.objects.get()
    assert failed.hazard == hazard
    assert hazard.category == "fire_equipment"
    assert "MHQ-1" in hazard.description
    assert failed.item_text in hazard.description
    assert "压力表指针在红区" in hazard.description
    assert hazard.reporter == setup.world.user("guard")
    assert hazard.building == setup.world.a.building
    assert hazard.latitude == setup.ext1.latitude
    assert InspectionResult.objects.filter(inspection=record, hazard__isnull=True).count() == 4


def test_a_blocked_fire_exit_is_reported_as_such(setup: Setup) -> None:
    guard = setup.world.user("guard")
    record = services.inspection_start(actor=guard, asset=setup.door)
    services.inspection_submit(actor=guard, inspection=record, results=answers(record, fail=1))
    assert Hazard.objects.get().category == "fire_exit_blocked"


def test_passing_inspection_reports_nothing_and_marks_the_asset_checked(setup: Setup) -> None:
    moment = timezone.now() - dt.timedelta(minutes=5)
    record = inspect(setup, at=moment)
    assert record.passed is True
    assert not Hazard.objects.exists()
    setup.ext1.refresh_from_db()
    assert setup.ext1.last_checked_at == moment
    assert AssetEvent.objects.filter(asset=setup.ext1, kind="checked").count() == 1
    assert AuditEvent.objects.filter(action="inspections.submit").count() == 1


def test_submitting_twice_is_a_conflict_and_reports_no_second_hazard(setup: Setup) -> None:
    record = inspect(setup, fail=2)
    guard = setup.world.user("guard")
    with pytest.raises(ConflictError):
        services.inspection_submit(actor=guard, inspection=record, results=answers(record, fail=2))
    assert Hazard.objects.count() == 2


def test_every_item_must_be_ticked_and_nothing_is_saved_otherwise(setup: Setup) -> None:
    guard = setup.world.user("guard")
    record = services.inspection_start(actor=guard, asset=setup.ext1, plan=setup.plan)
    with pytest.raises(ServiceError, match="missing"):
        services.inspection_submit(actor=guard, inspection=record, results=answers(record)[1:])
    record.refresh_from_db()
    assert record.status == InspectionStatus.IN_PROGRESS
    assert not InspectionResult.objects.exists()


def test_a_failed_item_needs_a_note_or_photo(setup: Setup) -> None:
    guard = setup.world.user("guard")
    record = services.inspection_start(actor=guard, asset=setup.ext1, plan=setup.plan)
    with pytest.raises(ServiceError, match="Say what is wrong") as error:
        services.inspection_submit(
            actor=guard, inspection=record, results=answers(record, fail=1, note="")
        )
    assert error.value.field is not None
    assert error.value.field.startswith("note_")
    assert not Hazard.objects.exists()


def test_a_bad_photo_loses_nothing(setup: Setup) -> None:
    guard = setup.world.user("guard")
    record = services.inspection_start(actor=guard, asset=setup.ext1, plan=setup.plan)
    results = answers(record, fail=1)
    bad = services.ResultInput(
        item_id=results[0].item_id,
        outcome=Outcome.FAIL,
        note="坏了",
        photo=upload("x.jpg").__class__("x.jpg", b"not an image", "image/jpeg"),
    )
    with pytest.raises(ServiceError, match="photo"):
        services.inspection_submit(actor=guard, inspection=record, results=[bad, *results[1:]])
    assert not Hazard.objects.exists()
    record.refresh_from_db()
    assert record.status == InspectionStatus.IN_PROGRESS


def test_a_photo_goes_with_the_result_and_the_hazard(setup: Setup) -> None:
    guard = setup.world.user("guard")
    record = services.inspection_start(actor=guard, asset=setup.ext1, plan=setup.plan)
    results = answers(record, fail=1)
    with_photo = services.ResultInput(
        item_id=results[0].item_id, outcome=Outcome.FAIL, note="", photo=upload()
    )
    services.inspection_submit(actor=guard, inspection=record, results=[with_photo, *results[1:]])
    result = InspectionResult.objects.get(outcome=Outcome.FAIL)
    assert result.photo
    assert result.photo_thumbnail
    assert result.hazard is not None
    assert result.hazard.photo


def test_start_reuses_the_open_inspection(setup: Setup) -> None:
    guard = setup.world.user("guard")
    first = services.inspection_start(actor=guard, asset=setup.ext1, plan=setup.plan)
    again = services.inspection_start(actor=guard, asset=setup.ext1, plan=setup.plan)
    assert first.pk == again.pk


def test_an_asset_outside_the_plan_cannot_be_inspected_under_it(setup: Setup) -> None:
    with pytest.raises(ServiceError, match="not part of that plan"):
        services.inspection_start(
            actor=setup.world.user("guard"), asset=setup.door, plan=setup.plan
        )


def test_only_the_inspector_submits(setup: Setup) -> None:
    record = services.inspection_start(
        actor=setup.world.user("guard"), asset=setup.ext1, plan=setup.plan
    )
    with pytest.raises(ConflictError):
        services.inspection_submit(
            actor=setup.world.user("grid_worker"), inspection=record, results=answers(record)
        )


@pytest.mark.parametrize(("role", "error"), [("volunteer", Http404), ("resident", Http404)])
def test_who_may_not_inspect(setup: Setup, role: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        services.inspection_start(actor=setup.world.user(role), asset=setup.ext1)


def test_operators_see_but_may_not_inspect_or_plan(setup: Setup) -> None:
    operator = setup.world.user("operator")
    with pytest.raises(PermissionDenied):
        services.inspection_start(actor=operator, asset=setup.ext1)
    with pytest.raises(PermissionDenied):
        services.checklist_item_add(actor=operator, checklist=setup.plan.checklist, text="x")


def test_other_communities_are_not_found(setup: Setup) -> None:
    with pytest.raises(Http404):
        services.inspection_start(actor=setup.world.user("guard", "b"), asset=setup.ext1)
    with pytest.raises(Http404):
        services.plan_update(
            actor=setup.world.user("community_admin", "b"),
            plan=setup.plan,
            data=services.PlanInput(
                name="x", checklist=setup.plan.checklist, first_start=timezone.now()
            ),
        )


def test_plan_validation(setup: Setup) -> None:
    admin = setup.world.user("community_admin")
    base: dict[str, Any] = {
        "name": "p",
        "checklist": setup.plan.checklist,
        "first_start": timezone.now(),
    }
    with pytest.raises(ServiceError, match="daily, weekly or monthly"):
        services.plan_create(
            actor=admin,
            community=setup.community,
            data=services.PlanInput(**base, rrule="FREQ=HOURLY"),
        )
    with pytest.raises(ServiceError) as error:
        services.plan_create(
            actor=admin, community=setup.community, data=services.PlanInput(**base, rrule="nope")
        )
    assert error.value.field == "rrule"
    with pytest.raises(ServiceError, match="type"):
        services.plan_create(
            actor=admin,
            community=setup.community,
            data=services.PlanInput(**base, assets=[setup.door]),
        )
    with pytest.raises(ServiceError, match="may not inspect"):
        services.plan_create(
            actor=admin,
            community=setup.community,
            data=services.PlanInput(**base, assignees=[setup.world.user("resident")]),
        )
    other = asset(setup.world.b.community, "B-1")
    with pytest.raises(ServiceError, match="this community"):
        services.plan_create(
            actor=admin, community=setup.community, data=services.PlanInput(**base, assets=[other])
        )


def test_checklist_editing(setup: Setup) -> None:
    admin = setup.world.user("community_admin")
    made = services.checklist_create(
        actor=admin,
        community=setup.community,
        asset_type="lighting",
        name="路灯检查",
        items=[("灯亮", "broken_light")],
    )
    item = services.checklist_item_add(actor=admin, checklist=made, text="灯杆无倾斜")
    assert [i.order for i in made.items.order_by("order")] == [1, 2]
    services.checklist_item_update(
        actor=admin,
        item=item,
        text="灯杆稳固",
        hazard_category="falling_object_risk",
        is_active=False,
    )
    item.refresh_from_db()
    assert (item.text, item.hazard_category, item.is_active) == (
        "灯杆稳固",
        "falling_object_risk",
        False,
    )
    with pytest.raises(ServiceError, match="already exists"):
        services.checklist_create(
            actor=admin, community=setup.community, asset_type="lighting", name="路灯检查"
        )
    with pytest.raises(ServiceError, match="hazard category"):
        services.checklist_item_add(actor=admin, checklist=made, text="x", hazard_category="zz")


def test_removed_items_are_not_asked_again(setup: Setup) -> None:
    admin = setup.world.user("community_admin")
    item = ChecklistItem.objects.filter(checklist=setup.plan.checklist).first()
    assert item is not None
    services.checklist_item_update(
        actor=admin,
        item=item,
        text=item.text,
        hazard_category=item.hazard_category,
        is_active=False,
    )
    record = inspect(setup)
    assert not record.results.filter(item=item).exists()
    assert record.results.count() == 4


def test_plan_at_a_checkpoint_and_delete_keeps_records(setup: Setup) -> None:
    admin = setup.world.user("community_admin")
    checkpoint = Checkpoint.objects.create(
        community=setup.community,
        name="东门",
        placement="zone",
        zone=setup.world.a.zone,
        code_salt="s",
    )
    services.plan_update(
        actor=admin,
        plan=setup.plan,
        data=services.PlanInput(
            name=setup.plan.name,
            checklist=setup.plan.checklist,
            first_start=setup.plan.first_start,
            checkpoint=checkpoint,
        ),
    )
    setup.plan.refresh_from_db()
    assert setup.plan.checkpoint == checkpoint
    record = inspect(setup)
    services.plan_delete(actor=admin, plan=setup.plan)
    record.refresh_from_db()
    assert record.plan is None
    assert Asset.objects.filter(pk=setup.ext1.pk).exists()

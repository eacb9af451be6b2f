"""Writes of emergency plans: starting a plan, editing drafts, revising, approving and
discarding, with their permissions, validation and audit entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.facilities.models import Asset
from anwang.plans import services
from anwang.plans.choices import VersionStatus
from anwang.plans.models import EmergencyPlan, PlanStep, PlanVersion
from anwang.plans.services import ContactInput, ResourceInput, StepInput
from anwang.plans.tests.conftest import FIRE_STEPS, fire_plan

pytestmark = pytest.mark.django_db


def _asset(community: Any, name: str = "灭火器A") -> Asset:
    return Asset.objects.create(
        community=community, asset_type="fire_extinguisher", name=name, code=f"X-{name}"
    )


# Starting a plan ---------------------------------------------------------------------------------


def test_plan_create_starts_an_empty_first_draft_and_is_audited(world: Any) -> None:
    plan = services.plan_create(
        actor=world.user("supervisor"),
        community=world.a.community,
        incident_type="gas_leak",
        title="燃气泄漏预案",
        summary="  范围  ",
    )
    version = plan.versions.get()
    assert (version.number, version.status, version.summary) == (1, "draft", "范围")
    assert version.created_by == world.user("supervisor")
    assert AuditEvent.objects.filter(
        action="emergency_plan.create", object_id=str(plan.pk)
    ).exists()


def test_plan_create_refuses_a_second_plan_for_the_type(world: Any) -> None:
    fire_plan(world, approve=False)
    with pytest.raises(ConflictError, match="already has a plan for Fire") as caught:
        services.plan_create(
            actor=None, community=world.a.community, incident_type="fire", title="又一个"
        )
    assert caught.value.field == "incident_type"
    # Community B may have its own fire plan.
    services.plan_create(
        actor=None, community=world.b.community, incident_type="fire", title="文华"
    )


@pytest.mark.parametrize(
    ("incident_type", "title", "field"),
    [("earthquake", "x", "incident_type"), ("fire", "   ", "title"), ("fire", "长" * 121, "title")],
)
def test_plan_create_validates(world: Any, incident_type: str, title: str, field: str) -> None:
    with pytest.raises(ServiceError) as caught:
        services.plan_create(
            actor=None, community=world.a.community, incident_type=incident_type, title=title
        )
    assert caught.value.field == field
    assert not EmergencyPlan.objects.exists()


def test_plan_create_needs_manage_plans(world: Any) -> None:
    with pytest.raises(PermissionDenied):  # the operator reads plans but may not write them
        services.plan_create(
            actor=world.user("operator"),
            community=world.a.community,
            incident_type="fire",
            title="x",
        )
    with pytest.raises(Http404):  # community B's admin may not even see A's plans
        services.plan_create(
            actor=world.user("community_admin", "b"),
            community=world.a.community,
            incident_type="fire",
            title="x",
        )
    with pytest.raises(Http404):
        services.plan_create(
            actor=world.user("resident"),
            community=world.a.community,
            incident_type="fire",
            title="x",
        )


# Editing drafts ----------------------------------------------------------------------------------


def test_draft_update_replaces_lists_in_order_and_audits(world: Any) -> None:
    _plan, version = fire_plan(world, approve=False)
    asset = _asset(world.a.community)
    services.plan_version_update(
        actor=world.user("supervisor"),
        version=version,
        steps=[FIRE_STEPS[2], FIRE_STEPS[0]],  # reordered, one removed
        resources=[ResourceInput(description="", quantity=4, asset_id=asset.pk)],
        change_note="调整顺序",
    )
    titles = list(version.steps.order_by("position").values_list("position", "title"))
    assert titles == [(1, "向街道报告"), (2, "确认火情并报警")]
    resource = version.resources.get()
    assert (resource.description, resource.quantity, resource.asset) == ("灭火器A", 4, asset)
    assert version.contacts.count() == 1  # not given, so kept
    assert [zone.pk for zone in version.evacuation_zones.all()] == [world.a.zone.pk]
    entry = AuditEvent.objects.filter(action="plan_version.update").latest("seq")
    assert entry.changes["steps"][1][0] == ["向街道报告", "on_duty_leader", 15]
    assert entry.changes["change_note"] == ["", "调整顺序"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"steps": [FIRE_STEPS[0], StepInput(title="x", duty_role="chef", target_minutes=1)]},
            "steps.1.duty_role",
            "Step 2: choose one of",
        ),
        (
            {"steps": [StepInput(title=" ", duty_role="guard", target_minutes=1)]},
            "steps.0.title",
            "required",
        ),
        (
            {"steps": [StepInput(title="x", duty_role="guard", target_minutes=-1)]},
            "steps.0.target_minutes",
            "Enter a number from 0 to 10080",
        ),
        (
            {"steps": [StepInput(title="x", duty_role="guard", target_minutes=True)]},
            "steps.0.target_minutes",
            "whole number",
        ),
        ({"contacts": [ContactInput(name="x", phone="none")]}, "contacts.0.phone", "phone"),
        (
            {"resources": [ResourceInput(description="", quantity=1)]},
            "resources.0.description",
            "required",
        ),
        ({"assembly_latitude": 91}, "assembly_latitude", "from -90 to 90"),
        ({"assembly_longitude": None}, "assembly_latitude", "or neither"),
    ],
)
def test_draft_update_validates_and_saves_nothing(
    world: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    _plan, version = fire_plan(world, approve=False)
    with pytest.raises(ServiceError, match=message) as caught:
        services.plan_version_update(actor=None, version=version, summary="改了", **changes)
    assert caught.value.field == field
    version.refresh_from_db()
    assert version.summary == "小区火灾的处置流程"
    assert version.steps.count() == 3


def test_draft_may_only_use_the_communitys_assets_and_zones(world: Any) -> None:
    _plan, version = fire_plan(world, approve=False)
    foreign = _asset(world.b.community)
    with pytest.raises(ServiceError, match="asset of this community"):
        services.plan_version_update(
            actor=None, version=version, resources=[ResourceInput("x", 1, foreign.pk)]
        )
    with pytest.raises(ServiceError, match="zones of this community"):
        services.plan_version_update(
            actor=None, version=version, evacuation_zone_ids=[world.b.zone.pk]
        )
    assert list(version.evacuation_zones.all()) == [world.a.zone]


def test_only_drafts_are_editable(world: Any, fire: Any) -> None:
    _plan, version = fire
    with pytest.raises(ConflictError, match="can no longer be changed") as caught:
        services.plan_version_update(actor=None, version=version, summary="偷偷改")
    assert caught.value.code == "not_draft"
    version.refresh_from_db()
    assert version.summary == "小区火灾的处置流程"


def test_a_stale_draft_object_is_refused_once_approved(world: Any) -> None:
    """A page opened on the draft before someone approved it cannot change the approved one."""
    _plan, version = fire_plan(world, approve=False)
    stale = PlanVersion.objects.get(pk=version.pk)
    services.plan_version_approve(actor=None, version=version)
    with pytest.raises(ConflictError):
        services.plan_version_update(actor=None, version=stale, steps=[])
    assert version.steps.count() == 3


def test_draft_edit_needs_manage_plans(world: Any) -> None:
    _plan, version = fire_plan(world, approve=False)
    with pytest.raises(PermissionDenied):
        services.plan_version_update(actor=world.user("guard"), version=version, summary="x")
    with pytest.raises(Http404):
        services.plan_version_update(
            actor=world.user("supervisor", "b"), version=version, summary="x"
        )


# Revising ----------------------------------------------------------------------------------------


def test_revision_copies_the_version_into_a_new_draft(world: Any, fire: Any) -> None:
    _plan, version = fire
    asset = _asset(world.a.community)
    # Give v1 a resource by going through v2 and back is long; put one on v1 directly.
    version.resources.create(position=1, description="灭火器", quantity=2, asset=asset)
    draft = services.plan_revision_draft(
        actor=world.user("supervisor"), version=version, change_note="增加联系人"
    )
    assert (draft.number, draft.status, draft.based_on) == (2, "draft", version)
    assert draft.created_by == world.user("supervisor")
    assert draft.summary == version.summary
    assert draft.change_note == "增加联系人"
    assert [
        (s.position, s.title, s.duty_role, s.target_minutes, s.instructions)
        for s in draft.steps.all()
    ] == [
        (s.position, s.title, s.duty_role, s.target_minutes, s.instructions)
        for s in version.steps.all()
    ]
    assert set(draft.steps.values_list("pk", flat=True)).isdisjoint(
        version.steps.values_list("pk", flat=True)
    )
    assert list(draft.contacts.values_list("name", "phone")) == [("消防队", "119")]
    assert list(draft.resources.values_list("description", "quantity", "asset")) == [
        ("灭火器", 2, asset.pk)
    ]
    assert list(draft.evacuation_zones.all()) == [world.a.zone]
    assert (draft.assembly_latitude, draft.assembly_longitude, draft.assembly_note) == (
        30.5005,
        114.3005,
        "中心广场",
    )
    assert AuditEvent.objects.filter(action="plan_version.revise", object_id=str(draft.pk)).exists()
    # v1 is untouched and still in force.
    version.refresh_from_db()
    assert version.status == "approved"


def test_revision_reuses_the_existing_draft_and_appends_the_note(world: Any, fire: Any) -> None:
    plan, version = fire
    first = services.plan_revision_draft(actor=None, version=version, change_note="改电话")
    again = services.plan_revision_draft(actor=None, version=version, change_note="加步骤")
    assert again.pk == first.pk
    assert again.change_note == "改电话\n加步骤"
    assert plan.versions.count() == 2
    assert services.plan_revision_draft(
        actor=None, version=version, change_note=""
    ).change_note == ("改电话\n加步骤")


def test_revision_numbers_follow_discarded_versions(world: Any, fire: Any) -> None:
    _plan, version = fire
    services.plan_version_discard(
        actor=None,
        version=services.plan_revision_draft(actor=None, version=version, change_note=""),
    )
    draft = services.plan_revision_draft(actor=None, version=version, change_note="")
    assert draft.number == 3


def test_revision_needs_manage_plans(world: Any, fire: Any) -> None:
    plan, version = fire
    with pytest.raises(PermissionDenied):
        services.plan_revision_draft(actor=world.user("operator"), version=version, change_note="")
    with pytest.raises(Http404):
        services.plan_revision_draft(
            actor=world.user("community_admin", "b"), version=version, change_note=""
        )
    assert plan.versions.count() == 1


# Approving ---------------------------------------------------------------------------------------


def test_edit_after_approval_makes_a_new_draft_and_approval_supersedes(
    world: Any, fire: Any
) -> None:
    _plan, v1 = fire
    assert (v1.status, v1.approved_by) == ("approved", world.user("community_admin"))
    assert v1.approved_at is not None
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="新增步骤")
    services.plan_version_update(
        actor=None,
        version=v2,
        steps=[
            *FIRE_STEPS,
            StepInput(title="清点人数", duty_role="grid_worker", target_minutes=20),
        ],
    )
    moment = timezone.now() + dt.timedelta(hours=1)
    services.plan_version_approve(actor=world.user("community_admin"), version=v2, now=moment)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v1.superseded_at) == ("superseded", moment)
    assert (v2.status, v2.approved_at) == ("approved", moment)
    # The superseded version is still complete and readable.
    assert v1.steps.count() == 3
    assert v2.steps.count() == 4
    entry = AuditEvent.objects.get(action="plan_version.approve", object_id=str(v2.pk))
    assert entry.changes["supersedes"] == [None, 1]


def test_an_incident_keeps_the_version_it_started_with(world: Any, fire: Any) -> None:
    from anwang.incidents.models import Incident
    from anwang.plans.selectors import approved_version

    _plan, v1 = fire
    incident = Incident.objects.create(
        community=world.a.community,
        incident_type="fire",
        title="3号楼火情",
        plan_version=approved_version(world.a.community.pk, "fire"),
        declared_at=timezone.now(),
    )
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="")
    services.plan_version_update(actor=None, version=v2, steps=FIRE_STEPS[:1])
    services.plan_version_approve(actor=None, version=v2)
    incident.refresh_from_db()
    assert incident.plan_version_id == v1.pk
    assert incident.plan_version is not None
    assert [step.title for step in incident.plan_version.steps.all()] == [
        step.title for step in FIRE_STEPS
    ]
    assert approved_version(world.a.community.pk, "fire") == v2


def test_approval_needs_approve_plans(world: Any) -> None:
    _plan, version = fire_plan(world, approve=False)
    with pytest.raises(PermissionDenied):  # the supervisor writes drafts but does not approve
        services.plan_version_approve(actor=world.user("supervisor"), version=version)
    with pytest.raises(Http404):
        services.plan_version_approve(actor=world.user("community_admin", "b"), version=version)
    version.refresh_from_db()
    assert version.status == "draft"
    services.plan_version_approve(actor=world.platform_admin, version=version)


def test_approval_needs_a_step_and_a_draft(world: Any) -> None:
    plan = services.plan_create(
        actor=None, community=world.a.community, incident_type="flooding", title="防汛"
    )
    draft = plan.versions.get()
    with pytest.raises(ServiceError, match="at least one step") as caught:
        services.plan_version_approve(actor=None, version=draft)
    assert caught.value.field == "steps"
    services.plan_version_update(actor=None, version=draft, steps=FIRE_STEPS[:1])
    services.plan_version_approve(actor=None, version=draft)
    with pytest.raises(ConflictError):
        services.plan_version_approve(actor=None, version=draft)


def test_two_approvals_of_one_draft_cannot_both_win(world: Any, fire: Any) -> None:
    """Two admins press approve on the same page: the second sees the first one's result."""
    plan, v1 = fire
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="")
    first_page = PlanVersion.objects.get(pk=v2.pk)
    second_page = PlanVersion.objects.get(pk=v2.pk)
    services.plan_version_approve(actor=None, version=first_page)
    with pytest.raises(ConflictError):
        services.plan_version_approve(actor=None, version=second_page)
    assert plan.versions.filter(status=VersionStatus.APPROVED).count() == 1
    assert plan.versions.filter(status=VersionStatus.SUPERSEDED).count() == 1


# Discarding --------------------------------------------------------------------------------------


def test_discard_keeps_the_version_in_force(world: Any, fire: Any) -> None:
    _plan, v1 = fire
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="试试")
    services.plan_version_discard(actor=world.user("supervisor"), version=v2)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("approved", "discarded")
    assert v2.steps.count() == 3  # readable as it was
    assert AuditEvent.objects.filter(action="plan_version.discard", object_id=str(v2.pk)).exists()
    with pytest.raises(ConflictError):
        services.plan_version_discard(actor=None, version=v1)
    with pytest.raises(ConflictError):
        services.plan_version_update(actor=None, version=v2, summary="x")
    with pytest.raises(PermissionDenied):
        services.plan_version_discard(
            actor=world.user("guard"),
            version=services.plan_revision_draft(actor=None, version=v1, change_note=""),
        )


def test_step_rows_are_replaced_not_left_behind(world: Any) -> None:
    _plan, version = fire_plan(world, approve=False)
    services.plan_version_update(actor=None, version=version, steps=[])
    assert not PlanStep.objects.filter(version=version).exists()

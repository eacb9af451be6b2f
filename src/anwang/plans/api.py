"""JSON API of the emergency plans domain: plans per community, their versions, drafts and
approval, and the printable PDF of a version.

Reads need :attr:`Permission.VIEW_PLANS` in the community (404 otherwise); writes go through
:mod:`anwang.plans.services`, which need :attr:`Permission.MANAGE_PLANS` or, to approve,
:attr:`Permission.APPROVE_PLANS` (403 when the caller can read the plan but not change it).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.plans import selectors, services
from anwang.plans.models import EmergencyPlan, PlanVersion
from anwang.plans.pdf import plan_version_filename, plan_version_pdf
from anwang.plans.schemas import (
    EmergencyPlanDetailOut,
    EmergencyPlanIn,
    EmergencyPlanOut,
    PlanReviseIn,
    PlanVersionOut,
    PlanVersionPatch,
)

router = Router(tags=["plans"])

_PDF = {
    "responses": {
        "200": {
            "description": "The version as an A4 portrait PDF.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _plan(request: HttpRequest, emergency_plan_id: int) -> EmergencyPlan:
    plan = selectors.plan_get(request_scope(request), emergency_plan_id)
    return EmergencyPlan.objects.prefetch_related("versions").get(pk=plan.pk)


@router.get(
    "/communities/{community_id}/emergency-plans",
    response=list[EmergencyPlanOut],
    summary="List a community's emergency plans",
)
def plan_list(request: HttpRequest, community_id: int) -> QuerySet[EmergencyPlan]:
    """The community's plans, one per incident type, with the versions in force and drafts."""
    return selectors.plans_visible(request_scope(request), community_id).prefetch_related(
        "versions"
    )


@router.post(
    "/communities/{community_id}/emergency-plans",
    response={201: EmergencyPlanDetailOut},
    summary="Start an emergency plan",
)
def plan_create(
    request: HttpRequest, community_id: int, payload: EmergencyPlanIn
) -> Status[EmergencyPlan]:
    """Start the community's plan for an incident type, with an empty version 1 draft
    (409 when the type already has a plan)."""
    scope = request_scope(request)
    community = selectors.community_get(scope, community_id)
    plan = services.plan_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        incident_type=payload.incident_type,
        title=payload.title,
        summary=payload.summary,
    )
    return Status(201, _plan(request, plan.pk))


@router.get(
    "/emergency-plans/{emergency_plan_id}",
    response=EmergencyPlanDetailOut,
    summary="Get an emergency plan",
)
def plan_get(request: HttpRequest, emergency_plan_id: int) -> EmergencyPlan:
    """One plan with its versions, newest first."""
    return _plan(request, emergency_plan_id)


@router.post(
    "/emergency-plans/{emergency_plan_id}/revise",
    response={201: PlanVersionOut},
    summary="Start a new draft of a plan",
)
def plan_revise(
    request: HttpRequest, emergency_plan_id: int, payload: PlanReviseIn
) -> Status[PlanVersion]:
    """A new draft copied from a version (by default the one in force, else the newest), or the
    draft already being written with the change note added to it."""
    scope = request_scope(request)
    plan = selectors.plan_get(scope, emergency_plan_id)
    if payload.version_id is not None:
        source = plan.versions.filter(pk=payload.version_id).first()
        if source is None:
            raise ServiceError(_("Choose a version of this plan."), field="version")
    else:
        source = selectors.current_version(plan) or plan.versions.order_by("-number").first()
        if source is None:  # pragma: no cover - a plan is created with its first version
            raise Http404
    draft = services.plan_revision_draft(
        actor=request_actor(request), scope=scope, version=source, change_note=payload.change_note
    )
    return Status(201, selectors.version_get(scope, draft.pk))


@router.get(
    "/plan-versions/{plan_version_id}", response=PlanVersionOut, summary="Get a plan version"
)
def version_get(request: HttpRequest, plan_version_id: int) -> PlanVersion:
    """One version with its steps, contacts, resources and zones; old ones stay readable."""
    return selectors.version_get(request_scope(request), plan_version_id)


@router.patch("/plan-versions/{plan_version_id}", response=PlanVersionOut, summary="Change a draft")
def version_update(
    request: HttpRequest, plan_version_id: int, payload: PlanVersionPatch
) -> PlanVersion:
    """Change a draft (409 for any other version). Fields left out keep their value; steps,
    contacts, resources and zones given replace the draft's as a whole, in the order given."""
    scope = request_scope(request)
    version = selectors.version_get(scope, plan_version_id)
    given = payload.model_fields_set
    values: dict[str, Any] = {}
    for name in ("summary", "change_note", "assembly_note"):
        if name in given:
            values[name] = getattr(payload, name) or ""
    for name in ("assembly_latitude", "assembly_longitude", "evacuation_zone_ids"):
        if name in given:
            values[name] = getattr(payload, name)
    if values.get("evacuation_zone_ids", []) is None:
        values["evacuation_zone_ids"] = []
    if "steps" in given:
        values["steps"] = [
            services.StepInput(
                title=step.title,
                duty_role=step.duty_role,
                target_minutes=step.target_minutes,
                instructions=step.instructions,
            )
            for step in payload.steps or []
        ]
    if "contacts" in given:
        values["contacts"] = [
            services.ContactInput(
                name=contact.name,
                phone=contact.phone,
                organisation=contact.organisation,
                note=contact.note,
            )
            for contact in payload.contacts or []
        ]
    if "resources" in given:
        values["resources"] = [
            services.ResourceInput(
                description=resource.description,
                quantity=resource.quantity,
                asset_id=resource.asset_id,
            )
            for resource in payload.resources or []
        ]
    services.plan_version_update(
        actor=request_actor(request), scope=scope, version=version, **values
    )
    return selectors.version_get(scope, version.pk)


@router.post(
    "/plan-versions/{plan_version_id}/approve",
    response=PlanVersionOut,
    summary="Approve a draft, putting it in force",
)
def version_approve(request: HttpRequest, plan_version_id: int) -> PlanVersion:
    """Put a draft in force (community admin); the version in force before is superseded."""
    scope = request_scope(request)
    version = selectors.version_get(scope, plan_version_id)
    services.plan_version_approve(actor=request_actor(request), scope=scope, version=version)
    return selectors.version_get(scope, version.pk)


@router.post(
    "/plan-versions/{plan_version_id}/discard", response=PlanVersionOut, summary="Discard a draft"
)
def version_discard(request: HttpRequest, plan_version_id: int) -> PlanVersion:
    """Give up a draft; it stays readable as discarded."""
    scope = request_scope(request)
    version = selectors.version_get(scope, plan_version_id)
    services.plan_version_discard(actor=request_actor(request), scope=scope, version=version)
    return selectors.version_get(scope, version.pk)


@router.get(
    "/plan-versions/{plan_version_id}/pdf",
    summary="Print a plan version (PDF)",
    openapi_extra=_PDF,
)
def version_pdf(request: HttpRequest, plan_version_id: int) -> HttpResponse:
    """The version, printable on A4 with Chinese text."""
    version = selectors.version_get(request_scope(request), plan_version_id)
    response = HttpResponse(plan_version_pdf(version), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{plan_version_filename(version)}"'
    return response

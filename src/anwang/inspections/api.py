"""JSON API of the inspections domain: checklists, plans (CRUD), the due list, starting and
submitting an inspection, inspection records and statistics.

Reads are scoped: what the caller may not see is 404. Checklists and plans need the
manage-facilities permission to change (403 for those who only see them); starting and
submitting need the inspect-facilities permission. An inspection submitted twice is 409; bad
input is 400 with the field in ``errors``. Photos of results are added on the phone page.
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.facilities.models import Asset
from anwang.inspections import selectors, services
from anwang.inspections.models import Checklist, Inspection, InspectionPlan
from anwang.inspections.schemas import (
    ChecklistIn,
    ChecklistOut,
    ChecklistUpdateIn,
    InspectionChecklistDefaultsIn,
    InspectionDetailOut,
    InspectionDueOut,
    InspectionOut,
    InspectionPlanIn,
    InspectionPlanOut,
    InspectionStartIn,
    InspectionStatisticsOut,
    InspectionSubmitIn,
)
from anwang.patrols.models import Checkpoint
from anwang.places.models import Building, Community, Zone

router = Router(tags=["inspections"])
PAGE_SIZE = 50


def _community(scope: Scope, community_id: int) -> Community:
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not (
        acts_platform_wide(scope) or community_id in scope.community_ids()
    ):
        raise Http404
    return community


def _checklist_out(checklist: Checklist) -> dict[str, Any]:
    return {
        "id": checklist.pk,
        "community_id": checklist.community_id,
        "asset_type": checklist.asset_type,
        "name": checklist.name,
        "is_active": checklist.is_active,
        "items": selectors.checklist_items(checklist, active_only=False),
    }


def _detail(scope: Scope, inspection_id: int) -> dict[str, Any]:
    record = selectors.inspection_get(scope, inspection_id)
    return {
        **{field: getattr(record, field) for field in InspectionOut.model_fields},
        "items": selectors.checklist_items(record.checklist),
        "results": selectors.inspection_results(record),
    }


# --------------------------------------------------------------------------- checklists


@router.get("/inspections/checklists", response=list[ChecklistOut], summary="List checklists")
def checklist_list(request: HttpRequest, community_id: int | None = None) -> list[dict[str, Any]]:
    """Checklists of the caller's communities, with their items."""
    scope = request_scope(request)
    return [
        _checklist_out(c)
        for c in selectors.checklists(scope, community_id=community_id).prefetch_related("items")
    ]


@router.post(
    "/inspections/checklists/defaults",
    response={201: list[ChecklistOut]},
    summary="Add the default checklists",
)
def checklist_defaults(
    request: HttpRequest, payload: InspectionChecklistDefaultsIn
) -> Status[list[dict[str, Any]]]:
    """Add the default checklists (extinguisher, fire exit, AED, hydrant, supplies) for the
    asset types the community has none for yet; returns those added."""
    scope = request_scope(request)
    created = services.checklists_seed_defaults(
        actor=request_actor(request), scope=scope, community=_community(scope, payload.community_id)
    )
    return Status(201, [_checklist_out(checklist) for checklist in created])


@router.get("/inspections/checklists/{checklist_id}", response=ChecklistOut, summary="A checklist")
def checklist_get(request: HttpRequest, checklist_id: int) -> dict[str, Any]:
    """One checklist with all its items (removed ones inactive)."""
    return _checklist_out(selectors.checklist_get(request_scope(request), checklist_id))


@router.post("/inspections/checklists", response={201: ChecklistOut}, summary="Create a checklist")
def checklist_create(request: HttpRequest, payload: ChecklistIn) -> Status[dict[str, Any]]:
    """A new checklist for assets of one type, with its items."""
    scope = request_scope(request)
    checklist = services.checklist_create(
        actor=request_actor(request),
        scope=scope,
        community=_community(scope, payload.community_id),
        asset_type=payload.asset_type,
        name=payload.name,
        items=[(item.text, item.hazard_category) for item in payload.items],
    )
    return Status(201, _checklist_out(checklist))


@router.put(
    "/inspections/checklists/{checklist_id}", response=ChecklistOut, summary="Edit a checklist"
)
def checklist_update(
    request: HttpRequest, checklist_id: int, payload: ChecklistUpdateIn
) -> dict[str, Any]:
    """Rename, take out of use, change items (by id) and add items (without id)."""
    scope = request_scope(request)
    actor = request_actor(request)
    checklist = selectors.checklist_get(scope, checklist_id)
    services.checklist_update(
        actor=actor,
        scope=scope,
        checklist=checklist,
        name=payload.name,
        is_active=payload.is_active,
    )
    for item_in in payload.items:
        if item_in.id is None:
            services.checklist_item_add(
                actor=actor,
                scope=scope,
                checklist=checklist,
                text=item_in.text,
                hazard_category=item_in.hazard_category,
            )
            continue
        item = selectors.checklist_item_get(scope, item_in.id)
        if item.checklist_id != checklist.pk:
            raise Http404
        services.checklist_item_update(
            actor=actor,
            scope=scope,
            item=item,
            text=item_in.text,
            hazard_category=item_in.hazard_category,
            is_active=item_in.is_active,
        )
    return _checklist_out(checklist)


# --------------------------------------------------------------------------- plans


def _plan_input(scope: Scope, community_id: int, payload: InspectionPlanIn) -> services.PlanInput:
    """The payload's ids as objects of the community (an id of another one is refused by the
    service, or not found)."""

    def one(model: Any, pk: int | None) -> Any:
        if pk is None:
            return None
        found = model.objects.filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    checklist = selectors.checklist_get(scope, payload.checklist_id)
    assets = list(Asset.objects.filter(pk__in=payload.asset_ids))
    users = list(User.objects.filter(pk__in=payload.assignee_ids))
    if len(assets) != len(set(payload.asset_ids)) or len(users) != len(set(payload.assignee_ids)):
        raise Http404
    return services.PlanInput(
        name=payload.name,
        checklist=checklist,
        first_start=payload.first_start,
        rrule=payload.rrule,
        building=one(Building, payload.building_id),
        zone=one(Zone, payload.zone_id),
        assets=assets,
        assignees=users,
        checkpoint=one(Checkpoint, payload.checkpoint_id),
        is_active=payload.is_active,
        note=payload.note,
    )


@router.get("/inspections/plans", response=list[InspectionPlanOut], summary="List inspection plans")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def plan_list(request: HttpRequest, community_id: int | None = None) -> QuerySet[InspectionPlan]:
    """Plans of the caller's communities, by name."""
    return selectors.plans(request_scope(request), community_id=community_id)


@router.get(
    "/inspections/plans/{plan_id}", response=InspectionPlanOut, summary="An inspection plan"
)
def plan_get(request: HttpRequest, plan_id: int) -> InspectionPlan:
    """One plan."""
    return selectors.plan_get(request_scope(request), plan_id)


@router.post("/inspections/plans", response={201: InspectionPlanOut}, summary="Create a plan")
def plan_create(request: HttpRequest, payload: InspectionPlanIn) -> Status[InspectionPlan]:
    """A new recurring inspection plan (``community_id`` required)."""
    scope = request_scope(request)
    if payload.community_id is None:
        raise ServiceError(_("Choose a community."), field="community_id")
    community = _community(scope, payload.community_id)
    plan = services.plan_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        data=_plan_input(scope, community.pk, payload),
    )
    return Status(201, selectors.plan_get(scope, plan.pk))


@router.put("/inspections/plans/{plan_id}", response=InspectionPlanOut, summary="Edit a plan")
def plan_update(request: HttpRequest, plan_id: int, payload: InspectionPlanIn) -> InspectionPlan:
    """Change a plan (past inspections stay)."""
    scope = request_scope(request)
    plan = selectors.plan_get(scope, plan_id)
    services.plan_update(
        actor=request_actor(request),
        scope=scope,
        plan=plan,
        data=_plan_input(scope, plan.community_id, payload),
    )
    return selectors.plan_get(scope, plan.pk)


@router.delete("/inspections/plans/{plan_id}", response={204: None}, summary="Remove a plan")
def plan_delete(request: HttpRequest, plan_id: int) -> Status[None]:
    """Remove a plan; its inspections are kept without it."""
    scope = request_scope(request)
    services.plan_delete(
        actor=request_actor(request), scope=scope, plan=selectors.plan_get(scope, plan_id)
    )
    return Status(204, None)


# --------------------------------------------------------------------------- due and doing


def _due_out(entries: list[selectors.DueEntry]) -> list[dict[str, Any]]:
    return [
        {
            "plan_id": entry.plan.pk,
            "plan_name": entry.plan.name,
            "asset_id": entry.asset.pk,
            "asset_code": entry.asset.code,
            "asset_name": entry.asset.name,
            "status": entry.state.status,
            "period_start": entry.state.period.start if entry.state.period else None,
            "due_by": entry.state.due_by,
            "last_done": entry.last_done,
        }
        for entry in entries
    ]


@router.get("/inspections/due", response=list[InspectionDueOut], summary="Inspections due")
def due_list(
    request: HttpRequest, community_id: int | None = None, mine: bool = True
) -> list[dict[str, Any]]:
    """Assets to inspect now, overdue first: the caller's own (``mine``), or all they see."""
    scope = request_scope(request)
    return _due_out(selectors.inspections_due(scope, community_id=community_id, mine=mine))


@router.get(
    "/inspections/checkpoints/{checkpoint_id}/due",
    response=list[InspectionDueOut],
    summary="Inspections due at a patrol checkpoint",
)
def due_at_checkpoint(request: HttpRequest, checkpoint_id: int) -> list[dict[str, Any]]:
    """Assets due under plans inspected at this checkpoint, for the caller."""
    scope = request_scope(request)
    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id).first()
    if checkpoint is None or not (
        selectors.can_inspect(scope, checkpoint.community_id)
        or selectors.can_view(scope, checkpoint.community_id)
    ):
        raise Http404
    return _due_out(selectors.inspections_due_at_checkpoint(scope, checkpoint.pk))


@router.post(
    "/inspections/plans/{plan_id}/start",
    response={201: InspectionDetailOut},
    summary="Start an inspection",
)
def inspection_start(
    request: HttpRequest, plan_id: int, payload: InspectionStartIn
) -> Status[dict[str, Any]]:
    """Open (or resume) the caller's inspection of an asset of the plan."""
    scope = request_scope(request)
    plan = selectors.plan_get(scope, plan_id)
    asset = Asset.objects.filter(pk=payload.asset_id, community_id=plan.community_id).first()
    if asset is None:
        raise Http404
    record = services.inspection_start(
        actor=request_actor(request), scope=scope, asset=asset, plan=plan
    )
    return Status(201, _detail(scope, record.pk))


@router.post(
    "/inspections/records/{inspection_id}/submit",
    response=InspectionDetailOut,
    summary="Submit an inspection",
)
def inspection_submit(
    request: HttpRequest, inspection_id: int, payload: InspectionSubmitIn
) -> dict[str, Any]:
    """Every active item's outcome; a failed item reports a hazard."""
    scope = request_scope(request)
    record = selectors.inspection_get(scope, inspection_id)
    services.inspection_submit(
        actor=request_actor(request),
        scope=scope,
        inspection=record,
        results=[
            services.ResultInput(item_id=r.item_id, outcome=r.outcome, note=r.note)
            for r in payload.results
        ],
        note=payload.note,
    )
    return _detail(scope, record.pk)


# --------------------------------------------------------------------------- records


@router.get("/inspections/records", response=list[InspectionOut], summary="Inspection records")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def inspection_list(
    request: HttpRequest,
    community_id: int | None = None,
    asset_id: int | None = None,
    plan_id: int | None = None,
    failed_only: bool = False,
) -> QuerySet[Inspection]:
    """Submitted inspections, newest first."""
    return selectors.inspection_list(
        request_scope(request),
        community_id=community_id,
        asset_id=asset_id,
        plan_id=plan_id,
        failed_only=failed_only,
    )


@router.get(
    "/inspections/records/{inspection_id}",
    response=InspectionDetailOut,
    summary="An inspection record",
)
def inspection_get(request: HttpRequest, inspection_id: int) -> dict[str, Any]:
    """One inspection with its results and the hazards failures reported."""
    return _detail(request_scope(request), inspection_id)


@router.get(
    "/inspections/statistics", response=InspectionStatisticsOut, summary="Inspection statistics"
)
def inspection_statistics(
    request: HttpRequest, community_id: int, days: int = 90
) -> dict[str, Any]:
    """Completion of each plan this period; failures by item in the last ``days``."""
    scope = request_scope(request)
    community = _community(scope, community_id)
    days = min(max(days, 1), 3660)
    per_plan, per_item = selectors.inspection_statistics(
        scope, community, since=timezone.now() - dt.timedelta(days=days)
    )
    return {
        "plans": [
            {
                "plan_id": row.plan.pk,
                "plan_name": row.plan.name,
                "assets": row.assets,
                "done": row.done,
                "overdue": row.overdue,
                "rate": row.rate,
            }
            for row in per_plan
        ],
        "items": [row.__dict__ for row in per_item],
    }

"""Reads of the inspections domain, scoped by the caller's ``Scope``: checklists, plans, the
due list (computed from each plan's recurrence and each asset's last inspection under it),
inspection records, statistics, dashboard figures and 'my work'."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Count, Max, Model, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.core.inbox import WorkItem
from anwang.facilities.choices import AssetStatus
from anwang.facilities.models import Asset
from anwang.inspections.choices import DueStatus, InspectionStatus, Outcome
from anwang.inspections.due import DueState, due_state
from anwang.inspections.models import (
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionPlan,
    InspectionResult,
)
from anwang.places.models import Community

VIEW = Permission.VIEW_FACILITIES
MANAGE = Permission.MANAGE_FACILITIES
INSPECT = Permission.INSPECT_FACILITIES
M = TypeVar("M", bound=Model)


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller sees a community's checklists, plans and inspection records."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller edits checklists and plans of a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def can_inspect(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller carries out inspections in a community."""
    return acts_platform_wide(scope) or scope.has(INSPECT, community_id)


def _ids(scope: Scope, permission: Permission) -> set[int] | None:
    return None if acts_platform_wide(scope) else scope.community_ids(permission)


def _scoped(queryset: QuerySet[M], scope: Scope, permission: Permission = VIEW) -> QuerySet[M]:
    ids = _ids(scope, permission)
    return queryset if ids is None else queryset.filter(community_id__in=ids)


def local_zone() -> dt.tzinfo:
    """The installation's wall-clock zone, in which plans repeat."""
    return timezone.get_default_timezone()


# --------------------------------------------------------------------------- checklists


def checklists(scope: Scope, *, community_id: int | None = None) -> QuerySet[Checklist]:
    """Checklists of the caller's communities, by asset type and name."""
    queryset = _scoped(Checklist.objects.select_related("community"), scope)
    if community_id is not None:
        queryset = queryset.filter(community_id=community_id)
    return queryset.annotate(item_count=Count("items", filter=Q(items__is_active=True)))


def checklist_get(scope: Scope, checklist_id: int) -> Checklist:
    """One checklist the caller may see, else 404."""
    checklist = Checklist.objects.select_related("community").filter(pk=checklist_id).first()
    if checklist is None or not can_view(scope, checklist.community_id):
        raise Http404
    return checklist


def checklist_items(checklist: Checklist, *, active_only: bool = True) -> list[ChecklistItem]:
    """A checklist's items in order."""
    items = checklist.items.all()
    if active_only:
        items = items.filter(is_active=True)
    return list(items.order_by("order", "pk"))


def checklist_item_get(scope: Scope, item_id: int) -> ChecklistItem:
    """One checklist item the caller may see, else 404."""
    item = ChecklistItem.objects.select_related("checklist").filter(pk=item_id).first()
    if item is None or not can_view(scope, item.checklist.community_id):
        raise Http404
    return item


# --------------------------------------------------------------------------- plans


def plans(
    scope: Scope, *, community_id: int | None = None, active_only: bool = False
) -> QuerySet[InspectionPlan]:
    """Plans of the caller's communities, by name."""
    queryset = _scoped(InspectionPlan.objects.all(), scope)
    if community_id is not None:
        queryset = queryset.filter(community_id=community_id)
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset.select_related(
        "community", "checklist", "building", "zone", "checkpoint"
    ).prefetch_related("assets", "assignees")


def plan_get(scope: Scope, plan_id: int) -> InspectionPlan:
    """One plan the caller may see or carry out, else 404."""
    plan = plans(scope if acts_platform_wide(scope) else _everyone()).filter(pk=plan_id).first()
    if plan is None or not (
        can_view(scope, plan.community_id) or can_inspect(scope, plan.community_id)
    ):
        raise Http404
    return plan


def _everyone() -> Scope:
    # Plans are looked up unscoped, then checked against the caller's permissions.
    return Scope(user=None, is_platform_admin=True)


def _covers(plan: InspectionPlan, asset: Asset, chosen: set[int]) -> bool:
    if asset.community_id != plan.community_id:
        return False
    if chosen:
        return asset.pk in chosen
    if asset.asset_type != plan.checklist.asset_type:
        return False
    if plan.building_id is not None and asset.building_id != plan.building_id:
        return False
    return plan.zone_id is None or asset.zone_id == plan.zone_id


def plan_assets(plan: InspectionPlan) -> list[Asset]:
    """The assets a plan covers now (retired ones left out)."""
    chosen = {asset.pk for asset in plan.assets.all()}
    assets = Asset.objects.filter(community_id=plan.community_id).exclude(
        status=AssetStatus.RETIRED
    )
    if chosen:
        assets = assets.filter(pk__in=chosen)
    else:
        assets = assets.filter(asset_type=plan.checklist.asset_type)
        if plan.building_id is not None:
            assets = assets.filter(building_id=plan.building_id)
        if plan.zone_id is not None:
            assets = assets.filter(zone_id=plan.zone_id)
    return list(assets.select_related("building", "zone").order_by("code", "pk"))


def plan_is_mine(scope: Scope, plan: InspectionPlan) -> bool:
    """Whether the caller is one of the plan's inspectors (anyone who may inspect, when the
    plan names nobody)."""
    if scope.user is None or not can_inspect(scope, plan.community_id):
        return False
    assignees = {user.pk for user in plan.assignees.all()}
    return not assignees or scope.user.pk in assignees


# --------------------------------------------------------------------------- due list


@dataclass(frozen=True)
class DueEntry:
    """One asset of one plan and where it stands."""

    plan: InspectionPlan
    asset: Asset
    state: DueState
    last_done: dt.datetime | None

    @property
    def overdue(self) -> bool:
        """Whether a whole period passed without an inspection."""
        return self.state.status == DueStatus.OVERDUE


def _state(
    plan: InspectionPlan, asset: Asset, last: dt.datetime | None, now: dt.datetime
) -> DueState:
    return due_state(
        rule=plan.rrule,
        first_start=timezone.localtime(plan.first_start, local_zone()),
        now=now,
        last_done=last,
        member_since=max(asset.created_at, plan.created_at),
    )


def plan_states(
    plan_list: list[InspectionPlan], now: dt.datetime, *, due_only: bool = True
) -> list[DueEntry]:
    """Where every asset of the plans stands at ``now`` (a fixed number of queries)."""
    if not plan_list:
        return []
    community_ids = {plan.community_id for plan in plan_list}
    assets = list(
        Asset.objects.filter(community_id__in=community_ids)
        .exclude(status=AssetStatus.RETIRED)
        .select_related("building", "zone")
        .order_by("code", "pk")
    )
    last_done: dict[tuple[int, int], dt.datetime] = {
        (row["plan_id"], row["asset_id"]): row["last"]
        for row in Inspection.objects.filter(plan__in=plan_list, status=InspectionStatus.SUBMITTED)
        .values("plan_id", "asset_id")
        .annotate(last=Max("submitted_at"))
        .order_by()
    }
    entries: list[DueEntry] = []
    for plan in plan_list:
        chosen = {asset.pk for asset in plan.assets.all()}
        for asset in assets:
            if not _covers(plan, asset, chosen):
                continue
            last = last_done.get((plan.pk, asset.pk))
            state = _state(plan, asset, last, now)
            if due_only and not state.needs_inspection:
                continue
            entries.append(DueEntry(plan, asset, state, last))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    entries.sort(key=lambda e: (not e.overdue, e.state.due_by or far, e.plan.name, e.asset.code))
    return entries


def _inspectable_plans(
    scope: Scope, *, community_id: int | None, mine: bool
) -> list[InspectionPlan]:
    permission = INSPECT if mine else VIEW
    queryset = _scoped(InspectionPlan.objects.filter(is_active=True), scope, permission)
    if community_id is not None:
        queryset = queryset.filter(community_id=community_id)
    plan_list = list(
        queryset.select_related("community", "checklist", "checkpoint").prefetch_related(
            "assets", "assignees"
        )
    )
    if mine:
        plan_list = [plan for plan in plan_list if plan_is_mine(scope, plan)]
    return plan_list


def inspections_due(
    scope: Scope,
    *,
    community_id: int | None = None,
    mine: bool = False,
    now: dt.datetime | None = None,
) -> list[DueEntry]:
    """Assets to inspect now, overdue first: the caller's own (``mine``: plans naming them or
    nobody, in communities where they inspect) or every one the caller may see."""
    if scope.user is None:
        return []
    plan_list = _inspectable_plans(scope, community_id=community_id, mine=mine)
    return plan_states(plan_list, now or timezone.now())


def inspections_due_at_checkpoint(
    scope: Scope, checkpoint_id: int, *, at: dt.datetime | None = None
) -> list[DueEntry]:
    """Assets due under plans inspected at a patrol checkpoint (offered to a guard who checks
    in there), for the caller as an inspector."""
    if scope.user is None:
        return []
    plan_list = [
        plan
        for plan in _inspectable_plans(scope, community_id=None, mine=True)
        if plan.checkpoint_id == checkpoint_id
    ]
    return plan_states(plan_list, at or timezone.now())


def checkpoints_with_inspections(scope: Scope, community_id: int) -> list[int]:
    """Patrol checkpoints of a community where the caller has inspections to offer (active
    plans of theirs inspected there), for the patrol run page to link after a check-in."""
    if scope.user is None or not can_inspect(scope, community_id):
        return []
    return sorted(
        {
            plan.checkpoint_id
            for plan in _inspectable_plans(scope, community_id=community_id, mine=True)
            if plan.checkpoint_id is not None
        }
    )


def at_checkpoint_url(checkpoint_id: int) -> str:
    """The page listing what is due at a patrol checkpoint."""
    return reverse("inspections:at_checkpoint", args=[checkpoint_id])


def plans_for_asset(scope: Scope, asset: Asset) -> list[InspectionPlan]:
    """Active plans covering an asset, the caller's own first (for starting from a scan)."""
    plan_list = _inspectable_plans(scope, community_id=asset.community_id, mine=False)
    if not plan_list and can_inspect(scope, asset.community_id):
        plan_list = _inspectable_plans(scope, community_id=asset.community_id, mine=True)
    covering = [
        plan for plan in plan_list if _covers(plan, asset, {a.pk for a in plan.assets.all()})
    ]
    covering.sort(key=lambda plan: (not plan_is_mine(scope, plan), plan.name, plan.pk))
    return covering


# --------------------------------------------------------------------------- records


def inspection_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    asset_id: int | None = None,
    plan_id: int | None = None,
    failed_only: bool = False,
) -> QuerySet[Inspection]:
    """Submitted inspections the caller may see (a community's viewers see all; an inspector
    also their own), newest first."""
    queryset = Inspection.objects.filter(status=InspectionStatus.SUBMITTED)
    ids = _ids(scope, VIEW)
    if ids is not None:
        own = (
            Q(inspector=scope.user, community_id__in=scope.community_ids())
            if scope.user is not None
            else Q(pk__in=[])
        )
        queryset = queryset.filter(Q(community_id__in=ids) | own)
    if community_id is not None:
        queryset = queryset.filter(community_id=community_id)
    if asset_id is not None:
        queryset = queryset.filter(asset_id=asset_id)
    if plan_id is not None:
        queryset = queryset.filter(plan_id=plan_id)
    if failed_only:
        queryset = queryset.filter(passed=False)
    return queryset.select_related("community", "asset", "plan", "checklist", "inspector").order_by(
        "-submitted_at", "-pk"
    )


def inspection_get(scope: Scope, inspection_id: int) -> Inspection:
    """One inspection: for the community's viewers and for its inspector; 404 otherwise."""
    inspection = (
        Inspection.objects.select_related(
            "community", "asset", "asset__building", "plan", "checklist", "inspector"
        )
        .filter(pk=inspection_id)
        .first()
    )
    if inspection is None or scope.user is None:
        raise Http404
    if can_view(scope, inspection.community_id):
        return inspection
    if inspection.inspector_id == scope.user.pk and inspection.community_id in (
        scope.community_ids()
    ):
        return inspection
    raise Http404


def inspection_results(inspection: Inspection) -> list[InspectionResult]:
    """The results of an inspection, in checklist order, with their hazards."""
    return list(inspection.results.select_related("item", "hazard").order_by("item__order", "pk"))


def result_get(scope: Scope, result_id: int) -> InspectionResult:
    """One result (for its photo), under the same rule as its inspection."""
    result = InspectionResult.objects.filter(pk=result_id).first()
    if result is None:
        raise Http404
    inspection_get(scope, result.inspection_id)
    return result


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class PlanFigures:
    """How far a plan's current period is done."""

    plan: InspectionPlan
    assets: int
    done: int
    overdue: int

    @property
    def rate(self) -> int:
        """Share done this period, in percent."""
        return round(100 * self.done / self.assets) if self.assets else 100


@dataclass(frozen=True)
class ItemFailures:
    """How often a checklist item failed."""

    item_text: str
    checklist: str
    failures: int
    checked: int


def inspection_statistics(
    scope: Scope,
    community: Community,
    *,
    since: dt.datetime,
    now: dt.datetime | None = None,
) -> tuple[list[PlanFigures], list[ItemFailures]]:
    """Completion of each active plan this period, and failures by item since ``since``."""
    if not can_view(scope, community.pk):
        raise Http404
    now = now or timezone.now()
    plan_list = _inspectable_plans(scope, community_id=community.pk, mine=False)
    entries = plan_states(plan_list, now, due_only=False)
    figures: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in entries:
        counts = figures[entry.plan.pk]
        counts[0] += 1
        counts[1] += entry.state.status == DueStatus.DONE
        counts[2] += entry.overdue
    per_plan = [PlanFigures(plan, *figures.get(plan.pk, [0, 0, 0])) for plan in plan_list]
    rows = (
        InspectionResult.objects.filter(
            inspection__community=community, inspection__submitted_at__gte=since
        )
        .values("item_id", "item__text", "item__checklist__name")
        .annotate(
            failures=Count("pk", filter=Q(outcome=Outcome.FAIL)),
            checked=Count("pk", filter=~Q(outcome=Outcome.NOT_APPLICABLE)),
        )
        .order_by("-failures", "item__text")
    )
    per_item = [
        ItemFailures(
            row["item__text"], row["item__checklist__name"], row["failures"], row["checked"]
        )
        for row in rows
        if row["failures"]
    ]
    return per_plan, per_item


def inspection_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: inspections overdue and due now."""
    community_id = community.pk if community else None
    if community_id is not None and not can_view(scope, community_id):
        return []
    if community_id is None and not (acts_platform_wide(scope) or scope.has_anywhere(VIEW)):
        return []
    entries = inspections_due(scope, community_id=community_id)
    overdue = sum(entry.overdue for entry in entries)
    url = reverse("inspections:due")
    return [
        Stat(
            "inspections_overdue",
            _("Overdue inspections"),
            overdue,
            f"{url}?all=1",
            "key" if overdue else "",
        ),
        Stat("inspections_due", _("Inspections due"), len(entries) - overdue, f"{url}?all=1"),
    ]


def inspection_work_items(scope: Scope) -> list[WorkItem]:
    """'My work': assets to inspect under the caller's plans, overdue ones more urgent."""
    if scope.user is None or not scope.has_anywhere(INSPECT):
        return []
    items: list[WorkItem] = []
    for entry in inspections_due(scope, mine=True)[:100]:
        items.append(
            WorkItem(
                source="inspections",
                title=_("Inspect %(asset)s") % {"asset": entry.asset},
                url=start_url(entry.plan.pk, entry.asset.pk),
                community_id=entry.plan.community_id,
                due_at=entry.state.due_by,
                priority=2 if entry.overdue else 3,
                detail=entry.plan.name,
            )
        )
    return items


def start_url(plan_id: int, asset_id: int) -> str:
    """The page that opens an inspection of an asset under a plan."""
    return reverse("inspections:start") + f"?asset={asset_id}&plan={plan_id}"

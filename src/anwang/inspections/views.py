"""Pages of the inspections domain: the due list (mine / all), scanning an asset's label on a
phone, carrying out an inspection, its record, history per asset, plans, the checklist
editor, statistics, and the assets to inspect at a patrol checkpoint.

Views read through :mod:`anwang.inspections.selectors` and write through
:mod:`anwang.inspections.services`; they hold no rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlparse

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.models import Membership, User
from anwang.accounts.roles import ROLE_PERMISSIONS
from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user, paginate
from anwang.core.selectors import communities_permitted, current_community, page_community
from anwang.facilities.models import Asset
from anwang.facilities.selectors import asset_by_code, asset_get
from anwang.inspections import selectors, services
from anwang.inspections.choices import InspectionStatus
from anwang.inspections.forms import (
    ChecklistForm,
    ChecklistItemForm,
    CodeForm,
    InspectionForm,
    PlanForm,
)
from anwang.inspections.models import Checklist, InspectionPlan
from anwang.patrols.models import Checkpoint
from anwang.places.models import Building, Community, Zone

PHOTO_KINDS = {"photo": "photo", "thumb": "photo_thumbnail"}


def _view_community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.can_view,
        fallback=communities_permitted(scope, selectors.VIEW),
    )


def _manage_community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage,
        fallback=communities_permitted(scope, selectors.MANAGE),
    )


def _common(scope: Scope, community: Community | None = None) -> dict[str, Any]:
    cid = community.pk if community else None
    return {
        "can_view": scope.has_anywhere(selectors.VIEW) or scope.is_platform_admin,
        "can_manage": selectors.can_manage(scope, cid)
        if cid
        else scope.has_anywhere(selectors.MANAGE) or scope.is_platform_admin,
        "can_inspect": scope.has_anywhere(selectors.INSPECT) or scope.is_platform_admin,
    }


# --------------------------------------------------------------------------- due list


@login_required
@require_GET
def due(request: HttpRequest) -> HttpResponse:
    """Assets to inspect now, overdue first: mine (default) or all of the community."""
    scope = page_scope(request)
    show_all = request.GET.get("all") == "1"
    common = _common(scope)
    if not (common["can_view"] or common["can_inspect"]):
        raise PermissionDenied
    if show_all and not common["can_view"]:
        show_all = False
    community = _view_community(request, scope) if show_all else None
    entries = selectors.inspections_due(
        scope, community_id=community.pk if community else None, mine=not show_all
    )
    return render(
        request,
        "inspections/due.html",
        {**common, "entries": entries, "show_all": show_all, "community": community},
    )


# --------------------------------------------------------------------------- scanning


def _code_from_label(text: str) -> tuple[str | None, str]:
    """The community slug and asset code a scanned label holds (its URL
    ``/facilities/a/<slug>/<code>/``), or just a code typed from it."""
    text = text.strip()
    path = urlparse(text).path if "/" in text else ""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[-3] == "a":
        return parts[-2], parts[-1]
    return None, text


@login_required
@require_GET
def scan(request: HttpRequest) -> HttpResponse:
    """Scan an asset's QR label with the phone's camera, or type its code; then start."""
    scope = page_scope(request)
    if not (scope.has_anywhere(selectors.INSPECT) or scope.is_platform_admin):
        raise PermissionDenied
    label = request.GET.get("label") or request.GET.get("code") or ""
    form = CodeForm(request.GET if label else None)
    if label:
        slug, code = _code_from_label(label)
        asset: Asset | None = None
        try:
            if slug is not None:
                asset = asset_by_code(scope, slug, code)
            else:
                community = current_community(request, scope)
                if community is not None:
                    asset = asset_by_code(scope, community, code)
        except Http404:
            asset = None
        if asset is not None:
            return redirect(reverse("inspections:start") + f"?asset={asset.pk}")
        form = CodeForm({"code": code})
        form.is_valid()
        form.add_error("code", _("No asset with this code in your communities."))
    return render(request, "inspections/scan.html", {"form": form, **_common(scope)})


# --------------------------------------------------------------------------- carrying out


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """An asset and the plans it is inspected under: start (or resume) an inspection."""
    scope = page_scope(request)
    source = request.POST if request.method == "POST" else request.GET
    asset = asset_get(scope, int_param(source.get("asset")) or 0)
    if not selectors.can_inspect(scope, asset.community_id):
        raise PermissionDenied
    plans = selectors.plans_for_asset(scope, asset)
    wanted = int_param(source.get("plan"))
    if request.method == "POST":
        plan: InspectionPlan | None = None
        if wanted is not None:
            plan = next((p for p in plans if p.pk == wanted), None)
            if plan is None:
                raise Http404
        try:
            inspection = services.inspection_start(actor=page_user(request), asset=asset, plan=plan)
        except ServiceError as error:
            messages.error(request, str(error.message))
        else:
            return redirect("inspections:inspection", inspection.pk)
    if wanted is not None:
        plans.sort(key=lambda p: p.pk != wanted)
    return render(
        request,
        "inspections/start.html",
        {
            "asset": asset,
            "plans": plans,
            "history": selectors.inspection_list(scope, asset_id=asset.pk)[:5],
            **_common(scope),
        },
    )


@login_required
def inspection(request: HttpRequest, inspection_id: int) -> HttpResponse:
    """The inspector's checklist to tick while open; the record once submitted."""
    scope = page_scope(request)
    record = selectors.inspection_get(scope, inspection_id)
    user = page_user(request)
    editable = record.status == InspectionStatus.IN_PROGRESS and record.inspector_id == user.pk
    if not editable:
        if record.status == InspectionStatus.IN_PROGRESS and not selectors.can_view(
            scope, record.community_id
        ):
            raise Http404
        return render(
            request,
            "inspections/detail.html",
            {
                "record": record,
                "results": selectors.inspection_results(record),
                **_common(scope),
            },
        )
    items = selectors.checklist_items(record.checklist)
    form = InspectionForm(request.POST or None, request.FILES or None, items=items)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        results = [
            services.ResultInput(
                item_id=item.pk,
                outcome=data[f"outcome_{item.pk}"],
                note=data[f"note_{item.pk}"],
                photo=data[f"photo_{item.pk}"] or None,
            )
            for item in items
        ]
        try:
            services.inspection_submit(
                actor=user, inspection=record, results=results, note=data["note"]
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Inspection submitted."))
            return redirect("inspections:inspection", record.pk)
    return render(
        request,
        "inspections/perform.html",
        {"record": record, "form": form, **_common(scope)},
    )


@login_required
@require_POST
def abandon(request: HttpRequest, inspection_id: int) -> HttpResponse:
    """Drop an inspection opened by mistake."""
    scope = page_scope(request)
    record = selectors.inspection_get(scope, inspection_id)
    try:
        services.inspection_abandon(actor=page_user(request), inspection=record)
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("inspections:inspection", record.pk)
    return redirect("inspections:due")


@login_required
@require_GET
def result_photo(request: HttpRequest, result_id: int, kind: str) -> FileResponse:
    """A result's photo (or thumbnail), for those who may see the inspection."""
    if kind not in PHOTO_KINDS:
        raise Http404
    field = getattr(selectors.result_get(page_scope(request), result_id), PHOTO_KINDS[kind])
    if not field:
        raise Http404
    response = FileResponse(field.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def at_checkpoint(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    """Assets due at a patrol checkpoint, offered to a guard who has just checked in there."""
    scope = page_scope(request)
    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id).first()
    if checkpoint is None or not (
        selectors.can_inspect(scope, checkpoint.community_id)
        or selectors.can_view(scope, checkpoint.community_id)
    ):
        raise Http404
    entries = selectors.inspections_due_at_checkpoint(scope, checkpoint.pk)
    return render(
        request,
        "inspections/at_checkpoint.html",
        {"checkpoint": checkpoint, "entries": entries, **_common(scope)},
    )


# --------------------------------------------------------------------------- records


@login_required
@require_GET
def records(request: HttpRequest) -> HttpResponse:
    """Submitted inspections of the community, newest first."""
    scope = page_scope(request)
    community = _view_community(request, scope)
    queryset = selectors.inspection_list(
        scope,
        community_id=community.pk,
        plan_id=int_param(request.GET.get("plan")),
        failed_only=request.GET.get("failed") == "1",
    )
    page, query = paginate(request, queryset)
    return render(
        request,
        "inspections/records.html",
        {"page": page, "query": query, "community": community, **_common(scope, community)},
    )


@login_required
@require_GET
def asset_history(request: HttpRequest, asset_id: int) -> HttpResponse:
    """Every inspection of one asset."""
    scope = page_scope(request)
    asset = asset_get(scope, asset_id)
    page, query = paginate(request, selectors.inspection_list(scope, asset_id=asset.pk))
    return render(
        request,
        "inspections/asset_history.html",
        {"asset": asset, "page": page, "query": query, **_common(scope)},
    )


@login_required
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Completion of each plan this period, and failures by checklist item."""
    scope = page_scope(request)
    community = _view_community(request, scope)
    days = int_param(request.GET.get("days")) or 90
    days = min(max(days, 1), 3660)
    per_plan, per_item = selectors.inspection_statistics(
        scope, community, since=timezone.now() - dt.timedelta(days=days)
    )
    return render(
        request,
        "inspections/statistics.html",
        {
            "community": community,
            "per_plan": per_plan,
            "per_item": per_item,
            "days": days,
            **_common(scope, community),
        },
    )


# --------------------------------------------------------------------------- plans


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    """The community's inspection plans."""
    scope = page_scope(request)
    community = _view_community(request, scope)
    return render(
        request,
        "inspections/plan_list.html",
        {
            "community": community,
            "plans": selectors.plans(scope, community_id=community.pk),
            **_common(scope, community),
        },
    )


def _inspectors(community: Community) -> QuerySet[User]:
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if selectors.INSPECT in perms]
    ids = Membership.objects.filter(community=community, role__in=roles).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("display_name", "pk")


def _plan_form(community: Community, data: Any = None, initial: Any = None) -> PlanForm:
    return PlanForm(
        data,
        checklists=Checklist.objects.filter(community=community, is_active=True),
        buildings=Building.objects.filter(community=community).order_by("number", "pk"),
        zones=Zone.objects.filter(community=community).order_by("name", "pk"),
        assets=Asset.objects.filter(community=community).order_by("asset_type", "code"),
        inspectors=_inspectors(community),
        checkpoints=Checkpoint.objects.filter(community=community, retired_at__isnull=True),
        initial=initial,
    )


def _plan_input(form: PlanForm) -> services.PlanInput:
    data = form.cleaned_data
    return services.PlanInput(
        name=data["name"],
        checklist=data["checklist"],
        first_start=data["first_start"],
        rrule=form.rule(),
        building=data["building"],
        zone=data["zone"],
        assets=list(data["assets"]),
        assignees=list(data["assignees"]),
        checkpoint=data["checkpoint"],
        is_active=data["is_active"],
        note=data["note"],
    )


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    """A new inspection plan."""
    scope = page_scope(request)
    community = _manage_community(request, scope)
    start_of_day = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    form = _plan_form(
        community, request.POST or None, {"first_start": start_of_day, "is_active": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_create(
                actor=page_user(request), community=community, data=_plan_input(form)
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Plan saved."))
            return redirect("inspections:plan_list")
    return render(
        request,
        "inspections/plan_form.html",
        {"form": form, "community": community, "plan": None, **_common(scope, community)},
    )


@login_required
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Change a plan."""
    scope = page_scope(request)
    plan = selectors.plan_get(scope, plan_id)
    if not selectors.can_manage(scope, plan.community_id):
        raise PermissionDenied
    rule = plan.rrule
    frequency = rule.split(";")[0].removeprefix("FREQ=")
    initial = {
        "name": plan.name,
        "checklist": plan.checklist,
        "frequency": frequency,
        "rrule": "" if rule == f"FREQ={frequency}" else rule,
        "first_start": timezone.localtime(plan.first_start),
        "building": plan.building,
        "zone": plan.zone,
        "assets": list(plan.assets.all()),
        "assignees": list(plan.assignees.all()),
        "checkpoint": plan.checkpoint,
        "is_active": plan.is_active,
        "note": plan.note,
    }
    form = _plan_form(plan.community, request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(actor=page_user(request), plan=plan, data=_plan_input(form))
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Plan saved."))
            return redirect("inspections:plan_list")
    return render(
        request,
        "inspections/plan_form.html",
        {"form": form, "community": plan.community, "plan": plan, **_common(scope)},
    )


@login_required
@require_POST
def plan_delete(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Remove a plan (its inspections are kept)."""
    scope = page_scope(request)
    plan = selectors.plan_get(scope, plan_id)
    services.plan_delete(actor=page_user(request), plan=plan)
    messages.success(request, _("Plan removed."))
    return redirect("inspections:plan_list")


# --------------------------------------------------------------------------- checklists


@login_required
def checklist_list(request: HttpRequest) -> HttpResponse:
    """The community's checklists; managers add one here."""
    scope = page_scope(request)
    community = _view_community(request, scope)
    form = ChecklistForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST":
        if not selectors.can_manage(scope, community.pk):
            raise PermissionDenied
        if request.POST.get("action") == "defaults":
            created = services.checklists_seed_defaults(
                actor=page_user(request), community=community
            )
            messages.success(
                request,
                _("%(count)d default checklists added.") % {"count": len(created)},
            )
            return redirect("inspections:checklist_list")
        if form.is_valid():
            try:
                checklist = services.checklist_create(
                    actor=page_user(request),
                    community=community,
                    asset_type=form.cleaned_data["asset_type"],
                    name=form.cleaned_data["name"],
                )
            except ServiceError as error:
                attach_service_error(form, error)
            else:
                messages.success(request, _("Checklist added; now add its items."))
                return redirect("inspections:checklist", checklist.pk)
    return render(
        request,
        "inspections/checklist_list.html",
        {
            "community": community,
            "checklists": selectors.checklists(scope, community_id=community.pk),
            "form": form,
            **_common(scope, community),
        },
    )


@login_required
def checklist_detail(request: HttpRequest, checklist_id: int) -> HttpResponse:
    """A checklist's items; managers rename it, add, change and remove items."""
    scope = page_scope(request)
    checklist = selectors.checklist_get(scope, checklist_id)
    manage = selectors.can_manage(scope, checklist.community_id)
    action = request.POST.get("action") if request.method == "POST" else None
    if action is not None and not manage:
        raise PermissionDenied
    rename = ChecklistForm(
        request.POST if action == "rename" else None,
        initial={
            "name": checklist.name,
            "asset_type": checklist.asset_type,
            "is_active": checklist.is_active,
        },
    )
    rename.fields["asset_type"].disabled = True
    add = ChecklistItemForm(request.POST if action == "add" else None)
    user = page_user(request)
    try:
        if action == "rename" and rename.is_valid():
            services.checklist_update(
                actor=user,
                checklist=checklist,
                name=rename.cleaned_data["name"],
                is_active=rename.cleaned_data["is_active"],
            )
            messages.success(request, _("Checklist saved."))
            return redirect("inspections:checklist", checklist.pk)
        if action == "add" and add.is_valid():
            services.checklist_item_add(
                actor=user,
                checklist=checklist,
                text=add.cleaned_data["text"],
                hazard_category=add.cleaned_data["hazard_category"],
            )
            messages.success(request, _("Item added."))
            return redirect("inspections:checklist", checklist.pk)
        if action == "item":
            item = selectors.checklist_item_get(scope, int_param(request.POST.get("item")) or 0)
            if item.checklist_id != checklist.pk:
                raise Http404
            edit = ChecklistItemForm(request.POST, prefix=f"i{item.pk}")
            if edit.is_valid():
                services.checklist_item_update(
                    actor=user,
                    item=item,
                    text=edit.cleaned_data["text"],
                    hazard_category=edit.cleaned_data["hazard_category"],
                    order=edit.cleaned_data["order"],
                    is_active=edit.cleaned_data["is_active"],
                )
                messages.success(request, _("Item saved."))
            else:
                messages.error(request, _("The item was not saved: check its text."))
            return redirect("inspections:checklist", checklist.pk)
    except ServiceError as error:
        attach_service_error(add if action == "add" else rename, error)
    items = selectors.checklist_items(checklist, active_only=False)
    item_forms = [
        (
            item,
            ChecklistItemForm(
                initial={
                    "text": item.text,
                    "hazard_category": item.hazard_category,
                    "order": item.order,
                    "is_active": item.is_active,
                },
                prefix=f"i{item.pk}",
            ),
        )
        for item in items
    ]
    return render(
        request,
        "inspections/checklist_detail.html",
        {
            "checklist": checklist,
            "rename": rename,
            "add": add,
            "item_forms": item_forms,
            "manage": manage,
            **_common(scope),
        },
    )

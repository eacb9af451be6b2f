"""Pages of emergency plans: the community's plan list (with the incident types still without a
plan in force), a plan with its versions, steps, contacts, resources and evacuation map, the
draft editor, approval, revision, discarding, a comparison with the version a draft was based
on, and the printable PDF.

Views read through :mod:`anwang.plans.selectors` and write through
:mod:`anwang.plans.services`; they hold no rules.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user
from anwang.core.selectors import page_community
from anwang.places.models import Community
from anwang.plans import selectors, services
from anwang.plans.choices import VersionStatus
from anwang.plans.forms import (
    ContactFormSet,
    DraftForm,
    PlanCreateForm,
    ResourceFormSet,
    ReviseForm,
    StepFormSet,
    contacts_of,
    kept_rows,
    resources_of,
    row_of,
    step_rows,
    steps_of,
)
from anwang.plans.models import EmergencyPlan, PlanVersion
from anwang.plans.pdf import plan_version_filename, plan_version_pdf


def _community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(
        request, scope, allowed=selectors.may_view, fallback=selectors.plan_communities(scope)
    )


def _detail_url(version: PlanVersion) -> str:
    return f"{reverse('plans:detail', args=[version.plan_id])}?version={version.number}"


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The current community's plans, one row per incident type; types without a plan in
    force are shown in red."""
    scope = page_scope(request)
    community = _community(request, scope)
    rows = selectors.plan_rows(community.pk)
    return render(
        request,
        "plans/list.html",
        {
            "community": community,
            "rows": rows,
            "gap_count": sum(1 for row in rows if row.is_gap),
            "may_manage": selectors.may_manage(scope, community.pk),
        },
    )


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    """Start a plan for an incident type the community has none for."""
    scope = page_scope(request)
    community = page_community(request, scope, allowed=selectors.may_manage, fallback=None)
    taken = set(
        EmergencyPlan.objects.filter(community=community).values_list("incident_type", flat=True)
    )
    initial = {"incident_type": request.GET.get("type", "")}
    form = PlanCreateForm(request.POST or None, taken=taken, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                actor=page_user(request), scope=scope, community=community, **form.cleaned_data
            )
            messages.success(request, _("The plan was started; write its first draft."))
            draft = selectors.draft_version(plan)
            assert draft is not None
            return redirect("plans:version_edit", draft.pk)
        except ServiceError as error:
            attach_service_error(form, error)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request, "plans/create.html", {"form": form, "community": community}, status=status
    )


def _shown_version(plan: EmergencyPlan, versions: list[PlanVersion], number: int | None) -> Any:
    """The version asked for by number, else the one in force, else the draft, else the newest."""
    if number is not None:
        for version in versions:
            if version.number == number:
                return version
        raise Http404
    for status in (VersionStatus.APPROVED, VersionStatus.DRAFT):
        for version in versions:
            if version.status == status:
                return version
    return versions[0] if versions else None


@login_required
def plan_detail(request: HttpRequest, emergency_plan_id: int) -> HttpResponse:
    """A plan: the version in force (or the one chosen with ``?version=N``) with its steps,
    contacts, resources and evacuation map, the version history, the last drill, and the
    actions the person may take."""
    scope = page_scope(request)
    plan = selectors.plan_get(scope, emergency_plan_id)
    versions = list(selectors.plan_versions(plan))
    shown = _shown_version(plan, versions, int_param(request.GET.get("version")))
    version = selectors.version_get(scope, shown.pk) if shown is not None else None
    community_id = plan.community_id
    drill = selectors.plan_last_drill(plan)
    return render(
        request,
        "plans/detail.html",
        {
            "plan": plan,
            "community": plan.community,
            "versions": versions,
            "version": version,
            "draft": next((v for v in versions if v.status == VersionStatus.DRAFT), None),
            "drill": drill,
            "today": timezone.localdate(),
            "may_manage": selectors.may_manage(scope, community_id),
            "may_approve": selectors.may_approve(scope, community_id),
            "revise_form": ReviseForm(),
            "zones_url": reverse("plans:version_zones", args=[version.pk]) if version else "",
            "assembly_url": reverse("plans:version_assembly", args=[version.pk]) if version else "",
        },
    )


def _draft(scope: Scope, plan_version_id: int) -> PlanVersion:
    version = selectors.version_get(scope, plan_version_id)
    if not selectors.may_manage(scope, version.plan.community_id):
        raise PermissionDenied
    return version


@login_required
def version_edit(request: HttpRequest, plan_version_id: int) -> HttpResponse:
    """The draft editor: purpose, change note, steps (add, edit, remove, reorder), contacts,
    resources, zones to evacuate and assembly point, saved together."""
    scope = page_scope(request)
    version = _draft(scope, plan_version_id)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited; revise the plan instead."))
        return redirect(_detail_url(version))
    community = version.plan.community
    data = request.POST or None
    form = DraftForm(data, community=community, initial=DraftForm.initial_of(version))
    steps = StepFormSet(
        data,
        prefix="steps",
        initial=[
            {
                "title": step.title,
                "duty_role": step.duty_role,
                "target_minutes": step.target_minutes,
                "instructions": step.instructions,
                "ORDER": step.position,
            }
            for step in version.steps.all()
        ],
    )
    contacts = ContactFormSet(
        data,
        prefix="contacts",
        initial=[
            {
                "name": contact.name,
                "organisation": contact.organisation,
                "phone": contact.phone,
                "note": contact.note,
            }
            for contact in version.contacts.all()
        ],
    )
    resources = ResourceFormSet(
        data,
        prefix="resources",
        form_kwargs={"community": community},
        initial=[
            {
                "description": resource.description,
                "quantity": resource.quantity,
                "asset": resource.asset_id,
            }
            for resource in version.resources.all()
        ],
    )
    if request.method == "POST":
        valid = all([form.is_valid(), steps.is_valid(), contacts.is_valid(), resources.is_valid()])
        if valid:
            try:
                services.plan_version_update(
                    actor=page_user(request),
                    scope=scope,
                    version=version,
                    steps=steps_of(steps),
                    contacts=contacts_of(contacts),
                    resources=resources_of(resources),
                    **form.values(),
                )
                messages.success(request, _("The draft was saved."))
                if "continue" in request.POST:
                    return redirect("plans:version_edit", version.pk)
                return redirect(_detail_url(version))
            except ServiceError as error:
                rows = {
                    "steps": step_rows(steps),
                    "contacts": kept_rows(contacts),
                    "resources": kept_rows(resources),
                }
                found = row_of(rows, error.field or "")
                if found is None:
                    attach_service_error(form, error)
                else:  # shown beside the step, contact or resource it is about
                    row, name = found
                    row.add_error(name or None, str(error.message))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "plans/edit.html",
        {
            "plan": version.plan,
            "community": community,
            "version": version,
            "form": form,
            "steps": steps,
            "contacts": contacts,
            "resources": resources,
            "context_geojson_url": f"{reverse('places:map_geojson')}?"
            + urlencode({"community": community.pk}),
        },
        status=status,
    )


@login_required
@require_POST
def version_approve(request: HttpRequest, plan_version_id: int) -> HttpResponse:
    """Put a draft in force (community admin)."""
    scope = page_scope(request)
    version = selectors.version_get(scope, plan_version_id)
    try:
        services.plan_version_approve(actor=page_user(request), scope=scope, version=version)
        messages.success(
            request, _("Version %(number)d is now in force.") % {"number": version.number}
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
    return redirect(_detail_url(version))


@login_required
@require_POST
def version_discard(request: HttpRequest, plan_version_id: int) -> HttpResponse:
    """Give up a draft; it stays readable as discarded."""
    scope = page_scope(request)
    version = selectors.version_get(scope, plan_version_id)
    try:
        services.plan_version_discard(actor=page_user(request), scope=scope, version=version)
        messages.success(request, _("The draft was discarded."))
    except ServiceError as error:
        messages.error(request, str(error.message))
    return redirect(reverse("plans:detail", args=[version.plan_id]))


@login_required
@require_POST
def version_revise(request: HttpRequest, plan_version_id: int) -> HttpResponse:
    """Start a new draft copied from this version (or open the draft already being written)."""
    scope = page_scope(request)
    version = selectors.version_get(scope, plan_version_id)
    form = ReviseForm(request.POST)
    note = form.cleaned_data["change_note"] if form.is_valid() else ""
    try:
        draft = services.plan_revision_draft(
            actor=page_user(request), scope=scope, version=version, change_note=note
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect(_detail_url(version))
    return redirect("plans:version_edit", draft.pk)


@login_required
def version_compare(request: HttpRequest, plan_version_id: int) -> HttpResponse:
    """A version beside the one it was based on, changed lines marked."""
    scope = page_scope(request)
    version = selectors.version_get(scope, plan_version_id)
    comparison = selectors.version_comparison(version)
    return render(
        request,
        "plans/compare.html",
        {
            "plan": version.plan,
            "community": version.plan.community,
            "version": version,
            "comparison": comparison,
        },
    )


@login_required
def version_pdf(request: HttpRequest, plan_version_id: int) -> HttpResponse:
    """The version as a printable A4 PDF."""
    version = selectors.version_get(page_scope(request), plan_version_id)
    response = HttpResponse(plan_version_pdf(version), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{plan_version_filename(version)}"'
    return response


@login_required
def version_zones(request: HttpRequest, plan_version_id: int) -> JsonResponse:
    """The version's zones to evacuate as GeoJSON, for its map."""
    version = selectors.version_get(page_scope(request), plan_version_id)
    return JsonResponse(
        selectors.version_zone_features(version), content_type="application/geo+json"
    )


@login_required
def version_assembly(request: HttpRequest, plan_version_id: int) -> JsonResponse:
    """The version's assembly point as GeoJSON, for its map."""
    version = selectors.version_get(page_scope(request), plan_version_id)
    return JsonResponse(
        selectors.version_assembly_features(version), content_type="application/geo+json"
    )

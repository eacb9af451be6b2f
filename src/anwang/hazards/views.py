"""Pages of the hazards domain: the phone report form (with nearby duplicates suggested by
htmx before submitting), "my reports" with their status, the staff list with filters and a CSV
export, a report's detail with its timeline and workflow actions, and statistics.

Views read through :mod:`anwang.hazards.selectors` and write through
:mod:`anwang.hazards.services`; they hold no rules. Photos are served through a checked view,
never as public media files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import (
    attach_service_error,
    int_param,
    page_scope,
    page_user,
    paginate,
)
from anwang.core.selectors import communities_permitted, current_community, page_community
from anwang.core.tables import write_csv
from anwang.hazards import selectors, services
from anwang.hazards.choices import (
    DEADLINE_STATUSES,
    OPEN_STATUSES,
    HazardCategory,
    HazardStatus,
)
from anwang.hazards.forms import (
    AssignForm,
    CloseForm,
    CommentForm,
    ListFilterForm,
    RectifyForm,
    RejectForm,
    ReportForm,
    TriageForm,
    VerifyForm,
)
from anwang.hazards.models import Hazard
from anwang.places.models import Building, Community, Unit

ACTIONS = ("triage", "assign", "rectify", "verify", "close", "reject", "comment")
PHOTO_KINDS = {
    "photo": "photo",
    "thumb": "photo_thumbnail",
    "after": "after_photo",
    "after-thumb": "after_photo_thumbnail",
}
PROGRESS = [
    HazardStatus.REPORTED,
    HazardStatus.TRIAGED,
    HazardStatus.ASSIGNED,
    HazardStatus.RECTIFIED,
    HazardStatus.VERIFIED,
    HazardStatus.CLOSED,
]


def _list_community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.can_view,
        fallback=communities_permitted(scope, selectors.VIEW),
    )


def _progress(hazard: Hazard) -> list[tuple[str, str, bool]]:
    """The stages of the workflow as (status, label, reached) for the status bar."""
    if hazard.status == HazardStatus.REJECTED:
        return [
            (HazardStatus.REPORTED.value, str(HazardStatus.REPORTED.label), True),
            (HazardStatus.REJECTED.value, str(HazardStatus.REJECTED.label), True),
        ]
    reached = PROGRESS.index(HazardStatus(hazard.status))
    return [(s.value, str(s.label), i <= reached) for i, s in enumerate(PROGRESS)]


def _is_overdue(hazard: Hazard) -> bool:
    return (
        hazard.status in DEADLINE_STATUSES
        and hazard.deadline is not None
        and hazard.deadline < timezone.now()
    )


# --------------------------------------------------------------------------- report


def _report_form(
    request: HttpRequest, scope: Scope, data: Any = None, files: Any = None
) -> tuple[ReportForm, Community]:
    communities = selectors.reporting_communities(scope)
    if not communities:
        raise PermissionDenied
    chosen = current_community(request, scope)
    # Posted with the form, or chosen in its list (the page reloads for the buildings).
    wanted = int_param((data if data is not None else request.GET).get("community"))
    by_id = {c.pk: c for c in communities}
    community = by_id.get(wanted or 0) or (
        chosen if chosen is not None and chosen.pk in by_id else communities[0]
    )
    form = ReportForm(
        data,
        files,
        communities=communities,
        buildings=selectors.report_buildings(scope, community.pk),
        units=selectors.report_units(scope, community.pk),
        initial={"community": community.pk},
    )
    return form, community


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """Report a hazard from a phone: category, photo, pin or building, description. A
    ``?checkpoint=<id>`` (from a patrol) fills in the checkpoint's place."""
    scope = page_scope(request)
    if request.method == "POST":
        form, community = _report_form(request, scope, request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            building = Building.objects.filter(pk=data["building"] or 0).first()
            unit = Unit.objects.filter(pk=data["unit"] or 0).select_related("building").first()
            try:
                hazard = services.hazard_report(
                    community=community,
                    reporter=page_user(request),
                    category=data["category"],
                    description=data["description"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    building=building,
                    unit=unit,
                    address=data["address"],
                    photo=data["photo"],
                    anonymous=data["anonymous"],
                )
            except ServiceError as error:
                attach_service_error(form, error, {"location": "address"})
            else:
                messages.success(
                    request, _("Thank you: report #%(id)d was received.") % {"id": hazard.pk}
                )
                return redirect("hazards:detail", hazard.pk)
        status = 400
    else:
        form, community = _report_form(request, scope)
        checkpoint_id = int_param(request.GET.get("checkpoint"))
        if checkpoint_id is not None:
            place = selectors.checkpoint_location(scope, checkpoint_id)
            if place is not None and place["community_id"] == community.pk:
                form.initial.update(
                    {
                        "building": place["building_id"],
                        "latitude": place["latitude"],
                        "longitude": place["longitude"],
                        "address": place["address"],
                    }
                )
        category = request.GET.get("category", "")
        if category in HazardCategory.values:
            form.initial["category"] = category
        status = 200
    return render(
        request,
        "hazards/report.html",
        {"form": form, "community": community},
        status=status,
    )


@login_required
@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """Open reports of the same category near the pin (htmx fragment of the report form)."""
    scope = page_scope(request)
    community_id = int_param(request.GET.get("community"))
    category = request.GET.get("category", "")
    try:
        latitude = float(request.GET.get("latitude", ""))
        longitude = float(request.GET.get("longitude", ""))
    except ValueError:
        latitude = longitude = None  # type: ignore[assignment]
    found: list[Hazard] = []
    if (
        community_id is not None
        and category in HazardCategory.values
        and latitude is not None
        and longitude is not None
    ):
        found = selectors.hazards_nearby(
            scope=scope,
            community_id=community_id,
            category=category,
            latitude=latitude,
            longitude=longitude,
        )[:5]
    return render(request, "hazards/_nearby.html", {"nearby": found})


@login_required
@require_POST
def follow(request: HttpRequest, hazard_id: int) -> HttpResponse:
    """Follow a report (instead of reporting it again)."""
    scope = page_scope(request)
    hazard = selectors.hazard_to_follow(scope, hazard_id)
    try:
        services.hazard_follow(actor=page_user(request), hazard=hazard)
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("hazards:mine")
    messages.success(request, _("You follow report #%(id)d now.") % {"id": hazard.pk})
    return redirect("hazards:detail", hazard.pk)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The person's own reports and those they follow, with where each stands; and the
    reports they must rectify."""
    scope = page_scope(request)
    page, query = paginate(request, selectors.hazards_mine(scope), per_page=20)
    rows = [(hazard, _progress(hazard)) for hazard in page.object_list]
    return render(
        request,
        "hazards/mine.html",
        {
            "page": page,
            "query": query,
            "rows": rows,
            "assigned": list(selectors.hazards_assigned(scope)[:50]),
            "can_view": scope.has_anywhere(selectors.VIEW) or scope.is_platform_admin,
            "can_report": bool(selectors.reporting_communities(scope)),
        },
    )


# --------------------------------------------------------------------------- staff list


def _filtered(request: HttpRequest, scope: Scope, community: Community) -> tuple[Any, Any]:
    form = ListFilterForm(
        request.GET or None, buildings=selectors.report_buildings(scope, community.pk)
    )
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    hazards = selectors.hazard_list(
        scope,
        community_id=community.pk,
        status=values.get("status") or None,
        category=values.get("category") or None,
        severity=values.get("severity") or None,
        building_id=values.get("building"),
        overdue=bool(values.get("overdue")),
        assigned_to_me=bool(values.get("mine")),
        open_only=bool(values.get("open")),
        q=values.get("q") or None,
    )
    return form, hazards


@login_required
def hazard_list(request: HttpRequest) -> HttpResponse:
    """Reports of the current community for hazard staff, filtered."""
    scope = page_scope(request)
    community = _list_community(request, scope)
    form, hazards = _filtered(request, scope, community)
    page, query = paginate(request, hazards)
    rows = [(hazard, _is_overdue(hazard)) for hazard in page.object_list]
    return render(
        request,
        "hazards/list.html",
        {
            "community": community,
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The filtered list as a CSV file (UTF-8 with a byte-order mark, for Excel)."""
    scope = page_scope(request)
    community = _list_community(request, scope)
    _form, hazards = _filtered(request, scope, community)
    header = [
        _("Number"),
        _("Reported at"),
        _("Category"),
        _("Status"),
        _("Severity"),
        _("Building"),
        _("Entrance"),
        _("Zone"),
        _("Address"),
        _("Description"),
        _("Reporter"),
        _("Responsible person"),
        _("Deadline"),
        _("Past deadline"),
        _("Closed at"),
    ]

    def when(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    rows = (
        [
            str(hazard.pk),
            when(hazard.reported_at),
            hazard.get_category_display(),
            hazard.get_status_display(),
            hazard.get_severity_display() if hazard.severity else "",
            hazard.building.name if hazard.building else "",
            hazard.unit.number if hazard.unit else "",
            hazard.zone.name if hazard.zone else "",
            hazard.address,
            hazard.description,
            "" if hazard.anonymous or hazard.reporter is None else str(hazard.reporter),
            str(hazard.assignee or ""),
            when(hazard.deadline),
            _("yes") if _is_overdue(hazard) else "",
            when(hazard.closed_at),
        ]
        for hazard in hazards.select_related("reporter")[:20_000]
    )
    response = HttpResponse(write_csv(header, rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="hazards-{stamp}.csv"'
    return response


@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Time to close, overdue counts, and reports by category, building and zone."""
    scope = page_scope(request)
    community = _list_community(request, scope)
    days = max(1, min(int_param(request.GET.get("days")) or 90, 3650))
    stats = selectors.hazard_statistics(scope, community_id=community.pk, days=days)
    return render(
        request,
        "hazards/statistics.html",
        {"community": community, "stats": stats, "days": days},
    )


# --------------------------------------------------------------------------- detail and actions


def _action_forms(
    scope: Scope, user: User, hazard: Hazard, bound: dict[str, forms.Form] | None = None
) -> dict[str, forms.Form]:
    """The workflow forms the person may use on the report in its status."""
    manage = selectors.can_manage(scope, hazard.community_id)
    status = hazard.status
    available: dict[str, Callable[[], forms.Form]] = {}
    if manage and status in (HazardStatus.REPORTED, HazardStatus.TRIAGED):
        available["triage"] = lambda: TriageForm(initial={"severity": hazard.severity or None})
    if manage and status in (HazardStatus.TRIAGED, HazardStatus.ASSIGNED):
        people = selectors.assignable_members(scope, hazard.community_id)
        # Pre-filled with whoever the responsibility matrix names for the place.
        available["assign"] = lambda: AssignForm(
            people=people,
            initial={
                "assignee": hazard.assignee_id
                or getattr(services.hazard_default_assignee(hazard), "pk", None)
            },
        )
    if status == HazardStatus.ASSIGNED and (manage or hazard.assignee_id == user.pk):
        available["rectify"] = RectifyForm
    if manage and status == HazardStatus.RECTIFIED and hazard.rectified_by_id != user.pk:
        available["verify"] = VerifyForm
    if manage and status == HazardStatus.VERIFIED:
        available["close"] = CloseForm
    if manage and status in (
        HazardStatus.REPORTED,
        HazardStatus.TRIAGED,
        HazardStatus.ASSIGNED,
    ):
        available["reject"] = RejectForm
    available["comment"] = CommentForm
    bound = bound or {}
    return {name: bound.get(name) or make() for name, make in available.items()}


def _detail(
    request: HttpRequest,
    scope: Scope,
    hazard: Hazard,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = page_user(request)
    steps = selectors.hazard_steps(hazard)
    anonymous_steps = hazard.anonymous and not selectors.can_view(scope, hazard.community_id)
    return render(
        request,
        "hazards/detail.html",
        {
            "hazard": hazard,
            "steps": steps,
            "progress": _progress(hazard),
            "overdue": _is_overdue(hazard),
            "reporter": selectors.reporter_shown(scope, hazard),
            "is_reporter": hazard.reporter_id == user.pk,
            "following": selectors.is_following(scope, hazard),
            "can_follow": hazard.status in OPEN_STATUSES and hazard.reporter_id != user.pk,
            "can_view_all": selectors.can_view(scope, hazard.community_id),
            "forms": _action_forms(scope, user, hazard, bound),
            "hide_actors": anonymous_steps,
        },
        status=status,
    )


@login_required
def detail(request: HttpRequest, hazard_id: int) -> HttpResponse:
    """A report with its photos, timeline and the actions the person may take."""
    scope = page_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    return _detail(request, scope, hazard)


FORM_CLASSES: dict[str, type[forms.Form]] = {
    "triage": TriageForm,
    "rectify": RectifyForm,
    "verify": VerifyForm,
    "close": CloseForm,
    "reject": RejectForm,
    "comment": CommentForm,
}
DONE = {
    "triage": _("Triaged."),
    "assign": _("Assigned."),
    "rectify": _("Marked rectified; someone else will verify it."),
    "verify": _("Verification recorded."),
    "close": _("Closed."),
    "reject": _("Rejected."),
    "comment": _("Added to the timeline."),
}


def _run(action: str, user: User, hazard: Hazard, data: dict[str, Any]) -> None:
    if action == "triage":
        services.hazard_triage(
            actor=user, hazard=hazard, severity=data["severity"], note=data["note"]
        )
    elif action == "assign":
        assignee = User.objects.filter(pk=data["assignee"]).first()
        if assignee is None:
            raise services.HazardInputError(_("Choose a person."), field="assignee")
        services.hazard_assign(
            actor=user,
            hazard=hazard,
            assignee=assignee,
            deadline=data["deadline"],
            note=data["note"],
        )
    elif action == "rectify":
        services.hazard_rectify(
            actor=user, hazard=hazard, after_photo=data["after_photo"], note=data["note"]
        )
    elif action == "verify":
        services.hazard_verify(
            actor=user, hazard=hazard, passed=data["result"] == "pass", note=data["note"]
        )
    elif action == "close":
        services.hazard_close(actor=user, hazard=hazard, note=data["note"])
    elif action == "reject":
        services.hazard_reject(actor=user, hazard=hazard, reason=data["reason"])
    else:
        services.hazard_comment(actor=user, hazard=hazard, note=data["note"], photo=data["photo"])


@login_required
@require_POST
def action(request: HttpRequest, hazard_id: int, action: str) -> HttpResponse:
    """Carry out one workflow action; a refused one shows the form again with the reason."""
    if action not in ACTIONS:
        raise Http404
    scope = page_scope(request)
    user = page_user(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    form: forms.Form
    if action == "assign":
        form = AssignForm(
            request.POST,
            people=selectors.assignable_members(scope, hazard.community_id),
        )
    else:
        form = FORM_CLASSES[action](request.POST, request.FILES)
    if form.is_valid():
        try:
            _run(action, user, hazard, form.cleaned_data)
        except ServiceError as error:
            attach_service_error(form, error)
            messages.error(request, str(error.message))
        else:
            messages.success(request, DONE[action])
            return redirect("hazards:detail", hazard.pk)
    hazard = selectors.hazard_get(scope, hazard_id)
    return _detail(request, scope, hazard, bound={action: form}, status=400)


# --------------------------------------------------------------------------- photos


def _file(field: Any) -> FileResponse:
    if not field:
        raise Http404
    response = FileResponse(field.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def photo(request: HttpRequest, hazard_id: int, kind: str) -> FileResponse:
    """A report's photo (or after-photo, or a thumbnail), for those who may see the report."""
    if kind not in PHOTO_KINDS:
        raise Http404
    hazard = selectors.hazard_get(page_scope(request), hazard_id)
    return _file(getattr(hazard, PHOTO_KINDS[kind]))


@login_required
@require_GET
def step_photo(request: HttpRequest, step_id: int) -> FileResponse:
    """The photo added to a step of a report's timeline."""
    return _file(selectors.step_get(page_scope(request), step_id).photo)

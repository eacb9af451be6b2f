"""Pages of the responsibility matrix: the matrix of the current community grouped by zones,
buildings and asset categories (gaps in red), the gaps alone, and the form to add, change or
delete a responsibility.

Views read through :mod:`anwang.responsibilities.selectors` and write through
:mod:`anwang.responsibilities.services`; they hold no rules.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, page_scope, page_user
from anwang.core.selectors import page_community
from anwang.places.models import Community
from anwang.responsibilities import selectors, services
from anwang.responsibilities.forms import ResponsibilityForm, area_value, side_value
from anwang.responsibilities.models import Responsibility

_FORM_FIELDS = {
    "area_kind": "area",
    "zone": "area",
    "building": "area",
    "asset_type": "area",
    "responsible_person": "responsible",
    "responsible_role": "responsible",
    "deputy_person": "deputy",
    "deputy_role": "deputy",
}


def _community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.may_view,
        fallback=selectors.responsibility_communities(scope),
    )


def _manage_community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(request, scope, allowed=selectors.may_manage, fallback=None)


def _managed(scope: Scope, pk: int) -> Responsibility:
    item = selectors.responsibility_get(scope, pk)
    if not selectors.may_manage(scope, item.community_id):
        raise PermissionDenied
    return item


@login_required
def matrix(request: HttpRequest) -> HttpResponse:
    """The current community's matrix: every zone, building and asset category in use, who
    answers for it (a person, or a duty role and who holds it now) and who stands in."""
    scope = page_scope(request)
    community = _community(request, scope)
    result = selectors.responsibility_matrix(community)
    groups = [
        ("zones", _("Zones"), result.zones),
        ("buildings", _("Buildings"), result.buildings),
        ("asset-types", _("Asset categories"), result.asset_types),
    ]
    return render(
        request,
        "responsibilities/matrix.html",
        {
            "community": community,
            "matrix": result,
            "groups": groups,
            "gap_count": len(result.gaps),
            "may_manage": selectors.may_manage(scope, community.pk),
        },
    )


@login_required
def gaps(request: HttpRequest) -> HttpResponse:
    """The current community's areas nobody answers for right now, and why."""
    scope = page_scope(request)
    community = _community(request, scope)
    return render(
        request,
        "responsibilities/gaps.html",
        {
            "community": community,
            "gaps": selectors.responsibility_gaps(community),
            "may_manage": selectors.may_manage(scope, community.pk),
        },
    )


def _form_page(
    request: HttpRequest, scope: Scope, community: Community, item: Responsibility | None
) -> HttpResponse:
    initial = (
        {
            "area": area_value(item),
            "responsible": side_value(item.responsible_person_id, item.responsible_role),
            "deputy": side_value(item.deputy_person_id, item.deputy_role),
            "note": item.note,
        }
        if item is not None
        else {"area": request.GET.get("area", "")}
    )
    form = ResponsibilityForm(request.POST or None, community=community, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if item is None:
                services.responsibility_create(
                    actor=page_user(request), scope=scope, community=community, **form.values()
                )
                messages.success(request, _("The responsibility was added."))
            else:
                services.responsibility_update(
                    actor=page_user(request), scope=scope, responsibility=item, **form.values()
                )
                messages.success(request, _("The changes were saved."))
            return redirect("responsibilities:matrix")
        except ServiceError as error:
            attach_service_error(form, error, _FORM_FIELDS)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "responsibilities/form.html",
        {
            "form": form,
            "title": _("Add a responsibility") if item is None else _("Edit a responsibility"),
            "community": community,
            "responsibility": item,
        },
        status=status,
    )


@login_required
def responsibility_create(request: HttpRequest) -> HttpResponse:
    """Say who answers for an area of the current community."""
    scope = page_scope(request)
    return _form_page(request, scope, _manage_community(request, scope), None)


@login_required
def responsibility_edit(request: HttpRequest, responsibility_id: int) -> HttpResponse:
    """Change a responsibility."""
    scope = page_scope(request)
    item = _managed(scope, responsibility_id)
    return _form_page(request, scope, item.community, item)


@login_required
@require_POST
def responsibility_delete(request: HttpRequest, responsibility_id: int) -> HttpResponse:
    """Remove a responsibility; its area becomes a gap."""
    scope = page_scope(request)
    item = _managed(scope, responsibility_id)
    services.responsibility_delete(actor=page_user(request), scope=scope, responsibility=item)
    messages.success(request, _("The responsibility was deleted."))
    return redirect("responsibilities:matrix")

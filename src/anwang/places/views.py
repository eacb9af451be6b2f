"""Pages of the places domain: communities, grids, buildings, entrances, households, zones and
the community map.

Views read through :mod:`anwang.places.selectors` and write through
:mod:`anwang.places.services`; they hold no rules. Lists show the community chosen with the
switcher in the top bar; objects of a community the person cannot see are 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, page_scope, page_user, paginate, submit_form
from anwang.core.selectors import page_community
from anwang.people.selectors import household_members
from anwang.places import selectors, services
from anwang.places.choices import BuildingUse, ZoneKind
from anwang.places.forms import (
    BuildingForm,
    CommunityForm,
    GridForm,
    HouseholdForm,
    RegionForm,
    UnitForm,
    ZoneForm,
)
from anwang.places.models import Community

# --------------------------------------------------------------------------- helpers


def _page_community(request: HttpRequest, scope: Scope, *, manage: bool = False) -> Community:
    """The community a list or create page works in: the one chosen in the top bar if the
    person may view (or, for ``manage``, edit) its places there, else their first such one."""
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage if manage else selectors.can_view,
        fallback=None if manage else selectors.community_list(scope),
    )


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _render_form(
    request: HttpRequest,
    form: Form,
    *,
    title: str,
    cancel_url: str,
    community: Community | None = None,
    breadcrumbs: list[tuple[str, str]] | None = None,
    add_another: bool = False,
) -> HttpResponse:
    return render(
        request,
        "places/form.html",
        {
            "form": form,
            "title": title,
            "cancel_url": cancel_url,
            "community": community,
            "breadcrumbs": breadcrumbs or [],
            "geometry_fields": getattr(form, "geometry_fields", ()),
            "geometry_modes": getattr(form, "geometry_modes", ()),
            "context_geojson_url": _geojson_url(community) if community else "",
            "add_another": add_another,
        },
    )


def _geojson_url(community: Community) -> str:
    return f"{reverse('places:map_geojson')}?{urlencode({'community': community.pk})}"


def _confirm_delete(
    request: HttpRequest,
    *,
    obj: Any,
    delete: Callable[[], None],
    cancel_url: str,
    done_url: str,
    warning: str = "",
) -> HttpResponse:
    """Ask before deleting; on POST delete through the service or show why it cannot be."""
    error = ""
    if request.method == "POST":
        try:
            delete()
        except ServiceError as refused:
            error = str(refused.message)
        else:
            messages.success(request, _("“%(object)s” was deleted.") % {"object": obj})
            return redirect(done_url)
    return render(
        request,
        "places/confirm_delete.html",
        {
            "object": obj,
            "cancel_url": cancel_url,
            "warning": warning,
            "error": error,
        },
        status=409 if error else 200,
    )


def _require_manage(scope: Scope, community_id: int) -> None:
    """Editing pages are 403 for those who may see the object but not edit it."""
    if not selectors.can_manage(scope, community_id):
        raise PermissionDenied


def _geometry_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value else ""


# --------------------------------------------------------------------------- map


@login_required
def community_map(request: HttpRequest) -> HttpResponse:
    """The community map (``?community=<id>``, else the current one): buildings and zones,
    key areas in red, and the devices for those who may see them."""
    scope = page_scope(request)
    requested = int_param(request.GET.get("community"))
    if requested is not None:
        community = selectors.community_get(scope, requested)
    else:
        community = _page_community(request, scope)
    key_areas = selectors.zone_list(scope, community_id=community.pk, is_key_area=True)
    # The device layer is offered only to those who may see the devices of this community;
    # the GeoJSON endpoint checks the same permission again.
    devices_url = ""
    if scope.has(Permission.VIEW_DEVICES, community.pk):
        devices_url = f"{reverse('devices:map_geojson')}?{urlencode({'community': community.pk})}"
    return render(
        request,
        "places/map.html",
        {
            "community": community,
            "geojson_url": _geojson_url(community),
            "devices_geojson_url": devices_url,
            "key_areas": key_areas,
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


@login_required
@require_GET
def map_geojson(request: HttpRequest) -> JsonResponse:
    """The community's shapes as GeoJSON (``?community=<id>``, else the current one)."""
    scope = page_scope(request)
    community_id = int_param(request.GET.get("community"))
    if community_id is None:
        community_id = _page_community(request, scope).pk
    collection = selectors.map_features(scope, community_id)
    return JsonResponse(collection, content_type="application/geo+json")


# --------------------------------------------------------------------------- regions


@login_required
def region_list(request: HttpRequest) -> HttpResponse:
    """Street offices the person may see."""
    scope = page_scope(request)
    if not (selectors.can_administer_platform(scope) or scope.has_anywhere(Permission.VIEW_PLACES)):
        raise PermissionDenied
    return render(
        request,
        "places/region_list.html",
        {
            "regions": selectors.region_list(scope, q=request.GET.get("q")),
            "can_administer": selectors.can_administer_platform(scope),
            "q": request.GET.get("q", ""),
        },
    )


@login_required
def region_create(request: HttpRequest) -> HttpResponse:
    """Add a street office (platform administrators)."""
    scope = page_scope(request)
    if not selectors.can_administer_platform(scope):
        raise PermissionDenied
    form = RegionForm(request.POST or None)
    saved = submit_form(
        request,
        form,
        lambda data: services.region_create(actor=page_user(request), scope=scope, **data),
        success=lambda region: _("Street office “%(name)s” was added.") % {"name": region},
    )
    if saved is not None:
        return redirect("places:region_list")
    return _render_form(
        request,
        form,
        title=_("Add a street office"),
        cancel_url=reverse("places:region_list"),
        breadcrumbs=[(_("Street offices"), reverse("places:region_list"))],
    )


@login_required
def region_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a street office (platform administrators)."""
    scope = page_scope(request)
    region = selectors.region_get(scope, pk)
    if not selectors.can_administer_platform(scope):
        raise PermissionDenied
    form = RegionForm(request.POST or None, initial={"name": region.name, "code": region.code})
    saved = submit_form(
        request,
        form,
        lambda data: services.region_update(
            actor=page_user(request), scope=scope, region=region, **data
        ),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("places:region_list")
    return _render_form(
        request,
        form,
        title=_("Edit %(name)s") % {"name": region.name},
        cancel_url=reverse("places:region_list"),
        breadcrumbs=[(_("Street offices"), reverse("places:region_list"))],
    )


@login_required
def region_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a street office without communities (platform administrators)."""
    scope = page_scope(request)
    region = selectors.region_get(scope, pk)
    if not selectors.can_administer_platform(scope):
        raise PermissionDenied
    return _confirm_delete(
        request,
        obj=region,
        delete=lambda: services.region_delete(actor=page_user(request), scope=scope, region=region),
        cancel_url=reverse("places:region_list"),
        done_url=reverse("places:region_list"),
    )


# --------------------------------------------------------------------------- communities


@login_required
def community_list(request: HttpRequest) -> HttpResponse:
    """Every community the person may see, with its place counts."""
    scope = page_scope(request)
    if not (selectors.can_administer_platform(scope) or scope.has_anywhere(Permission.VIEW_PLACES)):
        raise PermissionDenied
    q = request.GET.get("q", "").strip()
    region_id = int_param(request.GET.get("region"))
    page, query = paginate(
        request, selectors.community_list(scope, q=q or None, region_id=region_id)
    )
    return render(
        request,
        "places/community_list.html",
        {
            "page": page,
            "query": query,
            "q": q,
            "region_id": region_id,
            "regions": selectors.region_list(scope),
            "can_administer": selectors.can_administer_platform(scope),
        },
    )


@login_required
def community_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A community: details, counts, grids and key areas."""
    scope = page_scope(request)
    community = selectors.community_get(scope, pk)
    return render(
        request,
        "places/community_detail.html",
        {
            "community": community,
            "grids": selectors.grid_list(scope, community_id=community.pk),
            "key_areas": selectors.zone_list(scope, community_id=community.pk, is_key_area=True),
            "can_manage": selectors.can_manage(scope, community.pk),
            "can_administer": selectors.can_administer_platform(scope),
            "geojson_url": _geojson_url(community),
        },
    )


@login_required
def community_create(request: HttpRequest) -> HttpResponse:
    """Add a community (platform administrators)."""
    scope = page_scope(request)
    if not selectors.can_administer_platform(scope):
        raise PermissionDenied
    regions = selectors.region_list(scope)
    initial = {"region": int_param(request.GET.get("region"))}
    form = CommunityForm(request.POST or None, regions=regions, initial=initial)
    saved = submit_form(
        request,
        form,
        lambda data: services.community_create(actor=page_user(request), scope=scope, **data),
        success=lambda community: _("Community “%(name)s” was added.") % {"name": community},
    )
    if saved is not None:
        return redirect("places:community_detail", pk=saved.pk)
    return _render_form(
        request,
        form,
        title=_("Add a community"),
        cancel_url=reverse("places:community_list"),
        breadcrumbs=[(_("Communities"), reverse("places:community_list"))],
    )


@login_required
def community_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a community's details (its admins; platform administrators also move it)."""
    scope = page_scope(request)
    community = selectors.community_get(scope, pk)
    _require_manage(scope, community.pk)
    regions = selectors.region_list(scope) if selectors.can_administer_platform(scope) else None
    initial = {
        "region": community.region_id,
        "name": community.name,
        "slug": community.slug,
        "address": community.address,
        "phone": community.phone,
        "latitude": community.latitude,
        "longitude": community.longitude,
        "boundary": _geometry_text(community.boundary),
    }
    form = CommunityForm(request.POST or None, regions=regions, initial=initial)
    saved = submit_form(
        request,
        form,
        lambda data: services.community_update(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("places:community_detail", pk=community.pk)
    detail_url = reverse("places:community_detail", args=[community.pk])
    return _render_form(
        request,
        form,
        title=_("Edit %(name)s") % {"name": community.name},
        cancel_url=detail_url,
        community=community,
        breadcrumbs=[
            (_("Communities"), reverse("places:community_list")),
            (community.name, detail_url),
        ],
    )


@login_required
def community_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an empty community (platform administrators)."""
    scope = page_scope(request)
    community = selectors.community_get(scope, pk)
    if not selectors.can_administer_platform(scope):
        raise PermissionDenied
    return _confirm_delete(
        request,
        obj=community,
        delete=lambda: services.community_delete(
            actor=page_user(request), scope=scope, community=community
        ),
        cancel_url=reverse("places:community_detail", args=[community.pk]),
        done_url=reverse("places:community_list"),
        warning=_("Only a community without grids, buildings, zones or residents can be deleted."),
    )


# --------------------------------------------------------------------------- grids


@login_required
def grid_list(request: HttpRequest) -> HttpResponse:
    """The grids of the current community."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    q = request.GET.get("q", "").strip()
    page, query = paginate(
        request, selectors.grid_list(scope, community_id=community.pk, q=q or None)
    )
    return render(
        request,
        "places/grid_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "q": q,
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


@login_required
def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A grid and its buildings."""
    scope = page_scope(request)
    grid = selectors.grid_get(scope, pk)
    page, query = paginate(request, selectors.building_list(scope, grid_id=grid.pk))
    return render(
        request,
        "places/grid_detail.html",
        {
            "grid": grid,
            "page": page,
            "query": query,
            "can_manage": selectors.can_manage(scope, grid.community_id),
            "geometry": grid.boundary,
            "context_url": _geojson_url(grid.community),
        },
    )


@login_required
def grid_create(request: HttpRequest) -> HttpResponse:
    """Add a grid to the current community."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    form = GridForm(
        request.POST or None, workers=selectors.grid_worker_choices(scope, community.pk)
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.grid_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=lambda grid: _("Grid “%(name)s” was added.") % {"name": grid},
    )
    if saved is not None:
        return redirect("places:grid_detail", pk=saved.pk)
    return _render_form(
        request,
        form,
        title=_("Add a grid"),
        cancel_url=reverse("places:grid_list"),
        community=community,
        breadcrumbs=[(_("Grids"), reverse("places:grid_list"))],
    )


@login_required
def grid_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a grid."""
    scope = page_scope(request)
    grid = selectors.grid_get(scope, pk)
    _require_manage(scope, grid.community_id)
    initial = {
        "name": grid.name,
        "code": grid.code,
        "grid_worker": grid.grid_worker_id,
        "boundary": _geometry_text(grid.boundary),
    }
    form = GridForm(
        request.POST or None,
        initial=initial,
        workers=selectors.grid_worker_choices(scope, grid.community_id),
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.grid_update(actor=page_user(request), scope=scope, grid=grid, **data),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("places:grid_detail", pk=grid.pk)
    detail_url = reverse("places:grid_detail", args=[grid.pk])
    return _render_form(
        request,
        form,
        title=_("Edit %(name)s") % {"name": grid.name},
        cancel_url=detail_url,
        community=grid.community,
        breadcrumbs=[(_("Grids"), reverse("places:grid_list")), (grid.name, detail_url)],
    )


@login_required
def grid_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a grid (its buildings stay, without a grid)."""
    scope = page_scope(request)
    grid = selectors.grid_get(scope, pk)
    _require_manage(scope, grid.community_id)
    return _confirm_delete(
        request,
        obj=grid,
        delete=lambda: services.grid_delete(actor=page_user(request), scope=scope, grid=grid),
        cancel_url=reverse("places:grid_detail", args=[grid.pk]),
        done_url=reverse("places:grid_list"),
        warning=_("Its buildings stay and are no longer assigned to a grid."),
    )


# --------------------------------------------------------------------------- buildings


@login_required
def building_list(request: HttpRequest) -> HttpResponse:
    """The buildings of the current community: search, filter by grid and use."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    q = request.GET.get("q", "").strip()
    grid_param = request.GET.get("grid", "")
    use = request.GET.get("use", "")
    buildings = selectors.building_list(
        scope,
        community_id=community.pk,
        q=q or None,
        grid_id=int_param(grid_param),
        without_grid=grid_param == "none",
        use=use if use in BuildingUse.values else None,
    )
    page, query = paginate(request, buildings)
    return render(
        request,
        "places/building_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "q": q,
            "grid_param": grid_param,
            "use": use,
            "grids": selectors.grid_list(scope, community_id=community.pk),
            "uses": BuildingUse.choices,
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


@login_required
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A building: details, footprint, its entrances and households."""
    scope = page_scope(request)
    building = selectors.building_get(scope, pk)
    page, query = paginate(request, selectors.household_list(scope, building_id=building.pk))
    return render(
        request,
        "places/building_detail.html",
        {
            "building": building,
            "units": selectors.unit_list(scope, building_id=building.pk),
            "page": page,
            "query": query,
            "can_manage": selectors.can_manage(scope, building.community_id),
            "geometry": building.footprint,
            "context_url": _geojson_url(building.community),
        },
    )


@login_required
def building_create(request: HttpRequest) -> HttpResponse:
    """Add a building to the current community."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    grids = selectors.grid_list(scope, community_id=community.pk)
    form = BuildingForm(
        request.POST or None, grids=grids, initial={"grid": int_param(request.GET.get("grid"))}
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.building_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=lambda building: _("Building “%(name)s” was added.") % {"name": building},
    )
    if saved is not None:
        return redirect("places:building_detail", pk=saved.pk)
    return _render_form(
        request,
        form,
        title=_("Add a building"),
        cancel_url=reverse("places:building_list"),
        community=community,
        breadcrumbs=[(_("Buildings"), reverse("places:building_list"))],
    )


@login_required
def building_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a building."""
    scope = page_scope(request)
    building = selectors.building_get(scope, pk)
    _require_manage(scope, building.community_id)
    initial = {
        "number": building.number,
        "name": building.name,
        "grid": building.grid_id,
        "floors": building.floors,
        "use": building.use,
        "footprint": _geometry_text(building.footprint),
    }
    form = BuildingForm(
        request.POST or None,
        initial=initial,
        grids=selectors.grid_list(scope, community_id=building.community_id),
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.building_update(
            actor=page_user(request), scope=scope, building=building, **data
        ),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("places:building_detail", pk=building.pk)
    detail_url = reverse("places:building_detail", args=[building.pk])
    return _render_form(
        request,
        form,
        title=_("Edit %(name)s") % {"name": building.name},
        cancel_url=detail_url,
        community=building.community,
        breadcrumbs=[
            (_("Buildings"), reverse("places:building_list")),
            (building.name, detail_url),
        ],
    )


@login_required
def building_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a building without households (its entrances go with it)."""
    scope = page_scope(request)
    building = selectors.building_get(scope, pk)
    _require_manage(scope, building.community_id)
    return _confirm_delete(
        request,
        obj=building,
        delete=lambda: services.building_delete(
            actor=page_user(request), scope=scope, building=building
        ),
        cancel_url=reverse("places:building_detail", args=[building.pk]),
        done_url=reverse("places:building_list"),
        warning=_(
            "Its entrances are deleted with it. A building with households cannot be deleted."
        ),
    )


# --------------------------------------------------------------------------- entrances


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An entrance and its households, by floor."""
    scope = page_scope(request)
    unit = selectors.unit_get(scope, pk)
    page, query = paginate(request, selectors.household_list(scope, unit_id=unit.pk))
    return render(
        request,
        "places/unit_detail.html",
        {
            "unit": unit,
            "building": unit.building,
            "page": page,
            "query": query,
            "can_manage": selectors.can_manage(scope, unit.building.community_id),
        },
    )


@login_required
def unit_create(request: HttpRequest, building_pk: int) -> HttpResponse:
    """Add an entrance to a building."""
    scope = page_scope(request)
    building = selectors.building_get(scope, building_pk)
    _require_manage(scope, building.community_id)
    next_number = str(int(getattr(building, "unit_count", 0)) + 1)
    form = UnitForm(request.POST or None, initial={"number": next_number})
    saved = submit_form(
        request,
        form,
        lambda data: services.unit_create(
            actor=page_user(request), scope=scope, building=building, **data
        ),
        success=lambda unit: _("Entrance %(unit)s was added.") % {"unit": unit},
    )
    if saved is not None:
        return redirect("places:unit_detail", pk=saved.pk)
    detail_url = reverse("places:building_detail", args=[building.pk])
    return _render_form(
        request,
        form,
        title=_("Add an entrance to %(building)s") % {"building": building.name},
        cancel_url=detail_url,
        breadcrumbs=[
            (_("Buildings"), reverse("places:building_list")),
            (building.name, detail_url),
        ],
    )


@login_required
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Renumber an entrance."""
    scope = page_scope(request)
    unit = selectors.unit_get(scope, pk)
    _require_manage(scope, unit.building.community_id)
    form = UnitForm(request.POST or None, initial={"number": unit.number})
    saved = submit_form(
        request,
        form,
        lambda data: services.unit_update(actor=page_user(request), scope=scope, unit=unit, **data),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("places:unit_detail", pk=unit.pk)
    detail_url = reverse("places:unit_detail", args=[unit.pk])
    return _render_form(
        request,
        form,
        title=_("Edit entrance %(unit)s") % {"unit": unit},
        cancel_url=detail_url,
        breadcrumbs=[
            (_("Buildings"), reverse("places:building_list")),
            (unit.building.name, reverse("places:building_detail", args=[unit.building_id])),
            (str(unit), detail_url),
        ],
    )


@login_required
def unit_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an entrance without households."""
    scope = page_scope(request)
    unit = selectors.unit_get(scope, pk)
    _require_manage(scope, unit.building.community_id)
    building_url = reverse("places:building_detail", args=[unit.building_id])
    return _confirm_delete(
        request,
        obj=unit,
        delete=lambda: services.unit_delete(actor=page_user(request), scope=scope, unit=unit),
        cancel_url=reverse("places:unit_detail", args=[unit.pk]),
        done_url=building_url,
        warning=_("An entrance with households cannot be deleted."),
    )


# --------------------------------------------------------------------------- households


@login_required
def household_list(request: HttpRequest) -> HttpResponse:
    """The households of the current community: search by address, filter by building, floor
    and whether rented out."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    q = request.GET.get("q", "").strip()
    building_id = int_param(request.GET.get("building"))
    floor = int_param(request.GET.get("floor"))
    rented = request.GET.get("rented", "")
    households = selectors.household_list(
        scope,
        community_id=community.pk,
        q=q or None,
        building_id=building_id,
        floor=floor,
        is_rented=_yes_no(rented),
    )
    page, query = paginate(request, households)
    return render(
        request,
        "places/household_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "q": q,
            "building_id": building_id,
            "floor": floor,
            "rented": rented,
            "buildings": selectors.building_list(scope, community_id=community.pk),
            "floors": selectors.household_floors(scope, community.pk),
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A household: address, details and (for those who may see residents) its members."""
    scope = page_scope(request)
    household = selectors.household_get(scope, pk)
    show_members = scope.has(Permission.VIEW_RESIDENTS, household.community_id)
    context: dict[str, Any] = {
        "household": household,
        "unit": household.unit,
        "building": household.unit.building,
        "can_manage": selectors.can_manage(scope, household.community_id),
        "show_members": show_members,
    }
    if show_members:
        # The people app owns residents; it renders them with people/_household_members.html.
        context["members"] = household_members(scope=scope, household=household)
    return render(request, "places/household_detail.html", context)


def _units_for(scope: Scope, community_id: int) -> QuerySet[Any]:
    return selectors.unit_list(scope, community_id=community_id)


@login_required
def household_create(request: HttpRequest) -> HttpResponse:
    """Add a household to the current community (``?unit=<id>`` preselects the entrance)."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    initial = {
        "unit": int_param(request.GET.get("unit")),
        "floor": int_param(request.GET.get("floor")),
    }
    form = HouseholdForm(
        request.POST or None, units=_units_for(scope, community.pk), initial=initial
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.household_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=lambda household: (
            _("Household %(address)s was added.") % {"address": household.address}
        ),
    )
    if saved is not None:
        if "add_another" in request.POST:
            return redirect(
                f"{reverse('places:household_create')}?"
                f"{urlencode({'unit': saved.unit_id, 'floor': saved.floor})}"
            )
        return redirect("places:household_detail", pk=saved.pk)
    return _render_form(
        request,
        form,
        title=_("Add a household"),
        cancel_url=reverse("places:household_list"),
        breadcrumbs=[(_("Households"), reverse("places:household_list"))],
        add_another=True,
    )


@login_required
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a household."""
    scope = page_scope(request)
    household = selectors.household_get(scope, pk)
    _require_manage(scope, household.community_id)
    initial = {
        "unit": household.unit_id,
        "floor": household.floor,
        "number": household.number,
        "area_m2": household.area_m2,
        "is_rented": household.is_rented,
        "note": household.note,
    }
    form = HouseholdForm(
        request.POST or None, initial=initial, units=_units_for(scope, household.community_id)
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.household_update(
            actor=page_user(request), scope=scope, household=household, **data
        ),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("places:household_detail", pk=household.pk)
    detail_url = reverse("places:household_detail", args=[household.pk])
    return _render_form(
        request,
        form,
        title=_("Edit household %(address)s") % {"address": household.address},
        cancel_url=detail_url,
        breadcrumbs=[
            (_("Households"), reverse("places:household_list")),
            (household.address, detail_url),
        ],
    )


@login_required
def household_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a household nobody is recorded at."""
    scope = page_scope(request)
    household = selectors.household_get(scope, pk)
    _require_manage(scope, household.community_id)
    return _confirm_delete(
        request,
        obj=household,
        delete=lambda: services.household_delete(
            actor=page_user(request), scope=scope, household=household
        ),
        cancel_url=reverse("places:household_detail", args=[household.pk]),
        done_url=reverse("places:unit_detail", args=[household.unit_id]),
        warning=_("A household with residents or binding requests cannot be deleted."),
    )


# --------------------------------------------------------------------------- zones


@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    """The zones of the current community: filter by kind and key area."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    key_area = request.GET.get("key_area", "")
    zones = selectors.zone_list(
        scope,
        community_id=community.pk,
        q=q or None,
        kind=kind if kind in ZoneKind.values else None,
        is_key_area=_yes_no(key_area),
    )
    page, query = paginate(request, zones)
    return render(
        request,
        "places/zone_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "q": q,
            "kind": kind,
            "key_area": key_area,
            "kinds": ZoneKind.choices,
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


@login_required
def zone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A zone: details and its shape on the map."""
    scope = page_scope(request)
    zone = selectors.zone_get(scope, pk)
    return render(
        request,
        "places/zone_detail.html",
        {
            "zone": zone,
            "can_manage": selectors.can_manage(scope, zone.community_id),
            "geometry": zone.geometry,
            "context_url": _geojson_url(zone.community),
        },
    )


@login_required
def zone_create(request: HttpRequest) -> HttpResponse:
    """Add a zone to the current community, drawing its shape on the map."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    initial = {"is_key_area": _yes_no(request.GET.get("key_area")) or False}
    form = ZoneForm(request.POST or None, initial=initial)
    saved = submit_form(
        request,
        form,
        lambda data: services.zone_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=lambda zone: _("Zone “%(name)s” was added.") % {"name": zone},
    )
    if saved is not None:
        return redirect("places:zone_detail", pk=saved.pk)
    return _render_form(
        request,
        form,
        title=_("Add a zone"),
        cancel_url=reverse("places:zone_list"),
        community=community,
        breadcrumbs=[(_("Zones"), reverse("places:zone_list"))],
    )


@login_required
def zone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a zone and its shape."""
    scope = page_scope(request)
    zone = selectors.zone_get(scope, pk)
    _require_manage(scope, zone.community_id)
    initial = {
        "name": zone.name,
        "kind": zone.kind,
        "is_key_area": zone.is_key_area,
        "geometry": _geometry_text(zone.geometry),
        "description": zone.description,
    }
    form = ZoneForm(request.POST or None, initial=initial)
    saved = submit_form(
        request,
        form,
        lambda data: services.zone_update(actor=page_user(request), scope=scope, zone=zone, **data),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("places:zone_detail", pk=zone.pk)
    detail_url = reverse("places:zone_detail", args=[zone.pk])
    return _render_form(
        request,
        form,
        title=_("Edit %(name)s") % {"name": zone.name},
        cancel_url=detail_url,
        community=zone.community,
        breadcrumbs=[(_("Zones"), reverse("places:zone_list")), (zone.name, detail_url)],
    )


@login_required
def zone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a zone."""
    scope = page_scope(request)
    zone = selectors.zone_get(scope, pk)
    _require_manage(scope, zone.community_id)
    return _confirm_delete(
        request,
        obj=zone,
        delete=lambda: services.zone_delete(actor=page_user(request), scope=scope, zone=zone),
        cancel_url=reverse("places:zone_detail", args=[zone.pk]),
        done_url=reverse("places:zone_list"),
    )

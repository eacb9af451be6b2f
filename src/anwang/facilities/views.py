"""Pages of the facilities domain: the register with filters and a map, an asset's detail with
its history, stock adjustments and retirement, the asset form, printable QR labels, and the
phone page a label's QR code opens.

Views read through :mod:`anwang.facilities.selectors` and write through
:mod:`anwang.facilities.services`; they hold no rules. Photos are served through a checked
view, never as public media files.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user, paginate
from anwang.core.selectors import communities_permitted, page_community
from anwang.facilities import selectors, services
from anwang.facilities.choices import AssetStatus, AssetType
from anwang.facilities.forms import AssetForm, ListFilterForm, RetireForm, StockForm, point_of
from anwang.facilities.labels import asset_labels_pdf, asset_scan_url
from anwang.facilities.models import Asset
from anwang.places.models import Building, Community, Unit, Zone

PHOTO_KINDS = {"photo": "photo", "thumb": "photo_thumbnail"}
LABELS_MAX = 400
"""At most this many labels in one PDF (50 pages), so a click cannot tie up the server."""


def _community(request: HttpRequest, scope: Scope, *, manage: bool = False) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage if manage else selectors.can_view,
        fallback=communities_permitted(scope, selectors.MANAGE if manage else selectors.VIEW),
    )


def _require_manage(scope: Scope, community_id: int) -> None:
    if not selectors.can_manage(scope, community_id):
        raise PermissionDenied


def _places(community_id: int) -> dict[str, Any]:
    return {
        "buildings": list(Building.objects.filter(community_id=community_id).order_by("name")),
        "units": list(
            Unit.objects.filter(building__community_id=community_id)
            .select_related("building")
            .order_by("building__name", "number")
        ),
        "zones": list(Zone.objects.filter(community_id=community_id).order_by("name")),
    }


def _filtered(
    request: HttpRequest, scope: Scope, community: Community
) -> tuple[ListFilterForm, QuerySet[Asset]]:
    form = ListFilterForm(
        request.GET or None,
        buildings=list(Building.objects.filter(community_id=community.pk).order_by("name")),
    )
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    assets = selectors.assets_filtered(
        scope,
        community_id=community.pk,
        filters=selectors.AssetFilters(
            asset_type=values.get("asset_type") or "",
            building_id=values.get("building"),
            status=values.get("status") or "",
            expiring=bool(values.get("expiring")),
            below_minimum=bool(values.get("below_minimum")),
            q=values.get("q") or "",
        ),
    )
    return form, assets


# --------------------------------------------------------------------------- register


@login_required
def asset_list(request: HttpRequest) -> HttpResponse:
    """The register of the current community, filtered, with the assets on the map."""
    scope = page_scope(request)
    community = _community(request, scope)
    form, assets = _filtered(request, scope, community)
    page, query = paginate(request, assets)
    today = timezone.localdate()
    return render(
        request,
        "facilities/list.html",
        {
            "community": community,
            "form": form,
            "page": page,
            "query": query,
            "today": today,
            "soon": today + dt.timedelta(days=selectors.EXPIRY_WINDOW_DAYS),
            "geojson_url": f"{reverse('places:map_geojson')}?"
            + urlencode({"community": community.pk}),
            "assets_geojson_url": f"{reverse('facilities:map_geojson')}?"
            + urlencode({"community": community.pk}),
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


def _render_form(
    request: HttpRequest,
    form: AssetForm,
    *,
    community: Community,
    asset: Asset | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "facilities/form.html",
        {
            "form": form,
            "community": community,
            "asset": asset,
            "context_geojson_url": (
                f"{reverse('places:map_geojson')}?{urlencode({'community': community.pk})}"
            ),
            "title": _("Edit %(asset)s") % {"asset": asset} if asset else _("Register an asset"),
            "cancel_url": reverse("facilities:detail", args=[asset.pk])
            if asset
            else reverse("facilities:list"),
        },
        status=status,
    )


@login_required
def asset_create(request: HttpRequest) -> HttpResponse:
    """Register an asset in the current community (``?type=`` preselects the type)."""
    scope = page_scope(request)
    community = _community(request, scope, manage=True)
    _require_manage(scope, community.pk)
    if request.method == "POST":
        form = AssetForm(request.POST, request.FILES, **_places(community.pk))
        if form.is_valid():
            try:
                asset = services.asset_create(
                    actor=page_user(request),
                    community=community,
                    values=form.service_values(),
                    photo=form.cleaned_data["photo"],
                )
            except ServiceError as error:
                attach_service_error(form, error, {"delta": "quantity"})
            else:
                messages.success(request, _("Registered %(asset)s.") % {"asset": asset})
                return redirect("facilities:detail", asset.pk)
        return _render_form(request, form, community=community, asset=None, status=400)
    wanted = request.GET.get("type", "")
    form = AssetForm(
        initial={"asset_type": wanted if wanted in AssetType.values else ""},
        **_places(community.pk),
    )
    return _render_form(request, form, community=community, asset=None)


def _initial(asset: Asset) -> dict[str, Any]:
    names = [name for name in services.EDITABLE_FIELDS if name not in ("building", "unit", "zone")]
    initial = {name: getattr(asset, name) for name in names}
    initial.update(
        building=asset.building_id,
        unit=asset.unit_id,
        zone=asset.zone_id,
        point=point_of(asset.latitude, asset.longitude),
    )
    return initial


@login_required
def asset_edit(request: HttpRequest, asset_id: int) -> HttpResponse:
    """Change an asset's fields and photo."""
    scope = page_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    _require_manage(scope, asset.community_id)
    if asset.status == AssetStatus.RETIRED:
        messages.error(request, _("This asset is retired and can no longer be changed."))
        return redirect("facilities:detail", asset.pk)
    places = _places(asset.community_id)
    if request.method == "POST":
        form = AssetForm(request.POST, request.FILES, editing=True, **places)
        if form.is_valid():
            try:
                services.asset_update(
                    actor=page_user(request),
                    asset=asset,
                    values=form.service_values(),
                    photo=form.cleaned_data["photo"],
                )
            except ServiceError as error:
                attach_service_error(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("facilities:detail", asset.pk)
        return _render_form(request, form, community=asset.community, asset=asset, status=400)
    form = AssetForm(initial=_initial(asset), editing=True, **places)
    return _render_form(request, form, community=asset.community, asset=asset)


def _detail(
    request: HttpRequest,
    scope: Scope,
    asset: Asset,
    *,
    stock_form: StockForm | None = None,
    retire_form: RetireForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_manage = selectors.can_manage(scope, asset.community_id)
    active = asset.status != AssetStatus.RETIRED
    today = timezone.localdate()
    return render(
        request,
        "facilities/detail.html",
        {
            "asset": asset,
            "community": asset.community,
            "history": list(selectors.asset_history(scope, asset)[:200]),
            "can_manage": can_manage and active,
            "stock_form": (stock_form or StockForm())
            if can_manage and active and asset.is_supply
            else None,
            "retire_form": (retire_form or RetireForm()) if can_manage and active else None,
            "inspect_url": selectors.inspect_url(asset)
            if active and selectors.can_inspect(scope, asset.community_id)
            else "",
            "scan_url": asset_scan_url(asset),
            "expired": asset.expires_on is not None and asset.expires_on < today,
            "expiring": asset.expires_on is not None
            and today
            <= asset.expires_on
            <= today + dt.timedelta(days=selectors.EXPIRY_WINDOW_DAYS),
        },
        status=status,
    )


@login_required
def asset_detail(request: HttpRequest, asset_id: int) -> HttpResponse:
    """An asset with its photo, place, type-specific facts and history."""
    scope = page_scope(request)
    return _detail(request, scope, selectors.asset_get(scope, asset_id))


@login_required
@require_POST
def asset_stock(request: HttpRequest, asset_id: int) -> HttpResponse:
    """Stock in or out of a supply; a refused change shows the form again with the reason."""
    scope = page_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    _require_manage(scope, asset.community_id)
    form = StockForm(request.POST)
    if form.is_valid():
        amount: Decimal = form.cleaned_data["amount"]
        delta = amount if form.cleaned_data["direction"] == "in" else -amount
        try:
            services.asset_stock_adjust(
                actor=page_user(request),
                asset=asset,
                delta=delta,
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            attach_service_error(form, error, {"delta": "amount"})
        else:
            messages.success(request, _("Stock updated."))
            return redirect("facilities:detail", asset.pk)
    asset = selectors.asset_get(scope, asset_id)
    return _detail(request, scope, asset, stock_form=form, status=400)


@login_required
@require_POST
def asset_retire(request: HttpRequest, asset_id: int) -> HttpResponse:
    """Retire an asset for good, with the reason."""
    scope = page_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    _require_manage(scope, asset.community_id)
    form = RetireForm(request.POST)
    if form.is_valid():
        try:
            services.asset_retire(
                actor=page_user(request), asset=asset, reason=form.cleaned_data["reason"]
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Retired."))
            return redirect("facilities:detail", asset.pk)
    asset = selectors.asset_get(scope, asset_id)
    return _detail(request, scope, asset, retire_form=form, status=400)


@login_required
@require_GET
def asset_photo(request: HttpRequest, asset_id: int, kind: str) -> FileResponse:
    """An asset's photo or its thumbnail, for those who may see the asset."""
    if kind not in PHOTO_KINDS:
        raise Http404
    asset = selectors.asset_get(page_scope(request), asset_id)
    field = getattr(asset, PHOTO_KINDS[kind])
    if not field:
        raise Http404
    response = FileResponse(field.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- labels, map, scan


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def asset_label(request: HttpRequest, asset_id: int) -> HttpResponse:
    """One asset's QR label as a PDF."""
    scope = page_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    _require_manage(scope, asset.community_id)
    content = asset_labels_pdf([asset], community_name=asset.community.name)
    return _pdf(content, f"asset-{asset.pk}.pdf")


@login_required
@require_GET
def label_sheet(request: HttpRequest) -> HttpResponse:
    """The labels as a PDF: chosen assets (``?asset=<id>&asset=<id>``) or every asset the
    list's filters select, in the current community."""
    scope = page_scope(request)
    community = _community(request, scope, manage=True)
    _require_manage(scope, community.pk)
    ids = [int(value) for value in request.GET.getlist("asset") if value.isdigit()]
    if request.GET.get("selected") and not ids:
        messages.error(request, _("Choose at least one asset to print."))
        return redirect("facilities:list")
    _form, assets = _filtered(request, scope, community)
    if ids:
        assets = assets.filter(pk__in=ids)
    content = asset_labels_pdf(list(assets[:LABELS_MAX]), community_name=community.name)
    return _pdf(content, f"asset-labels-{community.pk}.pdf")


@login_required
@require_GET
def map_geojson(request: HttpRequest) -> JsonResponse:
    """The community's placed assets (not retired) as a GeoJSON FeatureCollection."""
    scope = page_scope(request)
    community_id = int_param(request.GET.get("community"))
    if community_id is None:
        community_id = _community(request, scope).pk
    if not selectors.can_view(scope, community_id):
        raise Http404
    assets = selectors.assets_filtered(
        scope, community_id=community_id, filters=selectors.AssetFilters()
    )
    return JsonResponse(selectors.assets_geojson(assets))


@login_required
@require_GET
def scan(request: HttpRequest, community_slug: str, code: str) -> HttpResponse:
    """The page a label's QR code opens on a phone: what the asset is, where, its state, and
    for inspectors a link to inspect it now."""
    scope = page_scope(request)
    asset = selectors.asset_by_code(scope, community_slug, code)
    today = timezone.localdate()
    try:
        report_url = reverse("hazards:report")
    except NoReverseMatch:
        report_url = ""
    return render(
        request,
        "facilities/scan.html",
        {
            "asset": asset,
            "inspect_url": selectors.inspect_url(asset)
            if asset.status != AssetStatus.RETIRED
            and selectors.can_inspect(scope, asset.community_id)
            else "",
            "report_url": report_url,
            "expired": asset.expires_on is not None and asset.expires_on < today,
        },
    )

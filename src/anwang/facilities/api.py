"""JSON API of the facilities domain: the asset register with filters, an asset and its
history, registration (multipart, with a photo), changes, a new photo, retirement, stock
adjustments of supplies, the map layer (GeoJSON), scanning a label's code, and labels as PDF.

Reads are scoped: an asset the caller may not see is 404. Writes go through
:mod:`anwang.facilities.services` and need the manage-facilities permission (403 for those who
may only see facilities); a retired asset cannot be changed (409); bad input is 400 with the
field in ``errors``.
"""

from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anwang.core.api_helpers import request_actor, request_scope
from anwang.facilities import selectors, services
from anwang.facilities.choices import AssetStatus, AssetType
from anwang.facilities.labels import asset_labels_pdf
from anwang.facilities.models import Asset, AssetEvent
from anwang.facilities.schemas import (
    PHOTO_FIELDS,
    AssetCreateIn,
    AssetEventOut,
    AssetOut,
    AssetUpdateIn,
    RetireIn,
    StockIn,
    service_values,
)
from anwang.places.models import Community

router = Router(tags=["facilities"])
PAGE_SIZE = 50
LABELS_MAX = 400


def _filters(
    asset_type: AssetType | None,
    building_id: int | None,
    zone_id: int | None,
    status: AssetStatus | None,
    expiring: bool,
    below_minimum: bool,
    q: str | None,
) -> selectors.AssetFilters:
    return selectors.AssetFilters(
        asset_type=asset_type or "",
        building_id=building_id,
        zone_id=zone_id,
        status=status or "",
        expiring=expiring,
        below_minimum=below_minimum,
        q=(q or "").strip()[:100],
    )


def _fresh(request: HttpRequest, asset: Asset) -> Asset:
    return selectors.asset_get(request_scope(request), asset.pk)


@router.get("/facilities/assets", response=list[AssetOut], summary="List assets")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def asset_list(
    request: HttpRequest,
    community_id: int | None = None,
    asset_type: AssetType | None = None,
    building_id: int | None = None,
    zone_id: int | None = None,
    status: AssetStatus | None = None,
    expiring: bool = False,
    below_minimum: bool = False,
    q: str | None = None,
) -> QuerySet[Asset]:
    """Assets of the caller's communities; retired ones only with ``status=retired``.
    ``expiring`` keeps those expiring within 30 days or already expired, ``below_minimum`` the
    supplies below their minimum stock."""
    return selectors.assets_filtered(
        request_scope(request),
        community_id=community_id,
        filters=_filters(asset_type, building_id, zone_id, status, expiring, below_minimum, q),
    )


@router.get("/facilities/assets/geojson", summary="Assets on the map (GeoJSON)")
def asset_geojson(
    request: HttpRequest,
    community_id: int | None = None,
    asset_type: AssetType | None = None,
) -> dict[str, Any]:
    """The placed assets (not retired) as a GeoJSON FeatureCollection of points."""
    scope = request_scope(request)
    if community_id is not None and not selectors.can_view(scope, community_id):
        raise Http404
    assets = selectors.assets_filtered(
        scope,
        community_id=community_id,
        filters=selectors.AssetFilters(asset_type=asset_type or ""),
    )
    return selectors.assets_geojson(assets)


@router.get("/facilities/assets/labels.pdf", summary="QR labels (PDF)", response={200: None})
def asset_labels(
    request: HttpRequest, community_id: int, asset_id: Query[list[int] | None] = None
) -> HttpResponse:
    """A sheet of QR labels of a community's assets in use (or only the given ``asset_id``s),
    eight to an A4 page. Needs the manage-facilities permission."""
    scope = request_scope(request)
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not selectors.can_view(scope, community_id):
        raise Http404
    if not selectors.can_manage(scope, community_id):
        raise PermissionDenied
    assets = selectors.assets_filtered(
        scope, community_id=community_id, filters=selectors.AssetFilters()
    )
    if asset_id:
        assets = assets.filter(pk__in=asset_id)
    content = asset_labels_pdf(list(assets[:LABELS_MAX]), community_name=community.name)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="asset-labels-{community.pk}.pdf"'
    return response


@router.get("/facilities/assets/by-code", response=AssetOut, summary="Find an asset by code")
def asset_by_code(request: HttpRequest, community: str, code: str) -> Asset:
    """The asset a scanned label names: the community's slug and the asset's code."""
    return selectors.asset_by_code(request_scope(request), community, code.strip())


@router.get("/facilities/assets/{asset_id}", response=AssetOut, summary="An asset")
def asset_get(request: HttpRequest, asset_id: int) -> Asset:
    """One asset."""
    return selectors.asset_get(request_scope(request), asset_id)


@router.get(
    "/facilities/assets/{asset_id}/history",
    response=list[AssetEventOut],
    summary="An asset's history",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def asset_history(request: HttpRequest, asset_id: int) -> QuerySet[AssetEvent]:
    """Who changed what and when, stock movements and checks, newest first."""
    scope = request_scope(request)
    return selectors.asset_history(scope, selectors.asset_get(scope, asset_id))


@router.get(
    "/facilities/assets/{asset_id}/photo",
    url_name="asset_photo",
    summary="An asset's photo",
    response={200: None},
)
def asset_photo(
    request: HttpRequest, asset_id: int, kind: Literal["photo", "thumbnail"] = "photo"
) -> FileResponse:
    """The photo (``kind=photo``, the default) or its ``thumbnail``."""
    asset = selectors.asset_get(request_scope(request), asset_id)
    field = getattr(asset, PHOTO_FIELDS[kind])
    if not field:
        raise Http404
    response = FileResponse(field.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


@router.get(
    "/facilities/assets/{asset_id}/label.pdf", summary="An asset's QR label", response={200: None}
)
def asset_label(request: HttpRequest, asset_id: int) -> HttpResponse:
    """One asset's QR label as a PDF. Needs the manage-facilities permission."""
    scope = request_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    if not selectors.can_manage(scope, asset.community_id):
        raise PermissionDenied
    content = asset_labels_pdf([asset], community_name=asset.community.name)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="asset-{asset.pk}.pdf"'
    return response


# --------------------------------------------------------------------------- writes


@router.post("/facilities/assets", response={201: AssetOut}, summary="Register an asset")
def asset_create(
    request: HttpRequest,
    payload: Form[AssetCreateIn],
    photo: File[UploadedFile | None] = None,
) -> Status[Asset]:
    """Register an asset (multipart form; ``photo`` optional: JPEG, PNG or WebP of at most
    10 MB, stored without its EXIF and GPS data)."""
    scope = request_scope(request)
    community = Community.objects.filter(pk=payload.community_id).first()
    if community is None or not selectors.can_view(scope, community.pk):
        raise Http404
    asset = services.asset_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        values=service_values(payload, exclude={"community_id"}),
        photo=photo,
    )
    return Status(201, _fresh(request, asset))


@router.patch("/facilities/assets/{asset_id}", response=AssetOut, summary="Change an asset")
def asset_update(request: HttpRequest, asset_id: int, payload: AssetUpdateIn) -> Asset:
    """Change the fields given (JSON); the others keep their value. Send ``null`` to clear an
    optional field."""
    scope = request_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    current = {name: getattr(asset, name) for name in services.EDITABLE_FIELDS}
    current.update(building=asset.building_id, unit=asset.unit_id, zone=asset.zone_id)
    changes = service_values(payload)
    given = {
        name.removesuffix("_id") if name.endswith("_id") else name
        for name in payload.model_fields_set
    }
    current.update({name: value for name, value in changes.items() if name in given})
    services.asset_update(actor=request_actor(request), scope=scope, asset=asset, values=current)
    return _fresh(request, asset)


@router.post("/facilities/assets/{asset_id}/photo", response=AssetOut, summary="New photo")
def asset_photo_replace(request: HttpRequest, asset_id: int, photo: File[UploadedFile]) -> Asset:
    """Replace the asset's photo (multipart form)."""
    scope = request_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    current = {name: getattr(asset, name) for name in services.EDITABLE_FIELDS}
    current.update(building=asset.building_id, unit=asset.unit_id, zone=asset.zone_id)
    services.asset_update(
        actor=request_actor(request), scope=scope, asset=asset, values=current, photo=photo
    )
    return _fresh(request, asset)


@router.post("/facilities/assets/{asset_id}/retire", response=AssetOut, summary="Retire")
def asset_retire(request: HttpRequest, asset_id: int, payload: RetireIn) -> Asset:
    """Retire an asset for good, with the reason."""
    scope = request_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    services.asset_retire(
        actor=request_actor(request), scope=scope, asset=asset, reason=payload.reason
    )
    return _fresh(request, asset)


@router.post("/facilities/assets/{asset_id}/stock", response=AssetOut, summary="Adjust stock")
def asset_stock(request: HttpRequest, asset_id: int, payload: StockIn) -> Asset:
    """Add to or take from a supply's stock, with the reason; it never goes below zero."""
    scope = request_scope(request)
    asset = selectors.asset_get(scope, asset_id)
    services.asset_stock_adjust(
        actor=request_actor(request),
        scope=scope,
        asset=asset,
        delta=payload.delta,
        reason=payload.reason,
    )
    return _fresh(request, asset)

"""Reads of the facilities domain, scoped by the caller's ``Scope``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.core.inbox import WorkItem
from anwang.facilities.choices import AssetStatus, AssetType
from anwang.facilities.models import Asset, AssetEvent
from anwang.places.models import Community

VIEW = Permission.VIEW_FACILITIES
MANAGE = Permission.MANAGE_FACILITIES
INSPECT = Permission.INSPECT_FACILITIES
EXPIRY_WINDOW_DAYS = 30
"""How far ahead an expiry date counts as 'expiring soon' (list filter, dashboard, my work)."""


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller sees the asset register of a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller registers, edits and retires assets of a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def can_inspect(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller carries out inspections of a community's assets."""
    return acts_platform_wide(scope) or scope.has(INSPECT, community_id)


def assets_visible(scope: Scope, *, community_id: int | None = None) -> QuerySet[Asset]:
    """Assets the caller may see (every community's for a platform administrator), optionally
    of one community; related places joined for lists."""
    queryset = Asset.objects.select_related("community", "building", "unit", "zone")
    if not acts_platform_wide(scope):
        queryset = scope.filter(queryset, VIEW)
    if community_id is not None:
        queryset = queryset.filter(community_id=community_id)
    return queryset


def _expiring_q(today: dt.date, days: int = EXPIRY_WINDOW_DAYS) -> Q:
    return Q(expires_on__isnull=False, expires_on__lte=today + dt.timedelta(days=days))


def _active(queryset: QuerySet[Asset]) -> QuerySet[Asset]:
    return queryset.exclude(status=AssetStatus.RETIRED)


def assets_expiring(
    queryset: QuerySet[Asset], *, today: dt.date, days: int = EXPIRY_WINDOW_DAYS
) -> QuerySet[Asset]:
    """Assets not retired whose expiry date is within ``days`` from ``today`` or already past."""
    return _active(queryset).filter(_expiring_q(today, days))


def assets_expired(queryset: QuerySet[Asset], *, today: dt.date) -> QuerySet[Asset]:
    """Assets not retired whose expiry date is already past."""
    return _active(queryset).filter(expires_on__lt=today)


def assets_below_minimum(queryset: QuerySet[Asset]) -> QuerySet[Asset]:
    """Supplies not retired whose quantity is below their minimum stock."""
    return _active(queryset).filter(
        asset_type=AssetType.EMERGENCY_SUPPLY,
        minimum_stock__isnull=False,
        quantity__lt=F("minimum_stock"),
    )


@dataclass(frozen=True)
class AssetFilters:
    """The list filters of the register (page and API share them)."""

    asset_type: str = ""
    building_id: int | None = None
    zone_id: int | None = None
    status: str = ""
    expiring: bool = False
    below_minimum: bool = False
    q: str = ""


def assets_filtered(
    scope: Scope,
    *,
    community_id: int | None,
    filters: AssetFilters,
    today: dt.date | None = None,
) -> QuerySet[Asset]:
    """The register filtered as asked; retired assets show only when asked for by status."""
    today = today or timezone.localdate()
    queryset = assets_visible(scope, community_id=community_id)
    if filters.asset_type:
        queryset = queryset.filter(asset_type=filters.asset_type)
    if filters.building_id:
        queryset = queryset.filter(building_id=filters.building_id)
    if filters.zone_id:
        queryset = queryset.filter(zone_id=filters.zone_id)
    queryset = queryset.filter(status=filters.status) if filters.status else _active(queryset)
    if filters.expiring:
        queryset = assets_expiring(queryset, today=today)
    if filters.below_minimum:
        queryset = assets_below_minimum(queryset)
    if filters.q:
        queryset = queryset.filter(Q(name__icontains=filters.q) | Q(code__icontains=filters.q))
    return queryset


def asset_get(scope: Scope, asset_id: int) -> Asset:
    """One asset the caller may see, else 404."""
    try:
        return assets_visible(scope).get(pk=asset_id)
    except Asset.DoesNotExist as error:
        raise Http404 from error


def asset_by_code(scope: Scope, community: Community | str, code: str) -> Asset:
    """The asset a scanned label names (community object or slug, and code), else 404."""
    queryset = assets_visible(scope)
    if isinstance(community, Community):
        queryset = queryset.filter(community=community)
    else:
        queryset = queryset.filter(community__slug=community)
    # Exact first (what a QR code holds); then as typed, since codes are unique whatever the case.
    found = queryset.filter(code=code).first() or queryset.filter(code__iexact=code).first()
    if found is None:
        raise Http404
    return found


def asset_history(scope: Scope, asset: Asset) -> QuerySet[AssetEvent]:
    """An asset's history, newest first (the asset was fetched through the caller's scope)."""
    if not can_view(scope, asset.community_id):
        raise Http404
    return AssetEvent.objects.filter(asset=asset).select_related("actor")


def asset_scan_path(asset: Asset) -> str:
    """The path the asset's QR label holds (its scan page, opened on a phone)."""
    return reverse("facilities:scan", args=[asset.community.slug, asset.code])


def inspect_url(asset: Asset) -> str:
    """Where an inspector starts an inspection of the asset, when inspections are installed."""
    try:
        return reverse("inspections:start") + f"?asset={asset.pk}"
    except NoReverseMatch:
        return ""


def asset_feature(asset: Asset) -> dict[str, Any]:
    """One asset as a GeoJSON point feature (only assets with coordinates have one)."""
    return {
        "type": "Feature",
        "id": asset.pk,
        "geometry": {"type": "Point", "coordinates": [asset.longitude, asset.latitude]},
        "properties": {
            "id": asset.pk,
            "code": asset.code,
            "name": asset.name,
            "asset_type": asset.asset_type,
            "type_label": str(asset.get_asset_type_display()),
            # The shared map draws points by kind and status labels (as it does for devices).
            "kind_label": str(asset.get_asset_type_display()),
            "status": asset.status,
            "status_label": str(asset.get_status_display()),
            "url": reverse("facilities:detail", args=[asset.pk]),
        },
    }


def assets_geojson(queryset: QuerySet[Asset]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the assets placed on the map."""
    placed = queryset.filter(latitude__isnull=False, longitude__isnull=False)
    return {"type": "FeatureCollection", "features": [asset_feature(a) for a in placed]}


# --------------------------------------------------------------------------- dashboard, my work


def facilities_stats(
    scope: Scope, community: Community | None, *, today: dt.date | None = None
) -> list[Stat]:
    """Dashboard figures: expiring within 30 days, expired, supplies below minimum stock."""
    community_id = community.pk if community else None
    if community_id is not None and not can_view(scope, community_id):
        return []
    if community_id is None and not (acts_platform_wide(scope) or scope.has_anywhere(VIEW)):
        return []
    today = today or timezone.localdate()
    queryset = assets_visible(scope, community_id=community_id)
    url = reverse("facilities:list")
    expiring = assets_expiring(queryset, today=today).filter(expires_on__gte=today).count()
    expired = assets_expired(queryset, today=today).count()
    below = assets_below_minimum(queryset).count()
    return [
        Stat(
            "facilities_expiring",
            _("Assets expiring within 30 days"),
            expiring,
            url + "?expiring=1",
            "warn" if expiring else "",
        ),
        Stat(
            "facilities_expired",
            _("Expired assets"),
            expired,
            url + "?expiring=1",
            "key" if expired else "",
        ),
        Stat(
            "facilities_below_minimum",
            _("Supplies below minimum stock"),
            below,
            url + "?below_minimum=1",
            "warn" if below else "",
        ),
    ]


def facilities_work(scope: Scope, *, today: dt.date | None = None) -> list[WorkItem]:
    """'My work' for managers: expired assets and supplies below minimum stock, one item each
    (the daily reminder, since there is no notification outbox yet)."""
    community_ids = scope.community_ids(MANAGE)
    if not community_ids:
        return []
    today = today or timezone.localdate()
    queryset = Asset.objects.filter(community_id__in=community_ids).select_related("community")
    items: list[WorkItem] = []
    for asset in assets_expired(queryset, today=today).order_by("expires_on", "pk")[:50]:
        assert asset.expires_on is not None
        items.append(
            WorkItem(
                source="facilities",
                title=_("Expired: %(asset)s") % {"asset": asset},
                url=reverse("facilities:detail", args=[asset.pk]),
                community_id=asset.community_id,
                due_at=dt.datetime.combine(asset.expires_on, dt.time(), tzinfo=dt.UTC),
                priority=2,
                detail=_("Expired on %(date)s") % {"date": asset.expires_on.isoformat()},
            )
        )
    for asset in assets_below_minimum(queryset).order_by("code")[:50]:
        items.append(
            WorkItem(
                source="facilities",
                title=_("Below minimum stock: %(asset)s") % {"asset": asset},
                url=reverse("facilities:detail", args=[asset.pk]),
                community_id=asset.community_id,
                priority=3,
                detail=_("%(quantity)s of at least %(minimum)s %(unit)s")
                % {
                    "quantity": f"{asset.quantity.normalize():f}",
                    "minimum": f"{(asset.minimum_stock or 0):f}",
                    "unit": asset.quantity_unit,
                },
            )
        )
    return items

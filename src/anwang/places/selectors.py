"""Reads of the places domain, already scoped to what the caller may see.

Every function takes the caller's :class:`Scope`. Lists return querysets (so pages and the API
paginate them) with the related rows and counts they show already joined or annotated, so a
page of fifty rows costs a fixed number of queries. A ``*_get`` of an object in a community the
caller cannot see raises :class:`Http404`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Length
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.core import geo
from anwang.core.dashboard import Stat
from anwang.core.errors import ServiceError
from anwang.places.models import Building, Community, Grid, Household, Region, Unit, Zone

M = TypeVar("M", bound=models.Model)

VIEW = Permission.VIEW_PLACES
_ADDRESS = re.compile(r"^\s*([^\s\-]+)\s*[-\s]\s*([^\s\-]+)\s*[-\s]\s*([^\s\-]+)\s*$")
_TWO_PARTS = re.compile(r"^\s*([^\s\-]+)\s*[-\s]\s*([^\s\-]+)\s*$")


def _platform_wide(scope: Scope) -> bool:
    # A platform admin sees every community, including one created after the scope was
    # computed; a token limited to one community never does.
    return scope.is_platform_admin and scope.token_community_id is None


def _visible(scope: Scope, queryset: QuerySet[M], lookup: str = "community_id") -> QuerySet[M]:
    """Restrict a queryset to the communities where the caller may view places."""
    if _platform_wide(scope):
        return queryset
    return scope.filter(queryset, VIEW, lookup)


def _one(queryset: QuerySet[M], pk: int) -> M:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _count(model: type[models.Model], link: str, **conditions: Any) -> Coalesce:
    """A correlated subquery counting ``model`` rows whose ``link`` is the outer row.

    Subqueries rather than ``Count`` over joins: several counts over joins multiply each other.
    """
    rows = (
        model._default_manager.filter(**{link: OuterRef("pk")}, **conditions)
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the places of a community."""
    return _platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may edit the places of a community."""
    return _platform_wide(scope) or scope.has(Permission.MANAGE_PLACES, community_id)


def can_administer_platform(scope: Scope) -> bool:
    """Whether the caller may manage street offices and create or delete communities."""
    return _platform_wide(scope)


def sees_many_communities(scope: Scope) -> bool:
    """Whether the communities page is for this person: platform administrators and
    street-office supervisors."""
    return _platform_wide(scope) or (
        Role.SUPERVISOR in scope.all_roles() and scope.has_anywhere(VIEW)
    )


# --------------------------------------------------------------------------- regions


def region_list(scope: Scope, *, q: str | None = None) -> QuerySet[Region]:
    """Street offices the caller may see (those of their communities; all for platform
    administrators), with their number of communities."""
    regions = Region.objects.annotate(community_count=_count(Community, "region"))
    if not _platform_wide(scope):
        visible = _visible(scope, Community.objects.all(), "id").values("region_id")
        regions = regions.filter(id__in=visible)
    if q:
        regions = regions.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return regions.order_by("name", "id")


def region_get(scope: Scope, region_id: int) -> Region:
    """One visible street office."""
    return _one(region_list(scope), region_id)


# --------------------------------------------------------------------------- communities


def community_list(
    scope: Scope, *, q: str | None = None, region_id: int | None = None
) -> QuerySet[Community]:
    """Communities the caller may see, with their street office and place counts."""
    communities = _visible(scope, Community.objects.all(), "id").select_related("region")
    communities = communities.annotate(
        grid_count=_count(Grid, "community"),
        building_count=_count(Building, "community"),
        household_count=_count(Household, "community"),
        zone_count=_count(Zone, "community"),
        key_area_count=_count(Zone, "community", is_key_area=True),
    )
    if region_id is not None:
        communities = communities.filter(region_id=region_id)
    if q:
        communities = communities.filter(
            Q(name__icontains=q) | Q(slug__icontains=q) | Q(address__icontains=q)
        )
    return communities.order_by("name", "id")


def community_get(scope: Scope, community_id: int) -> Community:
    """One visible community, with its place counts."""
    return _one(community_list(scope), community_id)


# --------------------------------------------------------------------------- grids


def grid_list(
    scope: Scope, *, community_id: int | None = None, q: str | None = None
) -> QuerySet[Grid]:
    """Grids the caller may see, with their grid worker and counts."""
    grids = (
        _visible(scope, Grid.objects.all())
        .select_related("community", "grid_worker")
        .annotate(
            building_count=_count(Building, "grid"),
            household_count=_count(Household, "unit__building__grid"),
        )
    )
    if community_id is not None:
        grids = grids.filter(community_id=community_id)
    if q:
        grids = grids.filter(
            Q(name__icontains=q)
            | Q(code__icontains=q)
            | Q(grid_worker__display_name__icontains=q)
            | Q(grid_worker__username__icontains=q)
        )
    return grids.order_by("community__name", "name", "id")


def grid_get(scope: Scope, grid_id: int) -> Grid:
    """One visible grid."""
    return _one(grid_list(scope), grid_id)


def grid_worker_choices(scope: Scope, community_id: int) -> QuerySet[User]:
    """Accounts holding the grid-worker role in a community, for choosing a grid's worker."""
    if not can_view(scope, community_id):
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            memberships__community_id=community_id,
            memberships__role=Role.GRID_WORKER,
        )
        .distinct()
        .order_by("display_name", "username")
    )


# --------------------------------------------------------------------------- buildings


def building_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str | None = None,
    grid_id: int | None = None,
    without_grid: bool = False,
    use: str | None = None,
) -> QuerySet[Building]:
    """Buildings the caller may see, in natural number order, with entrance and household
    counts."""
    buildings = (
        _visible(scope, Building.objects.all())
        .select_related("community", "grid")
        .annotate(
            unit_count=_count(Unit, "building"),
            household_count=_count(Household, "unit__building"),
        )
    )
    if community_id is not None:
        buildings = buildings.filter(community_id=community_id)
    if grid_id is not None:
        buildings = buildings.filter(grid_id=grid_id)
    elif without_grid:
        buildings = buildings.filter(grid__isnull=True)
    if use:
        buildings = buildings.filter(use=use)
    if q:
        buildings = buildings.filter(Q(name__icontains=q) | Q(number__iexact=q.strip()))
    # Numbers are text: order "2" before "10" by length first.
    return buildings.order_by("community__name", Length("number"), "number", "id")


def building_get(scope: Scope, building_id: int) -> Building:
    """One visible building, with its counts."""
    return _one(building_list(scope), building_id)


# --------------------------------------------------------------------------- entrances


def unit_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    building_id: int | None = None,
    q: str | None = None,
) -> QuerySet[Unit]:
    """Entrances the caller may see, with their building and household count."""
    units = (
        _visible(scope, Unit.objects.all(), "building__community_id")
        .select_related("building", "building__community")
        .annotate(household_count=_count(Household, "unit"))
    )
    if community_id is not None:
        units = units.filter(building__community_id=community_id)
    if building_id is not None:
        units = units.filter(building_id=building_id)
    if q:
        units = units.filter(Q(number__iexact=q.strip()) | Q(building__name__icontains=q))
    return units.order_by(
        "building__community__name",
        Length("building__number"),
        "building__number",
        Length("number"),
        "number",
        "id",
    )


def unit_get(scope: Scope, unit_id: int) -> Unit:
    """One visible entrance."""
    return _one(unit_list(scope), unit_id)


# --------------------------------------------------------------------------- households


def _address_filter(q: str) -> Q:
    """Match a typed address: "1-2-301" (building-entrance-room), "1-301", or one part."""
    full = _ADDRESS.match(q)
    if full:
        building, unit, room = full.groups()
        return Q(unit__building__number=building, unit__number=unit, number=room)
    two = _TWO_PARTS.match(q)
    if two:
        building, rest = two.groups()
        return Q(unit__building__number=building) & (Q(unit__number=rest) | Q(number=rest))
    text = q.strip()
    return (
        Q(number__icontains=text)
        | Q(unit__building__number__iexact=text)
        | Q(unit__building__name__icontains=text)
        | Q(note__icontains=text)
    )


def household_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str | None = None,
    grid_id: int | None = None,
    building_id: int | None = None,
    unit_id: int | None = None,
    floor: int | None = None,
    is_rented: bool | None = None,
) -> QuerySet[Household]:
    """Households the caller may see, in address order, with their entrance and building."""
    households = _visible(scope, Household.objects.all()).select_related(
        "community", "unit", "unit__building"
    )
    if community_id is not None:
        households = households.filter(community_id=community_id)
    if grid_id is not None:
        households = households.filter(unit__building__grid_id=grid_id)
    if building_id is not None:
        households = households.filter(unit__building_id=building_id)
    if unit_id is not None:
        households = households.filter(unit_id=unit_id)
    if floor is not None:
        households = households.filter(floor=floor)
    if is_rented is not None:
        households = households.filter(is_rented=is_rented)
    if q and q.strip():
        households = households.filter(_address_filter(q))
    return households.order_by(
        "community__name",
        Length("unit__building__number"),
        "unit__building__number",
        Length("unit__number"),
        "unit__number",
        "floor",
        Length("number"),
        "number",
        "id",
    )


def household_get(scope: Scope, household_id: int) -> Household:
    """One visible household."""
    return _one(household_list(scope), household_id)


def household_floors(scope: Scope, community_id: int) -> list[int]:
    """The floors that households of a community live on, for a filter list."""
    return list(
        _visible(scope, Household.objects.filter(community_id=community_id))
        .order_by("floor")
        .values_list("floor", flat=True)
        .distinct()
    )


# --------------------------------------------------------------------------- zones


def zone_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str | None = None,
    kind: str | None = None,
    is_key_area: bool | None = None,
) -> QuerySet[Zone]:
    """Zones the caller may see, key areas first."""
    zones = _visible(scope, Zone.objects.all()).select_related("community")
    if community_id is not None:
        zones = zones.filter(community_id=community_id)
    if kind:
        zones = zones.filter(kind=kind)
    if is_key_area is not None:
        zones = zones.filter(is_key_area=is_key_area)
    if q:
        zones = zones.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return zones.order_by("community__name", "-is_key_area", "name", "id")


def zone_get(scope: Scope, zone_id: int) -> Zone:
    """One visible zone."""
    return _one(zone_list(scope), zone_id)


# --------------------------------------------------------------------------- map


def _valid_geometry(value: Any) -> dict[str, Any] | None:
    """A stored geometry fit for drawing, or ``None`` (rows written around the services, by an
    import or by hand, may hold anything)."""
    if not value:
        return None
    try:
        return geo.validate_geometry(value, allowed=geo.GEOMETRY_TYPES)
    except ServiceError:
        return None


def _building_summary(building: Building) -> str:
    floors = ngettext("%(count)d floor", "%(count)d floors", building.floors) % {
        "count": building.floors
    }
    count = int(getattr(building, "household_count", 0))
    households = ngettext("%(count)d household", "%(count)d households", count) % {"count": count}
    return _("%(floors)s · %(households)s") % {"floors": floors, "households": households}


def map_features(scope: Scope, community_id: int) -> dict[str, Any]:
    """A community's boundary, buildings and zones as a GeoJSON FeatureCollection (WGS84).

    Each feature's properties say what it is (``kind``: community, building or zone), its name,
    a translated one-line ``summary``, and the ``url`` of its page.
    """
    if not can_view(scope, community_id):
        raise Http404
    community = _one(Community.objects.all(), community_id)
    features: list[dict[str, Any]] = []
    boundary = _valid_geometry(community.boundary)
    if boundary is not None:
        features.append(
            {
                "type": "Feature",
                "id": f"community-{community.pk}",
                "geometry": boundary,
                "properties": {
                    "kind": "community",
                    "id": community.pk,
                    "name": community.name,
                    "summary": community.address,
                    "url": reverse("places:community_detail", args=[community.pk]),
                },
            }
        )
    buildings = (
        Building.objects.filter(community_id=community_id, footprint__isnull=False)
        .select_related("grid")
        .annotate(household_count=_count(Household, "unit__building"))
        .order_by(Length("number"), "number", "id")
    )
    for building in buildings:
        footprint = _valid_geometry(building.footprint)
        if footprint is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": f"building-{building.pk}",
                "geometry": footprint,
                "properties": {
                    "kind": "building",
                    "id": building.pk,
                    "name": building.name,
                    "number": building.number,
                    "floors": building.floors,
                    "use": building.use,
                    "grid": building.grid.name if building.grid else "",
                    "household_count": building.household_count,
                    "summary": _building_summary(building),
                    "url": reverse("places:building_detail", args=[building.pk]),
                },
            }
        )
    for zone in Zone.objects.filter(community_id=community_id).order_by("-is_key_area", "name"):
        geometry = _valid_geometry(zone.geometry)
        if geometry is None:
            continue
        feature = zone.as_feature()
        feature["geometry"] = geometry
        kind_label = str(zone.get_kind_display())
        feature["properties"].update(
            {
                "kind_label": kind_label,
                "summary": _("%(kind)s · key area") % {"kind": kind_label}
                if zone.is_key_area
                else kind_label,
                "url": reverse("places:zone_detail", args=[zone.pk]),
            }
        )
        features.append(feature)
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    box = geo.bbox_union([geo.bbox(feature["geometry"]) for feature in features])
    if box is not None:
        collection["bbox"] = list(box)
    return collection


# --------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class PlaceCounts:
    """How many places of each kind a community (or all the caller's) holds."""

    grids: int = 0
    buildings: int = 0
    units: int = 0
    households: int = 0
    zones: int = 0
    key_areas: int = 0


def place_counts(scope: Scope, community: Community | None) -> PlaceCounts:
    """Counts for one community, or for every community the caller may see when ``None``."""
    if community is not None and not can_view(scope, community.pk):
        return PlaceCounts()

    def narrow(queryset: QuerySet[M], lookup: str = "community_id") -> QuerySet[M]:
        if community is not None:
            return queryset.filter(**{lookup: community.pk})
        return _visible(scope, queryset, lookup)

    zones = narrow(Zone.objects.all()).aggregate(
        total=Count("pk"), key=Count("pk", filter=Q(is_key_area=True))
    )
    return PlaceCounts(
        grids=narrow(Grid.objects.all()).count(),
        buildings=narrow(Building.objects.all()).count(),
        units=narrow(Unit.objects.all(), "building__community_id").count(),
        households=narrow(Household.objects.all()).count(),
        zones=zones["total"],
        key_areas=zones["key"],
    )


def place_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures of the places domain (registered in ``PlacesConfig.ready``)."""
    if community is not None:
        if not can_view(scope, community.pk):
            return []
    elif not (_platform_wide(scope) or scope.has_anywhere(VIEW)):
        return []
    counts = place_counts(scope, community)
    zones_url = reverse("places:zone_list")
    return [
        Stat("buildings", _("Buildings"), counts.buildings, reverse("places:building_list")),
        Stat("households", _("Households"), counts.households, reverse("places:household_list")),
        Stat("zones", _("Zones"), counts.zones, zones_url),
        Stat(
            "key_areas",
            _("Key areas"),
            counts.key_areas,
            f"{zones_url}?key_area=yes",
            tone="key",
        ),
    ]

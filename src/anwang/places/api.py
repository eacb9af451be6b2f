"""JSON API of the places domain: street offices, communities, grids, buildings, entrances,
households and zones, and a community's map as GeoJSON.

Reads are scoped: an object of a community the caller cannot see is 404. Writes go through
:mod:`anwang.places.services`, which need the manage-places permission in the object's
community (403 when the caller can see it but not edit it).
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.places import selectors, services
from anwang.places.choices import BuildingUse, ZoneKind
from anwang.places.models import Building, Community, Grid, Household, Region, Unit, Zone
from anwang.places.schemas import (
    BuildingIn,
    BuildingOut,
    BuildingPatch,
    CommunityIn,
    CommunityOut,
    CommunityPatch,
    FeatureCollectionOut,
    GridIn,
    GridOut,
    GridPatch,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    RegionIn,
    RegionOut,
    RegionPatch,
    UnitIn,
    UnitOut,
    UnitPatch,
    ZoneIn,
    ZoneOut,
    ZonePatch,
)

router = Router(tags=["places"])
PAGE_SIZE = 50


def _grid_or_none(scope: Scope, grid_id: int | None) -> Grid | None:
    return None if grid_id is None else selectors.grid_get(scope, grid_id)


def _grid_worker(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    worker = User.objects.filter(pk=user_id, is_active=True).first()
    if worker is None:
        # The same answer as for a user of another community, so ids cannot be probed.
        raise ServiceError(_("Choose a grid worker of this community."), field="grid_worker_id")
    return worker


# --------------------------------------------------------------------------- regions


@router.get("/regions", response=list[RegionOut], summary="List street offices")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def region_list(request: HttpRequest, q: str | None = None) -> QuerySet[Region]:
    """Street offices of the caller's communities (all, for platform administrators)."""
    return selectors.region_list(request_scope(request), q=q)


@router.post("/regions", response={201: RegionOut}, summary="Add a street office")
def region_create(request: HttpRequest, payload: RegionIn) -> Status[Region]:
    """Platform administrators only."""
    scope = request_scope(request)
    region = services.region_create(
        actor=request_actor(request), scope=scope, **payload.model_dump()
    )
    return Status(201, selectors.region_get(scope, region.pk))


@router.get("/regions/{region_id}", response=RegionOut, summary="Get a street office")
def region_get(request: HttpRequest, region_id: int) -> Region:
    """One street office."""
    return selectors.region_get(request_scope(request), region_id)


@router.patch("/regions/{region_id}", response=RegionOut, summary="Change a street office")
def region_update(request: HttpRequest, region_id: int, payload: RegionPatch) -> Region:
    """Platform administrators only."""
    scope = request_scope(request)
    region = selectors.region_get(scope, region_id)
    services.region_update(
        actor=request_actor(request),
        scope=scope,
        region=region,
        **payload.model_dump(exclude_unset=True),
    )
    return selectors.region_get(scope, region_id)


@router.delete("/regions/{region_id}", response={204: None}, summary="Delete a street office")
def region_delete(request: HttpRequest, region_id: int) -> Status[None]:
    """Platform administrators only; refused (409) while it has communities."""
    scope = request_scope(request)
    region = selectors.region_get(scope, region_id)
    services.region_delete(actor=request_actor(request), scope=scope, region=region)
    return Status(204, None)


# --------------------------------------------------------------------------- communities


@router.get("/communities", response=list[CommunityOut], summary="List communities")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def community_list(
    request: HttpRequest, q: str | None = None, region_id: int | None = None
) -> QuerySet[Community]:
    """Communities the caller may see, with their place counts."""
    return selectors.community_list(request_scope(request), q=q, region_id=region_id)


@router.post("/communities", response={201: CommunityOut}, summary="Add a community")
def community_create(request: HttpRequest, payload: CommunityIn) -> Status[Community]:
    """Platform administrators only."""
    scope = request_scope(request)
    values = payload.model_dump()
    region = selectors.region_get(scope, values.pop("region_id"))
    community = services.community_create(
        actor=request_actor(request), scope=scope, region=region, **values
    )
    return Status(201, selectors.community_get(scope, community.pk))


@router.get("/communities/{community_id}", response=CommunityOut, summary="Get a community")
def community_get(request: HttpRequest, community_id: int) -> Community:
    """One community with its place counts."""
    return selectors.community_get(request_scope(request), community_id)


@router.patch("/communities/{community_id}", response=CommunityOut, summary="Change a community")
def community_update(request: HttpRequest, community_id: int, payload: CommunityPatch) -> Community:
    """Its admins; moving it to another street office is for platform administrators."""
    scope = request_scope(request)
    community = selectors.community_get(scope, community_id)
    changes = payload.model_dump(exclude_unset=True)
    if "region_id" in changes:
        region_id = changes.pop("region_id")
        if region_id is None:
            raise ServiceError(
                _("A community always belongs to a street office."), field="region_id"
            )
        changes["region"] = selectors.region_get(scope, region_id)
    services.community_update(
        actor=request_actor(request), scope=scope, community=community, **changes
    )
    return selectors.community_get(scope, community_id)


@router.delete("/communities/{community_id}", response={204: None}, summary="Delete a community")
def community_delete(request: HttpRequest, community_id: int) -> Status[None]:
    """Platform administrators only; refused (409) while it holds any data."""
    scope = request_scope(request)
    community = selectors.community_get(scope, community_id)
    services.community_delete(actor=request_actor(request), scope=scope, community=community)
    return Status(204, None)


@router.get(
    "/communities/{community_id}/map",
    response=FeatureCollectionOut,
    summary="A community's map as GeoJSON",
)
def community_map(request: HttpRequest, community_id: int) -> dict[str, Any]:
    """The boundary, building footprints and zones of a community as one GeoJSON
    FeatureCollection (WGS84). ``properties.kind`` is community, building or zone."""
    return selectors.map_features(request_scope(request), community_id)


# --------------------------------------------------------------------------- grids


@router.get("/grids", response=list[GridOut], summary="List grids")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def grid_list(
    request: HttpRequest, community_id: int | None = None, q: str | None = None
) -> QuerySet[Grid]:
    """Grids the caller may see."""
    return selectors.grid_list(request_scope(request), community_id=community_id, q=q)


@router.post("/grids", response={201: GridOut}, summary="Add a grid")
def grid_create(request: HttpRequest, payload: GridIn) -> Status[Grid]:
    """Add a grid to a community."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = selectors.community_get(scope, values.pop("community_id"))
    values["grid_worker"] = _grid_worker(values.pop("grid_worker_id"))
    grid = services.grid_create(
        actor=request_actor(request), scope=scope, community=community, **values
    )
    return Status(201, selectors.grid_get(scope, grid.pk))


@router.get("/grids/{grid_id}", response=GridOut, summary="Get a grid")
def grid_get(request: HttpRequest, grid_id: int) -> Grid:
    """One grid."""
    return selectors.grid_get(request_scope(request), grid_id)


@router.patch("/grids/{grid_id}", response=GridOut, summary="Change a grid")
def grid_update(request: HttpRequest, grid_id: int, payload: GridPatch) -> Grid:
    """Change a grid's name, code, boundary or grid worker."""
    scope = request_scope(request)
    grid = selectors.grid_get(scope, grid_id)
    changes = payload.model_dump(exclude_unset=True)
    if "grid_worker_id" in changes:
        changes["grid_worker"] = _grid_worker(changes.pop("grid_worker_id"))
    services.grid_update(actor=request_actor(request), scope=scope, grid=grid, **changes)
    return selectors.grid_get(scope, grid_id)


@router.delete("/grids/{grid_id}", response={204: None}, summary="Delete a grid")
def grid_delete(request: HttpRequest, grid_id: int) -> Status[None]:
    """Its buildings stay, no longer in a grid."""
    scope = request_scope(request)
    grid = selectors.grid_get(scope, grid_id)
    services.grid_delete(actor=request_actor(request), scope=scope, grid=grid)
    return Status(204, None)


# --------------------------------------------------------------------------- buildings


@router.get("/buildings", response=list[BuildingOut], summary="List buildings")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def building_list(
    request: HttpRequest,
    community_id: int | None = None,
    q: str | None = None,
    grid_id: int | None = None,
    use: BuildingUse | None = None,
) -> QuerySet[Building]:
    """Buildings the caller may see, in number order."""
    return selectors.building_list(
        request_scope(request), community_id=community_id, q=q, grid_id=grid_id, use=use
    )


@router.post("/buildings", response={201: BuildingOut}, summary="Add a building")
def building_create(request: HttpRequest, payload: BuildingIn) -> Status[Building]:
    """Add a building; ``number`` is unique within the community."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = selectors.community_get(scope, values.pop("community_id"))
    values["grid"] = _grid_or_none(scope, values.pop("grid_id"))
    building = services.building_create(
        actor=request_actor(request), scope=scope, community=community, **values
    )
    return Status(201, selectors.building_get(scope, building.pk))


@router.get("/buildings/{building_id}", response=BuildingOut, summary="Get a building")
def building_get(request: HttpRequest, building_id: int) -> Building:
    """One building."""
    return selectors.building_get(request_scope(request), building_id)


@router.patch("/buildings/{building_id}", response=BuildingOut, summary="Change a building")
def building_update(request: HttpRequest, building_id: int, payload: BuildingPatch) -> Building:
    """Change a building; it cannot lose floors that households live on (409)."""
    scope = request_scope(request)
    building = selectors.building_get(scope, building_id)
    changes = payload.model_dump(exclude_unset=True)
    if "grid_id" in changes:
        changes["grid"] = _grid_or_none(scope, changes.pop("grid_id"))
    services.building_update(
        actor=request_actor(request), scope=scope, building=building, **changes
    )
    return selectors.building_get(scope, building_id)


@router.delete("/buildings/{building_id}", response={204: None}, summary="Delete a building")
def building_delete(request: HttpRequest, building_id: int) -> Status[None]:
    """Refused (409) while the building has households; its entrances go with it."""
    scope = request_scope(request)
    building = selectors.building_get(scope, building_id)
    services.building_delete(actor=request_actor(request), scope=scope, building=building)
    return Status(204, None)


# --------------------------------------------------------------------------- entrances


@router.get("/units", response=list[UnitOut], summary="List entrances")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def unit_list(
    request: HttpRequest,
    community_id: int | None = None,
    building_id: int | None = None,
    q: str | None = None,
) -> QuerySet[Unit]:
    """Entrances the caller may see."""
    return selectors.unit_list(
        request_scope(request), community_id=community_id, building_id=building_id, q=q
    )


@router.post("/units", response={201: UnitOut}, summary="Add an entrance")
def unit_create(request: HttpRequest, payload: UnitIn) -> Status[Unit]:
    """Add an entrance; ``number`` is unique within the building."""
    scope = request_scope(request)
    building = selectors.building_get(scope, payload.building_id)
    unit = services.unit_create(
        actor=request_actor(request), scope=scope, building=building, number=payload.number
    )
    return Status(201, selectors.unit_get(scope, unit.pk))


@router.get("/units/{unit_id}", response=UnitOut, summary="Get an entrance")
def unit_get(request: HttpRequest, unit_id: int) -> Unit:
    """One entrance."""
    return selectors.unit_get(request_scope(request), unit_id)


@router.patch("/units/{unit_id}", response=UnitOut, summary="Change an entrance")
def unit_update(request: HttpRequest, unit_id: int, payload: UnitPatch) -> Unit:
    """Renumber an entrance."""
    scope = request_scope(request)
    unit = selectors.unit_get(scope, unit_id)
    services.unit_update(
        actor=request_actor(request),
        scope=scope,
        unit=unit,
        **payload.model_dump(exclude_unset=True),
    )
    return selectors.unit_get(scope, unit_id)


@router.delete("/units/{unit_id}", response={204: None}, summary="Delete an entrance")
def unit_delete(request: HttpRequest, unit_id: int) -> Status[None]:
    """Refused (409) while the entrance has households."""
    scope = request_scope(request)
    unit = selectors.unit_get(scope, unit_id)
    services.unit_delete(actor=request_actor(request), scope=scope, unit=unit)
    return Status(204, None)


# --------------------------------------------------------------------------- households


@router.get("/households", response=list[HouseholdOut], summary="List households")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def household_list(
    request: HttpRequest,
    community_id: int | None = None,
    q: str | None = None,
    grid_id: int | None = None,
    building_id: int | None = None,
    unit_id: int | None = None,
    floor: int | None = None,
    is_rented: bool | None = None,
) -> QuerySet[Household]:
    """Households the caller may see, in address order; ``q`` matches an address such as
    ``3-1-502`` (building-entrance-room) or part of one."""
    return selectors.household_list(
        request_scope(request),
        community_id=community_id,
        q=q,
        grid_id=grid_id,
        building_id=building_id,
        unit_id=unit_id,
        floor=floor,
        is_rented=is_rented,
    )


@router.post("/households", response={201: HouseholdOut}, summary="Add a household")
def household_create(request: HttpRequest, payload: HouseholdIn) -> Status[Household]:
    """Add a household to an entrance; the room number is unique within the entrance."""
    scope = request_scope(request)
    values = payload.model_dump()
    unit = selectors.unit_get(scope, values.pop("unit_id"))
    household = services.household_create(
        actor=request_actor(request), scope=scope, unit=unit, **values
    )
    return Status(201, selectors.household_get(scope, household.pk))


@router.get("/households/{household_id}", response=HouseholdOut, summary="Get a household")
def household_get(request: HttpRequest, household_id: int) -> Household:
    """One household."""
    return selectors.household_get(request_scope(request), household_id)


@router.patch("/households/{household_id}", response=HouseholdOut, summary="Change a household")
def household_update(request: HttpRequest, household_id: int, payload: HouseholdPatch) -> Household:
    """Change a household; ``unit_id`` moves it to another entrance of its community."""
    scope = request_scope(request)
    household = selectors.household_get(scope, household_id)
    changes = payload.model_dump(exclude_unset=True)
    if "unit_id" in changes:
        unit_id = changes.pop("unit_id")
        if unit_id is None:
            raise ServiceError(_("A household always belongs to an entrance."), field="unit_id")
        changes["unit"] = selectors.unit_get(scope, unit_id)
    services.household_update(
        actor=request_actor(request), scope=scope, household=household, **changes
    )
    return selectors.household_get(scope, household_id)


@router.delete("/households/{household_id}", response={204: None}, summary="Delete a household")
def household_delete(request: HttpRequest, household_id: int) -> Status[None]:
    """Refused (409) while residents or binding requests refer to it."""
    scope = request_scope(request)
    household = selectors.household_get(scope, household_id)
    services.household_delete(actor=request_actor(request), scope=scope, household=household)
    return Status(204, None)


# --------------------------------------------------------------------------- zones


@router.get("/zones", response=list[ZoneOut], summary="List zones")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def zone_list(
    request: HttpRequest,
    community_id: int | None = None,
    q: str | None = None,
    kind: ZoneKind | None = None,
    is_key_area: bool | None = None,
) -> QuerySet[Zone]:
    """Zones the caller may see, key areas first."""
    return selectors.zone_list(
        request_scope(request), community_id=community_id, q=q, kind=kind, is_key_area=is_key_area
    )


@router.post("/zones", response={201: ZoneOut}, summary="Add a zone")
def zone_create(request: HttpRequest, payload: ZoneIn) -> Status[Zone]:
    """Add a zone with its GeoJSON geometry."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = selectors.community_get(scope, values.pop("community_id"))
    zone = services.zone_create(
        actor=request_actor(request), scope=scope, community=community, **values
    )
    return Status(201, zone)


@router.get("/zones/{zone_id}", response=ZoneOut, summary="Get a zone")
def zone_get(request: HttpRequest, zone_id: int) -> Zone:
    """One zone."""
    return selectors.zone_get(request_scope(request), zone_id)


@router.patch("/zones/{zone_id}", response=ZoneOut, summary="Change a zone")
def zone_update(request: HttpRequest, zone_id: int, payload: ZonePatch) -> Zone:
    """Change a zone's name, kind, shape, key-area flag or description."""
    scope = request_scope(request)
    zone = selectors.zone_get(scope, zone_id)
    return services.zone_update(
        actor=request_actor(request),
        scope=scope,
        zone=zone,
        **payload.model_dump(exclude_unset=True),
    )


@router.delete("/zones/{zone_id}", response={204: None}, summary="Delete a zone")
def zone_delete(request: HttpRequest, zone_id: int) -> Status[None]:
    """Refused (409) while other records (patrol routes, cameras, ...) refer to it."""
    scope = request_scope(request)
    zone = selectors.zone_get(scope, zone_id)
    services.zone_delete(actor=request_actor(request), scope=scope, zone=zone)
    return Status(204, None)

"""JSON API of the patrols domain: checkpoints with their signed codes, patrol routes with their
ordered stops, checking a scanned or typed code, and the printable sheet of labels.

Reads are scoped: a checkpoint or route of a community the caller cannot see is 404. Writes go
through :mod:`anwang.patrols.services`, which need the manage-patrols permission (403 when the
caller can see patrols but not edit them). A refused code answers 400 with the reason in
``code``: ``malformed``, ``forged``, ``other_community``, ``reissued`` or ``retired``.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.devices import selectors as device_selectors
from anwang.devices.models import Device
from anwang.patrols import selectors, services
from anwang.patrols.choices import Placement
from anwang.patrols.models import Checkpoint, PatrolRoute
from anwang.patrols.schemas import (
    CheckpointIn,
    CheckpointOut,
    CheckpointPatch,
    CodeCheckIn,
    CodeCheckOut,
    RouteIn,
    RouteOut,
    RoutePatch,
    StopIn,
)
from anwang.patrols.sheet import checkpoint_sheet_pdf
from anwang.places import selectors as place_selectors
from anwang.places.models import Building, Community, Zone

router = Router(tags=["patrols"])
PAGE_SIZE = 50


def community_for(scope: Scope, community_id: int) -> Community:
    """A community whose patrols the caller may see; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not selectors.can_view(scope, community_id):
        raise Http404
    return community


def _zone(scope: Scope, zone_id: int | None) -> Zone | None:
    return None if zone_id is None else place_selectors.zone_get(scope, zone_id)


def _building(scope: Scope, building_id: int | None) -> Building | None:
    return None if building_id is None else place_selectors.building_get(scope, building_id)


def _device(scope: Scope, device_id: int | None) -> Device | None:
    return None if device_id is None else device_selectors.device_get(scope, device_id)


def _stops(scope: Scope, community_id: int, stops: list[StopIn]) -> list[services.StopSpec]:
    found = selectors.checkpoints_for_route(scope, community_id, [s.checkpoint_id for s in stops])
    specs: list[services.StopSpec] = []
    for stop in stops:
        checkpoint = found.get(stop.checkpoint_id)
        if checkpoint is None:
            raise ServiceError(_("Choose checkpoints of this community."), field="stops")
        specs.append(
            services.StopSpec(
                checkpoint=checkpoint,
                dwell_seconds=stop.dwell_seconds,
                max_gap_seconds=stop.max_gap_seconds,
            )
        )
    return specs


def _route_out(scope: Scope, route: PatrolRoute) -> dict[str, Any]:
    return {
        "id": route.pk,
        "community_id": route.community_id,
        "name": route.name,
        "description": route.description,
        "is_active": route.is_active,
        "stops": list(selectors.route_stops(scope, route)),
    }


# --------------------------------------------------------------------------- checkpoints


@router.get("/patrols/checkpoints", response=list[CheckpointOut], summary="List checkpoints")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def checkpoint_list(
    request: HttpRequest,
    community_id: int | None = None,
    q: str | None = None,
    placement: Placement | None = None,
    include_retired: bool = False,
) -> QuerySet[Checkpoint]:
    """Checkpoints the caller may see; retired ones only with ``include_retired``."""
    return selectors.checkpoint_list(
        request_scope(request),
        community_id=community_id,
        q=q,
        placement=placement,
        include_retired=include_retired,
    )


@router.post("/patrols/checkpoints", response={201: CheckpointOut}, summary="Add a checkpoint")
def checkpoint_create(request: HttpRequest, payload: CheckpointIn) -> Status[Checkpoint]:
    """Add a checkpoint; it gets its first signed code."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = community_for(scope, values.pop("community_id"))
    checkpoint = services.checkpoint_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        zone=_zone(scope, values.pop("zone_id")),
        building=_building(scope, values.pop("building_id")),
        device=_device(scope, values.pop("device_id")),
        **values,
    )
    return Status(201, checkpoint)


_PDF_RESPONSE = {
    "responses": {
        "200": {
            "description": "The labels as a PDF (attachment), eight to an A4 page.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/patrols/checkpoints/sheet.pdf",
    summary="Print checkpoint labels (PDF)",
    openapi_extra=_PDF_RESPONSE,
)
def checkpoint_sheet(
    request: HttpRequest,
    community_id: int,
    patrol_route_id: int | None = None,
    checkpoint_ids: Query[list[int] | None] = None,
) -> HttpResponse:
    """Labels with community, checkpoint name, QR code and code to type, for a route's
    checkpoints, the chosen ones, or all of the community's checkpoints in use."""
    scope = request_scope(request)
    community = community_for(scope, community_id)
    route = None
    if patrol_route_id is not None:
        route = selectors.patrol_route_get(scope, patrol_route_id)
        if route.community_id != community.pk:
            raise Http404
    checkpoints = selectors.sheet_checkpoints(
        scope, community.pk, checkpoint_ids=checkpoint_ids, route=route
    )
    content = checkpoint_sheet_pdf(community_name=community.name, checkpoints=checkpoints)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="checkpoints-{community.pk}.pdf"'
    return response


@router.post(
    "/patrols/checkpoints/verify", response=CodeCheckOut, summary="Check a checkpoint code"
)
def checkpoint_verify(request: HttpRequest, payload: CodeCheckIn) -> dict[str, Any]:
    """The checkpoint a scanned or typed code belongs to; 400 with the reason in ``code``
    otherwise."""
    scope = request_scope(request)
    community = community_for(scope, payload.community_id)
    checkpoint = services.checkpoint_code_verify(
        actor=request_actor(request), scope=scope, community=community, code=payload.code
    )
    return {"checkpoint": checkpoint.pk, "name": checkpoint.name, "community": community.pk}


@router.get(
    "/patrols/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="Get a checkpoint"
)
def checkpoint_get(request: HttpRequest, checkpoint_id: int) -> Checkpoint:
    """One checkpoint, retired or not."""
    return selectors.checkpoint_get(request_scope(request), checkpoint_id)


@router.patch(
    "/patrols/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="Change a checkpoint"
)
def checkpoint_update(
    request: HttpRequest, checkpoint_id: int, payload: CheckpointPatch
) -> Checkpoint:
    """Change a checkpoint in use; its code stays the same."""
    scope = request_scope(request)
    checkpoint = selectors.checkpoint_get(scope, checkpoint_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "zone_id" in values:
        values["zone"] = _zone(scope, values.pop("zone_id"))
    if "building_id" in values:
        values["building"] = _building(scope, values.pop("building_id"))
    if "device_id" in values:
        values["device"] = _device(scope, values.pop("device_id"))
    return services.checkpoint_update(
        actor=request_actor(request), scope=scope, checkpoint=checkpoint, **values
    )


@router.post(
    "/patrols/checkpoints/{checkpoint_id}/retire",
    response=CheckpointOut,
    summary="Retire a checkpoint",
)
def checkpoint_retire(request: HttpRequest, checkpoint_id: int) -> Checkpoint:
    """Take a checkpoint out of use; its code stops verifying."""
    scope = request_scope(request)
    checkpoint = selectors.checkpoint_get(scope, checkpoint_id)
    return services.checkpoint_retire(
        actor=request_actor(request), scope=scope, checkpoint=checkpoint
    )


@router.post(
    "/patrols/checkpoints/{checkpoint_id}/reissue-code",
    response=CheckpointOut,
    summary="Re-issue a checkpoint's code",
)
def checkpoint_reissue_code(request: HttpRequest, checkpoint_id: int) -> Checkpoint:
    """Give the checkpoint a new code; labels with the old one are refused from now on."""
    scope = request_scope(request)
    checkpoint = selectors.checkpoint_get(scope, checkpoint_id)
    return services.checkpoint_code_reissue(
        actor=request_actor(request), scope=scope, checkpoint=checkpoint
    )


# --------------------------------------------------------------------------- routes


@router.get("/patrols/routes", response=list[RouteOut], summary="List patrol routes")
def route_list(
    request: HttpRequest, community_id: int | None = None, q: str | None = None
) -> list[dict[str, Any]]:
    """Routes the caller may see, each with its ordered stops."""
    scope = request_scope(request)
    routes = selectors.patrol_route_list(scope, community_id=community_id, q=q)
    stops = selectors.stops_of_routes(scope, routes)
    return [
        {
            "id": route.pk,
            "community_id": route.community_id,
            "name": route.name,
            "description": route.description,
            "is_active": route.is_active,
            "stops": stops.get(route.pk, []),
        }
        for route in routes
    ]


@router.post("/patrols/routes", response={201: RouteOut}, summary="Add a patrol route")
def route_create(request: HttpRequest, payload: RouteIn) -> Status[dict[str, Any]]:
    """Add a route with its stops in order."""
    scope = request_scope(request)
    community = community_for(scope, payload.community_id)
    if not selectors.can_manage(scope, community.pk):
        # Refused before the stops are looked up, so a viewer learns nothing about them.
        raise PermissionDenied
    route = services.patrol_route_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        name=payload.name,
        description=payload.description,
        is_active=payload.is_active,
        stops=_stops(scope, community.pk, payload.stops),
    )
    return Status(201, _route_out(scope, route))


@router.get("/patrols/routes/{patrol_route_id}", response=RouteOut, summary="Get a patrol route")
def route_get(request: HttpRequest, patrol_route_id: int) -> dict[str, Any]:
    """One route with its ordered stops."""
    scope = request_scope(request)
    return _route_out(scope, selectors.patrol_route_get(scope, patrol_route_id))


@router.patch(
    "/patrols/routes/{patrol_route_id}", response=RouteOut, summary="Change a patrol route"
)
def route_update(request: HttpRequest, patrol_route_id: int, payload: RoutePatch) -> dict[str, Any]:
    """Change a route; ``stops``, when given, replaces all of them in that order."""
    scope = request_scope(request)
    actor = request_actor(request)
    route = selectors.patrol_route_get(scope, patrol_route_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    stops = values.pop("stops", None)
    # One change: a refused stop list leaves the name and description as they were.
    with transaction.atomic():
        route = services.patrol_route_update(actor=actor, scope=scope, route=route, **values)
        if stops is not None:
            specs = _stops(scope, route.community_id, payload.stops or [])
            services.patrol_route_set_stops(actor=actor, scope=scope, route=route, stops=specs)
    return _route_out(scope, route)


@router.delete(
    "/patrols/routes/{patrol_route_id}", response={204: None}, summary="Delete a patrol route"
)
def route_delete(request: HttpRequest, patrol_route_id: int) -> Status[None]:
    """Delete a route and its stops; the checkpoints stay."""
    scope = request_scope(request)
    route = selectors.patrol_route_get(scope, patrol_route_id)
    services.patrol_route_delete(actor=request_actor(request), scope=scope, route=route)
    return Status(204, None)

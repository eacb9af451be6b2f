"""Reads of the patrols domain, already scoped to what the caller may see.

A ``*_get`` of a checkpoint or route in a community the caller cannot see raises
:class:`Http404`. Checkpoint codes are credentials of presence (whoever holds one can prove a
visit), so only people who manage patrols see or print them: :func:`can_see_codes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.patrols.models import Checkpoint, PatrolRoute, RouteStop

VIEW = Permission.VIEW_PATROLS
MANAGE = Permission.MANAGE_PATROLS
M = TypeVar("M", Checkpoint, PatrolRoute)
_CHECKPOINT_RELATED = ("community", "zone", "building", "device")


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the routes and checkpoints of a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may edit routes and checkpoints and print codes in a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


can_see_codes = can_manage


def _visible(scope: Scope, queryset: QuerySet[M]) -> QuerySet[M]:
    if acts_platform_wide(scope):
        return queryset
    return scope.filter(queryset, VIEW, "community_id")


def checkpoint_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str | None = None,
    placement: str | None = None,
    include_retired: bool = False,
) -> QuerySet[Checkpoint]:
    """Checkpoints the caller may see (in use only, unless ``include_retired``)."""
    checkpoints = _visible(scope, Checkpoint.objects.all()).select_related(*_CHECKPOINT_RELATED)
    if community_id is not None:
        checkpoints = checkpoints.filter(community_id=community_id)
    if not include_retired:
        checkpoints = checkpoints.filter(retired_at__isnull=True)
    if placement:
        checkpoints = checkpoints.filter(placement=placement)
    if q and q.strip():
        text = q.strip()
        checkpoints = checkpoints.filter(
            Q(name__icontains=text) | Q(nfc_tag_id__icontains=text) | Q(note__icontains=text)
        )
    return checkpoints.order_by("community__name", "name", "id")


def checkpoint_get(scope: Scope, checkpoint_id: int) -> Checkpoint:
    """One visible checkpoint, retired or not."""
    found = checkpoint_list(scope, include_retired=True).filter(pk=checkpoint_id).first()
    if found is None:
        raise Http404
    return found


def checkpoints_for_route(
    scope: Scope, community_id: int, checkpoint_ids: Iterable[int]
) -> dict[int, Checkpoint]:
    """The visible checkpoints of one community among ``checkpoint_ids``, by id; an id of
    another community or unknown is missing from the answer."""
    ids = set(checkpoint_ids)
    found = checkpoint_list(scope, community_id=community_id, include_retired=True).filter(
        pk__in=ids
    )
    return {checkpoint.pk: checkpoint for checkpoint in found}


def patrol_route_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str | None = None,
    include_inactive: bool = True,
) -> QuerySet[PatrolRoute]:
    """Routes the caller may see, each with ``stop_count``."""
    routes = _visible(scope, PatrolRoute.objects.all()).select_related("community")
    if community_id is not None:
        routes = routes.filter(community_id=community_id)
    if not include_inactive:
        routes = routes.filter(is_active=True)
    if q and q.strip():
        routes = routes.filter(name__icontains=q.strip())
    return routes.annotate(stop_count=Count("stops")).order_by("community__name", "name", "id")


def patrol_route_get(scope: Scope, route_id: int) -> PatrolRoute:
    """One visible route."""
    found = patrol_route_list(scope).filter(pk=route_id).first()
    if found is None:
        raise Http404
    return found


def route_stops(scope: Scope, route: PatrolRoute) -> QuerySet[RouteStop]:
    """The stops of a visible route, in order, with their checkpoints."""
    if not can_view(scope, route.community_id):
        raise Http404
    related = [f"checkpoint__{name}" for name in _CHECKPOINT_RELATED]
    return route.stops.select_related("checkpoint", *related).order_by("order")


def stops_of_routes(scope: Scope, routes: Iterable[PatrolRoute]) -> dict[int, list[RouteStop]]:
    """The stops of several visible routes in order, by route id, in one query."""
    ids = [route.pk for route in routes if can_view(scope, route.community_id)]
    found: dict[int, list[RouteStop]] = {}
    stops = RouteStop.objects.filter(route_id__in=ids).select_related("checkpoint")
    for stop in stops.order_by("route_id", "order"):
        found.setdefault(stop.route_id, []).append(stop)
    return found


def sheet_checkpoints(
    scope: Scope,
    community_id: int,
    *,
    checkpoint_ids: Iterable[int] | None = None,
    route: PatrolRoute | None = None,
) -> list[Checkpoint]:
    """The checkpoints in use to print labels for: those of a route (in its order, each once),
    the chosen ones, or all of the community. Only for those who may see codes."""
    if not can_see_codes(scope, community_id):
        if can_view(scope, community_id):
            raise PermissionDenied
        raise Http404
    if route is not None:
        seen: dict[int, Checkpoint] = {}
        for stop in route_stops(scope, route):
            if stop.checkpoint.retired_at is None:
                seen.setdefault(stop.checkpoint_id, stop.checkpoint)
        return list(seen.values())
    checkpoints = checkpoint_list(scope, community_id=community_id)
    if checkpoint_ids is not None:
        checkpoints = checkpoints.filter(pk__in=set(checkpoint_ids))
    return list(checkpoints)


def map_features(
    scope: Scope, community_id: int, *, route: PatrolRoute | None = None
) -> dict[str, Any]:
    """A community's checkpoints in use (or a route's stops) as a GeoJSON FeatureCollection
    (WGS84); checkpoints without a known position are left out."""
    if not can_view(scope, community_id):
        raise Http404
    if route is not None:
        checkpoints = [stop.checkpoint for stop in route_stops(scope, route)]
    else:
        checkpoints = list(checkpoint_list(scope, community_id=community_id))
    features: list[dict[str, Any]] = []
    for number, checkpoint in enumerate(checkpoints, start=1):
        feature = checkpoint.as_feature()
        if feature is None:
            continue
        feature["properties"].update(
            {
                # The map colours points by a device status; a checkpoint in use is "online".
                "status": "offline" if checkpoint.is_retired else "online",
                "status_label": str(_("Retired") if checkpoint.is_retired else _("In use")),
                "kind_label": ": ".join(
                    part
                    for part in (str(checkpoint.get_placement_display()), checkpoint.place_label)
                    if part
                ),
                "url": reverse("patrols:checkpoint_detail", args=[checkpoint.pk]),
            }
        )
        if route is not None:
            feature["id"] = f"stop-{number}"
            feature["properties"]["name"] = f"{number}. {checkpoint.name}"
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}

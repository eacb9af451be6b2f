"""Reads of the patrols domain, already scoped to what the caller may see.

A ``*_get`` of a checkpoint or route in a community the caller cannot see raises
:class:`Http404`. Checkpoint codes are credentials of presence (whoever holds one can prove a
visit), so only people who manage patrols see or print them: :func:`can_see_codes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.patrols.choices import CheckInStatus, RunStatus
from anwang.patrols.models import CheckIn, Checkpoint, PatrolRoute, PatrolRun, RouteStop

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


# --------------------------------------------------------------------------- runs

RUN = Permission.RUN_PATROLS


def can_oversee_runs(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller sees every patrol run of a community, not only their own (a run's
    check-ins are a person's movements): platform administrators and holders of
    ``view_patrol_runs`` there (supervisors, community admins, operators). Guards and
    volunteers see their own runs."""
    if acts_platform_wide(scope):
        return True
    return community_id is not None and scope.has(Permission.VIEW_PATROL_RUNS, community_id)


def can_abandon(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may abandon or correct runs of a community."""
    return can_manage(scope, community_id)


def _visible_runs(scope: Scope) -> QuerySet[PatrolRun]:
    runs = PatrolRun.objects.all()
    if acts_platform_wide(scope):
        return runs
    overseen = [cid for cid in scope.community_ids(VIEW) if can_oversee_runs(scope, cid)]
    own = scope.community_ids(RUN)
    return runs.filter(
        Q(community_id__in=overseen)
        | Q(community_id__in=own, guard_id=getattr(scope.user, "pk", None))
    )


def patrol_run_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    route_id: int | None = None,
    guard_id: int | None = None,
    status: str | None = None,
    day: dt.date | None = None,
    mine: bool = False,
) -> QuerySet[PatrolRun]:
    """Runs the caller may see (guards: their own; overseers: all of their communities), newest
    first, each with ``accepted_count``, ``rejected_count`` and ``far_count``."""
    runs = _visible_runs(scope).select_related("community", "guard", "route")
    if mine:
        runs = runs.filter(guard_id=getattr(scope.user, "pk", None))
    if community_id is not None:
        runs = runs.filter(community_id=community_id)
    if route_id is not None:
        runs = runs.filter(route_id=route_id)
    if guard_id is not None:
        runs = runs.filter(guard_id=guard_id)
    if status:
        runs = runs.filter(status=status)
    if day is not None:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        runs = runs.filter(started_at__gte=start, started_at__lt=start + dt.timedelta(days=1))
    accepted = Q(check_ins__status=CheckInStatus.ACCEPTED)
    return runs.annotate(
        accepted_count=Count("check_ins", filter=accepted),
        rejected_count=Count("check_ins", filter=Q(check_ins__status=CheckInStatus.REJECTED)),
        far_count=Count("check_ins", filter=accepted & Q(check_ins__far=True)),
    ).order_by("-started_at", "-id")


def patrol_run_get(scope: Scope, run_id: int) -> PatrolRun:
    """One visible run."""
    found = _visible_runs(scope).select_related("community", "guard", "route").filter(pk=run_id)
    run = found.first()
    if run is None:
        raise Http404
    return run


def current_run(scope: Scope) -> PatrolRun | None:
    """The caller's run in progress, if any (one at a time)."""
    if scope.user is None:
        return None
    return (
        PatrolRun.objects.filter(
            guard_id=scope.user.pk,
            status=RunStatus.IN_PROGRESS,
            community_id__in=scope.community_ids(RUN),
        )
        .select_related("community", "route")
        .first()
    )


def routes_to_run(scope: Scope) -> QuerySet[PatrolRoute]:
    """Active routes with stops the caller may walk, each with ``stop_count``."""
    routes = PatrolRoute.objects.filter(
        community_id__in=scope.community_ids(RUN), is_active=True
    ).select_related("community")
    return (
        routes.annotate(stop_count=Count("stops"))
        .filter(stop_count__gt=0)
        .order_by("community__name", "name", "id")
    )


def run_check_ins(scope: Scope, run: PatrolRun) -> list[CheckIn]:
    """A visible run's check-ins, accepted and refused, in the order they were made."""
    if not _visible_runs(scope).filter(pk=run.pk).exists():
        raise Http404
    check_ins = list(run.check_ins.select_related("checkpoint").order_by("scanned_at", "id"))
    for check_in in check_ins:
        check_in.run = run  # already loaded: no query per check-in for its run
    return check_ins


def check_in_get(scope: Scope, check_in_id: int) -> CheckIn:
    """One check-in of a visible run."""
    found = (
        CheckIn.objects.filter(run__in=_visible_runs(scope), pk=check_in_id)
        .select_related("run", "checkpoint")
        .first()
    )
    if found is None:
        raise Http404
    return found


@dataclass
class PlannedStop:
    """One stop of a run's plan with what became of it."""

    number: int
    checkpoint_id: int
    name: str
    dwell_seconds: int
    max_gap_seconds: int
    check_in: CheckIn | None = None
    position: list[float] | None = None
    nfc_tag_id: str = ""


def run_progress(run: PatrolRun, check_ins: Iterable[CheckIn]) -> list[PlannedStop]:
    """The run's planned stops, each with the accepted check-in that covered it (a checkpoint
    that recurs is matched to its occurrences in the order of the check-ins)."""
    stops = [
        PlannedStop(
            number=number,
            checkpoint_id=int(item["checkpoint"]),
            name=str(item.get("name", "")),
            dwell_seconds=int(item.get("dwell_seconds", 0)),
            max_gap_seconds=int(item.get("max_gap_seconds", 0)),
        )
        for number, item in enumerate(run.plan or [], start=1)
    ]
    checkpoints = Checkpoint.objects.filter(pk__in={stop.checkpoint_id for stop in stops})
    found = {
        checkpoint.pk: checkpoint for checkpoint in checkpoints.select_related(*_CHECKPOINT_RELATED)
    }
    for stop in stops:
        checkpoint = found.get(stop.checkpoint_id)
        where = None if checkpoint is None else checkpoint.position()
        stop.position = None if where is None else list(where)
        stop.nfc_tag_id = "" if checkpoint is None else checkpoint.nfc_tag_id
    for check_in in sorted(check_ins, key=lambda c: (c.scanned_at, c.pk or 0)):
        if not check_in.is_accepted:
            continue
        for stop in stops:
            if stop.check_in is None and stop.checkpoint_id == check_in.checkpoint_id:
                stop.check_in = check_in
                break
    return stops


def run_features(run: PatrolRun, check_ins: Iterable[CheckIn]) -> dict[str, Any]:
    """A run on a map (WGS84 GeoJSON): its planned checkpoints, numbered in order, and where
    each check-in was made (far ones marked), and the guard's last known position."""
    plan_ids = [int(item["checkpoint"]) for item in run.plan or []]
    checkpoints = {
        checkpoint.pk: checkpoint
        for checkpoint in Checkpoint.objects.filter(pk__in=set(plan_ids)).select_related(
            *_CHECKPOINT_RELATED
        )
    }
    features: list[dict[str, Any]] = []
    for number, checkpoint_id in enumerate(plan_ids, start=1):
        checkpoint = checkpoints.get(checkpoint_id)
        feature = checkpoint.as_feature() if checkpoint is not None else None
        if feature is None or checkpoint is None:
            continue
        feature["id"] = f"stop-{number}"
        feature["properties"].update(
            {
                "name": f"{number}. {checkpoint.name}",
                "status": "unknown",
                "status_label": str(_("Checkpoint")),
                "kind_label": checkpoint.place_label,
                "url": reverse("patrols:checkpoint_detail", args=[checkpoint.pk]),
            }
        )
        features.append(feature)
    for check_in in check_ins:
        if check_in.latitude is None or check_in.longitude is None:
            continue
        if not check_in.is_accepted:
            status, label = "offline", str(_("Rejected"))
        elif check_in.far:
            status, label = "offline", str(_("Far from the checkpoint"))
        else:
            status, label = "online", str(_("Accepted"))
        name = check_in.checkpoint.name if check_in.checkpoint else check_in.code
        features.append(
            {
                "type": "Feature",
                "id": f"check-in-{check_in.pk}",
                "geometry": {
                    "type": "Point",
                    "coordinates": [check_in.longitude, check_in.latitude],
                },
                "properties": {
                    "kind": "check_in",
                    "id": check_in.pk,
                    "name": f"{_('Check-in')}: {name}",
                    "status": status,
                    "status_label": label,
                    "kind_label": timezone.localtime(check_in.scanned_at).strftime("%H:%M:%S"),
                    "far": check_in.far,
                },
            }
        )
    last = run.last_position()
    if last is not None:
        features.append(
            {
                "type": "Feature",
                "id": "last-position",
                "geometry": {"type": "Point", "coordinates": list(last)},
                "properties": {
                    "kind": "guard",
                    "name": str(_("Last known position")),
                    "status": "unknown",
                    "status_label": str(_("Guard")),
                    "kind_label": ""
                    if run.last_position_at is None
                    else timezone.localtime(run.last_position_at).strftime("%H:%M:%S"),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class Whereabouts:
    """What the patrols app knows of where a guard is: the route of the run they are on, and
    their last accepted check-in (when and at which checkpoint)."""

    on_route: str | None
    last_check_in_at: dt.datetime | None
    last_checkpoint: str | None


def guard_whereabouts(community_id: int, user_ids: Iterable[int]) -> dict[int, Whereabouts]:
    """The whereabouts of these people in the community's patrols, by user id (two queries,
    however many people). Unscoped: for pages that show them to whoever may dispatch there."""
    wanted = list(user_ids)
    if not wanted:
        return {}
    on_route = dict(
        PatrolRun.objects.filter(
            community_id=community_id, guard_id__in=wanted, status=RunStatus.IN_PROGRESS
        ).values_list("guard_id", "route_name")
    )
    last = CheckIn.objects.filter(
        run__community_id=community_id,
        run__guard_id=OuterRef("guard_id"),
        status=CheckInStatus.ACCEPTED,
    ).order_by("-scanned_at", "-pk")
    latest = (
        PatrolRun.objects.filter(community_id=community_id, guard_id__in=wanted)
        .order_by()
        .values("guard_id")
        .distinct()
        .annotate(
            at=Subquery(last.values("scanned_at")[:1]),
            checkpoint=Subquery(last.values("checkpoint__name")[:1]),
        )
    )
    seen = {row["guard_id"]: (row["at"], row["checkpoint"]) for row in latest}
    return {
        user_id: Whereabouts(
            on_route=on_route.get(user_id),
            last_check_in_at=seen.get(user_id, (None, None))[0],
            last_checkpoint=seen.get(user_id, (None, None))[1],
        )
        for user_id in wanted
    }

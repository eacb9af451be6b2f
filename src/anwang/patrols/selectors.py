"""Reads of the patrols domain, already scoped to what the caller may see.

A ``*_get`` of a checkpoint or route in a community the caller cannot see raises
:class:`Http404`. Checkpoint codes are credentials of presence (whoever holds one can prove a
visit), so only people who manage patrols see or print them: :func:`can_see_codes`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.ical import CalendarEntry, calendar_ics
from anwang.patrols.choices import CheckInStatus, RunOrder, RunStatus, ShiftStatus
from anwang.patrols.models import (
    CalendarFeed,
    CheckIn,
    Checkpoint,
    PatrolRoute,
    PatrolRun,
    PatrolSchedule,
    RouteStop,
)
from anwang.patrols.monitoring import GRACE_SECONDS, RunTiming, run_timing
from anwang.patrols.schedules import (
    Shift,
    later,
    planned_order,
    planned_start,
    rule_for_calendar,
    shifts,
)

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


# --------------------------------------------------------------------------- schedules

OPEN_BEFORE = dt.timedelta(minutes=15)
"""How long before a shift's planned start its guard may see the plan and start the run."""


def plan_key() -> bytes:
    """The secret key of shift plans (random start and order), derived from
    ``ANWANG_INDEX_KEY`` with its own label so it says nothing about checkpoint codes."""
    return hashlib.sha256(b"anwang-patrol-plan:" + settings.ANWANG_INDEX_KEY.encode()).digest()


def route_seconds(stops: Iterable[RouteStop]) -> int:
    """About how long walking the stops takes: each dwell plus the allowed gap between stops."""
    listed = list(stops)
    return sum(stop.dwell_seconds for stop in listed) + sum(
        stop.max_gap_seconds for stop in listed[:-1]
    )


def _route_stops(schedule: PatrolSchedule) -> list[RouteStop]:
    # Prefetched by the list selectors; ordered in Python so the prefetch is used.
    return sorted(schedule.route.stops.all(), key=lambda stop: stop.order)


def shift_planned_start(schedule: PatrolSchedule, shift: Shift) -> dt.datetime:
    """When the run of a shift is to start (secret when the start is randomised)."""
    return planned_start(
        shift=shift,
        key=plan_key(),
        schedule_id=schedule.pk,
        route_seconds=route_seconds(_route_stops(schedule)),
        randomise=schedule.random_start,
    )


def shift_opens_at(schedule: PatrolSchedule, shift: Shift) -> dt.datetime:
    """From when the shift's guards see its plan and may start its run: :data:`OPEN_BEFORE`
    before the planned start, in real time (wall-time arithmetic is off across a
    daylight-saving change)."""
    return later(shift_planned_start(schedule, shift), -OPEN_BEFORE)


def shift_stop_order(schedule: PatrolSchedule, shift_key: str) -> list[int]:
    """The 0-based positions of the route's stops in the order the shift's run walks them."""
    positions = list(range(len(_route_stops(schedule))))
    return planned_order(
        stop_ids=positions,
        key=plan_key(),
        schedule_id=schedule.pk,
        shift_key=shift_key,
        randomise=schedule.order_mode == RunOrder.RANDOM,
    )


def shift_first_due(schedule: PatrolSchedule, shift: Shift) -> dt.datetime | None:
    """When a shift's first checkpoint would be missed had its run started at the planned
    start (the first stop walked is due its gap after the start, plus the grace; see
    :mod:`anwang.patrols.monitoring`); ``None`` when the route has no checkpoint in use."""
    stops = _route_stops(schedule)
    walked = [
        stops[index]
        for index in shift_stop_order(schedule, shift.key)
        if stops[index].checkpoint.retired_at is None
    ]
    if not walked:
        return None
    allowed = dt.timedelta(seconds=walked[0].max_gap_seconds + GRACE_SECONDS)
    return later(shift_planned_start(schedule, shift), allowed)


def _zone() -> dt.tzinfo:
    # Shifts repeat in the installation's wall time (ANWANG_TIME_ZONE), whatever zone a
    # request may have activated.
    return timezone.get_default_timezone()


def schedule_shifts_between(
    schedule: PatrolSchedule, since: dt.datetime, until: dt.datetime
) -> list[Shift]:
    """The schedule's shifts overlapping ``[since, until)``, in the community's wall time."""
    return shifts(
        rule=schedule.rrule,
        first_start=schedule.first_start.astimezone(_zone()),
        duration=schedule.duration,
        since=since,
        until=until,
    )


def schedule_shift(schedule: PatrolSchedule, shift_key: str) -> Shift | None:
    """The shift of a schedule with this key, or ``None`` when the rule has no such shift."""
    try:
        local = dt.datetime.strptime(shift_key, "%Y%m%dT%H%M").replace(tzinfo=_zone())
    except ValueError:
        return None
    for shift in schedule_shifts_between(schedule, local, local + dt.timedelta(minutes=1)):
        if shift.key == shift_key:
            return shift
    return None


def assigned_user_ids(schedule: PatrolSchedule) -> set[int]:
    """The users assigned to a schedule: its guards and the approved volunteers of its teams
    (uses the prefetched ``guards`` and ``teams__members``)."""
    from anwang.volunteers.choices import VolunteerStatus

    ids = {guard.pk for guard in schedule.guards.all()}
    for team in schedule.teams.all():
        ids |= {
            member.user_id
            for member in team.members.all()
            if member.status == VolunteerStatus.APPROVED
        }
    return ids


def _assigned_to(user_id: int | None) -> Q:
    from anwang.volunteers.choices import VolunteerStatus

    return Q(guards=user_id) | Q(
        teams__members__user_id=user_id, teams__members__status=VolunteerStatus.APPROVED
    )


def _visible_schedules(scope: Scope) -> QuerySet[PatrolSchedule]:
    schedules = PatrolSchedule.objects.all()
    if acts_platform_wide(scope):
        return schedules
    return scope.filter(schedules, VIEW, "community_id")


def patrol_schedule_list(
    scope: Scope, *, community_id: int | None = None, active: bool | None = None
) -> QuerySet[PatrolSchedule]:
    """Schedules of the communities whose patrols the caller sees, with route stops and
    guards prefetched."""
    schedules = _visible_schedules(scope)
    if community_id is not None:
        schedules = schedules.filter(community_id=community_id)
    if active is not None:
        schedules = schedules.filter(is_active=active)
    return (
        schedules.select_related("community", "route")
        .prefetch_related("guards", "teams__members", "route__stops__checkpoint")
        .order_by("community__name", "name", "id")
    )


def patrol_schedule_get(scope: Scope, schedule_id: int) -> PatrolSchedule:
    """One visible schedule; 404 otherwise."""
    found = patrol_schedule_list(scope).filter(pk=schedule_id).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class ShiftView:
    """One shift as the caller may see it: the plan (``planned_start``, ``stop_names``) only
    for managers and, from 15 minutes before the planned start, for its assigned guards."""

    schedule: PatrolSchedule
    shift: Shift
    status: str
    run: PatrolRun | None
    planned_start: dt.datetime | None
    stop_names: list[str] | None
    can_start: bool

    @property
    def key(self) -> str:
        """The shift's key."""
        return self.shift.key


def _shift_views(
    scope: Scope, schedules: Iterable[PatrolSchedule], since: dt.datetime, until: dt.datetime
) -> list[ShiftView]:
    now = timezone.now()
    user_id = getattr(scope.user, "pk", None)
    found: list[tuple[PatrolSchedule, Shift]] = []
    for schedule in schedules:
        found.extend((schedule, shift) for shift in schedule_shifts_between(schedule, since, until))
    runs: dict[tuple[int, str], PatrolRun] = {}
    if found:
        for run in PatrolRun.objects.filter(
            schedule_id__in={schedule.pk for schedule, _shift in found},
            shift_key__in={shift.key for _schedule, shift in found},
        ).exclude(status=RunStatus.ABANDONED):
            assert run.schedule_id is not None
            runs[(run.schedule_id, run.shift_key)] = run
    views = []
    for schedule, shift in found:
        shift_run = runs.get((schedule.pk, shift.key))
        if shift_run is not None:
            status = ShiftStatus.IN_PROGRESS if shift_run.is_open else ShiftStatus.DONE
        elif shift.end <= now:
            status = ShiftStatus.MISSED
        else:
            status = ShiftStatus.NOT_STARTED
        start = shift_planned_start(schedule, shift)
        opens = later(start, -OPEN_BEFORE)
        assigned = user_id in assigned_user_ids(schedule)
        revealed = can_manage(scope, schedule.community_id) or (assigned and now >= opens)
        names: list[str] | None = None
        if revealed:
            stops = _route_stops(schedule)
            order = shift_stop_order(schedule, shift.key)
            # As the run will be planned: retired checkpoints are skipped.
            names = [
                str(stops[index].checkpoint.name)
                for index in order
                if stops[index].checkpoint.retired_at is None
            ]
        views.append(
            ShiftView(
                schedule=schedule,
                shift=shift,
                status=status,
                run=shift_run,
                planned_start=start if revealed else None,
                stop_names=names,
                can_start=(
                    assigned
                    and schedule.is_active
                    and shift_run is None
                    and opens <= now < shift.end
                ),
            )
        )
    views.sort(key=lambda view: (view.shift.start, view.schedule.name))
    return views


def schedule_shift_list(
    scope: Scope, schedule: PatrolSchedule, *, since: dt.datetime, until: dt.datetime
) -> list[ShiftView]:
    """The shifts of one visible schedule in ``[since, until)`` with their run status."""
    return _shift_views(scope, [schedule], since, until)


def community_shift_list(
    scope: Scope, community_id: int, *, since: dt.datetime, until: dt.datetime
) -> list[ShiftView]:
    """The shifts of a community's active schedules in ``[since, until)``."""
    schedules = patrol_schedule_list(scope, community_id=community_id, active=True)
    return _shift_views(scope, schedules, since, until)


def my_shift_list(scope: Scope, *, since: dt.datetime, until: dt.datetime) -> list[ShiftView]:
    """The caller's own shifts (active schedules they are assigned to, in communities where
    they may run patrols) in ``[since, until)``."""
    user_id = getattr(scope.user, "pk", None)
    if user_id is None:
        return []
    schedules = (
        PatrolSchedule.objects.filter(
            _assigned_to(user_id), is_active=True, community_id__in=scope.community_ids(RUN)
        )
        .distinct()
        .select_related("community", "route")
        .prefetch_related("guards", "teams__members", "route__stops__checkpoint")
    )
    return _shift_views(scope, schedules, since, until)


def my_schedules(scope: Scope) -> QuerySet[PatrolSchedule]:
    """The active schedules the caller is assigned to (for their calendar)."""
    user_id = getattr(scope.user, "pk", None)
    return (
        PatrolSchedule.objects.filter(
            _assigned_to(user_id), is_active=True, community_id__in=scope.community_ids(RUN)
        )
        .distinct()
        .select_related("community", "route")
    )


def schedules_calendar(schedules: Iterable[PatrolSchedule], *, name: str) -> bytes:
    """An iCalendar file of schedules: each one repeating event over the shift windows, never
    with the secret planned start or order of a shift."""
    zone = _zone()
    entries = [
        CalendarEntry(
            uid=f"patrol-schedule-{schedule.pk}@anwang",
            summary=f"{schedule.name} · {schedule.route.name}",
            start=schedule.first_start.astimezone(zone),
            duration=schedule.duration,
            rule=rule_for_calendar(schedule.rrule, zone),
            updated_at=schedule.updated_at,
            description=schedule.note,
            location=str(schedule.community.name),
        )
        for schedule in schedules
    ]
    return calendar_ics(entries, name=name)


def patrol_guard_choices(scope: Scope, community_id: int) -> QuerySet[User]:
    """People who may be assigned to a community's schedules: members whose role there lets
    them run patrols (guards, volunteers, ...); for those who manage its patrols."""
    from anwang.accounts.roles import ROLE_PERMISSIONS

    if not can_manage(scope, community_id):
        return User.objects.none()
    roles = [role for role, granted in ROLE_PERMISSIONS.items() if RUN in granted]
    return (
        User.objects.filter(
            memberships__community_id=community_id, memberships__role__in=roles, is_active=True
        )
        .distinct()
        .order_by("display_name", "username")
    )


def calendar_token_hash(token: str) -> str:
    """The stored form of a calendar link token."""
    return hashlib.sha256(b"anwang-patrol-calendar:" + token.encode()).hexdigest()


def calendar_feed_user(token: str) -> User | None:
    """The active user a calendar link token belongs to, or ``None``."""
    feed = (
        CalendarFeed.objects.filter(token_hash=calendar_token_hash(token), user__is_active=True)
        .select_related("user")
        .first()
    )
    return None if feed is None else feed.user


def has_calendar_feed(user_id: int | None) -> bool:
    """Whether the person has a calendar link in use."""
    return user_id is not None and CalendarFeed.objects.filter(user_id=user_id).exists()


# --------------------------------------------------------------------------- monitoring


def _overseen_community_ids(scope: Scope) -> list[int]:
    return [cid for cid in scope.community_ids(VIEW) if can_oversee_runs(scope, cid)]


def can_oversee_any_runs(scope: Scope) -> bool:
    """Whether the caller sees everyone's runs somewhere (the board and the reports)."""
    return acts_platform_wide(scope) or bool(_overseen_community_ids(scope))


def _overseen_runs(scope: Scope) -> QuerySet[PatrolRun]:
    runs = PatrolRun.objects.all()
    if acts_platform_wide(scope):
        return runs
    return runs.filter(community_id__in=_overseen_community_ids(scope))


def _accepted_by_run(
    runs: Iterable[PatrolRun],
) -> dict[int, list[tuple[int | None, dt.datetime, bool]]]:
    found: dict[int, list[tuple[int | None, dt.datetime, bool]]] = {run.pk: [] for run in runs}
    if not found:
        return found
    rows = CheckIn.objects.filter(run_id__in=list(found), status=CheckInStatus.ACCEPTED)
    for run_id, checkpoint_id, scanned_at, far in rows.values_list(
        "run_id", "checkpoint_id", "scanned_at", "far"
    ):
        found[run_id].append((checkpoint_id, scanned_at, far))
    return found


@dataclass(frozen=True)
class BoardRow:
    """One run in progress on the live board, with where it stands."""

    run: PatrolRun
    timing: RunTiming


def patrol_board(
    scope: Scope, *, now: dt.datetime, community_id: int | None = None
) -> list[BoardRow]:
    """The runs in progress the caller oversees, with their timing at ``now``; runs with
    missed stops or overdue first, then by next due time."""
    found = _overseen_runs(scope).filter(status=RunStatus.IN_PROGRESS)
    if community_id is not None:
        found = found.filter(community_id=community_id)
    runs = list(found.select_related("community", "guard").order_by("started_at", "pk"))
    accepted = _accepted_by_run(runs)
    rows = [
        BoardRow(
            run,
            run_timing(
                plan=run.plan,
                started_at=run.started_at,
                check_ins=[(c, at) for c, at, _far in accepted[run.pk]],
                now=now,
            ),
        )
        for run in runs
    ]
    far_future = now + dt.timedelta(days=3650)

    def urgency(row: BoardRow) -> tuple[bool, dt.datetime]:
        trouble = bool(row.timing.missed) or row.timing.overdue
        due = row.timing.next_stop.due_at if row.timing.next_stop else far_future
        return (not trouble, due)

    return sorted(rows, key=urgency)


@dataclass
class Tally:
    """Checkpoints planned and checked in for one route, guard or week."""

    key: str
    label: str
    runs: int = 0
    planned: int = 0
    done: int = 0
    far: int = 0
    missed: int = 0

    @property
    def rate(self) -> float | None:
        """Checked in / planned, or None when nothing was planned."""
        return None if self.planned == 0 else self.done / self.planned


@dataclass(frozen=True)
class MissedStop:
    """One planned checkpoint that was not checked in."""

    run: PatrolRun
    index: int
    name: str
    due_at: dt.datetime


@dataclass(frozen=True)
class PatrolReport:
    """Completion of the patrol runs started in a period."""

    start: dt.date
    end: dt.date
    total: Tally
    routes: list[Tally]
    guards: list[Tally]
    weeks: list[Tally]
    missed: list[MissedStop]


def patrol_report(
    scope: Scope,
    *,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    community_id: int | None = None,
) -> PatrolReport:
    """Completion rate (checkpoints checked in / planned) per route, guard and ISO week of the
    runs started from ``start`` to ``end`` (both included, local days) that the caller oversees,
    with the missed checkpoints. Abandoned runs count: what was planned was not walked."""
    zone = _zone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    runs = _overseen_runs(scope).filter(started_at__gte=since, started_at__lt=until)
    if community_id is not None:
        runs = runs.filter(community_id=community_id)
    run_list = list(runs.select_related("community", "guard").order_by("started_at", "pk"))
    accepted = _accepted_by_run(run_list)
    total = Tally("all", _("All runs"))
    routes: dict[str, Tally] = {}
    guards: dict[int, Tally] = {}
    weeks: dict[str, Tally] = {}
    missed: list[MissedStop] = []
    for run in run_list:
        checks = accepted[run.pk]
        open_run = run.status == RunStatus.IN_PROGRESS
        timing = run_timing(
            plan=run.plan,
            started_at=run.started_at,
            check_ins=[(c, at) for c, at, _far in checks],
            now=now if open_run else (run.finished_at or now),
        )
        # A finished run missed every stop it did not check in; one in progress only those
        # past their grace.
        lost = [
            stop
            for stop in timing.stops
            if stop.checked_at is None and (stop.missed or not open_run)
        ]
        planned_ids = {int(entry["checkpoint"]) for entry in run.plan}
        far = sum(1 for c, _at, is_far in checks if is_far and c in planned_ids)
        year, week, _day = timezone.localtime(run.started_at, zone).isocalendar()
        week_key = f"{year}-W{week:02d}"
        guard = run.guard
        for tally in (
            total,
            routes.setdefault(run.route_name, Tally(run.route_name, run.route_name)),
            guards.setdefault(guard.pk, Tally(str(guard.pk), str(guard))),
            weeks.setdefault(week_key, Tally(week_key, week_key)),
        ):
            tally.runs += 1
            tally.planned += timing.planned
            tally.done += timing.done
            tally.far += far
            tally.missed += len(lost)
        missed.extend(MissedStop(run, stop.index, stop.name, stop.due_at) for stop in lost)
    return PatrolReport(
        start=start,
        end=end,
        total=total,
        routes=sorted(routes.values(), key=lambda t: t.label),
        guards=sorted(guards.values(), key=lambda t: t.label),
        weeks=sorted(weeks.values(), key=lambda t: t.key),
        missed=missed,
    )

"""Reads of the hazards domain, scoped by the caller's ``Scope``."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import User
from anwang.accounts.roles import COMMUNITY_STAFF_ROLES
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core import geo
from anwang.core.dashboard import Stat
from anwang.core.inbox import WorkItem
from anwang.hazards.choices import DEADLINE_STATUSES, OPEN_STATUSES, HazardCategory, HazardStatus
from anwang.hazards.models import Hazard, HazardStep
from anwang.places.models import Building, Community, Unit, Zone

NEARBY_RADIUS_M = 50.0
NEARBY_WINDOW = dt.timedelta(days=30)
_METRES_PER_DEGREE_LAT = 111_320.0


def hazards_nearby(
    *,
    scope: Scope,
    community_id: int,
    category: str,
    latitude: float,
    longitude: float,
    now: dt.datetime | None = None,
    radius_m: float = NEARBY_RADIUS_M,
) -> list[Hazard]:
    """Open reports of the same category within ``radius_m`` reported in the last 30 days,
    nearest first, so a reporter can follow one instead of reporting it again."""
    if community_id not in scope.community_ids() and not scope.is_platform_admin:
        raise Http404
    now = now or timezone.now()
    # A cheap bounding box in the database, then the exact great-circle distance in Python.
    dlat = radius_m / _METRES_PER_DEGREE_LAT
    dlon = radius_m / (_METRES_PER_DEGREE_LAT * max(math.cos(math.radians(latitude)), 1e-6))
    candidates = Hazard.objects.filter(
        community_id=community_id,
        category=category,
        status__in=OPEN_STATUSES,
        reported_at__gte=now - NEARBY_WINDOW,
        latitude__range=(latitude - dlat, latitude + dlat),
        longitude__range=(longitude - dlon, longitude + dlon),
    )
    here = (longitude, latitude)
    found: list[tuple[float, Hazard]] = []
    for hazard in candidates:
        if hazard.latitude is None or hazard.longitude is None:  # excluded by the range filter
            continue
        distance = geo.distance_m(here, (hazard.longitude, hazard.latitude))
        if distance <= radius_m:
            found.append((distance, hazard))
    found.sort(key=lambda pair: (pair[0], pair[1].pk))
    return [hazard for _, hazard in found]


# --------------------------------------------------------------------------- lists and details

VIEW = Permission.VIEW_HAZARDS
MANAGE = Permission.MANAGE_HAZARDS


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller sees every hazard report of a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may triage, assign, verify, close and reject in a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def _visible_ids(scope: Scope) -> set[int] | None:
    """Communities whose reports the caller sees in full (``None``: all, platform-wide)."""
    if acts_platform_wide(scope):
        return None
    return scope.community_ids(VIEW)


def reporting_communities(scope: Scope) -> list[Community]:
    """Communities the caller may report a hazard in: every one they belong to."""
    if scope.user is None:
        return []
    communities = Community.objects.order_by("name", "pk")
    if acts_platform_wide(scope):
        return list(communities)
    return list(communities.filter(pk__in=scope.community_ids()))


def report_buildings(scope: Scope, community_id: int) -> list[Building]:
    """Buildings a reporter may pick (any member, also residents, who may not browse places)."""
    if community_id not in scope.community_ids() and not acts_platform_wide(scope):
        return []
    return list(Building.objects.filter(community_id=community_id).order_by("number", "pk"))


def report_units(scope: Scope, community_id: int) -> list[Unit]:
    """Entrances of the community's buildings, for the report form."""
    if community_id not in scope.community_ids() and not acts_platform_wide(scope):
        return []
    return list(
        Unit.objects.filter(building__community_id=community_id)
        .select_related("building")
        .order_by("building__number", "number", "pk")
    )


def _overdue_q(now: dt.datetime) -> Q:
    return Q(status__in=DEADLINE_STATUSES, deadline__lt=now)


def hazard_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    status: str | None = None,
    category: str | None = None,
    severity: str | None = None,
    building_id: int | None = None,
    zone_id: int | None = None,
    overdue: bool = False,
    assigned_to_me: bool = False,
    open_only: bool = False,
    q: str | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Hazard]:
    """Reports of the caller's communities (hazard staff), newest first, filtered."""
    ids = _visible_ids(scope)
    hazards = Hazard.objects.all()
    if ids is not None:
        hazards = hazards.filter(community_id__in=ids)
    if community_id is not None:
        hazards = hazards.filter(community_id=community_id)
    if status:
        hazards = hazards.filter(status=status)
    if open_only:
        hazards = hazards.filter(status__in=OPEN_STATUSES)
    if category:
        hazards = hazards.filter(category=category)
    if severity:
        hazards = hazards.filter(severity=severity)
    if building_id is not None:
        hazards = hazards.filter(building_id=building_id)
    if zone_id is not None:
        hazards = hazards.filter(zone_id=zone_id)
    if overdue:
        hazards = hazards.filter(_overdue_q(now or timezone.now()))
    if assigned_to_me:
        hazards = hazards.filter(assignee=scope.user) if scope.user else hazards.none()
    text = (q or "").strip()
    if text:
        hazards = hazards.filter(Q(description__icontains=text) | Q(address__icontains=text))
    return hazards.select_related(
        "community", "building", "unit", "zone", "assignee", "reporter"
    ).order_by("-reported_at", "-pk")


def hazards_mine(scope: Scope) -> QuerySet[Hazard]:
    """The caller's own reports and those they follow, newest first."""
    if scope.user is None:
        return Hazard.objects.none()
    mine = Q(reporter=scope.user) | Q(followers__user=scope.user)
    hazards = Hazard.objects.filter(mine)
    if not acts_platform_wide(scope):
        hazards = hazards.filter(community_id__in=scope.community_ids())
    return (
        hazards.distinct()
        .select_related("community", "building", "unit", "zone", "assignee")
        .order_by("-reported_at", "-pk")
    )


def hazards_assigned(scope: Scope) -> QuerySet[Hazard]:
    """Reports the caller must rectify (also without the right to see all reports)."""
    if scope.user is None:
        return Hazard.objects.none()
    hazards = Hazard.objects.filter(assignee=scope.user, status=HazardStatus.ASSIGNED)
    if not acts_platform_wide(scope):
        hazards = hazards.filter(community_id__in=scope.community_ids())
    return hazards.select_related("community", "building", "unit", "zone").order_by(
        "deadline", "pk"
    )


def hazard_get(scope: Scope, hazard_id: int) -> Hazard:
    """One report: for the community's hazard staff, and for its reporter, responsible person
    and followers; :class:`Http404` for anyone else."""
    hazard = (
        Hazard.objects.select_related(
            "community",
            "building",
            "unit",
            "zone",
            "assignee",
            "rectified_by",
            "verified_by",
            "reporter",
        )
        .filter(pk=hazard_id)
        .first()
    )
    if hazard is None or scope.user is None:
        raise Http404
    if can_view(scope, hazard.community_id):
        return hazard
    if hazard.community_id not in scope.community_ids():
        raise Http404
    user_id = scope.user.pk
    if (
        hazard.reporter_id == user_id
        or hazard.assignee_id == user_id
        or hazard.followers.filter(user_id=user_id).exists()
    ):
        return hazard
    raise Http404


def hazard_steps(hazard: Hazard) -> list[HazardStep]:
    """A report's timeline, oldest first."""
    return list(hazard.steps.select_related("actor").order_by("at", "pk"))


def reporter_shown(scope: Scope, hazard: Hazard) -> str:
    """The reporter's name as the caller may see it: hidden when anonymous (except to the
    reporter), and shown to hazard staff only otherwise."""
    if hazard.reporter_id is None:
        return ""
    if scope.user is not None and hazard.reporter_id == scope.user.pk:
        return str(scope.user)
    if hazard.anonymous or not can_view(scope, hazard.community_id):
        return ""
    return str(hazard.reporter)


def is_following(scope: Scope, hazard: Hazard) -> bool:
    """Whether the caller follows the report."""
    if scope.user is None:
        return False
    return hazard.followers.filter(user=scope.user).exists()


def assignable_members(scope: Scope, community_id: int) -> list[User]:
    """People a hazard manager may make responsible: staff and volunteers of the community."""
    if not can_manage(scope, community_id):
        return []
    roles = [role.value for role in COMMUNITY_STAFF_ROLES if role != Role.AUDITOR]
    return list(
        User.objects.filter(
            is_active=True,
            memberships__community_id=community_id,
            memberships__role__in=roles,
        )
        .distinct()
        .order_by("display_name", "username")
    )


def checkpoint_location(scope: Scope, checkpoint_id: int) -> dict[str, Any] | None:
    """Where a patrol checkpoint is (community, building, pin), to start a report from it;
    ``None`` if the caller cannot see it."""
    from anwang.patrols.models import Checkpoint

    checkpoint = (
        Checkpoint.objects.filter(pk=checkpoint_id, retired_at__isnull=True)
        .select_related("building", "zone")
        .first()
    )
    if checkpoint is None:
        return None
    if checkpoint.community_id not in scope.community_ids() and not acts_platform_wide(scope):
        return None
    latitude = longitude = None
    point = checkpoint.point
    if isinstance(point, dict) and point.get("type") == "Point":
        coordinates = point.get("coordinates") or []
        if len(coordinates) >= 2:
            longitude, latitude = float(coordinates[0]), float(coordinates[1])
    return {
        "community_id": checkpoint.community_id,
        "building_id": checkpoint.building_id,
        "latitude": latitude,
        "longitude": longitude,
        "address": checkpoint.name,
    }


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class GroupCount:
    """Counts of one group of reports (a category, building or zone)."""

    key: str
    label: str
    total: int
    open: int
    overdue: int
    closed: int


@dataclass(frozen=True)
class HazardStatistics:
    """Figures of the reports of some communities, reported within a window."""

    since: dt.datetime
    total: int
    open: int
    overdue: int
    closed: int
    rejected: int
    escalated: int
    mean_hours_to_close: float | None
    median_hours_to_close: float | None
    by_category: list[GroupCount]
    by_building: list[GroupCount]
    by_zone: list[GroupCount]


def _groups(
    hazards: QuerySet[Hazard], field: str, labels: dict[Any, str], now: dt.datetime
) -> list[GroupCount]:
    rows = (
        hazards.values(field)
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            overdue=Count("pk", filter=_overdue_q(now)),
            closed=Count("pk", filter=Q(status=HazardStatus.CLOSED)),
        )
        .order_by()
    )
    groups = [
        GroupCount(
            key="" if row[field] is None else str(row[field]),
            label=labels.get(row[field], str(row[field])) if row[field] is not None else "—",
            total=row["total"],
            open=row["open"],
            overdue=row["overdue"],
            closed=row["closed"],
        )
        for row in rows
    ]
    # Largest first; reports with no building or zone last (databases order NULL differently).
    return sorted(groups, key=lambda group: (-group.total, group.key == "", group.label))


def hazard_statistics(
    scope: Scope,
    *,
    community_id: int | None = None,
    days: int = 90,
    now: dt.datetime | None = None,
) -> HazardStatistics:
    """Time to close, overdue counts, and counts by category, building and zone of the reports
    of the last ``days`` days in the caller's communities."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    hazards = hazard_list(scope, community_id=community_id).filter(reported_at__gte=since)
    hazards = hazards.order_by()
    counts = hazards.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=_overdue_q(now)),
        closed=Count("pk", filter=Q(status=HazardStatus.CLOSED)),
        rejected=Count("pk", filter=Q(status=HazardStatus.REJECTED)),
        escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
    )
    # Durations in Python: portable across SQLite and PostgreSQL, and a window of reports is
    # small enough.
    hours = sorted(
        (closed_at - reported_at).total_seconds() / 3600
        for reported_at, closed_at in hazards.filter(
            status=HazardStatus.CLOSED, closed_at__isnull=False
        ).values_list("reported_at", "closed_at")
        if closed_at is not None
    )
    building_ids = hazards.filter(building__isnull=False).values_list("building_id", flat=True)
    zone_ids = hazards.filter(zone__isnull=False).values_list("zone_id", flat=True)
    buildings = {b.pk: b.name for b in Building.objects.filter(pk__in=list(building_ids))}
    zones = {z.pk: z.name for z in Zone.objects.filter(pk__in=list(zone_ids))}
    categories = {code: str(label) for code, label in HazardCategory.choices}
    return HazardStatistics(
        since=since,
        total=counts["total"],
        open=counts["open"],
        overdue=counts["overdue"],
        closed=counts["closed"],
        rejected=counts["rejected"],
        escalated=counts["escalated"],
        mean_hours_to_close=round(statistics.fmean(hours), 1) if hours else None,
        median_hours_to_close=round(statistics.median(hours), 1) if hours else None,
        by_category=_groups(hazards, "category", categories, now),
        by_building=_groups(hazards, "building_id", buildings, now),
        by_zone=_groups(hazards, "zone_id", zones, now),
    )


# --------------------------------------------------------------------------- dashboard, my work


def hazard_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: open reports, overdue ones and new ones awaiting triage."""
    if community is not None and not can_view(scope, community.pk):
        return []
    ids = _visible_ids(scope)
    if ids is not None and not ids:
        return []
    hazards = hazard_list(scope, community_id=community.pk if community else None).order_by()
    counts = hazards.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=_overdue_q(timezone.now())),
        new=Count("pk", filter=Q(status=HazardStatus.REPORTED)),
    )
    url = reverse("hazards:list")
    return [
        Stat("hazards_open", _("Open hazard reports"), counts["open"], f"{url}?open=1"),
        Stat(
            "hazards_overdue",
            _("Hazard reports past their deadline"),
            counts["overdue"],
            f"{url}?overdue=1",
            "warn" if counts["overdue"] else "",
        ),
        Stat(
            "hazards_new",
            _("Hazard reports awaiting triage"),
            counts["new"],
            f"{url}?status={HazardStatus.REPORTED}",
            "warn" if counts["new"] else "",
        ),
    ]


def hazard_work_items(scope: Scope) -> list[WorkItem]:
    """'My work': reports to rectify (the responsible person); for hazard managers, new
    reports to triage and rectifications to verify."""
    if scope.user is None:
        return []
    items: list[WorkItem] = []
    now = timezone.now()
    for hazard in hazards_assigned(scope)[:50]:
        overdue = hazard.deadline is not None and hazard.deadline < now
        items.append(
            WorkItem(
                source="hazards",
                title=_("Rectify: %(hazard)s") % {"hazard": _label(hazard)},
                url=reverse("hazards:detail", args=[hazard.pk]),
                community_id=hazard.community_id,
                due_at=hazard.deadline,
                priority=1 if overdue else 2,
            )
        )
    managed = None if acts_platform_wide(scope) else scope.community_ids(Permission.MANAGE_HAZARDS)
    if managed is None or managed:
        waiting = Hazard.objects.filter(
            status__in=[HazardStatus.REPORTED, HazardStatus.RECTIFIED, HazardStatus.VERIFIED]
        )
        if managed is not None:
            waiting = waiting.filter(community_id__in=managed)
        titles = {
            HazardStatus.REPORTED: _("Triage: %(hazard)s"),
            HazardStatus.RECTIFIED: _("Verify the rectification: %(hazard)s"),
            HazardStatus.VERIFIED: _("Close: %(hazard)s"),
        }
        for hazard in waiting.select_related("building").order_by("reported_at", "pk")[:50]:
            if hazard.status == HazardStatus.RECTIFIED and hazard.rectified_by_id == scope.user.pk:
                continue  # someone else verifies it
            items.append(
                WorkItem(
                    source="hazards",
                    title=titles[HazardStatus(hazard.status)] % {"hazard": _label(hazard)},
                    url=reverse("hazards:detail", args=[hazard.pk]),
                    community_id=hazard.community_id,
                    due_at=hazard.deadline,
                    priority=3,
                )
            )
    return items


def _label(hazard: Hazard) -> str:
    where = hazard.building.name if hazard.building_id and hazard.building else hazard.address
    label = f"{hazard.get_category_display()} #{hazard.pk}"
    return f"{label} · {where}" if where else label


def hazard_to_follow(scope: Scope, hazard_id: int) -> Hazard:
    """A report of one of the caller's communities that they may follow (as suggested when
    reporting the same hazard again); :class:`Http404` otherwise."""
    hazard = Hazard.objects.filter(pk=hazard_id).first()
    if hazard is None or scope.user is None:
        raise Http404
    if hazard.community_id not in scope.community_ids() and not acts_platform_wide(scope):
        raise Http404
    return hazard


def step_get(scope: Scope, step_id: int) -> HazardStep:
    """One step of a report the caller may see (for its photo)."""
    step = HazardStep.objects.filter(pk=step_id).first()
    if step is None:
        raise Http404
    hazard_get(scope, step.hazard_id)
    return step

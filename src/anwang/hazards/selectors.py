"""Reads of the hazards domain, scoped by the caller's ``Scope``."""

from __future__ import annotations

import datetime as dt
import math

from django.http import Http404
from django.utils import timezone

from anwang.accounts.selectors import Scope
from anwang.core import geo
from anwang.hazards.choices import OPEN_STATUSES
from anwang.hazards.models import Hazard

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

"""Tests of the hazards selectors: duplicate suggestion geometry."""

import datetime as dt
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from anwang.accounts.selectors import scope_for
from anwang.hazards.models import Hazard
from anwang.hazards.selectors import hazards_nearby

LAT, LON = 31.2300, 121.4700
# One metre of latitude is about 1/111320 degree.
M = 1 / 111_320


def _report(world: Any, **fields: Any) -> Hazard:
    defaults: dict[str, Any] = {
        "community": world.a.community,
        "reported_at": timezone.now(),
        "category": "broken_light",
        "latitude": LAT,
        "longitude": LON,
    }
    defaults.update(fields)
    return Hazard.objects.create(**defaults)


@pytest.mark.django_db
def test_nearby_suggests_only_open_same_category_within_50_m_and_30_days(world: Any) -> None:
    """The radius, category, status, age and community all narrow the suggestions."""
    now = timezone.now()
    near = _report(world, latitude=LAT + 30 * M)
    nearest = _report(world, latitude=LAT + 5 * M)
    _report(world, latitude=LAT + 60 * M)  # too far
    _report(world, category="other")  # another category
    _report(world, status="closed")  # finished
    _report(world, reported_at=now - dt.timedelta(days=31))  # too old
    _report(world, community=world.b.community)  # another community
    scope = scope_for(world.user("resident"))
    found = hazards_nearby(
        scope=scope,
        community_id=world.a.community.pk,
        category="broken_light",
        latitude=LAT,
        longitude=LON,
        now=now,
    )
    assert found == [nearest, near]


@pytest.mark.django_db
def test_nearby_refuses_a_community_one_does_not_belong_to(world: Any) -> None:
    """Suggestions never reveal another community's reports."""
    with pytest.raises(Http404):
        hazards_nearby(
            scope=scope_for(world.user("resident")),
            community_id=world.b.community.pk,
            category="broken_light",
            latitude=LAT,
            longitude=LON,
        )

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


# --------------------------------------------------------------------------- lists, stats, work


def test_hazard_list_is_scoped_and_filtered(world: Any) -> None:
    """Staff see their community's reports; filters narrow them; a resident sees none."""
    from anwang.hazards.selectors import hazard_list
    from anwang.hazards.tests.support import advance, report

    late = advance(world, report(world), "assigned", at=timezone.now() - dt.timedelta(days=2))
    other = report(world, category="other", building=world.a.building)
    report(world, side="b")
    staff = scope_for(world.user("operator"))
    assert set(hazard_list(staff)) == {late, other}
    assert list(hazard_list(staff, overdue=True)) == [late]
    assert list(hazard_list(staff, building_id=world.a.building.pk)) == [other]
    assert list(hazard_list(staff, status="assigned")) == [late]
    guard = scope_for(world.user("guard"))
    assert list(hazard_list(guard, assigned_to_me=True)) == [late]
    assert not hazard_list(scope_for(world.user("resident"))).exists()


def test_statistics_count_time_to_close_and_groups(world: Any) -> None:
    """Time to close from report to closure; counts by category, building and zone."""
    from anwang.hazards.selectors import hazard_statistics
    from anwang.hazards.services import hazard_close
    from anwang.hazards.tests.support import advance, report

    start = timezone.now() - dt.timedelta(days=5)
    closed = advance(
        world, report(world, at=start, building=world.a.building), "verified", at=start
    )
    hazard_close(
        actor=world.user("community_admin"), hazard=closed, at=start + dt.timedelta(hours=10)
    )
    advance(world, report(world, category="other", at=start), "assigned", at=start)
    stats = hazard_statistics(scope_for(world.user("community_admin")))
    assert (stats.total, stats.open, stats.overdue, stats.closed) == (2, 1, 1, 1)
    assert stats.median_hours_to_close == 10.0
    by_category = {group.key: group for group in stats.by_category}
    assert by_category["broken_light"].closed == 1
    assert by_category["other"].overdue == 1
    assert [(g.label, g.total) for g in stats.by_building] == [
        (world.a.building.name, 1),
        ("—", 1),
    ]
    assert stats.by_zone[0].label == world.a.zone.name
    assert hazard_statistics(scope_for(world.user("community_admin", "b"))).total == 0


def test_work_items_and_dashboard(world: Any) -> None:
    """The responsible person has 'rectify'; managers have triage/verify items; the
    rectifier is not asked to verify their own work. The dashboard counts overdue reports."""
    from anwang.hazards.selectors import hazard_stats, hazard_work_items
    from anwang.hazards.tests.support import advance, report

    new = report(world)
    assigned = advance(world, report(world), "assigned", at=timezone.now() - dt.timedelta(days=2))
    guard_items = hazard_work_items(scope_for(world.user("guard")))
    assert [item.url for item in guard_items] == [f"/hazards/{assigned.pk}/"]
    assert guard_items[0].priority == 1  # overdue
    admin_items = hazard_work_items(scope_for(world.user("community_admin")))
    assert f"/hazards/{new.pk}/" in [item.url for item in admin_items]
    assert hazard_work_items(scope_for(world.user("resident"))) == []
    stats = {s.key: s for s in hazard_stats(scope_for(world.user("community_admin")), None)}
    assert stats["hazards_open"].value == 2
    assert stats["hazards_overdue"].value == 1
    assert stats["hazards_overdue"].tone == "warn"
    assert stats["hazards_new"].value == 1
    assert hazard_stats(scope_for(world.user("resident")), None) == []

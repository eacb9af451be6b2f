"""Scoping of the points ledger reads."""

import datetime as dt
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from anwang.accounts.selectors import scope_for
from anwang.participation import selectors, services
from anwang.participation.choices import PointSource

pytestmark = pytest.mark.django_db


def give(side: Any, user: Any, key: str, kind: str = PointSource.TRAINING_COMPLETED) -> Any:
    return services.points_award(
        community=side.community,
        user=user,
        source_kind=kind,
        source_key=key,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
    )


def test_people_see_their_own_and_staff_their_community(world):
    resident, guard = world.user("resident"), world.user("guard")
    own = give(world.a, resident, "c1")
    other = give(world.a, guard, "c1")
    elsewhere = give(world.b, world.user("resident", "b"), "c1")
    mine = set(selectors.point_entries(scope_for(resident)).values_list("pk", flat=True))
    assert mine == {own.pk}
    staff = scope_for(world.user("grid_worker"))
    assert set(selectors.point_entries(staff).values_list("pk", flat=True)) == {own.pk, other.pk}
    assert set(selectors.point_entries(staff, mine=True)) == set()
    admin = scope_for(world.platform_admin)
    assert elsewhere.pk in set(selectors.point_entries(admin).values_list("pk", flat=True))
    with pytest.raises(Http404):
        selectors.point_entry_get(scope_for(resident), other.pk)
    with pytest.raises(Http404):
        selectors.point_entry_get(scope_for(world.user("community_admin", "b")), own.pk)


def test_balances_and_leaderboard(world):
    resident, guard = world.user("resident"), world.user("guard")
    give(world.a, resident, "c1")
    give(world.a, resident, "d1", PointSource.DRILL_PARTICIPATION)
    give(world.a, guard, "c1")
    balances = selectors.balances(scope_for(resident))
    assert [(b.community.pk, b.total) for b in balances] == [(world.a.community.pk, 50)]
    assert balances[0].by_source == {"training_completed": 30, "drill_participation": 20}
    board = selectors.leaderboard(scope_for(world.user("community_admin")), world.a.community.pk)
    assert [(row.rank, row.user_id, row.points) for row in board] == [
        (1, resident.pk, 50),
        (2, guard.pk, 30),
    ]
    with pytest.raises(Http404):
        selectors.leaderboard(scope_for(resident), world.a.community.pk)
    # Staff of b see nothing of a person's points in a.
    assert selectors.balances(scope_for(world.user("community_admin", "b")), resident) == []


def test_rules_combine_stored_and_defaults(world):
    services.point_rule_set(
        actor=None,
        community=world.a.community,
        source_kind=PointSource.HAZARD_VERIFIED,
        points_per_unit=7,
        daily_cap=None,
        is_active=True,
    )
    rules = selectors.point_rules(scope_for(world.user("supervisor")), world.a.community)
    assert [rule.source_kind for rule in rules] == list(PointSource.values)
    by_kind = {rule.source_kind: rule for rule in rules}
    assert by_kind["hazard_verified"].points_per_unit == 7
    assert by_kind["hazard_verified"].pk is not None
    assert by_kind["patrol_hour"].pk is None
    assert by_kind["patrol_hour"].daily_cap == 80
    with pytest.raises(Http404):
        selectors.point_rules(scope_for(world.user("resident")), world.a.community)

"""Who is on duty at an instant, with a controllable clock: shifts across midnight, cancelled
and swapped shifts, two patterns of one role, and the instant one shift hands over."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from anwang.rosters import services
from anwang.rosters.models import DutyPattern
from anwang.rosters.selectors import OnDuty, duties_between, on_duty, on_duty_now

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of March 2026 in Shanghai."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=ZONE)


def pattern(
    world: Any,
    role: str = "guard",
    user: str = "guard",
    start: dt.datetime | None = None,
    hours: int = 12,
    rule: str = "FREQ=DAILY",
) -> DutyPattern:
    """A duty pattern of a user of community a, added by the system."""
    return services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role=role,
        person=world.user(user),
        first_start=start or at(1, 20),
        duration=dt.timedelta(hours=hours),
        rrule=rule,
    )


def names(duties: list[OnDuty]) -> list[str]:
    """The usernames on duty, in order."""
    return [duty.person.username for duty in duties]


def test_a_night_shift_crosses_midnight(world):
    pattern(world)
    assert names(on_duty(community_id=world.a.community.pk, at=at(3, 2))) == ["a_guard"]
    duty = on_duty(community_id=world.a.community.pk, at=at(3, 2))[0]
    assert duty.start == at(2, 20)
    assert duty.end == at(3, 8)
    assert on_duty(community_id=world.a.community.pk, at=at(3, 9)) == []
    assert on_duty(community_id=world.b.community.pk, at=at(3, 2)) == []


def test_nobody_before_the_first_shift(world):
    pattern(world)
    assert on_duty(community_id=world.a.community.pk, at=at(1, 2)) == []


def test_a_cancelled_shift_is_nobody_and_only_that_one(world):
    guard = pattern(world)
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        pattern=guard,
        shift_key="20260302T2000",
        reason="sick",
    )
    assert on_duty(community_id=world.a.community.pk, at=at(3, 2)) == []
    assert names(on_duty(community_id=world.a.community.pk, at=at(4, 2))) == ["a_guard"]


def test_a_swap_hands_the_shift_to_the_replacement(world):
    from conftest import make_user

    from anwang.accounts.models import Membership

    other = make_user("a_guard2")
    Membership.objects.create(user=other, role="guard", community=world.a.community)
    guard = pattern(world)
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="swap",
        pattern=guard,
        starts_at=at(2, 0),
        ends_at=at(4, 0),
        replacement=other,
    )
    on = on_duty(community_id=world.a.community.pk, at=at(3, 2))
    assert names(on) == ["a_guard2"]
    assert on[0].swapped_from == world.user("guard")
    assert names(on_duty(community_id=world.a.community.pk, at=at(4, 22))) == ["a_guard"]
    mine = duties_between(since=at(1, 0), until=at(6, 0), person_id=other.pk)
    assert [duty.shift_key for duty in mine] == ["20260302T2000", "20260303T2000"]


def test_two_patterns_of_one_role_and_a_role_filter(world):
    from conftest import make_user

    from anwang.accounts.models import Membership

    other = make_user("a_guard2")
    Membership.objects.create(user=other, role="guard", community=world.a.community)
    pattern(world)
    pattern(world, user="operator", role="operator", start=at(1, 8), hours=24)
    services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role="guard",
        person=other,
        first_start=at(1, 18),
        duration=dt.timedelta(hours=6),
        rrule="FREQ=DAILY",
    )
    everyone = on_duty(community_id=world.a.community.pk, at=at(3, 21))
    assert sorted(names(everyone)) == ["a_guard", "a_guard2", "a_operator"]
    guards = on_duty(community_id=world.a.community.pk, at=at(3, 21), duty_role="guard")
    assert sorted(names(guards)) == ["a_guard", "a_guard2"]


def test_the_handover_instant_belongs_to_the_next_shift(world):
    from conftest import make_user

    from anwang.accounts.models import Membership

    other = make_user("a_guard2")
    Membership.objects.create(user=other, role="guard", community=world.a.community)
    pattern(world, start=at(1, 8), hours=12)
    services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role="guard",
        person=other,
        first_start=at(1, 20),
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )
    assert names(on_duty(community_id=world.a.community.pk, at=at(3, 20))) == ["a_guard2"]
    before = at(3, 20) - dt.timedelta(microseconds=1)
    assert names(on_duty(community_id=world.a.community.pk, at=before)) == ["a_guard"]
    assert names(on_duty(community_id=world.a.community.pk, at=at(4, 8))) == ["a_guard"]


def test_an_inactive_pattern_is_off_the_roster(world):
    guard = pattern(world)
    services.duty_pattern_deactivate(actor=None, pattern=guard)
    assert on_duty(community_id=world.a.community.pk, at=at(3, 2)) == []


def test_on_duty_now_reads_the_clock(world, monkeypatch):
    from django.utils import timezone

    pattern(world)
    monkeypatch.setattr(timezone, "now", lambda: at(3, 2))
    assert names(on_duty_now(world.a.community.pk)) == ["a_guard"]


def test_a_persons_leave_in_one_community_leaves_the_other_alone(world: Any) -> None:
    from anwang.accounts.models import Membership

    guard = world.user("guard")
    Membership.objects.create(user=guard, role="guard", community=world.b.community)
    pattern(world)
    services.duty_pattern_create(
        actor=None,
        community=world.b.community,
        duty_role="guard",
        person=guard,
        first_start=at(1, 8),
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        person=guard,
        duty_role="guard",
        starts_at=at(1, 0),
        ends_at=at(10, 0),
    )
    assert on_duty(community_id=world.a.community.pk, at=at(3, 2)) == []
    assert names(on_duty(community_id=world.b.community.pk, at=at(3, 9))) == ["a_guard"]
    mine = duties_between(since=at(3, 0), until=at(4, 0), person_id=guard.pk)
    assert [duty.pattern.community_id for duty in mine] == [world.b.community.pk]

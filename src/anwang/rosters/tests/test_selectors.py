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


def second_guard(world: Any, username: str = "a_guard2") -> Any:
    """Another guard of community a."""
    from conftest import make_user

    from anwang.accounts.models import Membership

    user = make_user(username)
    Membership.objects.create(user=user, role="guard", community=world.a.community)
    return user


def day_and_night(world: Any) -> tuple[DutyPattern, DutyPattern, Any]:
    """a_guard on nights (20:00-08:00), a_guard2 on days (08:00-20:00), daily."""
    night = pattern(world)
    other = second_guard(world)
    day = services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role="guard",
        person=other,
        first_start=at(2, 8),
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )
    return night, day, other


def test_the_shift_change_at_eight_with_a_moving_clock(world, monkeypatch):
    """The clock an incident would read: a_guard until 08:00, a_guard2 from 08:00."""
    from django.utils import timezone

    day_and_night(world)
    community = world.a.community.pk
    clock = [at(3, 7, 59)]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    assert names(on_duty_now(community, "guard")) == ["a_guard"]
    clock[0] = at(3, 8) - dt.timedelta(microseconds=1)
    assert names(on_duty_now(community, "guard")) == ["a_guard"]
    clock[0] = at(3, 8)
    assert names(on_duty_now(community, "guard")) == ["a_guard2"]
    (duty,) = on_duty_now(community)
    assert (duty.start, duty.end) == (at(3, 8), at(3, 20))
    # The same instants told in UTC, as a server clock gives them: Shanghai is UTC+8 all year.
    clock[0] = dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)
    assert names(on_duty_now(community)) == ["a_guard2"]
    clock[0] = dt.datetime(2026, 3, 2, 23, 59, 59, tzinfo=dt.UTC)
    assert names(on_duty_now(community)) == ["a_guard"]


def test_a_swap_of_the_next_shift_changes_who_takes_over_mid_incident(world, monkeypatch):
    from django.utils import timezone

    _night, day, day_guard = day_and_night(world)
    third = second_guard(world, "a_guard3")
    community = world.a.community.pk
    monkeypatch.setattr(timezone, "now", lambda: at(3, 7, 30))
    assert names(on_duty_now(community)) == ["a_guard"]
    # Half an hour before the change, the day guard is swapped out for the morning.
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="swap",
        pattern=day,
        shift_key="20260303T0800",
        replacement=third,
    )
    assert names(on_duty_now(community)) == ["a_guard"]
    monkeypatch.setattr(timezone, "now", lambda: at(3, 8))
    (duty,) = on_duty_now(community)
    assert duty.person == third
    assert duty.swapped_from == day_guard
    monkeypatch.setattr(timezone, "now", lambda: at(4, 8))
    assert names(on_duty_now(community)) == ["a_guard2"]


def test_midnight_shifts_and_a_range_ending_at_midnight(world):
    """Shifts starting at 00:00: a range [3rd 00:00, 4th 00:00) covers the 3rd's, not the
    4th's (the range's end is exclusive like a shift's)."""
    early = pattern(world, start=at(1, 0), hours=8)
    community = world.a.community.pk
    assert names(on_duty(community_id=community, at=at(3, 0))) == ["a_guard"]
    before = at(3, 0) - dt.timedelta(microseconds=1)
    assert on_duty(community_id=community, at=before) == []
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        pattern=early,
        starts_at=at(3, 0),
        ends_at=at(4, 0),
    )
    assert on_duty(community_id=community, at=at(3, 0)) == []
    assert on_duty(community_id=community, at=at(3, 7, 59)) == []
    assert names(on_duty(community_id=community, at=at(4, 0))) == ["a_guard"]
    assert names(on_duty(community_id=community, at=at(2, 7, 59))) == ["a_guard"]


def test_an_exception_covering_part_of_a_range(world):
    """Leave from the 3rd at noon to the 5th at noon cancels the nights starting in it (the
    3rd's and the 4th's) and no other; the week shows them as cancelled when asked."""
    guard = pattern(world)
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        pattern=guard,
        starts_at=at(3, 12),
        ends_at=at(5, 12),
        reason="年假",
    )
    community = world.a.community.pk
    assert names(on_duty(community_id=community, at=at(3, 2))) == ["a_guard"]  # the 2nd's night
    assert on_duty(community_id=community, at=at(3, 22)) == []
    assert on_duty(community_id=community, at=at(5, 2)) == []
    assert names(on_duty(community_id=community, at=at(5, 22))) == ["a_guard"]
    week = duties_between(since=at(1, 0), until=at(8, 0), community_id=community)
    assert [duty.shift_key[6:8] for duty in week] == ["01", "02", "05", "06", "07"]
    shown = duties_between(
        since=at(1, 0), until=at(8, 0), community_id=community, include_cancelled=True
    )
    cancelled = [duty for duty in shown if duty.cancelled]
    assert [duty.shift_key for duty in cancelled] == ["20260303T2000", "20260304T2000"]
    assert cancelled[0].exception is not None
    assert cancelled[0].exception.reason == "年假"
    # Who is on duty never counts a cancelled shift, unless a page asks to show it.
    assert on_duty(community_id=community, at=at(3, 22)) == []
    (struck,) = on_duty(community_id=community, at=at(3, 22), include_cancelled=True)
    assert struck.cancelled


def test_a_later_exception_wins_over_an_earlier_one(world):
    guard = pattern(world)
    other = second_guard(world)
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        pattern=guard,
        shift_key="20260302T2000",
    )
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="swap",
        pattern=guard,
        shift_key="20260302T2000",
        replacement=other,
    )
    assert names(on_duty(community_id=world.a.community.pk, at=at(3, 2))) == ["a_guard2"]


def test_the_list_of_exceptions_is_upcoming_and_recent_in_order(world):
    from django.http import Http404

    from anwang.accounts.selectors import scope_for
    from anwang.rosters.selectors import exceptions_visible

    guard = pattern(world)

    def off(**extra: Any) -> Any:
        return services.duty_exception_add(
            actor=world.user("community_admin"),
            community=world.a.community,
            kind="off",
            pattern=guard,
            **extra,
        )

    old = off(shift_key="20260302T2000")
    later = off(shift_key="20260310T2000")
    ranged = off(starts_at=at(5, 0), ends_at=at(7, 0))
    scope = scope_for(world.user("guard"))
    seen = exceptions_visible(scope, world.a.community.pk, since=at(4, 0))
    assert seen == [ranged, later]
    # The night of the 2nd still runs at 06:00 on the 3rd: it is shown until it ends.
    assert exceptions_visible(scope, world.a.community.pk, since=at(3, 7))[0] == old
    with pytest.raises(Http404):
        exceptions_visible(scope_for(world.user("guard", "b")), world.a.community.pk)
    with pytest.raises(Http404):
        exceptions_visible(scope_for(world.user("resident")), world.a.community.pk)


def test_on_duty_in_several_communities_reads_each_ones_roster(world):
    from anwang.rosters.selectors import on_duty_in

    pattern(world)
    guard_b = world.user("guard", "b")
    services.duty_pattern_create(
        actor=None,
        community=world.b.community,
        duty_role="guard",
        person=guard_b,
        first_start=at(1, 8),
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )
    both = [world.a.community.pk, world.b.community.pk]
    assert names(on_duty_in(both, at(3, 2))) == ["a_guard"]
    assert names(on_duty_in(both, at(3, 8))) == ["b_guard"]
    assert names(on_duty_in(both, at(3, 20))) == ["a_guard"]
    assert on_duty_in(both, at(3, 20), "operator") == []

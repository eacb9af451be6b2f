"""Selectors of welfare checks: who sees what, the lists, the status of an enrolment, the
baseline and the threshold."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.people.models import Resident
from anwang.welfare import selectors
from anwang.welfare.choices import CheckStatus
from anwang.welfare.models import WelfareCheck, WelfareWatch
from anwang.welfare.selectors import Baseline
from anwang.welfare.services import (
    check_close,
    check_reassign,
    watch_end,
    watch_pause,
    welfare_checks_run,
)
from anwang.welfare.tests.conftest import T0, Home

pytestmark = pytest.mark.django_db


def _scope(world: Any, role: str, side: str = "a") -> Any:
    return scope_for(world.user(role, side))


def _open_check(home: Home, hours: float = 24) -> WelfareCheck:
    welfare_checks_run(now=T0 + dt.timedelta(hours=hours))
    return WelfareCheck.objects.get(watch=home.watch, status=CheckStatus.OPEN)


# --------------------------------------------------------------------------- who sees what


@pytest.mark.parametrize(
    ("role", "view", "manage"),
    [
        ("community_admin", True, True),
        ("grid_worker", True, True),
        ("supervisor", True, False),
        ("volunteer", False, False),
        ("guard", False, False),
        ("operator", False, False),
        ("resident", False, False),
    ],
)
def test_who_may_view_and_manage(world: Any, role: str, view: bool, manage: bool):
    scope = _scope(world, role)
    community = world.a.community.pk
    assert selectors.may_view(scope, community) is view
    assert selectors.may_manage(scope, community) is manage
    assert selectors.may_view(scope, world.b.community.pk) is False


def test_watches_are_scoped_to_the_community(home: Home, world: Any):
    assert list(selectors.watch_list(_scope(world, "supervisor"))) == [home.watch]
    assert list(selectors.watch_list(_scope(world, "community_admin", "b"))) == []
    assert list(selectors.watch_list(_scope(world, "volunteer"))) == []
    assert selectors.watch_get(_scope(world, "grid_worker"), home.watch.pk) == home.watch
    with pytest.raises(Http404):
        selectors.watch_get(_scope(world, "community_admin", "b"), home.watch.pk)
    assert list(selectors.watch_list(scope_for(world.platform_admin))) == [home.watch]


def test_watch_list_filters_by_state_and_name_and_shows_the_open_check(home: Home, world: Any):
    scope = _scope(world, "community_admin")
    now = T0 + dt.timedelta(hours=1)
    assert list(selectors.watch_list(scope, state="active", now=now)) == [home.watch]
    assert list(selectors.watch_list(scope, q="张三")) == [home.watch]
    assert list(selectors.watch_list(scope, q="nobody")) == []
    watch_pause(actor=None, watch=home.watch, until=now + dt.timedelta(days=2), now=now)
    assert list(selectors.watch_list(scope, state="active", now=now)) == []
    assert list(selectors.watch_list(scope, state="paused", now=now)) == [home.watch]
    assert list(selectors.watch_list(scope, state="ended", now=now)) == []
    watch_pause(actor=None, watch=home.watch, until=None, now=now)
    check = _open_check(home, hours=25)
    (listed,) = selectors.watch_list(scope)
    assert getattr(listed, "open_check_id") == check.pk  # noqa: B009 - an annotation
    watch_end(actor=None, watch=home.watch, now=now + dt.timedelta(days=3))
    assert list(selectors.watch_list(scope, state="ended")) == [home.watch]
    (listed,) = selectors.watch_list(scope)
    assert getattr(listed, "open_check_id") is None  # noqa: B009 - an annotation


def test_checks_are_seen_by_the_community_and_by_their_assignee(home: Home, world: Any):
    check = _open_check(home)
    assert selectors.check_get(_scope(world, "supervisor"), check.pk) == check
    assert list(selectors.check_list(_scope(world, "grid_worker"), status="open")) == [check]
    assert list(selectors.check_list(_scope(world, "grid_worker"), status="closed")) == []
    for role, side in (("volunteer", "a"), ("community_admin", "b")):
        with pytest.raises(Http404):
            selectors.check_get(_scope(world, role, side), check.pk)
    check_reassign(actor=None, check=check, assignee=home.volunteer, now=T0)
    volunteer = scope_for(home.volunteer)
    assert selectors.check_get(volunteer, check.pk) == check
    assert list(selectors.check_list(volunteer)) == []  # the list is the community's
    assert list(selectors.my_checks(home.volunteer)) == [check]
    assert selectors.has_open_checks(home.volunteer)
    assert list(
        selectors.check_list(_scope(world, "grid_worker"), assignee_id=home.volunteer.pk)
    ) == [check]


def test_my_checks_lists_open_checks_most_urgent_first(home: Home, world: Any):
    first = _open_check(home)
    other = Resident.objects.create(community=world.a.community, name="翠苑 王奶奶")
    from anwang.welfare.services import watch_enrol

    watch_enrol(
        actor=None,
        resident=other,
        consent_how="form",
        assignee=home.grid_worker,
        escalate_after_minutes=30,
        now=T0 + dt.timedelta(hours=1),
    )
    welfare_checks_run(now=T0 + dt.timedelta(hours=25))
    second = WelfareCheck.objects.get(watch__resident=other)
    # Opened later, but due to escalate first (30 minutes).
    assert second.escalate_at < first.escalate_at
    assert list(selectors.my_checks(home.grid_worker)) == [second, first]
    check_close(actor=None, check=second, outcome="safe", now=T0 + dt.timedelta(hours=25))
    assert list(selectors.my_checks(home.grid_worker)) == [first]


def test_assignee_choices_are_the_community_s_volunteers_grid_workers_and_admins(
    home: Home, world: Any
):
    choices = set(
        selectors.assignee_choices(_scope(world, "community_admin"), world.a.community.pk)
    )
    assert choices == {
        world.user("volunteer"),
        world.user("grid_worker"),
        world.user("community_admin"),
    }
    assert not selectors.assignee_choices(
        _scope(world, "community_admin", "b"), world.a.community.pk
    )


def test_enrollable_residents_leave_out_those_enrolled(home: Home, world: Any):
    scope = _scope(world, "community_admin")
    other = Resident.objects.create(community=world.a.community, name="翠苑 赵六")
    assert list(selectors.enrollable_residents(scope, world.a.community.pk)) == [other]
    watch_end(actor=None, watch=home.watch, now=T0)
    assert set(selectors.enrollable_residents(scope, world.a.community.pk)) == {
        other,
        home.resident,
    }
    assert not selectors.enrollable_residents(_scope(world, "supervisor"), world.a.community.pk)


# --------------------------------------------------------------------------- status


def test_status_says_how_long_it_has_been_quiet_and_when_a_check_would_open(home: Home):
    home.sensor(T0 + dt.timedelta(hours=2))
    status = selectors.watch_status(home.watch, now=T0 + dt.timedelta(hours=12))
    assert status.last_activity_at == T0 + dt.timedelta(hours=2)
    assert status.quiet_since == T0 + dt.timedelta(hours=2)
    assert status.quiet_for_hours == 10
    assert status.threshold_hours == 24
    assert status.baseline is None
    assert not status.paused
    assert status.open_check is None
    assert not status.ended
    assert status.next_check_at == T0 + dt.timedelta(hours=26)
    assert "24 hours" in status.explanation[0]
    assert "not known yet" in status.explanation[1]

    check = _open_check(home, hours=26)
    status = selectors.watch_status(home.watch, now=T0 + dt.timedelta(hours=27))
    assert status.open_check == check
    assert status.next_check_at is None


def test_status_of_a_paused_and_an_ended_enrolment(home: Home):
    now = T0 + dt.timedelta(hours=1)
    watch_pause(actor=None, watch=home.watch, until=now + dt.timedelta(days=2), now=now)
    status = selectors.watch_status(home.watch, now=now)
    assert status.paused
    assert status.next_check_at == now + dt.timedelta(days=3)
    watch_end(actor=None, watch=home.watch, now=now)
    status = selectors.watch_status(home.watch, now=now)
    assert status.ended
    assert status.next_check_at is None
    assert status.quiet_for_hours is None


def test_status_explains_a_baseline(home: Home):
    WelfareWatch.objects.filter(pk=home.watch.pk).update(baseline_hours=30.0)
    home.watch.refresh_from_db()
    status = selectors.watch_status(home.watch, now=T0)
    assert status.threshold_hours == 30
    assert status.baseline == Baseline(hours=30.0, weeks=0)
    assert "30 hours" in status.explanation[1]
    assert "after 30 hours" in status.explanation[2]


# --------------------------------------------------------------------------- baseline


def _times(*, days: float, gaps: dict[float, float] | None = None) -> list[dt.datetime]:
    """Activity every two hours over the last ``days`` before T0, with a quiet spell of
    ``hours`` ending ``ago`` days before T0 for each ``ago: hours`` of ``gaps``."""
    spells = [
        (T0 - dt.timedelta(days=ago, hours=hours), T0 - dt.timedelta(days=ago))
        for ago, hours in (gaps or {}).items()
    ]
    times = [start for start, _end in spells]
    at = T0 - dt.timedelta(days=days)
    while at <= T0:
        if not any(start < at < end for start, end in spells):
            times.append(at)
        at += dt.timedelta(hours=2)
    return sorted(times)


def test_baseline_is_the_median_of_each_week_s_longest_quiet_spell():
    # Longest spells: 10 h in the last week, 20 h, 40 h, and 2 h in the fourth week back.
    times = _times(days=35, gaps={3: 10, 10: 20, 17: 40})
    assert selectors.baseline_from(times, now=T0) == Baseline(hours=15.0, weeks=4)


def test_the_silence_going_on_now_is_not_a_usual_spell():
    # Ten days of activity, none in the last 100 hours: that silence is being measured.
    times = [time for time in _times(days=10) if time <= T0 - dt.timedelta(hours=100)]
    assert selectors.baseline_from(times, now=T0) == Baseline(hours=2.0, weeks=2)


def test_a_spell_counts_in_the_week_it_ends():
    # A spell counts in the week it ends (8 days ago: the second week back): 2, 60, 2, 2.
    times = _times(days=35, gaps={8: 60})
    assert selectors.baseline_from(times, now=T0) == Baseline(hours=2.0, weeks=4)
    times = _times(days=35, gaps={8: 60, 15: 60})  # 2, 60, 60, 2
    assert selectors.baseline_from(times, now=T0) == Baseline(hours=31.0, weeks=4)


def test_baseline_needs_two_weeks_of_history():
    assert selectors.baseline_from([], now=T0) is None
    assert selectors.baseline_from(_times(days=5), now=T0) is None
    assert selectors.baseline_from(_times(days=10), now=T0) == Baseline(hours=2.0, weeks=2)


def test_threshold_is_the_hours_raised_by_the_baseline_up_to_twice(home: Home):
    watch = home.watch
    assert selectors.threshold_hours(watch, None) == 24
    assert selectors.threshold_hours(watch, Baseline(hours=10, weeks=4)) == 24
    assert selectors.threshold_hours(watch, Baseline(hours=30, weeks=4)) == 30
    assert selectors.threshold_hours(watch, Baseline(hours=100, weeks=4)) == 48
    watch.use_baseline = False
    assert selectors.threshold_hours(watch, Baseline(hours=30, weeks=4)) == 24


def test_report_is_only_for_those_who_see_the_community(home: Home, world: Any):
    with pytest.raises(Http404):
        selectors.false_alarm_report(
            _scope(world, "volunteer"), community_id=world.a.community.pk, now=T0
        )
    rows = selectors.false_alarm_report(
        _scope(world, "supervisor"), community_id=world.a.community.pk, months=6, now=T0
    )
    assert [row.month for row in rows] == [
        dt.date(2025, 3, 1),
        dt.date(2025, 2, 1),
        dt.date(2025, 1, 1),
        dt.date(2024, 12, 1),
        dt.date(2024, 11, 1),
        dt.date(2024, 10, 1),
    ]
    assert all(row.is_total and row.checks == 0 for row in rows)

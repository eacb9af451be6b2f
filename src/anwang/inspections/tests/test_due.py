"""The due computation: pure, with the clock passed in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from anwang.inspections.choices import DueStatus
from anwang.inspections.due import due_state, occurrences, periods_around

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 1, 1, 8, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int = 12, month: int = 1) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def test_before_the_first_period_nothing_is_due() -> None:
    state = due_state(
        rule="FREQ=DAILY", first_start=START, now=START - dt.timedelta(hours=1), last_done=None
    )
    assert state.status == DueStatus.NOT_STARTED
    assert not state.needs_inspection


def test_in_the_first_period_without_inspection_it_is_due_by_the_periods_end() -> None:
    state = due_state(rule="FREQ=DAILY", first_start=START, now=at(1), last_done=None)
    assert state.status == DueStatus.DUE
    assert state.due_by == at(2, 8)


def test_inspected_in_the_current_period_is_done() -> None:
    state = due_state(rule="FREQ=DAILY", first_start=START, now=at(3, 20), last_done=at(3, 9))
    assert state.status == DueStatus.DONE
    assert state.due_by == at(4, 8)


def test_an_inspection_before_the_period_opened_does_not_count() -> None:
    # Inspected at 07:00 on the 3rd: that belongs to the period of the 2nd.
    state = due_state(rule="FREQ=DAILY", first_start=START, now=at(3, 9), last_done=at(3, 7))
    assert state.status == DueStatus.DUE


def test_a_missed_whole_period_makes_it_overdue() -> None:
    state = due_state(rule="FREQ=DAILY", first_start=START, now=at(4, 9), last_done=at(2, 9))
    assert state.status == DueStatus.OVERDUE
    assert state.overdue_since == at(4, 8)


def test_never_inspected_is_overdue_after_the_first_period() -> None:
    state = due_state(rule="FREQ=WEEKLY", first_start=START, now=at(9), last_done=None)
    assert state.status == DueStatus.OVERDUE


def test_an_asset_added_during_the_previous_period_is_only_due() -> None:
    state = due_state(
        rule="FREQ=DAILY",
        first_start=START,
        now=at(4, 9),
        last_done=None,
        member_since=at(3, 20),
    )
    assert state.status == DueStatus.DUE


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (at(15), at(1, 8), at(1, 8, month=2)),
        (at(1, 9, month=2), at(1, 8, month=2), at(1, 8, month=3)),
    ],
)
def test_monthly_periods(now: dt.datetime, start: dt.datetime, end: dt.datetime) -> None:
    current, _ = periods_around(rule="FREQ=MONTHLY", first_start=START, now=now)
    assert current is not None
    assert (current.start, current.end) == (start, end)


def test_weekly_on_mondays() -> None:
    current, previous = periods_around(
        rule="FREQ=WEEKLY;BYDAY=MO", first_start=START, now=at(14)
    )  # Wednesday 14 Jan 2026
    assert current is not None
    assert previous is not None
    assert current.start == at(12, 8)
    assert previous.start == at(5, 8)


def test_a_period_that_ended_is_overdue_only_with_a_later_now() -> None:
    """The same facts give different answers as the controllable clock moves on."""
    last = at(1, 9)
    assert due_state(
        rule="FREQ=DAILY", first_start=START, now=at(1, 23), last_done=last
    ).status == (DueStatus.DONE)
    assert due_state(rule="FREQ=DAILY", first_start=START, now=at(2, 9), last_done=last).status == (
        DueStatus.DUE
    )
    assert due_state(rule="FREQ=DAILY", first_start=START, now=at(3, 9), last_done=last).status == (
        DueStatus.OVERDUE
    )


def test_daily_stays_at_wall_time_across_daylight_saving() -> None:
    first = dt.datetime(2026, 3, 27, 8, 0, tzinfo=BERLIN)
    starts = occurrences(
        rule="FREQ=DAILY",
        first_start=first,
        since=first,
        until=first + dt.timedelta(days=3),
    )
    assert [s.hour for s in starts] == [8, 8, 8]
    real = [s.astimezone(dt.UTC) for s in starts]
    assert real[1] - real[0] == dt.timedelta(hours=24)
    assert real[2] - real[1] == dt.timedelta(hours=23)  # clocks went forward on the 29th


def test_first_start_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_state(
            rule="FREQ=DAILY",
            first_start=dt.datetime(2026, 1, 1),  # noqa: DTZ001
            now=at(2),
            last_done=None,
        )

"""The timing of a run in progress without the database: next stop, late, missed, overdue."""

from __future__ import annotations

import datetime as dt

from anwang.patrols.monitoring import GRACE_SECONDS, planned_seconds, run_timing

START = dt.datetime(2026, 3, 1, 22, 0, tzinfo=dt.UTC)
PLAN = [
    {"checkpoint": 1, "name": "北门", "dwell_seconds": 30, "max_gap_seconds": 600},
    {"checkpoint": 2, "name": "花园", "dwell_seconds": 30, "max_gap_seconds": 600},
    {"checkpoint": 3, "name": "商铺", "dwell_seconds": 30, "max_gap_seconds": 600},
]


def at(minutes: float) -> dt.datetime:
    """``minutes`` after the start."""
    return START + dt.timedelta(minutes=minutes)


def test_the_first_stop_is_due_its_gap_after_the_start() -> None:
    timing = run_timing(plan=PLAN, started_at=START, check_ins=[], now=at(1))
    assert timing.next_stop is not None
    assert timing.next_stop.index == 0
    assert timing.next_stop.due_at == at(10)
    assert (timing.done, timing.planned) == (0, 3)
    assert not timing.missed
    assert not timing.overdue


def test_the_next_stop_is_due_after_the_previous_check_in() -> None:
    timing = run_timing(plan=PLAN, started_at=START, check_ins=[(1, at(4))], now=at(5))
    assert timing.next_stop is not None
    assert timing.next_stop.index == 1
    assert timing.next_stop.due_at == at(14)
    assert timing.done == 1


def test_late_but_within_grace_is_not_missed() -> None:
    now = at(10) + dt.timedelta(seconds=GRACE_SECONDS)
    timing = run_timing(plan=PLAN, started_at=START, check_ins=[], now=now)
    assert timing.stops[0].late
    assert not timing.stops[0].missed
    assert timing.next_stop is not None
    assert timing.next_stop.index == 0


def test_missed_after_the_grace_and_the_next_stop_moves_on() -> None:
    now = at(10) + dt.timedelta(seconds=GRACE_SECONDS + 1)
    timing = run_timing(plan=PLAN, started_at=START, check_ins=[], now=now)
    assert [stop.index for stop in timing.missed] == [0]
    assert timing.next_stop is not None
    assert timing.next_stop.index == 1
    assert timing.next_stop.due_at == at(20)


def test_a_check_in_after_its_due_time_is_late_not_missed() -> None:
    timing = run_timing(plan=PLAN, started_at=START, check_ins=[(1, at(13))], now=at(14))
    assert timing.stops[0].late
    assert not timing.stops[0].missed
    assert timing.next_stop is not None
    assert timing.next_stop.due_at == at(23)


def test_out_of_order_and_duplicate_check_ins() -> None:
    check_ins = [(3, at(6)), (1, at(3)), (1, at(2)), (None, at(1)), (3, at(30))]
    timing = run_timing(plan=PLAN, started_at=START, check_ins=check_ins, now=at(7))
    assert timing.stops[0].checked_at == at(2)  # the earliest counts
    assert timing.stops[2].checked_at == at(6)
    assert timing.done == 2
    assert timing.next_stop is not None
    assert timing.next_stop.index == 1
    assert timing.next_stop.due_at == at(12)


def test_overdue_after_one_and_a_half_times_the_planned_length() -> None:
    assert planned_seconds(PLAN) == 3 * 630
    limit = START + dt.timedelta(seconds=3 * 630 * 1.5)
    before = run_timing(plan=PLAN, started_at=START, check_ins=[(1, at(1))], now=limit)
    after = run_timing(
        plan=PLAN, started_at=START, check_ins=[(1, at(1))], now=limit + dt.timedelta(seconds=1)
    )
    assert not before.overdue
    assert after.overdue
    assert after.due_by == limit


def test_a_complete_run_is_never_overdue_or_missing_anything() -> None:
    check_ins = [(1, at(1)), (2, at(2)), (3, at(3))]
    timing = run_timing(plan=PLAN, started_at=START, check_ins=check_ins, now=at(500))
    assert timing.next_stop is None
    assert not timing.missed
    assert not timing.overdue
    assert timing.done == 3


def test_an_empty_plan() -> None:
    timing = run_timing(plan=[], started_at=START, check_ins=[], now=at(500))
    assert timing.next_stop is None
    assert timing.planned == 0
    assert not timing.overdue


def test_each_gap_is_the_time_allowed_to_the_next_stop() -> None:
    # The route's page calls it "maximum gap to the next stop": 15 minutes from the gate to the
    # garden, then 2 minutes to the shop next door.
    plan = [
        {"checkpoint": 1, "name": "北门", "dwell_seconds": 0, "max_gap_seconds": 900},
        {"checkpoint": 2, "name": "花园", "dwell_seconds": 0, "max_gap_seconds": 120},
        {"checkpoint": 3, "name": "商铺", "dwell_seconds": 0, "max_gap_seconds": 600},
    ]
    timing = run_timing(plan=plan, started_at=START, check_ins=[(1, at(1))], now=at(10))
    assert timing.stops[0].due_at == at(15)  # the first stop: its own gap after the start
    assert timing.next_stop is not None
    assert timing.next_stop.index == 1
    assert timing.next_stop.due_at == at(16)  # the gate's 15 minutes, not the garden's 2
    assert not timing.missed
    timing = run_timing(
        plan=plan, started_at=START, check_ins=[(1, at(1)), (2, at(12))], now=at(13)
    )
    assert timing.next_stop is not None
    assert timing.next_stop.due_at == at(14)  # the garden's 2 minutes


def test_a_checkpoint_planned_twice_needs_two_check_ins() -> None:
    # A round that starts and ends at the gate: the first check-in there covers only the first
    # visit; the last stop is missed when the guard never comes back.
    plan = [
        {"checkpoint": 1, "name": "北门", "dwell_seconds": 0, "max_gap_seconds": 600},
        {"checkpoint": 2, "name": "花园", "dwell_seconds": 0, "max_gap_seconds": 600},
        {"checkpoint": 1, "name": "北门", "dwell_seconds": 0, "max_gap_seconds": 600},
    ]
    timing = run_timing(plan=plan, started_at=START, check_ins=[(1, at(1)), (2, at(5))], now=at(30))
    assert [stop.checked_at for stop in timing.stops] == [at(1), at(5), None]
    assert timing.done == 2
    assert [stop.index for stop in timing.missed] == [2]
    # Coming back covers the last stop, whatever order the check-ins arrive in.
    check_ins = [(1, at(9)), (2, at(5)), (1, at(1))]
    timing = run_timing(plan=plan, started_at=START, check_ins=check_ins, now=at(30))
    assert [stop.checked_at for stop in timing.stops] == [at(1), at(5), at(9)]
    assert timing.done == 3
    assert not timing.missed

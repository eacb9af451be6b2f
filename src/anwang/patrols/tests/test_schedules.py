"""Patrol shifts from recurrence rules, the secret per-shift plan, and the iCalendar export."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import icalendar
import pytest

from anwang.core.ical import CalendarEntry, calendar_ics
from anwang.patrols.schedules import (
    ScheduleError,
    Shift,
    planned_order,
    planned_start,
    rrule_clean,
    shifts,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
KEY = b"k" * 32


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = SHANGHAI
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("given", "clean"),
    [
        ("FREQ=DAILY", "FREQ=DAILY"),
        ("rrule:freq=weekly;byday=fr,sa", "FREQ=WEEKLY;BYDAY=FR,SA"),
        (" FREQ=HOURLY;INTERVAL=2;BYHOUR=22,0,2,4 ", "FREQ=HOURLY;INTERVAL=2;BYHOUR=22,0,2,4"),
        ("FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12", "FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12"),
    ],
)
def test_rules_are_cleaned(given: str, clean: str) -> None:
    assert rrule_clean(given) == clean


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "Enter a recurrence rule"),
        ("FREQ=MINUTELY", "hourly, daily, weekly or monthly"),
        ("BYDAY=MO", "hourly, daily, weekly or monthly"),
        ("FREQ=DAILY;DTSTART=20260101T000000", "DTSTART is not used here"),
        ("FREQ=DAILY;BYMINUTE=5", "BYMINUTE is not used here"),
        ("FREQ=DAILY;BYDAY=XX", "not a valid recurrence rule"),
        ("FREQ=DAILY\nFREQ=WEEKLY", "one RRULE line"),
        ("FREQ=DAILY;FREQ=WEEKLY", "each part of the recurrence rule once"),
        ("FREQ=WEEKLY;BYDAY=MO;BYDAY=XX", "each part of the recurrence rule once"),
        ("FREQ=DAILY;COUNT", "not a valid recurrence rule"),
    ],
)
def test_unusable_rules_say_why(given: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        rrule_clean(given)


def test_nightly_shifts_in_a_week_with_one_already_running() -> None:
    found = shifts(
        rule="FREQ=DAILY",
        first_start=local(2026, 11, 1, 22, 0),
        duration=dt.timedelta(hours=2),
        since=local(2026, 11, 10, 23, 0),  # the shift of the 10th is under way
        until=local(2026, 11, 13, 0, 0),
    )
    assert [shift.start for shift in found] == [
        local(2026, 11, 10, 22, 0),
        local(2026, 11, 11, 22, 0),
        local(2026, 11, 12, 22, 0),
    ]
    assert found[0] == Shift(
        start=local(2026, 11, 10, 22, 0), end=local(2026, 11, 11, 0, 0), key="20261110T2200"
    )


def test_weekends_only_and_nothing_before_the_first_shift() -> None:
    found = shifts(
        rule="FREQ=WEEKLY;BYDAY=SA,SU",
        first_start=local(2026, 11, 21, 9, 0),
        duration=dt.timedelta(hours=1),
        since=local(2026, 11, 1),
        until=local(2026, 12, 1),
    )
    assert [shift.start.day for shift in found] == [21, 22, 28, 29]


def test_a_count_ends_the_schedule_and_expansion_is_bounded() -> None:
    assert (
        len(
            shifts(
                rule="FREQ=DAILY;COUNT=3",
                first_start=local(2026, 1, 1, 8),
                duration=dt.timedelta(hours=1),
                since=local(2026, 1, 1),
                until=local(2027, 1, 1),
            )
        )
        == 3
    )
    many = shifts(
        rule="FREQ=HOURLY",
        first_start=local(2026, 1, 1, 0),
        duration=dt.timedelta(minutes=30),
        since=local(2026, 1, 1),
        until=local(2027, 1, 1),
    )
    assert len(many) == 2000


def test_shifts_keep_their_wall_time_across_daylight_saving() -> None:
    found = shifts(
        rule="FREQ=DAILY",
        first_start=local(2026, 3, 27, 22, 0, zone=BERLIN),
        duration=dt.timedelta(hours=2),
        since=local(2026, 3, 27, zone=BERLIN),
        until=local(2026, 3, 31, zone=BERLIN),
    )
    assert [shift.start.hour for shift in found] == [22, 22, 22, 22]
    assert found[0].start.utcoffset() != found[-1].start.utcoffset()


def test_a_night_shift_across_daylight_saving_lasts_its_real_length() -> None:
    # Berlin moves the clocks from 02:00 to 03:00 on 29 March 2026: the eight-hour night shift
    # from 22:00 ends at 07:00 on the clock, not at 06:00 (which would be seven hours).
    found = shifts(
        rule="FREQ=DAILY",
        first_start=local(2026, 3, 27, 22, 0, zone=BERLIN),
        duration=dt.timedelta(hours=8),
        since=local(2026, 3, 28, 12, zone=BERLIN),
        until=local(2026, 3, 29, 12, zone=BERLIN),
    )
    assert [shift.key for shift in found] == ["20260328T2200"]
    night = found[0]
    assert night.end.astimezone(dt.UTC) - night.start.astimezone(dt.UTC) == dt.timedelta(hours=8)
    assert (night.end.hour, night.end.minute) == (7, 0)
    # A random start uses the real length (8 h), not the wall clock's 9 h, so it stays within.
    starts = [
        planned_start(
            shift=night, key=bytes([n]) * 32, schedule_id=1, route_seconds=0, randomise=True
        ).astimezone(dt.UTC)
        for n in range(200)
    ]
    ends = night.end.astimezone(dt.UTC)
    assert all(night.start.astimezone(dt.UTC) <= start <= ends for start in starts)
    assert max(starts) > ends - dt.timedelta(minutes=30)


def test_a_shift_at_a_skipped_time_starts_when_the_clock_reaches_it() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026; that day's shift starts at 03:30.
    found = shifts(
        rule="FREQ=DAILY",
        first_start=local(2026, 3, 27, 2, 30, zone=BERLIN),
        duration=dt.timedelta(hours=1),
        since=local(2026, 3, 28, 12, zone=BERLIN),
        until=local(2026, 3, 30, zone=BERLIN),
    )
    day = next(shift for shift in found if shift.key == "20260329T0230")
    assert (day.start.hour, day.start.minute) == (3, 30)
    assert day.start.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert day.end.astimezone(dt.UTC) - day.start.astimezone(dt.UTC) == dt.timedelta(hours=1)


def test_a_shift_across_midnight_overlaps_both_days() -> None:
    found = shifts(
        rule="FREQ=DAILY",
        first_start=local(2026, 11, 1, 22, 0),
        duration=dt.timedelta(hours=8),
        since=local(2026, 11, 11, 3, 0),
        until=local(2026, 11, 11, 4, 0),
    )
    assert [shift.key for shift in found] == ["20261110T2200"]
    assert found[0].end == local(2026, 11, 11, 6, 0)


def test_shift_length_is_checked() -> None:
    for duration in (dt.timedelta(0), dt.timedelta(hours=25)):
        with pytest.raises(ScheduleError, match="at most 24 hours"):
            shifts(
                rule="FREQ=DAILY",
                first_start=local(2026, 1, 1, 8),
                duration=duration,
                since=local(2026, 1, 1),
                until=local(2026, 1, 2),
            )


SHIFT = Shift(start=local(2026, 11, 10, 22, 0), end=local(2026, 11, 11, 0, 0), key="20261110T2200")


def test_a_fixed_start_is_the_shifts_start() -> None:
    assert (
        planned_start(shift=SHIFT, key=KEY, schedule_id=1, route_seconds=1800, randomise=False)
        == SHIFT.start
    )


def test_a_random_start_is_stable_leaves_time_for_the_route_and_varies() -> None:
    starts = []
    for day in range(1, 31):
        shift = Shift(
            start=local(2026, 11, day, 22, 0),
            end=local(2026, 11, day, 23, 59),
            key=f"202611{day:02d}T2200",
        )
        start = planned_start(
            shift=shift, key=KEY, schedule_id=7, route_seconds=3600, randomise=True
        )
        again = planned_start(
            shift=shift, key=KEY, schedule_id=7, route_seconds=3600, randomise=True
        )
        assert start == again
        assert shift.start <= start <= shift.end - dt.timedelta(hours=1)
        starts.append(start - shift.start)
    assert len(set(starts)) > 10  # not one fixed offset
    # Another key gives another plan: outsiders without it cannot compute it.
    other = [
        planned_start(
            shift=Shift(
                start=local(2026, 11, day, 22, 0),
                end=local(2026, 11, day, 23, 59),
                key=f"202611{day:02d}T2200",
            ),
            key=b"x" * 32,
            schedule_id=7,
            route_seconds=3600,
            randomise=True,
        )
        - local(2026, 11, day, 22, 0)
        for day in range(1, 31)
    ]
    assert other != starts


def test_no_slack_means_the_shifts_start() -> None:
    assert (
        planned_start(shift=SHIFT, key=KEY, schedule_id=1, route_seconds=7200, randomise=True)
        == SHIFT.start
    )


def test_a_random_order_is_a_stable_permutation_that_changes_between_shifts() -> None:
    stops = [11, 12, 13, 14, 15, 16]
    assert (
        planned_order(stop_ids=stops, key=KEY, schedule_id=3, shift_key="x", randomise=False)
        == stops
    )
    orders = [
        tuple(
            planned_order(stop_ids=stops, key=KEY, schedule_id=3, shift_key=f"s{n}", randomise=True)
        )
        for n in range(40)
    ]
    assert all(sorted(order) == stops for order in orders)
    assert orders[0] == tuple(
        planned_order(stop_ids=stops, key=KEY, schedule_id=3, shift_key="s0", randomise=True)
    )
    assert len(set(orders)) > 30
    # Every stop comes first sometimes: no checkpoint is always visited first.
    assert len(Counter(order[0] for order in orders)) == len(stops)


def test_the_calendar_repeats_each_schedule_without_its_secret_plan() -> None:
    updated = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    content = calendar_ics(
        [
            CalendarEntry(
                uid="patrol-schedule-7@anwang",
                summary="夜间巡逻 · 东区路线",
                start=local(2026, 11, 1, 22, 0),
                duration=dt.timedelta(hours=2),
                rule="FREQ=DAILY",
                updated_at=updated,
                description="6 个巡更点",
                location="翠苑社区",
            )
        ],
        name="翠苑社区 巡逻排班",
    )
    calendar = icalendar.Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]) == "patrol-schedule-7@anwang"
    assert str(event["summary"]) == "夜间巡逻 · 东区路线"
    assert event.decoded("dtstart") == local(2026, 11, 1, 22, 0)
    assert event.decoded("duration") == dt.timedelta(hours=2)
    assert event["rrule"].to_ical() == b"FREQ=DAILY"
    assert str(event["location"]) == "翠苑社区"
    # The zone is defined in the file, as calendar apps need.
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Asia/Shanghai"
    assert b"TZID=Asia/Shanghai" in content

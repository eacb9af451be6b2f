"""Rule schedules: windows across midnight, workdays by China's calendar, holidays."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anwang.rules.schedule import first_armed, is_armed, validate_schedule
from anwang.rules.tests.conftest import SHANGHAI, local

NIGHT = {"windows": [{"start": "22:00", "end": "06:00"}]}
# 2026: National Day holidays 1-7 October, Sunday 27 September and Saturday 10 October worked.
HOLIDAYS = {
    **{dt.date(2026, 10, day): False for day in range(1, 8)},
    dt.date(2026, 9, 27): True,
    dt.date(2026, 10, 10): True,
}


def armed(schedule: dict[str, Any], moment: dt.datetime) -> bool:
    return is_armed(schedule, moment, tz=SHANGHAI, holidays=HOLIDAYS)


def test_empty_schedule_is_always_armed() -> None:
    assert armed({}, local(2026, 10, 3, 12, 0))
    assert armed({"days": "all", "holidays": "any"}, local(2026, 10, 3, 12, 0))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ((2026, 11, 27, 21, 59, 59), False),
        ((2026, 11, 27, 22, 0, 0), True),
        ((2026, 11, 27, 23, 59, 59), True),
        ((2026, 11, 28, 0, 0, 0), True),
        ((2026, 11, 28, 5, 59, 59), True),
        ((2026, 11, 28, 6, 0, 0), False),
        ((2026, 11, 28, 12, 0, 0), False),
    ],
)
def test_night_window_boundaries(moment: tuple[int, ...], expected: bool) -> None:
    year, month, day, hour, minute, second = moment
    assert armed(NIGHT, local(year, month, day, hour, minute, second)) is expected


def test_the_zone_decides_the_local_time() -> None:
    # 14:30 UTC is 22:30 in Shanghai.
    moment = dt.datetime(2026, 11, 27, 14, 30, tzinfo=dt.UTC)
    assert is_armed(NIGHT, moment, tz=SHANGHAI, holidays={})
    assert not is_armed(NIGHT, moment, tz=dt.UTC, holidays={})


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    workday_nights = {**NIGHT, "days": "workdays"}
    # Friday night into Saturday morning is Friday's.
    assert armed(workday_nights, local(2026, 11, 27, 23, 30))
    assert armed(workday_nights, local(2026, 11, 28, 1, 0))
    # Saturday night and Sunday night into Monday morning are the weekend's.
    assert not armed(workday_nights, local(2026, 11, 28, 23, 0))
    assert not armed(workday_nights, local(2026, 11, 30, 1, 0))
    # Monday night is Monday's.
    assert armed(workday_nights, local(2026, 11, 30, 23, 0))
    weekend_nights = {**NIGHT, "days": [5, 6]}
    assert armed(weekend_nights, local(2026, 11, 30, 1, 0))
    assert not armed(weekend_nights, local(2026, 11, 28, 1, 0))


def test_workdays_follow_the_holiday_calendar() -> None:
    workdays = {"days": "workdays"}
    weekends = {"days": "weekends"}
    # A holiday Thursday is not a workday, the worked Saturday (调休) is.
    assert not armed(workdays, local(2026, 10, 1, 12, 0))
    assert armed(weekends, local(2026, 10, 1, 12, 0))
    assert armed(workdays, local(2026, 10, 10, 12, 0))
    assert not armed(weekends, local(2026, 10, 10, 12, 0))
    assert armed(workdays, local(2026, 9, 27, 12, 0))
    # A plain Saturday and a plain Wednesday.
    assert armed(weekends, local(2026, 11, 28, 12, 0))
    assert armed(workdays, local(2026, 11, 25, 12, 0))
    # A list of weekdays ignores the calendar: the worked Saturday is still a Saturday.
    assert armed({"days": [5]}, local(2026, 10, 10, 12, 0))


def test_holidays_excluded_or_only() -> None:
    assert not armed({"holidays": "exclude"}, local(2026, 10, 3, 12, 0))
    assert armed({"holidays": "exclude"}, local(2026, 10, 10, 12, 0))
    assert armed({"holidays": "only"}, local(2026, 10, 3, 12, 0))
    # A worked weekend day (调休) is not a holiday.
    assert not armed({"holidays": "only"}, local(2026, 10, 10, 12, 0))
    # Holiday nights: the night that starts on 7 October ends on the 8th, a workday.
    nights = {**NIGHT, "holidays": "only"}
    assert armed(nights, local(2026, 10, 8, 2, 0))
    assert not armed(nights, local(2026, 10, 8, 23, 0))


def test_several_windows() -> None:
    schedule = {"windows": [{"start": "08:00", "end": "09:00"}, {"start": "18:00", "end": "19:00"}]}
    assert armed(schedule, local(2026, 11, 27, 8, 30))
    assert not armed(schedule, local(2026, 11, 27, 12, 0))
    assert armed(schedule, local(2026, 11, 27, 18, 59, 59))
    assert not armed(schedule, local(2026, 11, 27, 19, 0))


def first(schedule: dict[str, Any], since: dt.datetime, until: dt.datetime) -> Any:
    return first_armed(schedule, since, until, tz=SHANGHAI, holidays=HOLIDAYS)


def test_first_armed_moment() -> None:
    evening = local(2026, 11, 27, 21, 0)
    assert first({}, evening, evening) == evening
    assert first(NIGHT, evening, local(2026, 11, 27, 21, 59)) is None
    assert first(NIGHT, evening, local(2026, 11, 27, 22, 0)) == local(2026, 11, 27, 22, 0)
    assert first(NIGHT, local(2026, 11, 28, 3, 0), local(2026, 11, 28, 4, 0)) == local(
        2026, 11, 28, 3, 0
    )
    # From Friday noon, workday nights: Friday 22:00.
    workday_nights = {**NIGHT, "days": "workdays"}
    noon = local(2026, 11, 27, 12, 0)
    assert first(workday_nights, noon, local(2026, 12, 5)) == local(2026, 11, 27, 22, 0)
    # From Saturday 07:00 the next is Monday 22:00.
    saturday = local(2026, 11, 28, 7, 0)
    assert first(workday_nights, saturday, local(2026, 12, 5)) == local(2026, 11, 30, 22, 0)
    # Holidays only: from late September to the first holiday.
    assert first({"holidays": "only"}, local(2026, 9, 28, 12, 0), local(2026, 12, 1)) == local(
        2026, 10, 1, 0, 0
    )
    assert first({"holidays": "only"}, local(2026, 10, 8), local(2026, 12, 1)) is None
    assert first({}, local(2026, 10, 8), local(2026, 10, 7)) is None


def test_valid_schedules() -> None:
    assert validate_schedule({}) == []
    assert (
        validate_schedule(
            {
                "windows": [{"start": "22:00", "end": "06:00"}, {"start": "12:00", "end": "13:00"}],
                "days": [0, 1, 2],
                "holidays": "exclude",
            }
        )
        == []
    )


@pytest.mark.parametrize(
    ("schedule", "path", "message"),
    [
        ([], "", "A schedule must be an object."),
        ({"hours": 1}, "", "Unknown keys: hours."),
        ({"windows": "22-06"}, "windows", "A list of time windows is needed."),
        ({"windows": [{"start": "22:00"}]}, "windows.0.end", "A time as HH:MM is needed."),
        ({"windows": [{"start": "7:00", "end": "08:00"}]}, "windows.0.start", "HH:MM"),
        ({"windows": [{"start": "08:00", "end": "08:00"}]}, "windows.0", "must differ"),
        ({"windows": [{"start": "08:00", "end": "09:00", "x": 1}]}, "windows.0", "Unknown keys"),
        ({"windows": [{"start": "08:00", "end": "09:00"}] * 25}, "windows", "at most 24"),
        ({"days": "weekdays"}, "days", "Use one of all, workdays, weekends"),
        ({"days": [7]}, "days", "List each day of the week once"),
        ({"days": [1, 1]}, "days", "List each day of the week once"),
        ({"days": []}, "days", "List each day of the week once"),
        ({"days": [True]}, "days", "List each day of the week once"),
        ({"holidays": "skip"}, "holidays", "Use one of any, exclude, only."),
        ({"days": "workdays", "holidays": "only"}, "holidays", "never armed"),
    ],
)
def test_invalid_schedules(schedule: Any, path: str, message: str) -> None:
    errors = validate_schedule(schedule)
    assert [e.path for e in errors] == [path]
    assert message in errors[0].message

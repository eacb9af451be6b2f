"""When a rule is armed: time windows, days and holidays. Pure: no ORM, no I/O.

A schedule is JSON data (empty: always armed)::

    {"windows": [{"start": "22:00", "end": "06:00"}, ...],   # none: the whole day
     "days": "all" | "workdays" | "weekends" | [0, ..., 6],  # default "all"; 0 = Monday
     "holidays": "any" | "exclude" | "only"}                 # default "any"

A window is ``[start, end)`` in local time; when ``start > end`` it crosses midnight and
belongs to the day it starts on: with Friday's ``22:00-06:00`` window, 23:30 Friday and 01:00
Saturday are both Friday's, so ``"days": "workdays"`` arms Friday night into Saturday morning
and not Sunday night into Monday morning.

Days follow China's calendar, given by the caller as ``holidays`` (date -> is it worked):

- ``workdays``: Monday to Friday, except public holidays, plus weekend days worked instead
  (调休, ``is_workday``);
- ``weekends``: the days off, i.e. every day that is not a workday (Saturdays and Sundays not
  worked, and public holidays);
- a list of weekday numbers: those weekdays, whatever the calendar says.

``holidays`` then keeps (``any``), leaves out (``exclude``) or keeps only (``only``) the public
holidays (dates in the calendar that are not worked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, Final

from django.utils.translation import gettext as _

from anwang.rules.conditions import ConditionError, in_time_window, parse_time

DAY_CHOICES: Final = ("all", "workdays", "weekends")
HOLIDAY_CHOICES: Final = ("any", "exclude", "only")
MAX_WINDOWS: Final = 24
# How far ahead first_armed() looks for an armed moment; a schedule armed only on holidays
# may wait months, beyond a year it never will with the calendar given.
_SEARCH_DAYS: Final = 400


def is_workday(day: dt.date, holidays: Mapping[dt.date, bool]) -> bool:
    """Whether a date is worked: the calendar's word if it has one, else Monday to Friday."""
    worked = holidays.get(day)
    return day.weekday() < 5 if worked is None else worked


def is_holiday(day: dt.date, holidays: Mapping[dt.date, bool]) -> bool:
    """Whether a date is a public holiday (in the calendar and not worked)."""
    return holidays.get(day) is False


def day_armed(schedule: Mapping[str, Any], day: dt.date, holidays: Mapping[dt.date, bool]) -> bool:
    """Whether the schedule's days and holidays allow a window starting on this date."""
    days = schedule.get("days", "all")
    if days == "workdays":
        allowed = is_workday(day, holidays)
    elif days == "weekends":
        allowed = not is_workday(day, holidays)
    elif isinstance(days, list):
        allowed = day.weekday() in days
    else:
        allowed = True
    if not allowed:
        return False
    rule = schedule.get("holidays", "any")
    if rule == "exclude":
        return not is_holiday(day, holidays)
    if rule == "only":
        return is_holiday(day, holidays)
    return True


def _windows(schedule: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The windows as minutes after midnight; the whole day when there are none."""
    found = []
    for window in schedule.get("windows") or ():
        if not isinstance(window, Mapping):
            continue
        start, end = window.get("start"), window.get("end")
        start_minute = parse_time(start) if isinstance(start, str) else None
        end_minute = parse_time(end) if isinstance(end, str) else None
        if start_minute is not None and end_minute is not None and start_minute != end_minute:
            found.append((start_minute, end_minute))
    return found or [(0, 24 * 60)]


def is_armed(
    schedule: Mapping[str, Any],
    at: dt.datetime,
    *,
    tz: dt.tzinfo,
    holidays: Mapping[dt.date, bool],
) -> bool:
    """Whether a rule with this schedule is armed at an aware moment (local to ``tz``)."""
    if not schedule:
        return True
    local = at.astimezone(tz)
    minute = local.hour * 60 + local.minute
    today = local.date()
    for start, end in _windows(schedule):
        if not in_time_window(minute, start, end):
            continue
        # A window crossing midnight belongs to the day it started on.
        day = today - dt.timedelta(days=1) if start > end and minute < end else today
        if day_armed(schedule, day, holidays):
            return True
    return False


def _intervals(
    schedule: Mapping[str, Any], day: dt.date, tz: dt.tzinfo
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The armed intervals ``[from, to)`` of the windows starting on one date."""
    for start, end in _windows(schedule):
        begin = dt.datetime.combine(day, dt.time(start // 60, start % 60), tzinfo=tz)
        end_day = day + dt.timedelta(days=1) if end <= start else day
        if end == 24 * 60:
            end_day, end = day + dt.timedelta(days=1), 0
        finish = dt.datetime.combine(end_day, dt.time(end // 60, end % 60), tzinfo=tz)
        yield begin, finish


def first_armed(
    schedule: Mapping[str, Any],
    since: dt.datetime,
    until: dt.datetime,
    *,
    tz: dt.tzinfo,
    holidays: Mapping[dt.date, bool],
) -> dt.datetime | None:
    """The first moment in ``[since, until]`` at which the rule is armed, or ``None``.

    A timer rule (a duration or an absence) fires there: a door held open since 21:00 under
    a 22:00-06:00 schedule fires at 22:00, and a worker restarted at 23:00 finds the same
    moment.
    """
    if since > until:
        return None
    if is_armed(schedule, since, tz=tz, holidays=holidays):
        return since
    # Windows that start on the day before may still be open; a schedule may wait months.
    day = since.astimezone(tz).date() - dt.timedelta(days=1)
    last = min(until.astimezone(tz).date(), day + dt.timedelta(days=_SEARCH_DAYS))
    while day <= last:
        if day_armed(schedule, day, holidays):
            starts = [begin for begin, finish in _intervals(schedule, day, tz) if finish > since]
            if starts:
                # since itself is not armed, so every interval still open starts after it.
                moment = max(min(starts), since)
                return moment if moment <= until else None
        day += dt.timedelta(days=1)
    return None


def validate_schedule(schedule: Any) -> list[ConditionError]:
    """Every problem of a schedule (empty when it is usable)."""
    if not isinstance(schedule, Mapping):
        return [ConditionError("", _("A schedule must be an object."))]
    errors: list[ConditionError] = []
    extra = sorted(str(key) for key in schedule if key not in {"windows", "days", "holidays"})
    if extra:
        errors.append(ConditionError("", _("Unknown keys: %(keys)s.") % {"keys": ", ".join(extra)}))
    windows = schedule.get("windows", [])
    if not isinstance(windows, list):
        errors.append(ConditionError("windows", _("A list of time windows is needed.")))
    elif len(windows) > MAX_WINDOWS:
        errors.append(
            ConditionError(
                "windows",
                _("A schedule may hold at most %(count)d windows.") % {"count": MAX_WINDOWS},
            )
        )
    else:
        for index, window in enumerate(windows):
            errors.extend(_window_errors(window, f"windows.{index}"))
    days = schedule.get("days", "all")
    if isinstance(days, list):
        valid = bool(days) and all(
            isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6 for day in days
        )
        if not valid or len(set(days)) != len(days):
            errors.append(
                ConditionError(
                    "days",
                    _("List each day of the week once, from 0 (Monday) to 6 (Sunday)."),
                )
            )
    elif days not in DAY_CHOICES:
        errors.append(
            ConditionError(
                "days",
                _("Use one of %(choices)s, or a list of days of the week.")
                % {"choices": ", ".join(DAY_CHOICES)},
            )
        )
    holidays = schedule.get("holidays", "any")
    if holidays not in HOLIDAY_CHOICES:
        errors.append(
            ConditionError(
                "holidays",
                _("Use one of %(choices)s.") % {"choices": ", ".join(HOLIDAY_CHOICES)},
            )
        )
    elif holidays == "only" and days == "workdays":
        errors.append(
            ConditionError("holidays", _("Holidays are never workdays: this is never armed."))
        )
    return errors


def _window_errors(window: Any, path: str) -> list[ConditionError]:
    if not isinstance(window, Mapping):
        return [ConditionError(path, _("A window needs a start and an end."))]
    extra = sorted(str(key) for key in window if key not in {"start", "end"})
    if extra:
        return [ConditionError(path, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(extra)})]
    errors = []
    for key in ("start", "end"):
        value = window.get(key)
        if not isinstance(value, str) or parse_time(value) is None:
            errors.append(ConditionError(f"{path}.{key}", _("A time as HH:MM is needed.")))
    if not errors and window["start"] == window["end"]:
        errors.append(ConditionError(path, _("The start and end of a time window must differ.")))
    return errors

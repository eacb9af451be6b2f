"""Patrol shifts from iCalendar recurrence rules, with a secret plan for each shift.

A patrol schedule says when a route is walked: a first shift (its local start and its length)
repeated by an RFC 5545 ``RRULE`` such as ``FREQ=DAILY`` or
``FREQ=WEEKLY;BYDAY=FR,SA``. The same rule goes into the ``.ics`` export, so a guard's
calendar app shows the same shifts as Anwang.

Within a shift, the run may start at a random time and visit the checkpoints in a random
order, so that someone watching from outside cannot learn the pattern. Both are derived from a
secret key, the schedule and the shift (a keyed hash), not drawn at random: every process and
every page computes the same plan for a shift, yet without the key it cannot be predicted. The
``.ics`` export carries the shift window only, never the plan.

Everything here is pure: no database, no clock; times are timezone-aware.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dateutil.rrule import rrule, rrulestr
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from anwang.core.errors import ServiceError

FREQUENCIES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY")
"""How often a schedule may repeat: a patrol every few minutes is not a patrol schedule."""
MAX_SHIFT = dt.timedelta(hours=24)
MAX_EXPANDED = 2000
"""Most shifts computed for one question (two months of hourly shifts fit)."""
_FORBIDDEN_PARTS = ("DTSTART", "BYSECOND", "BYMINUTE")
"""The first shift gives the start time; seconds and minutes of repetition are not offered."""


class ScheduleError(ValueError):
    """A schedule that cannot be used; ``message`` says why, in the reader's language."""

    def __init__(self, message: str | Promise) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Shift:
    """One occurrence of a schedule: when it starts and ends, and its key (the local start
    as ``YYYYMMDDTHHMM``, stable across edits of other occurrences)."""

    start: dt.datetime
    end: dt.datetime
    key: str


def rrule_clean(text: str) -> str:
    """The recurrence rule, checked and in canonical form (``FREQ=...;...``, no ``RRULE:``)."""
    rule = text.strip().upper()
    rule = rule.removeprefix("RRULE:").strip()
    if not rule:
        raise ScheduleError(_("Enter a recurrence rule, for example FREQ=DAILY."))
    if "\n" in rule or "\r" in rule:
        raise ScheduleError(_("The recurrence rule must be one RRULE line."))
    pairs = [part.partition("=")[::2] for part in rule.split(";") if part]
    parts = dict(pairs)
    if len(parts) < len(pairs):
        # A dict keeps the last of a repeated part; what was meant cannot be known.
        raise ScheduleError(_("Give each part of the recurrence rule once."))
    frequency = parts.get("FREQ")
    if frequency not in FREQUENCIES:
        raise ScheduleError(
            _("The rule must repeat hourly, daily, weekly or monthly (FREQ=%(allowed)s).")
            % {"allowed": "|".join(FREQUENCIES)}
        )
    for name in _FORBIDDEN_PARTS:
        if name in parts:
            raise ScheduleError(
                _("%(part)s is not used here: the first shift gives the start time.")
                % {"part": name}
            )
    clean = ";".join(f"{name}={value}" for name, value in parts.items())
    try:
        # Naive on purpose: recurrence runs in local wall time (see _recurrence). The rule
        # checked is the one returned.
        rrulestr(_local_until(clean, dt.UTC), dtstart=dt.datetime(2000, 1, 1))  # noqa: DTZ001
    except (ValueError, TypeError) as error:
        raise ScheduleError(
            _("This is not a valid recurrence rule: %(error)s") % {"error": error}
        ) from error
    return clean


def _parse_until(value: str) -> dt.datetime:
    """An RRULE UNTIL value as a datetime (aware for the UTC form ``...Z``, else naive)."""
    if value.endswith("Z"):
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    if "T" in value:
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%S")  # noqa: DTZ007
    return dt.datetime.strptime(value, "%Y%m%d")  # noqa: DTZ007


def _replace_until(rule: str, until: str) -> str:
    return ";".join(
        f"UNTIL={until}" if part.startswith("UNTIL=") else part for part in rule.split(";")
    )


def _local_until(rule: str, zone: dt.tzinfo) -> str:
    """The rule with a UTC ``UNTIL`` (the RFC 5545 form that calendar apps write when the
    start has a time zone) turned into local wall time, as the naive recurrence needs it."""
    parts = dict(part.partition("=")[::2] for part in rule.split(";") if part)
    until = parts.get("UNTIL", "")
    if not until.endswith("Z"):
        return rule
    try:
        local = _parse_until(until).astimezone(zone).replace(tzinfo=None)
    except ValueError:
        return rule  # left to the rule parser to refuse
    return _replace_until(rule, local.strftime("%Y%m%dT%H%M%S"))


def rule_for_calendar(rule: str, zone: dt.tzinfo) -> str:
    """The rule with a local ``UNTIL`` in UTC (``...Z``), as RFC 5545 requires next to a
    ``DTSTART`` with a time zone."""
    parts = dict(part.partition("=")[::2] for part in rule.split(";") if part)
    until = parts.get("UNTIL", "")
    if not until or until.endswith("Z"):
        return rule
    moment = _parse_until(until).replace(tzinfo=zone).astimezone(dt.UTC)
    return _replace_until(rule, moment.strftime("%Y%m%dT%H%M%SZ"))


def _recurrence(rule: str, first_start: dt.datetime) -> rrule:
    # Repeated in local wall time: a 22:00 shift stays at 22:00 across daylight-saving changes.
    local = first_start.replace(tzinfo=None)
    assert first_start.tzinfo is not None
    recurrence = rrulestr(_local_until(rule, first_start.tzinfo), dtstart=local)
    assert isinstance(recurrence, rrule)
    return recurrence


def shifts(
    *,
    rule: str,
    first_start: dt.datetime,
    duration: dt.timedelta,
    since: dt.datetime,
    until: dt.datetime,
) -> list[Shift]:
    """The shifts that overlap ``[since, until)``, in order (at most :data:`MAX_EXPANDED`).

    ``first_start`` is aware and in the community's time zone; so are the shifts."""
    if first_start.tzinfo is None:
        raise ValueError("first_start must be timezone-aware")
    if not dt.timedelta(0) < duration <= MAX_SHIFT:
        raise ScheduleError(_("A shift lasts more than no time and at most 24 hours."))
    zone = first_start.tzinfo
    recurrence = _recurrence(rule, first_start)
    # Local wall times of starts that can still overlap the range, an hour wider on each side
    # because a daylight-saving change bends wall time against real time; the exact test is
    # made in real time below.
    margin = dt.timedelta(hours=1)
    begin = (since.astimezone(dt.UTC) - duration - margin).astimezone(zone).replace(tzinfo=None)
    end = (until.astimezone(dt.UTC) + margin).astimezone(zone).replace(tzinfo=None)
    found: list[Shift] = []
    for local in recurrence.xafter(begin, count=MAX_EXPANDED, inc=False):
        if local >= end:
            break
        # Wall time in the zone; a time skipped by a daylight-saving change moves on by the
        # skipped hour (the round trip through UTC gives the instant a clock would show).
        start = local.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)
        finish = later(start, duration)
        if finish <= since or start >= until:
            continue
        found.append(Shift(start=start, end=finish, key=local.strftime("%Y%m%dT%H%M")))
    return found


OVERLAP_CHECKED = 400
"""How many shifts from the first are checked for overlapping (over a year of daily shifts)."""


def first_overlap(*, rule: str, first_start: dt.datetime, duration: dt.timedelta) -> Shift | None:
    """The first shift that starts before the previous one ends, if any among the first
    :data:`OVERLAP_CHECKED`: a guard walks one run at a time, so the other shift would be
    missed every time (e.g. every 2 hours, 3 hours long)."""
    if first_start.tzinfo is None:
        raise ValueError("first_start must be timezone-aware")
    recurrence = _recurrence(rule, first_start)
    previous_end: dt.datetime | None = None
    for local in recurrence.xafter(
        first_start.replace(tzinfo=None), count=OVERLAP_CHECKED, inc=True
    ):
        start = local.replace(tzinfo=first_start.tzinfo).astimezone(dt.UTC)
        if previous_end is not None and start < previous_end:
            zone = first_start.tzinfo
            return Shift(
                start=start.astimezone(zone),
                end=(start + duration).astimezone(zone),
                key=local.strftime("%Y%m%dT%H%M"),
            )
        previous_end = start + duration
    return None


def later(moment: dt.datetime, elapsed: dt.timedelta) -> dt.datetime:
    """``elapsed`` real time after ``moment``, in its zone. Python adds to an aware datetime in
    wall time, which is an hour off across a daylight-saving change."""
    return (moment.astimezone(dt.UTC) + elapsed).astimezone(moment.tzinfo)


def _digest(key: bytes, *parts: object) -> bytes:
    return hmac.new(key, ":".join(str(part) for part in parts).encode(), hashlib.sha256).digest()


def planned_start(
    *, shift: Shift, key: bytes, schedule_id: int, route_seconds: int, randomise: bool
) -> dt.datetime:
    """When a shift's run should start: the shift's start, or (randomised) a minute within the
    shift that still leaves ``route_seconds`` to walk the route before the shift ends."""
    if not randomise:
        return shift.start
    # Subtracted in UTC: between two datetimes of one zone Python subtracts wall times.
    length = shift.end.astimezone(dt.UTC) - shift.start.astimezone(dt.UTC)
    slack_minutes = int(length.total_seconds() - route_seconds) // 60
    if slack_minutes <= 0:
        return shift.start
    offset = int.from_bytes(_digest(key, "start", schedule_id, shift.key)[:8], "big")
    return later(shift.start, dt.timedelta(minutes=offset % (slack_minutes + 1)))


def planned_order(
    *, stop_ids: Sequence[int], key: bytes, schedule_id: int, shift_key: str, randomise: bool
) -> list[int]:
    """The order in which a shift's run visits the route's stops: the route's own order, or
    (randomised) a permutation that only the key's holder can compute in advance."""
    if not randomise:
        return list(stop_ids)
    return sorted(stop_ids, key=lambda stop: _digest(key, "order", schedule_id, shift_key, stop))


def clean_rule_field(value: Any) -> str:
    """:func:`rrule_clean` for a service, its error on the ``rrule`` field."""
    try:
        return rrule_clean(str(value or ""))
    except ScheduleError as error:
        raise ServiceError(str(error.message), field="rrule") from error


def clean_shift_length(value: Any) -> dt.timedelta:
    """A shift's length for a service: from a minute to :data:`MAX_SHIFT`."""
    if not isinstance(value, dt.timedelta):
        raise ServiceError(_("Enter the shift's length."), field="duration")
    if not dt.timedelta(minutes=1) <= value <= MAX_SHIFT:
        raise ServiceError(_("A shift lasts from one minute to 24 hours."), field="duration")
    return value

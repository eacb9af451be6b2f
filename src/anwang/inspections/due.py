"""When an asset of an inspection plan is due: pure arithmetic on the plan's RRULE.

A plan's recurrence (``FREQ=DAILY``, ``FREQ=WEEKLY;BYDAY=MO``, ``FREQ=MONTHLY;BYMONTHDAY=1``)
starting at ``first_start`` cuts time into periods: each occurrence opens one, the next closes
it. Every asset of the plan must be inspected once in every period. In the current period an
asset is *done* when its last inspection under the plan falls in it, else *due* (by the end of
the period); it is *overdue* when also the whole previous period passed without an inspection
(and the asset already belonged to the plan then: a newly registered asset is not overdue).

Recurrence runs in local wall time, as patrol schedules do, so a daily 08:00 check stays at
08:00 across daylight-saving changes. No database, no clock: ``now`` is passed in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.rrule import rrule, rrulestr

from anwang.inspections.choices import DueStatus


@dataclass(frozen=True)
class Period:
    """One period of a plan: it opens at ``start`` and closes at ``end`` (``None``: the rule
    has no further occurrence)."""

    start: dt.datetime
    end: dt.datetime | None


@dataclass(frozen=True)
class DueState:
    """Where one asset stands in its plan at a moment."""

    status: DueStatus
    period: Period | None
    due_by: dt.datetime | None
    """When the current period closes (the deadline of a due inspection)."""
    overdue_since: dt.datetime | None = None
    """When the missed period closed, for an overdue asset."""

    @property
    def needs_inspection(self) -> bool:
        """Whether someone should inspect the asset now."""
        return self.status in {DueStatus.DUE, DueStatus.OVERDUE}


def _recurrence(rule: str, first_start: dt.datetime) -> rrule:
    if first_start.tzinfo is None:
        raise ValueError("first_start must be timezone-aware")
    recurrence = rrulestr(rule, dtstart=first_start.replace(tzinfo=None))
    assert isinstance(recurrence, rrule)
    return recurrence


def _aware(local: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    # Through UTC so a wall time skipped by a daylight-saving change becomes a real instant.
    return local.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def periods_around(
    *, rule: str, first_start: dt.datetime, now: dt.datetime
) -> tuple[Period | None, Period | None]:
    """The current period (containing ``now``) and the one before it (``None`` when the plan
    has not started, or ``now`` is in its first period)."""
    recurrence = _recurrence(rule, first_start)
    zone = first_start.tzinfo
    assert zone is not None
    local_now = now.astimezone(zone).replace(tzinfo=None)
    current_local = recurrence.before(local_now, inc=True)
    if current_local is None:
        return None, None
    following = recurrence.after(current_local, inc=False)
    current = Period(
        _aware(current_local, zone), _aware(following, zone) if following is not None else None
    )
    previous_local = recurrence.before(current_local, inc=False)
    previous = (
        Period(_aware(previous_local, zone), current.start) if previous_local is not None else None
    )
    return current, previous


def due_state(
    *,
    rule: str,
    first_start: dt.datetime,
    now: dt.datetime,
    last_done: dt.datetime | None,
    member_since: dt.datetime | None = None,
) -> DueState:
    """Where an asset stands at ``now``, given its last inspection under the plan and since
    when it belongs to the plan (its registration; ``None``: always)."""
    current, previous = periods_around(rule=rule, first_start=first_start, now=now)
    if current is None:
        return DueState(DueStatus.NOT_STARTED, None, first_start)
    if last_done is not None and last_done >= current.start:
        return DueState(DueStatus.DONE, current, current.end)
    missed_previous = (
        previous is not None
        and (last_done is None or last_done < previous.start)
        and (member_since is None or member_since <= previous.start)
    )
    if missed_previous:
        assert previous is not None
        return DueState(DueStatus.OVERDUE, current, current.end, overdue_since=previous.end)
    return DueState(DueStatus.DUE, current, current.end)


def occurrences(
    *, rule: str, first_start: dt.datetime, since: dt.datetime, until: dt.datetime, limit: int = 500
) -> list[dt.datetime]:
    """Period starts in ``[since, until)`` (for a calendar), at most ``limit``."""
    recurrence = _recurrence(rule, first_start)
    zone = first_start.tzinfo
    assert zone is not None
    begin = since.astimezone(zone).replace(tzinfo=None)
    end = until.astimezone(zone).replace(tzinfo=None)
    found: list[dt.datetime] = []
    for local in recurrence.xafter(begin, count=limit, inc=True):
        if local >= end:
            break
        found.append(_aware(local, zone))
    return found

"""Timing of a patrol run in progress, without the database: given the run's plan, its
accepted check-ins and ``now``, which stop is next and when it is due, which stops were late or
missed, and whether the run as a whole is overdue.

Rules (docs/patrols.md, "Monitoring"): stop *i* is due ``max_gap_seconds`` after the previous
stop was checked in (the first stop: after the start). A missed stop does not stall the rest:
the next one is then due ``max_gap_seconds`` after the missed one's due time. A stop checked in
after its due time is *late*; a stop still not checked in ``GRACE_SECONDS`` after its due time
is *missed*. Only the first accepted check-in at a checkpoint counts; check-ins may arrive in
any order. A run is *overdue* when it has been in progress longer than ``OVERDUE_FACTOR`` times
its planned length (the sum of every stop's gap and dwell).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GRACE_SECONDS = 120
OVERDUE_FACTOR = 1.5


@dataclass(frozen=True)
class StopTiming:
    """One planned stop: when it was due, when (if) it was checked in, and its standing."""

    index: int
    checkpoint_id: int
    name: str
    due_at: dt.datetime
    checked_at: dt.datetime | None
    late: bool
    missed: bool


@dataclass(frozen=True)
class RunTiming:
    """A run's standing at ``now``."""

    stops: tuple[StopTiming, ...]
    next_stop: StopTiming | None
    done: int
    planned: int
    due_by: dt.datetime
    overdue: bool

    @property
    def missed(self) -> tuple[StopTiming, ...]:
        """The stops missed so far."""
        return tuple(stop for stop in self.stops if stop.missed)


def planned_seconds(plan: Sequence[Mapping[str, Any]]) -> int:
    """The planned length of a run: every stop's gap plus its dwell."""
    return sum(int(s.get("max_gap_seconds", 0)) + int(s.get("dwell_seconds", 0)) for s in plan)


def first_check_ins(
    check_ins: Iterable[tuple[int | None, dt.datetime]],
) -> dict[int, dt.datetime]:
    """The earliest accepted check-in per checkpoint (later duplicates do not count)."""
    first: dict[int, dt.datetime] = {}
    for checkpoint_id, at in check_ins:
        if checkpoint_id is None:
            continue
        if checkpoint_id not in first or at < first[checkpoint_id]:
            first[checkpoint_id] = at
    return first


def run_timing(
    *,
    plan: Sequence[Mapping[str, Any]],
    started_at: dt.datetime,
    check_ins: Iterable[tuple[int | None, dt.datetime]],
    now: dt.datetime,
    grace_seconds: int = GRACE_SECONDS,
) -> RunTiming:
    """Where a run stands at ``now``; ``check_ins`` are (checkpoint id, scanned at) of the
    accepted check-ins, in any order."""
    first = first_check_ins(check_ins)
    grace = dt.timedelta(seconds=grace_seconds)
    anchor = started_at
    stops: list[StopTiming] = []
    for index, entry in enumerate(plan):
        checkpoint_id = int(entry["checkpoint"])
        due = anchor + dt.timedelta(seconds=int(entry.get("max_gap_seconds", 0)))
        checked = first.get(checkpoint_id)
        if checked is not None:
            stops.append(
                StopTiming(
                    index,
                    checkpoint_id,
                    str(entry.get("name", "")),
                    due,
                    checked,
                    late=checked > due,
                    missed=False,
                )
            )
            anchor = max(checked, anchor)
        else:
            missed = now > due + grace
            stops.append(
                StopTiming(
                    index,
                    checkpoint_id,
                    str(entry.get("name", "")),
                    due,
                    None,
                    late=now > due,
                    missed=missed,
                )
            )
            anchor = due
    next_stop = next((s for s in stops if s.checked_at is None and not s.missed), None)
    due_by = started_at + dt.timedelta(seconds=planned_seconds(plan) * OVERDUE_FACTOR)
    done = sum(1 for s in stops if s.checked_at is not None)
    return RunTiming(
        stops=tuple(stops),
        next_stop=next_stop,
        done=done,
        planned=len(stops),
        due_by=due_by,
        overdue=now > due_by and done < len(stops),
    )

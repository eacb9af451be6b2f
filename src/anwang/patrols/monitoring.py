"""Timing of a patrol run in progress, without the database: given the run's plan, its
accepted check-ins and ``now``, which stop is next and when it is due, which stops were late or
missed, and whether the run as a whole is overdue.

Rules (docs/patrols.md, "Monitoring"): a stop's ``max_gap_seconds`` is the longest time from
its check-in to the next stop's, so stop *i* is due the previous stop's gap after the previous
stop was checked in; the first stop is due its own gap after the start. A missed stop does not
stall the rest: the next one is then due the missed one's gap after its due time. A stop checked
in after its due time is *late*; a stop still not checked in ``GRACE_SECONDS`` after its due
time is *missed*. A checkpoint planned more than once is matched to its occurrences in the order
of its check-ins; further check-ins there do not count, and check-ins may arrive in any order. A
run is *overdue* when it has been in progress longer than ``OVERDUE_FACTOR`` times its planned
length (the sum of every stop's gap and dwell).
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


def check_ins_by_stop(
    plan: Sequence[Mapping[str, Any]],
    check_ins: Iterable[tuple[int | None, dt.datetime]],
) -> list[dt.datetime | None]:
    """When each planned stop was checked in (``None``: not yet). A checkpoint planned more than
    once (a round that starts and ends at the gate) is matched to its occurrences in the order
    of its check-ins; check-ins beyond its occurrences do not count."""
    times: dict[int, list[dt.datetime]] = {}
    for checkpoint_id, at in check_ins:
        if checkpoint_id is not None:
            times.setdefault(checkpoint_id, []).append(at)
    for moments in times.values():
        moments.sort()
    matched: list[dt.datetime | None] = []
    for entry in plan:
        left = times.get(int(entry["checkpoint"]))
        matched.append(left.pop(0) if left else None)
    return matched


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
    grace = dt.timedelta(seconds=grace_seconds)
    anchor = started_at
    # The first stop has no stop before it: its own gap is the time allowed to reach it.
    gap = int(plan[0].get("max_gap_seconds", 0)) if plan else 0
    stops: list[StopTiming] = []
    for index, (entry, checked) in enumerate(
        zip(plan, check_ins_by_stop(plan, check_ins), strict=True)
    ):
        checkpoint_id = int(entry["checkpoint"])
        name = str(entry.get("name", ""))
        due = anchor + dt.timedelta(seconds=gap)
        if checked is not None:
            stops.append(
                StopTiming(
                    index, checkpoint_id, name, due, checked, late=checked > due, missed=False
                )
            )
            anchor = max(checked, anchor)
        else:
            stops.append(
                StopTiming(
                    index,
                    checkpoint_id,
                    name,
                    due,
                    None,
                    late=now > due,
                    missed=now > due + grace,
                )
            )
            anchor = due
        gap = int(entry.get("max_gap_seconds", 0))
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

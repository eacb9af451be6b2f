"""A seeded synthetic access log with injected, labelled anomalies, for the detectors' tests
and benchmark. Generated with numpy (10 million events take seconds).

The community: 20 access points in a 300 m square (three gates, unit doors, garages), the
last two restricted and 30 m apart (a plant room open 08:00-18:00, a rooftop store open
22:00-06:00, a window past midnight). Residents have a home door and a few other points they
use, and a weekly routine: a fixed set of habitual hours of the week (weighted to the day),
each used in most weeks; in each they make a walk of a few accesses, at most 1 m/s between
points, starting 5-15 minutes into the hour. Some move in during the period. Day and night
guards walk rounds in every hour of their shift, through the restricted point open in it.
A few accesses are refused, and unknown cards are refused at the gates.

Injected anomalies (``anomalies`` of each kind, each with a :class:`Label`):

* outside hours: a night guard's access at the rooftop store moved to the plant room;
* repeated denials: 5-8 refused reads 20-90 s apart at one point, by a resident's card or an
  unknown one;
* impossible travel: a copy of a resident's card used 5-40 s later at a point 150 m or more
  away;
* weekly baseline: one to three accesses at a resident's home door in an hour of the week
  outside their routine, in week 5 or later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from anwang.access.detectors import (
    HOURS_PER_WEEK,
    IMPOSSIBLE_TRAVEL,
    OUTSIDE_HOURS,
    REPEATED_DENIALS,
    WEEK_S,
    WEEKLY_BASELINE,
    AccessLog,
    DetectorParams,
    Finding,
    PointFacts,
    distance_matrix,
)

UTC_OFFSET_S = 8 * 3600
# Monday 2026-01-05 00:00 in +08:00.
START = int(dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp()) - UTC_OFFSET_S
GATES = 3
PLANT_ROOM_HOURS = (8 * 60, 18 * 60)
ROOFTOP_HOURS = (22 * 60, 6 * 60)
CENTRE = (30.2741, 120.1551)
METRES_PER_DEGREE = 111_195.0


@dataclass(frozen=True)
class SyntheticSpec:
    """Sizes and rates of a synthetic log (defaults: the tests' small log)."""

    residents: int = 200
    days: int = 42
    points: int = 20
    guards: int = 8
    habitual_slots: int = 50  # hours of the week in a resident's routine
    slot_probability: float = 0.95  # chance a habitual hour is used in a given week
    walk_events: int = 8  # accesses per walk, before those past the hour are dropped
    newcomer_share: float = 0.05
    denial_rate: float = 0.002
    unknown_cards_per_gate_day: int = 5
    anomalies: int = 20  # of each kind
    seed: int = 2026


@dataclass(frozen=True)
class Label:
    """An injected anomaly: a finding of ``detector`` between ``start`` and ``end`` (epoch
    seconds) for this credential (repeated denials: or at this point) or person (baseline)
    finds it."""

    detector: str
    start: int
    end: int
    credential: int = -1
    point: int = -1
    person: int = -1

    def matches(self, finding: Finding) -> bool:
        if finding.detector != self.detector or not self.start <= finding.at <= self.end:
            return False
        if self.detector == REPEATED_DENIALS:
            if finding.explanation.get("scope") == "point":
                return finding.point == self.point
            return self.credential >= 0 and finding.credential == self.credential
        if self.detector == WEEKLY_BASELINE:
            return finding.person == self.person
        if self.detector == OUTSIDE_HOURS:
            return finding.credential == self.credential and finding.point == self.point
        return finding.credential == self.credential


@dataclass(frozen=True)
class SyntheticLog:
    log: AccessLog
    points: PointFacts
    labels: list[Label]
    params: DetectorParams


def score(findings: list[Finding], labels: list[Label], detector: str) -> tuple[float, float]:
    """Precision (findings matching a label) and recall (labels found) of one detector."""
    mine = [finding for finding in findings if finding.detector == detector]
    wanted = [label for label in labels if label.detector == detector]
    true = sum(1 for finding in mine if any(label.matches(finding) for label in wanted))
    found = sum(1 for label in wanted if any(label.matches(finding) for finding in mine))
    precision = true / len(mine) if mine else 1.0
    recall = found / len(wanted) if wanted else 1.0
    return precision, recall


def make_points(count: int, rng: np.random.Generator) -> PointFacts:
    """``count`` points in a 300 m square; the last two restricted, 30 m apart."""
    x = rng.uniform(0, 300, count)
    y = rng.uniform(0, 300, count)
    x[-1], y[-1] = x[-2] + 30.0, y[-2]
    latitude = CENTRE[0] + y / METRES_PER_DEGREE
    longitude = CENTRE[1] + x / (METRES_PER_DEGREE * np.cos(np.radians(CENTRE[0])))
    restricted = np.zeros(count, dtype=bool)
    restricted[-2:] = True
    permitted_from = np.full(count, -1, dtype=np.int32)
    permitted_until = np.full(count, -1, dtype=np.int32)
    permitted_from[-2], permitted_until[-2] = PLANT_ROOM_HOURS
    permitted_from[-1], permitted_until[-1] = ROOFTOP_HOURS
    return PointFacts(latitude, longitude, restricted, permitted_from, permitted_until)


def _walks(
    rng: np.random.Generator,
    distances: npt.NDArray[np.float64],
    hour_starts: npt.NDArray[np.int64],
    point_sets: npt.NDArray[np.int64],
    credentials: npt.NDArray[np.int64],
    persons: npt.NDArray[np.int64],
    length: int,
) -> tuple[npt.NDArray[np.int64], ...]:
    """One walk per hour start: ``length`` accesses at points drawn from each walk's point
    set, at most 1 m/s between them; accesses past 58:20 into the hour are dropped."""
    walks = len(hour_starts)
    choice = rng.integers(0, point_sets.shape[1], (walks, length))
    point = np.take_along_axis(point_sets, choice, axis=1)
    gaps = np.zeros((walks, length))
    gaps[:, 1:] = distances[point[:, :-1], point[:, 1:]] + rng.uniform(5, 40, (walks, length - 1))
    offset = rng.uniform(300, 900, (walks, 1)) + np.cumsum(gaps, axis=1)
    keep = offset < 3500
    at = (hour_starts[:, None] + offset.astype(np.int64))[keep]
    return (
        at,
        point[keep],
        np.broadcast_to(credentials[:, None], (walks, length))[keep],
        np.broadcast_to(persons[:, None], (walks, length))[keep],
    )


def generate(spec: SyntheticSpec | None = None) -> SyntheticLog:
    """The synthetic log, its points, the labels of the injected anomalies and the detector
    parameters it is meant for (the defaults, +08:00)."""
    spec = spec or SyntheticSpec()
    rng = np.random.default_rng(spec.seed)
    points = make_points(spec.points, rng)
    distances = distance_matrix(points)
    plant_room, rooftop = spec.points - 2, spec.points - 1
    ordinary = spec.points - 2
    end = START + spec.days * 86_400
    weeks = -(-spec.days // 7)
    residents = spec.residents

    # Residents' routines: habitual hours of the week, weighted to 06:00-23:00.
    hour_weight = np.where((np.arange(HOURS_PER_WEEK) % 24 >= 6), 1.0, 0.05)
    keys = np.log(hour_weight)[None, :] + rng.gumbel(size=(residents, HOURS_PER_WEEK))
    habitual = np.argsort(-keys, axis=1)[:, : spec.habitual_slots]
    home = rng.integers(GATES, ordinary, residents)
    point_sets = np.stack(
        [
            home,
            home,
            rng.integers(0, GATES, residents),
            rng.integers(GATES, ordinary, residents),
            rng.integers(GATES, ordinary, residents),
        ],
        axis=1,
    )
    moves_in = np.where(
        rng.random(residents) < spec.newcomer_share, rng.integers(1, max(weeks, 2), residents), 0
    )
    week = np.arange(weeks)
    used = rng.random((residents, weeks, spec.habitual_slots)) < spec.slot_probability
    used &= (week[None, :] >= moves_in[:, None])[:, :, None]
    who, in_week, slot_index = np.nonzero(used)
    hour_starts = START + in_week * WEEK_S + habitual[who, slot_index].astype(np.int64) * 3600
    card = 2 * who + (rng.random(len(who)) < 0.2)
    parts = [_walks(rng, distances, hour_starts, point_sets[who], card, who, spec.walk_events)]

    # Guards: every hour of their shift, a round through the ordinary points and the
    # restricted point open then. Persons and credentials after the residents'.
    for shift, (hours, restricted_point) in enumerate(
        (((range(8, 18)), plant_room), ((*range(22, 24), *range(6)), rooftop))
    ):
        count = spec.guards // 2
        guard = residents + shift * count + np.arange(count)
        day_hours = np.array(
            [day * 24 + hour for day in range(spec.days) for hour in hours], dtype=np.int64
        )
        rounds_who = np.repeat(guard, len(day_hours))
        starts = START + np.tile(day_hours, count) * 3600
        route = np.append(np.arange(ordinary), restricted_point)
        sets = np.broadcast_to(route, (len(starts), len(route)))
        parts.append(
            _walks(rng, distances, starts, sets, 2 * rounds_who, rounds_who, spec.walk_events)
        )

    at, point, credential, person = (np.concatenate(column) for column in zip(*parts, strict=True))
    granted = rng.random(len(at)) >= spec.denial_rate
    # Unknown cards refused at the gates.
    unknown = spec.unknown_cards_per_gate_day * spec.days * GATES
    at = np.append(at, rng.integers(START, end, unknown))
    point = np.append(point, rng.integers(0, GATES, unknown))
    credential = np.append(credential, np.full(unknown, -1))
    person = np.append(person, np.full(unknown, -1))
    granted = np.append(granted, np.zeros(unknown, dtype=bool))

    labels: list[Label] = []
    n = spec.anomalies

    # Outside hours: a night guard's rooftop access moved to the plant room (30 m away).
    at_rooftop = np.flatnonzero((point == rooftop) & granted)
    for index in rng.choice(at_rooftop, min(n, len(at_rooftop)), replace=False):
        point[index] = plant_room
        labels.append(
            Label(OUTSIDE_HOURS, int(at[index]), int(at[index]), int(credential[index]), plant_room)
        )

    extra: list[tuple[int, int, int, int, bool]] = []
    # Repeated denials: a burst at an ordinary point, by a resident's card or an unknown one.
    for number in range(n):
        where = int(rng.integers(0, ordinary))
        resident = int(rng.integers(0, residents))
        card_used = 2 * resident if number % 2 == 0 else -1
        holder = resident if card_used >= 0 else -1
        first = int(rng.integers(START, end - 3600))
        times = first + np.cumsum(rng.integers(20, 91, int(rng.integers(5, 9))))
        times[0] = first
        extra.extend((int(time), where, card_used, holder, False) for time in times)
        labels.append(Label(REPEATED_DENIALS, first, int(times[-1]), card_used, where, holder))

    # Impossible travel: a copy of a resident's card at a point 150 m or more away.
    residents_granted = np.flatnonzero(granted & (person >= 0) & (person < residents))
    for index in rng.choice(residents_granted, n, replace=False):
        here = int(point[index])
        far = np.flatnonzero(distances[here, :ordinary] >= 150)
        there = int(rng.choice(far)) if len(far) else int(np.argmax(distances[here, :ordinary]))
        time = int(at[index] + rng.integers(5, 41))
        extra.append((time, there, int(credential[index]), int(person[index]), True))
        labels.append(Label(IMPOSSIBLE_TRAVEL, int(at[index]), time + 3600, int(credential[index])))

    # Weekly baseline: a settled resident at their home door in an unusual hour of the week.
    settled = np.flatnonzero(moves_in == 0)
    last_week = (spec.days - 1) // 7
    if last_week >= 4:
        for resident in rng.choice(settled, min(n, len(settled)), replace=False):
            unusual = np.setdiff1d(np.arange(HOURS_PER_WEEK), habitual[resident])
            for _ in range(100):
                hour_start = START + int(rng.integers(4, last_week + 1)) * WEEK_S
                hour_start += int(rng.choice(unusual)) * 3600
                if hour_start + 3600 <= end:
                    break
            first = hour_start + int(rng.integers(300, 900))
            for step in range(int(rng.integers(1, 4))):
                extra.append((first + 30 * step, int(home[resident]), 2 * resident, resident, True))
            labels.append(
                Label(WEEKLY_BASELINE, hour_start, hour_start + 3599, person=int(resident))
            )

    if extra:
        at = np.append(at, [row[0] for row in extra])
        point = np.append(point, [row[1] for row in extra])
        credential = np.append(credential, [row[2] for row in extra])
        person = np.append(person, [row[3] for row in extra])
        granted = np.append(granted, [row[4] for row in extra])
    inside = at < end
    order = np.flatnonzero(inside)[np.argsort(at[inside], kind="stable")]
    log = AccessLog(
        at=at[order].astype(np.int64),
        point=point[order].astype(np.int32),
        credential=credential[order].astype(np.int32),
        person=person[order].astype(np.int32),
        granted=granted[order].astype(bool),
    )
    return SyntheticLog(log, points, labels, DetectorParams(utc_offset_s=UTC_OFFSET_S))

"""Anomaly detectors over the access log that explain themselves.

Pure code: no ORM, no I/O. The caller turns the access events of a community into an
:class:`AccessLog` (columns of numpy arrays, sorted by time) and its access points into
:class:`PointFacts`, and gets back :class:`Finding` records. Each finding carries the numbers
that made it fire (``explanation``); the sentence shown to people is built from them by the
app layer, so that it is translatable.

Detectors (each vectorised with numpy; :mod:`anwang.access.detectors_naive` is a plain
per-event loop giving the same findings, used by the tests and the benchmark):

``outside_hours``
    A granted access at a restricted point outside its permitted hours (local time; the window
    may run past midnight, 22:00-06:00), one finding per access.
``repeated_denials``
    At least ``denial_count`` denials within ``denial_window_s`` by one credential, or at one
    access point (unknown cards too). Denials of one key no more than ``denial_window_s``
    apart form a burst; a burst that reaches the threshold gives one finding, at the denial
    that reached it.
``impossible_travel``
    Two consecutive granted accesses of one credential at different points farther apart than
    walking speed allows in the time between (points closer than ``travel_min_distance_m``
    are ignored: a double read at a gate and the door beside it).
``weekly_baseline``
    A granted access by a person in an hour of the week (Monday 07:00-08:00...) in which they
    were never seen in the previous ``baseline_weeks`` weeks, for a person active in at least
    ``baseline_min_active_weeks`` of them (a new resident has no baseline yet). One finding
    per person, week and hour of week.

Not done here: storing findings, raising alarms from them, pages to review them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

OUTSIDE_HOURS = "outside_hours"
REPEATED_DENIALS = "repeated_denials"
IMPOSSIBLE_TRAVEL = "impossible_travel"
WEEKLY_BASELINE = "weekly_baseline"
DETECTORS = (OUTSIDE_HOURS, REPEATED_DENIALS, IMPOSSIBLE_TRAVEL, WEEKLY_BASELINE)

EARTH_RADIUS_M = 6_371_000.0
HOURS_PER_WEEK = 168
WEEK_S = 7 * 86_400
# 1970-01-01 was a Thursday: adding three days makes weeks start on Monday 00:00.
MONDAY_SHIFT_S = 3 * 86_400

Ints = npt.NDArray[np.int64]
Explanation = Mapping[str, int | float | str]


@dataclass(frozen=True)
class AccessLog:
    """Access events as columns, sorted by ``at`` (events without an access point are left
    out by the caller).

    ``at``: int64 epoch seconds (UTC); ``point``: int32 index into :class:`PointFacts`;
    ``credential`` and ``person``: int32 ids, -1 when unknown; ``granted``: bool."""

    at: npt.NDArray[np.int64]
    point: npt.NDArray[np.int32]
    credential: npt.NDArray[np.int32]
    person: npt.NDArray[np.int32]
    granted: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        size = len(self.at)
        for name in ("point", "credential", "person", "granted"):
            if len(getattr(self, name)) != size:
                raise ValueError(f"column {name} has {len(getattr(self, name))} rows, not {size}")
        if size > 1 and bool(np.any(self.at[1:] < self.at[:-1])):
            raise ValueError("the access log must be sorted by time")

    def __len__(self) -> int:
        return len(self.at)


@dataclass(frozen=True)
class PointFacts:
    """What the detectors know of each access point, by index.

    ``latitude``/``longitude``: float64 degrees, NaN when unknown (no travel findings then);
    ``restricted``: bool; ``permitted_from``/``permitted_until``: int16/int32 minutes after
    local midnight, -1 when not set (a restricted point without both has no hours finding)."""

    latitude: npt.NDArray[np.float64]
    longitude: npt.NDArray[np.float64]
    restricted: npt.NDArray[np.bool_]
    permitted_from: npt.NDArray[np.int32]
    permitted_until: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.latitude)


@dataclass(frozen=True)
class DetectorParams:
    """Thresholds of the detectors, with their defaults."""

    # Local time = UTC + this (the community's zone; China has no summer time: +08:00).
    utc_offset_s: int = 8 * 3600
    # Repeated denials: this many or more ...
    denial_count: int = 5
    # ... within this many seconds (10 minutes), by one credential or at one point.
    denial_window_s: int = 600
    # Impossible travel: faster than a brisk walk (2.5 m/s = 9 km/h) between two points ...
    walking_speed_m_s: float = 2.5
    # ... at least this far apart (closer points: a double read, not travel).
    travel_min_distance_m: float = 50.0
    # Weekly baseline: the previous weeks compared with ...
    baseline_weeks: int = 8
    # ... and how many of them the person must have been seen in to have a baseline.
    baseline_min_active_weeks: int = 4


@dataclass(frozen=True)
class Finding:
    """One anomaly: which detector, when (epoch seconds of the access that fired it), where
    and who (-1 when not one: a burst at a point by several cards), and why."""

    detector: str
    at: int
    point: int
    credential: int
    person: int
    explanation: Explanation = field(hash=False)

    def sort_key(self) -> tuple[int, str, int, int, int]:
        return (self.at, self.detector, self.point, self.credential, self.person)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Findings in a canonical order (time, detector, point, credential, person)."""
    return sorted(findings, key=Finding.sort_key)


def hhmm(minutes: int) -> str:
    """``475`` → ``"07:55"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def distance_matrix(points: PointFacts) -> npt.NDArray[np.float64]:
    """Great-circle distances in metres between every two points (haversine; NaN where a
    point has no coordinates)."""
    lat = np.radians(points.latitude)
    lon = np.radians(points.longitude)
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return result


def _finding(
    detector: str, log: AccessLog, index: int, explanation: Explanation, *, who: bool = True
) -> Finding:
    return Finding(
        detector=detector,
        at=int(log.at[index]),
        point=int(log.point[index]),
        credential=int(log.credential[index]) if who else -1,
        person=int(log.person[index]) if who else -1,
        explanation=explanation,
    )


def _group_by(keys: npt.NDArray[np.int32], rows: Ints) -> Ints:
    """``rows`` (positions in the time-sorted log) ordered by key, then position: a sort of
    one int64 per row (key in the high 32 bits), faster than numpy's stable argsort."""
    packed = (keys[rows].astype(np.int64) << 32) | np.arange(len(rows), dtype=np.int64)
    packed.sort()
    result: Ints = rows[packed & 0xFFFFFFFF]
    return result


def outside_hours(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    """Granted accesses at restricted points outside their permitted hours."""
    has_hours = points.restricted & (points.permitted_from >= 0) & (points.permitted_until >= 0)
    candidates = np.flatnonzero(log.granted & has_hours[log.point])
    where = log.point[candidates]
    minute = ((log.at[candidates] + params.utc_offset_s) // 60) % 1440
    start = points.permitted_from[where]
    end = points.permitted_until[where]
    inside = np.where(
        start <= end, (start <= minute) & (minute < end), (minute >= start) | (minute < end)
    )
    hits = candidates[~inside]
    return [
        _finding(
            OUTSIDE_HOURS,
            log,
            int(index),
            {
                "local_time": hhmm(int(local)),
                "permitted_from": hhmm(int(points.permitted_from[log.point[index]])),
                "permitted_until": hhmm(int(points.permitted_until[log.point[index]])),
            },
        )
        for index, local in zip(hits, minute[~inside], strict=True)
    ]


def repeated_denials(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    """One finding per burst of denials (by credential, and at each point) that reaches
    ``denial_count`` denials within ``denial_window_s``."""
    threshold, window = params.denial_count, params.denial_window_s
    denials = np.flatnonzero(~log.granted)
    findings: list[Finding] = []
    for scope, keys in (("credential", log.credential), ("point", log.point)):
        chosen = denials[keys[denials] >= 0]
        order = _group_by(keys, chosen)
        count = len(order)
        if count < max(threshold, 1):
            continue
        key = keys[order]
        at = log.at[order]
        starts_burst = np.ones(count, dtype=bool)
        starts_burst[1:] = (key[1:] != key[:-1]) | (at[1:] - at[:-1] > window)
        burst = np.cumsum(starts_burst) - 1
        burst_start = np.flatnonzero(starts_burst)
        burst_end = np.append(burst_start[1:], count)  # exclusive
        first = np.arange(count - threshold + 1)
        last = first + threshold - 1
        fires = np.flatnonzero((key[last] == key[first]) & (at[last] - at[first] <= window))
        if len(fires) == 0:
            continue
        fired_burst = burst[fires]
        keep = np.ones(len(fires), dtype=bool)
        keep[1:] = fired_burst[1:] != fired_burst[:-1]
        for start, number in zip(fires[keep], fired_burst[keep], strict=True):
            reached = int(start) + threshold - 1
            begin, end = int(burst_start[number]), int(burst_end[number])
            findings.append(
                _finding(
                    REPEATED_DENIALS,
                    log,
                    int(order[reached]),
                    {
                        "scope": scope,
                        "denials": end - begin,
                        "first_at": int(at[begin]),
                        "last_at": int(at[end - 1]),
                        "threshold": threshold,
                        "window_minutes": window // 60,
                    },
                    who=scope == "credential",
                )
            )
    return findings


def impossible_travel(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    """Consecutive granted accesses of one credential too far apart for the time between."""
    distances = distance_matrix(points)
    used = np.flatnonzero(log.granted & (log.credential >= 0))
    order = _group_by(log.credential, used)
    credential = log.credential[order]
    point = log.point[order]
    pairs = np.flatnonzero((credential[1:] == credential[:-1]) & (point[1:] != point[:-1]))
    distance = distances[point[pairs], point[pairs + 1]]
    at = log.at[order]
    seconds = at[pairs + 1] - at[pairs]
    speed = distance / np.maximum(seconds, 1)
    # NaN (no coordinates) compares false: no finding.
    hit = (distance >= params.travel_min_distance_m) & (speed > params.walking_speed_m_s)
    return [
        _finding(
            IMPOSSIBLE_TRAVEL,
            log,
            int(order[pair + 1]),
            {
                "from_point": int(point[pair]),
                "from_at": int(at[pair]),
                "distance_m": round(float(distances[point[pair], point[pair + 1]])),
                "seconds": int(at[pair + 1] - at[pair]),
                "speed_needed_m_s": round(float(needed), 1),
                "limit_m_s": params.walking_speed_m_s,
            },
        )
        for pair, needed in zip(pairs[hit], speed[hit], strict=True)
    ]


def week_and_slot(at: Ints, params: DetectorParams) -> tuple[Ints, Ints]:
    """Week number (weeks start on Monday, local time) and hour of week (0 = Monday
    00:00-01:00, 167 = Sunday 23:00-24:00) of epoch seconds."""
    local = at + (params.utc_offset_s + MONDAY_SHIFT_S)
    return local // WEEK_S, (local % WEEK_S) // 3600


def weekly_baseline(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    """Accesses in an hour of the week the person was never seen in over the baseline weeks.

    Memory: three (persons × weeks × 168) int32 tables."""
    used = np.flatnonzero(log.granted & (log.person >= 0))
    if len(used) == 0:
        return []
    person_id = log.person[used]
    week, slot = week_and_slot(log.at[used], params)
    week -= week.min()
    weeks = int(week.max()) + 1
    present = np.bincount(person_id) > 0
    compact = (np.cumsum(present) - 1).astype(np.int64)
    person = compact[person_id]
    persons = int(present.sum())
    cell = (person * weeks + week) * HOURS_PER_WEEK + slot
    counts = np.bincount(cell, minlength=persons * weeks * HOURS_PER_WEEK).astype(np.int32)
    counts = counts.reshape(persons, weeks, HOURS_PER_WEEK)
    # Sums over weeks before w: cumulative[:, w] = weeks 0..w-1.
    cumulative = np.zeros((persons, weeks + 1, HOURS_PER_WEEK), dtype=np.int32)
    np.cumsum(counts, axis=1, out=cumulative[:, 1:])
    back = np.maximum(np.arange(weeks) - params.baseline_weeks, 0)
    baseline = cumulative[:, :weeks] - cumulative[:, back]
    active = np.zeros((persons, weeks + 1), dtype=np.int32)
    np.cumsum(counts.any(axis=2), axis=1, out=active[:, 1:])
    active_before = active[:, :weeks] - active[:, back]
    flagged = (
        (counts > 0)
        & (baseline == 0)
        & (active_before >= params.baseline_min_active_weeks)[:, :, None]
    )
    candidates = np.flatnonzero(flagged.ravel()[cell])
    _, first = np.unique(cell[candidates], return_index=True)
    hits = np.sort(candidates[first])
    findings = []
    totals = cumulative.sum(axis=2, dtype=np.int64)
    for index in hits:
        p, w, s = int(person[index]), int(week[index]), int(slot[index])
        b = int(back[w])
        hour = s % 24
        same_hour = cumulative[p, w, hour::24] - cumulative[p, b, hour::24]
        findings.append(
            _finding(
                WEEKLY_BASELINE,
                log,
                int(used[index]),
                {
                    "weekday": s // 24,
                    "hour": hour,
                    "baseline_weeks": params.baseline_weeks,
                    "active_weeks": int(active_before[p, w]),
                    "accesses_in_baseline": int(totals[p, w] - totals[p, b]),
                    "accesses_this_hour_of_week": 0,
                    "accesses_this_hour_other_days": int(same_hour.sum()),
                    "accesses_now": int(counts[p, w, s]),
                },
            )
        )
    return findings


def detect_all(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    """Every detector's findings, in the canonical order."""
    findings: list[Finding] = []
    for detector in (outside_hours, repeated_denials, impossible_travel, weekly_baseline):
        findings.extend(detector(log, points, params))
    return sort_findings(findings)

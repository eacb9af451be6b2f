"""The anomaly detectors written as plain per-event Python loops: the reference the numpy
detectors in :mod:`anwang.access.detectors` must agree with (tests and benchmark)."""

from __future__ import annotations

import math
from collections import defaultdict

from anwang.access.detectors import (
    EARTH_RADIUS_M,
    IMPOSSIBLE_TRAVEL,
    MONDAY_SHIFT_S,
    OUTSIDE_HOURS,
    REPEATED_DENIALS,
    WEEK_S,
    WEEKLY_BASELINE,
    AccessLog,
    DetectorParams,
    Finding,
    PointFacts,
    hhmm,
    sort_findings,
)


def _rows(log: AccessLog) -> list[tuple[int, int, int, int, bool]]:
    return list(
        zip(
            log.at.tolist(),
            log.point.tolist(),
            log.credential.tolist(),
            log.person.tolist(),
            log.granted.tolist(),
            strict=True,
        )
    )


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat = p1 - p2
    dlon = math.radians(lon1) - math.radians(lon2)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


def outside_hours(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    findings = []
    for at, point, credential, person, granted in _rows(log):
        start = int(points.permitted_from[point])
        end = int(points.permitted_until[point])
        if not granted or not points.restricted[point] or start < 0 or end < 0:
            continue
        minute = ((at + params.utc_offset_s) // 60) % 1440
        inside = start <= minute < end if start <= end else (minute >= start or minute < end)
        if not inside:
            findings.append(
                Finding(
                    OUTSIDE_HOURS,
                    at,
                    point,
                    credential,
                    person,
                    {
                        "local_time": hhmm(minute),
                        "permitted_from": hhmm(start),
                        "permitted_until": hhmm(end),
                    },
                )
            )
    return findings


def repeated_denials(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    threshold, window = params.denial_count, params.denial_window_s
    findings: list[Finding] = []
    # Per key: the burst's denial times and the finding it fired (finished when it ends).
    bursts: dict[tuple[str, int], list[int]] = {}
    fired: dict[tuple[str, int], Finding | None] = {}

    def close(key: tuple[str, int]) -> None:
        finding = fired.get(key)
        if finding is not None:
            times = bursts[key]
            explanation = dict(finding.explanation)
            explanation.update(denials=len(times), first_at=times[0], last_at=times[-1])
            findings.append(
                Finding(
                    finding.detector,
                    finding.at,
                    finding.point,
                    finding.credential,
                    finding.person,
                    explanation,
                )
            )
        fired[key] = None

    for at, point, credential, person, granted in _rows(log):
        if granted:
            continue
        for scope, value in (("credential", credential), ("point", point)):
            if value < 0:
                continue
            key = (scope, value)
            times = bursts.get(key)
            if times is not None and at - times[-1] > window:
                close(key)
                times = None
            if times is None:
                times = bursts[key] = []
                fired[key] = None
            times.append(at)
            if fired[key] is None and len(times) >= threshold and at - times[-threshold] <= window:
                who = scope == "credential"
                fired[key] = Finding(
                    REPEATED_DENIALS,
                    at,
                    point,
                    credential if who else -1,
                    person if who else -1,
                    {
                        "scope": scope,
                        "threshold": threshold,
                        "window_minutes": window // 60,
                    },
                )
    for key in list(bursts):
        close(key)
    return findings


def impossible_travel(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    findings = []
    last: dict[int, tuple[int, int]] = {}
    for at, point, credential, person, granted in _rows(log):
        if not granted or credential < 0:
            continue
        previous = last.get(credential)
        last[credential] = (at, point)
        if previous is None or previous[1] == point:
            continue
        before_at, before_point = previous
        distance = _distance(
            float(points.latitude[before_point]),
            float(points.longitude[before_point]),
            float(points.latitude[point]),
            float(points.longitude[point]),
        )
        seconds = at - before_at
        speed = distance / max(seconds, 1)
        if distance >= params.travel_min_distance_m and speed > params.walking_speed_m_s:
            findings.append(
                Finding(
                    IMPOSSIBLE_TRAVEL,
                    at,
                    point,
                    credential,
                    person,
                    {
                        "from_point": before_point,
                        "from_at": before_at,
                        "distance_m": round(distance),
                        "seconds": seconds,
                        "speed_needed_m_s": round(speed, 1),
                        "limit_m_s": params.walking_speed_m_s,
                    },
                )
            )
    return findings


def weekly_baseline(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    rows = []
    counts: dict[tuple[int, int, int], int] = defaultdict(int)
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for at, point, credential, person, granted in _rows(log):
        if not granted or person < 0:
            continue
        local = at + params.utc_offset_s + MONDAY_SHIFT_S
        week, slot = local // WEEK_S, (local % WEEK_S) // 3600
        counts[person, week, slot] += 1
        totals[person, week] += 1
        rows.append((at, point, credential, person, week, slot))
    seen = set()
    findings = []
    for at, point, credential, person, week, slot in rows:
        if (person, week, slot) in seen:
            continue
        seen.add((person, week, slot))
        active = 0
        total = 0
        in_slot = 0
        same_hour = 0
        for other in range(week - params.baseline_weeks, week):
            week_total = totals.get((person, other), 0)
            total += week_total
            active += week_total > 0
            in_slot += counts.get((person, other, slot), 0)
            for day in range(7):
                same_hour += counts.get((person, other, day * 24 + slot % 24), 0)
        if active >= params.baseline_min_active_weeks and in_slot == 0:
            findings.append(
                Finding(
                    WEEKLY_BASELINE,
                    at,
                    point,
                    credential,
                    person,
                    {
                        "weekday": slot // 24,
                        "hour": slot % 24,
                        "baseline_weeks": params.baseline_weeks,
                        "active_weeks": active,
                        "accesses_in_baseline": total,
                        "accesses_this_hour_of_week": 0,
                        "accesses_this_hour_other_days": same_hour,
                        "accesses_now": counts[person, week, slot],
                    },
                )
            )
    return findings


def detect_all(log: AccessLog, points: PointFacts, params: DetectorParams) -> list[Finding]:
    findings: list[Finding] = []
    for detector in (outside_hours, repeated_denials, impossible_travel, weekly_baseline):
        findings.extend(detector(log, points, params))
    return sort_findings(findings)

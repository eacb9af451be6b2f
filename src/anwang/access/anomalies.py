"""Anomaly findings of the access log: the scan that runs the detectors over the stored access
records and keeps what they find, the hand-over of new findings to the alarm rules, the
sentence each finding is shown with, and its review.

The detectors themselves are pure (:mod:`anwang.access.detectors`); this module feeds them
(:func:`access_log_build`: a community's :class:`AccessEvent` rows as numpy columns, read with
``values_list``, no model instances) and stores their :class:`~anwang.access.detectors.Finding`
records as :class:`AccessFinding` rows.

The scan (:func:`access_anomalies_scan`, called by the worker every minute)
---------------------------------------------------------------------------
* **Cheap when nothing happened.** One query reads the newest access-record id; when it is the
  one the last scan saw, the scan ends there. Otherwise one more query (a range of the primary
  key) says which communities have new records and the time of the oldest of them.
* **The three cheap detectors** (``outside_hours``, ``repeated_denials``,
  ``impossible_travel``) run per community with new records, over the records from
  :data:`LOOKBACK` (24 h) before the oldest new one (so a denial burst and a credential's
  previous access are seen), at most :data:`CATCH_UP` (7 days) back.
* **The weekly baseline** needs ``baseline_weeks`` + 1 weeks of records and is heavier: it
  runs at most once per :data:`BASELINE_EVERY` (1 h) per community, when the community has
  records it has not looked at yet, and keeps only findings from the last :data:`LOOKBACK`
  (older accesses had their turn; a shorter baseline would flag them wrongly).
* **State** (the newest record id seen; per community the newest record id and the time of
  the last baseline run) is kept in Django's cache, not in a table. Losing it (a worker
  restart, a cache without persistence) costs one full scan of every community, which finds
  nothing new: a finding's key (``detector:epoch:point:credential:resident``) is unique per
  community, so a scan run again, or two workers at once, store each finding once.
* With ``community`` (the "scan now" button, :func:`access_anomalies_scan_now`), that community
  is scanned at once, all four detectors, over the last :data:`LOOKBACK`.

Findings and the alarm rules
----------------------------
A new finding is handed to the rules as a device event of kind ``access.anomaly`` of its access
point's device (``data``: ``detector``, ``finding`` id, ``access_point`` name and the
explanation's values), stored with the key ``access.anomaly:<finding id>`` and run through the
community's event rules in the same transaction, as the pipeline does with device events. The
built-in pack raises alarms for ``impossible_travel``, ``outside_hours`` (P2) and
``repeated_denials`` (P3); weekly-baseline findings are for review only unless a community
adds a rule. Two kinds of findings are stored for review but **not** handed over:

* **stale** ones, whose access is older than :data:`FRESH_FOR` (1 h) when found (the first
  scan over history, records replayed late): an alarm about last week is not an alarm;
* those at an access point **without a device** (a gate logged by hand): a rule needs a device.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Min
from django.utils import dates, timezone
from django.utils.translation import gettext as _

from anwang.access.choices import AccessResult, FindingStatus
from anwang.access.detectors import (
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
    impossible_travel,
    outside_hours,
    repeated_denials,
    week_and_slot,
    weekly_baseline,
)
from anwang.access.models import AccessEvent, AccessFinding, AccessPoint
from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, service_scope
from anwang.audit.services import audit_record, diff
from anwang.core.errors import ServiceError
from anwang.core.validation import clean_text
from anwang.devices.models import Device
from anwang.events.bulk import NewEvent, store_events
from anwang.events.choices import EventKind
from anwang.events.services import raise_alarms
from anwang.places.models import Community

LOOKBACK: Final = dt.timedelta(hours=24)
"""How far before the oldest new record the cheap detectors look (a denial burst, the previous
access of a credential), and how old baseline findings may be."""
CATCH_UP: Final = dt.timedelta(days=7)
"""The farthest back a scan goes for records that arrived late."""
BASELINE_EVERY: Final = dt.timedelta(hours=1)
"""The weekly-baseline detector runs at most this often per community."""
FRESH_FOR: Final = dt.timedelta(hours=1)
"""A finding whose access is older than this when found is stored, not handed to the rules."""
STATE_KEY: Final = "anwang.access.anomalies.state"
"""The cache key of the scan's state."""
STATE_TTL: Final = 7 * 24 * 3600
NOTE_LIMIT: Final = 2000
_KEY_CHUNK = 500
_CHEAP = (outside_hours, repeated_denials, impossible_travel)
_DATA_LIMIT = 20


# --------------------------------------------------------------------------- the log


@dataclass(frozen=True)
class CommunityLog:
    """A community's access records as the detectors take them, with the database ids of the
    access points by index (``point_ids[i]`` is point ``i``)."""

    log: AccessLog
    points: PointFacts
    point_ids: npt.NDArray[np.int64]

    def point_id(self, index: int) -> int | None:
        """The database id of the point with this index (``None`` for -1)."""
        return int(self.point_ids[index]) if index >= 0 else None


def _minutes(value: dt.time | None) -> int:
    return -1 if value is None else value.hour * 60 + value.minute


def detector_params(now: dt.datetime | None = None) -> DetectorParams:
    """The detectors' thresholds, with the installation's offset from UTC at ``now``."""
    offset = timezone.localtime(now or timezone.now()).utcoffset()
    return DetectorParams(utc_offset_s=int(offset.total_seconds()) if offset else 0)


def access_log_build(
    community_id: int, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> CommunityLog:
    """The community's access records at an access point (``since`` <= at < ``until``) as
    numpy columns sorted by time, and all its access points (restricted flag, permitted hours
    as minutes after local midnight, coordinates)."""
    point_rows = list(
        AccessPoint.objects.filter(community_id=community_id)
        .order_by("pk")
        .values_list(
            "pk", "latitude", "longitude", "is_restricted", "permitted_from", "permitted_until"
        )
    )
    point_ids = np.array([row[0] for row in point_rows], dtype=np.int64)
    points = PointFacts(
        latitude=np.array(
            [np.nan if row[1] is None else row[1] for row in point_rows], dtype=np.float64
        ),
        longitude=np.array(
            [np.nan if row[2] is None else row[2] for row in point_rows], dtype=np.float64
        ),
        restricted=np.array([bool(row[3]) for row in point_rows], dtype=bool),
        permitted_from=np.array([_minutes(row[4]) for row in point_rows], dtype=np.int32),
        permitted_until=np.array([_minutes(row[5]) for row in point_rows], dtype=np.int32),
    )
    events = AccessEvent.objects.filter(community_id=community_id, access_point__isnull=False)
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    rows = list(
        events.order_by("at", "pk").values_list(
            "at", "access_point_id", "credential_id", "resident_id", "result"
        )
    )
    at = np.fromiter((int(row[0].timestamp()) for row in rows), dtype=np.int64, count=len(rows))
    point_db = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
    log = AccessLog(
        at=at,
        point=np.searchsorted(point_ids, point_db).astype(np.int32),
        credential=np.fromiter(
            (-1 if row[2] is None else row[2] for row in rows), dtype=np.int32, count=len(rows)
        ),
        person=np.fromiter(
            (-1 if row[3] is None else row[3] for row in rows), dtype=np.int32, count=len(rows)
        ),
        granted=np.fromiter(
            (row[4] == AccessResult.GRANTED for row in rows), dtype=bool, count=len(rows)
        ),
    )
    return CommunityLog(log=log, points=points, point_ids=point_ids)


def week_start(moment: dt.datetime, params: DetectorParams) -> dt.datetime:
    """Monday 00:00 (local time) of the week of ``moment``, as the detectors count weeks."""
    week, _slot = week_and_slot(np.array([int(moment.timestamp())], dtype=np.int64), params)
    start = int(week[0]) * WEEK_S - params.utc_offset_s - MONDAY_SHIFT_S
    return dt.datetime.fromtimestamp(start, tz=dt.UTC)


# --------------------------------------------------------------------------- storing


def finding_key(detector: str, at: int, point: int | None, credential: int, person: int) -> str:
    """The unique key of a finding in its community (database ids, -1 for none)."""
    return f"{detector}:{at}:{-1 if point is None else point}:{credential}:{person}"


def _stored_explanation(finding: Finding, source: CommunityLog) -> dict[str, Any]:
    explanation: dict[str, Any] = dict(finding.explanation)
    if "from_point" in explanation:
        explanation["from_point"] = source.point_id(int(explanation["from_point"]))
    return explanation


def _rows(
    community_id: int, findings: Iterable[Finding], source: CommunityLog, now: dt.datetime
) -> dict[str, AccessFinding]:
    rows: dict[str, AccessFinding] = {}
    for finding in findings:
        point_id = source.point_id(finding.point)
        key = finding_key(
            finding.detector, finding.at, point_id, finding.credential, finding.person
        )
        rows[key] = AccessFinding(
            community_id=community_id,
            detector=finding.detector,
            at=dt.datetime.fromtimestamp(finding.at, tz=dt.UTC),
            access_point_id=point_id,
            credential_id=finding.credential if finding.credential >= 0 else None,
            resident_id=finding.person if finding.person >= 0 else None,
            explanation=_stored_explanation(finding, source),
            key=key,
            found_at=now,
        )
    return rows


def _existing_keys(community_id: int, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        found.update(
            AccessFinding.objects.filter(
                community_id=community_id, key__in=keys[start : start + _KEY_CHUNK]
            ).values_list("key", flat=True)
        )
    return found


def _store(rows: dict[str, AccessFinding]) -> list[AccessFinding]:
    """Insert the findings not stored yet; the new ones, with their ids."""
    if not rows:
        return []
    community_id = next(iter(rows.values())).community_id
    new_keys = sorted(set(rows) - _existing_keys(community_id, list(rows)))
    if not new_keys:
        return []
    # Ignoring conflicts: another worker may store the same finding meanwhile.
    AccessFinding.objects.bulk_create([rows[key] for key in new_keys], ignore_conflicts=True)
    stored: list[AccessFinding] = []
    for start in range(0, len(new_keys), _KEY_CHUNK):
        stored.extend(
            AccessFinding.objects.filter(
                community_id=community_id, key__in=new_keys[start : start + _KEY_CHUNK]
            )
        )
    stored.sort(key=lambda finding: (finding.at, finding.pk))
    return stored


def _event_data(finding: AccessFinding, point_name: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "detector": finding.detector,
        "finding": finding.pk,
        "access_point": point_name,
    }
    explanation = finding.explanation if isinstance(finding.explanation, dict) else {}
    for name, value in list(explanation.items())[:_DATA_LIMIT]:
        if name == "from_point" or name in data:
            continue
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            data[name] = value
    return data


@dataclass
class ScanReport:
    """What one scan did."""

    communities: int = 0
    """Communities scanned."""
    baseline_runs: int = 0
    """Communities the weekly-baseline detector ran over."""
    findings: int = 0
    """New findings stored."""
    handed: int = 0
    """New findings handed to the alarm rules."""
    stale: int = 0
    """New findings too old to be handed over (stored for review)."""
    without_device: int = 0
    """New findings at an access point without a device (stored for review)."""
    alarms: int = 0
    """Alarms raised or fired again by the handed findings."""
    by_detector: dict[str, int] = field(default_factory=dict)


def _hand_over(stored: list[AccessFinding], now: dt.datetime, report: ScanReport) -> None:
    """Hand the fresh findings at a point with a device to the community's rules."""
    point_ids = {finding.access_point_id for finding in stored if finding.access_point_id}
    points = {
        pk: (name, device_id)
        for pk, name, device_id in AccessPoint.objects.filter(pk__in=point_ids).values_list(
            "pk", "name", "device_id"
        )
    }
    device_ids = {device_id for _name, device_id in points.values() if device_id is not None}
    devices = Device.objects.select_related("zone", "building").in_bulk(device_ids)
    events: list[NewEvent] = []
    for finding in stored:
        name, device_id = points.get(finding.access_point_id or 0, ("", None))
        if now - finding.at > FRESH_FOR:
            report.stale += 1
            continue
        device = devices.get(device_id) if device_id is not None else None
        if device is None or device.community_id != finding.community_id:
            report.without_device += 1
            continue
        events.append(
            NewEvent(
                device=device,
                kind=str(EventKind.ACCESS_ANOMALY),
                value=finding.detector,
                dedup_key=f"access.anomaly:{finding.pk}",
                received_at=now,
                device_time=finding.at,
                data=_event_data(finding, name),
            )
        )
    new = store_events(events)
    report.handed += len(new)
    for event in new:
        AccessFinding.objects.filter(pk=event.data["finding"]).update(device_event_id=event.id)
    report.alarms += raise_alarms(new, now=now)


def _scan_community(
    community_id: int,
    *,
    now: dt.datetime,
    params: DetectorParams,
    since: dt.datetime,
    baseline: bool,
    report: ScanReport,
) -> None:
    """Run the detectors over one community and store and hand over what is new."""
    source = access_log_build(community_id, since=since)
    findings: list[Finding] = []
    for detector in _CHEAP:
        findings.extend(detector(source.log, source.points, params))
    rows = _rows(community_id, findings, source, now)
    if baseline:
        # Whole weeks: the access's week and baseline_weeks before it. Only recent accesses
        # are kept: older ones were looked at by earlier runs, with their full baseline.
        keep_from = int(min(since, now - LOOKBACK).timestamp())
        start = week_start(now - LOOKBACK, params) - dt.timedelta(weeks=params.baseline_weeks)
        history = access_log_build(community_id, since=start)
        recent = [
            finding
            for finding in weekly_baseline(history.log, history.points, params)
            if finding.at >= keep_from
        ]
        rows.update(_rows(community_id, recent, history, now))
        report.baseline_runs += 1
    report.communities += 1
    with transaction.atomic():
        stored = _store(rows)
        for finding in stored:
            report.by_detector[finding.detector] = report.by_detector.get(finding.detector, 0) + 1
        report.findings += len(stored)
        _hand_over(stored, now, report)


def _state() -> dict[str, Any]:
    state = cache.get(STATE_KEY)
    if not isinstance(state, dict):
        return {"last": None, "communities": {}}
    return state


def _baseline_due(info: Mapping[str, Any], top: int, now: dt.datetime) -> bool:
    last_run = info.get("baseline_at")
    if info.get("baseline_top", -1) >= top:
        return False
    return last_run is None or now - dt.datetime.fromisoformat(last_run) >= BASELINE_EVERY


def access_anomalies_scan(
    *, now: dt.datetime | None = None, community: Community | None = None
) -> ScanReport:
    """Run the anomaly detectors over the access records that are new since the last scan,
    store new findings and hand the fresh ones to the alarm rules (see the module's notes);
    with ``community``, scan that community now, all detectors. What it did."""
    moment = now or timezone.now()
    params = detector_params(moment)
    report = ScanReport()
    state = _state()
    communities: dict[str, Any] = state.setdefault("communities", {})
    if community is not None:
        top = (
            AccessEvent.objects.filter(community=community)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
        _scan_community(
            community.pk,
            now=moment,
            params=params,
            since=moment - LOOKBACK,
            baseline=True,
            report=report,
        )
        communities[str(community.pk)] = {
            "top": top or 0,
            "baseline_at": moment.isoformat(),
            "baseline_top": top or 0,
        }
        cache.set(STATE_KEY, state, STATE_TTL)
        return report
    newest = AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    last = state.get("last")
    news: dict[int, tuple[int, dt.datetime | None]] = {}
    if newest is not None and (last is None or newest > last):
        if last is None:
            # No state (first run, cache lost): every community with records in the last day
            # (one look-up of the (community, at) index each).
            recent = moment - LOOKBACK
            every = Community.objects.order_by("pk").values_list("pk", flat=True)
            news = {
                pk: (newest, None)
                for pk in every
                if AccessEvent.objects.filter(community_id=pk, at__gte=recent).exists()
            }
        else:
            news = {
                row["community_id"]: (row["top"], row["oldest"])
                for row in AccessEvent.objects.filter(pk__gt=last)
                .values("community_id")
                .annotate(top=Max("pk"), oldest=Min("at"))
                .order_by("community_id")
            }
        state["last"] = newest
    pending = {
        int(pk): info["top"]
        for pk, info in communities.items()
        if info.get("baseline_top", -1) < info.get("top", 0) and int(pk) not in news
    }
    for community_id in sorted(set(news) | set(pending)):
        info = communities.setdefault(str(community_id), {})
        top, oldest = news.get(community_id, (pending.get(community_id, 0), None))
        info["top"] = max(int(info.get("top", 0)), int(top))
        baseline = _baseline_due(info, info["top"], moment)
        if community_id not in news and not baseline:
            continue
        since = moment - LOOKBACK
        if oldest is not None:
            since = max(min(since, oldest - LOOKBACK), moment - CATCH_UP)
        _scan_community(
            community_id, now=moment, params=params, since=since, baseline=baseline, report=report
        )
        if baseline:
            info["baseline_at"] = moment.isoformat()
            info["baseline_top"] = info["top"]
    cache.set(STATE_KEY, state, STATE_TTL)
    return report


def access_anomalies_scan_now(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    now: dt.datetime | None = None,
) -> ScanReport:
    """Scan one community at once (all detectors, the last day), for a manager who does not
    want to wait for the worker; audited ``access.anomalies_scan`` with the counts."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_ACCESS,
        community_id=community.pk,
        visible_with=Permission.VIEW_ACCESS,
    )
    report = access_anomalies_scan(now=now, community=community)
    audit_record(
        actor=actor if actor is not None else (scope.user if scope is not None else None),
        action="access.anomalies_scan",
        obj=community,
        community_id=community.pk,
        changes={
            "findings": report.findings,
            "handed": report.handed,
            "alarms": report.alarms,
        },
    )
    return report


# --------------------------------------------------------------------------- review


REVIEW_STATUSES: Final = (FindingStatus.CONFIRMED, FindingStatus.DISMISSED)


def finding_review(
    *,
    actor: User | None,
    scope: Scope | None = None,
    finding: AccessFinding,
    status: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> AccessFinding:
    """Confirm a finding (it was a real problem) or dismiss it (it was not), with a note; a
    dismissal needs a note (why it was not a problem, so the next reviewer sees the pattern).
    A reviewed finding may be reviewed again (the audit keeps both). Managers of access in the
    finding's community (403 for viewers, 404 otherwise); audited ``access.finding_review``."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_ACCESS,
        community_id=finding.community_id,
        visible_with=Permission.VIEW_ACCESS,
    )
    if status not in REVIEW_STATUSES:
        raise ServiceError(_("Choose confirm or dismiss."), field="status")
    text = clean_text("note", note, limit=NOTE_LIMIT, required=status == FindingStatus.DISMISSED)
    if status == FindingStatus.DISMISSED and not text:  # pragma: no cover - clean_text raised
        raise ServiceError(_("Say why the finding is dismissed."), field="note")
    moment = now or timezone.now()
    resolved = service_scope(actor, scope)
    reviewer = actor if actor is not None else (resolved.user if resolved is not None else None)
    with transaction.atomic():
        locked = AccessFinding.objects.select_for_update().get(pk=finding.pk)
        before = {"status": locked.status, "review_note": locked.review_note}
        locked.status = status
        locked.review_note = text
        locked.reviewed_by = reviewer
        locked.reviewed_at = moment
        locked.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
        audit_record(
            actor=reviewer,
            action="access.finding_review",
            obj=locked,
            community_id=locked.community_id,
            changes=diff(before, {"status": locked.status, "review_note": locked.review_note}),
        )
    finding.status = locked.status
    finding.review_note = locked.review_note
    finding.reviewed_by = locked.reviewed_by
    finding.reviewed_at = locked.reviewed_at
    return finding


# --------------------------------------------------------------------------- sentences


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _local_epoch(epoch: Any) -> str:
    try:
        return _local(dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC))
    except (TypeError, ValueError, OverflowError):
        return "?"


def _who(finding: AccessFinding) -> str:
    if finding.resident_id is not None and finding.resident is not None:
        return finding.resident.name
    credential = finding.credential if finding.credential_id is not None else None
    if credential is not None:
        label = credential.label or credential.get_kind_display()
        return _("the holder of %(credential)s") % {"credential": label}
    return _("an unknown person")


def _point_name(point: AccessPoint | None) -> str:
    return point.name if point is not None else _("a removed access point")


def _from_point_name(finding: AccessFinding, explanation: Mapping[str, Any]) -> str:
    annotated = getattr(finding, "from_point_name", None)
    if annotated:
        return str(annotated)
    pk = explanation.get("from_point")
    name = (
        AccessPoint.objects.filter(pk=pk).values_list("name", flat=True).first()
        if isinstance(pk, int)
        else None
    )
    return name or _("a removed access point")


def finding_sentence(finding: AccessFinding) -> str:
    """One translated sentence that says why the finding fired, from its explanation (times
    in local time; the access point, person or credential by name)."""
    e: Mapping[str, Any] = finding.explanation if isinstance(finding.explanation, dict) else {}
    point = _point_name(finding.access_point if finding.access_point_id else None)
    who = _who(finding)
    when = _local(finding.at)
    if finding.detector == OUTSIDE_HOURS:
        return _(
            "%(who)s entered the restricted area %(point)s at %(time)s; it is open "
            "%(from)s–%(until)s."
        ) % {
            "who": who,
            "point": point,
            "time": when,
            "from": e.get("permitted_from", "?"),
            "until": e.get("permitted_until", "?"),
        }
    if finding.detector == REPEATED_DENIALS:
        values = {
            "who": who,
            "point": point,
            "denials": int(e.get("denials", 0)),
            "first": _local_epoch(e.get("first_at")),
            "last": _local_epoch(e.get("last_at")),
            "threshold": int(e.get("threshold", 0)),
            "window": int(e.get("window_minutes", 0)),
        }
        if e.get("scope") == "point":
            return (
                _(
                    "%(denials)d refused attempts at %(point)s between %(first)s and %(last)s "
                    "(%(threshold)d within %(window)d minutes is unusual)."
                )
                % values
            )
        return (
            _(
                "%(who)s was refused %(denials)d times between %(first)s and %(last)s, at "
                "%(point)s among others (%(threshold)d within %(window)d minutes is unusual)."
            )
            % values
        )
    if finding.detector == IMPOSSIBLE_TRAVEL:
        return _(
            "%(who)s used the same credential at %(from_point)s at %(from_time)s and at "
            "%(point)s at %(time)s: %(distance)d m in %(seconds)d s needs %(speed)s m/s, "
            "faster than walking (%(limit)s m/s)."
        ) % {
            "who": who,
            "from_point": _from_point_name(finding, e),
            "from_time": _local_epoch(e.get("from_at")),
            "point": point,
            "time": when,
            "distance": int(e.get("distance_m", 0)),
            "seconds": int(e.get("seconds", 0)),
            "speed": e.get("speed_needed_m_s", "?"),
            "limit": e.get("limit_m_s", "?"),
        }
    if finding.detector == WEEKLY_BASELINE:
        hour = int(e.get("hour", 0))
        return _(
            "%(who)s came in at %(point)s at %(time)s, on a %(weekday)s between %(from)s and "
            "%(until)s: not once in that hour of the week in the previous %(weeks)d weeks "
            "(%(accesses)d accesses in %(active)d active weeks)."
        ) % {
            "who": who,
            "point": point,
            "time": when,
            "weekday": dates.WEEKDAYS.get(int(e.get("weekday", 0)), "?"),
            "from": hhmm(hour * 60),
            "until": hhmm(((hour + 1) % 24) * 60),
            "weeks": int(e.get("baseline_weeks", 0)),
            "accesses": int(e.get("accesses_in_baseline", 0)),
            "active": int(e.get("active_weeks", 0)),
        }
    return _("%(who)s at %(point)s at %(time)s.") % {"who": who, "point": point, "time": when}


def explanation_rows(finding: AccessFinding) -> list[tuple[str, str]]:
    """The finding's numbers, labelled, for the detail page (times in local time, points by
    name)."""
    labels = {
        "local_time": _("Local time"),
        "permitted_from": _("Open from"),
        "permitted_until": _("Open until"),
        "scope": _("Counted by"),
        "denials": _("Refusals"),
        "first_at": _("First refusal"),
        "last_at": _("Last refusal"),
        "threshold": _("Threshold"),
        "window_minutes": _("Window (minutes)"),
        "from_point": _("Previous access point"),
        "from_at": _("Previous access"),
        "distance_m": _("Distance (m)"),
        "seconds": _("Seconds between"),
        "speed_needed_m_s": _("Speed needed (m/s)"),
        "limit_m_s": _("Walking speed (m/s)"),
        "weekday": _("Weekday"),
        "hour": _("Hour"),
        "baseline_weeks": _("Weeks compared"),
        "active_weeks": _("Weeks the person was seen"),
        "accesses_in_baseline": _("Accesses in those weeks"),
        "accesses_this_hour_of_week": _("Accesses in this hour of the week"),
        "accesses_this_hour_other_days": _("Accesses in this hour on other days"),
        "accesses_now": _("Accesses in this hour now"),
    }
    e = finding.explanation if isinstance(finding.explanation, dict) else {}
    rows: list[tuple[str, str]] = []
    for name, value in e.items():
        shown: str
        if name in ("first_at", "last_at", "from_at"):
            shown = _local_epoch(value)
        elif name == "from_point":
            shown = _from_point_name(finding, e)
        elif name == "scope":
            shown = _("credential") if value == "credential" else _("access point")
        elif name == "weekday":
            shown = str(dates.WEEKDAYS.get(int(value), value))
        elif name == "hour":
            shown = f"{hhmm(int(value) * 60)}–{hhmm(((int(value) + 1) % 24) * 60)}"
        else:
            shown = str(value)
        rows.append((str(labels.get(name, name)), shown))
    return rows

"""The anomaly scan: the detectors' log built from stored access records, each detector's
finding stored once (a second scan finds nothing new), fresh findings at a point with a device
handed to the pack rules (an alarm) and stale ones not, the scan's schedule, the sentences in
English and Chinese, the review and what the retention purge does with findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation

from anwang.access import anomalies, selectors
from anwang.access.anomalies import (
    access_anomalies_scan,
    access_anomalies_scan_now,
    access_log_build,
    finding_review,
    finding_sentence,
)
from anwang.access.choices import AccessMethod, AccessResult, AnomalyDetector, FindingStatus
from anwang.access.models import AccessEvent, AccessFinding, AccessPoint, Credential
from anwang.access.retention import access_retention_purge
from anwang.access.tests.support import T0, AccessWorld
from anwang.accounts.selectors import scope_for
from anwang.alarms.models import Alarm
from anwang.audit.models import AuditEvent
from anwang.core.errors import ServiceError
from anwang.events.models import DeviceEvent
from anwang.people.models import Resident
from anwang.rules.services import rules_install_builtin

pytestmark = pytest.mark.django_db

NOW = T0  # Monday 2026-03-02 08:00 Shanghai


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    """Each test starts without the scan's state (kept in the cache)."""
    cache.delete(anomalies.STATE_KEY)
    yield
    cache.delete(anomalies.STATE_KEY)


def access(
    point: AccessPoint,
    at: dt.datetime,
    *,
    credential: Credential | None = None,
    resident: Resident | None = None,
    granted: bool = True,
) -> AccessEvent:
    """An access record made directly."""
    return AccessEvent.objects.create(
        community=point.community,
        access_point=point,
        at=at,
        result=AccessResult.GRANTED if granted else AccessResult.DENIED,
        method=AccessMethod.CARD,
        credential=credential,
        resident=resident
        if resident is not None
        else (credential.resident if credential else None),
    )


def place(w: AccessWorld) -> None:
    """The gate and the garage barrier about 1.1 km apart."""
    AccessPoint.objects.filter(pk=w.gate.pk).update(latitude=30.0, longitude=120.0)
    AccessPoint.objects.filter(pk=w.barrier.pk).update(latitude=30.01, longitude=120.0)


def seed(w: AccessWorld) -> None:
    """One of each anomaly on the morning of NOW, after eight weeks of 07:15 Monday
    habits: the plant room at 02:13 (outside hours, and an hour the person was never seen
    in), five refusals of the card at the gate from 07:00, and the card at the gate at 07:30
    and at the barrier 1.1 km away at 07:31."""
    place(w)
    for weeks in range(1, 9):
        access(
            w.gate, NOW - dt.timedelta(weeks=weeks) - dt.timedelta(minutes=45), credential=w.card
        )
    access(w.plant_room, NOW.replace(hour=2, minute=13), credential=w.card)
    for minute in range(5):
        access(w.gate, NOW.replace(hour=7, minute=minute), credential=w.card, granted=False)
    access(w.gate, NOW.replace(hour=7, minute=30), credential=w.card)
    access(w.barrier, NOW.replace(hour=7, minute=31), credential=w.card)


# --------------------------------------------------------------------------- the log


def test_the_log_is_built_from_the_records_with_a_point(world, access_world: AccessWorld):
    w = access_world
    place(w)
    access(w.barrier, NOW + dt.timedelta(minutes=5), credential=w.card)
    access(w.gate, NOW, granted=False)
    AccessEvent.objects.create(
        community=w.community, at=NOW, result=AccessResult.GRANTED, method=AccessMethod.REMOTE
    )
    built = access_log_build(w.community.pk, since=NOW - dt.timedelta(hours=1))
    log, points = built.log, built.points
    assert len(log) == 2
    assert log.at.tolist() == [int(NOW.timestamp()), int(NOW.timestamp()) + 300]
    assert [built.point_id(int(i)) for i in log.point] == [w.gate.pk, w.barrier.pk]
    assert log.credential.tolist() == [-1, w.card.pk]
    assert log.person.tolist() == [-1, w.resident.pk]
    assert log.granted.tolist() == [False, True]
    plant = int(np.flatnonzero(built.point_ids == w.plant_room.pk)[0])
    assert bool(points.restricted[plant])
    assert (int(points.permitted_from[plant]), int(points.permitted_until[plant])) == (480, 1080)
    gate = int(np.flatnonzero(built.point_ids == w.gate.pk)[0])
    assert points.latitude[gate] == 30.0
    assert np.isnan(points.latitude[plant])
    assert int(points.permitted_from[gate]) == -1


# --------------------------------------------------------------------------- the scan


def test_the_scan_stores_each_detectors_finding_once(world, access_world: AccessWorld):
    w = access_world
    seed(w)
    report = access_anomalies_scan(now=NOW)
    stored = AccessFinding.objects.filter(community=w.community)
    assert report.findings == stored.count() == 5
    assert report.by_detector == {
        "outside_hours": 1,
        "weekly_baseline": 1,
        "repeated_denials": 2,  # by the card, and at the gate
        "impossible_travel": 1,
    }
    travel = stored.get(detector=AnomalyDetector.IMPOSSIBLE_TRAVEL)
    assert travel.access_point_id == w.barrier.pk
    assert travel.credential_id == w.card.pk
    assert travel.resident_id == w.resident.pk
    assert travel.explanation["from_point"] == w.gate.pk  # a database id, not an index
    assert travel.explanation["seconds"] == 60
    assert travel.key == (
        f"impossible_travel:{int(travel.at.timestamp())}:{w.barrier.pk}:{w.card.pk}:{w.resident.pk}"
    )
    hours = stored.get(detector=AnomalyDetector.OUTSIDE_HOURS)
    assert hours.explanation["local_time"] == "02:13"
    at_gate = stored.get(detector=AnomalyDetector.REPEATED_DENIALS, credential__isnull=True)
    assert at_gate.explanation["scope"] == "point"
    assert at_gate.resident_id is None
    # Nothing new since: the scan stops at once; a forced scan finds the same, stores nothing.
    assert access_anomalies_scan(now=NOW + dt.timedelta(minutes=1)).communities == 0
    assert access_anomalies_scan(now=NOW, community=w.community).findings == 0
    cache.delete(anomalies.STATE_KEY)
    assert access_anomalies_scan(now=NOW).findings == 0
    assert stored.count() == 5


def test_a_fresh_finding_raises_the_pack_alarm_and_a_stale_one_does_not(
    world, access_world: AccessWorld
):
    w = access_world
    rules_install_builtin(community=w.community)
    seed(w)
    report = access_anomalies_scan(now=NOW)
    # Fresh (under an hour old at 08:00): travel at 07:31, the refusals from 07:04.
    assert report.handed == 3
    assert report.stale == 2  # the plant room at 02:13, outside hours and unusual hour
    travel = AccessFinding.objects.get(detector=AnomalyDetector.IMPOSSIBLE_TRAVEL)
    assert travel.device_event_id is not None
    event = DeviceEvent.objects.get(pk=travel.device_event_id)
    assert event.kind == "access.anomaly"
    assert event.device_id == w.barrier_camera.pk
    assert event.dedup_key == f"access.anomaly:{travel.pk}"
    assert event.data["detector"] == "impossible_travel"
    assert event.data["finding"] == travel.pk
    assert event.data["access_point"] == "地下车库道闸"
    assert event.data["distance_m"] == travel.explanation["distance_m"]
    alarm = Alarm.objects.get(rule__builtin="access_impossible_travel")
    assert alarm.priority == 2
    assert selectors.finding_alarm_id(travel) == alarm.pk
    assert Alarm.objects.filter(rule__builtin="access_repeated_denials").exists()
    stale = AccessFinding.objects.get(detector=AnomalyDetector.OUTSIDE_HOURS)
    assert stale.device_event_id is None
    assert not Alarm.objects.filter(rule__builtin="access_outside_hours").exists()
    # Weekly-baseline findings have no pack rule: for review only.
    assert not Alarm.objects.filter(title__icontains="week").exists()


def test_a_late_scan_stores_but_hands_nothing_over(world, access_world: AccessWorld):
    w = access_world
    rules_install_builtin(community=w.community)
    seed(w)
    report = access_anomalies_scan(now=NOW + dt.timedelta(hours=3))
    assert report.findings == 5
    assert report.handed == 0
    assert report.stale == 5
    assert not Alarm.objects.exists()
    assert not DeviceEvent.objects.filter(kind="access.anomaly").exists()


def test_a_point_without_a_device_is_reviewed_only(world, access_world: AccessWorld):
    w = access_world
    rules_install_builtin(community=w.community)
    AccessPoint.objects.filter(pk=w.plant_room.pk).update(device=None)
    access(w.plant_room, NOW - dt.timedelta(minutes=10), credential=w.card)
    report = access_anomalies_scan(now=NOW)
    assert report.by_detector == {"outside_hours": 1}
    assert report.without_device == 1
    assert report.handed == 0
    assert AccessFinding.objects.get().device_event_id is None


def test_new_records_are_scanned_the_next_minute_and_the_baseline_hourly(
    world, access_world: AccessWorld
):
    w = access_world
    seed(w)
    first = access_anomalies_scan(now=NOW)
    assert first.baseline_runs == 1
    # A new record ten minutes later: the cheap detectors, not the baseline yet.
    access(w.plant_room, NOW + dt.timedelta(minutes=9), credential=w.card)  # 08:09: allowed
    second = access_anomalies_scan(now=NOW + dt.timedelta(minutes=10))
    assert (second.communities, second.baseline_runs, second.findings) == (1, 0, 0)
    # An hour later, with nothing new meanwhile: the baseline looks at what it has not seen.
    third = access_anomalies_scan(now=NOW + dt.timedelta(minutes=70))
    assert third.baseline_runs == 1
    assert access_anomalies_scan(now=NOW + dt.timedelta(minutes=71)).communities == 0
    # Late at night in the plant room: found the minute after.
    late = NOW.replace(hour=23, minute=5)
    access(w.plant_room, late, credential=w.card)
    fourth = access_anomalies_scan(now=late + dt.timedelta(minutes=1))
    assert fourth.by_detector.get("outside_hours") == 1


def test_other_communities_are_not_scanned_when_only_one_has_news(world, access_world: AccessWorld):
    w = access_world
    seed(w)
    access_anomalies_scan(now=NOW)
    access(w.gate, NOW + dt.timedelta(minutes=2), credential=w.card)
    report = access_anomalies_scan(now=NOW + dt.timedelta(minutes=3))
    assert report.communities == 1


# --------------------------------------------------------------------------- sentences


def test_sentences_in_english(world, access_world: AccessWorld):
    w = access_world
    seed(w)
    access_anomalies_scan(now=NOW)
    by = {f.detector: f for f in selectors.findings(scope_for(world.platform_admin))}
    with translation.override("en"):
        hours = finding_sentence(by["outside_hours"])
        travel = finding_sentence(by["impossible_travel"])
        weekly = finding_sentence(by["weekly_baseline"])
        denials = finding_sentence(by["repeated_denials"])
    name = w.resident.name
    assert hours == (
        f"{name} entered the restricted area 水泵房 at 2026-03-02 02:13; it is open 08:00–18:00."
    )
    assert travel.startswith(
        f"{name} used the same credential at 北门 at 2026-03-02 07:30 and at 地下车库道闸 at "
        "2026-03-02 07:31: "
    )
    assert "in 60 s" in travel
    assert "faster than walking (2.5 m/s)" in travel
    assert "Monday between 02:00 and 03:00" in weekly
    assert "previous 8 weeks" in weekly
    assert "between 2026-03-02 07:00 and 2026-03-02 07:04" in denials


def test_sentences_in_chinese_use_local_time_and_names(world, access_world: AccessWorld):
    w = access_world
    seed(w)
    access_anomalies_scan(now=NOW)
    hours = AccessFinding.objects.get(detector="outside_hours")
    weekly = AccessFinding.objects.get(detector="weekly_baseline")
    with translation.override("zh-hans"):
        text = finding_sentence(hours)
        week_text = finding_sentence(weekly)
    assert "水泵房" in text
    assert "02:13" in text  # 18:13 UTC the day before
    assert "08:00" in text
    assert "18:00" in text
    assert "周一" in week_text  # Django's weekday names, translated


def test_sentence_of_an_unknown_person(world, access_world: AccessWorld):
    w = access_world
    for minute in range(5):
        access(w.gate, NOW - dt.timedelta(minutes=10 - minute), granted=False)
    access_anomalies_scan(now=NOW)
    finding = AccessFinding.objects.get()
    assert finding.resident_id is None
    assert finding.credential_id is None
    text = finding_sentence(finding)
    assert text.startswith("5 refused attempts at 北门 between")
    finding.explanation = {**finding.explanation, "scope": "credential"}
    assert finding_sentence(finding).startswith("an unknown person was refused 5 times")


# --------------------------------------------------------------------------- review


def _a_finding(w: AccessWorld) -> AccessFinding:
    access(w.plant_room, NOW.replace(hour=2), credential=w.card)
    access_anomalies_scan(now=NOW, community=w.community)
    return AccessFinding.objects.get(detector="outside_hours")


def test_review_by_a_manager_is_audited(world, access_world: AccessWorld):
    finding = _a_finding(access_world)
    admin = world.user("community_admin")
    reviewed = finding_review(
        actor=admin, finding=finding, status=FindingStatus.CONFIRMED, note="", now=NOW
    )
    assert reviewed.status == "confirmed"
    stored = AccessFinding.objects.get(pk=finding.pk)
    assert (stored.status, stored.reviewed_by_id, stored.reviewed_at) == (
        "confirmed",
        admin.pk,
        NOW,
    )
    entry = AuditEvent.objects.get(action="access.finding_review")
    assert entry.changes["status"] == ["new", "confirmed"]
    with pytest.raises(ServiceError) as error:
        finding_review(actor=admin, finding=finding, status=FindingStatus.DISMISSED, note=" ")
    assert error.value.field == "note"
    with pytest.raises(ServiceError):
        finding_review(actor=admin, finding=finding, status=FindingStatus.NEW, note="x")
    finding_review(
        actor=admin, finding=finding, status=FindingStatus.DISMISSED, note="Plumber on call"
    )
    assert AccessFinding.objects.get(pk=finding.pk).review_note == "Plumber on call"


def test_review_refused_to_viewers_and_other_communities(world, access_world: AccessWorld):
    finding = _a_finding(access_world)
    with pytest.raises(PermissionDenied):
        finding_review(actor=world.user("operator"), finding=finding, status="confirmed")
    with pytest.raises(Http404):
        finding_review(
            actor=world.user("community_admin", "b"), finding=finding, status="confirmed"
        )
    assert AccessFinding.objects.get(pk=finding.pk).status == "new"


def test_scan_now_is_for_managers_and_audited(world, access_world: AccessWorld):
    w = access_world
    access(w.plant_room, NOW.replace(hour=3), credential=w.card)
    with pytest.raises(PermissionDenied):
        access_anomalies_scan_now(actor=world.user("operator"), community=w.community, now=NOW)
    report = access_anomalies_scan_now(
        actor=world.user("community_admin"), community=w.community, now=NOW
    )
    assert report.findings == 1
    assert AuditEvent.objects.get(action="access.anomalies_scan").changes["findings"] == 1


def test_reading_findings_is_audited_and_scoped(world, access_world: AccessWorld):
    finding = _a_finding(access_world)
    scope_b = scope_for(world.user("community_admin", "b"))
    assert list(selectors.findings(scope_b)) == []
    with pytest.raises(Http404):
        selectors.finding_get(scope_b, finding.pk)
    scope_a = scope_for(world.user("operator"))
    assert [f.pk for f in selectors.findings(scope_a, status="new")] == [finding.pk]
    assert selectors.finding_get(scope_a, finding.pk).pk == finding.pk
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"access.view_findings", "access.view_finding"} <= actions


def test_the_retention_purge_removes_old_findings(world, access_world: AccessWorld, settings: Any):
    settings.ANWANG_ACCESS_RETENTION_DAYS = 30
    finding = _a_finding(access_world)
    report = access_retention_purge(now=NOW + dt.timedelta(days=29))
    assert AccessFinding.objects.filter(pk=finding.pk).exists()
    report = access_retention_purge(now=NOW + dt.timedelta(days=31))
    assert report.access_findings == 1
    assert not AccessFinding.objects.exists()

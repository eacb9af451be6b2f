"""The retention purge of access data: records, gate-log entries and ended visitor passes
older than the retention go in batches, newer ones stay; one audit entry per run that deleted
anything, none for an empty run."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from anwang.access.choices import AccessMethod, AccessResult, GateEntryKind
from anwang.access.models import AccessEvent, GateLogEntry, VisitorPass
from anwang.access.retention import access_retention_purge, retention_days
from anwang.access.tests.support import T0, AccessWorld
from anwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NOW = T0 + dt.timedelta(days=400)


def event(aw: AccessWorld, at: dt.datetime) -> AccessEvent:
    """A granted card access at the gate at ``at``."""
    return AccessEvent.objects.create(
        community=aw.community,
        access_point=aw.gate,
        at=at,
        result=AccessResult.GRANTED,
        method=AccessMethod.CARD,
        credential=aw.card,
        resident=aw.resident,
        presented_index=aw.card.value_index,
    )


def gate_entry(aw: AccessWorld, at: dt.datetime) -> GateLogEntry:
    """A walk-in visitor written down by the guard at ``at``."""
    return GateLogEntry.objects.create(
        community=aw.community,
        access_point=aw.gate,
        kind=GateEntryKind.WALK_IN,
        at=at,
        visitor_name="王芳",
        visitor_phone="13812345678",
    )


def visitor_pass(aw: AccessWorld, until: dt.datetime) -> VisitorPass:
    """A visitor pass whose window ends at ``until``."""
    return VisitorPass.objects.create(
        community=aw.community,
        household=aw.world.a.household,
        visitor_name="李雷",
        visitor_phone="13912345678",
        valid_from=until - dt.timedelta(hours=4),
        valid_until=until,
        nonce=secrets.token_hex(16),
        created_at=until - dt.timedelta(days=1),
    )


def purge_audits() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="access.retention_purge"))


def test_default_retention_is_180_days(settings):
    assert retention_days() == 180
    settings.ANWANG_ACCESS_RETENTION_DAYS = 0
    assert retention_days() == 1


def test_older_than_the_cutoff_go_newer_stay_and_the_run_is_audited_once(
    access_world: AccessWorld,
):
    cutoff = NOW - dt.timedelta(days=180)
    old = [event(access_world, cutoff - dt.timedelta(seconds=1)) for _ in range(3)]
    kept = event(access_world, cutoff)
    recent = event(access_world, NOW - dt.timedelta(days=1))
    old_entry = gate_entry(access_world, cutoff - dt.timedelta(days=10))
    new_entry = gate_entry(access_world, cutoff + dt.timedelta(days=10))
    ended = visitor_pass(access_world, cutoff - dt.timedelta(hours=1))
    ended.events.add(old[0])  # the link goes with the pass either way
    running = visitor_pass(access_world, cutoff + dt.timedelta(hours=1))

    report = access_retention_purge(now=NOW)

    assert report.cutoff == cutoff
    assert (report.access_events, report.gate_log_entries, report.visitor_passes) == (3, 1, 1)
    assert set(AccessEvent.objects.values_list("pk", flat=True)) == {kept.pk, recent.pk}
    assert list(GateLogEntry.objects.values_list("pk", flat=True)) == [new_entry.pk]
    assert list(VisitorPass.objects.values_list("pk", flat=True)) == [running.pk]
    assert not GateLogEntry.objects.filter(pk=old_entry.pk).exists()
    [entry] = purge_audits()
    assert entry.actor_id is None
    assert entry.changes == {
        "cutoff": cutoff.isoformat(),
        "retention_days": 180,
        "access_events": 3,
        "gate_log_entries": 1,
        "visitor_passes": 1,
    }
    # Counts only: no names or phone numbers in the audit log.
    assert "王芳" not in str(entry.changes)
    assert "李雷" not in str(entry.changes)


def test_a_run_with_nothing_to_delete_changes_nothing_and_is_not_audited(
    access_world: AccessWorld,
):
    recent = event(access_world, NOW - dt.timedelta(days=10))
    report = access_retention_purge(now=NOW)
    assert report.total == 0
    assert report.batches == 0
    assert report.complete
    assert AccessEvent.objects.filter(pk=recent.pk).exists()
    assert purge_audits() == []
    # A second run after a real purge finds nothing either: still one entry in all.
    event(access_world, NOW - dt.timedelta(days=300))
    access_retention_purge(now=NOW)
    access_retention_purge(now=NOW)
    assert len(purge_audits()) == 1


def test_the_configured_retention_sets_the_cutoff(settings, access_world: AccessWorld):
    settings.ANWANG_ACCESS_RETENTION_DAYS = 30
    gone = event(access_world, NOW - dt.timedelta(days=31))
    kept = event(access_world, NOW - dt.timedelta(days=29))
    report = access_retention_purge(now=NOW)
    assert report.cutoff == NOW - dt.timedelta(days=30)
    assert not AccessEvent.objects.filter(pk=gone.pk).exists()
    assert AccessEvent.objects.filter(pk=kept.pk).exists()
    assert purge_audits()[0].changes["retention_days"] == 30


def test_deletes_in_batches_and_audits_the_run_once(access_world: AccessWorld):
    for day in range(7):
        event(access_world, NOW - dt.timedelta(days=200 + day))
    report = access_retention_purge(now=NOW, batch_size=3)
    assert report.access_events == 7
    assert report.batches == 3  # 3 + 3 + 1
    assert not AccessEvent.objects.exists()
    assert len(purge_audits()) == 1


def test_a_failing_batch_still_audits_what_was_deleted(
    access_world: AccessWorld, monkeypatch: pytest.MonkeyPatch
):
    for day in range(2):
        event(access_world, NOW - dt.timedelta(days=200 + day))
    gate_entry(access_world, NOW - dt.timedelta(days=200))
    original = GateLogEntry.objects.filter

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr(GateLogEntry.objects, "filter", broken)
    with pytest.raises(RuntimeError):
        access_retention_purge(now=NOW)
    monkeypatch.setattr(GateLogEntry.objects, "filter", original)
    [entry] = purge_audits()
    assert entry.changes["access_events"] == 2
    assert entry.changes["complete"] is False

"""Personal data of access control: the retention purge, and a person's export and erasure.

* :func:`access_retention_purge` deletes access records, anomaly findings (they say where a
  person was, like the records they were found in), gate-log entries and visitor passes
  (with the visitors' names, phone numbers and plates) older than
  ``settings.ANWANG_ACCESS_RETENTION_DAYS`` (default 180), in batches. The worker runs it once
  a day. A run that deleted anything writes one audit entry ``access.retention_purge`` (no
  actor: the system) with the cutoff and the count per table. **A run that deleted nothing is
  not audited**: it runs every day, and an entry per empty run would add hundreds of entries a
  year that say nothing about anyone's data; that nothing older than the cutoff is left can be
  checked in the data itself at any time, and the worker logs every run.
* :func:`resident_access_export` is what access control holds about a person, as JSON, for a
  request to see one's data (holders of view-access; full numbers only for manage-access),
  anomaly findings about them included.
* :func:`resident_access_erase` deletes a person's access records, anomaly findings,
  credentials and watch-list entries on request (manage-access). **Consent records are
  kept**: they are the proof of what the person agreed to and when it was withdrawn, and go
  only with the person's record (``people.services.resident_erase``).

Audit entries of exports and erasures hold counts only, never numbers, places or times.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from anwang.access.models import (
    AccessEvent,
    AccessFinding,
    ConsentRecord,
    Credential,
    GateLogEntry,
    VisitorPass,
    WatchListEntry,
)
from anwang.access.schemas import mask_value
from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide, authorize, service_scope
from anwang.audit.services import audit_record
from anwang.people.models import HouseholdBinding, Resident

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS: Final = 180
BATCH_SIZE: Final = 1000
"""Rows one purge transaction deletes: short transactions keep the tables usable meanwhile."""


# --------------------------------------------------------------------------- retention


@dataclass
class PurgeReport:
    """What one purge run deleted, and before which time."""

    cutoff: dt.datetime
    access_events: int = 0
    access_findings: int = 0
    gate_log_entries: int = 0
    visitor_passes: int = 0
    batches: int = 0
    complete: bool = True

    @property
    def total(self) -> int:
        """Rows deleted, all tables together."""
        return (
            self.access_events + self.access_findings + self.gate_log_entries + self.visitor_passes
        )

    def counts(self) -> dict[str, int]:
        """Rows deleted per table (the audit entry's changes; findings only when some were
        deleted, so the entries of runs before findings existed read the same)."""
        return {
            "access_events": self.access_events,
            **({"access_findings": self.access_findings} if self.access_findings else {}),
            "gate_log_entries": self.gate_log_entries,
            "visitor_passes": self.visitor_passes,
        }


def retention_days() -> int:
    """Days access data is kept (``ANWANG_ACCESS_RETENTION_DAYS``, at least 1)."""
    days = int(getattr(settings, "ANWANG_ACCESS_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    return max(days, 1)


def _delete_in_batches(qs: QuerySet[Any], batch_size: int, report: PurgeReport) -> int:
    """Delete the rows of ``qs`` ``batch_size`` at a time, each batch in its own transaction;
    the number of rows of ``qs``'s model deleted."""
    model: type[Model] = qs.model
    deleted = 0
    while True:
        ids = list(qs.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            _, per_model = model._default_manager.filter(pk__in=ids).delete()
        deleted += per_model.get(model._meta.label, 0)
        report.batches += 1
        if len(ids) < batch_size:
            return deleted


def access_retention_purge(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> PurgeReport:
    """Delete access records, anomaly findings and gate-log entries from before the retention
    period, and
    visitor passes whose window ended before it (with the visitor's name, phone and plate).

    Batches commit one by one; one audit entry ``access.retention_purge`` records the run when
    it deleted anything (also when a later batch failed: then with ``complete: false``, and the
    error goes on to the caller). An empty run is not audited (see the module's notes)."""
    moment = now if now is not None else timezone.now()
    days = retention_days()
    report = PurgeReport(cutoff=moment - dt.timedelta(days=days))
    cutoff = report.cutoff
    try:
        report.complete = False
        report.access_events = _delete_in_batches(
            AccessEvent.objects.filter(at__lt=cutoff), batch_size, report
        )
        report.access_findings = _delete_in_batches(
            AccessFinding.objects.filter(at__lt=cutoff), batch_size, report
        )
        report.gate_log_entries = _delete_in_batches(
            GateLogEntry.objects.filter(at__lt=cutoff), batch_size, report
        )
        report.visitor_passes = _delete_in_batches(
            VisitorPass.objects.filter(valid_until__lt=cutoff), batch_size, report
        )
        report.complete = True
    finally:
        if report.total:
            with transaction.atomic():
                audit_record(
                    actor=None,
                    action="access.retention_purge",
                    object_type="access.accessevent",
                    changes={
                        "cutoff": cutoff.isoformat(),
                        "retention_days": days,
                        **report.counts(),
                        **({} if report.complete else {"complete": False}),
                    },
                )
            log.info(
                "Access retention: deleted %d access record(s), %d finding(s), "
                "%d gate-log entr(ies), %d visitor pass(es) from before %s",
                report.access_events,
                report.access_findings,
                report.gate_log_entries,
                report.visitor_passes,
                cutoff.isoformat(),
            )
    return report


# --------------------------------------------------------------------------- a person's data


def _iso(value: dt.datetime | None) -> str | None:
    """A time in the installation's time zone, as the person saw it."""
    return timezone.localtime(value).isoformat() if value is not None else None


def _events_of(resident: Resident) -> QuerySet[AccessEvent]:
    """The person's access records: theirs by person or by one of their credentials."""
    return AccessEvent.objects.filter(Q(resident=resident) | Q(credential__resident=resident))


def _findings_of(resident: Resident) -> QuerySet[AccessFinding]:
    """Anomaly findings about the person: theirs by person or by one of their credentials."""
    return AccessFinding.objects.filter(Q(resident=resident) | Q(credential__resident=resident))


def _watch_entries_of(resident: Resident) -> QuerySet[WatchListEntry]:
    """Watch-list entries about the person or one of their credentials."""
    return WatchListEntry.objects.filter(Q(resident=resident) | Q(credential__resident=resident))


def _host_accounts(resident: Resident) -> QuerySet[User]:
    """The accounts bound to the person's record (who registers visitors as them)."""
    return User.objects.filter(
        pk__in=HouseholdBinding.objects.filter(resident=resident).values("user_id")
    )


def _may_reveal(actor: User | None, scope: Scope | None, community_id: int) -> bool:
    resolved = service_scope(actor, scope)
    return (
        resolved is None
        or acts_platform_wide(resolved)
        or resolved.has(Permission.MANAGE_ACCESS, community_id)
    )


def resident_access_export(
    *, actor: User | None, scope: Scope | None = None, resident: Resident
) -> dict[str, Any]:
    """Everything access control holds about a person, JSON-able: credentials, consents,
    accesses, visitor passes registered by the person's accounts and watch-list entries about
    them. Holders of view-access in the person's community (404 for anyone else); full
    numbers only for manage-access holders, masked otherwise. Audited ``access.export`` with
    the counts (an export shows movements, so it is recorded like any view of them)."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.VIEW_ACCESS,
        community_id=resident.community_id,
    )
    reveal = _may_reveal(actor, scope, resident.community_id)

    def number(value: Any) -> str:
        text = str(value or "")
        return text if reveal else mask_value(text)

    credentials = [
        {
            "kind": credential.kind,
            "label": credential.label,
            "number": number(credential.value),
            "valid_from": _iso(credential.valid_from),
            "valid_until": _iso(credential.valid_until),
            "status": credential.status,
        }
        for credential in Credential.objects.filter(resident=resident).order_by("kind", "id")
    ]
    consents = [
        {
            "kind": consent.kind,
            "given_at": _iso(consent.given_at),
            "how": consent.how,
            "withdrawn_at": _iso(consent.withdrawn_at),
        }
        for consent in ConsentRecord.objects.filter(resident=resident).order_by("given_at", "id")
    ]
    accesses = [
        {
            "at": _iso(event.at),
            "point": event.access_point.name if event.access_point else None,
            "result": event.result,
            "method": event.method,
        }
        for event in _events_of(resident).select_related("access_point").order_by("at", "id")
    ]
    passes = [
        {
            "visitor_name": visitor_pass.visitor_name,
            "visitor_phone": number(visitor_pass.visitor_phone),
            "plate": number(visitor_pass.plate),
            "valid_from": _iso(visitor_pass.valid_from),
            "valid_until": _iso(visitor_pass.valid_until),
            "max_entries": visitor_pass.max_entries,
            "entries_used": visitor_pass.entries_used,
            "revoked_at": _iso(visitor_pass.revoked_at),
        }
        for visitor_pass in VisitorPass.objects.filter(
            host__in=_host_accounts(resident), community_id=resident.community_id
        ).order_by("valid_from", "id")
    ]
    findings = [
        {
            "detector": finding.detector,
            "at": _iso(finding.at),
            "point": finding.access_point.name if finding.access_point else None,
            "explanation": finding.explanation,
            "status": finding.status,
            "review_note": finding.review_note,
            "reviewed_at": _iso(finding.reviewed_at),
        }
        for finding in _findings_of(resident).select_related("access_point").order_by("at", "id")
    ]
    watch = [
        {
            "kind": entry.kind,
            "description": entry.description,
            "reason": entry.reason,
            "added_at": _iso(entry.created_at),
            "ended_at": _iso(entry.ended_at),
        }
        for entry in _watch_entries_of(resident).order_by("created_at", "id")
    ]
    audit_record(
        actor=actor if actor is not None else (scope.user if scope is not None else None),
        action="access.export",
        obj=resident,
        object_repr=f"#{resident.pk}",
        community_id=resident.community_id,
        changes={
            "credentials": len(credentials),
            "consents": len(consents),
            "accesses": len(accesses),
            "access_findings": len(findings),
            "visitor_passes": len(passes),
            "watch_entries": len(watch),
            "masked": not reveal,
        },
    )
    return {
        "resident": {
            "id": resident.pk,
            "name": resident.name,
            "community": resident.community.name,
        },
        "exported_at": timezone.now().isoformat(),
        "numbers_masked": not reveal,
        "credentials": credentials,
        "consents": consents,
        "accesses": accesses,
        "access_findings": findings,
        "visitor_passes": passes,
        "watch_entries": watch,
    }


def resident_access_erase(
    *, actor: User | None, scope: Scope | None = None, resident: Resident
) -> dict[str, int]:
    """Erase a person's access data on request: their access records and anomaly findings (by
    person or by one of their credentials), their credentials and the watch-list entries about
    them. Consent records stay (proof of what was agreed and withdrawn) until the person's
    record is erased. Manage-access holders only (403 for viewers, 404 otherwise); audited
    ``access.erase`` with counts only. Returns the counts."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_ACCESS,
        community_id=resident.community_id,
        visible_with=Permission.VIEW_ACCESS,
    )
    with transaction.atomic():
        access_events = _events_of(resident).delete()[1].get(AccessEvent._meta.label, 0)
        access_findings = _findings_of(resident).delete()[1].get(AccessFinding._meta.label, 0)
        watch_qs = _watch_entries_of(resident)
        watch_entries = watch_qs.count()
        watch_qs.delete()
        credentials = Credential.objects.filter(resident=resident).count()
        Credential.objects.filter(resident=resident).delete()
        counts = {
            "access_events": access_events,
            "access_findings": access_findings,
            "credentials": credentials,
            "watch_entries": watch_entries,
            "consents_kept": ConsentRecord.objects.filter(resident=resident).count(),
        }
        audit_record(
            actor=actor if actor is not None else (scope.user if scope is not None else None),
            action="access.erase",
            obj=resident,
            object_repr=f"#{resident.pk}",
            community_id=resident.community_id,
            changes=counts,
        )
    return counts


def erase_access_events_of(resident: Resident) -> int:
    """Delete every access record of the person (by person or by one of their credentials),
    before the person's record goes: nulling them would leave anonymous records that still
    carry the blind index of the person's card or plate. The number deleted."""
    return _events_of(resident).delete()[1].get(AccessEvent._meta.label, 0)

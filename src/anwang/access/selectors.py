"""Reads of the access domain: access points, credentials, consents, access records and the
watch list of the communities the caller may see.

Holders of :attr:`Permission.VIEW_ACCESS` in a community see its access data; everyone else
gets 404 (nothing of another community is revealed). Access records say where a person was
and when: every read of a person's movements (:func:`resident_movements`) and of the access
log (:func:`access_events`) writes an audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.translation import gettext as _

from anwang.access.choices import AccessCredentialKind, CredentialStatus, FindingStatus
from anwang.access.models import (
    AccessEvent,
    AccessFinding,
    AccessPoint,
    ConsentRecord,
    Credential,
    WatchListEntry,
)
from anwang.access.services import value_index
from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.alarms.models import AlarmEvent
from anwang.audit.services import audit_record
from anwang.core.selectors import communities_permitted
from anwang.people.models import Resident
from anwang.places.models import Community

EVENTS_MAX = 1000
"""Most access records one read returns."""

# --------------------------------------------------------------------------- who may do what


def may_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the community's access points, credentials and records."""
    return acts_platform_wide(scope) or scope.has(Permission.VIEW_ACCESS, community_id)


def may_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may change the community's access points, credentials, consents
    and watch list."""
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_ACCESS, community_id)


def view_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose access data the caller sees."""
    return communities_permitted(scope, Permission.VIEW_ACCESS)


def manage_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose access data the caller may change."""
    return communities_permitted(scope, Permission.MANAGE_ACCESS)


def _visible(scope: Scope, qs: QuerySet[Any], community_id: int | None) -> QuerySet[Any]:
    if not acts_platform_wide(scope):
        qs = qs.filter(community_id__in=scope.community_ids(Permission.VIEW_ACCESS))
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs


def _require_view(scope: Scope, community_id: int) -> None:
    if not may_view(scope, community_id):
        raise Http404


# --------------------------------------------------------------------------- access points


def access_points(
    scope: Scope,
    *,
    community_id: int | None = None,
    kind: str | None = None,
    active: bool | None = None,
) -> QuerySet[AccessPoint]:
    """The access points the caller may see, by community and name."""
    points = _visible(
        scope,
        AccessPoint.objects.select_related("community", "device", "zone", "building"),
        community_id,
    )
    if kind:
        points = points.filter(kind=kind)
    if active is not None:
        points = points.filter(is_active=active)
    return points.order_by("community__name", "name", "id")


def access_point_get(scope: Scope, point_id: int) -> AccessPoint:
    """One access point the caller may see; 404 otherwise."""
    point = access_points(scope).filter(pk=point_id).first()
    if point is None:
        raise Http404
    return point


# --------------------------------------------------------------------------- credentials


def credentials(
    scope: Scope,
    *,
    community_id: int | None = None,
    resident_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
    number: str = "",
) -> QuerySet[Credential]:
    """The credentials the caller may see, optionally of one resident, kind or status, or
    with this number (exact, by blind index: card number, QR id or plate, normalised as
    stored)."""
    found = _visible(
        scope,
        Credential.objects.select_related("community", "resident", "consent"),
        community_id,
    )
    if resident_id is not None:
        found = found.filter(resident_id=resident_id)
    if kind:
        found = found.filter(kind=kind)
    if status:
        found = found.filter(status=status)
    number = number.strip()
    if number:
        kinds = [kind] if kind else list(AccessCredentialKind.values)
        indexes = {value_index(one, number) for one in kinds} - {""}
        found = found.filter(value_index__in=indexes)
    return found.order_by("community__name", "resident__name", "kind", "id")


def credential_get(scope: Scope, credential_id: int) -> Credential:
    """One credential the caller may see; 404 otherwise."""
    credential = credentials(scope).filter(pk=credential_id).first()
    if credential is None:
        raise Http404
    return credential


def credential_find(community_id: int, kind: str, presented: str) -> Credential | None:
    """The system's look-up of a presented card number, QR id, face template reference or
    plate (no permission check: the pipeline and the pass check use it): the active
    credential with it, else the latest one that had it (lost, stolen, revoked: the use is
    still linked and is a finding), else None."""
    index = value_index(kind, presented)
    if not index:
        return None
    return credential_find_by_index(community_id, kind, index)


def credential_find_by_index(community_id: int, kind: str, index: str) -> Credential | None:
    """As :func:`credential_find`, from a blind index already computed."""
    if not index:
        return None
    matches = Credential.objects.filter(
        community_id=community_id, kind=kind, value_index=index
    ).select_related("resident")
    active = matches.filter(status=CredentialStatus.ACTIVE).first()
    if active is not None:
        return active
    return matches.order_by("-status_changed_at", "-id").first()


# --------------------------------------------------------------------------- residents


def resident_get(scope: Scope, resident_id: int) -> Resident:
    """A resident of a community whose access data the caller sees; 404 otherwise."""
    resident = Resident.objects.select_related("community").filter(pk=resident_id).first()
    if resident is None or not may_view(scope, resident.community_id):
        raise Http404
    return resident


@dataclass
class ResidentAccess:
    """A resident's credentials, consents and watch-list entries."""

    resident: Resident
    credentials: list[Credential] = field(default_factory=list)
    consents: list[ConsentRecord] = field(default_factory=list)
    watch_entries: list[WatchListEntry] = field(default_factory=list)
    face_consent: ConsentRecord | None = None


def resident_access(scope: Scope, resident: Resident) -> ResidentAccess:
    """What a resident has for access (no movements: see :func:`resident_movements`)."""
    _require_view(scope, resident.community_id)
    consents = list(ConsentRecord.objects.filter(resident=resident).select_related("recorded_by"))
    return ResidentAccess(
        resident=resident,
        credentials=list(
            Credential.objects.filter(resident=resident).order_by("kind", "-valid_from", "-id")
        ),
        consents=consents,
        watch_entries=list(WatchListEntry.objects.filter(resident=resident)),
        face_consent=next(
            (c for c in consents if c.kind == "face" and c.withdrawn_at is None), None
        ),
    )


def consent_get(scope: Scope, consent_id: int) -> ConsentRecord:
    """One consent of a resident whose access data the caller sees; 404 otherwise."""
    consent = ConsentRecord.objects.select_related("resident").filter(pk=consent_id).first()
    if consent is None or not may_view(scope, consent.resident.community_id):
        raise Http404
    return consent


def resident_movements(
    scope: Scope,
    actor: User | None,
    resident: Resident,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[AccessEvent]:
    """A resident's accesses (newest first, at most :data:`EVENTS_MAX`), between ``since``
    and ``until`` when given. Every call writes an audit entry ``access.view_movements``:
    every view of a person's movements is recorded, with who looked and which period."""
    _require_view(scope, resident.community_id)
    events = AccessEvent.objects.filter(resident=resident).select_related(
        "access_point", "credential", "visitor_pass"
    )
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    found = list(events.order_by("-at", "-id")[:EVENTS_MAX])
    audit_record(
        actor=actor if actor is not None else scope.user,
        action="access.view_movements",
        obj=resident,
        community_id=resident.community_id,
        changes={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "records": len(found),
        },
    )
    return found


# --------------------------------------------------------------------------- access records


def access_events(
    scope: Scope,
    *,
    community_id: int | None = None,
    point_id: int | None = None,
    result: str | None = None,
    method: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    unknown_only: bool = False,
    limit: int = 200,
) -> list[AccessEvent]:
    """The access log of the communities the caller sees, newest first (at most ``limit``,
    capped at :data:`EVENTS_MAX`), filtered by point, result, method and period;
    ``unknown_only`` keeps accesses no credential or pass was linked to. Writes an audit
    entry ``access.view_events`` (the log shows people's movements)."""
    events = _visible(
        scope,
        AccessEvent.objects.select_related(
            "community", "access_point", "credential", "resident", "visitor_pass"
        ),
        community_id,
    )
    if point_id is not None:
        events = events.filter(access_point_id=point_id)
    if result:
        events = events.filter(result=result)
    if method:
        events = events.filter(method=method)
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    if unknown_only:
        events = events.filter(credential__isnull=True, visitor_pass__isnull=True)
    found = list(events.order_by("-at", "-id")[: max(1, min(limit, EVENTS_MAX))])
    audit_record(
        actor=scope.user,
        action="access.view_events",
        object_type="access.accessevent",
        community_id=community_id,
        changes={
            "point": point_id,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "records": len(found),
        },
    )
    return found


def reason_text(reason: str) -> str:
    """An access record's reason in words: the device's word and Anwang's findings, joined
    by "|" in the record (``valid_card|credential_lost``)."""
    texts = {
        "valid_card": _("valid card"),
        "card_and_password_passed": _("card and password"),
        "card_and_password_failed": _("wrong password"),
        "card_no_permission": _("card not allowed here"),
        "card_outside_schedule": _("card outside its schedule"),
        "card_expired": _("card expired on the device"),
        "invalid_card": _("unknown card"),
        "fingerprint_passed": _("fingerprint"),
        "fingerprint_failed": _("fingerprint not recognised"),
        "face_verified": _("face recognised"),
        "face_failed": _("face not verified"),
        "face_not_recognised": _("face not recognised"),
        "remote_open": _("opened remotely"),
        "plate_read": _("plate read"),
        "credential_lost": _("credential reported lost"),
        "credential_stolen": _("credential reported stolen"),
        "credential_revoked": _("credential revoked"),
        "credential_not_yet_valid": _("credential not valid yet"),
        "credential_expired": _("credential expired"),
        "outside_permitted_hours": _("outside permitted hours"),
        "unknown_credential": _("unknown credential"),
        "unknown_plate": _("unknown plate"),
    }
    return "; ".join(texts.get(part, part) for part in reason.split("|") if part)


def has_finding(event: AccessEvent) -> bool:
    """Whether the record carries one of Anwang's findings (a credential not active or out
    of its window, access outside permitted hours)."""
    return any(
        part.startswith("credential_") or part == "outside_permitted_hours"
        for part in event.reason.split("|")
    )


# --------------------------------------------------------------------------- watch list


def watch_entries(
    scope: Scope, *, community_id: int | None = None, active: bool | None = True
) -> QuerySet[WatchListEntry]:
    """The watch lists the caller may see (entries in force by default), newest first."""
    entries = _visible(
        scope,
        WatchListEntry.objects.select_related("community", "credential", "resident", "created_by"),
        community_id,
    )
    if active is True:
        entries = entries.filter(ended_at__isnull=True)
    elif active is False:
        entries = entries.filter(ended_at__isnull=False)
    return entries.order_by("-created_at", "-id")


def watch_entry_get(scope: Scope, entry_id: int) -> WatchListEntry:
    """One watch-list entry the caller may see; 404 otherwise."""
    entry = watch_entries(scope, active=None).filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    return entry


# --------------------------------------------------------------------------- anomaly findings


def _findings_base(scope: Scope, community_id: int | None) -> QuerySet[AccessFinding]:
    """Findings the caller sees, with what their sentences need (the previous access
    point of an impossible travel by name, without a query per finding)."""
    from_point = AccessPoint.objects.filter(
        pk=Cast(KeyTextTransform("from_point", OuterRef("explanation")), IntegerField())
    )
    return _visible(
        scope,
        AccessFinding.objects.select_related(
            "community", "access_point", "credential", "resident", "reviewed_by"
        ).annotate(from_point_name=Subquery(from_point.values("name")[:1])),
        community_id,
    )


def findings(
    scope: Scope,
    *,
    community_id: int | None = None,
    detector: str = "",
    status: str = "",
    resident_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    audited: bool = True,
) -> QuerySet[AccessFinding]:
    """Anomaly findings of the communities the caller sees, newest first, by detector,
    review status, person and period. A finding says where a person was: the read writes an
    audit entry ``access.view_findings`` with the filters (``audited=False`` for counts that
    show no one's whereabouts)."""
    found = _findings_base(scope, community_id)
    if detector:
        found = found.filter(detector=detector)
    if status:
        found = found.filter(status=status)
    if resident_id is not None:
        found = found.filter(resident_id=resident_id)
    if since is not None:
        found = found.filter(at__gte=since)
    if until is not None:
        found = found.filter(at__lt=until)
    if audited:
        audit_record(
            actor=scope.user,
            action="access.view_findings",
            object_type="access.accessfinding",
            community_id=community_id,
            changes={
                "detector": detector or None,
                "status": status or None,
                "resident": resident_id,
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
            },
        )
    return found.order_by("-at", "-id")


def findings_to_review(scope: Scope, community_id: int) -> int:
    """How many of the community's findings wait for review (a count: not audited)."""
    if not may_view(scope, community_id):
        return 0
    return AccessFinding.objects.filter(community_id=community_id, status=FindingStatus.NEW).count()


def finding_get(scope: Scope, finding_id: int, *, audited: bool = True) -> AccessFinding:
    """One finding the caller sees (404 otherwise); the read writes an audit entry
    ``access.view_finding`` (``audited=False`` when fetched to be changed: the change is
    audited itself)."""
    finding = _findings_base(scope, None).filter(pk=finding_id).first()
    if finding is None:
        raise Http404
    if audited:
        audit_record(
            actor=scope.user,
            action="access.view_finding",
            obj=finding,
            community_id=finding.community_id,
        )
    return finding


def finding_alarm_id(finding: AccessFinding) -> int | None:
    """The alarm the rules raised (or joined) with the finding's event, if any."""
    if finding.device_event_id is None:
        return None
    return (
        AlarmEvent.objects.filter(device_event_id=finding.device_event_id)
        .order_by("pk")
        .values_list("alarm_id", flat=True)
        .first()
    )

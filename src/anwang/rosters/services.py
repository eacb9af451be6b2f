"""Writes of the rosters domain: duty patterns and their exceptions and swaps.

Every change needs :attr:`Permission.MANAGE_ROSTERS` in the community (403 for those who may
only see rosters, 404 for everyone else), is validated with translated errors on the field
concerned, and records an audit entry in the same transaction. Without ``actor`` and ``scope``
the call is the system itself. Whoever takes a duty must be a member of the community in a
role that may hold it (:data:`ELIGIBLE_ROLES`).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ServiceError
from anwang.core.validation import clean_aware, clean_text
from anwang.patrols.schedules import (
    clean_rule_field,
    clean_shift_length,
    first_overlap,
)
from anwang.places.models import Community
from anwang.rosters.choices import DutyRole, ExceptionKind
from anwang.rosters.models import DutyException, DutyPattern

ELIGIBLE_ROLES: dict[str, frozenset[Role]] = {
    DutyRole.OPERATOR: frozenset({Role.OPERATOR, Role.COMMUNITY_ADMIN}),
    DutyRole.GUARD: frozenset({Role.GUARD}),
    DutyRole.ON_DUTY_LEADER: frozenset({Role.COMMUNITY_ADMIN}),
    DutyRole.GRID_WORKER: frozenset({Role.GRID_WORKER}),
}
"""Community roles whose holders may take each duty role."""

_PATTERN_FIELDS = ("duty_role", "person", "first_start", "duration", "rrule", "is_active", "note")


class Unset(enum.Enum):
    """The type of :data:`UNSET`: an update argument the caller did not pass."""

    UNSET = "unset"


UNSET = Unset.UNSET


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_ROSTERS,
        community_id=community_id,
        visible_with=Permission.VIEW_ROSTERS,
    )


def authorize_manage(*, actor: User | None, scope: Scope | None, community: Community) -> None:
    """Raise 403 (or 404) unless the caller may change the community's roster; for callers
    that check before looking up the people named in a request."""
    _require_manage(actor, scope, community.pk)


def _duty_role(value: Any) -> str:
    if value not in DutyRole.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in DutyRole.labels)},
            field="duty_role",
        )
    return str(value)


def _eligible(community_id: int, duty_role: str, person: Any, field: str) -> User:
    if not isinstance(person, User) or not person.is_active:
        raise ServiceError(_("Choose an active person."), field=field)
    roles = ELIGIBLE_ROLES[duty_role]
    if not Membership.objects.filter(
        user=person, community_id=community_id, role__in=roles
    ).exists():
        raise ServiceError(
            _("%(name)s may not be on duty as %(role)s in this community.")
            % {"name": person, "role": DutyRole(duty_role).label},
            field=field,
        )
    return person


def _no_overlap(pattern: DutyPattern) -> None:
    """One person cannot hold two shifts of one pattern at once."""
    zone = timezone.get_current_timezone()
    overlap = first_overlap(
        rule=pattern.rrule,
        first_start=pattern.first_start.astimezone(zone),
        duration=pattern.duration,
    )
    if overlap is not None:
        raise ServiceError(
            _("The shift starting %(start)s begins before the previous one ends.")
            % {"start": overlap.start.strftime("%Y-%m-%d %H:%M")},
            field="rrule",
        )


def _snapshot(pattern: DutyPattern) -> dict[str, Any]:
    return snapshot(pattern, _PATTERN_FIELDS)


def duty_pattern_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    duty_role: str,
    person: User,
    first_start: dt.datetime,
    duration: dt.timedelta,
    rrule: str,
    is_active: bool = True,
    note: str = "",
) -> DutyPattern:
    """Add a person's recurring duty in a duty role."""
    _require_manage(actor, scope, community.pk)
    role = _duty_role(duty_role)
    pattern = DutyPattern(
        community=community,
        duty_role=role,
        person=_eligible(community.pk, role, person, "person"),
        first_start=clean_aware("first_start", first_start),
        duration=clean_shift_length(duration),
        rrule=clean_rule_field(rrule),
        is_active=bool(is_active),
        note=clean_text("note", note, limit=2000, required=False),
    )
    _no_overlap(pattern)
    with transaction.atomic():
        pattern.save()
        audit_record(
            actor=actor,
            action="duty_pattern.create",
            obj=pattern,
            community_id=community.pk,
            changes=diff({}, _snapshot(pattern)),
        )
    return pattern


def duty_pattern_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    pattern: DutyPattern,
    duty_role: str | Unset = UNSET,
    person: User | Unset = UNSET,
    first_start: dt.datetime | Unset = UNSET,
    duration: dt.timedelta | Unset = UNSET,
    rrule: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    note: str | Unset = UNSET,
) -> DutyPattern:
    """Change a pattern; arguments left at :data:`UNSET` keep their value."""
    _require_manage(actor, scope, pattern.community_id)
    before = _snapshot(pattern)
    if duty_role is not UNSET:
        pattern.duty_role = _duty_role(duty_role)
    if person is not UNSET:
        pattern.person = person
    if duty_role is not UNSET or person is not UNSET:
        _eligible(pattern.community_id, pattern.duty_role, pattern.person, "person")
    if first_start is not UNSET:
        pattern.first_start = clean_aware("first_start", first_start)
    if duration is not UNSET:
        pattern.duration = clean_shift_length(duration)
    if rrule is not UNSET:
        pattern.rrule = clean_rule_field(rrule)
    if is_active is not UNSET:
        pattern.is_active = bool(is_active)
    if note is not UNSET:
        pattern.note = clean_text("note", note, limit=2000, required=False)
    _no_overlap(pattern)
    with transaction.atomic():
        pattern.save()
        audit_record(
            actor=actor,
            action="duty_pattern.update",
            obj=pattern,
            community_id=pattern.community_id,
            changes=diff(before, _snapshot(pattern)),
        )
    return pattern


def duty_pattern_deactivate(
    *, actor: User | None, scope: Scope | None = None, pattern: DutyPattern
) -> DutyPattern:
    """Stop a pattern's shifts (kept for the record and its exceptions)."""
    return duty_pattern_update(actor=actor, scope=scope, pattern=pattern, is_active=False)


def duty_exception_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    kind: str,
    pattern: DutyPattern | None = None,
    person: User | None = None,
    duty_role: str = "",
    shift_key: str = "",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    replacement: User | None = None,
    reason: str = "",
) -> DutyException:
    """Cancel shifts (``off``) or hand them to another person (``swap``): the shifts of one
    pattern, or of a person in a duty role; one shift by its key, or those starting in a
    time range."""
    _require_manage(actor, scope, community.pk)
    if kind not in ExceptionKind.values:
        raise ServiceError(_("Choose cancelled or swapped."), field="kind")
    if pattern is not None:
        if pattern.community_id != community.pk:
            raise ServiceError(_("Choose a duty pattern of this community."), field="pattern")
        person, duty_role = pattern.person, pattern.duty_role
    elif person is None:
        raise ServiceError(_("Choose a duty pattern or a person."), field="pattern")
    duty_role = _duty_role(duty_role)
    shift_key = clean_text("shift_key", shift_key, limit=20, required=False)
    if shift_key:
        starts_at = ends_at = None
    else:
        if starts_at is None or ends_at is None:
            raise ServiceError(_("Choose one shift or give a time range."), field="starts_at")
        starts_at, ends_at = clean_aware("starts_at", starts_at), clean_aware("ends_at", ends_at)
        if ends_at <= starts_at:
            raise ServiceError(_("The range must end after it starts."), field="ends_at")
    if kind == ExceptionKind.SWAP:
        if replacement is None:
            raise ServiceError(_("Choose who takes the shift."), field="replacement")
        _eligible(community.pk, duty_role, replacement, "replacement")
        if person is not None and replacement.pk == person.pk:
            raise ServiceError(_("The replacement must be someone else."), field="replacement")
    else:
        replacement = None
    exception = DutyException(
        community=community,
        pattern=pattern,
        person=person,
        duty_role=duty_role,
        shift_key=shift_key,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=kind,
        replacement=replacement,
        reason=clean_text("reason", reason, limit=200, required=False),
        created_by=actor,
    )
    with transaction.atomic():
        exception.save()
        audit_record(
            actor=actor,
            action=f"duty_exception.{kind}",
            obj=exception,
            community_id=community.pk,
            changes={
                "pattern": exception.pattern_id,
                "person": exception.person_id,
                "shift_key": shift_key,
                "replacement": exception.replacement_id,
            },
        )
    return exception

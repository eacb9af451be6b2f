"""Writes of the rosters domain: duty patterns and their exceptions and swaps.

Every change needs :attr:`Permission.MANAGE_ROSTERS` in the community (403 for those who may
only see rosters, 404 for everyone else), is validated with translated errors on the field
concerned, and records an audit entry in the same transaction. Without ``actor`` and ``scope``
the call is the system itself. Whoever takes a duty must be a member of the community in a
role that may hold it (:data:`ELIGIBLE_ROLES`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ServiceError
from anwang.core.validation import UNSET, Unset, clean_aware, clean_text
from anwang.patrols.schedules import (
    clean_rule_field,
    clean_shift_length,
    first_overlap,
)
from anwang.places.models import Community
from anwang.rosters import selectors
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


_EXCEPTION_FIELDS = (
    "kind",
    "pattern",
    "person",
    "duty_role",
    "shift_key",
    "starts_at",
    "ends_at",
    "replacement",
    "reason",
)


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _exception_build(
    *,
    actor: User | None,
    community: Community,
    kind: str,
    pattern: DutyPattern | None,
    person: User | None,
    duty_role: str,
    shift_key: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    replacement: User | None,
    reason: str,
) -> DutyException:
    """The exception checked field by field, not saved (the roster checks come after)."""
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
        if selectors.shift_key_start(shift_key) is None:
            raise ServiceError(
                _("Give the shift as its local start, YYYYMMDDTHHMM (e.g. 20260302T2000)."),
                field="shift_key",
            )
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
    return DutyException(
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


def _covers_no_shift(exception: DutyException) -> ServiceError:
    role = DutyRole(exception.duty_role).label
    if exception.shift_key:
        start = selectors.shift_key_start(exception.shift_key)
        assert start is not None
        if exception.pattern_id is not None:
            message = _("This duty pattern has no shift starting %(start)s.")
        else:
            message = _("%(name)s has no shift as %(role)s starting %(start)s.")
        values = {"start": _when(start), "name": exception.person, "role": role}
        return ServiceError(message % values, field="shift_key")
    if exception.pattern_id is not None:
        return ServiceError(_("No shift of this pattern starts in that range."), field="starts_at")
    return ServiceError(
        _("No shift of %(name)s as %(role)s starts in that range.")
        % {"name": exception.person, "role": role},
        field="starts_at",
    )


def _exception_check(exception: DutyException, pending: list[DutyException]) -> None:
    """Refuse an exception that covers no shift, and a swap whose replacement would then hold
    two overlapping shifts of the community (any duty roles), the roster read as it stands
    with the ``pending`` exceptions (this one among them) applied."""
    covered = selectors.exception_shifts(exception)
    if not covered:
        raise _covers_no_shift(exception)
    if exception.kind != ExceptionKind.SWAP:
        return
    replacement = exception.replacement
    assert replacement is not None
    since = min(shift.start for _pattern, shift in covered)
    until = max(shift.end for _pattern, shift in covered)
    taken = {(pattern.pk, shift.key) for pattern, shift in covered}
    theirs = [
        duty
        for duty in selectors.duties_between(
            since=since,
            until=until,
            community_id=exception.community_id,
            extra_exceptions=pending,
        )
        if duty.person.pk == replacement.pk and (duty.pattern.pk, duty.shift_key) not in taken
    ]
    for _pattern, shift in covered:
        for duty in theirs:
            if duty.start < shift.end and shift.start < duty.end:
                raise ServiceError(
                    _(
                        "%(name)s is already on duty as %(role)s from %(start)s to %(end)s, "
                        "which overlaps the shift from %(shift_start)s to %(shift_end)s."
                    )
                    % {
                        "name": replacement,
                        "role": DutyRole(duty.duty_role).label,
                        "start": _when(duty.start),
                        "end": _when(duty.end),
                        "shift_start": _when(shift.start),
                        "shift_end": _when(shift.end),
                    },
                    field="replacement",
                )


def _exception_save(actor: User | None, exception: DutyException) -> None:
    """Save in the caller's transaction, with its audit entry."""
    exception.save()
    audit_record(
        actor=actor,
        action=f"duty_exception.{exception.kind}",
        obj=exception,
        community_id=exception.community_id,
        changes=diff({}, snapshot(exception, _EXCEPTION_FIELDS)),
    )


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
    time range. It must cover at least one shift, and a replacement must be free (not on
    duty in the community, in any role) for every shift they take."""
    _require_manage(actor, scope, community.pk)
    exception = _exception_build(
        actor=actor,
        community=community,
        kind=kind,
        pattern=pattern,
        person=person,
        duty_role=duty_role,
        shift_key=shift_key,
        starts_at=starts_at,
        ends_at=ends_at,
        replacement=replacement,
        reason=reason,
    )
    _exception_check(exception, [exception])
    with transaction.atomic():
        _exception_save(actor, exception)
    return exception


_FIRST_HALF = {"replacement": "other_pattern", "starts_at": "shift_key"}
_SECOND_HALF = {
    "replacement": "pattern",
    "pattern": "other_pattern",
    "shift_key": "other_shift_key",
    "starts_at": "other_shift_key",
}
"""How errors of each half of a swap name the swap's fields: the replacement of one half is
the person of the other half's pattern."""


@contextmanager
def _fields_renamed(names: dict[str, str]) -> Iterator[None]:
    """Errors raised inside name the caller's fields instead of the exception's."""
    try:
        yield
    except ServiceError as error:
        error.field = names.get(error.field or "", error.field)
        raise


def _swap_half(
    actor: User | None,
    community: Community,
    pattern: DutyPattern,
    shift_key: str,
    taker: User,
    reason: str,
    names: dict[str, str],
) -> DutyException:
    """One of the two exceptions of a swap: ``taker`` takes the pattern's shift."""
    with _fields_renamed(names):
        if not str(shift_key or "").strip():
            raise ServiceError(_("Choose the shift by its key."), field="shift_key")
        return _exception_build(
            actor=actor,
            community=community,
            kind=ExceptionKind.SWAP,
            pattern=pattern,
            person=None,
            duty_role="",
            shift_key=shift_key,
            starts_at=None,
            ends_at=None,
            replacement=taker,
            reason=reason,
        )


def duty_shifts_swap(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    pattern: DutyPattern,
    shift_key: str,
    other_pattern: DutyPattern,
    other_shift_key: str,
    reason: str = "",
) -> tuple[DutyException, DutyException]:
    """Two people swap shifts: the other pattern's person takes the first shift and the
    first pattern's person takes the other shift. Two swap exceptions, both checked against
    the roster as it stands with both applied, saved together or not at all."""
    _require_manage(actor, scope, community.pk)
    for field, chosen in (("pattern", pattern), ("other_pattern", other_pattern)):
        if chosen.community_id != community.pk:
            raise ServiceError(_("Choose a duty pattern of this community."), field=field)
    if pattern.person_id == other_pattern.person_id:
        raise ServiceError(
            _("Choose shifts of two different people to swap."), field="other_pattern"
        )
    first = _swap_half(
        actor, community, pattern, shift_key, other_pattern.person, reason, _FIRST_HALF
    )
    second = _swap_half(
        actor, community, other_pattern, other_shift_key, pattern.person, reason, _SECOND_HALF
    )
    both = [first, second]
    with _fields_renamed(_FIRST_HALF):
        _exception_check(first, both)
    with _fields_renamed(_SECOND_HALF):
        _exception_check(second, both)
    with transaction.atomic():
        _exception_save(actor, first)
        _exception_save(actor, second)
    return first, second


def duty_exception_remove(
    *, actor: User | None, scope: Scope | None = None, exception: DutyException
) -> None:
    """Undo an exception: its shifts go back to how the pattern (and any other exception)
    has them. The audit entry keeps what it was."""
    _require_manage(actor, scope, exception.community_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="duty_exception.remove",
            obj=exception,
            community_id=exception.community_id,
            changes=diff(snapshot(exception, _EXCEPTION_FIELDS), {}),
        )
        exception.delete()

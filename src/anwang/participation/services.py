"""Writes of the points ledger: awarding points by a community's rules, an admin's manual
adjustment, reversing an entry, and editing the rules.

:func:`points_award` is the one function other apps call (volunteer shifts, patrols, hazards,
training, drills). It is idempotent on (community, source kind, source key, person): the same
shift or hazard never earns the same person points twice, however often it is called. Points
beyond a rule's daily cap are not lost silently: the entry records them as ``capped_points``.

Reversals and adjustments need :attr:`Permission.MANAGE_VOLUNTEERS` in the community (403 for
those who may only see volunteers, 404 for everyone else), a reason, and are audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_record, diff
from anwang.core.errors import ConflictError, ServiceError
from anwang.participation.choices import EntryKind, PointSource
from anwang.participation.models import DEFAULT_RULES, PointEntry, PointRule
from anwang.places.models import Community

MAX_QUANTITY = Decimal("10000")
MAX_ADJUST = 100_000
MAX_RULE_POINTS = 10_000


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_VOLUNTEERS,
        community_id=community_id,
        visible_with=Permission.VIEW_VOLUNTEERS,
    )


def _reason(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ServiceError(_("Give a reason."), field="reason")
    if len(text) > 1000:
        raise ServiceError(_("Use at most 1000 characters."), field="reason")
    return text


def point_rule_for(community: Community, source_kind: str) -> PointRule:
    """The rule of a source in a community: the stored one, else the default (unsaved)."""
    if source_kind not in PointSource.values:
        raise ServiceError(_("Unknown source of points."), field="source_kind")
    rule = PointRule.objects.filter(community=community, source_kind=source_kind).first()
    if rule is not None:
        return rule
    default = DEFAULT_RULES[PointSource(source_kind)]
    return PointRule(
        community=community,
        source_kind=source_kind,
        points_per_unit=default.points_per_unit,
        daily_cap=default.daily_cap,
        is_active=True,
    )


def _quantity(value: Any) -> Decimal:
    try:
        quantity = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as error:
        raise ServiceError(_("Enter a number."), field="quantity") from error
    if not quantity.is_finite() or quantity < 0 or quantity > MAX_QUANTITY:
        raise ServiceError(
            _("Enter a quantity from 0 to %(max)s.") % {"max": MAX_QUANTITY}, field="quantity"
        )
    return quantity


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()


def _credited_on(community: Community, user: User, source_kind: str, day: dt.date) -> int:
    """Points from one source already counted for a person on a day (reversals subtract)."""
    total = PointEntry.objects.filter(
        community=community, user=user, source_kind=source_kind, day=day
    ).aggregate(total=Sum("points"))["total"]
    return int(total or 0)


def points_award(
    *,
    community: Community,
    user: User,
    source_kind: str,
    source_key: str,
    quantity: Decimal | int | float | str = 1,
    occurred_at: dt.datetime,
    reason: str = "",
) -> PointEntry | None:
    """Give a person the points a community's rule grants for ``quantity`` units of an activity.

    Idempotent: if (community, source kind, source key, person) was awarded before, that entry
    is returned and nothing is added. ``None`` (and nothing recorded) when the rule is switched
    off or ``quantity`` is 0. Points beyond the daily cap are recorded in ``capped_points``."""
    if source_kind == PointSource.MANUAL:
        raise ServiceError(_("Manual points are given with an adjustment."), field="source_kind")
    key = str(source_key or "").strip()
    if not key or len(key) > 200:
        raise ServiceError(
            _("A source key of 1 to 200 characters is required."), field="source_key"
        )
    amount = _quantity(quantity)
    existing = PointEntry.objects.filter(
        community=community,
        user=user,
        source_kind=source_kind,
        source_key=key,
        kind=EntryKind.AWARD,
    ).first()
    if existing is not None:
        return existing
    rule = point_rule_for(community, source_kind)
    if not rule.is_active or amount == 0:
        # Nothing earned, nothing recorded: a later call with a real quantity still counts.
        return None
    earned = int((amount * rule.points_per_unit).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    day = _day(occurred_at)
    try:
        with transaction.atomic():
            # Serialise awards of one person and source, so two at once cannot both use the
            # rest of the daily cap.
            User.objects.select_for_update().filter(pk=user.pk).first()
            points = earned
            if rule.daily_cap is not None:
                room = max(0, rule.daily_cap - _credited_on(community, user, source_kind, day))
                points = min(earned, room)
            entry = PointEntry.objects.create(
                community=community,
                user=user,
                kind=EntryKind.AWARD,
                source_kind=source_kind,
                source_key=key,
                quantity=amount,
                points_per_unit=rule.points_per_unit,
                points=points,
                capped_points=earned - points,
                occurred_at=occurred_at,
                day=day,
                reason=str(reason or "")[:1000],
            )
            audit_record(
                actor=None,
                action="points.award",
                obj=entry,
                changes={
                    "user": user.pk,
                    "source": f"{source_kind}:{key}",
                    "points": points,
                    "capped": earned - points,
                },
            )
    except IntegrityError:
        # A concurrent call recorded the same award first.
        return PointEntry.objects.get(
            community=community,
            user=user,
            source_kind=source_kind,
            source_key=key,
            kind=EntryKind.AWARD,
        )
    return entry


def points_reverse(
    *, actor: User | None, scope: Scope | None = None, entry: PointEntry, reason: str
) -> PointEntry:
    """Cancel an award or adjustment with a negative entry linked to it; once only."""
    _require_manage(actor, scope, entry.community_id)
    text = _reason(reason)
    if entry.kind == EntryKind.REVERSAL:
        raise ConflictError(_("A reversal cannot be reversed."))
    with transaction.atomic():
        locked = PointEntry.objects.select_for_update().get(pk=entry.pk)
        if PointEntry.objects.filter(reverses=locked).exists():
            raise ConflictError(_("This entry was already reversed."))
        reversal = PointEntry.objects.create(
            community_id=locked.community_id,
            user_id=locked.user_id,
            kind=EntryKind.REVERSAL,
            source_kind=locked.source_kind,
            source_key=f"reversal:{locked.pk}",
            quantity=locked.quantity,
            points_per_unit=locked.points_per_unit,
            points=-locked.points,
            capped_points=0,
            occurred_at=timezone.now(),
            # The same day as the original, so the reversal frees that day's cap.
            day=locked.day,
            reason=text,
            reverses=locked,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="points.reverse",
            obj=reversal,
            changes={
                "reverses": locked.pk,
                "user": locked.user_id,
                "points": -locked.points,
                "reason": text,
            },
        )
    return reversal


def _member(community_id: int, user: User) -> None:
    if not Membership.objects.filter(user=user, community_id=community_id).exists():
        raise ServiceError(_("This person does not belong to the community."), field="user")


def points_adjust(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    user: User,
    points: int,
    reason: str,
) -> PointEntry:
    """Add or take away points by hand (e.g. a reward the rules do not cover), with a reason."""
    _require_manage(actor, scope, community.pk)
    text = _reason(reason)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise ServiceError(_("Enter a whole number of points other than 0."), field="points")
    if abs(points) > MAX_ADJUST:
        raise ServiceError(
            _("Enter at most %(max)d points either way.") % {"max": MAX_ADJUST}, field="points"
        )
    _member(community.pk, user)
    now = timezone.now()
    with transaction.atomic():
        entry = PointEntry.objects.create(
            community=community,
            user=user,
            kind=EntryKind.ADJUSTMENT,
            source_kind=PointSource.MANUAL,
            source_key=f"adjust:{uuid.uuid4().hex}",
            quantity=Decimal(1),
            points_per_unit=points,
            points=points,
            occurred_at=now,
            day=_day(now),
            reason=text,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="points.adjust",
            obj=entry,
            changes={"user": user.pk, "points": points, "reason": text},
        )
    return entry


def point_rule_set(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    source_kind: str,
    points_per_unit: int,
    daily_cap: int | None,
    is_active: bool,
) -> PointRule:
    """Change how many points a source earns in a community (applies to later awards only)."""
    _require_manage(actor, scope, community.pk)
    if isinstance(points_per_unit, bool) or not isinstance(points_per_unit, int):
        raise ServiceError(_("Enter a whole number."), field="points_per_unit")
    if not 0 <= points_per_unit <= MAX_RULE_POINTS:
        raise ServiceError(
            _("Enter a number from 0 to %(max)d.") % {"max": MAX_RULE_POINTS},
            field="points_per_unit",
        )
    if daily_cap is not None and (
        isinstance(daily_cap, bool) or not isinstance(daily_cap, int) or daily_cap < 0
    ):
        raise ServiceError(_("Enter a whole number of 0 or more, or nothing."), field="daily_cap")
    rule = point_rule_for(community, source_kind)
    before = {
        "points_per_unit": rule.points_per_unit,
        "daily_cap": rule.daily_cap,
        "is_active": rule.is_active,
    }
    after = {"points_per_unit": points_per_unit, "daily_cap": daily_cap, "is_active": is_active}
    if rule.pk is not None and before == after:
        return rule
    rule.points_per_unit = points_per_unit
    rule.daily_cap = daily_cap
    rule.is_active = bool(is_active)
    with transaction.atomic():
        rule.save()
        audit_record(
            actor=actor,
            action="point_rule.update",
            obj=rule,
            changes={"source_kind": source_kind} | diff(before, after),
        )
    return rule

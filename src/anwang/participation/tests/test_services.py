"""The points ledger: rules, daily caps, idempotency, reversals and adjustments, audit."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.participation import selectors, services
from anwang.participation.choices import EntryKind, PointSource
from anwang.participation.models import PointEntry

pytestmark = pytest.mark.django_db

NOON = timezone.make_aware(dt.datetime(2026, 5, 4, 12, 0))  # noqa: DTZ001 - local noon  # noqa: DTZ001 - local noon


def award(
    world: Any,
    key: str,
    *,
    kind: str = PointSource.HAZARD_VERIFIED,
    quantity: Any = 1,
    at: dt.datetime = NOON,
    user: Any = None,
) -> Any:
    return services.points_award(
        community=world.a.community,
        user=user or world.user("resident"),
        source_kind=kind,
        source_key=key,
        quantity=quantity,
        occurred_at=at,
    )


def test_default_rule_applies_without_stored_rows(world):
    entry = award(world, "hazard:1")
    assert entry is not None
    assert (entry.points, entry.capped_points, entry.points_per_unit) == (20, 0, 20)
    assert entry.kind == EntryKind.AWARD
    assert entry.day == dt.date(2026, 5, 4)
    assert selectors.points_balance(world.user("resident")) == 20


def test_hours_are_multiplied_and_rounded(world):
    entry = award(world, "shift:1:1", kind=PointSource.VOLUNTEER_HOUR, quantity=Decimal("2.25"))
    assert entry is not None
    assert entry.quantity == Decimal("2.25")
    assert entry.points == 23  # 22.5 rounds half up


def test_the_same_source_is_never_counted_twice(world):
    first = award(world, "hazard:7")
    again = award(world, "hazard:7")
    assert again is not None
    assert first is not None
    assert again.pk == first.pk
    assert PointEntry.objects.count() == 1
    # Another person reporting the same hazard earns their own points.
    other = award(world, "hazard:7", user=world.user("guard"))
    assert other is not None
    assert other.pk != first.pk
    # The same key in another community is another source.
    services.points_award(
        community=world.b.community,
        user=world.user("resident"),
        source_kind=PointSource.HAZARD_VERIFIED,
        source_key="hazard:7",
        occurred_at=NOON,
    )
    assert PointEntry.objects.count() == 3


def test_daily_cap_records_what_it_withheld(world):
    services.point_rule_set(
        actor=None,
        community=world.a.community,
        source_kind=PointSource.HAZARD_VERIFIED,
        points_per_unit=40,
        daily_cap=100,
        is_active=True,
    )
    entries = [award(world, f"hazard:{n}") for n in range(4)]
    assert [(e.points, e.capped_points) for e in entries] == [(40, 0), (40, 0), (20, 20), (0, 40)]
    assert selectors.points_balance(world.user("resident"), world.a.community.pk) == 100
    # The cap counts per day: the next day starts afresh.
    next_day = award(world, "hazard:9", at=NOON + dt.timedelta(days=1))
    assert next_day is not None
    assert next_day.points == 40
    # ... and per source: another source has its own cap.
    training = award(world, "course:1", kind=PointSource.TRAINING_COMPLETED)
    assert training is not None
    assert training.points == 30


def test_reversal_frees_that_days_cap(world):
    services.point_rule_set(
        actor=None,
        community=world.a.community,
        source_kind=PointSource.HAZARD_VERIFIED,
        points_per_unit=50,
        daily_cap=50,
        is_active=True,
    )
    first = award(world, "hazard:1")
    capped = award(world, "hazard:2")
    assert capped is not None
    assert (capped.points, capped.capped_points) == (0, 50)
    services.points_reverse(actor=world.user("community_admin"), entry=first, reason="duplicate")
    later = award(world, "hazard:3")
    assert later is not None
    assert later.points == 50


def test_inactive_rule_awards_nothing(world):
    services.point_rule_set(
        actor=None,
        community=world.a.community,
        source_kind=PointSource.DRILL_PARTICIPATION,
        points_per_unit=5,
        daily_cap=None,
        is_active=False,
    )
    assert award(world, "drill:1", kind=PointSource.DRILL_PARTICIPATION) is None
    assert not PointEntry.objects.exists()
    # Nothing earned is not recorded either, so a later real award still counts.
    assert award(world, "shift:1:1", kind=PointSource.VOLUNTEER_HOUR, quantity=0) is None
    entry = award(world, "shift:1:1", kind=PointSource.VOLUNTEER_HOUR, quantity=1)
    assert entry.points == 10


def test_award_refuses_bad_input(world):
    with pytest.raises(ServiceError) as error:
        award(world, "")
    assert error.value.field == "source_key"
    with pytest.raises(ServiceError):
        award(world, "x", quantity="lots")
    with pytest.raises(ServiceError):
        award(world, "x", quantity=-1)
    with pytest.raises(ServiceError):
        award(world, "x", kind=PointSource.MANUAL)
    with pytest.raises(ServiceError):
        award(world, "x", kind="bogus")


def test_reversal_rules_and_audit(world):
    entry = award(world, "hazard:1")
    assert entry is not None
    admin = world.user("community_admin")
    with pytest.raises(ServiceError) as error:
        services.points_reverse(actor=admin, entry=entry, reason="  ")
    assert error.value.field == "reason"
    with pytest.raises(PermissionDenied):  # grid workers see volunteers, may not reverse
        services.points_reverse(actor=world.user("grid_worker"), entry=entry, reason="x")
    with pytest.raises(Http404):
        services.points_reverse(actor=world.user("community_admin", "b"), entry=entry, reason="x")
    with pytest.raises(Http404):
        services.points_reverse(actor=world.user("resident"), entry=entry, reason="x")
    reversal = services.points_reverse(actor=admin, entry=entry, reason="not a hazard")
    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.points == -20
    assert reversal.reverses_id == entry.pk
    assert reversal.created_by == admin
    assert selectors.points_balance(world.user("resident")) == 0
    with pytest.raises(ConflictError):
        services.points_reverse(actor=admin, entry=entry, reason="again")
    with pytest.raises(ConflictError):
        services.points_reverse(actor=admin, entry=reversal, reason="undo")
    event = AuditEvent.objects.get(action="points.reverse")
    assert event.actor == admin
    assert event.community_id == world.a.community.pk
    assert event.changes["reason"] == "not a hazard"
    # The reversed award still blocks the same source: it is never counted twice.
    assert award(world, "hazard:1").pk == entry.pk


def test_adjustment(world):
    admin = world.user("community_admin")
    resident = world.user("resident")
    entry = services.points_adjust(
        actor=admin, community=world.a.community, user=resident, points=15, reason="gala help"
    )
    assert (entry.kind, entry.source_kind, entry.points) == ("adjustment", "manual", 15)
    assert AuditEvent.objects.filter(action="points.adjust", actor=admin).exists()
    minus = services.points_adjust(
        actor=admin, community=world.a.community, user=resident, points=-5, reason="typo"
    )
    assert selectors.points_balance(resident) == 10
    services.points_reverse(actor=admin, entry=minus, reason="typo")
    assert selectors.points_balance(resident) == 15
    for bad in (0, True, 10**6):
        with pytest.raises(ServiceError):
            services.points_adjust(
                actor=admin, community=world.a.community, user=resident, points=bad, reason="x"
            )
    with pytest.raises(ServiceError):
        services.points_adjust(
            actor=admin, community=world.a.community, user=resident, points=1, reason=""
        )
    with pytest.raises(ServiceError) as error:  # not a member of community a
        services.points_adjust(
            actor=admin,
            community=world.a.community,
            user=world.user("resident", "b"),
            points=1,
            reason="x",
        )
    assert error.value.field == "user"
    with pytest.raises(PermissionDenied):
        services.points_adjust(
            actor=world.user("supervisor"),
            community=world.a.community,
            user=resident,
            points=1,
            reason="x",
        )


def test_rule_set_validates_and_audits(world):
    admin = world.user("community_admin")
    rule = services.point_rule_set(
        actor=admin,
        community=world.a.community,
        source_kind=PointSource.PATROL_HOUR,
        points_per_unit=12,
        daily_cap=None,
        is_active=True,
    )
    assert rule.pk is not None
    event = AuditEvent.objects.get(action="point_rule.update")
    assert event.changes["points_per_unit"] == [10, 12]
    with pytest.raises(ServiceError):
        services.point_rule_set(
            actor=admin,
            community=world.a.community,
            source_kind=PointSource.PATROL_HOUR,
            points_per_unit=-1,
            daily_cap=None,
            is_active=True,
        )
    with pytest.raises(ServiceError):
        services.point_rule_set(
            actor=admin,
            community=world.a.community,
            source_kind="nope",
            points_per_unit=1,
            daily_cap=None,
            is_active=True,
        )
    with pytest.raises(Http404):
        services.point_rule_set(
            actor=world.user("community_admin", "b"),
            community=world.a.community,
            source_kind=PointSource.PATROL_HOUR,
            points_per_unit=1,
            daily_cap=None,
            is_active=True,
        )

"""Duty patterns and exceptions: who may change them, who may take a duty, bad input."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.audit.models import AuditEvent
from anwang.core.errors import ServiceError
from anwang.rosters import services
from anwang.rosters.models import DutyException, DutyPattern

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 1, 20, tzinfo=ZoneInfo("Asia/Shanghai"))


def create(world: Any, actor: Any = None, **extra: Any) -> DutyPattern:
    values = {
        "community": world.a.community,
        "duty_role": "guard",
        "person": world.user("guard"),
        "first_start": START,
        "duration": dt.timedelta(hours=12),
        "rrule": "FREQ=DAILY",
    } | extra
    return services.duty_pattern_create(actor=actor, **values)


def test_the_community_admin_adds_a_pattern_with_an_audit_entry(world):
    pattern = create(world, actor=world.user("community_admin"), rrule="rrule:freq=daily")
    assert pattern.rrule == "FREQ=DAILY"
    assert AuditEvent.objects.filter(
        action="duty_pattern.create", object_id=str(pattern.pk)
    ).exists()


def test_a_guard_may_see_but_not_change_and_outsiders_get_404(world):
    with pytest.raises(PermissionDenied):
        create(world, actor=world.user("guard"))
    with pytest.raises(Http404):
        create(world, actor=world.user("community_admin", "b"))
    assert not DutyPattern.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"duty_role": "chef"}, "duty_role"),
        ({"rrule": "FREQ=SECONDLY"}, "rrule"),
        ({"duration": dt.timedelta(hours=25)}, "duration"),
        ({"first_start": dt.datetime(2026, 3, 1, 20)}, "first_start"),  # noqa: DTZ001
        ({"rrule": "FREQ=HOURLY"}, "rrule"),  # 12-hour shifts every hour overlap
    ],
)
def test_bad_input_is_refused_on_its_field(world, extra, field):
    with pytest.raises(ServiceError) as caught:
        create(world, **extra)
    assert caught.value.field == field


def test_only_members_in_an_eligible_role_take_a_duty(world):
    with pytest.raises(ServiceError, match="may not be on duty"):
        create(world, person=world.user("resident"))
    with pytest.raises(ServiceError, match="may not be on duty"):
        create(world, person=world.user("guard", "b"))
    leader = create(world, duty_role="on_duty_leader", person=world.user("community_admin"))
    assert leader.person == world.user("community_admin")


def test_update_keeps_what_is_not_passed(world):
    pattern = create(world)
    services.duty_pattern_update(actor=None, pattern=pattern, note="北门")
    pattern.refresh_from_db()
    assert pattern.note == "北门"
    assert pattern.rrule == "FREQ=DAILY"
    with pytest.raises(ServiceError):
        services.duty_pattern_update(actor=None, pattern=pattern, person=world.user("resident"))
    pattern.refresh_from_db()
    assert pattern.person == world.user("guard")


def test_a_swap_needs_an_eligible_replacement(world):
    pattern = create(world)
    with pytest.raises(ServiceError) as caught:
        services.duty_exception_add(
            actor=None,
            community=world.a.community,
            kind="swap",
            pattern=pattern,
            shift_key="20260302T2000",
            replacement=world.user("operator"),
        )
    assert caught.value.field == "replacement"
    with pytest.raises(ServiceError) as caught:
        services.duty_exception_add(
            actor=None,
            community=world.a.community,
            kind="swap",
            pattern=pattern,
            shift_key="20260302T2000",
        )
    assert caught.value.field == "replacement"
    assert not DutyException.objects.exists()


def test_an_exception_needs_a_shift_or_a_range(world):
    pattern = create(world)
    with pytest.raises(ServiceError) as caught:
        services.duty_exception_add(
            actor=None, community=world.a.community, kind="off", pattern=pattern
        )
    assert caught.value.field == "starts_at"
    with pytest.raises(ServiceError) as caught:
        services.duty_exception_add(
            actor=None,
            community=world.a.community,
            kind="off",
            pattern=pattern,
            starts_at=START,
            ends_at=START,
        )
    assert caught.value.field == "ends_at"


def test_an_exception_by_person_and_role_covers_their_patterns(world):
    from anwang.rosters.selectors import on_duty

    create(world)
    services.duty_exception_add(
        actor=world.user("community_admin"),
        community=world.a.community,
        kind="off",
        person=world.user("guard"),
        duty_role="guard",
        starts_at=START,
        ends_at=START + dt.timedelta(days=3),
    )
    assert on_duty(community_id=world.a.community.pk, at=START + dt.timedelta(hours=30)) == []
    later = START + dt.timedelta(days=3, hours=2)
    assert len(on_duty(community_id=world.a.community.pk, at=later)) == 1
    assert AuditEvent.objects.filter(action="duty_exception.off").exists()

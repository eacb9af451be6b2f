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


# --------------------------------------------------------------------------- checks of a change


def second_guard(world: Any, username: str = "a_guard2", *roles: str) -> Any:
    """Another member of community a who may be on duty as a guard (and in ``roles``)."""
    from conftest import make_user

    from anwang.accounts.models import Membership

    user = make_user(username)
    for role in ("guard", *roles):
        Membership.objects.create(user=user, role=role, community=world.a.community)
    return user


def swap(world: Any, pattern: DutyPattern, replacement: Any, **extra: Any) -> DutyException:
    values = {
        "community": world.a.community,
        "kind": "swap",
        "pattern": pattern,
        "shift_key": "20260302T2000",
        "replacement": replacement,
    } | extra
    return services.duty_exception_add(actor=None, **values)


def test_a_swap_to_someone_already_on_duty_then_is_refused_naming_the_clash(world):
    night = create(world)  # a_guard, 20:00-08:00 daily
    other = second_guard(world)
    create(world, person=other, first_start=START - dt.timedelta(hours=2))  # 18:00-06:00
    with pytest.raises(ServiceError) as caught:
        swap(world, night, other)
    assert caught.value.field == "replacement"
    assert str(caught.value.message) == (
        "a_guard2 is already on duty as Guard on duty from 2026-03-02 18:00 to 2026-03-03 06:00, "
        "which overlaps the shift from 2026-03-02 20:00 to 2026-03-03 08:00."
    )
    assert not DutyException.objects.exists()


def test_a_clash_in_another_duty_role_counts_too(world):
    night = create(world)
    other = second_guard(world, "a_guard2", "operator")
    create(
        world,
        duty_role="operator",
        person=other,
        first_start=START + dt.timedelta(hours=10),  # 06:00-18:00 from the 2nd: until 08:00 no
        duration=dt.timedelta(hours=12),
    )
    with pytest.raises(ServiceError, match="as Operator on duty from 2026-03-03 06:00"):
        swap(world, night, other)


def test_adjacent_shifts_and_a_shift_already_handed_away_are_no_clash(world):
    night = create(world)
    other = second_guard(world)
    day = create(world, person=other, first_start=START + dt.timedelta(hours=12))  # 08:00-20:00
    # The night of the 2nd (20:00-08:00) sits between two day shifts: it ends as one begins.
    swap(world, night, other)
    assert DutyException.objects.count() == 1
    late = second_guard(world, "a_guard3")
    create(
        world,
        person=late,
        first_start=START + dt.timedelta(days=1, hours=10),  # 06:00-10:00 from the 3rd
        duration=dt.timedelta(hours=4),
    )
    with pytest.raises(ServiceError, match=r"a_guard3 is already on duty .* 2026-03-04 06:00"):
        swap(world, day, late, shift_key="20260304T0800")
    # Once a_guard3's early shift of the 4th is cancelled, they are free that day.
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        person=late,
        duty_role="guard",
        shift_key="20260304T0600",
    )
    swap(world, day, late, shift_key="20260304T0800")
    assert DutyException.objects.count() == 3


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"shift_key": "20260302T2100"}, "shift_key", "has no shift starting 2026-03-02 21:00"),
        ({"shift_key": "20260228T2000"}, "shift_key", "has no shift starting"),  # before the first
        ({"shift_key": "tomorrow"}, "shift_key", "YYYYMMDDTHHMM"),
        (
            {"starts_at": START + dt.timedelta(hours=1), "ends_at": START + dt.timedelta(hours=23)},
            "starts_at",
            "No shift of this pattern starts in that range",
        ),
    ],
)
def test_an_exception_covering_no_shift_is_refused(world, extra, field, message):
    pattern = create(world)
    values = {"shift_key": ""} | extra
    with pytest.raises(ServiceError, match=message) as caught:
        services.duty_exception_add(
            actor=None, community=world.a.community, kind="off", pattern=pattern, **values
        )
    assert caught.value.field == field
    assert not DutyException.objects.exists()


def test_an_exception_of_a_person_without_a_pattern_in_the_role_is_refused(world):
    create(world)
    with pytest.raises(ServiceError, match="No shift of a_guard as Grid worker on duty") as caught:
        services.duty_exception_add(
            actor=None,
            community=world.a.community,
            kind="off",
            person=world.user("guard"),
            duty_role="grid_worker",
            starts_at=START,
            ends_at=START + dt.timedelta(days=2),
        )
    assert caught.value.field == "starts_at"
    pattern = create(world, first_start=START + dt.timedelta(days=30))
    services.duty_pattern_deactivate(actor=None, pattern=pattern)
    with pytest.raises(ServiceError, match="has no shift"):
        services.duty_exception_add(
            actor=None,
            community=world.a.community,
            kind="off",
            pattern=pattern,
            shift_key="20260331T2000",
        )


def test_two_people_swap_shifts_in_one_change(world):
    from anwang.rosters.selectors import on_duty

    night = create(world)  # a_guard 20:00-08:00
    other = second_guard(world)
    day = create(world, person=other, first_start=START + dt.timedelta(hours=12))  # 08:00-20:00
    first, second = services.duty_shifts_swap(
        actor=world.user("community_admin"),
        community=world.a.community,
        pattern=night,
        shift_key="20260303T2000",
        other_pattern=day,
        other_shift_key="20260305T0800",
        reason="家里有事",
    )
    assert (first.replacement, second.replacement) == (other, world.user("guard"))
    community = world.a.community.pk
    at_night = on_duty(community_id=community, at=START + dt.timedelta(days=2, hours=2))
    assert [duty.person for duty in at_night] == [other]
    by_day = on_duty(community_id=community, at=START + dt.timedelta(days=3, hours=14))
    assert [duty.person for duty in by_day] == [world.user("guard")]
    assert AuditEvent.objects.filter(action="duty_exception.swap").count() == 2


def test_a_swap_of_overlapping_shifts_of_two_people_trades_them(world):
    night = create(world)
    other = second_guard(world)
    evening = create(world, person=other, first_start=START - dt.timedelta(hours=2))  # 18-06
    # Each alone would clash (the other is on duty then); together each holds one shift.
    services.duty_shifts_swap(
        actor=None,
        community=world.a.community,
        pattern=night,
        shift_key="20260302T2000",
        other_pattern=evening,
        other_shift_key="20260302T1800",
    )
    assert DutyException.objects.count() == 2


def test_a_swap_is_saved_whole_or_not_at_all(world):
    night = create(world)
    other = second_guard(world, "a_guard2", "operator")
    day = create(world, person=other, first_start=START + dt.timedelta(hours=12))
    busy_guard = world.user("guard")
    from anwang.accounts.models import Membership

    Membership.objects.create(user=busy_guard, role="operator", community=world.a.community)
    create(
        world,
        duty_role="operator",
        person=busy_guard,
        first_start=START + dt.timedelta(days=3, hours=-10),  # 4th 10:00-14:00
        duration=dt.timedelta(hours=4),
    )
    with pytest.raises(ServiceError) as caught:
        services.duty_shifts_swap(
            actor=None,
            community=world.a.community,
            pattern=night,
            shift_key="20260303T2000",
            other_pattern=day,
            other_shift_key="20260304T0800",  # a_guard would hold it beside their operator duty
        )
    assert caught.value.field == "pattern"
    assert "a_guard is already on duty as Operator on duty" in str(caught.value.message)
    assert not DutyException.objects.exists()
    with pytest.raises(ServiceError) as caught:
        services.duty_shifts_swap(
            actor=None,
            community=world.a.community,
            pattern=night,
            shift_key="20260303T2000",
            other_pattern=day,
            other_shift_key="20260304T0900",
        )
    assert caught.value.field == "other_shift_key"
    with pytest.raises(ServiceError) as caught:
        services.duty_shifts_swap(
            actor=None,
            community=world.a.community,
            pattern=night,
            shift_key="20260303T2000",
            other_pattern=night,
            other_shift_key="20260304T2000",
        )
    assert caught.value.field == "other_pattern"
    assert not DutyException.objects.exists()


def test_a_swap_needs_both_people_eligible_for_the_other_duty(world):
    night = create(world)
    operator = create(
        world,
        duty_role="operator",
        person=world.user("operator"),
        first_start=START + dt.timedelta(hours=12),
    )
    with pytest.raises(ServiceError, match="a_operator may not be on duty as Guard") as caught:
        services.duty_shifts_swap(
            actor=None,
            community=world.a.community,
            pattern=night,
            shift_key="20260303T2000",
            other_pattern=operator,
            other_shift_key="20260305T0800",
        )
    assert caught.value.field == "other_pattern"


def test_undoing_an_exception_restores_the_shift_with_an_audit_entry(world):
    from anwang.rosters.selectors import on_duty

    pattern = create(world)
    exception = services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        pattern=pattern,
        shift_key="20260302T2000",
    )
    moment = START + dt.timedelta(days=1, hours=2)
    assert on_duty(community_id=world.a.community.pk, at=moment) == []
    with pytest.raises(PermissionDenied):
        services.duty_exception_remove(actor=world.user("guard"), exception=exception)
    with pytest.raises(Http404):
        services.duty_exception_remove(
            actor=world.user("community_admin", "b"), exception=exception
        )
    services.duty_exception_remove(actor=world.user("community_admin"), exception=exception)
    assert not DutyException.objects.exists()
    assert len(on_duty(community_id=world.a.community.pk, at=moment)) == 1
    entry = AuditEvent.objects.get(action="duty_exception.remove")
    assert entry.changes["kind"] == ["off", None]
    assert entry.changes["shift_key"] == ["20260302T2000", None]

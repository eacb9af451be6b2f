"""Volunteer services: applications and decisions, teams, shifts, capacity, overlap,
attendance and hours, points on check-out, corrections and audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.participation.models import PointEntry
from anwang.volunteers import services
from anwang.volunteers.choices import HoursKind, SignupStatus, VolunteerStatus
from anwang.volunteers.models import ServiceHours, Signup
from anwang.volunteers.tests.conftest import make_shift, make_volunteer

pytestmark = pytest.mark.django_db


def test_apply_approve_gives_the_volunteer_role(world):
    resident = world.user("resident")
    volunteer = services.volunteer_apply(
        actor=resident,
        community=world.a.community,
        skills=["languages", "first_aid"],
        languages="English",
        availability=["sat:evening", "mon:morning"],
        motivation="I like helping",
    )
    assert volunteer.status == VolunteerStatus.APPLIED
    assert volunteer.skills == ["first_aid", "languages"]
    assert volunteer.availability == ["mon:morning", "sat:evening"]
    assert AuditEvent.objects.filter(action="volunteer.apply", actor=resident).exists()
    with pytest.raises(ConflictError):
        services.volunteer_apply(actor=resident, community=world.a.community)
    with pytest.raises(PermissionDenied):  # grid workers see volunteers but may not decide
        services.volunteer_approve(actor=world.user("grid_worker"), volunteer=volunteer)
    with pytest.raises(Http404):
        services.volunteer_approve(actor=world.user("community_admin", "b"), volunteer=volunteer)
    services.volunteer_approve(actor=world.user("community_admin"), volunteer=volunteer)
    assert volunteer.status == VolunteerStatus.APPROVED
    assert Membership.objects.filter(
        user=resident, community=world.a.community, role=Role.VOLUNTEER
    ).exists()
    assert AuditEvent.objects.filter(action="membership.grant").exists()
    with pytest.raises(ConflictError):
        services.volunteer_approve(actor=world.user("community_admin"), volunteer=volunteer)


def test_apply_validates(world):
    resident = world.user("resident")
    with pytest.raises(ServiceError) as error:
        services.volunteer_apply(actor=resident, community=world.a.community, skills=["flying"])
    assert error.value.field == "skills"
    with pytest.raises(ServiceError) as error:
        services.volunteer_apply(actor=resident, community=world.a.community, skills=["languages"])
    assert error.value.field == "languages"
    with pytest.raises(ServiceError) as error:
        services.volunteer_apply(
            actor=resident, community=world.a.community, availability=["sun:midnight"]
        )
    assert error.value.field == "availability"
    with pytest.raises(Http404):  # only where the person belongs
        services.volunteer_apply(actor=resident, community=world.b.community)


def test_refuse_then_apply_again_and_withdraw(world):
    resident = world.user("resident")
    admin = world.user("community_admin")
    volunteer = services.volunteer_apply(actor=resident, community=world.a.community)
    with pytest.raises(ServiceError):
        services.volunteer_refuse(actor=admin, volunteer=volunteer, reason="")
    services.volunteer_refuse(actor=admin, volunteer=volunteer, reason="Too young")
    assert (volunteer.status, volunteer.status_reason) == ("refused", "Too young")
    again = services.volunteer_apply(actor=resident, community=world.a.community)
    assert again.pk == volunteer.pk
    assert again.status == VolunteerStatus.APPLIED
    assert again.status_reason == ""
    with pytest.raises(Http404):  # only the person withdraws
        services.volunteer_withdraw(actor=admin, volunteer=again)
    services.volunteer_withdraw(actor=resident, volunteer=again)
    assert again.status == VolunteerStatus.WITHDRAWN


def test_suspend_takes_the_role_and_upcoming_places(world, clock):
    volunteer = make_volunteer(world, "resident")
    shift = make_shift(world)
    services.shift_signup(actor=volunteer.user, shift=shift)
    admin = world.user("community_admin")
    services.volunteer_suspend(actor=admin, volunteer=volunteer, reason="No-shows")
    assert volunteer.status == VolunteerStatus.SUSPENDED
    assert not Membership.objects.filter(user=volunteer.user, role=Role.VOLUNTEER).exists()
    assert Signup.objects.get(shift=shift).status == SignupStatus.CANCELLED
    with pytest.raises(ServiceError):
        services.shift_signup(actor=volunteer.user, shift=shift)
    services.volunteer_approve(actor=admin, volunteer=volunteer)
    assert Membership.objects.filter(user=volunteer.user, role=Role.VOLUNTEER).exists()


def test_capacity_and_full_shift(world, clock):
    shift = make_shift(world, capacity=1)
    first = make_volunteer(world, "volunteer")
    second = make_volunteer(world, "resident")
    services.shift_signup(actor=first.user, shift=shift)
    with pytest.raises(ConflictError) as error:
        services.shift_signup(actor=second.user, shift=shift)
    assert str(error.value.message) == "This shift is full: all 1 places are taken."
    with pytest.raises(ConflictError):
        services.shift_signup(actor=first.user, shift=shift)
    services.shift_signup_cancel(actor=first.user, shift=shift)
    services.shift_signup(actor=second.user, shift=shift)
    # Capacity cannot go below the places taken.
    services.shift_update(actor=None, shift=shift, capacity=3)
    services.shift_signup(actor=first.user, shift=shift)
    with pytest.raises(ServiceError) as refused:
        services.shift_update(actor=None, shift=shift, capacity=1)
    assert refused.value.field == "capacity"
    assert "2 volunteers are signed up" in str(refused.value.message)


def test_no_double_booking(world, clock):
    volunteer = make_volunteer(world)
    morning = make_shift(world, title="Morning", in_hours=1, hours=3)
    overlapping = make_shift(world, title="Overlap", in_hours=3, hours=2)
    after = make_shift(world, title="After", in_hours=4, hours=2)
    services.shift_signup(actor=volunteer.user, shift=morning)
    with pytest.raises(ConflictError) as error:
        services.shift_signup(actor=volunteer.user, shift=overlapping)
    assert "Morning" in str(error.value.message)
    services.shift_signup(actor=volunteer.user, shift=after)  # starts when the first ends


def test_sign_up_rules(world, clock):
    shift = make_shift(world)
    with pytest.raises(ServiceError):  # the grid worker sees shifts but is not a volunteer
        services.shift_signup(actor=world.user("grid_worker"), shift=shift)
    with pytest.raises(Http404):
        services.shift_signup(actor=world.user("resident"), shift=shift)
    volunteer = make_volunteer(world)
    clock.advance(hours=1)
    with pytest.raises(ConflictError):
        services.shift_signup(actor=volunteer.user, shift=shift)
    later = make_shift(world)
    services.shift_cancel(actor=None, shift=later, reason="Rain")
    with pytest.raises(ConflictError):
        services.shift_signup(actor=volunteer.user, shift=later)


def test_check_in_out_hours_and_points(world, clock):
    volunteer = make_volunteer(world)
    shift = make_shift(world, in_hours=1, hours=3)  # 09:00-12:00
    services.shift_signup(actor=volunteer.user, shift=shift)
    with pytest.raises(ConflictError):  # more than 30 minutes early
        services.shift_check_in(actor=volunteer.user, shift=shift)
    with pytest.raises(ConflictError):
        services.shift_check_out(actor=volunteer.user, shift=shift)
    clock.advance(minutes=40)  # 08:40: early check-in counts from the start
    services.shift_check_in(actor=volunteer.user, shift=shift)
    with pytest.raises(ConflictError):
        services.shift_check_in(actor=volunteer.user, shift=shift)
    with pytest.raises(ServiceError):  # only leaders and admins give a time
        services.shift_check_out(actor=volunteer.user, shift=shift, at=clock.now)
    clock.advance(hours=4)  # 12:40, after the end: clipped to 12:00
    signup = services.shift_check_out(actor=volunteer.user, shift=shift)
    assert signup.checked_out_at == clock.now
    record = ServiceHours.objects.get(volunteer=volunteer)
    assert (record.kind, record.hours) == (HoursKind.ATTENDANCE, Decimal("3.00"))
    entry = PointEntry.objects.get(user=volunteer.user)
    assert entry.source_kind == "volunteer_hour"
    assert entry.source_key == f"shift:{shift.pk}:{volunteer.user_id}"
    assert entry.points == 30
    with pytest.raises(ConflictError):
        services.shift_check_out(actor=volunteer.user, shift=shift)
    assert PointEntry.objects.count() == 1


def test_daily_cap_on_volunteer_hours(world, clock):
    volunteer = make_volunteer(world)
    long_shift = make_shift(world, in_hours=0.5, hours=10)  # 08:30-18:30: 100 points, cap 80
    services.shift_signup(actor=volunteer.user, shift=long_shift)
    services.shift_check_in(actor=volunteer.user, shift=long_shift)
    clock.advance(hours=11)
    services.shift_check_out(actor=volunteer.user, shift=long_shift)
    entry = PointEntry.objects.get(user=volunteer.user)
    assert (entry.points, entry.capped_points) == (80, 20)


def test_leader_and_admin_take_attendance(world, clock):
    leader = make_volunteer(world, "volunteer")
    member = make_volunteer(world, "resident")
    team = services.team_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        name="巡逻队",
        leader=leader,
        members=[member],
    )
    assert set(team.members.all()) == {leader, member}
    shift = make_shift(world, in_hours=0.25, hours=2, team=team)
    services.shift_signup(actor=member.user, shift=shift)
    with pytest.raises(PermissionDenied):  # the grid worker sees, may not take attendance
        services.shift_check_in(actor=world.user("grid_worker"), shift=shift, volunteer=member)
    with pytest.raises(Http404):
        services.shift_check_in(actor=world.user("guard"), shift=shift, volunteer=member)
    services.shift_check_in(actor=leader.user, shift=shift, volunteer=member)
    clock.advance(hours=1, minutes=45)
    with pytest.raises(ServiceError):
        services.shift_check_out(
            actor=leader.user, shift=shift, volunteer=member, at=clock.now + dt.timedelta(hours=1)
        )
    signup = services.shift_check_out(
        actor=world.user("community_admin"),
        shift=shift,
        volunteer=member,
        at=clock.now - dt.timedelta(minutes=30),
    )
    assert signup.checked_in_by == leader.user
    assert signup.checked_out_by == world.user("community_admin")
    assert services.shift_hours(member, shift) == Decimal("1.00")  # 08:15-09:15


def test_hours_correction_is_audited_and_keeps_the_ledger(world, clock):
    volunteer = make_volunteer(world)
    shift = make_shift(world, in_hours=0.25, hours=2)
    services.shift_signup(actor=volunteer.user, shift=shift)
    services.shift_check_in(actor=volunteer.user, shift=shift)
    clock.advance(hours=1.25)
    services.shift_check_out(actor=volunteer.user, shift=shift)
    admin = world.user("community_admin")
    with pytest.raises(ServiceError):
        services.service_hours_correct(
            actor=admin, shift=shift, volunteer=volunteer, hours="2", reason=""
        )
    with pytest.raises(ServiceError):
        services.service_hours_correct(
            actor=admin, shift=shift, volunteer=volunteer, hours="30", reason="x"
        )
    with pytest.raises(PermissionDenied):
        services.service_hours_correct(
            actor=world.user("grid_worker"), shift=shift, volunteer=volunteer, hours=2, reason="x"
        )
    record = services.service_hours_correct(
        actor=admin, shift=shift, volunteer=volunteer, hours="2", reason="Forgot to check out"
    )
    assert record.hours == Decimal("1.00")
    assert services.shift_hours(volunteer, shift) == Decimal("2.00")
    assert ServiceHours.objects.count() == 2
    event = AuditEvent.objects.get(action="service_hours.correct")
    assert event.changes == {
        "hours": ["1.00", "2.00"],
        "reason": [None, "Forgot to check out"],
    }
    with pytest.raises(ConflictError):
        services.service_hours_correct(
            actor=admin, shift=shift, volunteer=volunteer, hours="2", reason="same"
        )


def test_shift_validation_and_cancel(world, clock):
    with pytest.raises(ServiceError) as error:
        make_shift(world, hours=-1)
    assert error.value.field == "ends_at"
    with pytest.raises(ServiceError):
        make_shift(world, in_hours=-1)
    with pytest.raises(ServiceError):
        make_shift(world, hours=30)
    with pytest.raises(ServiceError):
        make_shift(world, capacity=0)
    with pytest.raises(ServiceError):
        make_shift(world, zone=world.b.zone)
    shift = make_shift(world)
    with pytest.raises(ServiceError):
        services.shift_cancel(actor=None, shift=shift, reason=" ")
    services.shift_cancel(actor=world.user("community_admin"), shift=shift, reason="Storm")
    with pytest.raises(ConflictError):
        services.shift_cancel(actor=None, shift=shift, reason="Storm")
    shift.refresh_from_db()
    with pytest.raises(ConflictError):
        services.shift_update(actor=None, shift=shift, title="x")
    assert AuditEvent.objects.filter(action="shift.cancel").exists()


def test_team_rules(world):
    applicant = services.volunteer_apply(actor=world.user("resident"), community=world.a.community)
    with pytest.raises(ServiceError):  # not approved yet
        services.team_create(actor=None, community=world.a.community, name="A", members=[applicant])
    other = make_volunteer(world, "volunteer", "b")
    with pytest.raises(ServiceError):
        services.team_create(actor=None, community=world.a.community, name="A", leader=other)
    services.team_create(actor=None, community=world.a.community, name="A")
    with pytest.raises(ServiceError):
        services.team_create(actor=None, community=world.a.community, name="A")

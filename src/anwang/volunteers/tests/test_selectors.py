"""Scoping of the volunteers reads: own records for everyone, a community's for its staff,
teams and shifts for its approved volunteers."""

import pytest
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.volunteers import selectors, services
from anwang.volunteers.tests.conftest import make_shift, make_volunteer

pytestmark = pytest.mark.django_db


def test_volunteers_are_scoped(world, clock):
    mine = make_volunteer(world, "resident")
    other = make_volunteer(world, "volunteer")
    elsewhere = make_volunteer(world, "volunteer", "b")
    resident = scope_for(world.user("resident"))
    assert list(selectors.volunteer_list(resident)) == [mine]
    staff = scope_for(world.user("grid_worker"))
    assert set(selectors.volunteer_list(staff)) == {mine, other}
    assert list(selectors.volunteer_list(staff, mine=True)) == []
    assert elsewhere in set(selectors.volunteer_list(scope_for(world.platform_admin)))
    with pytest.raises(Http404):
        selectors.volunteer_get(resident, other.pk)
    with pytest.raises(Http404):
        selectors.volunteer_get(scope_for(world.user("community_admin", "b")), mine.pk)


def test_shifts_are_seen_by_staff_and_volunteers(world, clock):
    shift = make_shift(world)
    make_shift(world, "b")
    volunteer = make_volunteer(world)
    assert list(selectors.shift_list(scope_for(volunteer.user))) == [shift]
    assert list(selectors.shift_list(scope_for(world.user("supervisor")))) == [shift]
    assert list(selectors.shift_list(scope_for(world.user("resident")))) == []
    with pytest.raises(Http404):
        selectors.shift_get(scope_for(world.user("community_admin", "b")), shift.pk)
    services.shift_signup(actor=volunteer.user, shift=shift)
    found = selectors.shift_get(scope_for(volunteer.user), shift.pk)
    assert (getattr(found, "signed_up"), getattr(found, "mine")) == (1, True)  # noqa: B009
    # A volunteer who withdrew still sees the shifts they were on, not the others.
    services.volunteer_withdraw(actor=volunteer.user, volunteer=volunteer)
    later = make_shift(world, in_hours=10)
    visible = set(selectors.shift_list(scope_for(volunteer.user)))
    assert shift in visible
    assert later not in visible


def test_roster_shows_volunteers_only_their_own_place(world, clock):
    shift = make_shift(world)
    first = make_volunteer(world, "volunteer")
    second = make_volunteer(world, "resident")
    for volunteer in (first, second):
        services.shift_signup(actor=volunteer.user, shift=shift)
    own = selectors.shift_roster(scope_for(first.user), shift)
    assert [signup.volunteer for signup in own] == [first]
    staff = selectors.shift_roster(scope_for(world.user("grid_worker")), shift)
    assert {signup.volunteer for signup in staff} == {first, second}


def test_hours_and_certificate_scope(world, clock):
    volunteer = make_volunteer(world)
    shift = make_shift(world, in_hours=0.25, hours=2)
    services.shift_signup(actor=volunteer.user, shift=shift)
    services.shift_check_in(actor=volunteer.user, shift=shift)
    clock.advance(hours=3)
    services.shift_check_out(actor=volunteer.user, shift=shift)
    assert selectors.hours_ledger(scope_for(volunteer.user)).count() == 1
    assert selectors.hours_ledger(scope_for(world.user("resident"))).count() == 0
    assert selectors.hours_ledger(scope_for(world.user("community_admin", "b"))).count() == 0
    cert = selectors.certificate(scope_for(volunteer.user), volunteer)
    assert str(cert.total) == "2.00"
    assert [line.title for line in cert.lines] == ["北门巡逻"]
    with pytest.raises(Http404):
        selectors.certificate(scope_for(world.user("resident")), volunteer)


def test_dashboard_and_inbox(world, clock):
    services.volunteer_apply(actor=world.user("resident"), community=world.a.community)
    make_shift(world)
    admin = scope_for(world.user("community_admin"))
    stats = {stat.key: stat.value for stat in selectors.volunteer_stats(admin, None)}
    assert stats == {"volunteers": 0, "volunteer_applications": 1, "volunteer_shifts": 1}
    assert selectors.volunteer_stats(scope_for(world.user("resident")), None) == []
    items = selectors.volunteer_work_items(admin)
    assert [item.title for item in items] == ["a_resident applies to volunteer"]
    assert selectors.volunteer_work_items(scope_for(world.user("community_admin", "b"))) == []

"""Volunteer pages: applying and my volunteering on a phone, shifts with sign-up and
attendance, the admin's review, teams, shift editing, hours; scoping and queries."""

import pytest

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.volunteers import services
from anwang.volunteers.models import ServiceHours, Shift, Signup, Team, Volunteer
from anwang.volunteers.tests.conftest import make_shift, make_volunteer

pytestmark = pytest.mark.django_db


def test_apply_and_my_volunteering(world, client_for, clock):
    c = client_for("resident")
    response = c.get("/volunteers/me/")
    assert response.status_code == 200
    assert "Become a volunteer" in response.text
    form = c.get("/volunteers/apply/")
    assert 'value="sat:morning"' in form.text
    response = c.post("/volunteers/apply/", {"skills": ["languages"], "languages": ""})
    assert response.status_code == 400
    assert "Say which languages you speak." in response.text
    response = c.post(
        "/volunteers/apply/",
        {
            "skills": ["languages", "patrol"],
            "languages": "English",
            "availability": ["sat:morning"],
        },
    )
    assert response.status_code == 302
    volunteer = Volunteer.objects.get(user=world.user("resident"))
    assert volunteer.skills == ["languages", "patrol"]
    page = c.get("/volunteers/me/")
    assert "Applied" in page.text
    # Editing one's details goes through the same page.
    response = c.post("/volunteers/apply/", {"skills": ["it"], "availability": ["sun:evening"]})
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert (volunteer.skills, volunteer.status) == (["it"], "applied")


def test_admin_reviews_applications(world, client_for, clock, django_assert_max_num_queries):
    for role in ("resident", "guard", "grid_worker", "operator"):
        services.volunteer_apply(actor=world.user(role), community=world.a.community)
    services.volunteer_apply(actor=world.user("resident", "b"), community=world.b.community)
    c = client_for("community_admin")
    with django_assert_max_num_queries(20):
        response = c.get("/volunteers/applications/")
    assert response.status_code == 200
    assert "a_operator" in response.text
    assert "b_resident" not in response.text
    volunteer = Volunteer.objects.get(user=world.user("resident"))
    detail = c.get(f"/volunteers/applications/{volunteer.pk}/")
    assert 'data-testid="approve"' in detail.text
    response = c.post(f"/volunteers/applications/{volunteer.pk}/approve/")
    assert response.status_code == 302
    assert Membership.objects.filter(user=volunteer.user, role=Role.VOLUNTEER).exists()
    response = c.post(
        f"/volunteers/applications/{volunteer.pk}/suspend/", {"reason": ""}, follow=True
    )
    assert "Give a reason." in response.text
    viewer = client_for("grid_worker")
    assert (
        'data-testid="approve"' not in viewer.get(f"/volunteers/applications/{volunteer.pk}/").text
    )
    assert viewer.post(f"/volunteers/applications/{volunteer.pk}/approve/").status_code == 403
    assert (
        client_for("community_admin", "b")
        .get(f"/volunteers/applications/{volunteer.pk}/")
        .status_code
        == 404
    )
    assert client_for("guard").get("/volunteers/applications/").status_code == 403


def test_shift_list_sign_up_and_attendance_on_a_phone(
    world, client_for, clock, django_assert_max_num_queries
):
    volunteer = make_volunteer(world)
    for number in range(15):
        make_shift(world, title=f"班次{number}", in_hours=number * 4 + 1, capacity=2)
    make_shift(world, "b", title="b-only")
    c = client_for("volunteer")
    with django_assert_max_num_queries(20):
        response = c.get("/volunteers/shifts/")
    assert response.status_code == 200
    assert "班次14" in response.text
    assert "b-only" not in response.text
    shift = Shift.objects.get(title="班次0")  # 09:00-12:00
    response = c.post(f"/volunteers/shifts/{shift.pk}/signup/", {"next": "list"})
    assert response.status_code == 302
    assert Signup.objects.filter(shift=shift, volunteer=volunteer).exists()
    clock.advance(minutes=45)
    page = c.get("/volunteers/me/")
    assert f'data-testid="my-shift-{shift.pk}"' in page.text
    assert 'data-testid="check-in"' in page.text
    c.post(f"/volunteers/shifts/{shift.pk}/check-in/", {"next": "mine"})
    clock.advance(hours=2)
    response = c.post(f"/volunteers/shifts/{shift.pk}/check-out/", follow=True)
    assert "Checked out. Thank you!" in response.text
    assert str(ServiceHours.objects.get(volunteer=volunteer).hours) == "1.75"  # from 09:00
    pdf = c.get(f"/volunteers/applications/{volunteer.pk}/certificate.pdf?start=2026-06-01")
    assert pdf["Content-Type"] == "application/pdf"
    assert client_for("guard").get(f"/volunteers/shifts/{shift.pk}/").status_code == 404
    assert (
        client_for("community_admin", "b").get(f"/volunteers/shifts/{shift.pk}/").status_code == 404
    )


def test_admin_runs_shifts_teams_and_hours(world, client_for, clock):
    leader = make_volunteer(world)
    member = make_volunteer(world, "resident")
    c = client_for("community_admin")
    response = c.post(
        "/volunteers/teams/create/",
        {"name": "一队", "leader": leader.pk, "members": [member.pk]},
    )
    assert response.status_code == 302
    team = Team.objects.get(name="一队")
    response = c.post(
        "/volunteers/shifts/create/",
        {
            "title": "Fair",
            "team": team.pk,
            "starts_at": "2026-06-01T08:15",
            "ends_at": "2026-06-01T07:00",
            "capacity": "3",
        },
    )
    assert response.status_code == 400
    assert "The shift must end after it starts." in response.text
    response = c.post(
        "/volunteers/shifts/create/",
        {
            "title": "Fair",
            "team": team.pk,
            "starts_at": "2026-06-01T08:15",
            "ends_at": "2026-06-01T10:15",
            "capacity": "3",
        },
    )
    assert response.status_code == 302
    shift = Shift.objects.get(title="Fair")
    services.shift_signup(actor=member.user, shift=shift)
    # The team leader checks the member in from the roster.
    leader_client = client_for("volunteer")
    detail = leader_client.get(f"/volunteers/shifts/{shift.pk}/")
    assert f'data-testid="roster-{member.pk}"' in detail.text
    leader_client.post(f"/volunteers/shifts/{shift.pk}/check-in/", {"volunteer": member.pk})
    assert Signup.objects.get(shift=shift, volunteer=member).checked_in_by == leader.user
    clock.advance(hours=1)
    c.post(
        f"/volunteers/shifts/{shift.pk}/check-out/",
        {"volunteer": member.pk, "at": "2026-06-01T08:45"},
    )
    assert ServiceHours.objects.get(volunteer=member).hours == 0.5
    response = c.post(
        f"/volunteers/shifts/{shift.pk}/hours/{member.pk}/", {"hours": "1", "reason": "Late check"}
    )
    assert response.status_code == 302
    ledger = c.get("/volunteers/hours/")
    assert "Late check" in ledger.text
    assert "1.00 hours in total." in ledger.text
    response = c.post(f"/volunteers/shifts/{shift.pk}/cancel/", {"reason": "Rain"})
    assert response.status_code == 302
    assert Shift.objects.get(pk=shift.pk).cancel_reason == "Rain"
    assert client_for("grid_worker").get("/volunteers/shifts/create/").status_code == 403
    assert client_for("grid_worker").get(f"/volunteers/shifts/{shift.pk}/edit/").status_code == 403
    c.post(f"/volunteers/teams/{team.pk}/delete/")
    assert not Team.objects.exists()


def test_roster_and_ledgers_keep_queries_flat(
    world, client_for, clock, django_assert_max_num_queries
):
    from conftest import make_user

    shift = make_shift(world, in_hours=0.25, hours=2, capacity=20)
    volunteers = []
    for number in range(8):
        user = make_user(f"helper{number}")
        Membership.objects.create(user=user, community=world.a.community, role=Role.RESIDENT)
        volunteer = services.volunteer_apply(actor=user, community=world.a.community)
        services.volunteer_approve(actor=None, volunteer=volunteer)
        services.shift_signup(actor=user, shift=shift)
        services.shift_check_in(actor=user, shift=shift)
        volunteers.append(volunteer)
    clock.advance(hours=1)
    for volunteer in volunteers:
        services.shift_check_out(actor=volunteer.user, shift=shift)
    c = client_for("community_admin")
    assert c.get("/volunteers/").status_code == 302
    with django_assert_max_num_queries(20):
        detail = c.get(f"/volunteers/shifts/{shift.pk}/")
    assert detail.text.count('data-testid="roster-') == 8
    with django_assert_max_num_queries(20):
        ledger = c.get("/volunteers/hours/")
    assert "6.00 hours in total." in ledger.text  # 8 x 08:15-09:00
    with django_assert_max_num_queries(20):
        teams = c.get("/volunteers/teams/")
    assert teams.status_code == 200
    own = client_for("volunteer")
    with django_assert_max_num_queries(20):
        mine = own.get("/volunteers/me/")
    assert mine.status_code == 200


def test_editing_a_started_shift_keeps_its_times(world, client_for, clock):
    shift = make_shift(world, in_hours=0.5, hours=2)
    clock.advance(hours=1)
    c = client_for("community_admin")
    form = c.get(f"/volunteers/shifts/{shift.pk}/edit/")
    assert 'value="2026-06-01T08:30"' in form.text
    data = {
        "title": "Renamed",
        "starts_at": "2026-06-01T08:30",
        "ends_at": "2026-06-01T10:30",
        "capacity": "5",
    }
    assert c.post(f"/volunteers/shifts/{shift.pk}/edit/", data).status_code == 302
    assert Shift.objects.get(pk=shift.pk).title == "Renamed"
    data["starts_at"] = "2026-06-01T08:00"
    response = c.post(f"/volunteers/shifts/{shift.pk}/edit/", data)
    assert response.status_code == 400
    assert "The times of a shift that has started cannot be changed." in response.text


def test_django_admin_pages(world, clock):
    from django.test import Client

    volunteer = make_volunteer(world)
    shift = make_shift(world)
    services.shift_signup(actor=volunteer.user, shift=shift)
    c = Client()
    c.force_login(world.platform_admin)
    for name in ("volunteer", "team", "shift", "servicehours"):
        assert c.get(f"/admin/volunteers/{name}/").status_code == 200, name
    assert c.get(f"/admin/volunteers/shift/{shift.pk}/change/").status_code == 200
    assert c.get(f"/admin/volunteers/volunteer/{volunteer.pk}/change/").status_code == 200

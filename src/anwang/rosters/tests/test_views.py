"""The rosters pages: on duty now, the week, patterns with preview, exceptions, my duties."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.rosters import services
from anwang.rosters.models import DutyException, DutyPattern

pytestmark = pytest.mark.django_db


def page(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English pages."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def guard_pattern(world: Any) -> DutyPattern:
    """A guard's daily 12-hour duty that started an hour ago."""
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    return services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role="guard",
        person=world.user("guard"),
        first_start=start,
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )


def form(**extra: Any) -> dict[str, Any]:
    """The pattern form's fields for an operator's daily day shift."""
    return {
        "duty_role": "operator",
        "first_start": "2026-03-01T08:00",
        "duration_minutes": "720",
        "rrule": "FREQ=DAILY",
        "is_active": "on",
    } | extra


def test_on_duty_now_shows_each_role_and_gaps(world: Any) -> None:
    guard_pattern(world)
    response = page(world, "guard").get("/rosters/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "a_guard" in text
    assert "Nobody on duty" in text  # operators, leaders and grid workers have no pattern
    assert page(world, "resident").get("/rosters/").status_code == 403


def test_week_view_lists_the_shifts(world: Any) -> None:
    guard_pattern(world)
    response = page(world).get("/rosters/week/")
    assert response.content.decode().count("a_guard") >= 7
    assert page(world).get("/rosters/week/?start=nonsense").status_code == 200


def test_pattern_form_previews_saves_and_refuses(world: Any) -> None:
    admin = page(world)
    operator = world.user("operator").pk
    preview = admin.post("/rosters/patterns/new/", form(person=operator, preview="1"))
    assert preview.status_code == 200
    assert preview.content.decode().count(" 08:00 – ") == 10  # the next ten shifts
    assert not DutyPattern.objects.exists()
    refused = admin.post("/rosters/patterns/new/", form(person=operator, rrule="FREQ=SECONDLY"))
    assert refused.status_code == 400
    assert "hourly, daily, weekly or monthly" in refused.content.decode()
    saved = admin.post("/rosters/patterns/new/", form(person=operator))
    assert saved.status_code == 302
    pattern = DutyPattern.objects.get()
    edited = admin.post(f"/rosters/patterns/{pattern.pk}/", form(person=operator, note="值班室"))
    assert edited.status_code == 302
    pattern.refresh_from_db()
    assert pattern.note == "值班室"
    assert page(world, "guard").get(f"/rosters/patterns/{pattern.pk}/").status_code == 403
    assert (
        page(world, "community_admin", "b").get(f"/rosters/patterns/{pattern.pk}/").status_code
        == 404
    )
    assert admin.post(f"/rosters/patterns/{pattern.pk}/deactivate/").status_code == 302
    pattern.refresh_from_db()
    assert not pattern.is_active


def test_exception_form_swaps_a_shift(world: Any) -> None:
    pattern = guard_pattern(world)
    admin = page(world)
    key = timezone.localtime(pattern.first_start).strftime("%Y%m%dT%H%M")
    shown = admin.get(f"/rosters/exceptions/new/?pattern={pattern.pk}&shift={key}")
    assert shown.status_code == 200
    data = {"pattern": pattern.pk, "kind": "swap", "shift_key": key}
    refused = admin.post("/rosters/exceptions/new/", data)
    assert refused.status_code == 400
    assert "Choose who takes the shift" in refused.content.decode()
    assert not DutyException.objects.exists()
    data |= {"kind": "off", "reason": "病假"}
    assert admin.post("/rosters/exceptions/new/", data).status_code == 302
    assert "Nobody on duty" in page(world, "guard").get("/rosters/").content.decode()


def test_my_duties_and_their_calendar(world: Any) -> None:
    guard_pattern(world)
    guard = page(world, "guard")
    assert guard.get("/rosters/mine/").content.decode().count("Guard on duty") >= 14
    calendar = guard.get("/rosters/mine.ics")
    assert calendar["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in calendar.content
    assert b"BEGIN:VEVENT" not in page(world, "operator").get("/rosters/mine.ics").content


def test_dashboard_figure(world: Any) -> None:
    from anwang.accounts.selectors import scope_for
    from anwang.rosters.selectors import roster_stats

    guard_pattern(world)
    stats = roster_stats(scope_for(world.user("guard")), world.a.community)
    assert [stat.value for stat in stats] == [1]
    assert roster_stats(scope_for(world.user("resident")), world.a.community) == []
    everywhere = roster_stats(scope_for(world.user("supervisor")), None)
    assert [stat.value for stat in everywhere] == [1]
    assert roster_stats(scope_for(world.user("supervisor", "b")), None)[0].value == 0


def shift_key(pattern: DutyPattern, days: int = 0) -> str:
    """The key of the pattern's shift ``days`` after its first."""
    return timezone.localtime(pattern.first_start + dt.timedelta(days=days)).strftime("%Y%m%dT%H%M")


def test_cancelled_and_swapped_shifts_show_on_the_week_and_now(world: Any) -> None:
    from conftest import make_user

    from anwang.accounts.models import Membership

    pattern = guard_pattern(world)
    other = make_user("a_guard2")
    Membership.objects.create(user=other, role="guard", community=world.a.community)
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        pattern=pattern,
        shift_key=shift_key(pattern),
        reason="病假",
    )
    services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="swap",
        pattern=pattern,
        shift_key=shift_key(pattern, 1),
        replacement=other,
    )
    now = page(world, "guard").get("/rosters/").content.decode()
    assert '<del data-testid="cancelled">a_guard</del>' in now
    assert "病假" in now
    assert "Nobody on duty" in now
    week = page(world).get("/rosters/week/").content.decode()
    assert week.count('data-testid="cancelled"') == 1
    assert "a_guard2" in week
    assert "for a_guard" in week
    assert week.count('data-testid="undo-') == 2  # the admin may undo both from the week


def test_exceptions_page_lists_and_undoes(world: Any) -> None:
    pattern = guard_pattern(world)
    exception = services.duty_exception_add(
        actor=world.user("community_admin"),
        community=world.a.community,
        kind="off",
        pattern=pattern,
        shift_key=shift_key(pattern, 2),
        reason="年假",
    )
    listed = page(world, "guard").get("/rosters/exceptions/")
    assert listed.status_code == 200
    text = listed.content.decode()
    assert "年假" in text
    assert "a_community_admin" in text
    assert "undo-" not in text  # a guard may see but not undo
    assert page(world, "resident").get("/rosters/exceptions/").status_code == 403
    remove = f"/rosters/exceptions/{exception.pk}/remove/"
    assert page(world, "guard").post(remove).status_code == 403
    assert page(world, "community_admin", "b").post(remove).status_code == 404
    assert page(world).get(remove).status_code == 405
    assert DutyException.objects.exists()
    undone = page(world).post(remove, {"next": "/rosters/week/?start=2026-03-01"})
    assert undone.status_code == 302
    assert undone["Location"] == "/rosters/week/?start=2026-03-01"
    assert not DutyException.objects.exists()
    assert "No changes to the roster" in page(world).get("/rosters/exceptions/").content.decode()


def test_undo_never_sends_elsewhere(world: Any) -> None:
    pattern = guard_pattern(world)
    exception = services.duty_exception_add(
        actor=None,
        community=world.a.community,
        kind="off",
        pattern=pattern,
        shift_key=shift_key(pattern),
    )
    remove = f"/rosters/exceptions/{exception.pk}/remove/"
    undone = page(world).post(remove, {"next": "https://evil.example/rosters/week/"})
    assert undone["Location"] == "/rosters/exceptions/"


def test_exception_form_offers_a_person_in_a_duty_role(world: Any) -> None:
    pattern = guard_pattern(world)
    admin = page(world)
    shown = admin.get("/rosters/exceptions/new/").content.decode()
    assert 'name="person"' in shown
    assert 'name="duty_role"' in shown
    start = timezone.localtime(pattern.first_start)
    leave = {
        "person": world.user("guard").pk,
        "duty_role": "guard",
        "kind": "off",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "年假",
    }
    both = admin.post("/rosters/exceptions/new/", leave | {"pattern": pattern.pk})
    assert both.status_code == 400
    assert "not both" in both.content.decode()
    wrong_role = admin.post("/rosters/exceptions/new/", leave | {"duty_role": "operator"})
    assert wrong_role.status_code == 400
    assert "No shift of a_guard as Operator on duty" in wrong_role.content.decode()
    assert admin.post("/rosters/exceptions/new/", leave).status_code == 302
    exception = DutyException.objects.get()
    assert exception.pattern is None
    assert exception.person == world.user("guard")


def test_swap_page_swaps_two_peoples_shifts_or_says_why_not(world: Any) -> None:
    from conftest import make_user

    from anwang.accounts.models import Membership

    night = guard_pattern(world)
    other = make_user("a_guard2")
    Membership.objects.create(user=other, role="guard", community=world.a.community)
    day = services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role="guard",
        person=other,
        first_start=night.first_start + dt.timedelta(hours=12),
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )
    admin = page(world)
    shown = admin.get(f"/rosters/swaps/new/?pattern={night.pk}&shift={shift_key(night)}")
    assert shown.status_code == 200
    assert page(world, "guard").get("/rosters/swaps/new/").status_code == 403
    data = {
        "pattern": night.pk,
        "shift_key": shift_key(night),
        "other_pattern": day.pk,
        "other_shift_key": shift_key(night, 5),  # a_guard2 has no shift then
    }
    refused = admin.post("/rosters/swaps/new/", data)
    assert refused.status_code == 400
    assert "This duty pattern has no shift starting" in refused.content.decode()
    data["other_shift_key"] = shift_key(day, 1)
    assert admin.post("/rosters/swaps/new/", data).status_code == 302
    assert DutyException.objects.count() == 2
    assert "a_guard2" in page(world, "guard").get("/rosters/").content.decode()

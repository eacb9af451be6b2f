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

"""A volunteer's own shifts as an iCalendar file: page link, download and API."""

from __future__ import annotations

from typing import Any

import icalendar

from anwang.volunteers import services
from anwang.volunteers.tests.conftest import make_shift, make_volunteer


def events(content: bytes) -> list[Any]:
    return list(icalendar.Calendar.from_ical(content).walk("VEVENT"))


def test_my_shifts_as_a_calendar_with_cancelled_ones_marked(world: Any, client_for: Any) -> None:
    make_volunteer(world)
    night = make_shift(world, title="北门夜巡", in_hours=2, hours=3)
    fair = make_shift(world, title="社区安全宣传", in_hours=30, hours=2)
    make_shift(world, title="没报名的班次", in_hours=5)
    for shift in (night, fair):
        services.shift_signup(actor=world.user("volunteer"), shift=shift)
    services.shift_cancel(actor=world.user("community_admin"), shift=fair, reason="下雨")

    client = client_for("volunteer")
    page = client.get("/volunteers/me/").text
    assert 'href="/volunteers/me/shifts.ics"' in page
    response = client.get("/volunteers/me/shifts.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    found = {str(event["summary"]): event for event in events(response.content)}
    assert set(found) == {"北门夜巡", "社区安全宣传"}
    assert found["北门夜巡"].decoded("dtstart") == night.starts_at.replace(microsecond=0)
    assert found["北门夜巡"].decoded("duration") == night.ends_at - night.starts_at
    assert str(found["北门夜巡"]["status"]) == "CONFIRMED"
    assert str(found["社区安全宣传"]["status"]) == "CANCELLED"
    assert str(found["北门夜巡"]["location"]) == world.a.community.name
    # The API gives the same file; another person's calendar holds none of these shifts.
    assert client.get("/api/v1/volunteers/my/shifts.ics").content == response.content
    other = client_for("guard").get("/volunteers/me/shifts.ics")
    assert events(other.content) == []


def test_the_calendar_needs_a_login(client: Any) -> None:
    assert client.get("/volunteers/me/shifts.ics").status_code == 302
    assert client.get("/api/v1/volunteers/my/shifts.ics").status_code == 401

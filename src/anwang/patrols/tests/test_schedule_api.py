"""The patrol schedules API: CRUD, shifts in a range, my shifts, starting a shift, calendars
(iCalendar without the secret plan), other communities answering 404; query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from anwang.patrols.models import PatrolSchedule
from anwang.patrols.tests.conftest import make_checkpoint, make_route
from anwang.patrols.tests.test_schedule_services import make_schedule, minute

pytestmark = pytest.mark.django_db

API = "/api/v1/patrols"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def body(world: Any, route: Any, **extra: Any) -> dict[str, Any]:
    return {
        "community": world.a.community.pk,
        "patrol_route": route.pk,
        "name": "夜班",
        "first_start": minute(timezone.now() - dt.timedelta(minutes=5)).isoformat(),
        "duration_minutes": 120,
        "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU",
        "order_mode": "random",
        "random_start": True,
        "guards": [world.user("guard").pk],
    } | extra


def test_crud_and_errors(world: Any) -> None:
    route = make_route(world.a, make_checkpoint(world.a, "甲"), make_checkpoint(world.a, "乙"))
    admin = client(world)
    created = send(admin, "post", "/schedules", body(world, route))
    assert created.status_code == 201, created.content
    schedule = created.json()
    assert schedule["guards"] == [world.user("guard").pk]
    assert schedule["teams"] == []
    assert schedule["duration_minutes"] == 120
    bad = send(admin, "post", "/schedules", body(world, route, name="x", rrule="FREQ=NEVER"))
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"][-1] == "rrule"
    assert "must repeat hourly" in bad.json()["detail"]
    changed = send(
        admin, "patch", f"/schedules/{schedule['id']}", {"name": "早班", "duration_minutes": 60}
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "早班"
    assert changed.json()["duration_minutes"] == 60
    guard = client(world, "guard")
    assert send(guard, "patch", f"/schedules/{schedule['id']}", {"name": "x"}).status_code == 403
    other = client(world, "community_admin", "b")
    assert other.get(f"{API}/schedules/{schedule['id']}").status_code == 404
    assert send(other, "patch", f"/schedules/{schedule['id']}", {"name": "x"}).status_code == 404
    assert send(other, "delete", f"/schedules/{schedule['id']}").status_code == 404
    assert other.get(f"{API}/schedules/{schedule['id']}/shifts").status_code == 404
    assert other.get(f"{API}/schedules").json()["count"] == 0
    assert send(admin, "delete", f"/schedules/{schedule['id']}").status_code == 204
    assert admin.get(f"{API}/schedules/{schedule['id']}").status_code == 404


def test_shifts_and_start(world: Any) -> None:
    schedule = make_schedule(world)
    guard = client(world, "guard")
    mine = guard.get(f"{API}/my-shifts").json()
    assert mine[0]["can_start"] is True
    assert mine[0]["stops"] == ["点0", "点1", "点2", "点3"]
    key = mine[0]["shift_key"]
    started = send(guard, "post", f"/schedules/{schedule.pk}/start", {"shift_key": key})
    assert started.status_code == 201, started.content
    assert started.json()["status"] == "in_progress"
    assert started.json()["patrol_schedule"] == schedule.pk
    assert started.json()["shift_key"] == key
    again = send(guard, "post", f"/schedules/{schedule.pk}/start", {"shift_key": key})
    assert again.status_code == 409
    volunteer = client(world, "volunteer")
    refused = send(volunteer, "post", f"/schedules/{schedule.pk}/start", {"shift_key": key})
    assert refused.status_code == 403
    since = (timezone.now() - dt.timedelta(days=3)).isoformat()
    until = (timezone.now() + dt.timedelta(days=3)).isoformat()
    shifts = client(world).get(
        f"{API}/schedules/{schedule.pk}/shifts", {"from": since, "to": until}
    )
    assert shifts.status_code == 200, shifts.content
    statuses = [shift["status"] for shift in shifts.json()]
    assert statuses[0] == "in_progress"
    assert statuses[1:] == ["not_started"] * (len(statuses) - 1)
    too_long = client(world).get(
        f"{API}/schedules/{schedule.pk}/shifts",
        {"from": since, "to": (timezone.now() + dt.timedelta(days=90)).isoformat()},
    )
    assert too_long.status_code == 400


def test_list_query_count(world: Any, django_assert_max_num_queries: Any) -> None:
    for index in range(5):
        make_schedule(world, name=f"班{index}")
    admin = client(world)
    admin.get(f"{API}/schedules")  # the session is saved on the first request
    with django_assert_max_num_queries(10):
        listed = admin.get(f"{API}/schedules").json()
    assert listed["count"] == 5
    guard = client(world, "guard")
    guard.get(f"{API}/my-shifts")
    with django_assert_max_num_queries(10):
        shifts = guard.get(f"{API}/my-shifts").json()
    assert len(shifts) == 5 * 8  # the current shift and the next seven


def test_calendars_have_no_secret_plan(world: Any) -> None:
    later = minute(timezone.now() + dt.timedelta(hours=1))
    schedule = make_schedule(world, start=later, random_start=True, rrule="FREQ=DAILY;COUNT=30")
    for url, role in (("/schedules.ics", "community_admin"), ("/my-shifts.ics", "guard")):
        response = client(world, role).get(f"{API}{url}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        events = list(calendar.walk("VEVENT"))
        assert len(events) == 1
        event = events[0]
        assert event["uid"] == f"patrol-schedule-{schedule.pk}@anwang"
        assert event.decoded("dtstart") == later
        assert event.decoded("duration") == dt.timedelta(hours=2)
        assert event["rrule"].to_ical() == b"FREQ=DAILY;COUNT=30"
        text = response.content.decode()
        assert "点0" not in text  # no stop order
        from anwang.accounts.selectors import scope_for
        from anwang.patrols import selectors

        views = selectors.community_shift_list(
            scope_for(world.user("community_admin")),
            world.a.community.pk,
            since=later,
            until=later + dt.timedelta(days=3),
        )
        for view in views:
            if view.planned_start != view.shift.start:
                assert view.planned_start is not None
                stamp = view.planned_start.strftime("%Y%m%dT%H%M")
                assert stamp not in text
    assert (
        client(world, "community_admin", "b").get(f"{API}/schedules.ics").content.count(b"VEVENT")
        == 0
    )
    assert client(world, "volunteer").get(f"{API}/my-shifts.ics").content.count(b"VEVENT") == 0


def test_calendar_link_api(world: Any) -> None:
    make_schedule(world)
    guard = client(world, "guard")
    made = send(guard, "post", "/my-shifts/calendar-link")
    assert made.status_code == 201
    path = made.json()["url"].split("testserver", 1)[1]
    assert Client().get(path).status_code == 200
    assert send(guard, "delete", "/my-shifts/calendar-link").status_code == 204
    assert Client().get(path).status_code == 404


def test_people_and_teams_of_another_community_are_not_looked_up(world: Any) -> None:
    from anwang.volunteers.models import Team

    route = make_route(world.a, make_checkpoint(world.a, "甲"))
    admin = client(world)
    stranger = world.user("guard", "b")
    answer = send(admin, "post", "/schedules", body(world, route, guards=[stranger.pk]))
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"][-1] == "guards"
    # The same answer as for an id that does not exist: it names nobody from elsewhere.
    assert str(stranger) not in answer.text
    missing = send(admin, "post", "/schedules", body(world, route, guards=[999_999]))
    assert missing.json()["detail"] == answer.json()["detail"]
    team = Team.objects.create(community=world.b.community, name="西湖巡逻队")
    answer = send(admin, "post", "/schedules", body(world, route, teams=[team.pk]))
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"][-1] == "teams"
    assert not PatrolSchedule.objects.exists()

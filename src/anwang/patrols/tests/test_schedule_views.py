"""Pages of patrol schedules: list with shifts, the form's repeat builder and preview, delete,
the guard's "My shifts" with its Start button, calendars; other communities and query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.utils import timezone

from anwang.patrols.models import PatrolRun, PatrolSchedule
from anwang.patrols.tests.conftest import make_checkpoint, make_route
from anwang.patrols.tests.test_schedule_services import make_schedule, minute

pytestmark = pytest.mark.django_db


def form(world: Any, route: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": "周末夜班",
        "route": route.pk,
        "first_start": minute(timezone.now()).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "120",
        "repeat": "weekly",
        "weekdays": ["FR", "SA"],
        "order_mode": "random",
        "random_start": "on",
        "guards": [world.user("guard").pk],
        "is_active": "on",
        "note": "",
    } | extra


def test_create_with_the_builder_and_preview(world: Any, client_for: Any) -> None:
    route = make_route(world.a, make_checkpoint(world.a))
    admin = client_for("community_admin")
    page = admin.get("/patrols/schedules/create/")
    assert page.status_code == 200
    assert "a_guard" in page.content.decode()
    assert "a_resident" not in page.content.decode()
    preview = admin.post("/patrols/schedules/create/", form(world, route) | {"preview": "1"})
    assert preview.status_code == 200
    assert preview.content.decode().count("<li>") >= 10
    assert not PatrolSchedule.objects.exists()
    saved = admin.post("/patrols/schedules/create/", form(world, route))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    schedule = PatrolSchedule.objects.get()
    assert schedule.rrule == "FREQ=WEEKLY;BYDAY=FR,SA"
    edit = admin.get(f"/patrols/schedules/{schedule.pk}/edit/")
    assert 'value="FR" id="id_weekdays_4" checked' in edit.content.decode()


def test_bad_advanced_rule_is_a_form_error(world: Any, client_for: Any) -> None:
    route = make_route(world.a, make_checkpoint(world.a))
    admin = client_for("community_admin")
    response = admin.post(
        "/patrols/schedules/create/",
        form(world, route, repeat="advanced", rrule_text="FREQ=DAILY;BYMINUTE=3"),
    )
    assert response.status_code == 400
    assert "BYMINUTE is not used here" in response.content.decode()
    missing_days = admin.post("/patrols/schedules/create/", form(world, route, weekdays=[]))
    assert missing_days.status_code == 400
    assert "Tick at least one day" in missing_days.content.decode()
    assert not PatrolSchedule.objects.exists()


def test_list_query_count_and_other_community(
    world: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(6):
        make_schedule(world, name=f"班{index}")
    admin = client_for("community_admin")
    admin.get("/patrols/schedules/")
    with django_assert_max_num_queries(20):
        page = admin.get("/patrols/schedules/")
    assert page.status_code == 200
    assert page.content.decode().count("班5") >= 2
    schedule = PatrolSchedule.objects.first()
    assert schedule is not None
    other = client_for("community_admin", "b")
    assert other.get(f"/patrols/schedules/{schedule.pk}/edit/").status_code == 404
    assert other.post(f"/patrols/schedules/{schedule.pk}/delete/").status_code == 404
    assert client_for("guard").get(f"/patrols/schedules/{schedule.pk}/edit/").status_code == 403
    assert client_for("guard").get("/patrols/schedules/")["Location"] == "/patrols/my-shifts/"
    assert client_for("resident").get("/patrols/schedules/").status_code in (403, 404)
    assert admin.post(f"/patrols/schedules/{schedule.pk}/delete/").status_code == 302
    assert PatrolSchedule.objects.count() == 5


def test_my_shifts_start_goes_to_the_run(
    world: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    schedule = make_schedule(world)
    make_schedule(world, name="晚些", start=minute(timezone.now() + dt.timedelta(hours=3)))
    guard = client_for("guard")
    guard.get("/patrols/my-shifts/")
    with django_assert_max_num_queries(20):
        page = guard.get("/patrols/my-shifts/")
    text = page.content.decode()
    assert text.count('name="shift"') == 1
    assert "You can start 15 minutes before the planned start." in text
    key = timezone.localtime(schedule.first_start).strftime("%Y%m%dT%H%M")
    started = guard.post(f"/patrols/schedules/{schedule.pk}/start/", {"shift": key})
    run = PatrolRun.objects.get()
    assert started.status_code == 302
    assert started["Location"] == f"/patrols/runs/{run.pk}/go/"
    again = guard.post(f"/patrols/schedules/{schedule.pk}/start/", {"shift": key}, follow=True)
    assert "This shift was already run." in again.content.decode()
    assert PatrolRun.objects.count() == 1


def test_calendar_pages(world: Any, client_for: Any) -> None:
    make_schedule(world, random_start=True)
    for url, role in (
        ("/patrols/schedules.ics", "community_admin"),
        ("/patrols/my-shifts.ics", "guard"),
    ):
        response = client_for(role).get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        events = list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))
        assert [str(event["summary"]) for event in events] == ["夜班 · 夜巡"]
    assert client_for("guard").get("/patrols/schedules.ics").status_code == 403


def test_calendar_link_subscribe_and_revoke(world: Any, client_for: Any) -> None:
    from anwang.patrols.models import CalendarFeed

    make_schedule(world)
    guard = client_for("guard")
    made = guard.post("/patrols/my-shifts/calendar-link/")
    assert made.status_code == 200
    url = made.context["url"]
    path = url.split("testserver", 1)[1]
    token = path.removeprefix("/patrols/calendar/").removesuffix(".ics")
    assert CalendarFeed.objects.get().token_hash != token  # only the hash is stored
    from django.test import Client

    anonymous = Client()
    feed = anonymous.get(path)
    assert feed.status_code == 200
    events = list(icalendar.Calendar.from_ical(feed.content).walk("VEVENT"))
    assert [str(event["summary"]) for event in events] == ["夜班 · 夜巡"]
    assert anonymous.get("/patrols/calendar/not-a-token.ics").status_code == 404
    again = guard.post("/patrols/my-shifts/calendar-link/")
    assert anonymous.get(path).status_code == 404  # replaced
    new_path = again.context["url"].split("testserver", 1)[1]
    assert anonymous.get(new_path).status_code == 200
    guard.post("/patrols/my-shifts/calendar-link/", {"revoke": "1"})
    assert anonymous.get(new_path).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_schedule_pages_queries_do_not_grow_with_the_schedules(world: Any, client_for: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from anwang.patrols.choices import RunOrder

    def queries(role: str, url: str) -> int:
        client = client_for(role)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    pages = [
        ("community_admin", "/patrols/schedules/"),
        ("guard", "/patrols/my-shifts/"),
        ("guard", "/api/v1/patrols/my-shifts"),
        ("community_admin", "/api/v1/patrols/schedules"),
    ]
    make_schedule(world, name="早班", order_mode=RunOrder.RANDOM)
    few = [queries(role, url) for role, url in pages]
    for number in range(3):
        # make_schedule uses the world's route: each schedule gets a route of its own.
        world._route = make_route(
            world.a, make_checkpoint(world.a, f"岗{number}"), name=f"线{number}"
        )
        make_schedule(world, name=f"班{number}", random_start=True)
    assert [queries(role, url) for role, url in pages] == few

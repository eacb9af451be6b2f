"""The rosters API: pattern CRUD with errors, on duty now, the roster, exceptions and swaps,
my duties as iCalendar; other communities answer 404 and viewers 403 on writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from anwang.rosters.models import DutyException, DutyPattern

pytestmark = pytest.mark.django_db

API = "/api/v1/rosters"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A JSON request to the rosters API."""
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def body(world: Any, **extra: Any) -> dict[str, Any]:
    """A guard's daily 12-hour duty that started an hour ago."""
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    return {
        "community": world.a.community.pk,
        "duty_role": "guard",
        "person": world.user("guard").pk,
        "first_start": start.isoformat(),
        "duration_minutes": 720,
        "rrule": "FREQ=DAILY",
    } | extra


def test_pattern_crud_and_errors(world: Any) -> None:
    admin = client(world)
    created = send(admin, "post", "/patterns", body(world))
    assert created.status_code == 201, created.content
    pattern_id = created.json()["id"]
    assert created.json()["person_name"] == "a_guard"
    bad = send(admin, "post", "/patterns", body(world, person=world.user("resident").pk))
    assert bad.status_code == 400
    assert "may be on duty as" in bad.json()["detail"]
    bad = send(admin, "post", "/patterns", body(world, rrule="FREQ=SECONDLY"))
    assert bad.status_code == 400
    assert (
        send(admin, "get", f"/patterns?community_id={world.a.community.pk}").json()[0]["id"]
        == pattern_id
    )
    changed = send(admin, "patch", f"/patterns/{pattern_id}", {"note": "北门岗"})
    assert changed.json()["note"] == "北门岗"
    assert send(admin, "delete", f"/patterns/{pattern_id}").status_code == 204
    assert not DutyPattern.objects.get(pk=pattern_id).is_active


def test_viewers_may_read_but_not_write_and_outsiders_get_404(world: Any) -> None:
    created = send(client(world), "post", "/patterns", body(world)).json()
    guard = client(world, "guard")
    assert send(guard, "get", f"/patterns/{created['id']}").status_code == 200
    assert send(guard, "patch", f"/patterns/{created['id']}", {"note": "x"}).status_code == 403
    assert send(guard, "post", "/patterns", body(world)).status_code == 403
    outsider = client(world, "community_admin", "b")
    assert send(outsider, "get", f"/patterns/{created['id']}").status_code == 404
    assert send(outsider, "delete", f"/patterns/{created['id']}").status_code == 404
    on_duty = f"/on-duty?community_id={world.a.community.pk}"
    assert send(outsider, "get", on_duty).status_code == 404
    assert send(client(world, "resident"), "get", on_duty).status_code == 404
    assert DutyPattern.objects.get().is_active


def test_on_duty_now_roster_and_a_swap(world: Any) -> None:
    admin = client(world)
    pattern = send(admin, "post", "/patterns", body(world)).json()
    community = world.a.community.pk
    now = send(admin, "get", f"/on-duty?community_id={community}&duty_role=guard").json()
    assert [duty["person_name"] for duty in now] == ["a_guard"]
    assert send(admin, "get", f"/on-duty?community_id={community}&duty_role=operator").json() == []
    key = now[0]["shift_key"]
    swap = {
        "community": community,
        "kind": "swap",
        "pattern": pattern["id"],
        "shift_key": key,
        "replacement": world.user("operator").pk,
    }
    refused = send(admin, "post", "/exceptions", swap)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["loc"] == ["replacement"]
    off = {"community": community, "kind": "off", "pattern": pattern["id"], "shift_key": key}
    assert send(client(world, "guard"), "post", "/exceptions", off).status_code == 403
    assert send(admin, "post", "/exceptions", off).status_code == 201
    assert DutyException.objects.count() == 1
    assert send(admin, "get", f"/on-duty?community_id={community}").json() == []
    roster = send(admin, "get", f"/roster?community_id={community}").json()
    assert len(roster) == 7  # tomorrow's through the seventh; today's was cancelled
    assert key not in [duty["shift_key"] for duty in roster]


def test_my_duties_as_icalendar(world: Any) -> None:
    send(client(world), "post", "/patterns", body(world))
    response = client(world, "guard").get(f"{API}/my-duties.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) >= 60
    assert client(world, "operator").get(f"{API}/my-duties.ics").status_code == 200


def test_on_duty_and_roster_queries_do_not_grow_with_patterns(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    from conftest import make_user

    from anwang.accounts.models import Membership

    admin = client(world)
    for number in range(6):
        guard = make_user(f"a_guard_{number}")
        Membership.objects.create(user=guard, role="guard", community=world.a.community)
        assert send(admin, "post", "/patterns", body(world, person=guard.pk)).status_code == 201
    community = world.a.community.pk
    with django_assert_max_num_queries(8):
        assert len(send(admin, "get", f"/on-duty?community_id={community}").json()) == 6
    with django_assert_max_num_queries(8):
        assert len(send(admin, "get", f"/roster?community_id={community}").json()) == 6 * 8

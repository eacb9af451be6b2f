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


def second_guard(world: Any) -> Any:
    """Another guard of community a."""
    from conftest import make_user

    from anwang.accounts.models import Membership

    user = make_user("a_guard2")
    Membership.objects.create(user=user, role="guard", community=world.a.community)
    return user


def test_exceptions_are_listed_read_and_undone(world: Any) -> None:
    admin = client(world)
    pattern = send(admin, "post", "/patterns", body(world)).json()
    community = world.a.community.pk
    key = send(admin, "get", f"/on-duty?community_id={community}").json()[0]["shift_key"]
    off = {
        "community": community,
        "kind": "off",
        "pattern": pattern["id"],
        "shift_key": key,
        "reason": "病假",
    }
    made = send(admin, "post", "/exceptions", off)
    assert made.status_code == 201, made.content
    exception = made.json()
    assert exception["person_name"] == "a_guard"
    assert exception["created_by_name"] == "a_community_admin"
    assert exception["shift_start"] is not None
    listed = send(client(world, "guard"), "get", f"/exceptions?community_id={community}").json()
    assert [(row["id"], row["reason"], row["kind"]) for row in listed] == [
        (exception["id"], "病假", "off")
    ]
    assert send(
        admin, "get", f"/exceptions?community_id={community}&since=2026-01-01T00:00"
    ).json()["errors"][0]["loc"] == ["since"]
    outsider = client(world, "community_admin", "b")
    assert send(outsider, "get", f"/exceptions?community_id={community}").status_code == 404
    one = f"/exceptions/{exception['id']}"
    assert send(client(world, "guard"), "get", one).json()["id"] == exception["id"]
    assert send(outsider, "get", one).status_code == 404
    assert send(outsider, "delete", one).status_code == 404
    assert send(client(world, "guard"), "delete", one).status_code == 403
    assert send(admin, "get", f"/on-duty?community_id={community}").json() == []
    assert send(admin, "delete", one).status_code == 204
    assert not DutyException.objects.exists()
    assert len(send(admin, "get", f"/on-duty?community_id={community}").json()) == 1
    assert send(admin, "delete", one).status_code == 404
    from anwang.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="duty_exception.remove").count() == 1


def test_an_exception_for_a_person_in_a_duty_role(world: Any) -> None:
    admin = client(world)
    send(admin, "post", "/patterns", body(world))
    community = world.a.community.pk
    start = timezone.now() - dt.timedelta(hours=2)
    leave = {
        "community": community,
        "kind": "off",
        "person": world.user("guard").pk,
        "duty_role": "guard",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(days=2)).isoformat(),
    }
    assert send(admin, "post", "/exceptions", leave).status_code == 201
    assert send(admin, "get", f"/on-duty?community_id={community}").json() == []
    nothing = leave | {"duty_role": "operator"}
    refused = send(admin, "post", "/exceptions", nothing)
    assert refused.status_code == 400
    assert "No shift of a_guard as Operator on duty" in refused.json()["detail"]


def test_a_swap_to_someone_on_duty_is_refused_and_two_people_swap(world: Any) -> None:
    admin = client(world)
    other = second_guard(world)
    night = send(admin, "post", "/patterns", body(world)).json()
    start = dt.datetime.fromisoformat(night["first_start"])
    day = send(
        admin,
        "post",
        "/patterns",
        body(world, person=other.pk, first_start=(start + dt.timedelta(hours=6)).isoformat()),
    ).json()
    community = world.a.community.pk
    first_key = timezone.localtime(start).strftime("%Y%m%dT%H%M")
    clash = {
        "community": community,
        "kind": "swap",
        "pattern": night["id"],
        "shift_key": first_key,
        "replacement": other.pk,
    }
    refused = send(admin, "post", "/exceptions", clash)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["loc"] == ["replacement"]
    assert "a_guard2 is already on duty as Guard on duty" in refused.json()["detail"]
    tomorrow = timezone.localtime(start + dt.timedelta(days=1, hours=6)).strftime("%Y%m%dT%H%M")
    swap = {
        "community": community,
        "pattern": night["id"],
        "shift_key": first_key,
        "other_pattern": day["id"],
        "other_shift_key": tomorrow,
        "reason": "换班",
    }
    assert send(client(world, "guard"), "post", "/swaps", swap).status_code == 403
    assert send(client(world, "community_admin", "b"), "post", "/swaps", swap).status_code == 404
    overlapping = swap | {
        "other_shift_key": timezone.localtime(start + dt.timedelta(hours=6)).strftime("%Y%m%dT%H%M")
    }
    made = send(admin, "post", "/swaps", overlapping)
    assert made.status_code == 201, made.content
    assert [row["replacement_name"] for row in made.json()] == ["a_guard2", "a_guard"]
    assert [
        d["person_name"] for d in send(admin, "get", f"/on-duty?community_id={community}").json()
    ] == ["a_guard2"]
    again = send(admin, "post", "/swaps", swap | {"other_shift_key": "nonsense"})
    assert again.status_code == 400
    assert again.json()["errors"][0]["loc"] == ["other_shift_key"]
    assert DutyException.objects.count() == 2


def test_the_list_of_exceptions_does_not_grow_in_queries(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    admin = client(world)
    pattern = send(admin, "post", "/patterns", body(world)).json()
    start = dt.datetime.fromisoformat(pattern["first_start"])
    for day in range(5):
        key = timezone.localtime(start + dt.timedelta(days=day)).strftime("%Y%m%dT%H%M")
        off = {"community": world.a.community.pk, "kind": "off", "pattern": pattern["id"]}
        assert send(admin, "post", "/exceptions", off | {"shift_key": key}).status_code == 201
    with django_assert_max_num_queries(6):
        rows = send(admin, "get", f"/exceptions?community_id={world.a.community.pk}").json()
    assert len(rows) == 5

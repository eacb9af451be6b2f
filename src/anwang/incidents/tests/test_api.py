"""The incidents API: declaring (by hand and from an alarm), the command view and its
timeline, working tasks (the assignee without the manage permission too), notes, alarms,
participants, closing with a review whose action item revises the plan; other communities
answer 404, followers 403 on writes, bad input 400 on its field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.alarms.models import Alarm
from anwang.incidents.models import Incident
from anwang.incidents.tests.support import make_version, on_duty
from anwang.plans.models import PlanVersion

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "operator", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A JSON request to the API."""
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


@pytest.fixture
def planned(world: Any) -> PlanVersion:
    """An approved fire plan and a roster around the clock."""
    community = world.a.community
    on_duty(community, "operator", world.user("operator"), start_hour=0, hours=24)
    on_duty(community, "guard", world.user("guard"), start_hour=0, hours=24)
    on_duty(community, "on_duty_leader", world.user("community_admin"), start_hour=0, hours=24)
    return make_version(community, assembly_latitude=30.51, assembly_longitude=114.31)


def declared(world: Any, **extra: Any) -> dict[str, Any]:
    response = send(
        client(world),
        "post",
        f"/communities/{world.a.community.pk}/incidents",
        {"incident_type": "fire", "description": "3号楼冒烟"} | extra,
    )
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


def make_alarm(world: Any, side: str = "a") -> Alarm:
    now = timezone.now()
    return Alarm.objects.create(
        community=getattr(world, side).community,
        priority=1,
        title="3号楼烟感告警",
        group_key="t",
        why={"kind": "smoke"},
        raised_at=now,
        last_fired_at=now,
    )


def test_declaring_returns_the_command_view(world, planned):
    body = declared(world, zone_id=world.a.zone.pk, participant_ids=[world.user("volunteer").pk])
    assert body["title"] == "Fire"
    assert body["plan_version_id"] == planned.pk
    assert body["plan_version_number"] == 1
    assert [(task["duty_role"], task["assignee"]["username"]) for task in body["tasks"]] == [
        ("operator", "a_operator"),
        ("guard", "a_guard"),
        ("on_duty_leader", "a_community_admin"),
    ]
    first = body["tasks"][0]
    assert first["late"] is False
    assert 100 < first["seconds_left"] <= 120
    assert [entry["kind"] for entry in body["timeline"]][:2] == ["declared", "task_assigned"]
    assert body["participants"][0]["person"]["username"] == "a_volunteer"
    assert {point["kind"] for point in body["map_points"]} == {"assembly"}
    assert body["zones"][0]["properties"]["kind"] == "incident"
    assert body["review"] is None


def test_declaring_is_for_incident_managers_of_the_community(world):
    url = f"/communities/{world.a.community.pk}/incidents"
    payload = {"incident_type": "fire"}
    assert send(client(world, "guard"), "post", url, payload).status_code == 403
    assert send(client(world, "resident"), "post", url, payload).status_code == 404
    assert send(client(world, "operator", "b"), "post", url, payload).status_code == 404
    assert not Incident.objects.exists()


def test_bad_input_is_refused_on_its_field(world):
    url = f"/communities/{world.a.community.pk}/incidents"
    c = client(world)
    bad = send(c, "post", url, {"incident_type": "fire", "zone_id": world.b.zone.pk})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["zone_id"]
    bad = send(c, "post", url, {"incident_type": "fire", "latitude": 30.5})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["latitude"]
    bad = send(
        c, "post", url, {"incident_type": "fire", "participant_ids": [world.user("guard", "b").pk]}
    )
    assert bad.status_code == 400
    assert send(c, "post", url, {"incident_type": "volcano"}).status_code == 422


def test_the_list_is_scoped_filtered_and_paginated(world, django_assert_max_num_queries):
    first = declared(world)
    drill = declared(world, is_drill=True)
    url = f"/communities/{world.a.community.pk}/incidents"
    guard = client(world, "guard")
    with django_assert_max_num_queries(12):
        listed = send(guard, "get", url).json()
    assert [item["id"] for item in listed["items"]] == [drill["id"], first["id"]]
    assert listed["items"][0]["title"] == "Drill: Fire"
    only_drills = send(guard, "get", f"{url}?is_drill=true").json()
    assert [item["id"] for item in only_drills["items"]] == [drill["id"]]
    assert send(guard, "get", f"{url}?state=closed").json()["count"] == 0
    assert send(client(world, "guard", "b"), "get", url).status_code == 404
    assert send(client(world, "resident"), "get", url).status_code == 404
    with django_assert_max_num_queries(12):
        detail = send(guard, "get", f"/incidents/{first['id']}")
    assert detail.status_code == 200
    assert send(client(world, "guard", "b"), "get", f"/incidents/{first['id']}").status_code == 404


def test_declaring_from_an_alarm_once(world, planned):
    alarm = make_alarm(world)
    c = client(world)
    response = send(c, "post", f"/alarms/{alarm.pk}/incident", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["incident_type"] == "fire"
    assert body["alarm_ids"] == [alarm.pk]
    again = send(c, "post", f"/alarms/{alarm.pk}/incident", {})
    assert again.status_code == 409
    assert f"no. {body['id']}" in again.json()["detail"]
    assert (
        send(client(world, "operator", "b"), "post", f"/alarms/{alarm.pk}/incident", {}).status_code
        == 404
    )
    assert (
        send(
            client(world, "guard"), "post", f"/alarms/{make_alarm(world).pk}/incident", {}
        ).status_code
        == 403
    )


def test_the_assignee_works_their_task_without_managing_incidents(world, planned):
    body = declared(world)
    tasks = {task["duty_role"]: task["id"] for task in body["tasks"]}
    guard = client(world, "guard")
    done = send(guard, "post", f"/incident-tasks/{tasks['guard']}/complete", {"note": "已疏散"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    assert done.json()["seconds_left"] is None
    assert send(guard, "post", f"/incident-tasks/{tasks['guard']}/complete", {}).status_code == 409
    assert (
        send(guard, "post", f"/incident-tasks/{tasks['operator']}/complete", {}).status_code == 403
    )
    assert (
        send(
            client(world, "guard", "b"), "post", f"/incident-tasks/{tasks['operator']}/complete", {}
        ).status_code
        == 404
    )
    skip = send(guard, "post", f"/incident-tasks/{tasks['operator']}/skip", {"note": "x"})
    assert skip.status_code == 403
    bad = send(client(world), "post", f"/incident-tasks/{tasks['operator']}/skip", {"note": " "})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["note"]
    note = send(guard, "post", f"/incidents/{body['id']}/notes", {"text": "1单元已清空"})
    assert note.status_code == 201
    timeline = send(guard, "get", f"/incidents/{body['id']}/timeline").json()
    assert [entry["kind"] for entry in timeline][-2:] == ["task_done", "note"]
    last = send(guard, "get", f"/incidents/{body['id']}").json()["timeline"][-1]
    assert last["text"] == "1单元已清空"
    assert last["actor"] == "a_guard"
    newer = send(guard, "get", f"/incidents/{body['id']}/timeline?after={last['id']}").json()
    assert newer == []


def test_managers_add_tasks_reassign_link_alarms_and_participants(world, planned):
    body = declared(world)
    incident_id = body["id"]
    c = client(world)
    due = (timezone.now() + dt.timedelta(minutes=30)).isoformat()
    added = send(
        c,
        "post",
        f"/incidents/{incident_id}/tasks",
        {"title": "联系燃气公司", "duty_role": "guard", "due_at": due},
    )
    assert added.status_code == 201, added.content
    assert added.json()["assignee"]["username"] == "a_guard"
    moved = send(
        c,
        "post",
        f"/incident-tasks/{added.json()['id']}/reassign",
        {"assignee_id": world.user("grid_worker").pk},
    )
    assert moved.json()["assignee"]["username"] == "a_grid_worker"
    bad = send(
        c,
        "post",
        f"/incident-tasks/{added.json()['id']}/reassign",
        {"assignee_id": world.user("guard", "b").pk},
    )
    assert bad.status_code == 400
    alarm = make_alarm(world)
    linked = send(c, "post", f"/incidents/{incident_id}/alarms", {"alarm_id": alarm.pk})
    assert linked.status_code == 201
    assert linked.json()["alarm_ids"] == [alarm.pk]
    assert (
        send(c, "post", f"/incidents/{incident_id}/alarms", {"alarm_id": alarm.pk}).status_code
        == 409
    )
    other = make_alarm(world, "b")
    assert (
        send(c, "post", f"/incidents/{incident_id}/alarms", {"alarm_id": other.pk}).status_code
        == 400
    )
    joined = send(
        c,
        "post",
        f"/incidents/{incident_id}/participants",
        {"person_id": world.user("volunteer").pk, "role_note": "引导疏散"},
    )
    assert joined.status_code == 201
    assert joined.json()["role_note"] == "引导疏散"
    guard = client(world, "guard")
    assert send(guard, "post", f"/incidents/{incident_id}/tasks", {"title": "x"}).status_code == 403


def test_closing_with_a_review_and_an_action_item_that_revises_the_plan(world, planned):
    body = declared(world)
    admin = client(world, "community_admin")
    incident_id = body["id"]
    assert (
        send(
            client(world, "guard"), "post", f"/incidents/{incident_id}/close", {"what_worked": "x"}
        ).status_code
        == 403
    )
    bad = send(admin, "post", f"/incidents/{incident_id}/close", {})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["what_worked"]
    closed = send(
        admin,
        "post",
        f"/incidents/{incident_id}/close",
        {
            "what_worked": "报警及时",
            "what_did_not": "疏散路线被堵",
            "action_items": [
                {
                    "description": "疏散路线改走东门",
                    "owner_id": world.user("guard").pk,
                    "due_on": "2026-12-31",
                    "revise_plan": True,
                }
            ],
        },
    )
    assert closed.status_code == 200, closed.content
    result = closed.json()
    assert result["state"] == "closed"
    assert {task["status"] for task in result["tasks"]} == {"skipped"}
    assert result["review"]["what_did_not"] == "疏散路线被堵"
    item = result["action_items"][0]
    draft = PlanVersion.objects.get(pk=item["plan_version_id"])
    assert draft.status == "draft"
    assert draft.based_on == planned
    assert draft.steps.count() == 3
    again = send(admin, "post", f"/action-items/{item['id']}/revise-plan")
    assert again.json()["id"] == draft.pk
    review = send(
        admin,
        "patch",
        f"/incidents/{incident_id}/review",
        {"what_worked": "好", "what_did_not": ""},
    )
    assert review.json()["what_worked"] == "好"
    added = send(
        admin,
        "post",
        f"/incidents/{incident_id}/action-items",
        {"description": "补充灭火器", "owner_id": world.user("operator").pk},
    )
    assert added.status_code == 201
    assert added.json()["plan_version_id"] is None
    # The owner (a guard) marks their item done; someone else of the community may not.
    assert (
        send(client(world, "grid_worker"), "post", f"/action-items/{item['id']}/done").status_code
        == 403
    )
    assert (
        send(client(world, "guard", "b"), "post", f"/action-items/{item['id']}/done").status_code
        == 404
    )
    done = send(client(world, "guard"), "post", f"/action-items/{item['id']}/done")
    assert done.status_code == 200
    assert done.json()["done_at"] is not None
    assert send(admin, "post", f"/incidents/{incident_id}/notes", {"text": "x"}).status_code == 409


def test_the_openapi_document_lists_the_incident_routes(world):
    schema = client(world).get(f"{API}/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/incidents/{incident_id}" in paths
    assert "/api/v1/incident-tasks/{incident_task_id}/complete" in paths
    assert "/api/v1/action-items/{action_item_id}/revise-plan" in paths


def test_the_admin_lists_and_shows_incidents_read_only(world, planned):
    body = declared(world)
    admin = Client()
    admin.force_login(world.platform_admin)
    assert admin.get("/admin/incidents/incident/").status_code == 200
    page = admin.get(f"/admin/incidents/incident/{body['id']}/change/")
    assert page.status_code == 200
    assert "确认火情并报警119" in page.content.decode()

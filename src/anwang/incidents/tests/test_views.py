"""The incident pages: the list, declaring by hand and from an alarm, the command view with its
task checklist (htmx and plain posts), notes, linked alarms, participants, the map and timeline
fragments, closing with a review and action items, and who may see or do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.alarms.models import Alarm
from anwang.incidents import services
from anwang.incidents.choices import IncidentState, LogKind, TaskStatus
from anwang.incidents.models import ActionItem, Incident, IncidentTask
from anwang.incidents.services import ActionItemDraft
from anwang.incidents.tests.support import make_version, member, on_duty
from anwang.plans.choices import VersionStatus

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """Errors in English, so messages are asserted on their source text."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def client_for(world: Any) -> Any:
    def make(role: str, side: str = "a") -> Client:
        client: Client = world.client_for(role, side)
        return client

    return make


@pytest.fixture
def plan(world: Any) -> Any:
    """The fire plan in force, and everyone on duty around the clock."""
    community = world.a.community
    on_duty(community, "operator", world.user("operator"), start_hour=0, hours=24)
    on_duty(community, "guard", world.user("guard"), start_hour=0, hours=24)
    on_duty(community, "on_duty_leader", world.user("community_admin"), start_hour=0, hours=24)
    return make_version(community, assembly_latitude=30.5005, assembly_longitude=114.3005)


def make_alarm(world: Any, title: str = "3号楼烟感告警") -> Alarm:
    now = timezone.now()
    return Alarm.objects.create(
        community=world.a.community,
        priority=1,
        title=title,
        group_key=f"test:{title}",
        raised_at=now,
        last_fired_at=now,
        zone=world.a.zone,
    )


def declare(world: Any, **extra: Any) -> Incident:
    values = {
        "actor": world.user("operator"),
        "community": world.a.community,
        "incident_type": "fire",
        "title": "翠苑3号楼火情",
    } | extra
    return services.incident_declare(**values)


def guard_task(incident: Incident) -> IncidentTask:
    return incident.tasks.get(duty_role="guard")


# --------------------------------------------------------------------------- list


def test_list_shows_open_first_then_closed_with_filters(world, plan, client_for):
    running = declare(world)
    drill = declare(world, is_drill=True, title="翠苑消防演练")
    closed = declare(world, title="翠苑旧火情")
    services.incident_close(
        actor=world.user("operator"), incident=closed, what_worked="快", what_did_not=""
    )
    page = client_for("operator").get("/incidents/")
    assert page.status_code == 200
    text = page.text
    assert text.index(running.title) < text.index(closed.title)
    assert text.index(drill.title) < text.index(closed.title)
    assert 'data-testid="drill-badge"' in text
    assert 'data-testid="declare"' in text
    assert 'data-testid="start-drill"' in text
    drills = client_for("operator").get("/incidents/?is_drill=1").text
    assert drill.title in drills
    assert running.title not in drills
    closed_only = client_for("operator").get("/incidents/?state=closed").text
    assert closed.title in closed_only
    assert running.title not in closed_only
    # Guards follow incidents but do not declare them.
    guard_page = client_for("guard").get("/incidents/")
    assert guard_page.status_code == 200
    assert running.title in guard_page.text
    assert 'data-testid="declare"' not in guard_page.text


def test_list_is_scoped_and_refused_to_residents(world, plan, client_for):
    declare(world)
    other = client_for("operator", "b").get("/incidents/")
    assert other.status_code == 200
    assert "翠苑3号楼火情" not in other.text
    assert client_for("resident").get("/incidents/").status_code == 403
    supervisor = client_for("supervisor").get("/incidents/")
    assert supervisor.status_code == 200
    assert "翠苑3号楼火情" in supervisor.text


def test_list_query_count_does_not_grow(world, plan, client_for, django_assert_max_num_queries):
    for number in range(5):
        declare(world, title=f"翠苑火情{number}")
    client = client_for("operator")
    with django_assert_max_num_queries(25):
        assert client.get("/incidents/").status_code == 200


# --------------------------------------------------------------------------- declare


def test_declare_page_for_managers_only(world, plan, client_for):
    page = client_for("operator").get("/incidents/declare/")
    assert page.status_code == 200
    assert 'name="incident_type"' in page.text
    assert 'data-anwang-map="editor"' in page.text
    drill = client_for("operator").get("/incidents/declare/?drill=1")
    assert 'name="is_drill"' in drill.text
    assert "checked" in drill.text
    assert client_for("guard").get("/incidents/declare/").status_code == 403
    assert client_for("resident").get("/incidents/declare/").status_code == 403


def test_declaring_by_hand_makes_the_tasks_and_opens_the_command_view(world, plan, client_for):
    response = client_for("operator").post(
        "/incidents/declare/",
        {
            "community": world.a.community.pk,
            "incident_type": "fire",
            "title": "翠苑3号楼冒烟",
            "description": "二楼楼道有烟",
            "zone": world.a.zone.pk,
            "point": '{"type": "Point", "coordinates": [114.3004, 30.5004]}',
        },
    )
    incident = Incident.objects.get(title="翠苑3号楼冒烟")
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.pk}/"
    assert incident.plan_version == plan
    assert incident.latitude == pytest.approx(30.5004)
    assert incident.zone == world.a.zone
    assert incident.tasks.count() == 3
    assert guard_task(incident).assignee == world.user("guard")


def test_declare_errors_keep_what_was_typed(world, plan, client_for):
    response = client_for("operator").post(
        "/incidents/declare/",
        {
            "community": world.a.community.pk,
            "incident_type": "fire",
            "title": "翠苑输错的位置",
            "point": "not json",
        },
    )
    assert response.status_code == 400
    assert "翠苑输错的位置" in response.text
    assert "errorlist" in response.text
    assert not Incident.objects.exists()
    # A zone of another community is not offered, so it is refused.
    response = client_for("operator").post(
        "/incidents/declare/",
        {
            "community": world.a.community.pk,
            "incident_type": "fire",
            "title": "翠苑别处的区域",
            "zone": world.b.zone.pk,
        },
    )
    assert response.status_code == 400
    assert "翠苑别处的区域" in response.text
    assert not Incident.objects.exists()


def test_starting_a_drill_with_participants(world, plan, client_for):
    volunteer = world.user("volunteer")
    response = client_for("operator").post(
        "/incidents/declare/?drill=1",
        {
            "community": world.a.community.pk,
            "incident_type": "fire",
            "title": "翠苑春季消防演练",
            "is_drill": "on",
            "participants": [volunteer.pk, world.user("grid_worker").pk],
        },
    )
    assert response.status_code == 302
    drill = Incident.objects.get(title="翠苑春季消防演练")
    assert drill.is_drill
    assert set(drill.participants.values_list("person_id", flat=True)) == {
        volunteer.pk,
        world.user("grid_worker").pk,
    }
    page = client_for("operator").get(f"/incidents/{drill.pk}/")
    assert 'data-testid="drill-banner"' in page.text
    assert 'data-testid="incident-participants"' in page.text
    assert str(volunteer) in page.text


# --------------------------------------------------------------------------- from an alarm


def test_one_click_on_an_alarm_declares_and_a_second_opens_it(world, plan, client_for):
    alarm = make_alarm(world)
    page = client_for("operator").get(f"/alarms/{alarm.pk}/")
    assert 'data-testid="declare-incident"' in page.text
    response = client_for("operator").post(f"/incidents/from-alarm/{alarm.pk}/")
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.pk}/"
    assert list(incident.alarms.all()) == [alarm]
    assert incident.tasks.count() == 3
    # The alarm now links to its incident instead of offering another.
    page = client_for("operator").get(f"/alarms/{alarm.pk}/")
    assert 'data-testid="declare-incident"' not in page.text
    assert f"/incidents/{incident.pk}/" in page.text
    again = client_for("operator").post(f"/incidents/from-alarm/{alarm.pk}/")
    assert again["Location"] == f"/incidents/{incident.pk}/"
    assert Incident.objects.count() == 1


def test_declaring_from_an_alarm_is_refused_to_others(world, plan, client_for):
    alarm = make_alarm(world)
    guard_page = client_for("guard").get(f"/alarms/{alarm.pk}/")
    assert 'data-testid="declare-incident"' not in guard_page.text
    assert client_for("guard").post(f"/incidents/from-alarm/{alarm.pk}/").status_code == 403
    assert client_for("operator", "b").post(f"/incidents/from-alarm/{alarm.pk}/").status_code == 404
    assert not Incident.objects.exists()


# --------------------------------------------------------------------------- command view


def test_command_view_shows_tasks_timers_alarms_map_and_timeline(world, plan, client_for):
    alarm = make_alarm(world)
    incident = services.incident_declare_from_alarm(actor=world.user("operator"), alarm=alarm)
    page = client_for("operator").get(f"/incidents/{incident.pk}/")
    assert page.status_code == 200
    text = page.text
    assert text.count('data-testid="task-timer"') == 3
    assert "data-seconds-left=" in text
    assert f"/alarms/{alarm.pk}/" in text
    assert f"/incidents/{incident.pk}/zones.geojson" in text
    assert 'data-testid="incident-timeline"' in text
    assert f'hx-get="/incidents/{incident.pk}/timeline/"' in text
    assert 'data-testid="close-incident"' in text
    assert str(plan) in text


def test_command_view_for_the_guard_and_not_for_others(world, plan, client_for):
    incident = declare(world)
    page = client_for("guard").get(f"/incidents/{incident.pk}/")
    assert page.status_code == 200
    # The guard may tick their own task only, and may not close.
    assert page.text.count('data-action="complete"') == 1
    assert 'data-testid="my-task"' in page.text
    assert 'data-testid="close-incident"' not in page.text
    assert client_for("operator", "b").get(f"/incidents/{incident.pk}/").status_code == 404
    assert client_for("resident").get(f"/incidents/{incident.pk}/").status_code == 404


def test_late_tasks_are_marked(world, plan, client_for):
    incident = declare(world, now=timezone.now() - dt.timedelta(minutes=12))
    page = client_for("operator").get(f"/incidents/{incident.pk}/").text
    # The 2- and 10-minute steps are late, the 15-minute one is not.
    assert 'data-testid="late-count"' in page
    assert page.count("incident-task status-open late") == 2
    assert page.count("countdown incident-timer breached") == 2


def test_guard_ticks_their_task_with_htmx(world, plan, client_for):
    incident = declare(world)
    task = guard_task(incident)
    response = client_for("guard").post(
        f"/incidents/tasks/{task.pk}/complete/", {f"task-{task.pk}-note": "已疏散"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "incident-changed"
    assert 'id="incident-tasks"' in response.text
    assert "<html" not in response.text
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.note == "已疏散"
    timeline = client_for("guard").get(f"/incidents/{incident.pk}/timeline/")
    assert 'data-kind="task_done"' in timeline.text
    assert "已疏散" in timeline.text


def test_task_actions_without_htmx_redirect(world, plan, client_for):
    incident = declare(world)
    task = incident.tasks.get(duty_role="operator")
    response = client_for("operator").post(f"/incidents/tasks/{task.pk}/complete/", {})
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.pk}/#task-{task.pk}"
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_skipping_needs_a_note_and_keeps_nothing_lost(world, plan, client_for):
    incident = declare(world)
    task = guard_task(incident)
    response = client_for("guard").post(f"/incidents/tasks/{task.pk}/skip/", {}, **HTMX)
    assert response.status_code == 200
    assert 'data-testid="task-error"' in response.text
    assert "Say why the task is not needed." in response.text
    assert "HX-Trigger" not in response
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    plain = client_for("guard").post(f"/incidents/tasks/{task.pk}/skip/", {})
    assert plain.status_code == 400
    assert 'data-testid="task-error"' in plain.text
    skipped = client_for("guard").post(
        f"/incidents/tasks/{task.pk}/skip/", {f"task-{task.pk}-note": "楼内无人"}, **HTMX
    )
    assert skipped.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.SKIPPED


def test_a_service_refusal_shows_on_the_task_with_the_note_kept(world, plan, client_for):
    incident = declare(world)
    task = guard_task(incident)
    services.task_complete(actor=world.user("guard"), task=task)
    response = client_for("operator").post(
        f"/incidents/tasks/{task.pk}/complete/", {f"task-{task.pk}-note": "再次确认"}
    )
    assert response.status_code == 400
    assert 'data-testid="task-error"' in response.text


def test_others_may_not_work_someone_elses_task(world, plan, client_for):
    incident = declare(world)
    task = incident.tasks.get(duty_role="operator")
    assert client_for("guard").post(f"/incidents/tasks/{task.pk}/complete/", {}).status_code == 403
    assert (
        client_for("operator", "b").post(f"/incidents/tasks/{task.pk}/complete/", {}).status_code
        == 404
    )
    assert (
        client_for("operator").post(f"/incidents/tasks/{task.pk}/explode/", {}).status_code == 404
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_reassigning_a_task(world, plan, client_for):
    incident = declare(world)
    task = guard_task(incident)
    other = member(world.a.community, "a_guard_two")
    response = client_for("operator").post(
        f"/incidents/tasks/{task.pk}/reassign/", {f"task-{task.pk}-assignee": other.pk}, **HTMX
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.assignee == other
    outsider = world.user("guard", "b")
    refused = client_for("operator").post(
        f"/incidents/tasks/{task.pk}/reassign/", {f"task-{task.pk}-assignee": outsider.pk}, **HTMX
    )
    assert 'data-testid="task-error"' in refused.text
    task.refresh_from_db()
    assert task.assignee == other


def test_fragments_and_map(world, plan, client_for):
    alarm = make_alarm(world)
    incident = services.incident_declare_from_alarm(actor=world.user("operator"), alarm=alarm)
    client = client_for("guard")
    tasks = client.get(f"/incidents/{incident.pk}/tasks/")
    assert tasks.status_code == 200
    assert 'id="incident-tasks"' in tasks.text
    timeline = client.get(f"/incidents/{incident.pk}/timeline/")
    assert 'data-kind="declared"' in timeline.text
    assert 'data-kind="alarm_linked"' in timeline.text or 'data-kind="declared"' in timeline.text
    zones = client.get(f"/incidents/{incident.pk}/zones.geojson").json()
    assert zones["type"] == "FeatureCollection"
    assert [feature["properties"]["name"] for feature in zones["features"]] == ["北门"]
    points = client.get(f"/incidents/{incident.pk}/points.geojson").json()
    kinds = {feature["properties"]["kind"] for feature in points["features"]}
    assert "assembly" in kinds
    for url in ("tasks/", "timeline/", "zones.geojson", "points.geojson"):
        assert client_for("operator", "b").get(f"/incidents/{incident.pk}/{url}").status_code == 404


# --------------------------------------------------------------------------- notes, alarms, people


def test_adding_a_note(world, plan, client_for):
    incident = declare(world)
    response = client_for("guard").post(f"/incidents/{incident.pk}/note/", {"text": "东门已封"})
    assert response.status_code == 302
    assert incident.log.filter(kind=LogKind.NOTE, text__contains="东门已封").exists()
    empty = client_for("guard").post(f"/incidents/{incident.pk}/note/", {"text": ""})
    assert empty.status_code == 400
    assert "errorlist" in empty.text
    # Someone following the incident without a task in it may read but not write.
    assert (
        client_for("grid_worker").post(f"/incidents/{incident.pk}/note/", {"text": "x"}).status_code
        == 403
    )


def test_linking_an_alarm(world, plan, client_for):
    incident = declare(world)
    alarm = make_alarm(world, "2号楼烟感")
    page = client_for("operator").get(f"/incidents/{incident.pk}/").text
    assert f'<option value="{alarm.pk}"' in page
    response = client_for("operator").post(f"/incidents/{incident.pk}/alarms/", {"alarm": alarm.pk})
    assert response.status_code == 302
    assert list(incident.alarms.all()) == [alarm]
    refused = client_for("operator").post(f"/incidents/{incident.pk}/alarms/", {"alarm": 999999})
    assert refused.status_code == 400
    assert client_for("guard").post(
        f"/incidents/{incident.pk}/alarms/", {"alarm": alarm.pk}
    ).status_code in (400, 403)


def test_adding_participants_and_tasks(world, plan, client_for):
    drill = declare(world, is_drill=True, title="翠苑演练")
    volunteer = world.user("volunteer")
    response = client_for("operator").post(
        f"/incidents/{drill.pk}/participants/", {"person": volunteer.pk, "role_note": "引导疏散"}
    )
    assert response.status_code == 302
    assert drill.participants.get().role_note == "引导疏散"
    added = client_for("operator").post(
        f"/incidents/{drill.pk}/tasks/add/",
        {"title": "清点人数", "assignee": world.user("guard").pk, "due_in_minutes": 20},
    )
    assert added.status_code == 302
    task = drill.tasks.get(title="清点人数")
    assert task.assignee == world.user("guard")
    assert task.due_at is not None
    missing = client_for("operator").post(
        f"/incidents/{drill.pk}/tasks/add/", {"title": "", "instructions": "翠苑留着的说明"}
    )
    assert missing.status_code == 400
    assert "翠苑留着的说明" in missing.text
    assert (
        client_for("guard").post(f"/incidents/{drill.pk}/tasks/add/", {"title": "x"}).status_code
        == 403
    )


# --------------------------------------------------------------------------- closing and review


def test_close_page_is_for_managers(world, plan, client_for):
    incident = declare(world)
    page = client_for("operator").get(f"/incidents/{incident.pk}/close/")
    assert page.status_code == 200
    assert 'name="items-0-description"' in page.text
    assert client_for("guard").get(f"/incidents/{incident.pk}/close/").status_code == 403
    assert client_for("operator", "b").get(f"/incidents/{incident.pk}/close/").status_code == 404


def close_data(world: Any, **rows: Any) -> dict[str, Any]:
    data = {
        "what_worked": "五分钟内疏散完毕",
        "what_did_not": "3号楼灭火器过期",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "20",
    }
    data.update(rows)
    return data


def test_closing_errors_keep_the_review(world, plan, client_for):
    incident = declare(world)
    response = client_for("operator").post(
        f"/incidents/{incident.pk}/close/",
        close_data(world, **{"items-0-description": "更换3号楼灭火器"}),
    )
    assert response.status_code == 400
    assert "Choose who owns this action." in response.text
    assert "五分钟内疏散完毕" in response.text
    assert "更换3号楼灭火器" in response.text
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN


def test_plan_writers_only_may_ask_for_a_plan_revision(world, plan, client_for):
    incident = declare(world)
    operator_page = client_for("operator").get(f"/incidents/{incident.pk}/close/")
    assert 'name="items-0-revise_plan"' not in operator_page.text
    admin_page = client_for("community_admin").get(f"/incidents/{incident.pk}/close/")
    assert 'name="items-0-revise_plan"' in admin_page.text


def test_closing_with_a_review_whose_item_revises_the_plan(world, plan, client_for):
    incident = declare(world)
    owner = world.user("community_admin")
    response = client_for("community_admin").post(
        f"/incidents/{incident.pk}/close/",
        close_data(
            world,
            **{
                "items-0-description": "更换3号楼灭火器",
                "items-0-owner": owner.pk,
                "items-0-due_on": "2026-12-31",
                "items-0-revise_plan": "on",
                "items-1-description": "",
            },
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.pk}/#review"
    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED
    item = ActionItem.objects.get()
    assert item.owner == owner
    assert item.plan_version is not None
    assert item.plan_version.status == VersionStatus.DRAFT
    page = client_for("operator").get(f"/incidents/{incident.pk}/")
    assert 'data-testid="incident-review"' in page.text
    assert "五分钟内疏散完毕" in page.text
    assert "更换3号楼灭火器" in page.text
    assert 'data-testid="close-incident"' not in page.text
    # A closed incident is no longer closed again.
    again = client_for("operator").get(f"/incidents/{incident.pk}/close/")
    assert again.status_code == 302


def test_action_items_are_done_and_open_plan_drafts(world, plan, client_for):
    incident = declare(world)
    services.incident_close(
        actor=world.user("operator"),
        incident=incident,
        what_worked="快",
        what_did_not="慢",
        action_items=[ActionItemDraft(description="补充灭火器", owner=world.user("guard"))],
    )
    item = ActionItem.objects.get()
    page = client_for("guard").get(f"/incidents/{incident.pk}/").text
    # The owner (a guard) may mark it done; opening a plan draft is for plan writers.
    assert 'data-action="revise-plan"' not in page
    assert 'data-action="item-done"' in page
    refused = client_for("guard").post(f"/incidents/action-items/{item.pk}/revise-plan/")
    assert refused.status_code == 302
    item.refresh_from_db()
    assert item.plan_version is None
    assert (
        'data-action="revise-plan"'
        in client_for("community_admin").get(f"/incidents/{incident.pk}/").text
    )
    response = client_for("community_admin").post(f"/incidents/action-items/{item.pk}/revise-plan/")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.plan_version is not None
    done = client_for("guard").post(f"/incidents/action-items/{item.pk}/done/")
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.done_at is not None
    assert (
        client_for("operator", "b").post(f"/incidents/action-items/{item.pk}/done/").status_code
        == 404
    )
    # Another item added after closing.
    added = client_for("operator").post(
        f"/incidents/{incident.pk}/action-items/",
        {"item-description": "培训新保安", "item-owner": world.user("operator").pk},
    )
    assert added.status_code == 302
    assert ActionItem.objects.filter(description="培训新保安").exists()
    missing = client_for("operator").post(
        f"/incidents/{incident.pk}/action-items/", {"item-description": "翠苑没人负责"}
    )
    assert missing.status_code == 400
    assert "翠苑没人负责" in missing.text


def test_closing_needs_a_review(world, plan, client_for):
    incident = declare(world)
    data = close_data(world, what_worked="", what_did_not="")
    response = client_for("operator").post(f"/incidents/{incident.pk}/close/", data)
    assert response.status_code == 400
    assert "Write what worked or what did not work (or both)." in response.text
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN


def test_editing_the_review(world, plan, client_for):
    incident = declare(world)
    services.incident_close(
        actor=world.user("operator"), incident=incident, what_worked="快", what_did_not=""
    )
    page = client_for("operator").get(f"/incidents/{incident.pk}/")
    assert 'data-action="review-edit"' in page.text
    assert (
        'data-action="review-edit"'
        not in client_for("guard").get(f"/incidents/{incident.pk}/").text
    )
    response = client_for("operator").post(
        f"/incidents/{incident.pk}/review/", {"what_worked": "快", "what_did_not": "对讲机没电"}
    )
    assert response.status_code == 302
    incident.review.refresh_from_db()
    assert incident.review.what_did_not == "对讲机没电"
    empty = client_for("operator").post(
        f"/incidents/{incident.pk}/review/", {"what_worked": "", "what_did_not": ""}
    )
    assert empty.status_code == 400
    assert "Write what worked" in empty.text
    assert (
        client_for("guard")
        .post(f"/incidents/{incident.pk}/review/", {"what_worked": "x", "what_did_not": ""})
        .status_code
        == 403
    )


def test_command_view_query_count_does_not_grow_with_tasks(
    world, plan, client_for, django_assert_max_num_queries
):
    alarm = make_alarm(world)
    incident = services.incident_declare_from_alarm(actor=world.user("operator"), alarm=alarm)
    client = client_for("operator")
    for number in range(12):
        services.task_add(
            actor=world.user("operator"),
            incident=incident,
            title=f"翠苑补充任务{number}",
            assignee=world.user("guard"),
        )
        services.note_add(actor=world.user("operator"), incident=incident, text=f"进展{number}")
    with django_assert_max_num_queries(45):
        assert client.get(f"/incidents/{incident.pk}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/incidents/{incident.pk}/timeline/").status_code == 200

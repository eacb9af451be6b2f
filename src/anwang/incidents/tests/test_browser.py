"""An incident from an alarm to its review in a real browser: the operator opens a smoke alarm on
the wall screen and declares the incident with one click; the command view shows the plan's
steps as tasks for the people on duty, with running timers; the guard ticks their own task on
a phone; the operator ticks the others and adds a note (the timeline refreshes by itself); the
community admin closes it with a review and an action item that opens a draft of the plan, and
the review is shown. Screenshots go to ``test-artifacts/``.

The browser and the committed world are the shared fixtures of :mod:`tests.browser_support`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from tests.browser_support import PHONE, WALL, fits_the_phone, page_as, visit

from anwang.alarms.models import Alarm
from anwang.incidents.choices import IncidentState, TaskStatus
from anwang.incidents.models import ActionItem, Incident
from anwang.incidents.tests.support import make_version, on_duty
from anwang.plans.choices import VersionStatus

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _tick(page: Any, task_id: int, *, note: str = "") -> None:
    """Tick a task in the command view and wait for htmx to swap the checklist."""
    task = page.locator(f"#task-{task_id}")
    if note:
        task.locator("input[type=text]").fill(note)
    task.locator("button[data-action=complete]").click()
    page.locator(f'#task-{task_id}[data-status="done"]').wait_for()


def test_declare_from_an_alarm_and_work_the_checklist_to_closure(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    world = live_world
    community = world.a.community
    on_duty(community, "operator", world.user("operator"), start_hour=0, hours=24)
    on_duty(community, "guard", world.user("guard"), start_hour=0, hours=24)
    on_duty(community, "on_duty_leader", world.user("community_admin"), start_hour=0, hours=24)
    version = make_version(
        community, assembly_latitude=30.5006, assembly_longitude=114.3006, assembly_note="北广场"
    )
    now = timezone.now()
    alarm = Alarm.objects.create(
        community=community,
        priority=1,
        title="1号楼烟感告警",
        group_key="browser:smoke",
        raised_at=now,
        last_fired_at=now,
        zone=world.a.zone,
    )

    # The operator, on the wall screen, declares the incident from the alarm.
    operator = page_as(chromium, live_server, world.user("operator"), WALL)
    visit(operator, f"{live_server.url}/alarms/{alarm.pk}/")
    with operator.expect_navigation():
        operator.locator("[data-action=declare-incident]").click()
    match = re.search(r"/incidents/(\d+)/$", operator.url)
    assert match, operator.url
    incident = Incident.objects.get(pk=int(match.group(1)))
    assert incident.plan_version == version
    tasks = {task.duty_role: task for task in incident.tasks.all()}
    assert set(tasks) == {"operator", "guard", "on_duty_leader"}
    assert operator.locator(".incident-task").count() == 3
    assert "1号楼烟感告警" in operator.locator("[data-testid=incident-alarms]").inner_text()
    # The timers run in the browser.
    timer = operator.locator(f"#task-{tasks['guard'].pk} [data-testid=task-timer] time")
    first = timer.inner_text()
    assert re.fullmatch(r"\d+:\d\d", first), first
    operator.wait_for_function(
        "([selector, before]) => document.querySelector(selector).textContent !== before",
        arg=[f"#task-{tasks['guard'].pk} [data-testid=task-timer] time", first],
    )
    operator.locator('#incident-map[data-loaded="true"]').wait_for()
    assert int(operator.locator("#incident-map").get_attribute("data-device-count") or 0) >= 1

    # The guard, on a phone, finds the task in 'my work' and ticks it.
    guard = page_as(chromium, live_server, world.user("guard"), PHONE)
    visit(guard, f"{live_server.url}/my-work/")
    with guard.expect_navigation():
        guard.locator(f"a[href='/incidents/{incident.pk}/']").first.click()
    assert guard.url.endswith(f"/incidents/{incident.pk}/")
    assert guard.locator("[data-testid=my-task]").count() == 1
    assert guard.locator("button[data-action=complete]").count() == 1
    assert fits_the_phone(guard)
    _tick(guard, tasks["guard"].pk, note="1号楼已疏散")
    assert guard.locator("[data-testid=done-figure]").inner_text() == "1 / 3"
    assert fits_the_phone(guard)
    _shot(guard, "incident-guard-phone.png")

    # The operator sees it in the timeline without reloading, and ticks the rest.
    operator.locator("#incident-timeline li[data-kind=task_done]").wait_for(timeout=15_000)
    assert "1号楼已疏散" in operator.locator("#incident-timeline").inner_text()
    _tick(operator, tasks["operator"].pk)
    _tick(operator, tasks["on_duty_leader"].pk, note="领导已到场")
    operator.locator("#id_text").fill("火已扑灭，等待消防确认")
    with operator.expect_navigation():
        operator.locator("form[data-action=note] button[type=submit]").click()
    assert "火已扑灭" in operator.locator("#incident-timeline").inner_text()
    assert "3 of 3 done" in operator.locator("[data-testid=task-progress]").inner_text()
    _shot(operator, "incident-command-view.png")
    assert all(task.status == TaskStatus.DONE for task in incident.tasks.all())

    # The community admin (who also writes plans) closes it with a review.
    admin = page_as(chromium, live_server, world.user("community_admin"), WALL)
    visit(admin, f"{live_server.url}/incidents/{incident.pk}/")
    with admin.expect_navigation():
        admin.locator("[data-testid=close-incident]").click()
    admin.locator("#id_what_worked").fill("三分钟内确认火情，疏散迅速")
    admin.locator("#id_what_did_not").fill("1号楼灭火器过期")
    admin.locator("#id_items-0-description").fill("更换1号楼灭火器并写入预案检查步骤")
    admin.locator("#id_items-0-owner").select_option(str(world.user("community_admin").pk))
    admin.locator("#id_items-0-revise_plan").check()
    with admin.expect_navigation():
        admin.locator("[data-testid=close-submit]").click()
    review = admin.locator("[data-testid=incident-review]")
    assert "三分钟内确认火情" in review.inner_text()
    assert "更换1号楼灭火器" in review.inner_text()
    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED
    item = ActionItem.objects.get()
    assert item.plan_version is not None
    assert item.plan_version.status == VersionStatus.DRAFT
    assert item.plan_version.change_note
    _shot(admin, "incident-review.png")

    for page in (operator, guard, admin):
        assert page.js_errors == []


def test_start_a_drill_on_a_phone(live_server: Any, chromium: Any, live_world: Any) -> None:
    world = live_world
    community = world.a.community
    on_duty(community, "guard", world.user("guard"), start_hour=0, hours=24)
    make_version(community)
    admin = page_as(chromium, live_server, world.user("community_admin"), PHONE)
    visit(admin, f"{live_server.url}/incidents/")
    assert fits_the_phone(admin)
    with admin.expect_navigation():
        admin.locator("[data-testid=start-drill]").click()
    # The participants are asked for a drill only.
    participants = admin.locator("[data-drill-only]")
    assert participants.is_visible()
    admin.locator("#id_is_drill").uncheck()
    assert not participants.is_visible()
    admin.locator("#id_is_drill").check()
    admin.locator("#id_title").fill("春季消防演练")
    admin.locator(f"input[name=participants][value='{world.user('volunteer').pk}']").check()
    admin.locator(".geometry-editor .map").click()
    assert "Point" in admin.locator("#id_point").input_value()
    assert fits_the_phone(admin)
    with admin.expect_navigation():
        admin.locator("[data-testid=declare-submit]").click()
    drill = Incident.objects.get(title="春季消防演练")
    assert drill.is_drill
    assert drill.latitude is not None
    assert admin.locator("[data-testid=drill-banner]").is_visible()
    assert "Drill" in admin.locator("h1").inner_text()
    assert admin.locator("[data-testid=incident-participants]").is_visible()
    assert fits_the_phone(admin)
    _shot(admin, "incident-drill-phone.png")
    assert admin.js_errors == []

"""Patrol run pages: the list (guards their own, overseers all with filters), starting a run,
the phone page and its plain-form fallbacks, the detail with its map, abandoning, photos, the
service worker."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.utils import timezone

from anwang.audit.models import AuditEvent
from anwang.patrols import services
from anwang.patrols.choices import RunStatus
from anwang.patrols.models import CheckIn, PatrolRun
from anwang.patrols.services import Position
from anwang.patrols.tests.conftest import make_checkpoint, make_route, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(world: Any) -> Any:
    """A route of community a through two checkpoints."""
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园", point={"type": "Point", "coordinates": [114.31, 30.51]})
    return make_route(world.a, gate, yard)


def runs_of(world: Any, route: Any, count: int, role: str = "guard") -> list[PatrolRun]:
    made = []
    for _ in range(count):
        run = services.patrol_run_start(actor=world.user(role), route=route)
        gate = route.stops.order_by("order").first().checkpoint
        services.patrol_check_in(
            actor=world.user(role),
            run=run,
            code=gate.code,
            client_id=uuid.uuid4(),
            scanned_at=timezone.now(),
            position=Position(30.5005, 114.3005, 5),
        )
        made.append(services.patrol_run_finish(actor=world.user(role), run=run))
    return made


def test_guard_sees_own_runs_overseers_see_all(
    world, route, client_for, django_assert_max_num_queries
):
    runs_of(world, route, 8)
    volunteer_runs = runs_of(world, route, 2, role="volunteer")
    guard = client_for("guard")
    with django_assert_max_num_queries(20):
        page = guard.get("/patrols/runs/")
    assert page.status_code == 200
    assert page.text.count('data-testid="run"') == 8
    assert 'data-testid="start-run"' in page.text
    volunteer = client_for("volunteer").get("/patrols/runs/")
    assert volunteer.text.count('data-testid="run"') == 2
    for role in ("community_admin", "supervisor", "operator"):
        overseer = client_for(role)
        with django_assert_max_num_queries(20):
            page = overseer.get("/patrols/runs/")
        assert page.text.count('data-testid="run"') == 10, role
    admin = client_for("community_admin")
    only_volunteer = admin.get(f"/patrols/runs/?guard={world.user('volunteer').pk}")
    assert only_volunteer.text.count('data-testid="run"') == 2
    today = timezone.localdate().isoformat()
    assert (
        admin.get(f"/patrols/runs/?day={today}&status=completed").text.count('data-testid="run"')
        == 10
    )
    assert admin.get("/patrols/runs/?status=in_progress").text.count('data-testid="run"') == 0
    assert (
        client_for("community_admin", "b").get("/patrols/runs/").text.count('data-testid="run"')
        == 0
    )
    assert client_for("resident").get("/patrols/runs/").status_code == 403
    other = client_for("guard").get(f"/patrols/runs/{volunteer_runs[0].pk}/")
    assert other.status_code == 404


def test_start_and_phone_page(world, route, client_for):
    c = client_for("guard")
    response = c.post("/patrols/runs/start/", {"route": route.pk, "order_mode": "random"})
    run = PatrolRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patrols/runs/{run.pk}/go/"
    assert run.order_mode == "random"
    page = c.get(f"/patrols/runs/{run.pk}/go/")
    assert page.status_code == 200
    data = json.loads(page.text.split('id="run-data" type="application/json">')[1].split("<")[0])
    assert {stop["name"] for stop in data["plan"]} == {"北门", "花园"}
    assert data["urls"]["sync"] == f"/api/v1/patrols/runs/{run.pk}/sync"
    assert data["plan"][0]["position"] is not None
    # Guards never see codes, not even in the phone page's data.
    for stop in route.stops.all():
        assert stop.checkpoint.code not in page.text
    # A second start goes back to the run in progress.
    again = c.post("/patrols/runs/start/", {"route": route.pk})
    assert again["Location"] == f"/patrols/runs/{run.pk}/go/"
    assert PatrolRun.objects.count() == 1
    # Only the guard of the run opens its phone page.
    assert client_for("community_admin").get(f"/patrols/runs/{run.pk}/go/").status_code == 403
    assert client_for("guard", "b").get(f"/patrols/runs/{run.pk}/go/").status_code == 404
    assert (
        client_for("guard", "b").post("/patrols/runs/start/", {"route": route.pk}).status_code
        == 404
    )


def test_plain_form_check_in_and_finish(world, route, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = client_for("guard")
    run = services.patrol_run_start(actor=world.user("guard"), route=route)
    gate = route.stops.get(order=1).checkpoint
    response = c.post(
        f"/patrols/runs/{run.pk}/check-in/",
        {"code": gate.code.lower(), "note": "门口正常", "photo": png()},
        follow=True,
    )
    assert "Checked in at 北门." in response.text
    check_in = CheckIn.objects.get()
    assert check_in.method == "typed"
    assert check_in.photo
    response = c.post(f"/patrols/runs/{run.pk}/check-in/", {"code": gate.code}, follow=True)
    assert "already checked in" in response.text
    response = c.post(f"/patrols/runs/{run.pk}/check-in/", {"code": "nonsense"}, follow=True)
    assert "This is not a checkpoint code" in response.text
    photo = c.get(f"/patrols/check-ins/{check_in.pk}/photo")
    assert photo.status_code == 200
    assert (
        client_for("community_admin").get(f"/patrols/check-ins/{check_in.pk}/photo").status_code
        == 200
    )
    assert (
        client_for("community_admin", "b")
        .get(f"/patrols/check-ins/{check_in.pk}/photo")
        .status_code
        == 404
    )
    response = c.post(f"/patrols/runs/{run.pk}/finish/", {"note": "结束"})
    assert response["Location"] == f"/patrols/runs/{run.pk}/"
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED


def test_detail_with_timeline_and_map(world, route, client_for, django_assert_max_num_queries):
    (run,) = runs_of(world, route, 1)
    services.patrol_check_in(
        actor=world.user("guard"),
        run=run,
        code="0000-0000-0000-0",
        client_id=uuid.uuid4(),
        scanned_at=run.started_at + dt.timedelta(seconds=1),
    )
    gate = route.stops.get(order=1).checkpoint
    c = client_for("operator")
    with django_assert_max_num_queries(20):
        page = c.get(f"/patrols/runs/{run.pk}/")
    assert page.status_code == 200
    assert page.text.count('data-testid="check-in"') == 2
    assert 'data-status="rejected"' in page.text
    assert "This is not a checkpoint code" in page.text
    assert gate.code not in page.text  # operators do not see codes
    assert gate.code in client_for("community_admin").get(f"/patrols/runs/{run.pk}/").text
    assert "Abandon" not in page.text
    # Times and positions are the guard's movements: looking at them is audited.
    viewed = AuditEvent.objects.filter(action="patrol_run.view", object_id=str(run.pk))
    assert {event.actor for event in viewed} == {
        world.user("operator"),
        world.user("community_admin"),
    }
    client_for("guard").get(f"/patrols/runs/{run.pk}/")
    assert viewed.count() == 2  # not for the guard's own run
    with django_assert_max_num_queries(12):
        data = c.get(f"/patrols/runs/{run.pk}/map.geojson").json()
    kinds = [feature["properties"]["kind"] for feature in data["features"]]
    assert kinds.count("checkpoint") == 2
    assert kinds.count("check_in") == 1
    assert kinds.count("guard") == 1
    assert client_for("operator", "b").get(f"/patrols/runs/{run.pk}/").status_code == 404
    assert client_for("operator", "b").get(f"/patrols/runs/{run.pk}/map.geojson").status_code == 404


def test_abandon_page(world, route, client_for):
    run = services.patrol_run_start(actor=world.user("guard"), route=route)
    assert client_for("operator").get(f"/patrols/runs/{run.pk}/abandon/").status_code == 403
    c = client_for("community_admin")
    assert c.get(f"/patrols/runs/{run.pk}/abandon/").status_code == 200
    empty = c.post(f"/patrols/runs/{run.pk}/abandon/", {"reason": ""})
    assert empty.status_code == 400
    assert "This field is required." in empty.text
    done = c.post(f"/patrols/runs/{run.pk}/abandon/", {"reason": "生病"})
    assert done.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    assert run.abandon_reason == "生病"


def test_service_worker_is_served_for_the_patrol_pages(client):
    response = client.get("/patrols/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/patrols/"
    assert "no-cache" in response["Cache-Control"]
    assert "/static/patrols/run.js" in response.text
    assert "&quot;" not in response.text


def test_run_in_progress_is_in_the_guards_inbox(world, route):
    from anwang.accounts.selectors import scope_for
    from anwang.core.inbox import my_work

    run = services.patrol_run_start(actor=world.user("guard"), route=route)
    items = [
        item for item in my_work(scope_for(world.user("guard"))) if item.source == "patrol_runs"
    ]
    assert [item.url for item in items] == [f"/patrols/runs/{run.pk}/go/"]
    assert not [
        item
        for item in my_work(scope_for(world.user("community_admin")))
        if item.source == "patrol_runs"
    ]

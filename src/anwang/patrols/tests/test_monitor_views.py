"""The live patrol board and the completion reports: pages, API, exports, who sees what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from anwang.patrols import services
from anwang.patrols.choices import CheckInMethod, CheckInStatus, RunStatus
from anwang.patrols.models import CheckIn, PatrolRun
from anwang.patrols.tests.conftest import make_checkpoint, make_route

pytestmark = pytest.mark.django_db

API = "/api/v1/patrols"


def run_of(world: Any, side: str = "a", *, hours_ago: float = 0, role: str = "guard") -> PatrolRun:
    """A run of ``side``'s ``role`` on a new route of two checkpoints, started ``hours_ago``."""
    area = getattr(world, side)
    tag = uuid.uuid4().hex[:6]
    gate = make_checkpoint(area, f"北门{tag}")
    yard = make_checkpoint(
        area, f"花园{tag}", point={"type": "Point", "coordinates": [114.31, 30.51]}
    )
    route = make_route(area, gate, yard, name=f"夜巡{tag}")
    run = services.patrol_run_start(actor=world.user(role, side), route=route)
    started = timezone.now() - dt.timedelta(hours=hours_ago)
    PatrolRun.objects.filter(pk=run.pk).update(started_at=started)
    run.refresh_from_db()
    return run


def accept(run: PatrolRun, index: int, *, far: bool = False) -> None:
    """An accepted check-in at stop ``index`` of the run, a minute after its start."""
    at = run.started_at + dt.timedelta(minutes=1 + index)
    CheckIn.objects.create(
        run=run,
        checkpoint_id=run.plan[index]["checkpoint"],
        method=CheckInMethod.QR,
        code="x",
        client_id=uuid.uuid4(),
        scanned_at=at,
        received_at=at,
        skew_seconds=0,
        far=far,
        status=CheckInStatus.ACCEPTED,
    )


def test_board_shows_runs_in_progress_with_missed_in_red(
    world: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    fresh = run_of(world)
    late = run_of(world, role="volunteer", hours_ago=2)
    other = run_of(world, "b")
    for role in ("operator", "supervisor", "community_admin"):
        client = client_for(role)
        client.get("/patrols/board/")
        with django_assert_max_num_queries(12):
            page = client.get("/patrols/board/")
        assert page.status_code == 200, role
        assert page.text.count('data-testid="board-run"') == 2
    page = client_for("operator").get("/patrols/board/")
    assert f'data-run-id="{fresh.pk}"' in page.text
    assert f'data-run-id="{other.pk}"' not in page.text
    # The late run comes first, with both stops missed and overdue.
    assert page.text.index(f'data-run-id="{late.pk}"') < page.text.index(
        f'data-run-id="{fresh.pk}"'
    )
    assert page.text.count('data-testid="missed"') == 2
    assert "monitor-trouble" in page.text
    assert "data-due=" in page.text
    partial = client_for("operator").get("/patrols/board/?partial=1")
    assert "<html" not in partial.text
    assert partial.text.count('data-testid="board-run"') == 2


def test_board_query_count_does_not_grow_with_runs(
    world: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for role in ("guard", "volunteer"):
        run_of(world, role=role, hours_ago=1)
    client = client_for("community_admin")
    client.get("/patrols/board/")
    with django_assert_max_num_queries(12):
        page = client.get("/patrols/board/")
    assert page.text.count('data-testid="board-run"') == 2


def test_guards_and_residents_may_not_see_the_board(world: Any, client_for: Any) -> None:
    for role in ("guard", "resident"):
        assert client_for(role).get("/patrols/board/").status_code == 403
        assert client_for(role).get("/patrols/reports/").status_code == 403


def test_board_api(world: Any, client_for: Any, django_assert_max_num_queries: Any) -> None:
    run = run_of(world, hours_ago=2)
    accept(run, 0)
    run_of(world, "b")
    client = client_for("operator")
    client.get(f"{API}/board")
    with django_assert_max_num_queries(10):
        answer = client.get(f"{API}/board")
    assert answer.status_code == 200
    (row,) = answer.json()["runs"]
    assert row["id"] == run.pk
    assert (row["done"], row["planned"]) == (1, 2)
    assert row["missed"] == [run.plan[1]["name"]]
    assert row["overdue"] is True
    assert row["next_checkpoint"] is None
    assert client_for("guard").get(f"{API}/board").status_code == 403
    other = client.get(f"{API}/board?community_id={world.b.community.pk}")
    assert other.json()["runs"] == []


def finished(world: Any, side: str = "a", done: int = 1, far: bool = False) -> PatrolRun:
    """A completed run of ``side`` with ``done`` of its two stops checked in."""
    run = run_of(world, side, hours_ago=3)
    for index in range(done):
        accept(run, index, far=far)
    PatrolRun.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED, finished_at=run.started_at + dt.timedelta(minutes=30)
    )
    run.refresh_from_db()
    return run


def test_report_page_and_api(
    world: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    half = finished(world, done=1, far=True)
    finished(world, done=2)
    finished(world, "b", done=0)
    client = client_for("supervisor")
    client.get("/patrols/reports/")
    with django_assert_max_num_queries(12):
        page = client.get("/patrols/reports/")
    assert page.status_code == 200
    assert page.text.count('data-testid="missed-row"') == 1
    assert half.plan[1]["name"] in page.text
    with django_assert_max_num_queries(10):
        answer = client.get(f"{API}/reports")
    body = answer.json()
    assert body["total"]["planned"] == 4
    assert body["total"]["done"] == 3
    assert body["total"]["rate"] == pytest.approx(0.75)
    assert body["total"]["far"] == 1
    assert body["total"]["missed"] == 1
    assert len(body["routes"]) == 2
    assert len(body["guards"]) == 1
    assert len(body["weeks"]) >= 1
    assert [m["run_id"] for m in body["missed"]] == [half.pk]
    other = client.get(f"{API}/reports?community_id={world.b.community.pk}").json()
    assert other["total"]["runs"] == 0


def test_report_bad_dates_are_refused(world: Any, client_for: Any) -> None:
    client = client_for("supervisor")
    answer = client.get(f"{API}/reports?start=2026-03-10&end=2026-03-01")
    assert answer.status_code == 400
    assert "start" in answer.text
    page = client.get("/patrols/reports/?start=2026-03-10&end=2026-03-01")
    assert page.status_code == 200
    assert "The start must not be after the end." in page.text
    page = client.get("/patrols/reports/?start=nonsense")
    assert "Enter a valid date" in page.text


def test_exports(world: Any, client_for: Any) -> None:
    run = finished(world, done=1)
    client = client_for("supervisor")
    answer = client.get("/patrols/reports/?export=csv")
    assert answer["Content-Type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Grouped by"
    assert ["Route", run.route_name, "1", "2", "1", "50.0", "0", "1"] in rows
    missed = client.get(f"{API}/reports/export?format=csv&table=missed")
    missed_rows = list(csv.reader(io.StringIO(missed.content.decode("utf-8-sig"))))
    assert missed_rows[1][4] == run.plan[1]["name"]
    book = client.get(f"{API}/reports/export?format=xlsx")
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][1] == "Name"
    assert any(row[1] == run.route_name for row in values)
    page_book = client.get("/patrols/reports/?export=xlsx&table=missed")
    assert page_book["Content-Disposition"].endswith('.xlsx"')


def test_board_and_report_queries_do_not_grow_with_the_runs(world: Any, client_for: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        client = client_for("supervisor")
        client.get(url)  # sessions and caches warmed
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    from conftest import make_user

    from anwang.accounts.choices import Role
    from anwang.accounts.models import Membership

    def another_guard(number: int) -> str:
        user = make_user(f"a_guard_{number}")
        Membership.objects.create(user=user, role=Role.GUARD, community=world.a.community)
        world.a.users[f"guard_{number}"] = user
        return f"guard_{number}"

    finished(world, done=1)
    run_of(world, role=another_guard(99))
    urls = ["/patrols/board/", "/patrols/reports/", f"{API}/board", f"{API}/reports"]
    few = [queries(url) for url in urls]
    for number in range(4):
        finished(world, done=1, far=True)
        run_of(world, hours_ago=1, role=another_guard(number))
    assert [queries(url) for url in urls] == few


def test_a_report_of_one_community_keeps_it_in_its_downloads(world: Any, client_for: Any) -> None:
    finished(world, done=1)
    community = world.a.community.pk
    page = client_for("supervisor").get(f"/patrols/reports/?community={community}")
    assert page.text.count(f"community={community}&amp;export=") == 4
    assert f'name="community" value="{community}"' in page.text
    plain = client_for("supervisor").get("/patrols/reports/")
    assert (
        "community="
        not in plain.text.split('data-testid="report-summary"')[0].split(
            'data-testid="report-filter"'
        )[1]
    )


def test_the_patrol_links_lead_only_where_the_visitor_may_go(world: Any, client_for: Any) -> None:
    expected = {
        "guard": {"board": False, "schedules": False, "my-shifts": True},
        "operator": {"board": True, "schedules": False, "my-shifts": False},
        "community_admin": {"board": True, "schedules": True, "my-shifts": False},
    }
    for role, links in expected.items():
        page = client_for(role).get("/patrols/runs/")
        assert page.status_code == 200
        subnav = page.text.split('class="subnav"', 1)[1].split("</nav>", 1)[0]
        for name, shown in links.items():
            assert (f'href="/patrols/{name}/"' in subnav) is shown, (role, name)
        for name, shown in links.items():
            if shown:
                assert client_for(role).get(f"/patrols/{name}/").status_code == 200, (role, name)


def test_the_board_names_the_community_when_it_shows_several(world: Any, client_for: Any) -> None:
    from django.test import Client

    run_of(world)
    run_of(world, "b")
    one = client_for("operator").get("/patrols/board/")
    assert 'data-testid="board-community"' not in one.text
    platform = Client()
    platform.force_login(world.platform_admin)
    platform.cookies["anwang_language"] = "en"
    both = platform.get("/patrols/board/?partial=1")
    assert both.text.count('data-testid="board-community"') == 2
    assert world.a.community.name in both.text
    assert world.b.community.name in both.text

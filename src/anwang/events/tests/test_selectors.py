"""Pipeline health as the web app sees it: running, silent, stopped, disconnected, behind."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from anwang.accounts.selectors import scope_for
from anwang.events.selectors import pipeline_health
from anwang.events.services import worker_status_report

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def report(name: str, *, seconds_ago: float = 1, **values: Any) -> None:
    defaults: dict[str, Any] = {
        "mode": "mqtt",
        "broker": "mqtt://127.0.0.1:1883",
        "connected": True,
        "started_at": NOW - dt.timedelta(hours=1),
        "reported_at": NOW - dt.timedelta(seconds=seconds_ago),
    }
    worker_status_report(name=name, values=defaults | values)


def health(world: Any) -> Any:
    return pipeline_health(scope_for(world.user("operator")), now=NOW)


def test_no_worker_is_a_problem(world: Any) -> None:
    result = health(world)
    assert not result.ok
    assert result.problems[0].startswith("No event worker is running")


def test_a_running_connected_worker_is_healthy(world: Any) -> None:
    report("anwang-worker")
    result = health(world)
    assert result.ok
    assert [w.state for w in result.workers] == ["running"]


def test_a_worker_that_stopped_reporting_is_silent(world: Any) -> None:
    report("anwang-worker", seconds_ago=60)
    result = health(world)
    assert [w.state for w in result.workers] == ["silent"]
    assert any("has not reported for" in problem for problem in result.problems)
    assert result.problems[0].startswith("No event worker is running")


def test_a_stopped_worker_beside_a_running_one_is_no_problem(world: Any) -> None:
    report("old", stopped_at=NOW - dt.timedelta(minutes=5), seconds_ago=300)
    report("anwang-worker")
    result = health(world)
    assert result.ok
    assert [w.state for w in result.workers] == ["running", "stopped"]


def test_disconnected_and_lagging_workers_are_problems(world: Any) -> None:
    report("anwang-worker", connected=False, lag_seconds=30, pending=12000)
    problems = health(world).problems
    assert len(problems) == 2
    assert "not connected to the MQTT broker" in problems[0]
    assert "30 s behind, with 12000 messages waiting" in problems[1]


def test_a_local_worker_needs_no_broker(world: Any) -> None:
    report("anwang-demo", mode="local", broker="", connected=False)
    assert health(world).ok


def test_only_people_who_may_see_devices_see_it(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        pipeline_health(scope_for(world.user("resident")))

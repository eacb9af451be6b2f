"""Patrol-hour points: a volunteer's finished run earns them once; staff guards earn none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from anwang.participation.models import PointEntry
from anwang.patrols import services
from anwang.patrols.tests.conftest import make_checkpoint, make_route


def test_a_volunteers_finished_run_earns_patrol_hour_points_once(world: Any) -> None:
    route = make_route(world.a, make_checkpoint(world.a))
    volunteer = world.user("volunteer")
    run = services.patrol_run_start(actor=volunteer, route=route)
    run.started_at = timezone.now() - dt.timedelta(minutes=90)
    run.save(update_fields=["started_at"])
    finished = services.patrol_run_finish(actor=volunteer, run=run)
    [entry] = PointEntry.objects.filter(source_kind="patrol_hour")
    assert (entry.user, entry.source_key) == (volunteer, f"patrol_run:{run.pk}")
    assert Decimal("1.49") <= entry.quantity <= Decimal("1.51")
    assert entry.points > 0
    assert entry.occurred_at == finished.finished_at


def test_staff_guards_and_abandoned_runs_earn_nothing(world: Any) -> None:
    route = make_route(world.a, make_checkpoint(world.a))
    guard_run = services.patrol_run_start(actor=world.user("guard"), route=route)
    services.patrol_run_finish(actor=world.user("guard"), run=guard_run)
    volunteer_run = services.patrol_run_start(actor=world.user("volunteer"), route=route)
    services.patrol_run_abandon(
        actor=world.user("community_admin"), run=volunteer_run, reason="手机没电"
    )
    assert not PointEntry.objects.filter(source_kind="patrol_hour").exists()

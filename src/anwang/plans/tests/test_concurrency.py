"""Two approvals of one draft at the same moment, in two database connections: the plan row
lock makes the second wait and then refuse, so exactly one wins (PostgreSQL only: SQLite
serialises writers for the whole database anyway)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from anwang.core.errors import ConflictError
from anwang.plans import services
from anwang.plans.models import PlanVersion
from anwang.plans.tests.conftest import fire_plan

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks"),
]


def test_two_simultaneous_approvals_cannot_both_win(world: Any) -> None:
    plan, v1 = fire_plan(world)
    draft = services.plan_revision_draft(actor=None, version=v1, change_note="")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve() -> None:
        try:
            stale = PlanVersion.objects.select_related("plan").get(pk=draft.pk)
            barrier.wait(timeout=10)
            services.plan_version_approve(actor=None, version=stale)
            outcomes.append("approved")
        except ConflictError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["approved", "refused"]
    statuses = sorted(plan.versions.values_list("number", "status"))
    assert statuses == [(1, "superseded"), (2, "approved")]

"""Reads: the due list (mine / all, assignees, checkpoint), records, statistics, dashboard
figures and 'my work'."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from anwang.accounts.selectors import scope_for
from anwang.core.dashboard import dashboard_stats
from anwang.core.inbox import my_work
from anwang.inspections import selectors, services
from anwang.inspections.choices import DueStatus
from anwang.inspections.tests.support import Setup, asset, inspect
from anwang.patrols.models import Checkpoint

pytestmark = pytest.mark.django_db


def _codes(entries: list[selectors.DueEntry]) -> list[str]:
    return [entry.asset.code for entry in entries]


def test_due_list_lists_uninspected_assets_of_the_plan(setup: Setup) -> None:
    scope = scope_for(setup.world.user("guard"))
    assert _codes(selectors.inspections_due(scope, mine=True)) == ["MHQ-1", "MHQ-2"]
    inspect(setup)
    assert _codes(selectors.inspections_due(scope, mine=True)) == ["MHQ-2"]


def test_overdue_after_a_missed_period_with_a_later_clock(setup: Setup) -> None:
    scope = scope_for(setup.world.user("guard"))
    inspect(setup)
    later = timezone.now() + dt.timedelta(days=70)  # two monthly periods on
    entries = selectors.inspections_due(scope, mine=True, now=later)
    assert _codes(entries) == ["MHQ-1", "MHQ-2"]
    assert all(entry.state.status == DueStatus.OVERDUE for entry in entries)
    soon = timezone.now() + dt.timedelta(days=35)
    statuses = {e.asset.code: e.state.status for e in selectors.inspections_due(scope, now=soon)}
    assert statuses == {"MHQ-1": DueStatus.DUE, "MHQ-2": DueStatus.DUE}


def test_retired_assets_and_other_types_are_left_out(setup: Setup) -> None:
    setup.ext2.status = "retired"
    setup.ext2.save()
    scope = scope_for(setup.world.user("guard"))
    assert _codes(selectors.inspections_due(scope)) == ["MHQ-1"]


def test_a_plan_narrowed_to_a_building_or_chosen_assets(setup: Setup) -> None:
    admin = setup.world.user("community_admin")
    data = services.PlanInput(
        name=setup.plan.name,
        checklist=setup.plan.checklist,
        first_start=setup.plan.first_start,
        building=setup.world.a.building,
    )
    services.plan_update(actor=admin, plan=setup.plan, data=data)
    scope = scope_for(setup.world.user("guard"))
    assert _codes(selectors.inspections_due(scope)) == ["MHQ-1"]
    chosen = services.PlanInput(
        name=setup.plan.name,
        checklist=setup.plan.checklist,
        first_start=setup.plan.first_start,
        assets=[setup.ext2],
    )
    services.plan_update(actor=admin, plan=setup.plan, data=chosen)
    assert _codes(selectors.inspections_due(scope)) == ["MHQ-2"]


def test_assigned_plans_are_mine_only_for_the_assignees(setup: Setup) -> None:
    services.plan_update(
        actor=setup.world.user("community_admin"),
        plan=setup.plan,
        data=services.PlanInput(
            name=setup.plan.name,
            checklist=setup.plan.checklist,
            first_start=setup.plan.first_start,
            assignees=[setup.world.user("grid_worker")],
        ),
    )
    guard = scope_for(setup.world.user("guard"))
    grid = scope_for(setup.world.user("grid_worker"))
    assert selectors.inspections_due(guard, mine=True) == []
    assert _codes(selectors.inspections_due(grid, mine=True)) == ["MHQ-1", "MHQ-2"]
    # The guard still sees them in the community's list.
    assert _codes(selectors.inspections_due(guard, mine=False)) == ["MHQ-1", "MHQ-2"]


def test_other_communities_and_outsiders_see_nothing(setup: Setup) -> None:
    assert selectors.inspections_due(scope_for(setup.world.user("guard", "b"))) == []
    assert selectors.inspections_due(scope_for(setup.world.user("resident"))) == []
    assert selectors.inspections_due(scope_for(setup.world.user("volunteer")), mine=True) == []


def test_due_at_a_checkpoint(setup: Setup) -> None:
    checkpoint = Checkpoint.objects.create(
        community=setup.community,
        name="东门",
        placement="zone",
        zone=setup.world.a.zone,
        code_salt="s",
    )
    scope = scope_for(setup.world.user("guard"))
    assert selectors.inspections_due_at_checkpoint(scope, checkpoint.pk) == []
    services.plan_update(
        actor=setup.world.user("community_admin"),
        plan=setup.plan,
        data=services.PlanInput(
            name=setup.plan.name,
            checklist=setup.plan.checklist,
            first_start=setup.plan.first_start,
            checkpoint=checkpoint,
        ),
    )
    assert _codes(selectors.inspections_due_at_checkpoint(scope, checkpoint.pk)) == [
        "MHQ-1",
        "MHQ-2",
    ]
    assert selectors.checkpoints_with_inspections(scope, setup.community.pk) == [checkpoint.pk]
    volunteer = scope_for(setup.world.user("volunteer"))
    assert selectors.checkpoints_with_inspections(volunteer, setup.community.pk) == []
    assert (
        selectors.at_checkpoint_url(checkpoint.pk) == f"/inspections/checkpoints/{checkpoint.pk}/"
    )


def test_records_are_seen_by_viewers_and_the_inspector_only(setup: Setup) -> None:
    record = inspect(setup, fail=1)
    assert selectors.inspection_get(scope_for(setup.world.user("operator")), record.pk)
    assert selectors.inspection_get(scope_for(setup.world.user("guard")), record.pk)
    for user in (setup.world.user("resident"), setup.world.user("guard", "b")):
        with pytest.raises(Http404):
            selectors.inspection_get(scope_for(user), record.pk)
    history = selectors.inspection_list(
        scope_for(setup.world.user("operator")), asset_id=setup.ext1.pk
    )
    assert list(history) == [record]


def test_statistics(setup: Setup) -> None:
    inspect(setup, fail=1)
    per_plan, per_item = selectors.inspection_statistics(
        scope_for(setup.world.user("community_admin")),
        setup.community,
        since=timezone.now() - dt.timedelta(days=1),
    )
    (figures,) = per_plan
    assert (figures.assets, figures.done, figures.rate) == (2, 1, 50)
    assert [(row.failures, row.checked) for row in per_item] == [(1, 1)]


def test_dashboard_and_my_work(setup: Setup) -> None:
    admin = scope_for(setup.world.user("community_admin"))
    stats = {s.key: s.value for s in dashboard_stats(admin, setup.community)}
    assert stats["inspections_due"] == 2
    assert stats["inspections_overdue"] == 0
    guard = scope_for(setup.world.user("guard"))
    work = [item for item in my_work(guard) if item.source == "inspections"]
    assert len(work) == 2
    assert work[0].url.startswith("/inspections/start/?asset=")
    assert [
        i for i in my_work(scope_for(setup.world.user("resident"))) if i.source == "inspections"
    ] == []


def test_due_list_query_count_does_not_grow_with_assets(
    setup: Setup, django_assert_max_num_queries: Any
) -> None:
    for n in range(10):
        asset(setup.community, f"X-{n}")
    scope = scope_for(setup.world.user("guard"))
    with django_assert_max_num_queries(8):
        assert len(selectors.inspections_due(scope, mine=True)) == 12

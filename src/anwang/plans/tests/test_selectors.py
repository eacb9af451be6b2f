"""Reads of emergency plans: scoping, the version in force, the gap list, dashboard figures,
map features and the comparison with the version a draft was based on."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.plans import selectors, services
from anwang.plans.selectors import REQUIRED_TYPES
from anwang.plans.services import StepInput
from anwang.plans.tests.conftest import FIRE_STEPS

pytestmark = pytest.mark.django_db


def test_plans_are_scoped_to_readers(world: Any, fire: Any) -> None:
    plan, version = fire
    for role in ("operator", "guard", "grid_worker", "supervisor", "community_admin"):
        scope = scope_for(world.user(role))
        assert selectors.plan_get(scope, plan.pk) == plan
        assert selectors.version_get(scope, version.pk) == version
        assert list(selectors.plans_visible(scope, world.a.community.pk)) == [plan]
    for user in (
        world.user("resident"),
        world.user("volunteer"),
        world.user("community_admin", "b"),
    ):
        scope = scope_for(user)
        with pytest.raises(Http404):
            selectors.plan_get(scope, plan.pk)
        with pytest.raises(Http404):
            selectors.version_get(scope, version.pk)
        with pytest.raises(Http404):
            selectors.plans_visible(scope, world.a.community.pk)
    assert selectors.plan_get(scope_for(world.platform_admin), plan.pk) == plan


def test_approved_version_is_the_one_in_force_with_steps(
    world: Any, fire: Any, django_assert_num_queries: Any
) -> None:
    _plan, v1 = fire
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="")
    with django_assert_num_queries(2):
        found = selectors.approved_version(world.a.community.pk, "fire")
        assert found is not None
        assert [step.title for step in found.steps.all()] == [s.title for s in FIRE_STEPS]
    assert found == v1
    services.plan_version_approve(actor=None, version=v2)
    assert selectors.approved_version(world.a.community.pk, "fire") == v2
    assert selectors.approved_version(world.a.community.pk, "gas_leak") is None
    assert selectors.approved_version(world.b.community.pk, "fire") is None


def test_gap_list_and_rows(world: Any, fire: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(selectors, "plan_last_drill", lambda plan: None)
    services.plan_create(
        actor=None, community=world.a.community, incident_type="medical", title="急救"
    )
    missing = selectors.missing_incident_types(world.a.community.pk)
    assert "fire" not in missing
    assert "medical" in missing
    assert len(missing) == len(REQUIRED_TYPES) - 1
    assert "other" not in missing
    rows = {row.incident_type: row for row in selectors.plan_rows(world.a.community.pk)}
    assert rows["fire"].approved is not None
    assert not rows["fire"].is_gap
    assert rows["medical"].draft is not None
    assert rows["medical"].is_gap
    assert rows["epidemic"].plan is None
    assert rows["epidemic"].is_gap
    assert "other" not in rows


def test_plan_rows_query_count(
    world: Any, fire: Any, django_assert_max_num_queries: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(selectors, "plan_last_drill", lambda plan: None)
    for incident_type in ("medical", "crowd", "epidemic"):
        services.plan_create(
            actor=None,
            community=world.a.community,
            incident_type=incident_type,
            title=incident_type,
        )
    with django_assert_max_num_queries(2):
        selectors.plan_rows(world.a.community.pk)


def test_dashboard_figure(world: Any, fire: Any) -> None:
    stats = selectors.plan_stats(scope_for(world.user("operator")), world.a.community)
    assert [(stat.key, stat.value, stat.tone) for stat in stats] == [
        ("plans_missing", len(REQUIRED_TYPES) - 1, "warn")
    ]
    assert selectors.plan_stats(scope_for(world.user("resident")), world.a.community) == []
    everywhere = selectors.plan_stats(scope_for(world.platform_admin), None)
    assert everywhere[0].value == 2 * len(REQUIRED_TYPES) - 1


def test_map_features(world: Any, fire: Any) -> None:
    _plan, version = fire
    zones = selectors.version_zone_features(version)
    assert [feature["properties"]["name"] for feature in zones["features"]] == ["北门"]
    assert zones["features"][0]["properties"]["is_key_area"] is True
    point = selectors.version_assembly_features(version)["features"][0]
    assert point["geometry"]["coordinates"] == [114.3005, 30.5005]
    assert point["properties"]["name"] == "中心广场"


def test_comparison_marks_changed_lines(world: Any, fire: Any) -> None:
    _plan, v1 = fire
    assert selectors.version_comparison(v1) is None
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="")
    services.plan_version_update(
        actor=None,
        version=v2,
        steps=[FIRE_STEPS[0], StepInput(title="关闭燃气总阀", duty_role="guard", target_minutes=5)],
        evacuation_zone_ids=[],
    )
    comparison = selectors.version_comparison(
        selectors.version_get(scope_for(world.user("operator")), v2.pk)
    )
    assert comparison is not None
    sections = dict(comparison.sections)
    steps = sections["Steps"]
    assert [line.changed for line in steps] == [False, True, True]
    assert "关闭燃气总阀" in steps[1].after
    assert steps[2].after == ""
    assert [line.changed for line in sections["Zones to evacuate"]] == [True]
    assert comparison.change_count == 3

"""Rules as YAML: export and import round trip, all-or-nothing import, errors by rule and field."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from anwang.accounts.selectors import scope_for
from anwang.core.tables import ImportRejectedError
from anwang.rules import services
from anwang.rules.models import Rule
from anwang.rules.selectors import rules_export_yaml

pytestmark = pytest.mark.django_db

COMPARED = (
    "name",
    "description",
    "kind",
    "condition",
    "params",
    "priority",
    "title_template",
    "group_by",
    "cooldown_seconds",
    "schedule",
    "enabled",
    "builtin",
)


def rules_of(community: Any) -> list[dict[str, Any]]:
    return [
        {name: getattr(rule, name) for name in COMPARED}
        for rule in Rule.objects.filter(community=community).order_by("name")
    ]


def seed(world: Any) -> None:
    services.rules_install_builtin(community=world.a.community)
    services.rule_create(
        actor=None,
        community=world.a.community,
        name="夜间单元门 开启",
        description="晚上十点后单元门打开",
        kind="sequence",
        condition={"field": "kind", "op": "eq", "value": "access"},
        params={
            "then": {"field": "kind", "op": "eq", "value": "motion"},
            "within_seconds": 60,
        },
        priority=2,
        title_template="{rule}: {device} ({count})",
        group_by="zone",
        cooldown_seconds=0,
        schedule={"windows": [{"start": "22:00", "end": "06:00"}], "days": [0, 1, 2]},
        enabled=False,
    )


def test_export_then_import_into_another_community_gives_equal_rules(world):
    seed(world)
    admin = world.user("community_admin")
    text = rules_export_yaml(scope_for(admin), world.a.community)
    assert "夜间单元门 开启" in text  # Chinese stays readable
    assert yaml.safe_load(text)["version"] == 1
    admin_b = world.user("community_admin", "b")
    imported = services.rules_import_yaml(actor=admin_b, community=world.b.community, text=text)
    assert len(imported) == Rule.objects.filter(community=world.a.community).count()
    assert rules_of(world.b.community) == rules_of(world.a.community)
    # Importing the same file again updates in place: nothing is added.
    services.rules_import_yaml(actor=admin_b, community=world.b.community, text=text)
    assert rules_of(world.b.community) == rules_of(world.a.community)


def test_import_matches_built_ins_by_code_and_others_by_name(world):
    services.rules_install_builtin(community=world.b.community)
    smoke = Rule.objects.get(community=world.b.community, builtin="smoke")
    text = yaml.safe_dump(
        {
            "rules": [
                {
                    "name": "Smoke, renamed",
                    "builtin": "smoke",
                    "kind": "immediate",
                    "priority": 2,
                    "title": "Smoke at {device}",
                    "condition": {"field": "kind", "op": "eq", "value": "smoke"},
                }
            ]
        }
    )
    services.rules_import_yaml(actor=None, community=world.b.community, text=text, replace=True)
    smoke.refresh_from_db()
    assert (smoke.name, smoke.priority, smoke.enabled) == ("Smoke, renamed", 2, True)
    others = Rule.objects.filter(community=world.b.community).exclude(pk=smoke.pk)
    # Built-in rules missing from the file are disabled, never deleted.
    assert others.count() > 0
    assert not others.filter(enabled=True).exists()


def test_malformed_yaml_is_rejected_with_its_position(world):
    with pytest.raises(ImportRejectedError) as rejected:
        services.rules_import_yaml(
            actor=None, community=world.a.community, text="rules:\n  - name: [unclosed\n"
        )
    (error,) = rejected.value.errors
    assert (error.row, error.column) == (0, "file")
    assert "line" in error.message
    assert Rule.objects.count() == 0


def test_every_invalid_rule_is_reported_and_nothing_is_saved(world):
    text = yaml.safe_dump(
        {
            "version": 1,
            "rules": [
                {
                    "name": "good",
                    "kind": "immediate",
                    "priority": 1,
                    "title": "Smoke at {device}",
                },
                {
                    "name": "bad",
                    "kind": "count",
                    "priority": 7,
                    "title": "At {floor}",
                    "params": {"count": 5},
                    "colour": "red",
                },
                {"name": "good", "kind": "immediate", "priority": 1, "title": "x"},
                {
                    "name": "code",
                    "builtin": "nope",
                    "kind": "immediate",
                    "priority": 1,
                    "title": "x",
                },
                "not a rule",
            ],
        }
    )
    with pytest.raises(ImportRejectedError) as rejected:
        services.rules_import_yaml(actor=None, community=world.a.community, text=text)
    found = {(error.row, error.column) for error in rejected.value.errors}
    assert found == {
        (2, "priority"),
        (2, "title"),
        (2, "params"),
        (2, "colour"),
        (3, "name"),
        (4, "builtin"),
        (5, "rule"),
    }
    assert Rule.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "list of rules"),
        ("version: 2\nrules: []\n", "version"),
        ("rules: []\n", "no rules"),
        ("rules: [{}]\nextra: 1\n", "extra"),
        ("!!python/object:os.system {}\n", "not valid YAML"),
    ],
)
def test_files_that_are_not_rule_lists_are_refused(world, text, needle):
    with pytest.raises(ImportRejectedError) as rejected:
        services.rules_import_yaml(actor=None, community=world.a.community, text=text)
    assert needle in rejected.value.errors[0].message


def test_import_needs_the_permission(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.rules_import_yaml(
            actor=world.user("operator"), community=world.a.community, text="rules: []"
        )

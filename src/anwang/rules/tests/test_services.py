"""The rules services: validation by field, audit, permissions, the built-in pack and the
preview."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError
from anwang.devices.models import Device
from anwang.events.models import DeviceEvent
from anwang.rules import services
from anwang.rules.models import Rule
from anwang.rules.preview import preview_rule

pytestmark = pytest.mark.django_db

SMOKE = {
    "all": [
        {"field": "kind", "op": "eq", "value": "smoke"},
        {"field": "value", "op": "eq", "value": True},
    ]
}


def values(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Smoke in the stairwell",
        "kind": "immediate",
        "condition": SMOKE,
        "priority": 1,
        "title_template": "Smoke at {device}",
    }
    return base | changes


def create(world: Any, side: str = "a", actor: Any = None, **changes: Any) -> Rule:
    community = getattr(world, side).community
    return services.rule_create(actor=actor, community=community, **values(**changes))


def problems_of(error: pytest.ExceptionInfo[services.RuleInvalidError]) -> dict[str, str]:
    return {problem.field: problem.message for problem in error.value.problems}


def test_create_stores_the_rule_and_audits_it(world):
    admin = world.user("community_admin")
    rule = create(world, actor=admin, schedule={"windows": [{"start": "22:00", "end": "06:00"}]})
    assert rule.pk
    assert rule.community == world.a.community
    assert rule.condition == SMOKE
    assert rule.schedule["windows"][0]["start"] == "22:00"
    entry = AuditEvent.objects.get(action="rule.create")
    assert entry.actor_id == admin.pk
    assert entry.community_id == world.a.community.pk
    assert entry.changes["name"] == [None, "Smoke in the stairwell"]


def test_every_bad_value_is_reported_on_its_field(world):
    with pytest.raises(services.RuleInvalidError) as error:
        create(
            world,
            name="",
            priority=5,
            cooldown_seconds=-1,
            title_template="Smoke on {floor}",
        )
    found = problems_of(error)
    assert set(found) == {"name", "priority", "cooldown_seconds", "title_template"}
    assert found["name"] == "This field is required."
    assert found["priority"] == "Enter a whole number from 1 to 4."
    assert "Unknown placeholder {floor}" in found["title_template"]
    assert Rule.objects.count() == 0


def test_engine_problems_land_on_condition_params_and_schedule(world):
    with pytest.raises(services.RuleInvalidError) as error:
        create(
            world,
            kind="count",
            condition={"all": [{"field": "kind", "op": "like", "value": "smoke"}]},
            params={"count": 1},
            schedule={"windows": [{"start": "25:00", "end": "06:00"}]},
        )
    fields = {problem.field for problem in error.value.problems}
    assert fields == {"condition", "params", "schedule"}
    condition = next(p for p in error.value.problems if p.field == "condition")
    assert condition.path.startswith("all.0")
    assert condition.message.startswith(condition.path + ":")


def test_unbalanced_braces_in_the_title_are_refused(world):
    with pytest.raises(services.RuleInvalidError) as error:
        create(world, title_template="Smoke at {device")
    assert "Braces must come in pairs" in problems_of(error)["title_template"]


def test_names_are_unique_per_community(world):
    create(world)
    with pytest.raises(services.RuleInvalidError) as error:
        create(world)
    assert problems_of(error) == {"name": "Another rule of this community already has this name."}
    assert create(world, side="b").pk


def test_update_checks_the_whole_rule_and_audits_the_difference(world):
    rule = create(world)
    admin = world.user("community_admin")
    services.rule_update(actor=admin, rule=rule, priority=2, cooldown_seconds=60)
    rule.refresh_from_db()
    assert (rule.priority, rule.cooldown_seconds) == (2, 60)
    entry = AuditEvent.objects.get(action="rule.update")
    assert entry.changes == {"cooldown_seconds": [300, 60], "priority": [1, 2]}
    # A new kind needs its parameters: the stored (empty) ones are checked again.
    with pytest.raises(services.RuleInvalidError) as error:
        services.rule_update(actor=admin, rule=rule, kind="duration")
    assert "params" in problems_of(error)
    services.rule_update(actor=admin, rule=rule, priority=2)
    assert AuditEvent.objects.filter(action="rule.update").count() == 1


def test_enable_and_disable_are_audited(world):
    rule = create(world)
    admin = world.user("community_admin")
    services.rule_disable(actor=admin, rule=rule)
    services.rule_disable(actor=admin, rule=rule)
    assert not Rule.objects.get(pk=rule.pk).enabled
    services.rule_enable(actor=admin, rule=rule)
    actions = list(
        AuditEvent.objects.filter(action__startswith="rule.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["rule.create", "rule.disable", "rule.enable"]


def test_built_in_rules_are_disabled_not_deleted(world):
    installed = services.rules_install_builtin(community=world.a.community)
    smoke = next(rule for rule in installed if rule.builtin == "smoke")
    admin = world.user("community_admin")
    with pytest.raises(ConflictError):
        services.rule_delete(actor=admin, rule=smoke)
    services.rule_update(actor=admin, rule=smoke, priority=2)
    own = create(world)
    own_id = own.pk
    services.rule_delete(actor=admin, rule=own)
    assert not Rule.objects.filter(pk=own_id).exists()
    assert AuditEvent.objects.filter(action="rule.delete", object_id=str(own_id)).exists()


@pytest.mark.parametrize(
    ("role", "side", "refusal"),
    [
        ("operator", "a", PermissionDenied),
        ("supervisor", "a", PermissionDenied),
        ("resident", "a", Http404),
        ("community_admin", "b", Http404),
    ],
)
def test_only_rule_managers_of_the_community_write(world, role, side, refusal):
    rule = create(world)
    actor = world.user(role, side)
    with pytest.raises(refusal):
        services.rule_update(actor=actor, rule=rule, priority=2)
    with pytest.raises(refusal):
        services.rule_create(actor=actor, community=world.a.community, **values(name="x"))
    with pytest.raises(refusal):
        services.rule_disable(actor=actor, rule=rule)
    assert Rule.objects.get(pk=rule.pk).priority == 1


def _smoke_device(world: Any) -> Device:
    return Device.objects.create(
        community=world.a.community,
        zone=world.a.zone,
        building=world.a.building,
        name="1号楼 烟感",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id="b01/smoke",
    )


def _event(device: Device, kind: str, value: Any, at: dt.datetime, **extra: Any) -> DeviceEvent:
    number = DeviceEvent.objects.count() + 1
    return DeviceEvent.objects.create(
        community=device.community,
        device=device,
        kind=kind,
        attribute=extra.pop("attribute", kind),
        value=value,
        previous_value=extra.pop("previous_value", None),
        dedup_key=f"{device.pk}:{number}",
        received_at=at,
        **extra,
    )


def test_preview_lists_what_would_have_fired_in_the_last_day(world):
    device = _smoke_device(world)
    now = timezone.now()
    fired = _event(device, "smoke", True, now - dt.timedelta(hours=2), previous_value=False)
    _event(device, "smoke", False, now - dt.timedelta(hours=1), previous_value=True)
    _event(device, "smoke_test", True, now - dt.timedelta(minutes=30))
    _event(device, "smoke", True, now - dt.timedelta(hours=30))
    checked, problems = services.check_rule(values())
    assert checked is not None, problems
    preview = preview_rule(community_id=world.a.community.pk, values=checked, now=now)
    assert preview.events_checked == 3
    assert preview.firing_count == preview.alarm_count == 1
    (firing,) = preview.firings
    assert firing.at == fired.received_at
    assert firing.event_ids == (fired.pk,)
    assert firing.title == "Smoke at 1号楼 烟感"
    assert firing.group_key == f"device:{device.pk}"
    assert firing.group == "1号楼 烟感"
    assert firing.new_alarm
    assert firing.why


def test_preview_of_a_duration_samples_the_day(world):
    door = Device.objects.create(
        community=world.a.community,
        name="1单元 门磁",
        kind="contact",
        protocol="zigbee2mqtt",
        source_id="b01/door",
    )
    now = timezone.now().replace(second=0, microsecond=0)
    opened = _event(door, "contact", "open", now - dt.timedelta(hours=3), previous_value="closed")
    _event(door, "contact", "closed", now - dt.timedelta(hours=2), previous_value="open")
    _event(door, "contact", "open", now - dt.timedelta(minutes=70), previous_value="closed")
    _event(door, "contact", "closed", now - dt.timedelta(minutes=68), previous_value="open")
    checked, problems = services.check_rule(
        values(
            kind="duration",
            condition={},
            params={"attribute": "contact", "value": "open", "seconds": 300},
            title_template="Door held open at {device}",
        )
    )
    assert checked is not None, problems
    preview = preview_rule(community_id=world.a.community.pk, values=checked, now=now)
    # The long opening fires once (sampled every minute, one trigger key); the short one never.
    assert preview.firing_count == 1
    (firing,) = preview.firings
    expected = opened.received_at + dt.timedelta(seconds=300)
    assert expected <= firing.at <= expected + dt.timedelta(minutes=1)
    assert firing.title == "Door held open at 1单元 门磁"

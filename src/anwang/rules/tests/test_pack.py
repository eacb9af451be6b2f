"""The built-in rule pack: valid for the engine, installed for new communities, idempotent."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.test import Client

from anwang.audit.models import AuditEvent
from anwang.events.adapters.hikvision import ACCESS_MINOR_NAMES
from anwang.places.services import community_create
from anwang.rules import services
from anwang.rules.engine import evaluate_events
from anwang.rules.facts import EventFacts, RuleSpec
from anwang.rules.models import Rule
from anwang.rules.pack import MINOR_DENIED, PACK, PACK_BY_CODE
from anwang.rules.tests.conftest import (
    COMMUNITY,
    SHANGHAI,
    MemoryHistory,
    local,
    make_device,
    make_event,
)


@pytest.mark.parametrize("item", PACK, ids=lambda item: item.code)
def test_every_pack_rule_is_valid(item):
    checked, problems = services.check_rule(item.as_data() | {"name": item.name})
    assert problems == []
    assert checked is not None


def test_the_pack_covers_the_issue():
    priorities = {item.code: item.priority for item in PACK}
    assert priorities == {
        "smoke": 1,
        "gas": 1,
        "water_leak": 2,
        "door_forced": 1,
        "door_held_open": 3,
        "door_held_open_reader": 3,
        "key_area_person_night": 2,
        "perimeter_crossing_night": 2,
        "access_denied_burst": 3,
        "panic": 1,
        "device_offline": 3,
        "battery_low": 4,
        "access_impossible_travel": 2,
        "access_outside_hours": 2,
        "access_repeated_denials": 3,
    }
    assert PACK_BY_CODE["battery_low"].group_by == "building"
    assert PACK_BY_CODE["access_denied_burst"].params == {"count": 5, "window_seconds": 120}
    assert PACK_BY_CODE["door_held_open"].params["seconds"] == 300
    assert PACK_BY_CODE["key_area_person_night"].schedule["windows"] == [
        {"start": "22:00", "end": "06:00"}
    ]


def test_denied_codes_are_refusals_of_the_hikvision_adapter():
    names = [ACCESS_MINOR_NAMES[code] for code in MINOR_DENIED]
    assert all(
        name.endswith(("failed", "not_recognised", "no_permission", "expired", "schedule"))
        or name == "invalid_card"
        for name in names
    ), names
    assert ACCESS_MINOR_NAMES[27] == "door_forced_open"
    assert ACCESS_MINOR_NAMES[28] == "door_held_open"


@pytest.mark.django_db
def test_a_new_community_gets_the_pack_enabled(world):
    community = community_create(
        actor=world.platform_admin, region=world.a.region, name="新社区", slug="new"
    )
    rules = Rule.objects.filter(community=community)
    assert sorted(rules.values_list("builtin", flat=True)) == sorted(PACK_BY_CODE)
    assert all(rule.enabled for rule in rules)
    assert AuditEvent.objects.filter(action="rule.install_builtin").count() == len(PACK)
    assert services.rules_install_builtin(community=community) == []
    assert rules.count() == len(PACK)


@pytest.mark.django_db
def test_installing_again_keeps_edits_and_adds_only_what_is_missing(world):
    community = world.a.community
    services.rules_install_builtin(community=community)
    smoke = Rule.objects.get(community=community, builtin="smoke")
    services.rule_disable(actor=None, rule=smoke)
    Rule.objects.filter(community=community, builtin="gas").delete()
    added = services.rules_install_builtin(community=community)
    assert [rule.builtin for rule in added] == ["gas"]
    assert not Rule.objects.get(pk=smoke.pk).enabled


@pytest.mark.django_db
def test_a_taken_name_gets_a_number(world):
    community = world.a.community
    with_name = services.rules_install_builtin(community=community)[0]
    name = with_name.name
    Rule.objects.filter(pk=with_name.pk).update(builtin="")
    again = services.rules_install_builtin(community=community)
    assert [rule.name for rule in again] == [f"{name} (2)"]


@pytest.mark.django_db
def test_pack_endpoint_lists_the_definitions(world):
    client: Client = world.client_for("operator")
    client.cookies["anwang_language"] = "en"
    response = client.get("/api/v1/rules/pack")
    assert response.status_code == 200
    body = response.json()
    assert [item["code"] for item in body] == [item.code for item in PACK]
    assert body[0]["name"] == "Smoke: fire"
    assert body[0]["title_template"] == "Smoke at {device}"


def _spec(code: str) -> RuleSpec:
    item = PACK_BY_CODE[code]
    return RuleSpec(
        id=1,
        community_id=COMMUNITY,
        name=item.name,
        kind=item.kind,
        condition=item.condition,
        params=item.params,
        priority=item.priority,
        title_template=item.title_template,
        group_by=item.group_by,
        cooldown_seconds=item.cooldown_seconds,
        schedule=item.schedule,
        active_since=local(2026, 1, 1),
    )


def _fired(code: str, events: list[EventFacts], history: MemoryHistory) -> list[str]:
    history.add(*events)
    firings = evaluate_events([_spec(code)], events, history=history, tz=SHANGHAI, holidays={})
    return [firing.trigger_key for firing in firings]


def test_smoke_fires_and_a_self_test_does_not(history):
    device = make_device(1)
    at = local(2026, 11, 27, 14, 0)
    smoke = make_event(device, "smoke", at, attribute="smoke", value=True)
    test = make_event(device, "smoke_test", at, attribute="smoke_test", value=True)
    assert _fired("smoke", [smoke, test], history) == [f"event:{smoke.id}"]


def test_door_forced_is_hikvision_minor_27(history):
    reader = make_device(2, kind="access_reader", protocol="hikvision")
    at = local(2026, 11, 27, 14, 0)
    forced = make_event(reader, "access", at, data={"major": 5, "minor": 27})
    valid = make_event(reader, "access", at, data={"major": 5, "minor": 1})
    assert _fired("door_forced", [forced, valid], history) == [f"event:{forced.id}"]


def test_person_in_a_key_area_fires_only_at_night(history):
    camera = make_device(3, kind="camera", protocol="frigate", zone_id=7, is_key_area=True)
    plain = make_device(4, kind="camera", protocol="frigate", zone_id=8)
    person = {"label": "person", "type": "new"}
    night = make_event(camera, "object_detected", local(2026, 11, 27, 23, 30), data=person)
    day = make_event(camera, "object_detected", local(2026, 11, 27, 14, 0), data=person)
    elsewhere = make_event(plain, "object_detected", local(2026, 11, 27, 23, 30), data=person)
    review = make_event(
        camera,
        "review",
        local(2026, 11, 28, 2, 0),
        data={"severity": "alert", "type": "new"},
    )
    fired = _fired("key_area_person_night", [day, night, elsewhere, review], history)
    assert fired == [f"event:{night.id}", f"event:{review.id}"]


def test_five_denied_attempts_at_one_door_within_two_minutes(history):
    reader = make_device(5, kind="access_reader", protocol="hikvision")
    start = local(2026, 11, 27, 14, 0)
    denied = [
        make_event(
            reader,
            "access",
            start + dt.timedelta(seconds=20 * n),
            data={"major": 5, "minor": minor},
        )
        for n, minor in enumerate((9, 9, 76, 8, 9))
    ]
    assert _fired("access_denied_burst", denied, history) == [f"event:{denied[-1].id}"]


def test_battery_low_groups_by_building(history):
    first = make_device(6, building_id=3)
    second = make_device(7, building_id=3)
    at = local(2026, 11, 27, 14, 0)
    events = [
        make_event(device, "battery_low", at, attribute="battery_low", value=True)
        for device in (first, second)
    ]
    history.add(*events)
    firings = evaluate_events(
        [_spec("battery_low")], events, history=history, tz=SHANGHAI, holidays={}
    )
    assert {firing.group_key for firing in firings} == {"building:3"}
    assert firings[0].title_values["building"] == "building 3"


@pytest.mark.django_db
def test_the_data_migration_installs_the_pack_in_existing_communities(world):
    from django.apps import apps

    migration = importlib.import_module("anwang.rules.migrations.0002_install_builtin_pack")
    services.rules_install_builtin(community=world.a.community)
    Rule.objects.filter(community=world.a.community, builtin="gas").delete()
    migration.install_pack(apps, None)
    migration.install_pack(apps, None)
    for side in (world.a, world.b):
        codes = Rule.objects.filter(community=side.community).values_list("builtin", flat=True)
        assert sorted(codes) == sorted(PACK_BY_CODE)


def test_a_panic_press_fires_whether_the_button_is_level_or_edge_triggered(history):
    button = make_device(7, kind="panic")
    at = local(2026, 11, 27, 3, 0)
    pressed = make_event(button, "panic", at, attribute="panic", value=True)
    edge = make_event(button, "panic", at)  # an event id per press, no value
    released = make_event(button, "panic", at, attribute="panic", value=False)
    assert _fired("panic", [pressed, edge, released], history) == [
        f"event:{pressed.id}",
        f"event:{edge.id}",
    ]

"""The rules API: CRUD, scoping, errors by field, import/export, preview and query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from anwang.devices.models import Device
from anwang.events.models import DeviceEvent
from anwang.rules import services
from anwang.rules.models import Rule

pytestmark = pytest.mark.django_db

API = "/api/v1"
SMOKE = {
    "all": [
        {"field": "kind", "op": "eq", "value": "smoke"},
        {"field": "value", "op": "eq", "value": True},
    ]
}


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def body(world: Any, **changes: Any) -> dict[str, Any]:
    return {
        "community": world.a.community.pk,
        "name": "Smoke",
        "kind": "immediate",
        "condition": SMOKE,
        "priority": 1,
        "title_template": "Smoke at {device}",
    } | changes


def post(c: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    return c.post(f"{API}{url}", data or {}, content_type="application/json")


def test_create_get_patch_delete(world):
    c = client(world)
    response = post(c, "/rules", body(world))
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["community"] == world.a.community.pk
    assert created["condition"] == SMOKE
    rule_id = created["id"]
    assert c.get(f"{API}/rules/{rule_id}").json()["title_template"] == "Smoke at {device}"
    response = c.patch(
        f"{API}/rules/{rule_id}",
        {"priority": 3, "enabled": False},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["priority"], response.json()["enabled"]) == (3, False)
    assert c.delete(f"{API}/rules/{rule_id}").status_code == 204
    assert not Rule.objects.filter(pk=rule_id).exists()


def test_invalid_rule_lists_every_field(world):
    response = post(
        client(world),
        "/rules",
        body(world, priority=9, title_template="{floor}", kind="count", params={}),
    )
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"priority", "title_template", "params"}
    assert all(error["loc"] == [error["field"]] for error in response.json()["errors"])


def test_built_in_rule_cannot_be_deleted(world):
    services.rules_install_builtin(community=world.a.community)
    smoke = Rule.objects.get(community=world.a.community, builtin="smoke")
    response = client(world).delete(f"{API}/rules/{smoke.pk}")
    assert response.status_code == 409
    assert response.json()["detail"] == "A built-in rule cannot be deleted; disable it instead."


def test_other_community_is_404_and_viewers_read_only(world):
    rule = services.rule_create(actor=None, community=world.a.community, **_values())
    b = client(world, side="b")
    assert b.get(f"{API}/rules/{rule.pk}").status_code == 404
    assert b.delete(f"{API}/rules/{rule.pk}").status_code == 404
    assert post(b, f"/rules/{rule.pk}/preview").status_code == 404
    assert post(b, "/rules", body(world)).status_code == 404
    assert b.get(f"{API}/rules").json()["count"] == 0
    operator = client(world, "operator")
    assert operator.get(f"{API}/rules/{rule.pk}").status_code == 200
    assert operator.delete(f"{API}/rules/{rule.pk}").status_code == 403
    assert post(operator, f"/rules/{rule.pk}/preview").status_code == 403
    assert client(world, "resident").get(f"{API}/rules/{rule.pk}").status_code == 404


def _values(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Smoke",
        "kind": "immediate",
        "condition": SMOKE,
        "priority": 1,
        "title_template": "Smoke at {device}",
    } | changes


def test_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    services.rules_install_builtin(community=world.a.community)
    c = client(world)
    with django_assert_max_num_queries(8):
        response = c.get(f"{API}/rules")
    assert response.json()["count"] == Rule.objects.count()
    for number in range(10):
        services.rule_create(actor=None, community=world.a.community, **_values(name=f"r{number}"))
    with django_assert_max_num_queries(8):
        response = c.get(f"{API}/rules?community_id={world.a.community.pk}&builtin=false")
    assert response.json()["count"] == 10


def test_export_and_import(world):
    services.rules_install_builtin(community=world.a.community)
    response = client(world).get(f"{API}/rules/export?community_id={world.a.community.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    text = response.content.decode()
    b = client(world, side="b")
    upload = SimpleUploadedFile("rules.yaml", text.encode(), content_type="application/yaml")
    response = b.post(f"{API}/rules/import", {"file": upload, "community_id": world.b.community.pk})
    assert response.status_code == 200, response.content
    assert response.json()["rules"] == Rule.objects.filter(community=world.a.community).count()
    response = b.post(
        f"{API}/rules/import",
        {"text": "rules:\n  - name: x\n    kind: nope\n", "community_id": world.b.community.pk},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["rule"], e["field"]) for e in errors} >= {(1, "kind"), (1, "priority")}
    response = b.post(f"{API}/rules/import", {"community_id": world.a.community.pk, "text": text})
    assert response.status_code == 404


def _smoke_event(world: Any, at: dt.datetime) -> DeviceEvent:
    device = Device.objects.create(
        community=world.a.community,
        name="1号楼 烟感",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id="b01/smoke",
    )
    return DeviceEvent.objects.create(
        community=world.a.community,
        device=device,
        kind="smoke",
        attribute="smoke",
        value=True,
        previous_value=False,
        dedup_key="probe-smoke",
        received_at=at,
    )


def test_preview_of_a_saved_rule_and_of_an_unsaved_one(world):
    event = _smoke_event(world, timezone.now() - dt.timedelta(hours=1))
    services.rules_install_builtin(community=world.a.community)
    smoke = Rule.objects.get(community=world.a.community, builtin="smoke")
    c = client(world)
    response = post(c, f"/rules/{smoke.pk}/preview")
    assert response.status_code == 200, response.content
    preview = response.json()
    assert (preview["firing_count"], preview["alarm_count"]) == (1, 1)
    (firing,) = preview["firings"]
    assert firing["event_ids"] == [event.pk]
    assert firing["title"] == "Smoke at 1号楼 烟感"
    assert firing["group"] == "1号楼 烟感"
    response = post(c, "/rules/preview", body(world, priority=4))
    assert response.status_code == 200
    assert response.json()["firing_count"] == 1
    response = post(c, "/rules/preview", body(world, title_template="{nope}"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "title_template"

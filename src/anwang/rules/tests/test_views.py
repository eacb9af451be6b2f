"""The rules pages: list with toggles, editor with errors by field, preview, import, export."""

from __future__ import annotations

import datetime as dt
import json
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


def form(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Smoke at night",
        "description": "",
        "kind": "immediate",
        "priority": "1",
        "title_template": "Smoke at {device}",
        "group_by": "device",
        "cooldown_seconds": "300",
        "condition": json.dumps(SMOKE),
        "start": "22:00",
        "end": "06:00",
        "days": "all",
        "holidays": "any",
        "enabled": "on",
    } | changes


def test_list_shows_rules_with_toggles_and_query_count(world, django_assert_max_num_queries):
    services.rules_install_builtin(community=world.a.community)
    c = client(world)
    with django_assert_max_num_queries(14):
        response = c.get("/rules/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alarm rules of" in page
    assert "built-in" in page
    assert 'data-testid="toggle-' in page
    for number in range(10):
        services.rule_create(
            actor=None,
            community=world.a.community,
            name=f"extra {number}",
            kind="immediate",
            priority=3,
            title_template="x",
        )
    with django_assert_max_num_queries(14):
        assert c.get("/rules/").status_code == 200


def test_viewers_see_the_list_read_only(world):
    services.rules_install_builtin(community=world.a.community)
    rule = Rule.objects.filter(community=world.a.community).first()
    assert rule is not None
    c = client(world, "operator")
    page = c.get("/rules/").content.decode()
    assert 'data-testid="toggle-' not in page
    assert "New rule" not in page
    assert c.get(f"/rules/{rule.pk}/").status_code == 200
    assert c.post(f"/rules/{rule.pk}/toggle/").status_code == 403
    assert c.get("/rules/create/").status_code == 403
    assert client(world, "resident").get("/rules/").status_code == 403
    assert client(world, side="b").get(f"/rules/{rule.pk}/").status_code == 404


def test_create_with_schedule_and_errors_by_field(world):
    c = client(world)
    response = c.post("/rules/create/", form(title_template="Smoke on {floor}", condition="{"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "not valid JSON" in errors["condition"][0]
    response = c.post("/rules/create/", form(title_template="Smoke on {floor}"))
    errors = response.context["form"].errors
    assert "Unknown placeholder {floor}" in errors["title_template"][0]
    response = c.post("/rules/create/", form(kind="count", count="1", window_seconds=""))
    errors = response.context["form"].errors
    assert set(errors) == {"count", "window_seconds"}
    response = c.post("/rules/create/", form(start="25:00"))
    assert "start" in response.context["form"].errors
    response = c.post("/rules/create/", form())
    assert response.status_code == 302
    rule = Rule.objects.get(name="Smoke at night")
    assert rule.schedule == {"windows": [{"start": "22:00", "end": "06:00"}]}
    assert rule.condition == SMOKE


def test_edit_a_duration_rule_and_toggle_it(world):
    rule = services.rule_create(
        actor=None,
        community=world.a.community,
        name="Door",
        kind="duration",
        params={"attribute": "contact", "value": "open", "seconds": 300},
        priority=3,
        title_template="Door held open at {device}",
    )
    c = client(world)
    page = c.get(f"/rules/{rule.pk}/")
    assert page.context["form"].initial["value"] == "open"
    assert "every event" in page.content.decode()
    data = form(
        name="Door",
        kind="duration",
        condition="",
        attribute="contact",
        value="open",
        seconds="600",
        start="",
        end="",
        days="custom",
        weekdays=["0", "4"],
    )
    response = c.post(f"/rules/{rule.pk}/", data)
    assert response.status_code == 302, response.context["form"].errors
    rule.refresh_from_db()
    assert rule.params == {"attribute": "contact", "value": "open", "seconds": 600}
    assert rule.schedule == {"days": [0, 4]}
    response = c.post(f"/rules/{rule.pk}/toggle/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Disabled" in response.content.decode()
    assert not Rule.objects.get(pk=rule.pk).enabled


def test_preview_button_shows_what_would_have_fired(world):
    device = Device.objects.create(
        community=world.a.community,
        name="1号楼 烟感",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id="b01/smoke",
    )
    DeviceEvent.objects.create(
        community=world.a.community,
        device=device,
        kind="smoke",
        attribute="smoke",
        value=True,
        previous_value=False,
        dedup_key="view-smoke",
        received_at=timezone.now() - dt.timedelta(hours=3),
    )
    c = client(world)
    response = c.post("/rules/preview/", form(start="", end=""), headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 events checked: the rule would have fired 1 times, raising 1 alarms." in page
    assert "Smoke at 1号楼 烟感" in page
    response = c.post("/rules/preview/", form(title_template="{x}"))
    assert "Unknown placeholder {x}" in response.content.decode()
    assert Rule.objects.count() == 0


def test_delete_page_refuses_built_ins(world):
    services.rules_install_builtin(community=world.a.community)
    smoke = Rule.objects.get(community=world.a.community, builtin="smoke")
    response = client(world).post(f"/rules/{smoke.pk}/delete/")
    assert response.status_code == 409
    assert Rule.objects.filter(pk=smoke.pk).exists()


def test_export_and_import_pages(world):
    services.rules_install_builtin(community=world.a.community)
    response = client(world).get("/rules/export/")
    assert response.status_code == 200
    text = response.content
    b = client(world, side="b")
    bad = b.post("/rules/import/", {"text": "rules:\n  - name: x\n"})
    assert bad.status_code == 400
    assert 'data-testid="import-errors"' in bad.content.decode()
    assert Rule.objects.filter(community=world.b.community).count() == 0
    upload = SimpleUploadedFile("rules.yaml", text, content_type="application/yaml")
    response = b.post("/rules/import/", {"file": upload})
    assert response.status_code == 302
    assert (
        Rule.objects.filter(community=world.b.community).count()
        == Rule.objects.filter(community=world.a.community).count()
    )

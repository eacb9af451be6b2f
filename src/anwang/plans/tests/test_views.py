"""The emergency plans pages: the list with gaps, a plan with its versions and last drill, the
draft editor with formsets, approval, revision, discarding, comparison, PDF and map data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.facilities.models import Asset
from anwang.plans import selectors, services
from anwang.plans.models import EmergencyPlan

pytestmark = pytest.mark.django_db


def page(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English pages."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def test_list_shows_versions_drafts_and_gaps(
    world: Any, fire: Any, django_assert_max_num_queries: Any
) -> None:
    _plan, v1 = fire
    services.plan_revision_draft(actor=None, version=v1, change_note="")
    c = page(world, "operator")
    c.get("/plans/")
    with django_assert_max_num_queries(20):
        response = c.get("/plans/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "翠苑火灾应急预案" in text
    assert "Version 1" in text
    assert "Draft v2" in text
    assert 'data-gap="gas_leak"' in text
    assert 'data-gap="fire"' not in text
    assert "8 incident types have no plan in force" in text
    assert "Never drilled" in text
    assert "Start a plan" not in text  # the operator only reads
    assert page(world, "resident").get("/plans/").status_code == 403


def test_detail_shows_steps_contacts_resources_map_and_actions(world: Any, fire: Any) -> None:
    plan, v1 = fire
    asset = Asset.objects.create(
        community=world.a.community,
        asset_type="fire_extinguisher",
        name="3号楼灭火器",
        code="E3",
        expires_on=timezone.localdate() - dt.timedelta(days=1),
    )
    v1.resources.create(position=1, description="灭火器", quantity=2, asset=asset)
    admin = page(world).get(f"/plans/{plan.pk}/")
    text = admin.content.decode()
    assert "确认火情并报警" in text
    assert "Guard on duty" in text
    assert "10 minutes" in text
    assert 'href="tel:119"' in text
    assert "3号楼灭火器" in text
    assert 'class="plans-late"' in text
    assert f"/plans/versions/{v1.pk}/zones.geojson" in text
    assert "Revise (new draft)" in text
    assert f"/plans/versions/{v1.pk}/pdf/" in text
    assert "Never drilled." in text
    reader = page(world, "guard").get(f"/plans/{plan.pk}/").content.decode()
    assert "Revise (new draft)" not in reader
    assert "Print (PDF)" in reader
    assert page(world, "community_admin", "b").get(f"/plans/{plan.pk}/").status_code == 404


def test_old_versions_stay_readable_and_marked(world: Any, fire: Any) -> None:
    plan, v1 = fire
    v2 = services.plan_revision_draft(actor=None, version=v1, change_note="")
    services.plan_version_approve(actor=None, version=v2)
    c = page(world, "guard")
    old = c.get(f"/plans/{plan.pk}/?version=1").content.decode()
    assert "is no longer in force" in old
    assert "确认火情并报警" in old
    current = c.get(f"/plans/{plan.pk}/").content.decode()
    assert "Version 2, approved by" in current
    assert c.get(f"/plans/{plan.pk}/?version=9").status_code == 404


def test_last_drill_table_marks_late_steps(world: Any, fire: Any, monkeypatch: Any) -> None:
    from anwang.incidents.selectors import DrillSummary, StepTiming

    plan, _v1 = fire
    summary = DrillSummary(
        incident_id=1,
        declared_at=timezone.now(),
        closed_at=timezone.now(),
        version_number=1,
        steps=[
            StepTiming(position=1, title="确认火情并报警", target_minutes=2, took_minutes=1.5),
            StepTiming(position=2, title="疏散楼内人员", target_minutes=10, took_minutes=12.0),
            StepTiming(position=3, title="向街道报告", target_minutes=15, took_minutes=None),
        ],
    )
    monkeypatch.setattr(selectors, "plan_last_drill", lambda plan: summary)
    text = page(world, "guard").get(f"/plans/{plan.pk}/").content.decode()
    assert "with version 1" in text
    assert text.count('data-late="1"') == 2
    assert "Not done" in text
    listing = page(world, "guard").get("/plans/").content.decode()
    assert "· v1" in listing


def test_create_then_edit_the_draft_with_formsets(world: Any) -> None:
    c = page(world, "supervisor")
    assert c.get("/plans/new/").status_code == 200
    response = c.post("/plans/new/", {"incident_type": "power_outage", "title": "停电预案"})
    plan = EmergencyPlan.objects.get(incident_type="power_outage")
    draft = plan.versions.get()
    assert response.status_code == 302
    assert response["Location"] == f"/plans/versions/{draft.pk}/edit/"
    assert c.get(f"/plans/versions/{draft.pk}/edit/").status_code == 200
    form = {
        "summary": "停电时",
        "change_note": "",
        "evacuation_zones": [str(world.a.zone.pk)],
        "assembly_note": "广场",
        "assembly_point": '{"type": "Point", "coordinates": [114.3002, 30.5003]}',
        "steps-TOTAL_FORMS": "3",
        "steps-INITIAL_FORMS": "0",
        "steps-0-title": "联系供电公司",
        "steps-0-duty_role": "operator",
        "steps-0-target_minutes": "5",
        "steps-0-ORDER": "2",
        "steps-1-title": "启动应急照明",
        "steps-1-duty_role": "guard",
        "steps-1-target_minutes": "3",
        "steps-1-ORDER": "1",
        # A blank extra row as a browser posts it: every field present and empty.
        "steps-2-title": "",
        "steps-2-duty_role": "",
        "steps-2-target_minutes": "",
        "steps-2-instructions": "",
        "steps-2-ORDER": "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-name": "供电公司",
        "contacts-0-phone": "95598",
        "resources-TOTAL_FORMS": "1",
        "resources-INITIAL_FORMS": "0",
        "resources-0-description": "",
        "resources-0-quantity": "1",
        "resources-0-asset": "",
    }
    saved = c.post(f"/plans/versions/{draft.pk}/edit/", form)
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    assert list(draft.steps.values_list("position", "title")) == [
        (1, "启动应急照明"),
        (2, "联系供电公司"),
    ]
    assert list(draft.contacts.values_list("phone", flat=True)) == ["95598"]
    assert list(draft.evacuation_zones.all()) == [world.a.zone]
    draft.refresh_from_db()
    assert (draft.assembly_latitude, draft.assembly_longitude) == (30.5003, 114.3002)
    # Edit again: the rows come back filled in; delete the first, keep the second unchanged.
    again = c.get(f"/plans/versions/{draft.pk}/edit/").content.decode()
    assert "启动应急照明" in again
    form2 = {
        **form,
        "steps-INITIAL_FORMS": "2",
        "steps-0-title": "启动应急照明",
        "steps-0-duty_role": "guard",
        "steps-0-target_minutes": "3",
        "steps-0-ORDER": "1",
        "steps-0-DELETE": "on",
        "steps-1-title": "联系供电公司",
        "steps-1-duty_role": "operator",
        "steps-1-target_minutes": "5",
        "steps-1-ORDER": "2",
        "contacts-INITIAL_FORMS": "1",
    }
    assert c.post(f"/plans/versions/{draft.pk}/edit/", form2).status_code == 302
    assert list(draft.steps.values_list("title", flat=True)) == ["联系供电公司"]
    # A form error (not a point) and a service error (a step due after a week) show on the
    # page, and nothing is saved.
    bad = c.post(f"/plans/versions/{draft.pk}/edit/", {**form2, "assembly_point": "[1, 2]"})
    assert bad.status_code == 400
    assert "Place one point on the map" in bad.content.decode()
    bad = c.post(f"/plans/versions/{draft.pk}/edit/", {**form2, "steps-1-target_minutes": "99999"})
    assert bad.status_code == 400
    assert "Enter a number from 0 to 10080" in bad.content.decode()
    assert list(draft.steps.values_list("target_minutes", flat=True)) == [5]
    # Readers may not open the editor; the supervisor may not approve.
    assert page(world, "guard").get(f"/plans/versions/{draft.pk}/edit/").status_code == 403
    c.post(f"/plans/versions/{draft.pk}/approve/")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_approve_revise_discard_and_compare(world: Any) -> None:
    from anwang.plans.tests.conftest import fire_plan

    plan, v1 = fire_plan(world, approve=False)
    admin = page(world)
    assert admin.post(f"/plans/versions/{v1.pk}/approve/").status_code == 302
    v1.refresh_from_db()
    assert v1.status == "approved"
    # Editing an approved version sends back to the plan.
    assert admin.get(f"/plans/versions/{v1.pk}/edit/")["Location"].startswith(f"/plans/{plan.pk}/")
    revised = admin.post(f"/plans/versions/{v1.pk}/revise/", {"change_note": "调整"})
    v2 = plan.versions.get(number=2)
    assert revised["Location"] == f"/plans/versions/{v2.pk}/edit/"
    assert v2.change_note == "调整"
    services.plan_version_update(actor=None, version=v2, summary="新的范围")
    compare = admin.get(f"/plans/versions/{v2.pk}/compare/").content.decode()
    assert "1 line differs between v1 and v2" in compare
    assert "新的范围" in compare
    assert admin.post(f"/plans/versions/{v2.pk}/discard/").status_code == 302
    v2.refresh_from_db()
    assert v2.status == "discarded"
    discarded = admin.get(f"/plans/{plan.pk}/?version=2").content.decode()
    assert "discarded draft" in discarded
    assert admin.get(f"/plans/versions/{v1.pk}/approve/").status_code == 405


def test_pdf_and_map_data_pages(world: Any, fire: Any) -> None:
    _plan, v1 = fire
    c = page(world, "grid_worker")
    pdf = c.get(f"/plans/versions/{v1.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    zones = c.get(f"/plans/versions/{v1.pk}/zones.geojson").json()
    assert zones["features"][0]["properties"]["name"] == "北门"
    point = c.get(f"/plans/versions/{v1.pk}/assembly.geojson").json()
    assert point["features"][0]["geometry"]["type"] == "Point"
    outsider = page(world, "grid_worker", "b")
    assert outsider.get(f"/plans/versions/{v1.pk}/pdf/").status_code == 404
    assert outsider.get(f"/plans/versions/{v1.pk}/zones.geojson").status_code == 404

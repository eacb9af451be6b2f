"""Pages: the phone flow (due list, scan, start, tick, submit), records, plans, checklists,
statistics, and who may open what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anwang.hazards.models import Hazard
from anwang.inspections.choices import InspectionStatus
from anwang.inspections.models import Checklist, Inspection, InspectionPlan
from anwang.inspections.tests.support import Setup, inspect, upload
from anwang.patrols.models import Checkpoint

pytestmark = pytest.mark.django_db

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def _client(setup: Setup, role: str = "guard", side: str = "a") -> Client:
    client = Client(HTTP_USER_AGENT=PHONE_UA)
    client.force_login(setup.world.user(role, side))
    client.cookies["anwang_language"] = "en"  # asserted texts are the English source
    return client


def test_phone_flow_fail_one_item(setup: Setup) -> None:
    client = _client(setup)
    page = client.get(reverse("inspections:due"))
    assert page.status_code == 200
    assert b"MHQ-1" in page.content
    assert b'name="viewport"' in page.content
    start = reverse("inspections:start") + f"?asset={setup.ext1.pk}&plan={setup.plan.pk}"
    assert client.get(start).status_code == 200
    response = client.post(
        reverse("inspections:start"), {"asset": setup.ext1.pk, "plan": setup.plan.pk}
    )
    record = Inspection.objects.get()
    assert response["Location"] == reverse("inspections:inspection", args=[record.pk])
    form = client.get(response["Location"])
    assert b"inspection-form" in form.content
    items = list(record.checklist.items.order_by("order"))
    data: dict[str, Any] = {f"outcome_{item.pk}": "pass" for item in items}
    data[f"outcome_{items[0].pk}"] = "fail"
    data[f"note_{items[0].pk}"] = "指针在红区"
    data[f"photo_{items[0].pk}"] = upload()
    done = client.post(response["Location"], data)
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.status == InspectionStatus.SUBMITTED
    assert Hazard.objects.count() == 1
    detail = client.get(done["Location"])
    assert b"hazard-link" in detail.content
    result = record.results.get(outcome="fail")
    photo = client.get(reverse("inspections:result_photo", args=[result.pk, "thumb"]))
    assert photo.status_code == 200


def test_missing_answer_is_shown_and_nothing_saved(setup: Setup) -> None:
    client = _client(setup)
    client.post(reverse("inspections:start"), {"asset": setup.ext1.pk, "plan": setup.plan.pk})
    record = Inspection.objects.get()
    items = list(record.checklist.items.order_by("order"))
    data = {f"outcome_{item.pk}": "pass" for item in items[1:]}
    page = client.post(reverse("inspections:inspection", args=[record.pk]), data)
    assert page.status_code == 200
    assert b"This field is required" in page.content
    record.refresh_from_db()
    assert record.status == InspectionStatus.IN_PROGRESS


def test_scan_by_label_url_and_by_typed_code(setup: Setup) -> None:
    client = _client(setup)
    assert client.get(reverse("inspections:scan")).status_code == 200
    label = f"https://anwang.example/facilities/a/{setup.community.slug}/MHQ-2/"
    response = client.get(reverse("inspections:scan"), {"label": label})
    assert response["Location"] == reverse("inspections:start") + f"?asset={setup.ext2.pk}"
    typed = client.get(reverse("inspections:scan"), {"code": "MHQ-1"})
    assert typed["Location"] == reverse("inspections:start") + f"?asset={setup.ext1.pk}"
    unknown = client.get(reverse("inspections:scan"), {"code": "NOPE"})
    assert unknown.status_code == 200
    assert b"No asset with this code" in unknown.content


def test_another_communitys_asset_is_not_found(setup: Setup) -> None:
    client = _client(setup, "guard", "b")
    response = client.get(reverse("inspections:start") + f"?asset={setup.ext1.pk}")
    assert response.status_code == 404
    label = f"/facilities/a/{setup.community.slug}/MHQ-1/"
    assert client.get(reverse("inspections:scan"), {"label": label}).status_code == 200


def test_record_pages_and_permissions(setup: Setup) -> None:
    record = inspect(setup, fail=1)
    url = reverse("inspections:inspection", args=[record.pk])
    assert _client(setup, "operator").get(url).status_code == 200
    assert _client(setup, "resident").get(url).status_code == 404
    assert _client(setup, "guard", "b").get(url).status_code == 404
    history = reverse("inspections:asset_history", args=[setup.ext1.pk])
    assert b"MHQ-1" in _client(setup, "operator").get(history).content
    assert _client(setup, "guard", "b").get(history).status_code == 404
    assert _client(setup, "resident").get(reverse("inspections:due")).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "inspections:due",
        "inspections:records",
        "inspections:statistics",
        "inspections:plan_list",
        "inspections:checklist_list",
        "inspections:plan_create",
        "inspections:scan",
    ],
)
def test_admin_pages_render(setup: Setup, name: str) -> None:
    inspect(setup, fail=1)
    response = _client(setup, "community_admin").get(reverse(name))
    assert response.status_code == 200


def test_due_all_for_viewers(setup: Setup) -> None:
    page = _client(setup, "operator").get(reverse("inspections:due") + "?all=1")
    assert page.status_code == 200
    assert b"MHQ-2" in page.content


def test_plan_create_and_edit_pages(setup: Setup) -> None:
    client = _client(setup, "community_admin")
    door_list = Checklist.objects.get(community=setup.community, asset_type="fire_door")
    response = client.post(
        reverse("inspections:plan_create"),
        {
            "name": "每日安全出口检查",
            "checklist": door_list.pk,
            "frequency": "DAILY",
            "first_start": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    plan = InspectionPlan.objects.get(name="每日安全出口检查")
    assert plan.rrule == "FREQ=DAILY"
    bad = client.post(
        reverse("inspections:plan_edit", args=[plan.pk]),
        {
            "name": "x",
            "checklist": door_list.pk,
            "frequency": "DAILY",
            "rrule": "FREQ=HOURLY",
            "first_start": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert bad.status_code == 200
    assert b"daily, weekly or monthly" in bad.content
    plan.refresh_from_db()
    assert plan.name == "每日安全出口检查"
    guard = _client(setup)
    assert guard.get(reverse("inspections:plan_edit", args=[plan.pk])).status_code == 403
    assert (
        _client(setup, "community_admin", "b")
        .get(reverse("inspections:plan_edit", args=[plan.pk]))
        .status_code
        == 404
    )


def test_checklist_editor(setup: Setup) -> None:
    client = _client(setup, "community_admin")
    checklist = setup.plan.checklist
    url = reverse("inspections:checklist", args=[checklist.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"action": "add", "text": "喷嘴无堵塞", "hazard_category": "fire_equipment"})
    item = checklist.items.get(text="喷嘴无堵塞")
    client.post(
        url,
        {
            "action": "item",
            "item": item.pk,
            f"i{item.pk}-text": "喷嘴通畅",
            f"i{item.pk}-hazard_category": "fire_equipment",
            f"i{item.pk}-order": "9",
        },
    )
    item.refresh_from_db()
    assert (item.text, item.order, item.is_active) == ("喷嘴通畅", 9, False)
    assert _client(setup).post(url, {"action": "add", "text": "x"}).status_code == 403
    created = client.post(
        reverse("inspections:checklist_list"), {"name": "道闸检查", "asset_type": "barrier"}
    )
    assert created.status_code == 302


def test_default_checklists_button(world: Any) -> None:
    client = Client()
    client.force_login(world.user("community_admin", "b"))
    response = client.post(reverse("inspections:checklist_list"), {"action": "defaults"})
    assert response.status_code == 302
    assert Checklist.objects.filter(community=world.b.community).count() == 5
    guard = Client()
    guard.force_login(world.user("guard", "b"))
    assert (
        guard.post(reverse("inspections:checklist_list"), {"action": "defaults"}).status_code == 403
    )


def test_checkpoint_page_offers_due_assets(setup: Setup) -> None:
    checkpoint = Checkpoint.objects.create(
        community=setup.community,
        name="东门",
        placement="zone",
        zone=setup.world.a.zone,
        code_salt="s",
    )
    InspectionPlan.objects.filter(pk=setup.plan.pk).update(checkpoint=checkpoint)
    page = _client(setup).get(reverse("inspections:at_checkpoint", args=[checkpoint.pk]))
    assert page.status_code == 200
    assert b"Inspect MHQ-1" in page.content
    other = _client(setup, "guard", "b")
    assert other.get(reverse("inspections:at_checkpoint", args=[checkpoint.pk])).status_code == 404


def test_abandon(setup: Setup) -> None:
    client = _client(setup)
    client.post(reverse("inspections:start"), {"asset": setup.ext1.pk, "plan": setup.plan.pk})
    record = Inspection.objects.get()
    assert (
        _client(setup, "grid_worker")
        .post(reverse("inspections:abandon", args=[record.pk]))
        .status_code
        == 302
    )
    assert Inspection.objects.filter(pk=record.pk).exists()
    client.post(reverse("inspections:abandon", args=[record.pk]))
    assert not Inspection.objects.filter(pk=record.pk).exists()


def test_statistics_page_with_days(setup: Setup) -> None:
    inspect(setup, fail=1, at=timezone.now() - dt.timedelta(days=2))
    page = _client(setup, "operator").get(reverse("inspections:statistics") + "?days=7")
    assert page.status_code == 200
    assert b"failures" in page.content


def test_due_page_query_count_does_not_grow_with_assets(
    setup: Setup, django_assert_max_num_queries: Any
) -> None:
    from anwang.inspections.tests.support import asset

    client = _client(setup)
    client.get(reverse("inspections:due"))  # session and scope warmed up
    with django_assert_max_num_queries(20) as first:
        client.get(reverse("inspections:due"))
    for n in range(15):
        asset(setup.community, f"Y-{n}")
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = client.get(reverse("inspections:due"))
    assert page.content.count(b'data-testid="inspect"') == 17


def test_the_patrol_run_page_offers_inspections_at_their_checkpoint(setup: Setup) -> None:
    from anwang.accounts.selectors import scope_for
    from anwang.patrols.runs import _inspections_at_checkpoints

    checkpoint = Checkpoint.objects.create(
        community=setup.community,
        name="东门",
        placement="zone",
        zone=setup.world.a.zone,
        code_salt="s",
    )
    guard = scope_for(setup.world.user("guard"))
    assert _inspections_at_checkpoints(guard, setup.community.pk) == {}
    InspectionPlan.objects.filter(pk=setup.plan.pk).update(checkpoint=checkpoint)
    assert _inspections_at_checkpoints(guard, setup.community.pk) == {
        str(checkpoint.pk): reverse("inspections:at_checkpoint", args=[checkpoint.pk])
    }
    resident = scope_for(setup.world.user("resident"))
    assert _inspections_at_checkpoints(resident, setup.community.pk) == {}

"""Tests of the hazard pages: reporting on a phone, nearby suggestions, my reports, the staff
list with filters and export, the workflow forms, statistics and photos."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anwang.hazards.choices import HazardStatus
from anwang.hazards.models import Hazard, HazardFollower
from anwang.hazards.tests.support import LAT, LON, advance, jpeg, report, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """Pages in English, so messages are asserted on their source text."""
    settings.LANGUAGE_CODE = "en"


def test_report_form_shows_phone_inputs(world: Any) -> None:
    """The photo input opens the camera; the building list is the resident's community's."""
    response = world.client_for("resident").get(reverse("hazards:report"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'accept="image/*"' in html
    assert 'capture="environment"' in html
    assert "data-locate" in html
    assert world.a.building.name in html
    assert 'name="anonymous"' in html


def test_reporting_creates_the_report_and_shows_it(world: Any) -> None:
    """A resident posts the form with a photo and lands on the report's page."""
    client = world.client_for("resident")
    response = client.post(
        reverse("hazards:report"),
        {
            "community": world.a.community.pk,
            "category": "fire_exit_blocked",
            "latitude": LAT,
            "longitude": LON,
            "description": "楼梯间堆放杂物",
            "photo": upload("IMG.jpg", jpeg(gps=True)),
        },
    )
    hazard = Hazard.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("hazards:detail", args=[hazard.pk])
    assert hazard.reporter == world.user("resident")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "楼梯间堆放杂物" in page.content.decode()
    photo = client.get(reverse("hazards:photo", args=[hazard.pk, "thumb"]))
    assert photo.status_code == 200


def test_report_without_a_place_shows_the_error_and_keeps_the_input(world: Any) -> None:
    """Nothing is lost: the form comes back with the description and a message."""
    response = world.client_for("resident").post(
        reverse("hazards:report"),
        {"community": world.a.community.pk, "category": "other", "description": "保留我"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Say where the hazard is" in html
    assert "保留我" in html
    assert not Hazard.objects.exists()


def test_spoofed_photo_is_refused_on_the_form(world: Any) -> None:
    """A file that is not an image, named .jpg, is refused with a clear message."""
    response = world.client_for("resident").post(
        reverse("hazards:report"),
        {
            "community": world.a.community.pk,
            "category": "other",
            "address": "北门",
            "photo": upload("evil.jpg", b"<?php system($_GET['c']); ?>"),
        },
    )
    assert response.status_code == 400
    assert "Upload a photo (JPEG, PNG or WebP)." in response.content.decode()
    assert not Hazard.objects.exists()


def test_checkpoint_prefills_the_place(world: Any) -> None:
    """``?checkpoint=`` starts the report at a patrol checkpoint's building and pin."""
    from anwang.patrols.models import Checkpoint

    checkpoint = Checkpoint.objects.create(
        community=world.a.community,
        name="东门岗",
        placement="building",
        building=world.a.building,
        point={"type": "Point", "coordinates": [LON, LAT]},
        code_salt="x" * 16,
    )
    response = world.client_for("guard").get(
        reverse("hazards:report") + f"?checkpoint={checkpoint.pk}"
    )
    html = response.content.decode()
    assert f'value="{LAT}"' in html
    assert "东门岗" in html
    other = world.client_for("guard", "b").get(
        reverse("hazards:report") + f"?checkpoint={checkpoint.pk}"
    )
    assert "东门岗" not in other.content.decode()


def test_nearby_fragment_offers_to_follow(world: Any) -> None:
    """The htmx fragment lists an open report of the same kind nearby; following it works."""
    existing = report(world, role="guard")
    client = world.client_for("volunteer")
    response = client.get(
        reverse("hazards:nearby"),
        {
            "community": world.a.community.pk,
            "category": "broken_light",
            "latitude": LAT,
            "longitude": LON,
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert f'data-hazard="{existing.pk}"' in html
    assert "Follow this one instead" in html
    empty = client.get(
        reverse("hazards:nearby"),
        {"community": world.a.community.pk, "category": "other", "latitude": LAT, "longitude": LON},
    )
    assert "data-hazard" not in empty.content.decode()
    response = client.post(reverse("hazards:follow", args=[existing.pk]))
    assert response.status_code == 302
    assert HazardFollower.objects.filter(hazard=existing, user=world.user("volunteer")).exists()
    assert client.get(reverse("hazards:detail", args=[existing.pk])).status_code == 200
    assert client.get(reverse("hazards:mine")).content.decode().count("data-hazard=") == 1


def test_nearby_of_another_community_is_not_found(world: Any) -> None:
    """Suggestions never reveal another community's reports."""
    response = world.client_for("resident", "b").get(
        reverse("hazards:nearby"),
        {"community": world.a.community.pk, "category": "other", "latitude": LAT, "longitude": LON},
    )
    assert response.status_code == 404


def test_my_reports_show_the_status(world: Any) -> None:
    """The reporter sees each report with where it stands."""
    hazard = advance(world, report(world), "closed")
    html = world.client_for("resident").get(reverse("hazards:mine")).content.decode()
    assert f'data-hazard="{hazard.pk}" data-status="closed"' in html


def test_others_cannot_open_a_report(world: Any) -> None:
    """Another resident, or another community's staff, get 404; hazard staff see it."""
    hazard = report(world)
    url = reverse("hazards:detail", args=[hazard.pk])
    assert world.client_for("volunteer").get(url).status_code == 404
    assert world.client_for("community_admin", "b").get(url).status_code == 404
    assert world.client_for("guard").get(url).status_code == 200
    photo = reverse("hazards:photo", args=[hazard.pk, "photo"])
    assert world.client_for("volunteer").get(photo).status_code == 404


def test_anonymous_reporter_is_hidden_from_staff(world: Any) -> None:
    """Staff see "Anonymous"; the reporter sees their own name."""
    hazard = report(world, anonymous=True)
    url = reverse("hazards:detail", args=[hazard.pk])
    name = str(world.user("resident"))
    assert name not in world.client_for("community_admin").get(url).content.decode()
    assert name in world.client_for("resident").get(url).content.decode()


def test_staff_list_filters_and_exports(world: Any) -> None:
    """Filters narrow the list; the CSV export has the same rows with Excel's BOM."""
    light = report(world)
    exit_ = report(world, category="fire_exit_blocked", address="B1")
    report(world, side="b")
    client = world.client_for("community_admin")
    html = client.get(reverse("hazards:list")).content.decode()
    assert f'data-hazard="{light.pk}"' in html
    assert f'data-hazard="{exit_.pk}"' in html
    filtered = client.get(reverse("hazards:list"), {"category": "fire_exit_blocked"})
    assert f'data-hazard="{light.pk}"' not in filtered.content.decode()
    csv = client.get(reverse("hazards:export"), {"category": "fire_exit_blocked"})
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert len(text.strip().splitlines()) == 2
    assert "B1" in text
    assert world.client_for("resident").get(reverse("hazards:list")).status_code == 403


def test_overdue_filter(world: Any) -> None:
    """The overdue filter lists triaged or assigned reports past their deadline."""
    late = advance(world, report(world), "assigned", at=timezone.now() - dt.timedelta(days=3))
    fresh = advance(world, report(world), "assigned")
    html = (
        world.client_for("community_admin")
        .get(reverse("hazards:list"), {"overdue": "on"})
        .content.decode()
    )
    assert f'data-hazard="{late.pk}"' in html
    assert f'data-hazard="{fresh.pk}"' not in html


def _post(client: Client, hazard: Hazard, action: str, data: dict[str, Any]) -> Any:
    return client.post(reverse("hazards:action", args=[hazard.pk, action]), data)


def test_workflow_through_the_pages(world: Any) -> None:
    """Admin triages and assigns, the guard rectifies, the grid worker verifies, admin closes."""
    hazard = report(world)
    admin = world.client_for("community_admin")
    assert _post(admin, hazard, "triage", {"severity": "medium"}).status_code == 302
    response = _post(admin, hazard, "assign", {"assignee": world.user("guard").pk})
    assert response.status_code == 302
    guard = world.client_for("guard")
    assert (
        'data-action="rectify"'
        in guard.get(reverse("hazards:detail", args=[hazard.pk])).content.decode()
    )
    refused = _post(guard, hazard, "rectify", {"note": "done"})
    assert refused.status_code == 400
    response = _post(guard, hazard, "rectify", {"after_photo": upload(), "note": "修好了"})
    assert response.status_code == 302
    # The rectifier is not offered verification, and is refused if they try.
    refused = _post(guard, hazard, "verify", {"result": "pass"})
    assert refused.status_code in (400, 403)
    assert (
        _post(world.client_for("grid_worker"), hazard, "verify", {"result": "pass"}).status_code
        == 302
    )
    assert _post(admin, hazard, "close", {}).status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == HazardStatus.CLOSED


def test_illegal_action_shows_the_reason(world: Any) -> None:
    """Closing a report that is only reported shows why it cannot be done."""
    hazard = report(world)
    response = _post(world.client_for("community_admin"), hazard, "close", {})
    assert response.status_code == 400
    assert "cannot be closed" in response.content.decode()


def test_resident_cannot_run_the_workflow(world: Any) -> None:
    """The reporter may comment but not triage their own report."""
    hazard = report(world)
    client = world.client_for("resident")
    assert _post(client, hazard, "triage", {"severity": "low"}).status_code == 404
    assert _post(client, hazard, "comment", {"note": "还在"}).status_code == 302
    assert hazard.steps.filter(action="comment").count() == 1


def test_statistics_page(world: Any) -> None:
    """Figures by category, building and zone."""
    advance(world, report(world, building=world.a.building), "closed")
    report(world, category="other")
    response = world.client_for("community_admin").get(reverse("hazards:statistics"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="by-category"' in html
    assert world.a.building.name in html
    assert world.a.zone.name in html


def test_list_query_count_does_not_grow(world: Any, django_assert_max_num_queries: Any) -> None:
    """The staff list costs a fixed number of queries, however many rows."""
    for _ in range(15):
        report(world, building=world.a.building, unit=world.a.unit)
    client = world.client_for("community_admin")
    client.get(reverse("hazards:list"))
    with django_assert_max_num_queries(20):
        client.get(reverse("hazards:list"))


def test_menu_dashboard_and_my_work_show_hazards(world: Any) -> None:
    """Staff get the list in the menu and figures on the dashboard; residents get the report
    entry; the responsible person finds the report in 'my work'."""
    hazard = advance(world, report(world), "assigned")
    admin = world.client_for("community_admin")
    dashboard = admin.get(reverse("core:dashboard")).content.decode()
    assert 'data-stat="hazards_overdue"' in dashboard
    assert reverse("hazards:list") in dashboard
    resident_page = world.client_for("resident").get(reverse("hazards:mine")).content.decode()
    assert f'href="{reverse("hazards:mine")}"' in resident_page
    work = world.client_for("guard").get(reverse("core:my_work")).content.decode()
    assert reverse("hazards:detail", args=[hazard.pk]) in work


def test_the_report_form_loads_the_buildings_of_the_community_chosen(world: Any) -> None:
    """Someone of two communities picks the other one: the form shows its buildings; a
    community they do not belong to is ignored."""
    from anwang.accounts.models import Membership
    from anwang.places.models import Building

    guard = world.user("guard")
    Membership.objects.create(user=guard, role="guard", community=world.b.community)
    Building.objects.filter(pk=world.b.building.pk).update(name="乙社区3号楼")
    client = Client()
    client.force_login(guard)
    chosen = client.get(reverse("hazards:report"), {"community": world.b.community.pk})
    assert chosen.status_code == 200
    assert "乙社区3号楼" in chosen.content.decode()
    Membership.objects.filter(user=guard, community=world.b.community).delete()
    other = client.get(reverse("hazards:report"), {"community": world.b.community.pk})
    assert "乙社区3号楼" not in other.content.decode()

"""The responsibility pages: the matrix grouped by zones, buildings and asset categories
with gaps in red, the gaps page, the form (add, change, delete) for managers; 403 for those
who may only look or see nothing here; the alarm page names who answers for its place."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.alarms.models import Alarm
from anwang.audit.models import AuditEvent
from anwang.facilities.models import Asset
from anwang.responsibilities.models import Responsibility

from .support import duty, responsibility

pytestmark = pytest.mark.django_db

VIEWERS = ["community_admin", "operator", "guard", "grid_worker", "supervisor"]


def page(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English pages."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


@pytest.mark.parametrize("role", VIEWERS)
def test_matrix_renders_for_everyone_who_may_see_it(world: Any, role: str) -> None:
    Asset.objects.create(community=world.a.community, asset_type="aed", name="AED", code="A1")
    responsibility(world, responsible_person=world.user("grid_worker"), deputy_role="guard")
    response = page(world, role).get("/responsibilities/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "翠苑社区" in html
    assert 'data-testid="matrix-zones"' in html
    assert 'data-testid="matrix-buildings"' in html
    assert 'data-testid="matrix-asset-types"' in html
    assert "a_grid_worker" in html
    assert "Guard on duty" in html
    assert 'class="gap" data-gap="unassigned"' in html  # the building and the AED category
    assert "文华社区" not in html
    assert ("Add a responsibility" in html) == (role in {"community_admin", "supervisor"})
    gaps = page(world, role).get("/responsibilities/gaps/")
    assert gaps.status_code == 200
    assert gaps.content.decode().count('data-gap="unassigned"') == 2


def test_a_duty_role_shows_who_holds_it_now_or_nobody_in_red(world: Any) -> None:
    responsibility(world, responsible_role="guard")
    html = page(world).get("/responsibilities/").content.decode()
    assert 'data-gap="nobody_on_duty"' in html
    assert "Nobody is on duty as Guard on duty." in html
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    duty(world, start=start)
    html = page(world).get("/responsibilities/").content.decode()
    assert 'data-gap="nobody_on_duty"' not in html
    assert "a_guard" in html


@pytest.mark.parametrize("role", ["resident", "volunteer", "auditor"])
def test_others_are_refused(world: Any, role: str) -> None:
    item = responsibility(world)
    c = page(world, role)
    assert c.get("/responsibilities/").status_code == 403
    assert c.get("/responsibilities/gaps/").status_code == 403
    assert c.get("/responsibilities/new/").status_code == 403
    assert c.get(f"/responsibilities/{item.pk}/").status_code == 404
    assert c.post(f"/responsibilities/{item.pk}/delete/").status_code == 404
    assert Responsibility.objects.filter(pk=item.pk).exists()


@pytest.mark.parametrize("role", ["operator", "guard", "grid_worker"])
def test_viewers_may_not_edit(world: Any, role: str) -> None:
    item = responsibility(world)
    c = page(world, role)
    assert c.get("/responsibilities/new/").status_code == 403
    assert c.get(f"/responsibilities/{item.pk}/").status_code == 403
    assert c.post(f"/responsibilities/{item.pk}/delete/").status_code == 403
    assert Responsibility.objects.filter(pk=item.pk).exists()


def test_another_communitys_admin_gets_404(world: Any) -> None:
    item = responsibility(world)
    c = page(world, "community_admin", "b")
    assert c.get(f"/responsibilities/{item.pk}/").status_code == 404
    assert c.post(f"/responsibilities/{item.pk}/delete/").status_code == 404
    html = c.get("/responsibilities/").content.decode()
    assert "文华社区" in html
    assert "北门" in html  # b's own zone of the same name
    assert "a_guard" not in html


def test_form_adds_changes_and_deletes(world: Any) -> None:
    c = page(world)
    new = c.get(f"/responsibilities/new/?area=building:{world.a.building.pk}")
    assert new.status_code == 200
    assert f'value="building:{world.a.building.pk}" selected' in new.content.decode()
    saved = c.post(
        "/responsibilities/new/",
        {
            "area": f"building:{world.a.building.pk}",
            "responsible": "role:guard",
            "deputy": f"person:{world.user('grid_worker').pk}",
            "note": "消防通道",
        },
    )
    assert saved.status_code == 302, saved.content.decode()
    item = Responsibility.objects.get()
    assert (item.building, item.responsible_role, item.deputy_person) == (
        world.a.building,
        "guard",
        world.user("grid_worker"),
    )
    duplicate = c.post(
        "/responsibilities/new/",
        {"area": f"building:{world.a.building.pk}", "responsible": "role:operator"},
    )
    assert duplicate.status_code == 400
    assert "already answers for" in duplicate.content.decode()
    changed = c.post(
        f"/responsibilities/{item.pk}/",
        {
            "area": f"building:{world.a.building.pk}",
            "responsible": f"person:{world.user('operator').pk}",
            "deputy": "",
        },
    )
    assert changed.status_code == 302
    item.refresh_from_db()
    assert (item.responsible_person, item.responsible_role, item.deputy_person) == (
        world.user("operator"),
        "",
        None,
    )
    edit = c.get(f"/responsibilities/{item.pk}/").content.decode()
    assert 'data-testid="delete-form"' in edit
    assert c.post(f"/responsibilities/{item.pk}/delete/").status_code == 302
    assert not Responsibility.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="responsibility.").count() == 3


def test_form_refuses_missing_responsible_and_strangers(world: Any) -> None:
    c = page(world)
    missing = c.post("/responsibilities/new/", {"area": f"zone:{world.a.zone.pk}"})
    assert missing.status_code == 400
    stranger = c.post(
        "/responsibilities/new/",
        {"area": f"zone:{world.b.zone.pk}", "responsible": "role:guard"},
    )
    assert stranger.status_code == 400  # b's zone is not among the choices
    assert not Responsibility.objects.exists()


def test_dashboard_shows_the_gap_figure(world: Any) -> None:
    html = page(world).get("/dashboard/").content.decode()
    assert "Areas nobody answers for" in html


def test_alarm_page_names_who_answers(world: Any) -> None:
    responsibility(world, responsible_person=world.user("grid_worker"))
    now = timezone.now()
    alarm = Alarm.objects.create(
        community=world.a.community,
        priority=2,
        title="Smoke",
        zone=world.a.zone,
        group_key="zone",
        raised_at=now,
        last_fired_at=now,
    )
    html = page(world, "operator").get(f"/alarms/{alarm.pk}/").content.decode()
    assert 'data-testid="answering"' in html
    assert "a_grid_worker" in html


def test_matrix_queries_do_not_grow_with_rows(world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from anwang.places.models import Building, Zone

    duty(world, start=timezone.now() - dt.timedelta(hours=1))
    responsibility(world, responsible_role="guard", deputy_person=world.user("operator"))
    c = page(world)
    c.get("/responsibilities/")  # the first request of a session warms caches
    with CaptureQueriesContext(connection) as few:
        assert c.get("/responsibilities/").status_code == 200
    for number in range(2, 6):
        building = Building.objects.create(
            community=world.a.community, name=f"{number}号楼", number=str(number)
        )
        zone = Zone.objects.create(
            community=world.a.community, name=f"区域{number}", kind="gate", geometry={}
        )
        responsibility(
            world,
            area_kind="building",
            zone=None,
            building=building,
            responsible_person=world.user("operator"),
            deputy_role="guard",
        )
        responsibility(world, zone=zone, responsible_person=world.user("grid_worker"))
    with CaptureQueriesContext(connection) as many:
        assert c.get("/responsibilities/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)

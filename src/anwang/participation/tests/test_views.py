"""Points pages: my points, the ledger, reversal, adjustment, rules; scoping and queries."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from anwang.participation import services
from anwang.participation.choices import PointSource
from anwang.participation.models import PointEntry, PointRule

pytestmark = pytest.mark.django_db


def award(world: Any, key: str, user: Any = None, side: str = "a") -> Any:
    return services.points_award(
        community=getattr(world, side).community,
        user=user or world.user("resident", side),
        source_kind=PointSource.HAZARD_VERIFIED,
        source_key=key,
        occurred_at=timezone.now() - dt.timedelta(minutes=5),
    )


def test_my_points(world, client_for, django_assert_max_num_queries):
    services.point_rule_set(
        actor=None,
        community=world.a.community,
        source_kind=PointSource.HAZARD_VERIFIED,
        points_per_unit=30,
        daily_cap=40,
        is_active=True,
    )
    for number in range(3):
        award(world, f"hazard:{number}")
    award(world, "hazard:b", side="b")
    c = client_for("resident")
    with django_assert_max_num_queries(15):
        response = c.get("/participation/me/")
    assert response.status_code == 200
    assert f'data-testid="balance-{world.a.community.pk}"' in response.text
    assert "20 over the daily cap" in response.text
    assert "30 over the daily cap" in response.text
    assert f'data-testid="balance-{world.b.community.pk}"' not in response.text


def test_ledger_reverse_and_adjust(world, client_for, django_assert_max_num_queries):
    for number in range(20):
        award(world, f"hazard:{number}", user=world.user("guard"))
    entry = award(world, "hazard:x")
    award(world, "hazard:b", side="b")
    c = client_for("community_admin")
    with django_assert_max_num_queries(20):
        response = c.get("/participation/ledger/")
    assert response.status_code == 200
    assert "hazard:19" in response.text
    assert "hazard:b" not in response.text
    assert f"/participation/ledger/{entry.pk}/reverse/" in response.text
    viewer = client_for("grid_worker").get("/participation/ledger/")
    assert viewer.status_code == 200
    assert "/reverse/" not in viewer.text
    assert client_for("resident").get("/participation/ledger/").status_code == 403
    assert (
        client_for("grid_worker").get(f"/participation/ledger/{entry.pk}/reverse/").status_code
        == 403
    )
    assert (
        client_for("community_admin", "b")
        .get(f"/participation/ledger/{entry.pk}/reverse/")
        .status_code
        == 404
    )
    url = f"/participation/ledger/{entry.pk}/reverse/"
    response = c.post(url, {"reason": ""})
    assert response.status_code == 400
    response = c.post(url, {"reason": "not a hazard"})
    assert response.status_code == 302
    assert PointEntry.objects.get(reverses=entry).points == -20
    response = c.post(url, {"reason": "again"})
    assert "This entry was already reversed." in response.text
    response = c.post(
        "/participation/adjust/",
        {"user": world.user("resident").pk, "points": "7", "reason": "fair"},
    )
    assert response.status_code == 302
    assert PointEntry.objects.filter(kind="adjustment", points=7).exists()
    assert client_for("grid_worker").get("/participation/adjust/").status_code == 403


def test_rules_editor(world, client_for):
    c = client_for("community_admin")
    response = c.get("/participation/rules/")
    assert response.status_code == 200
    assert 'name="hazard_verified-points_per_unit"' in response.text
    data = {}
    for source in PointSource.values:
        data[f"{source}-points_per_unit"] = "5"
        data[f"{source}-daily_cap"] = ""
        data[f"{source}-is_active"] = "on"
    data["patrol_hour-daily_cap"] = "25"
    response = c.post("/participation/rules/", data)
    assert response.status_code == 302
    rule = PointRule.objects.get(community=world.a.community, source_kind="patrol_hour")
    assert (rule.points_per_unit, rule.daily_cap) == (5, 25)
    data["patrol_hour-points_per_unit"] = "-3"
    response = c.post("/participation/rules/", data)
    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.points_per_unit == 5
    viewer = client_for("supervisor").get("/participation/rules/")
    assert viewer.status_code == 200
    assert 'name="hazard_verified-points_per_unit"' not in viewer.text
    assert client_for("supervisor").post("/participation/rules/", data).status_code == 403


def test_django_admin_pages(world):
    from django.test import Client

    entry = award(world, "hazard:1")
    c = Client()
    c.force_login(world.platform_admin)
    assert c.get("/admin/participation/pointrule/").status_code == 200
    assert c.get("/admin/participation/pointentry/").status_code == 200
    assert c.get(f"/admin/participation/pointentry/{entry.pk}/change/").status_code == 200
    assert c.get("/admin/participation/pointentry/add/").status_code == 403

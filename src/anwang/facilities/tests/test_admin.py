"""Tests of the facilities admin and of the app's place in the shared pages (menu, dashboard,
'my work')."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from anwang.facilities.tests.support import extinguisher, supply

pytestmark = pytest.mark.django_db


def test_admin_lists_and_shows_assets_read_only_history(world: Any) -> None:
    """Platform administrators browse assets with their history; adding is left to the page."""
    asset = extinguisher(world)
    client = Client()
    client.force_login(world.platform_admin)
    assert client.get("/admin/facilities/asset/").status_code == 200
    change = client.get(f"/admin/facilities/asset/{asset.pk}/change/")
    assert change.status_code == 200
    assert "created" in change.content.decode() or "registered" in change.content.decode()
    assert client.get("/admin/facilities/asset/add/").status_code == 403


def test_menu_dashboard_and_my_work(world: Any) -> None:
    """Staff find the register in the menu; managers see the figures and their work."""
    expired = extinguisher(world, expires_on=dt.date(2020, 1, 1))
    low = supply(world, quantity="1", minimum="5")
    admin = world.client_for("community_admin")
    dashboard = admin.get("/dashboard/").content.decode()
    assert "Expired assets" in dashboard
    assert "Supplies below minimum stock" in dashboard
    work = admin.get("/my-work/").content.decode()
    assert f"/facilities/{expired.pk}/" in work
    assert f"/facilities/{low.pk}/" in work
    assert 'href="/facilities/"' in world.client_for("guard").get("/dashboard/").content.decode()
    resident_home = world.client_for("resident").get("/my-work/").content.decode()
    assert 'href="/facilities/"' not in resident_home

"""Tests of the facilities pages: list with filters, form, detail with history, stock,
retirement, labels, the map layer and the phone scan page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from anwang.facilities.models import Asset
from anwang.facilities.tests.support import LAT, LON, extinguisher, jpeg, supply, upload

pytestmark = pytest.mark.django_db


def test_list_filters(world: Any) -> None:
    """The list shows the community's assets and filters by type, expiry and low stock."""
    fire = extinguisher(world, expires_on=dt.date(2020, 1, 1))
    water = supply(world, quantity="1", minimum="5")
    extinguisher(world, side="b", name="别人的灭火器")
    client = world.client_for("guard")
    page = client.get("/facilities/")
    assert page.status_code == 200
    assert {a.pk for a in page.context["page"].object_list} == {fire.pk, water.pk}
    assert "别人的灭火器" not in page.content.decode()
    assert [a.pk for a in client.get("/facilities/?expiring=on").context["page"]] == [fire.pk]
    assert [a.pk for a in client.get("/facilities/?below_minimum=on").context["page"]] == [water.pk]
    typed = client.get("/facilities/?asset_type=emergency_supply").context["page"]
    assert [a.pk for a in typed] == [water.pk]
    assert b'data-testid="add-asset"' not in page.content  # guards do not register


def test_list_query_count_does_not_grow(world: Any, django_assert_max_num_queries: Any) -> None:
    """The list costs the same number of queries for 2 assets as for 20."""
    client = world.client_for("community_admin")
    for _ in range(2):
        extinguisher(world, building=None, unit=world.a.unit.pk, zone=world.a.zone.pk)
    client.get("/facilities/")
    with django_assert_max_num_queries(14) as few:
        client.get("/facilities/")
    for _ in range(18):
        extinguisher(world, unit=world.a.unit.pk, zone=world.a.zone.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/facilities/")


def test_register_with_photo_and_edit(world: Any) -> None:
    """A manager registers an extinguisher with a photo, then edits it; both are in the
    history."""
    client = world.client_for("community_admin")
    assert client.get("/facilities/new/?type=fire_extinguisher").status_code == 200
    response = client.post(
        "/facilities/new/",
        {
            "asset_type": "fire_extinguisher",
            "name": "2号楼灭火器",
            "status": "in_service",
            "building": world.a.building.pk,
            "latitude": LAT,
            "longitude": LON,
            "extinguisher_type": "co2",
            "capacity_kg": "3",
            "expires_on": "2030-05-01",
            "photo": upload("fire.jpg", jpeg(gps=True)),
        },
    )
    assert response.status_code == 302, response.content
    asset = Asset.objects.get()
    assert asset.photo
    assert asset.photo_thumbnail
    assert client.get(f"/facilities/{asset.pk}/photo/thumb/").status_code == 200
    edit = client.post(
        f"/facilities/{asset.pk}/edit/",
        {
            "asset_type": "fire_extinguisher",
            "name": "2号楼灭火器",
            "code": asset.code,
            "status": "out_of_service",
            "building": world.a.building.pk,
            "extinguisher_type": "co2",
            "capacity_kg": "3",
        },
    )
    assert edit.status_code == 302
    detail = client.get(f"/facilities/{asset.pk}/")
    assert detail.status_code == 200
    assert [e.kind for e in detail.context["history"]] == ["updated", "created"]
    assert "out of service" in detail.content.decode()


def test_form_errors_are_shown_and_nothing_saved(world: Any) -> None:
    """A spoofed photo is refused on its field with a 400, and nothing is registered."""
    client = world.client_for("community_admin")
    response = client.post(
        "/facilities/new/",
        {
            "asset_type": "aed",
            "name": "AED",
            "status": "in_service",
            "photo": upload("x.jpg", b"not an image"),
        },
    )
    assert response.status_code == 400
    assert "Upload a photo (JPEG, PNG or WebP)." in response.content.decode()
    assert not Asset.objects.exists()


def test_guard_may_not_register_or_edit(world: Any) -> None:
    """Pages that change the register are for managers only."""
    asset = extinguisher(world)
    guard = world.client_for("guard")
    assert guard.get("/facilities/new/").status_code == 403
    assert guard.get(f"/facilities/{asset.pk}/edit/").status_code == 403
    assert guard.post(f"/facilities/{asset.pk}/retire/", {"reason": "x"}).status_code == 403
    assert guard.get("/facilities/labels.pdf").status_code == 403
    other = world.client_for("community_admin", "b")
    assert other.get(f"/facilities/{asset.pk}/").status_code == 404


def test_stock_form(world: Any) -> None:
    """Stock out beyond what is there is shown as an error on the quantity."""
    water = supply(world, quantity="3")
    client = world.client_for("community_admin")
    bad = client.post(
        f"/facilities/{water.pk}/stock/", {"direction": "out", "amount": "5", "reason": "发放"}
    )
    assert bad.status_code == 400
    assert "cannot take out 5" in bad.content.decode()
    good = client.post(
        f"/facilities/{water.pk}/stock/", {"direction": "in", "amount": "2", "reason": "补货"}
    )
    assert good.status_code == 302
    water.refresh_from_db()
    assert water.quantity == 5


def test_retire(world: Any) -> None:
    """Retiring needs a reason, then hides the asset from the default list."""
    asset = extinguisher(world)
    client = world.client_for("community_admin")
    assert client.post(f"/facilities/{asset.pk}/retire/", {"reason": ""}).status_code == 400
    assert client.post(f"/facilities/{asset.pk}/retire/", {"reason": "报废"}).status_code == 302
    assert not client.get("/facilities/").context["page"].object_list
    assert client.get("/facilities/?status=retired").context["page"].object_list
    assert client.get(f"/facilities/{asset.pk}/edit/").status_code == 302


def test_labels_are_pdfs(world: Any) -> None:
    """One label or a sheet of the chosen assets, as PDF."""
    one = extinguisher(world)
    two = supply(world)
    client = world.client_for("community_admin")
    single = client.get(f"/facilities/{one.pk}/label.pdf")
    assert single.status_code == 200
    assert single["Content-Type"] == "application/pdf"
    assert single.content.startswith(b"%PDF")
    sheet = client.get(f"/facilities/labels.pdf?selected=yes&asset={one.pk}&asset={two.pk}")
    assert sheet.status_code == 200
    assert sheet.content.startswith(b"%PDF")
    nothing = client.get("/facilities/labels.pdf?selected=yes")
    assert nothing.status_code == 302


def test_map_geojson(world: Any) -> None:
    """The map layer lists placed assets of the community, and not another's."""
    placed = extinguisher(world)
    client = world.client_for("guard")
    body = client.get(f"/facilities/map.geojson?community={world.a.community.pk}").json()
    assert [f["id"] for f in body["features"]] == [placed.pk]
    assert client.get(f"/facilities/map.geojson?community={world.b.community.pk}").status_code == (
        404
    )


def test_scan_page_on_a_phone(world: Any) -> None:
    """The label's address opens the asset for staff of its community; others get 404 and
    anonymous visitors are sent to log in."""
    asset = extinguisher(world, expires_on=dt.date(2020, 1, 1))
    url = f"/facilities/a/{world.a.community.slug}/{asset.code}/"
    page = world.client_for("guard").get(url, HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert page.status_code == 200
    content = page.content.decode()
    assert asset.name in content
    assert 'data-testid="expired"' in content
    assert 'name="viewport"' in content
    assert f"/inspections/start/?asset={asset.pk}" in content  # guards inspect
    operator = world.client_for("operator").get(url).content.decode()
    assert 'data-testid="inspect-now"' not in operator  # operators only look
    assert world.client_for("guard", "b").get(url).status_code == 404
    from django.test import Client

    assert Client().get(url).status_code == 302


def test_a_point_placed_on_the_map_gives_the_position(world: Any) -> None:
    """The form's map writes a GeoJSON point; it sets the latitude and longitude, the edit
    form shows it again, and a point that is not one is refused on its field."""
    client = world.client_for("community_admin")
    page = client.get("/facilities/new/?type=aed")
    assert 'data-anwang-map="editor"' in page.content.decode()
    values = {"asset_type": "aed", "name": "AED", "status": "in_service"}
    point = {"type": "Point", "coordinates": [LON, LAT]}
    response = client.post("/facilities/new/", {**values, "point": json.dumps(point)})
    assert response.status_code == 302, response.content
    asset = Asset.objects.get()
    assert (asset.latitude, asset.longitude) == (LAT, LON)
    edit = client.get(f"/facilities/{asset.pk}/edit/")
    assert json.loads(edit.context["form"].initial["point"]) == point
    off_the_earth = json.dumps({"type": "Point", "coordinates": [500, 1]})
    wrong = client.post("/facilities/new/", {**values, "name": "AED 2", "point": off_the_earth})
    assert wrong.status_code == 400
    assert wrong.context["form"].errors["point"]
    assert Asset.objects.count() == 1

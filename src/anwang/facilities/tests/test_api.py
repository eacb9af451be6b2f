"""Tests of the facilities API: list with filters, detail, create with a photo, update,
retire, stock, history, GeoJSON, labels, lookup by code; scoping and errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anwang.facilities.models import Asset
from anwang.facilities.tests.support import LAT, LON, extinguisher, jpeg, supply, upload

pytestmark = pytest.mark.django_db
API = "/api/v1/facilities/assets"


def test_create_with_photo_and_read_back(world: Any) -> None:
    """A manager registers an extinguisher (multipart) and reads it, its photo and history."""
    client = world.client_for("community_admin")
    response = client.post(
        API,
        {
            "community_id": world.a.community.pk,
            "asset_type": "fire_extinguisher",
            "name": "灭火器",
            "building_id": world.a.building.pk,
            "latitude": LAT,
            "longitude": LON,
            "extinguisher_type": "dry_powder",
            "capacity_kg": "4",
            "expires_on": "2030-01-01",
            "photo": upload("x.jpg", jpeg(gps=True)),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "MHQ-0001"
    assert body["building_id"] == world.a.building.pk
    assert body["scan_url"].endswith(f"/facilities/a/a/{body['code']}/")
    assert client.get(body["photo_url"]).status_code == 200
    assert client.get(body["thumbnail_url"]).status_code == 200
    history = client.get(f"{API}/{body['id']}/history").json()
    assert [item["kind"] for item in history["items"]] == ["created"]
    assert history["items"][0]["actor"] == str(world.user("community_admin"))


def test_errors_name_the_field(world: Any) -> None:
    """Bad input is 400 with the field; a guard is 403; another community 404."""
    client = world.client_for("community_admin")
    bad = client.post(
        API,
        {"community_id": world.a.community.pk, "asset_type": "aed", "name": "x", "latitude": 1},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["longitude"]
    spoofed = client.post(
        API,
        {
            "community_id": world.a.community.pk,
            "asset_type": "aed",
            "name": "x",
            "photo": upload("x.jpg", b"GIF89a nope"),
        },
    )
    assert spoofed.status_code == 400
    assert spoofed.json()["errors"] == [
        {"loc": ["photo"], "msg": "Upload a photo (JPEG, PNG or WebP)."}
    ]
    data = {"community_id": world.a.community.pk, "asset_type": "aed", "name": "x"}
    assert world.client_for("guard").post(API, data).status_code == 403
    assert world.client_for("community_admin", "b").post(API, data).status_code == 404
    assert not Asset.objects.exists()


def test_list_filters_and_scope(world: Any) -> None:
    """Filters of the list; another community's assets never appear."""
    fire = extinguisher(world, expires_on=dt.date(2020, 1, 1))
    water = supply(world, quantity="1", minimum="2")
    extinguisher(world, side="b")
    client = world.client_for("guard")
    ids = [item["id"] for item in client.get(API).json()["items"]]
    assert set(ids) == {fire.pk, water.pk}
    assert [i["id"] for i in client.get(f"{API}?expiring=true").json()["items"]] == [fire.pk]
    low = client.get(f"{API}?below_minimum=true").json()["items"]
    assert [i["id"] for i in low] == [water.pk]
    assert low[0]["below_minimum"] is True
    typed = client.get(f"{API}?asset_type=fire_extinguisher").json()["items"]
    assert [i["id"] for i in typed] == [fire.pk]
    assert client.get(f"{API}?asset_type=rocket").status_code in (400, 422)


def test_list_query_count_does_not_grow(world: Any, django_assert_max_num_queries: Any) -> None:
    """The API list costs the same for 2 assets as for 20."""
    client = world.client_for("community_admin")
    for _ in range(2):
        extinguisher(world, unit=world.a.unit.pk, zone=world.a.zone.pk)
    client.get(API)
    with django_assert_max_num_queries(10) as few:
        client.get(API)
    for _ in range(18):
        extinguisher(world, unit=world.a.unit.pk, zone=world.a.zone.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(API).json()["items"]) == 20


def test_update_retire_stock(world: Any) -> None:
    """PATCH changes only the fields given; stock and retire are recorded; retired is 409."""
    water = supply(world, quantity="10")
    client = world.client_for("community_admin")
    patched = client.patch(
        f"{API}/{water.pk}",
        {"minimum_stock": "12", "location_note": "仓库"},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    body = patched.json()
    assert body["minimum_stock"] == "12.00" or float(body["minimum_stock"]) == 12
    assert body["name"] == "应急饮用水"
    assert body["zone_id"] == world.a.zone.pk
    assert body["below_minimum"] is True
    out = client.post(
        f"{API}/{water.pk}/stock", {"delta": "-11", "reason": "x"}, content_type="application/json"
    )
    assert out.status_code == 400
    assert out.json()["errors"][0]["loc"] == ["delta"]
    ok = client.post(
        f"{API}/{water.pk}/stock", {"delta": "5", "reason": "补货"}, content_type="application/json"
    )
    assert float(ok.json()["quantity"]) == 15
    retired = client.post(
        f"{API}/{water.pk}/retire", {"reason": "过期"}, content_type="application/json"
    )
    assert retired.json()["status"] == "retired"
    again = client.post(
        f"{API}/{water.pk}/retire", {"reason": "过期"}, content_type="application/json"
    )
    assert again.status_code == 409
    kinds = [i["kind"] for i in client.get(f"{API}/{water.pk}/history").json()["items"]]
    assert kinds == ["retired", "stock_in", "updated", "created"]
    guard = world.client_for("guard")
    assert (
        guard.patch(f"{API}/{water.pk}", {"name": "x"}, content_type="application/json")
    ).status_code in (403, 409)


def test_photo_replace(world: Any) -> None:
    """A new photo through its own multipart endpoint."""
    asset = extinguisher(world)
    client = world.client_for("community_admin")
    response = client.post(f"{API}/{asset.pk}/photo", {"photo": upload()})
    assert response.status_code == 200, response.content
    assert response.json()["photo_url"]


def test_geojson_labels_and_lookup(world: Any) -> None:
    """The map layer, the label PDFs and the scan lookup by community slug and code."""
    asset = extinguisher(world)
    client = world.client_for("community_admin")
    geo = client.get(f"{API}/geojson?community_id={world.a.community.pk}").json()
    assert geo["type"] == "FeatureCollection"
    assert [f["id"] for f in geo["features"]] == [asset.pk]
    sheet = client.get(f"{API}/labels.pdf?community_id={world.a.community.pk}&asset_id={asset.pk}")
    assert sheet.status_code == 200
    assert sheet.content.startswith(b"%PDF")
    label = client.get(f"{API}/{asset.pk}/label.pdf")
    assert label.content.startswith(b"%PDF")
    guard = world.client_for("guard")
    assert guard.get(f"{API}/{asset.pk}/label.pdf").status_code == 403
    assert guard.get(f"{API}/labels.pdf?community_id={world.a.community.pk}").status_code == 403
    found = guard.get(f"{API}/by-code?community=a&code={asset.code}")
    assert found.json()["id"] == asset.pk
    assert guard.get(f"{API}/by-code?community=b&code={asset.code}").status_code == 404
    other = world.client_for("guard", "b")
    assert other.get(f"{API}/{asset.pk}").status_code == 404
    assert other.get(f"{API}/geojson?community_id={world.a.community.pk}").status_code == 404

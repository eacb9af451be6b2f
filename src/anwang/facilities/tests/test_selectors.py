"""Tests of the facilities selectors: scoping, expiry and minimum-stock filters, dashboard
figures, 'my work', GeoJSON and lookups by code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.core.dashboard import dashboard_stats
from anwang.core.inbox import my_work
from anwang.facilities import selectors, services
from anwang.facilities.tests.support import extinguisher, supply

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)


def test_scoping(world: Any) -> None:
    """Staff see their community's assets; residents and other communities see none."""
    mine = extinguisher(world)
    theirs = extinguisher(world, side="b")
    guard = scope_for(world.user("guard"))
    assert list(selectors.assets_visible(guard)) == [mine]
    assert list(selectors.assets_visible(scope_for(world.user("resident")))) == []
    assert set(selectors.assets_visible(scope_for(world.platform_admin))) == {mine, theirs}
    with pytest.raises(Http404):
        selectors.asset_get(guard, theirs.pk)
    assert selectors.asset_by_code(guard, "a", mine.code) == mine
    assert selectors.asset_by_code(guard, world.a.community, mine.code) == mine
    assert selectors.asset_by_code(guard, "a", mine.code.lower()) == mine  # typed by hand
    with pytest.raises(Http404):
        selectors.asset_by_code(guard, "b", theirs.code)


def test_expiry_and_minimum_stock(world: Any) -> None:
    """Expiring within 30 days includes the expired; retired assets never count."""
    soon = extinguisher(world, expires_on=TODAY + dt.timedelta(days=30))
    later = extinguisher(world, expires_on=TODAY + dt.timedelta(days=31))
    expired = extinguisher(world, expires_on=TODAY - dt.timedelta(days=1))
    gone = extinguisher(world, expires_on=TODAY - dt.timedelta(days=1))
    services.asset_retire(actor=None, asset=gone, reason="报废")
    low = supply(world, quantity="4", minimum="5")
    supply(world, quantity="5", minimum="5")
    supply(world, quantity="0", minimum=None)
    base = selectors.assets_visible(scope_for(world.user("community_admin")))
    assert set(selectors.assets_expiring(base, today=TODAY)) == {soon, expired}
    assert later not in selectors.assets_expiring(base, today=TODAY)
    assert list(selectors.assets_expired(base, today=TODAY)) == [expired]
    assert list(selectors.assets_below_minimum(base)) == [low]
    filtered = selectors.assets_filtered(
        scope_for(world.user("community_admin")),
        community_id=world.a.community.pk,
        filters=selectors.AssetFilters(below_minimum=True),
    )
    assert list(filtered) == [low]


def test_dashboard_and_my_work(world: Any) -> None:
    """Managers get the figures and a work item per expired asset and low supply; guards see
    the figures but have no such work."""
    expired = extinguisher(world, expires_on=dt.date(2020, 1, 1))
    low = supply(world, quantity="1", minimum="5")
    extinguisher(world, side="b", expires_on=dt.date(2020, 1, 1))
    admin = scope_for(world.user("community_admin"))
    stats = {stat.key: stat.value for stat in dashboard_stats(admin, world.a.community)}
    assert stats["facilities_expired"] == 1
    assert stats["facilities_below_minimum"] == 1
    assert stats["facilities_expiring"] == 0  # the expired one is counted as expired only
    items = [item for item in my_work(admin) if item.source == "facilities"]
    assert {item.url for item in items} == {
        f"/facilities/{expired.pk}/",
        f"/facilities/{low.pk}/",
    }
    guard = scope_for(world.user("guard"))
    assert not [item for item in my_work(guard) if item.source == "facilities"]
    assert "facilities_expired" in {stat.key for stat in dashboard_stats(guard, None)}
    assert not [
        s
        for s in dashboard_stats(scope_for(world.user("resident")), None)
        if s.key.startswith("facilities")
    ]


def test_geojson_has_placed_assets_only(world: Any) -> None:
    """Assets without coordinates are not on the map."""
    placed = extinguisher(world)
    supply(world)
    collection = selectors.assets_geojson(selectors.assets_visible(scope_for(world.user("guard"))))
    assert collection["type"] == "FeatureCollection"
    assert [feature["id"] for feature in collection["features"]] == [placed.pk]
    feature = collection["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [114.3005, 30.5005]}
    assert feature["properties"]["url"] == f"/facilities/{placed.pk}/"


def test_inspect_url_only_when_inspections_has_it(world: Any, monkeypatch: Any) -> None:
    """The 'inspect now' link is offered only when the URL name exists."""
    asset = extinguisher(world)
    from django.urls import NoReverseMatch

    def missing(*args: Any, **kwargs: Any) -> str:
        raise NoReverseMatch

    monkeypatch.setattr(selectors, "reverse", missing)
    assert selectors.inspect_url(asset) == ""
    monkeypatch.setattr(selectors, "reverse", lambda name, *a, **k: "/inspections/start/")
    assert selectors.inspect_url(asset) == f"/inspections/start/?asset={asset.pk}"

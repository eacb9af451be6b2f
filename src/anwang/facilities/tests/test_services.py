"""Tests of the facilities services: validation, history, stock, retirement, checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone, translation

from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.facilities import services
from anwang.facilities.choices import AssetEventKind, AssetStatus
from anwang.facilities.models import Asset, AssetEvent
from anwang.facilities.tests.support import extinguisher, jpeg, supply, upload

pytestmark = pytest.mark.django_db


def test_create_writes_history_and_audit_and_generates_a_code(world: Any) -> None:
    """Registering records who did it; a blank code is generated from the type's prefix."""
    asset = extinguisher(world)
    assert asset.code == "MHQ-0001"
    assert extinguisher(world).code == "MHQ-0002"
    event = asset.events.get()
    assert event.kind == AssetEventKind.CREATED
    assert event.actor == world.user("community_admin")
    assert AuditEvent.objects.filter(action="asset.created", object_id=str(asset.pk)).exists()


def test_photo_is_cleaned_and_thumbnailed(world: Any) -> None:
    """The stored photo has no GPS position any more, and a thumbnail exists."""
    from PIL import Image

    asset = extinguisher(world) if False else None
    asset = services.asset_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        values={"asset_type": "aed", "name": "AED 东门"},
        photo=upload("aed.jpg", jpeg((800, 600), gps=True)),
    )
    with asset.photo.open("rb") as handle, Image.open(handle) as image:
        assert 0x8825 not in image.getexif()
    with asset.photo_thumbnail.open("rb") as handle, Image.open(handle) as image:
        assert max(image.size) <= 320
    values = {name: getattr(asset, name) for name in services.EDITABLE_FIELDS}
    services.asset_update(
        actor=world.user("community_admin"), asset=asset, values=values, photo=upload()
    )
    replaced = asset.events.get(kind=AssetEventKind.UPDATED)
    assert list(replaced.changes) == ["photo"]


def test_spoofed_photo_is_refused_and_nothing_is_saved(world: Any) -> None:
    """A file named .jpg that is not an image is refused on the photo field."""
    with pytest.raises(ServiceError) as caught:
        services.asset_create(
            actor=world.user("community_admin"),
            community=world.a.community,
            values={"asset_type": "aed", "name": "AED"},
            photo=upload("x.jpg", b"GIF89a not really"),
        )
    assert caught.value.field == "photo"
    assert not Asset.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"asset_type": "rocket", "name": "x"}, "asset_type", "Choose a known type."),
        ({"asset_type": "aed", "name": " "}, "name", "This field is required."),
        ({"asset_type": "aed", "name": "x", "code": "a b"}, "code", None),
        ({"asset_type": "aed", "name": "x", "latitude": 30.5}, "longitude", None),
        ({"asset_type": "aed", "name": "x", "latitude": 99, "longitude": 1}, "latitude", None),
        ({"asset_type": "aed", "name": "x", "expires_on": "soon"}, "expires_on", None),
        (
            {"asset_type": "fire_extinguisher", "name": "x", "capacity_kg": "-1"},
            "capacity_kg",
            "Enter a number greater than zero.",
        ),
        (
            {"asset_type": "fire_extinguisher", "name": "x", "extinguisher_type": "lava"},
            "extinguisher_type",
            None,
        ),
        (
            {"asset_type": "emergency_supply", "name": "x", "quantity": "-3"},
            "quantity",
            "Enter zero or more.",
        ),
        (
            {
                "asset_type": "aed",
                "name": "x",
                "installed_on": dt.date(2025, 1, 2),
                "expires_on": dt.date(2025, 1, 1),
            },
            "expires_on",
            None,
        ),
        ({"asset_type": "aed", "name": "x", "status": "retired"}, "status", None),
        ({"asset_type": "aed", "name": "x", "colour": "red"}, "colour", None),
    ],
)
def test_bad_input_names_the_field(
    world: Any, values: dict[str, Any], field: str, message: str | None
) -> None:
    """Every refusal says which field is wrong."""
    with pytest.raises(ServiceError) as caught:
        services.asset_create(
            actor=world.user("community_admin"), community=world.a.community, values=values
        )
    assert caught.value.field == field
    if message:
        assert str(caught.value.message) == message


def test_errors_are_translated(world: Any) -> None:
    """In Chinese the refusal is in Chinese."""
    with translation.override("zh-hans"), pytest.raises(ServiceError) as caught:
        services.asset_create(
            actor=world.user("community_admin"),
            community=world.a.community,
            values={"asset_type": "aed", "name": ""},
        )
    assert str(caught.value.message) == "此项为必填项。"


def test_places_must_be_of_the_community(world: Any) -> None:
    """A building of another community is refused; an entrance sets its building."""
    with pytest.raises(ServiceError) as caught:
        extinguisher(world, building=world.b.building)
    assert caught.value.field == "building"
    asset = extinguisher(world, building=None, unit=world.a.unit.pk)
    assert asset.building == world.a.building


def test_duplicate_code_is_refused_per_community(world: Any) -> None:
    """Codes are unique within a community (whatever the case), not across communities."""
    extinguisher(world, code="E-1")
    with pytest.raises(ServiceError) as caught:
        extinguisher(world, code="e-1")
    assert caught.value.field == "code"
    assert extinguisher(world, side="b", code="E-1").code == "E-1"


def test_type_specific_fields_are_cleared_for_other_types(world: Any) -> None:
    """An AED does not keep an extinguisher's capacity or a supply's minimum stock."""
    asset = services.asset_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        values={"asset_type": "aed", "name": "AED", "capacity_kg": "4", "minimum_stock": "1"},
    )
    assert asset.capacity_kg is None
    assert asset.minimum_stock is None


def test_update_records_what_changed(world: Any) -> None:
    """The history entry lists changed fields by their shown values."""
    asset = extinguisher(world)
    values = {name: getattr(asset, name) for name in services.EDITABLE_FIELDS}
    values.update(status="out_of_service", capacity_kg="8", location_note="楼梯间")
    services.asset_update(actor=world.user("supervisor"), asset=asset, values=values)
    event = asset.events.filter(kind=AssetEventKind.UPDATED).get()
    assert event.actor == world.user("supervisor")
    assert event.changes["status"] == ["in service", "out of service"]
    assert event.changes["capacity_kg"] == ["4", "8"]
    assert event.changes["location_note"] == [None, "楼梯间"]
    # Saving the same values again writes no empty entry.
    services.asset_update(actor=world.user("supervisor"), asset=asset, values=values)
    assert asset.events.filter(kind=AssetEventKind.UPDATED).count() == 1


def test_permissions(world: Any) -> None:
    """Guards see but may not change (403); another community's admin gets 404."""
    asset = extinguisher(world)
    with pytest.raises(PermissionDenied):
        services.asset_retire(actor=world.user("guard"), asset=asset, reason="x")
    with pytest.raises(Http404):
        services.asset_retire(actor=world.user("community_admin", "b"), asset=asset, reason="x")
    with pytest.raises(Http404):
        services.asset_create(
            actor=world.user("resident"),
            community=world.a.community,
            values={"asset_type": "aed", "name": "x"},
        )


def test_stock_never_goes_negative(world: Any) -> None:
    """Stock out beyond what is there is refused; moves are in the history with the reason."""
    water = supply(world, quantity="10")
    services.asset_stock_adjust(
        actor=world.user("community_admin"), asset=water, delta="-4", reason="演练发放"
    )
    services.asset_stock_adjust(
        actor=world.user("community_admin"), asset=water, delta=Decimal("2.5"), reason="补货"
    )
    water.refresh_from_db()
    assert water.quantity == Decimal("8.5")
    with pytest.raises(ServiceError) as caught:
        services.asset_stock_adjust(
            actor=world.user("community_admin"), asset=water, delta="-9", reason="x"
        )
    assert caught.value.field == "delta"
    assert "8.5" in str(caught.value.message)
    water.refresh_from_db()
    assert water.quantity == Decimal("8.5")
    moves = list(water.events.exclude(kind=AssetEventKind.CREATED).order_by("pk"))
    assert [(m.kind, m.quantity_delta, m.note) for m in moves] == [
        (AssetEventKind.STOCK_OUT, Decimal("-4"), "演练发放"),
        (AssetEventKind.STOCK_IN, Decimal("2.5"), "补货"),
    ]
    assert moves[0].changes["quantity"] == ["10", "6"]


def test_stock_needs_a_reason_a_supply_and_a_non_zero_amount(world: Any) -> None:
    """Zero, no reason, or stock of an extinguisher are refused."""
    water = supply(world)
    admin = world.user("community_admin")
    with pytest.raises(ServiceError, match="other than zero"):
        services.asset_stock_adjust(actor=admin, asset=water, delta=0, reason="x")
    with pytest.raises(ServiceError) as caught:
        services.asset_stock_adjust(actor=admin, asset=water, delta=1, reason=" ")
    assert caught.value.field == "reason"
    with pytest.raises(ServiceError, match="Only emergency supplies"):
        services.asset_stock_adjust(actor=admin, asset=extinguisher(world), delta=1, reason="x")


def test_quantity_is_not_changed_by_update(world: Any) -> None:
    """Only stock adjustments change the quantity (they keep the reason)."""
    water = supply(world, quantity="10")
    values = {name: getattr(water, name) for name in services.EDITABLE_FIELDS}
    values["quantity"] = "99"
    services.asset_update(actor=world.user("community_admin"), asset=water, values=values)
    water.refresh_from_db()
    assert water.quantity == Decimal("10")


def test_retire_is_final(world: Any) -> None:
    """A retired asset keeps its history and refuses further changes (409)."""
    asset = extinguisher(world)
    at = timezone.now()
    services.asset_retire(
        actor=world.user("community_admin"), asset=asset, reason="已过期报废", at=at
    )
    asset.refresh_from_db()
    assert asset.status == AssetStatus.RETIRED
    assert asset.retired_at == at
    assert asset.events.filter(kind=AssetEventKind.RETIRED, note="已过期报废").exists()
    with pytest.raises(ConflictError):
        services.asset_retire(actor=world.user("community_admin"), asset=asset, reason="again")


def test_mark_checked_by_an_inspector(world: Any) -> None:
    """A guard (inspector) marks an asset checked; an older check does not move it back."""
    asset = extinguisher(world)
    now = timezone.now()
    services.asset_mark_checked(asset=asset, at=now, by=world.user("guard"), note="压力正常")
    services.asset_mark_checked(asset=asset, at=now - dt.timedelta(days=1), by=None)
    asset.refresh_from_db()
    assert asset.last_checked_at == now
    checks = AssetEvent.objects.filter(asset=asset, kind=AssetEventKind.CHECKED)
    assert checks.count() == 2
    with pytest.raises(Http404):
        services.asset_mark_checked(asset=asset, at=now, by=world.user("resident"))
    with pytest.raises(PermissionDenied):
        services.asset_mark_checked(asset=asset, at=now, by=world.user("operator"))
    with pytest.raises(ServiceError):
        services.asset_mark_checked(asset=asset, at=dt.datetime(2025, 1, 1), by=None)  # noqa: DTZ001
    services.asset_retire(actor=None, asset=asset, reason="报废")
    with pytest.raises(ConflictError):
        services.asset_mark_checked(asset=asset, at=now, by=world.user("guard"))

"""Writes of the facilities domain: register, edit and retire assets, adjust supply stock, and
record that an asset was checked (called by inspections).

Every function is keyword-only and checks that the caller may act: register, edit, retire and
stock changes need :attr:`Permission.MANAGE_FACILITIES` in the asset's community (403 for those
who may only see facilities, 404 for everyone else); marking an asset checked needs
:attr:`Permission.INSPECT_FACILITIES` (or manage). Input is validated with translated errors on
the field they concern; every change writes one history entry (:class:`AssetEvent`) and one
audit entry in the same transaction. Without ``actor`` and ``scope`` the call is the system.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, service_scope
from anwang.audit.services import audit_record, diff
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.images import clean_photo, thumbnail
from anwang.core.validation import clean_aware, clean_text
from anwang.facilities.choices import AssetEventKind, AssetStatus, AssetType, ExtinguisherType
from anwang.facilities.models import Asset, AssetEvent
from anwang.places.models import Building, Community, Unit, Zone

THUMBNAIL_SIZE: Final = (320, 320)
CODE_MAX: Final = 40
CODE_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
QUANTITY_MAX: Final = Decimal("99999999")
CODE_PREFIXES: Final = {
    AssetType.FIRE_EXTINGUISHER: "MHQ",
    AssetType.HYDRANT: "XHS",
    AssetType.FIRE_DOOR: "FHM",
    AssetType.AED: "AED",
    AssetType.EMERGENCY_SUPPLY: "WZ",
    AssetType.ANTI_THEFT_DOOR: "FDM",
    AssetType.BARRIER: "DZ",
    AssetType.LIGHTING: "ZM",
    AssetType.SIGNAGE: "BS",
    AssetType.OTHER: "SS",
}
"""Prefixes of generated codes (pinyin initials, as guards read them on a label)."""

EDITABLE_FIELDS: Final = (
    "asset_type",
    "name",
    "code",
    "status",
    "building",
    "unit",
    "zone",
    "latitude",
    "longitude",
    "location_note",
    "installed_on",
    "expires_on",
    "extinguisher_type",
    "capacity_kg",
    "last_pressure_check",
    "quantity_unit",
    "minimum_stock",
    "note",
)
"""Fields :func:`asset_create` and :func:`asset_update` accept (plus ``quantity`` on create)."""
HISTORY_FIELDS: Final = (*EDITABLE_FIELDS, "quantity", "photo", "retired_at", "last_checked_at")
EXTINGUISHER_FIELDS: Final = ("extinguisher_type", "capacity_kg", "last_pressure_check")
SUPPLY_FIELDS: Final = ("quantity_unit", "minimum_stock")


# --------------------------------------------------------------------------- helpers


def _require(
    actor: User | None, scope: Scope | None, community_id: int, permission: Permission
) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=permission,
        community_id=community_id,
        visible_with=Permission.VIEW_FACILITIES,
    )


def _at(at: dt.datetime | None) -> dt.datetime:
    return timezone.now() if at is None else clean_aware("at", at)


def _date(name: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as error:
        raise ServiceError(_("Enter a date as YYYY-MM-DD."), field=name) from error


def _decimal(
    name: str, value: Any, *, minimum: Decimal = Decimal("0"), positive: bool = False
) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise ServiceError(_("Enter a number."), field=name) from error
    if not number.is_finite() or number > QUANTITY_MAX:
        raise ServiceError(_("Enter a smaller number."), field=name)
    if number < minimum or (positive and number == 0):
        raise ServiceError(
            _("Enter a number greater than zero.") if positive else _("Enter zero or more."),
            field=name,
        )
    if number != number.quantize(Decimal("0.01")):
        raise ServiceError(_("Use at most two decimal places."), field=name)
    return number


def _coordinate(name: str, value: Any, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Enter a number."), field=name) from error
    if not math.isfinite(number) or not low <= number <= high:
        raise ServiceError(
            _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
            field=name,
        )
    return number


def _place(
    name: str, model: type[models.Model], value: Any, community: Community, lookup: str
) -> Any:
    """A building, entrance or zone of the community, given as an object or an id."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return model._default_manager.get(pk=int(pk), **{lookup: community.pk})
    except (ObjectDoesNotExist, TypeError, ValueError) as error:
        messages = {
            "building": _("Choose a building of this community."),
            "unit": _("Choose an entrance of this community."),
            "zone": _("Choose a zone of this community."),
        }
        raise ServiceError(messages[name], field=name) from error


def _clean(community: Community, values: Mapping[str, Any]) -> dict[str, Any]:
    """The editable fields validated, with type-specific fields cleared for other types."""
    unknown = set(values) - set(EDITABLE_FIELDS) - {"quantity"}
    if unknown:
        raise ServiceError(
            _("Unknown field: %(name)s.") % {"name": sorted(unknown)[0]}, field=sorted(unknown)[0]
        )
    asset_type = values.get("asset_type")
    if asset_type not in AssetType.values:
        raise ServiceError(_("Choose a known type."), field="asset_type")
    status = values.get("status") or AssetStatus.IN_SERVICE
    if status not in (AssetStatus.IN_SERVICE, AssetStatus.OUT_OF_SERVICE):
        raise ServiceError(
            _("Choose in service or out of service (retire an asset with Retire)."),
            field="status",
        )
    code = clean_text("code", values.get("code"), limit=CODE_MAX, required=False)
    if code and not CODE_PATTERN.match(code):
        raise ServiceError(
            _("Use letters, digits, dots, dashes and underscores; start with a letter or digit."),
            field="code",
        )
    cleaned: dict[str, Any] = {
        "asset_type": asset_type,
        "name": clean_text("name", values.get("name"), limit=100),
        "code": code,
        "status": status,
        "location_note": clean_text(
            "location_note", values.get("location_note"), limit=200, required=False
        ),
        "note": clean_text("note", values.get("note"), limit=2000, required=False),
        "latitude": _coordinate("latitude", values.get("latitude"), -90.0, 90.0),
        "longitude": _coordinate("longitude", values.get("longitude"), -180.0, 180.0),
        "installed_on": _date("installed_on", values.get("installed_on")),
        "expires_on": _date("expires_on", values.get("expires_on")),
        "building": _place("building", Building, values.get("building"), community, "community_id"),
        "unit": _place("unit", Unit, values.get("unit"), community, "building__community_id"),
        "zone": _place("zone", Zone, values.get("zone"), community, "community_id"),
        "extinguisher_type": "",
        "capacity_kg": None,
        "last_pressure_check": None,
        "quantity_unit": "",
        "minimum_stock": None,
    }
    if (cleaned["latitude"] is None) != (cleaned["longitude"] is None):
        raise ServiceError(
            _("Give both latitude and longitude, or neither."),
            field="latitude" if cleaned["latitude"] is None else "longitude",
        )
    unit: Unit | None = cleaned["unit"]
    if unit is not None:
        if cleaned["building"] is not None and unit.building_id != cleaned["building"].pk:
            raise ServiceError(_("The entrance is not in that building."), field="unit")
        cleaned["building"] = unit.building
    installed_on, expires_on = cleaned["installed_on"], cleaned["expires_on"]
    if installed_on and expires_on and expires_on < installed_on:
        raise ServiceError(
            _("The expiry date cannot be before the installation date."), field="expires_on"
        )
    if asset_type == AssetType.FIRE_EXTINGUISHER:
        kind = values.get("extinguisher_type") or ""
        if kind and kind not in ExtinguisherType.values:
            raise ServiceError(_("Choose a known extinguisher type."), field="extinguisher_type")
        cleaned["extinguisher_type"] = kind
        cleaned["capacity_kg"] = _decimal("capacity_kg", values.get("capacity_kg"), positive=True)
        cleaned["last_pressure_check"] = _date(
            "last_pressure_check", values.get("last_pressure_check")
        )
    if asset_type == AssetType.EMERGENCY_SUPPLY:
        cleaned["quantity_unit"] = clean_text(
            "quantity_unit", values.get("quantity_unit"), limit=20, required=False
        )
        cleaned["minimum_stock"] = _decimal("minimum_stock", values.get("minimum_stock"))
    return cleaned


def _picture(upload: UploadedFile) -> tuple[bytes, bytes, str]:
    content, extension = clean_photo(upload, field="photo")
    return content, thumbnail(content, THUMBNAIL_SIZE), extension


def _store_photo(asset: Asset, picture: tuple[bytes, bytes, str]) -> None:
    content, small, extension = picture
    asset.photo.save(f"asset.{extension}", ContentFile(content), save=False)
    asset.photo_thumbnail.save(f"asset-thumb.{extension}", ContentFile(small), save=False)


def _generated_code(community: Community, asset_type: str) -> str:
    """The next free code of the type's prefix in the community (``MHQ-0007``)."""
    prefix = CODE_PREFIXES[AssetType(asset_type)]
    taken = set(
        Asset.objects.filter(community=community, code__startswith=f"{prefix}-").values_list(
            "code", flat=True
        )
    )
    number = len(taken) + 1
    while f"{prefix}-{number:04d}" in taken:
        number += 1
    return f"{prefix}-{number:04d}"


def _shown(asset: Asset, name: str) -> Any:
    """A field's value as history shows it (choices by label, places by name)."""
    value = getattr(asset, name)
    if name == "photo":
        # The stored file's name: a new photo gets a new name, so replacing one is recorded.
        return value.name.rsplit("/", 1)[-1] if value else None
    if value is None or value == "":
        return None
    if isinstance(value, models.Model):
        return str(value)
    field = asset._meta.get_field(name)
    choices = getattr(field, "choices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _state(asset: Asset) -> dict[str, Any]:
    return {name: _shown(asset, name) for name in HISTORY_FIELDS}


def _record(
    asset: Asset,
    kind: AssetEventKind,
    *,
    actor: User | None,
    at: dt.datetime,
    before: Mapping[str, Any] | None = None,
    note: str = "",
    delta: Decimal | None = None,
) -> AssetEvent:
    """One history entry and its audit entry, in the caller's transaction."""
    changes = diff(before, _state(asset)) if before is not None else {}
    event = AssetEvent.objects.create(
        asset=asset,
        at=at,
        actor=actor,
        kind=kind,
        changes=changes,
        quantity_delta=delta,
        note=note,
    )
    audit_record(
        actor=actor,
        action=f"asset.{kind}",
        obj=asset,
        community_id=asset.community_id,
        changes=changes if before is not None else diff({}, _state(asset)),
    )
    return event


def _lock(asset: Asset) -> Asset:
    return Asset.objects.select_for_update().select_related("community").get(pk=asset.pk)


def _require_not_retired(asset: Asset) -> None:
    if asset.status == AssetStatus.RETIRED:
        raise ConflictError(_("This asset is retired and can no longer be changed."))


# --------------------------------------------------------------------------- register


@transaction.atomic
def asset_create(
    *,
    actor: User | None,
    community: Community,
    values: Mapping[str, Any],
    photo: UploadedFile | None = None,
    scope: Scope | None = None,
    at: dt.datetime | None = None,
) -> Asset:
    """Register an asset with the fields of :data:`EDITABLE_FIELDS` (and an initial
    ``quantity`` for supplies); a blank code is generated from the type (``MHQ-0001``)."""
    _require(actor, scope, community.pk, Permission.MANAGE_FACILITIES)
    at = _at(at)
    cleaned = _clean(community, values)
    quantity = Decimal("0")
    if cleaned["asset_type"] == AssetType.EMERGENCY_SUPPLY:
        quantity = _decimal("quantity", values.get("quantity")) or Decimal("0")
    if not cleaned["code"]:
        cleaned["code"] = _generated_code(community, cleaned["asset_type"])
    elif Asset.objects.filter(community=community, code__iexact=cleaned["code"]).exists():
        raise ServiceError(_("Another asset of this community has this code."), field="code")
    picture = _picture(photo) if photo is not None else None
    asset = Asset(community=community, quantity=quantity, **cleaned)
    if picture is not None:
        _store_photo(asset, picture)
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError as error:  # a concurrent registration took the code
        raise ServiceError(
            _("Another asset of this community has this code."), field="code"
        ) from error
    _record(asset, AssetEventKind.CREATED, actor=actor, at=at)
    return asset


@transaction.atomic
def asset_update(
    *,
    actor: User | None,
    asset: Asset,
    values: Mapping[str, Any],
    photo: UploadedFile | None = None,
    scope: Scope | None = None,
    at: dt.datetime | None = None,
) -> Asset:
    """Change an asset's fields (all of :data:`EDITABLE_FIELDS`, as on its form) and
    optionally its photo; the quantity changes only by :func:`asset_stock_adjust`."""
    _require(actor, scope, asset.community_id, Permission.MANAGE_FACILITIES)
    at = _at(at)
    asset = _lock(asset)
    _require_not_retired(asset)
    values = {name: value for name, value in values.items() if name != "quantity"}
    cleaned = _clean(asset.community, values)
    if not cleaned["code"]:
        raise ServiceError(_("This field is required."), field="code")
    if (
        Asset.objects.filter(community_id=asset.community_id, code__iexact=cleaned["code"])
        .exclude(pk=asset.pk)
        .exists()
    ):
        raise ServiceError(_("Another asset of this community has this code."), field="code")
    picture = _picture(photo) if photo is not None else None
    before = _state(asset)
    for name, value in cleaned.items():
        setattr(asset, name, value)
    if picture is not None:
        _store_photo(asset, picture)
    asset.save()
    if _state(asset) == before:
        return asset  # nothing changed: no empty history entry
    _record(
        asset,
        AssetEventKind.UPDATED,
        actor=actor,
        at=at,
        before=before,
    )
    return asset


@transaction.atomic
def asset_retire(
    *,
    actor: User | None,
    asset: Asset,
    reason: str,
    scope: Scope | None = None,
    at: dt.datetime | None = None,
) -> Asset:
    """Take an asset out of the register for good (scrapped, removed), with the reason; it
    stays in the history and can be listed with the 'retired' status."""
    _require(actor, scope, asset.community_id, Permission.MANAGE_FACILITIES)
    at = _at(at)
    asset = _lock(asset)
    _require_not_retired(asset)
    note = clean_text("reason", reason, limit=500)
    before = _state(asset)
    asset.status = AssetStatus.RETIRED
    asset.retired_at = at
    asset.save(update_fields=["status", "retired_at", "updated_at"])
    _record(
        asset,
        AssetEventKind.RETIRED,
        actor=actor,
        at=at,
        before=before,
        note=note,
    )
    return asset


@transaction.atomic
def asset_stock_adjust(
    *,
    actor: User | None,
    asset: Asset,
    delta: Decimal | int | str,
    reason: str,
    scope: Scope | None = None,
    at: dt.datetime | None = None,
) -> Asset:
    """Add to (``delta`` > 0) or take from (``delta`` < 0) a supply's stock, with the reason;
    the stock never goes below zero."""
    _require(actor, scope, asset.community_id, Permission.MANAGE_FACILITIES)
    at = _at(at)
    asset = _lock(asset)
    _require_not_retired(asset)
    if asset.asset_type != AssetType.EMERGENCY_SUPPLY:
        raise ServiceError(_("Only emergency supplies have a stock."), field="delta")
    amount = _decimal("delta", delta, minimum=-QUANTITY_MAX)
    if amount is None or amount == 0:
        raise ServiceError(_("Enter a quantity other than zero."), field="delta")
    note = clean_text("reason", reason, limit=500)
    if asset.quantity + amount < 0:
        raise ServiceError(
            _("Only %(quantity)s %(unit)s in stock: cannot take out %(amount)s.")
            % {
                "quantity": f"{asset.quantity.normalize():f}",
                "unit": asset.quantity_unit,
                "amount": f"{(-amount).normalize():f}",
            },
            field="delta",
        )
    if asset.quantity + amount > QUANTITY_MAX:
        raise ServiceError(_("Enter a smaller number."), field="delta")
    before = _state(asset)
    asset.quantity = asset.quantity + amount
    asset.save(update_fields=["quantity", "updated_at"])
    _record(
        asset,
        AssetEventKind.STOCK_IN if amount > 0 else AssetEventKind.STOCK_OUT,
        actor=actor,
        at=at,
        before=before,
        note=note,
        delta=amount,
    )
    return asset


@transaction.atomic
def asset_mark_checked(
    *,
    asset: Asset,
    at: dt.datetime,
    by: User | None,
    note: str = "",
    scope: Scope | None = None,
) -> Asset:
    """Record that ``by`` checked the asset at ``at`` (an inspection was recorded): sets
    ``last_checked_at`` (never moving it back) and writes a history entry. Needs the inspect
    or manage permission in the asset's community; ``by=None`` is the system."""
    resolved = service_scope(by, scope)
    if resolved is not None and not resolved.has(Permission.MANAGE_FACILITIES, asset.community_id):
        _require(by, scope, asset.community_id, Permission.INSPECT_FACILITIES)
    at = _at(at)
    asset = _lock(asset)
    _require_not_retired(asset)
    text = clean_text("note", note, limit=2000, required=False)
    before = _state(asset)
    if asset.last_checked_at is None or at > asset.last_checked_at:
        asset.last_checked_at = at
        asset.save(update_fields=["last_checked_at", "updated_at"])
    _record(
        asset,
        AssetEventKind.CHECKED,
        actor=by,
        at=at,
        before=before,
        note=text,
    )
    return asset

"""Writes of the places domain: street offices, communities, grids, buildings, entrances,
households and zones.

Every function is keyword-only, checks that the caller may make the change, validates the
input (translated errors on the field they concern, never a database error), and records an
audit entry with the before/after difference in the same transaction.

Authorisation is checked here (through :func:`anwang.accounts.selectors.authorize`), so views,
the API and the admin cannot forget it: editing needs :attr:`Permission.MANAGE_PLACES` in the
object's community. A caller who cannot even see that community gets 404 (its objects are not
revealed); one who can see but not edit gets 403. Street offices, and creating or deleting
communities, are for platform administrators. Pass ``scope`` when the caller's scope is narrower
than their account's (an API token limited to one community); without ``actor`` and ``scope``
the call is the system itself (commands, demo data).

Update functions take only the fields to change: an argument left at :data:`UNSET` keeps its
value, while ``None`` clears an optional one.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import User
from anwang.accounts.selectors import (
    Scope,
    authorize,
    authorize_platform_admin,
    is_unrestricted,
    scope_for,
)
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core import geo
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import UNSET, Unset
from anwang.places.choices import BuildingUse, ZoneKind
from anwang.places.models import Building, Community, Grid, Household, Region, Unit, Zone

M = TypeVar("M", bound=models.Model)


REGION_FIELDS = ("name", "code")
COMMUNITY_FIELDS = (
    "region",
    "name",
    "slug",
    "address",
    "latitude",
    "longitude",
    "boundary",
    "phone",
)
GRID_FIELDS = ("community", "name", "code", "boundary", "grid_worker")
BUILDING_FIELDS = ("community", "grid", "name", "number", "floors", "use", "footprint")
UNIT_FIELDS = ("building", "number")
HOUSEHOLD_FIELDS = ("community", "unit", "floor", "number", "area_m2", "is_rented", "note")
ZONE_FIELDS = ("community", "name", "kind", "is_key_area", "geometry", "description")

MAX_FLOORS = 200
LOWEST_FLOOR = -10
_PHONE = re.compile(r"^[0-9+\-() ]*$")
# Deleting an object also deletes (or is stopped by) rows that point at it this way.
_BLOCKING_ON_DELETE = (models.CASCADE, models.PROTECT, models.RESTRICT)


# --------------------------------------------------------------------------- authorisation


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    """Allow the change only for someone who manages places in the community."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_PLACES,
        community_id=community_id,
        visible_with=Permission.VIEW_PLACES,
    )


def _require_platform_admin(
    actor: User | None, scope: Scope | None, *, visible_community_ids: Collection[int] = ()
) -> None:
    """Allow the change only for a platform administrator; others who cannot see the object
    (none of ``visible_community_ids`` is theirs) get 404 rather than 403."""
    authorize_platform_admin(
        actor=actor,
        scope=scope,
        visible_with=Permission.VIEW_PLACES,
        community_ids=visible_community_ids,
    )


# --------------------------------------------------------------------------- validation


def _text(model: type[models.Model], name: str, value: Any, *, required: bool = True) -> str:
    """A stripped text value that fits the model field."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ServiceError(_("This field is required."), field=name)
    limit = getattr(model._meta.get_field(name), "max_length", None)
    if limit is not None and len(text) > limit:
        raise ServiceError(
            _("Use at most %(limit)d characters (this has %(count)d).")
            % {"limit": limit, "count": len(text)},
            field=name,
        )
    return text


def _slug(model: type[models.Model], name: str, value: Any) -> str:
    text = _text(model, name, value)
    try:
        validate_slug(text)
    except ValidationError as error:
        raise ServiceError(
            _("Use only letters, digits, hyphens and underscores."), field=name
        ) from error
    return text


def _phone(value: Any) -> str:
    text = _text(Community, "phone", value, required=False)
    if not _PHONE.match(text):
        raise ServiceError(
            _("A phone number may contain only digits, spaces, +, - and brackets."),
            field="phone",
        )
    return text


def _integer(value: Any, name: str, *, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ServiceError(_("Enter a whole number."), field=name)
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Enter a whole number."), field=name) from error
    if number != value and not isinstance(value, str):
        raise ServiceError(_("Enter a whole number."), field=name)
    if not low <= number <= high:
        raise ServiceError(
            _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}, field=name
        )
    return number


def _choice(value: Any, choices: type[models.TextChoices], name: str) -> str:
    if value not in choices.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(c) for c in choices.labels)},
            field=name,
        )
    return str(value)


def _geometry(value: Any, name: str, *, allowed: tuple[str, ...]) -> dict[str, Any] | None:
    """A validated GeoJSON geometry, or ``None`` for an empty value."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == {}:
        return None
    return geo.validate_geometry(value, allowed=allowed, field=name)


def _coordinates(
    latitude: Any, longitude: Any, boundary: dict[str, Any] | None
) -> tuple[float | None, float | None]:
    """A community's centre: both coordinates or neither; taken from the boundary if absent."""
    if latitude is None and longitude is None:
        if boundary is None:
            return None, None
        lon, lat = geo.centroid(boundary)
        return round(lat, 7), round(lon, 7)
    if latitude is None or longitude is None:
        raise ServiceError(
            _("Give both the latitude and the longitude, or neither."),
            field="latitude" if latitude is None else "longitude",
        )
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Coordinates must be numbers."), field="latitude") from error
    if abs(lat) > 90 and abs(lon) <= 90:
        raise ServiceError(
            _("The latitude must lie from -90 to 90: are latitude and longitude swapped?"),
            field="latitude",
        )
    if abs(lat) > 90:
        raise ServiceError(_("The latitude must lie from -90 to 90."), field="latitude")
    if abs(lon) > 180:
        raise ServiceError(_("The longitude must lie from -180 to 180."), field="longitude")
    return lat, lon


def _area(value: Any) -> decimal.Decimal | None:
    if value is None or value == "":
        return None
    try:
        area = decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01"))
    except (decimal.InvalidOperation, ValueError) as error:
        raise ServiceError(_("Enter the floor area as a number."), field="area_m2") from error
    if not decimal.Decimal("0") < area < decimal.Decimal("100000"):
        raise ServiceError(
            _("The floor area must be more than 0 and less than 100,000 m²."), field="area_m2"
        )
    return area


def _floor(value: Any, building: Building) -> int:
    floor = _integer(value, "floor", low=LOWEST_FLOOR, high=MAX_FLOORS)
    if floor == 0:
        raise ServiceError(
            _("There is no floor 0: the ground floor is 1 and basements are -1, -2, ..."),
            field="floor",
        )
    if floor > building.floors:
        raise ServiceError(
            _("%(building)s has only %(floors)d floors.")
            % {"building": building.name, "floors": building.floors},
            field="floor",
        )
    return floor


def _ensure_unique(
    queryset: models.QuerySet[M], *, exclude_pk: int | None, message: str, field: str
) -> None:
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    if queryset.exists():
        raise ConflictError(message, field=field)


def _save(instance: models.Model, *, message: str, field: str) -> None:
    """Save; a uniqueness race lost to a concurrent writer becomes the same conflict error the
    check before it would have raised."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ConflictError(message, field=field) from error


def _refuse_if_dependents(obj: models.Model, *, skip: Collection[type[models.Model]] = ()) -> None:
    """Refuse to delete an object that other records (of any app) would vanish with.

    Access grants (the accounts app) are left out: they are meant to go with their community.
    """
    for relation in obj._meta.related_objects:
        related = relation.related_model
        if (
            not isinstance(related, type)
            or related in skip
            or related._meta.app_label == "accounts"
            or relation.many_to_many
            or getattr(relation, "on_delete", None) not in _BLOCKING_ON_DELETE
        ):
            continue
        field_name = relation.field.name
        if related._base_manager.filter(**{field_name: obj}).exists():
            raise ConflictError(
                _(
                    "“%(object)s” cannot be deleted while it still has %(things)s. "
                    "Remove or move them first."
                )
                % {"object": obj, "things": related._meta.verbose_name_plural}
            )


def _audit(
    actor: User | None,
    action: str,
    obj: models.Model,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    community_id: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    changes = diff(before, after)
    if extra:
        changes.update(extra)
    audit_record(actor=actor, action=action, obj=obj, community_id=community_id, changes=changes)


def _apply(instance: models.Model, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(instance, name, value)


# --------------------------------------------------------------------------- regions


def region_create(
    *, actor: User | None, scope: Scope | None = None, name: str, code: str
) -> Region:
    """Add a street office (platform administrators only)."""
    _require_platform_admin(actor, scope)
    region = Region(name=_text(Region, "name", name), code=_slug(Region, "code", code))
    message = _("A street office with this code already exists.")
    with transaction.atomic():
        _ensure_unique(
            Region.objects.filter(code=region.code), exclude_pk=None, message=message, field="code"
        )
        _save(region, message=message, field="code")
        _audit(actor, "region.create", region, {}, snapshot(region, REGION_FIELDS))
    return region


def region_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    region: Region,
    name: str | Unset = UNSET,
    code: str | Unset = UNSET,
) -> Region:
    """Rename a street office or change its code (platform administrators only)."""
    _require_platform_admin(actor, scope, visible_community_ids=_region_community_ids(region))
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = _text(Region, "name", name)
    if code is not UNSET:
        values["code"] = _slug(Region, "code", code)
    message = _("A street office with this code already exists.")
    with transaction.atomic():
        if "code" in values:
            _ensure_unique(
                Region.objects.filter(code=values["code"]),
                exclude_pk=region.pk,
                message=message,
                field="code",
            )
        before = snapshot(region, REGION_FIELDS)
        _apply(region, values)
        after = snapshot(region, REGION_FIELDS)
        if before != after:
            _save(region, message=message, field="code")
            _audit(actor, "region.update", region, before, after)
    return region


def region_delete(*, actor: User | None, scope: Scope | None = None, region: Region) -> None:
    """Delete a street office that has no communities left (platform administrators only)."""
    _require_platform_admin(actor, scope, visible_community_ids=_region_community_ids(region))
    with transaction.atomic():
        _refuse_if_dependents(region)
        _audit(actor, "region.delete", region, snapshot(region, REGION_FIELDS), {})
        region.delete()


def _region_community_ids(region: Region) -> list[int]:
    return list(Community.objects.filter(region=region).values_list("id", flat=True))


# --------------------------------------------------------------------------- communities


def community_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    region: Region,
    name: str,
    slug: str,
    address: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    boundary: Any = None,
    phone: str = "",
) -> Community:
    """Add a community to a street office (platform administrators only), with the built-in
    alarm rules enabled."""
    _require_platform_admin(actor, scope)
    checked_boundary = _geometry(boundary, "boundary", allowed=geo.AREA_TYPES)
    lat, lon = _coordinates(latitude, longitude, checked_boundary)
    community = Community(
        region=region,
        name=_text(Community, "name", name),
        slug=_slug(Community, "slug", slug),
        address=_text(Community, "address", address, required=False),
        latitude=lat,
        longitude=lon,
        boundary=checked_boundary,
        phone=_phone(phone),
    )
    message = _("A community with this short name already exists.")
    with transaction.atomic():
        _ensure_unique(
            Community.objects.filter(slug=community.slug),
            exclude_pk=None,
            message=message,
            field="slug",
        )
        _save(community, message=message, field="slug")
        _audit(
            actor,
            "community.create",
            community,
            {},
            snapshot(community, COMMUNITY_FIELDS),
            community_id=community.pk,
        )
        # Imported here: the rules domain depends on places, not the other way round.
        from anwang.rules.services import rules_install_builtin

        # The creator is a platform administrator, who manages every community's rules.
        rules_install_builtin(actor=actor, scope=scope, community=community)
    return community


def community_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    region: Region | Unset = UNSET,
    name: str | Unset = UNSET,
    slug: str | Unset = UNSET,
    address: str | Unset = UNSET,
    latitude: float | Unset | None = UNSET,
    longitude: float | Unset | None = UNSET,
    boundary: Any = UNSET,
    phone: str | Unset = UNSET,
) -> Community:
    """Change a community's details (its admins); moving it to another street office is for
    platform administrators."""
    _require_manage(actor, scope, community.pk)
    values: dict[str, Any] = {}
    if region is not UNSET and region.pk != community.region_id:
        if not is_unrestricted(actor=actor, scope=scope):
            raise ServiceError(
                _("Only a platform administrator can move a community to another street office."),
                field="region",
            )
        values["region"] = region
    if name is not UNSET:
        values["name"] = _text(Community, "name", name)
    if slug is not UNSET:
        values["slug"] = _slug(Community, "slug", slug)
    if address is not UNSET:
        values["address"] = _text(Community, "address", address, required=False)
    if phone is not UNSET:
        values["phone"] = _phone(phone)
    new_boundary = community.boundary
    if boundary is not UNSET:
        new_boundary = values["boundary"] = _geometry(boundary, "boundary", allowed=geo.AREA_TYPES)
    if latitude is not UNSET or longitude is not UNSET or boundary is not UNSET:
        lat, lon = _coordinates(
            community.latitude if latitude is UNSET else latitude,
            community.longitude if longitude is UNSET else longitude,
            new_boundary,
        )
        values["latitude"], values["longitude"] = lat, lon
    message = _("A community with this short name already exists.")
    with transaction.atomic():
        if "slug" in values:
            _ensure_unique(
                Community.objects.filter(slug=values["slug"]),
                exclude_pk=community.pk,
                message=message,
                field="slug",
            )
        before = snapshot(community, COMMUNITY_FIELDS)
        _apply(community, values)
        after = snapshot(community, COMMUNITY_FIELDS)
        if before != after:
            _save(community, message=message, field="slug")
            _audit(actor, "community.update", community, before, after, community_id=community.pk)
    return community


def community_delete(
    *, actor: User | None, scope: Scope | None = None, community: Community
) -> None:
    """Delete an empty community (platform administrators only); one that still holds any data
    is refused, so nothing disappears with it by accident."""
    from anwang.rules.models import Rule

    _require_platform_admin(actor, scope, visible_community_ids=[community.pk])
    # The built-in rules every community is created with are not its data; rules someone wrote
    # are.
    only_builtin_rules = not Rule.objects.filter(community=community, builtin="").exists()
    with transaction.atomic():
        _refuse_if_dependents(community, skip=[Rule] if only_builtin_rules else [])
        _audit(
            actor,
            "community.delete",
            community,
            snapshot(community, COMMUNITY_FIELDS),
            {},
            community_id=community.pk,
        )
        community.delete()


# --------------------------------------------------------------------------- grids


def _check_grid_worker(user: User | None, community: Community) -> User | None:
    if user is None:
        return None
    if Role.GRID_WORKER not in scope_for(user).roles(community.pk):
        # No name in the message: an API caller may pass any user id.
        raise ServiceError(_("Choose a grid worker of this community."), field="grid_worker")
    return user


def _grid_code_unique(community_id: int, code: str, exclude_pk: int | None) -> None:
    if code:
        _ensure_unique(
            Grid.objects.filter(community_id=community_id, code=code),
            exclude_pk=exclude_pk,
            message=_("Another grid of this community has this code."),
            field="code",
        )


def grid_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    code: str = "",
    boundary: Any = None,
    grid_worker: User | None = None,
) -> Grid:
    """Add a grid to a community."""
    _require_manage(actor, scope, community.pk)
    grid = Grid(
        community=community,
        name=_text(Grid, "name", name),
        code=_text(Grid, "code", code, required=False),
        boundary=_geometry(boundary, "boundary", allowed=geo.AREA_TYPES),
        grid_worker=_check_grid_worker(grid_worker, community),
    )
    message = _("This community already has a grid with this name.")
    with transaction.atomic():
        _ensure_unique(
            Grid.objects.filter(community=community, name=grid.name),
            exclude_pk=None,
            message=message,
            field="name",
        )
        _grid_code_unique(community.pk, grid.code, None)
        _save(grid, message=message, field="name")
        _audit(actor, "grid.create", grid, {}, snapshot(grid, GRID_FIELDS))
    return grid


def grid_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    grid: Grid,
    name: str | Unset = UNSET,
    code: str | Unset = UNSET,
    boundary: Any = UNSET,
    grid_worker: User | Unset | None = UNSET,
) -> Grid:
    """Change a grid's name, code, boundary or grid worker."""
    _require_manage(actor, scope, grid.community_id)
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = _text(Grid, "name", name)
    if code is not UNSET:
        values["code"] = _text(Grid, "code", code, required=False)
    if boundary is not UNSET:
        values["boundary"] = _geometry(boundary, "boundary", allowed=geo.AREA_TYPES)
    if grid_worker is not UNSET:
        values["grid_worker"] = _check_grid_worker(grid_worker, grid.community)
    message = _("This community already has a grid with this name.")
    with transaction.atomic():
        if "name" in values:
            _ensure_unique(
                Grid.objects.filter(community_id=grid.community_id, name=values["name"]),
                exclude_pk=grid.pk,
                message=message,
                field="name",
            )
        if "code" in values:
            _grid_code_unique(grid.community_id, values["code"], grid.pk)
        before = snapshot(grid, GRID_FIELDS)
        _apply(grid, values)
        after = snapshot(grid, GRID_FIELDS)
        if before != after:
            _save(grid, message=message, field="name")
            _audit(actor, "grid.update", grid, before, after)
    return grid


def grid_delete(*, actor: User | None, scope: Scope | None = None, grid: Grid) -> None:
    """Delete a grid; its buildings stay, no longer assigned to a grid."""
    _require_manage(actor, scope, grid.community_id)
    with transaction.atomic():
        _refuse_if_dependents(grid)
        detached = list(grid.buildings.values_list("number", flat=True))
        _audit(
            actor,
            "grid.delete",
            grid,
            snapshot(grid, GRID_FIELDS),
            {},
            extra={"buildings": [detached, []]} if detached else None,
        )
        grid.delete()


# --------------------------------------------------------------------------- buildings


def _check_grid(grid: Grid | None, community_id: int) -> Grid | None:
    if grid is not None and grid.community_id != community_id:
        raise ServiceError(_("Choose a grid of the building's community."), field="grid")
    return grid


def _default_building_name(number: str) -> str:
    """A building without a name is called after its number ("Building 3", "3号楼")."""
    return (_("Building %(number)s") % {"number": number})[:100]


def building_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    number: str,
    name: str = "",
    grid: Grid | None = None,
    floors: int = 1,
    use: str = BuildingUse.RESIDENTIAL,
    footprint: Any = None,
) -> Building:
    """Add a building; without a name it is called after its number."""
    _require_manage(actor, scope, community.pk)
    clean_number = _text(Building, "number", number)
    building = Building(
        community=community,
        number=clean_number,
        name=_text(Building, "name", name, required=False) or _default_building_name(clean_number),
        grid=_check_grid(grid, community.pk),
        floors=_integer(floors, "floors", low=1, high=MAX_FLOORS),
        use=_choice(use, BuildingUse, "use"),
        footprint=_geometry(footprint, "footprint", allowed=geo.AREA_TYPES),
    )
    message = _("This community already has a building with this number.")
    with transaction.atomic():
        _ensure_unique(
            Building.objects.filter(community=community, number=building.number),
            exclude_pk=None,
            message=message,
            field="number",
        )
        _save(building, message=message, field="number")
        _audit(actor, "building.create", building, {}, snapshot(building, BUILDING_FIELDS))
    return building


def building_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    building: Building,
    number: str | Unset = UNSET,
    name: str | Unset = UNSET,
    grid: Grid | Unset | None = UNSET,
    floors: int | Unset = UNSET,
    use: str | Unset = UNSET,
    footprint: Any = UNSET,
) -> Building:
    """Change a building; it cannot lose floors that households live on."""
    _require_manage(actor, scope, building.community_id)
    values: dict[str, Any] = {}
    if number is not UNSET:
        values["number"] = _text(Building, "number", number)
    if name is not UNSET:
        values["name"] = _text(Building, "name", name, required=False) or _default_building_name(
            values.get("number", building.number)
        )
    if grid is not UNSET:
        values["grid"] = _check_grid(grid, building.community_id)
    if floors is not UNSET:
        values["floors"] = _integer(floors, "floors", low=1, high=MAX_FLOORS)
    if use is not UNSET:
        values["use"] = _choice(use, BuildingUse, "use")
    if footprint is not UNSET:
        values["footprint"] = _geometry(footprint, "footprint", allowed=geo.AREA_TYPES)
    message = _("This community already has a building with this number.")
    with transaction.atomic():
        if "number" in values:
            _ensure_unique(
                Building.objects.filter(
                    community_id=building.community_id, number=values["number"]
                ),
                exclude_pk=building.pk,
                message=message,
                field="number",
            )
        if "floors" in values:
            highest = Household.objects.filter(unit__building=building).aggregate(
                highest=Max("floor")
            )["highest"]
            if highest is not None and highest > values["floors"]:
                raise ConflictError(
                    _(
                        "Households live on floor %(floor)d, so the building needs at least "
                        "that many floors."
                    )
                    % {"floor": highest},
                    field="floors",
                )
        before = snapshot(building, BUILDING_FIELDS)
        _apply(building, values)
        after = snapshot(building, BUILDING_FIELDS)
        if before != after:
            _save(building, message=message, field="number")
            _audit(actor, "building.update", building, before, after)
    return building


def building_delete(*, actor: User | None, scope: Scope | None = None, building: Building) -> None:
    """Delete a building and its entrances; refused while households remain in it."""
    _require_manage(actor, scope, building.community_id)
    with transaction.atomic():
        households = Household.objects.filter(unit__building=building).count()
        if households:
            raise ConflictError(
                _(
                    "“%(building)s” still has %(count)d households. Delete or move them before "
                    "deleting the building."
                )
                % {"building": building.name, "count": households}
            )
        _refuse_if_dependents(building, skip=[Unit])
        for unit in building.units.all():
            _refuse_if_dependents(unit, skip=[Household])
        units = list(building.units.values_list("number", flat=True))
        _audit(
            actor,
            "building.delete",
            building,
            snapshot(building, BUILDING_FIELDS),
            {},
            extra={"units": [units, []]} if units else None,
        )
        building.delete()


# --------------------------------------------------------------------------- entrances


def unit_create(
    *, actor: User | None, scope: Scope | None = None, building: Building, number: str
) -> Unit:
    """Add an entrance to a building."""
    _require_manage(actor, scope, building.community_id)
    unit = Unit(building=building, number=_text(Unit, "number", number))
    message = _("This building already has an entrance with this number.")
    with transaction.atomic():
        _ensure_unique(
            Unit.objects.filter(building=building, number=unit.number),
            exclude_pk=None,
            message=message,
            field="number",
        )
        _save(unit, message=message, field="number")
        _audit(
            actor,
            "unit.create",
            unit,
            {},
            snapshot(unit, UNIT_FIELDS),
            community_id=building.community_id,
        )
    return unit


def unit_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    unit: Unit,
    number: str | Unset = UNSET,
) -> Unit:
    """Renumber an entrance."""
    community_id = unit.building.community_id
    _require_manage(actor, scope, community_id)
    values: dict[str, Any] = {}
    if number is not UNSET:
        values["number"] = _text(Unit, "number", number)
    message = _("This building already has an entrance with this number.")
    with transaction.atomic():
        if "number" in values:
            _ensure_unique(
                Unit.objects.filter(building_id=unit.building_id, number=values["number"]),
                exclude_pk=unit.pk,
                message=message,
                field="number",
            )
        before = snapshot(unit, UNIT_FIELDS)
        _apply(unit, values)
        after = snapshot(unit, UNIT_FIELDS)
        if before != after:
            _save(unit, message=message, field="number")
            _audit(actor, "unit.update", unit, before, after, community_id=community_id)
    return unit


def unit_delete(*, actor: User | None, scope: Scope | None = None, unit: Unit) -> None:
    """Delete an entrance that has no households."""
    community_id = unit.building.community_id
    _require_manage(actor, scope, community_id)
    with transaction.atomic():
        households = unit.households.count()
        if households:
            raise ConflictError(
                _(
                    "Entrance %(unit)s still has %(count)d households. Delete or move them "
                    "before deleting the entrance."
                )
                % {"unit": unit, "count": households}
            )
        _refuse_if_dependents(unit)
        _audit(
            actor, "unit.delete", unit, snapshot(unit, UNIT_FIELDS), {}, community_id=community_id
        )
        unit.delete()


# --------------------------------------------------------------------------- households


def household_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    unit: Unit,
    floor: int,
    number: str,
    area_m2: decimal.Decimal | float | str | None = None,
    is_rented: bool = False,
    note: str = "",
    community: Community | None = None,
) -> Household:
    """Add a household to an entrance; its community is the entrance's building's."""
    building = unit.building
    _require_manage(actor, scope, building.community_id)
    if community is not None and community.pk != building.community_id:
        raise ServiceError(_("Choose an entrance of this community."), field="unit")
    household = Household(
        community_id=building.community_id,
        unit=unit,
        floor=_floor(floor, building),
        number=_text(Household, "number", number),
        area_m2=_area(area_m2),
        is_rented=bool(is_rented),
        note=_text(Household, "note", note, required=False),
    )
    message = _("This entrance already has a household with this room number.")
    with transaction.atomic():
        _ensure_unique(
            Household.objects.filter(unit=unit, number=household.number),
            exclude_pk=None,
            message=message,
            field="number",
        )
        _save(household, message=message, field="number")
        _audit(actor, "household.create", household, {}, snapshot(household, HOUSEHOLD_FIELDS))
    return household


def household_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    household: Household,
    unit: Unit | Unset = UNSET,
    floor: int | Unset = UNSET,
    number: str | Unset = UNSET,
    area_m2: decimal.Decimal | float | str | Unset | None = UNSET,
    is_rented: bool | Unset = UNSET,
    note: str | Unset = UNSET,
) -> Household:
    """Change a household; it may move to another entrance of the same community."""
    _require_manage(actor, scope, household.community_id)
    values: dict[str, Any] = {}
    target_unit = household.unit
    if unit is not UNSET and unit.pk != household.unit_id:
        if unit.building.community_id != household.community_id:
            raise ServiceError(_("Choose an entrance of this community."), field="unit")
        values["unit"] = target_unit = unit
    if floor is not UNSET or "unit" in values:
        values["floor"] = _floor(household.floor if floor is UNSET else floor, target_unit.building)
    if number is not UNSET:
        values["number"] = _text(Household, "number", number)
    if area_m2 is not UNSET:
        values["area_m2"] = _area(area_m2)
    if is_rented is not UNSET:
        values["is_rented"] = bool(is_rented)
    if note is not UNSET:
        values["note"] = _text(Household, "note", note, required=False)
    message = _("This entrance already has a household with this room number.")
    with transaction.atomic():
        if "number" in values or "unit" in values:
            _ensure_unique(
                Household.objects.filter(
                    unit=target_unit, number=values.get("number", household.number)
                ),
                exclude_pk=household.pk,
                message=message,
                field="number",
            )
        before = snapshot(household, HOUSEHOLD_FIELDS)
        _apply(household, values)
        after = snapshot(household, HOUSEHOLD_FIELDS)
        if before != after:
            _save(household, message=message, field="number")
            _audit(actor, "household.update", household, before, after)
    return household


def household_delete(
    *, actor: User | None, scope: Scope | None = None, household: Household
) -> None:
    """Delete a household nobody is recorded at (residents, bindings and other records
    refer to it and must be moved or removed first)."""
    _require_manage(actor, scope, household.community_id)
    with transaction.atomic():
        _refuse_if_dependents(household)
        _audit(actor, "household.delete", household, snapshot(household, HOUSEHOLD_FIELDS), {})
        household.delete()


# --------------------------------------------------------------------------- zones


def zone_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    kind: str,
    geometry: Any,
    is_key_area: bool = False,
    description: str = "",
) -> Zone:
    """Add a zone (a named area; a key area must be covered by cameras and patrols)."""
    _require_manage(actor, scope, community.pk)
    checked = _geometry(geometry, "geometry", allowed=geo.DEFAULT_ALLOWED)
    if checked is None:
        raise ServiceError(_("Draw the zone on the map or paste its GeoJSON."), field="geometry")
    zone = Zone(
        community=community,
        name=_text(Zone, "name", name),
        kind=_choice(kind, ZoneKind, "kind"),
        is_key_area=bool(is_key_area),
        geometry=checked,
        description=_text(Zone, "description", description, required=False),
    )
    with transaction.atomic():
        _ensure_unique(
            Zone.objects.filter(community=community, name=zone.name),
            exclude_pk=None,
            message=_("This community already has a zone with this name."),
            field="name",
        )
        zone.save()
        _audit(actor, "zone.create", zone, {}, snapshot(zone, ZONE_FIELDS))
    return zone


def zone_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    zone: Zone,
    name: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    geometry: Any = UNSET,
    is_key_area: bool | Unset = UNSET,
    description: str | Unset = UNSET,
) -> Zone:
    """Change a zone's name, kind, shape, key-area flag or description."""
    _require_manage(actor, scope, zone.community_id)
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = _text(Zone, "name", name)
    if kind is not UNSET:
        values["kind"] = _choice(kind, ZoneKind, "kind")
    if geometry is not UNSET:
        checked = _geometry(geometry, "geometry", allowed=geo.DEFAULT_ALLOWED)
        if checked is None:
            raise ServiceError(
                _("Draw the zone on the map or paste its GeoJSON."), field="geometry"
            )
        values["geometry"] = checked
    if is_key_area is not UNSET:
        values["is_key_area"] = bool(is_key_area)
    if description is not UNSET:
        values["description"] = _text(Zone, "description", description, required=False)
    with transaction.atomic():
        if "name" in values:
            _ensure_unique(
                Zone.objects.filter(community_id=zone.community_id, name=values["name"]),
                exclude_pk=zone.pk,
                message=_("This community already has a zone with this name."),
                field="name",
            )
        before = snapshot(zone, ZONE_FIELDS)
        _apply(zone, values)
        after = snapshot(zone, ZONE_FIELDS)
        if before != after:
            zone.save()
            _audit(actor, "zone.update", zone, before, after)
    return zone


def zone_delete(*, actor: User | None, scope: Scope | None = None, zone: Zone) -> None:
    """Delete a zone that nothing else (patrol routes, cameras, ...) refers to."""
    _require_manage(actor, scope, zone.community_id)
    with transaction.atomic():
        _refuse_if_dependents(zone)
        _audit(actor, "zone.delete", zone, snapshot(zone, ZONE_FIELDS), {})
        zone.delete()

"""Writes of the responsibilities domain: create, change and delete the responsibility of a
zone, a building or an asset category.

Every change needs :attr:`Permission.MANAGE_RESPONSIBILITIES` in the community (403 for those
who may only see the matrix, 404 for everyone else), is validated with translated errors on
the field concerned, and records an audit entry in the same transaction. Without ``actor``
and ``scope`` the call is the system itself. A side (responsible or deputy) names a person or
a duty role, never both; the responsible side must name one of them. A person named must be
active staff (or a volunteer) of the community.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import UNSET, Unset, clean_text
from anwang.facilities.choices import AssetType
from anwang.places.models import Building, Community, Zone
from anwang.responsibilities.choices import AreaKind
from anwang.responsibilities.models import Responsibility
from anwang.responsibilities.selectors import ANSWERING_ROLES
from anwang.rosters.choices import DutyRole

_FIELDS = (
    "area_kind",
    "zone",
    "building",
    "asset_type",
    "responsible_person",
    "responsible_role",
    "deputy_person",
    "deputy_role",
    "note",
)


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_RESPONSIBILITIES,
        community_id=community_id,
        visible_with=Permission.VIEW_RESPONSIBILITIES,
    )


def authorize_manage(*, actor: User | None, scope: Scope | None, community: Community) -> None:
    """Raise 403 (or 404) unless the caller may change the community's matrix; for callers
    that check before looking up the places and people named in a request."""
    _require_manage(actor, scope, community.pk)


def _set_area(
    item: Responsibility,
    area_kind: Any,
    zone: Zone | None,
    building: Building | None,
    asset_type: Any,
) -> None:
    """Point the responsibility at one area of its community (and clear the other kinds)."""
    if area_kind not in AreaKind.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in AreaKind.labels)},
            field="area_kind",
        )
    item.area_kind = str(area_kind)
    item.zone, item.building, item.asset_type = None, None, ""
    if area_kind == AreaKind.ZONE:
        if not isinstance(zone, Zone) or zone.community_id != item.community_id:
            raise ServiceError(_("Choose a zone of this community."), field="zone")
        item.zone = zone
    elif area_kind == AreaKind.BUILDING:
        if not isinstance(building, Building) or building.community_id != item.community_id:
            raise ServiceError(_("Choose a building of this community."), field="building")
        item.building = building
    else:
        if asset_type not in AssetType.values:
            raise ServiceError(_("Choose an asset category."), field="asset_type")
        item.asset_type = str(asset_type)


def _person(community_id: int, person: Any, field: str) -> User | None:
    if person is None:
        return None
    if not isinstance(person, User) or not person.is_active:
        raise ServiceError(_("Choose an active person."), field=field)
    if not Membership.objects.filter(
        user=person, community_id=community_id, role__in=ANSWERING_ROLES
    ).exists():
        raise ServiceError(
            _("%(name)s is not staff or a volunteer of this community.") % {"name": person},
            field=field,
        )
    return person


def _role(value: Any, field: str) -> str:
    if value in (None, ""):
        return ""
    if value not in DutyRole.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in DutyRole.labels)},
            field=field,
        )
    return str(value)


def _set_side(item: Responsibility, side: str, person: Any, role: Any, *, required: bool) -> None:
    """Set one side (``responsible`` or ``deputy``) to a person or a duty role."""
    cleaned_role = _role(role, f"{side}_role")
    if person is not None and cleaned_role:
        raise ServiceError(_("Name a person or a duty role, not both."), field=f"{side}_person")
    if required and person is None and not cleaned_role:
        raise ServiceError(_("Name the responsible person or a duty role."), field=f"{side}_person")
    setattr(item, f"{side}_person", _person(item.community_id, person, f"{side}_person"))
    setattr(item, f"{side}_role", cleaned_role)


def _duplicate(item: Responsibility) -> ConflictError:
    field = {AreaKind.ZONE: "zone", AreaKind.BUILDING: "building"}.get(
        AreaKind(item.area_kind), "asset_type"
    )
    return ConflictError(
        _("Someone already answers for %(area)s; change that responsibility instead.")
        % {"area": item.zone or item.building or item.get_asset_type_display()},
        field=field,
        code="duplicate",
    )


def _check_unique(item: Responsibility) -> None:
    others = Responsibility.objects.filter(
        community_id=item.community_id, area_kind=item.area_kind
    ).exclude(pk=item.pk)
    if item.area_kind == AreaKind.ZONE:
        others = others.filter(zone=item.zone)
    elif item.area_kind == AreaKind.BUILDING:
        others = others.filter(building=item.building)
    else:
        others = others.filter(asset_type=item.asset_type)
    if others.exists():
        raise _duplicate(item)


def _save(item: Responsibility, *, actor: User | None, action: str, before: dict[str, Any]) -> None:
    _check_unique(item)
    try:
        with transaction.atomic():
            item.save()
            audit_record(
                actor=actor,
                action=action,
                obj=item,
                community_id=item.community_id,
                changes=diff(before, snapshot(item, _FIELDS)),
            )
    except IntegrityError as error:
        # Two managers saving the same area at once: the database's unique constraint wins.
        raise _duplicate(item) from error


def responsibility_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    area_kind: str,
    zone: Zone | None = None,
    building: Building | None = None,
    asset_type: str = "",
    responsible_person: User | None = None,
    responsible_role: str = "",
    deputy_person: User | None = None,
    deputy_role: str = "",
    note: str = "",
) -> Responsibility:
    """Say who answers for a zone, a building or an asset category of the community, and
    who stands in."""
    _require_manage(actor, scope, community.pk)
    item = Responsibility(community=community)
    _set_area(item, area_kind, zone, building, asset_type)
    _set_side(item, "responsible", responsible_person, responsible_role, required=True)
    _set_side(item, "deputy", deputy_person, deputy_role, required=False)
    item.note = clean_text("note", note, limit=200, required=False)
    _save(item, actor=actor, action="responsibility.create", before={})
    return item


def responsibility_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    responsibility: Responsibility,
    area_kind: str | Unset = UNSET,
    zone: Zone | Unset | None = UNSET,
    building: Building | Unset | None = UNSET,
    asset_type: str | Unset = UNSET,
    responsible_person: User | Unset | None = UNSET,
    responsible_role: str | Unset = UNSET,
    deputy_person: User | Unset | None = UNSET,
    deputy_role: str | Unset = UNSET,
    note: str | Unset = UNSET,
) -> Responsibility:
    """Change a responsibility; arguments left at :data:`UNSET` keep their value. Passing
    either half of a side (person or duty role) replaces that side: the other half left
    unset is cleared, so switching from a role to a person needs only the person."""
    item = responsibility
    _require_manage(actor, scope, item.community_id)
    before = snapshot(item, _FIELDS)
    if any(value is not UNSET for value in (area_kind, zone, building, asset_type)):
        kind = item.area_kind if area_kind is UNSET else area_kind
        same_kind = kind == item.area_kind
        _set_area(
            item,
            kind,
            (item.zone if same_kind else None) if zone is UNSET else zone,
            (item.building if same_kind else None) if building is UNSET else building,
            (item.asset_type if same_kind else "") if asset_type is UNSET else asset_type,
        )
    if responsible_person is not UNSET or responsible_role is not UNSET:
        _set_side(
            item,
            "responsible",
            None if responsible_person is UNSET else responsible_person,
            "" if responsible_role is UNSET else responsible_role,
            required=True,
        )
    if deputy_person is not UNSET or deputy_role is not UNSET:
        _set_side(
            item,
            "deputy",
            None if deputy_person is UNSET else deputy_person,
            "" if deputy_role is UNSET else deputy_role,
            required=False,
        )
    if note is not UNSET:
        item.note = clean_text("note", note, limit=200, required=False)
    _save(item, actor=actor, action="responsibility.update", before=before)
    return item


def responsibility_delete(
    *, actor: User | None, scope: Scope | None = None, responsibility: Responsibility
) -> None:
    """Remove a responsibility: its area becomes a gap until someone answers for it again."""
    item = responsibility
    _require_manage(actor, scope, item.community_id)
    before = snapshot(item, _FIELDS)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="responsibility.delete",
            obj=item,
            community_id=item.community_id,
            changes=diff(before, {}),
        )
        item.delete()

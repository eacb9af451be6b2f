"""JSON API of the responsibilities domain: the responsibilities of a community, its gaps,
and who answers for a place at a moment.

Reads need :attr:`Permission.VIEW_RESPONSIBILITIES` in the community (404 otherwise); writes
go through :mod:`anwang.responsibilities.services`, which need
:attr:`Permission.MANAGE_RESPONSIBILITIES` (403 when the caller can see the matrix but not
change it).
"""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from anwang.accounts.models import User
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.facilities.choices import AssetType
from anwang.places.models import Building, Zone
from anwang.responsibilities import selectors, services
from anwang.responsibilities.choices import AreaKind
from anwang.responsibilities.models import Responsibility
from anwang.responsibilities.schemas import (
    GapOut,
    ResponsibilityIn,
    ResponsibilityOut,
    ResponsibilityPatch,
    ResponsibleOut,
    ResponsiblePersonOut,
)

router = Router(tags=["responsibilities"])


def _person(community_id: int, person_id: int | None, field: str) -> User | None:
    # Looked up among the community's people only, so an id from elsewhere names nobody.
    if person_id is None:
        return None
    person = selectors.people_choices(community_id).filter(pk=person_id).first()
    if person is None:
        raise ServiceError(
            _("Choose an active member of this community's staff or volunteers."), field=field
        )
    return person


def _zone(community_id: int, zone_id: int | None) -> Zone | None:
    if zone_id is None:
        return None
    zone = Zone.objects.filter(pk=zone_id, community_id=community_id).first()
    if zone is None:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    return zone


def _building(community_id: int, building_id: int | None) -> Building | None:
    if building_id is None:
        return None
    building = Building.objects.filter(pk=building_id, community_id=community_id).first()
    if building is None:
        raise ServiceError(_("Choose a building of this community."), field="building")
    return building


@router.get(
    "/communities/{community_id}/responsibilities",
    response=list[ResponsibilityOut],
    summary="List responsibilities",
)
def responsibility_list(request: HttpRequest, community_id: int) -> QuerySet[Responsibility]:
    """The community's responsibilities: zones, then buildings, then asset categories."""
    return selectors.responsibilities_visible(request_scope(request), community_id)


@router.post(
    "/communities/{community_id}/responsibilities",
    response={201: ResponsibilityOut},
    summary="Add a responsibility",
)
def responsibility_create(
    request: HttpRequest, community_id: int, payload: ResponsibilityIn
) -> Status[Responsibility]:
    """Say who answers for a zone, a building or an asset category (a person or a duty
    role), and optionally who stands in."""
    scope = request_scope(request)
    actor = request_actor(request)
    community = selectors.community_get(scope, community_id)
    services.authorize_manage(actor=actor, scope=scope, community=community)
    item = services.responsibility_create(
        actor=actor,
        scope=scope,
        community=community,
        area_kind=payload.area_kind,
        zone=_zone(community.pk, payload.zone_id),
        building=_building(community.pk, payload.building_id),
        asset_type=payload.asset_type or "",
        responsible_person=_person(
            community.pk, payload.responsible_person_id, "responsible_person"
        ),
        responsible_role=payload.responsible_role or "",
        deputy_person=_person(community.pk, payload.deputy_person_id, "deputy_person"),
        deputy_role=payload.deputy_role or "",
        note=payload.note,
    )
    return Status(201, selectors.responsibility_get(scope, item.pk))


@router.get(
    "/responsibilities/{responsibility_id}",
    response=ResponsibilityOut,
    summary="Get a responsibility",
)
def responsibility_get(request: HttpRequest, responsibility_id: int) -> Responsibility:
    """One responsibility."""
    return selectors.responsibility_get(request_scope(request), responsibility_id)


@router.patch(
    "/responsibilities/{responsibility_id}",
    response=ResponsibilityOut,
    summary="Change a responsibility",
)
def responsibility_update(
    request: HttpRequest, responsibility_id: int, payload: ResponsibilityPatch
) -> Responsibility:
    """Change a responsibility; fields left out keep their value. Sending either half of a
    side (person or duty role) replaces the side; ``null`` for both deputy fields removes
    the deputy."""
    scope = request_scope(request)
    actor = request_actor(request)
    item = selectors.responsibility_get(scope, responsibility_id)
    services.authorize_manage(actor=actor, scope=scope, community=item.community)
    sent = payload.model_dump(exclude_unset=True)
    community_id = item.community_id
    values: dict[str, Any] = {}
    if sent.get("area_kind") is not None:
        values["area_kind"] = sent["area_kind"]
    if "zone_id" in sent:
        values["zone"] = _zone(community_id, sent["zone_id"])
    if "building_id" in sent:
        values["building"] = _building(community_id, sent["building_id"])
    if "asset_type" in sent:
        values["asset_type"] = sent["asset_type"] or ""
    for side in ("responsible", "deputy"):
        if f"{side}_person_id" in sent:
            values[f"{side}_person"] = _person(
                community_id, sent[f"{side}_person_id"], f"{side}_person"
            )
        if f"{side}_role" in sent:
            values[f"{side}_role"] = sent[f"{side}_role"] or ""
    if sent.get("note") is not None:
        values["note"] = sent["note"]
    services.responsibility_update(actor=actor, scope=scope, responsibility=item, **values)
    return selectors.responsibility_get(scope, item.pk)


@router.delete(
    "/responsibilities/{responsibility_id}",
    response={204: None},
    summary="Delete a responsibility",
)
def responsibility_delete(request: HttpRequest, responsibility_id: int) -> Status[None]:
    """Remove a responsibility; its area becomes a gap."""
    scope = request_scope(request)
    item = selectors.responsibility_get(scope, responsibility_id)
    services.responsibility_delete(actor=request_actor(request), scope=scope, responsibility=item)
    return Status(204, None)


@router.get(
    "/communities/{community_id}/responsibility-gaps",
    response=list[GapOut],
    summary="Areas nobody answers for",
)
def responsibility_gaps(request: HttpRequest, community_id: int) -> list[GapOut]:
    """Zones, buildings and asset categories nobody answers for right now: without a
    responsibility, or whose responsible side resolves to nobody (a duty role with nobody
    on duty, a disabled account, a person no longer staff)."""
    community = selectors.community_get(request_scope(request), community_id)
    return [
        GapOut(
            area_kind=AreaKind(gap.area_kind),
            area_name=gap.area_label,
            zone=gap.zone_id,
            building=gap.building_id,
            asset_type=gap.asset_type,
            reason=gap.reason,
            message=str(gap.message),
            responsibility=gap.responsibility.pk if gap.responsibility else None,
        )
        for gap in selectors.responsibility_gaps(community)
    ]


@router.get(
    "/communities/{community_id}/responsible",
    response=ResponsibleOut,
    summary="Who answers for a place",
)
def responsible(
    request: HttpRequest,
    community_id: int,
    zone_id: int | None = None,
    building_id: int | None = None,
    asset_type: AssetType | None = None,
    at: datetime | None = None,
) -> ResponsibleOut:
    """The people answering for a zone, a building and/or an asset category at ``at``
    (default now): the most specific responsibility first (asset category, building,
    zone), responsible before deputy, duty roles resolved through the roster."""
    community = selectors.community_get(request_scope(request), community_id)
    if at is not None and timezone.is_naive(at):
        raise ServiceError(_("Give the time with its time zone offset."), field="at")
    moment = at or timezone.now()
    people = selectors.responsible_people(
        community_id=community.pk,
        zone_id=zone_id,
        building_id=building_id,
        asset_type=asset_type or "",
        at=moment,
    )
    return ResponsibleOut(
        at=moment,
        people=[ResponsiblePersonOut(id=person.pk, name=str(person)) for person in people],
    )

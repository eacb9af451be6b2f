"""JSON API of access control: access points, residents' credentials (numbers masked, an
audited reveal), consents, a person's movements (audited on every call), the access log and
the watch list. Visitor passes and the gate are in :mod:`anwang.access.pass_api`.

Reads need :attr:`Permission.VIEW_ACCESS` in the object's community (else 404); writes need
:attr:`Permission.MANAGE_ACCESS` (viewers get 403). Bad input is 400 with the field in
``errors``; a conflicting state (duplicate number, consent already in force, entry already
ended) is 409. The access log never filters by person: one person's movements are read only
through ``/access/residents/{resident_id}/movements``, which writes an audit entry.
"""

import datetime as dt
from typing import Any, TypeVar

from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.access import retention, selectors, services
from anwang.access.choices import AccessCredentialKind, AccessMethod, AccessResult, CredentialStatus
from anwang.access.models import (
    AccessEvent,
    AccessPoint,
    ConsentRecord,
    Credential,
    WatchListEntry,
)
from anwang.access.schemas import (
    AccessCredentialIn,
    AccessCredentialOut,
    AccessEraseOut,
    AccessEventOut,
    AccessPointIn,
    AccessPointOut,
    ConsentIn,
    ConsentOut,
    CredentialNumberOut,
    CredentialPatch,
    CredentialStatusIn,
    WatchIn,
    WatchOut,
)
from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.devices.models import Device
from anwang.places.models import Building, Community, Zone

router = Router(tags=["access"])
PAGE_SIZE = 50


def _manage_community(scope: Scope, community_id: int | None) -> Community:
    """The community a new object goes in: the one named (404 unseen, 403 not managed), or
    the caller's only managed community."""
    if community_id is None:
        managed = list(selectors.manage_communities(scope)[:2])
        if len(managed) == 1:
            return managed[0]
        if not managed:
            raise Http404
        raise ServiceError(_("Choose a community."), field="community_id")
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not selectors.may_view(scope, community.pk):
        raise Http404
    return community


_M = TypeVar("_M", bound=models.Model)


def _of_community(
    model: type[_M], community: Community, pk: int | None, *, field: str, message: str
) -> _M | None:
    """The community's object of ``model`` with this id (``None`` for none), or a field error:
    a point's device, zone or building must be the community's own."""
    if pk is None:
        return None
    found = model._default_manager.filter(pk=pk, community=community).first()
    if found is None:
        raise ServiceError(message, field=field)
    return found


def _device(community: Community, device_id: int | None) -> Device | None:
    return _of_community(
        Device,
        community,
        device_id,
        field="device_id",
        message=_("Choose a device of this community."),
    )


def _zone(community: Community, zone_id: int | None) -> Zone | None:
    return _of_community(
        Zone, community, zone_id, field="zone_id", message=_("Choose a zone of this community.")
    )


def _building(community: Community, building_id: int | None) -> Building | None:
    return _of_community(
        Building,
        community,
        building_id,
        field="building_id",
        message=_("Choose a building of this community."),
    )


# --------------------------------------------------------------------------- access points


@router.get("/access/points", response=list[AccessPointOut], summary="List access points")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def point_list(
    request: HttpRequest,
    community_id: int | None = None,
    kind: str | None = None,
    active: bool | None = None,
) -> QuerySet[AccessPoint]:
    """Gates, unit doors and barriers of the caller's communities, with their devices."""
    return selectors.access_points(
        request_scope(request), community_id=community_id, kind=kind, active=active
    )


@router.post("/access/points", response={201: AccessPointOut}, summary="Add an access point")
def point_create(request: HttpRequest, payload: AccessPointIn) -> Status[AccessPoint]:
    """Add a gate, unit door or barrier with the device of the community that reports it."""
    scope = request_scope(request)
    community = _manage_community(scope, payload.community_id)
    point = services.access_point_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        name=payload.name,
        kind=payload.kind,
        device=_device(community, payload.device_id),
        door_no=payload.door_no,
        zone=_zone(community, payload.zone_id),
        building=_building(community, payload.building_id),
        latitude=payload.latitude,
        longitude=payload.longitude,
        is_restricted=payload.is_restricted,
        permitted_from=payload.permitted_from,
        permitted_until=payload.permitted_until,
    )
    return Status(201, selectors.access_point_get(scope, point.pk))


@router.get("/access/points/{access_point_id}", response=AccessPointOut, summary="An access point")
def point_get(request: HttpRequest, access_point_id: int) -> AccessPoint:
    """One access point."""
    return selectors.access_point_get(request_scope(request), access_point_id)


@router.put(
    "/access/points/{access_point_id}", response=AccessPointOut, summary="Change an access point"
)
def point_update(request: HttpRequest, access_point_id: int, payload: AccessPointIn) -> AccessPoint:
    """Change every field at once; ``is_active`` false takes it out of use."""
    scope = request_scope(request)
    point: AccessPoint = selectors.access_point_get(scope, access_point_id)
    community = point.community
    point = services.access_point_update(
        actor=request_actor(request),
        scope=scope,
        point=point,
        name=payload.name,
        kind=payload.kind,
        device=_device(community, payload.device_id),
        door_no=payload.door_no,
        zone=_zone(community, payload.zone_id),
        building=_building(community, payload.building_id),
        latitude=payload.latitude,
        longitude=payload.longitude,
        is_restricted=payload.is_restricted,
        permitted_from=payload.permitted_from,
        permitted_until=payload.permitted_until,
        is_active=payload.is_active,
    )
    return selectors.access_point_get(scope, point.pk)


# --------------------------------------------------------------------------- credentials


@router.get(
    "/access/credentials", response=list[AccessCredentialOut], summary="List credentials (masked)"
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def credential_list(
    request: HttpRequest,
    community_id: int | None = None,
    resident_id: int | None = None,
    kind: AccessCredentialKind | None = None,
    status: CredentialStatus | None = None,
    number: str = "",
) -> QuerySet[Credential]:
    """Cards, QR codes, plates and face references, numbers masked; ``number`` finds the
    credential with exactly this card number, QR id or plate."""
    return selectors.credentials(
        request_scope(request),
        community_id=community_id,
        resident_id=resident_id,
        kind=kind,
        status=status,
        number=number,
    )


@router.post(
    "/access/credentials",
    response={201: AccessCredentialOut},
    summary="Give a resident a credential",
)
def credential_create(request: HttpRequest, payload: AccessCredentialIn) -> Status[Credential]:
    """A card, QR code, plate or face template reference with its validity window. Face
    needs the resident's face consent in force and an active card or QR code (400)."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, payload.resident_id)
    credential = services.credential_create(
        actor=request_actor(request),
        scope=scope,
        resident=resident,
        kind=payload.kind,
        value=payload.value,
        label=payload.label,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
    )
    return Status(201, selectors.credential_get(scope, credential.pk))


@router.get(
    "/access/credentials/{access_credential_id}",
    response=AccessCredentialOut,
    summary="A credential (masked)",
)
def credential_get(request: HttpRequest, access_credential_id: int) -> Credential:
    """One credential, its number masked."""
    return selectors.credential_get(request_scope(request), access_credential_id)


@router.patch(
    "/access/credentials/{access_credential_id}",
    response=AccessCredentialOut,
    summary="Change a credential's label or validity",
)
def credential_update(
    request: HttpRequest, access_credential_id: int, payload: CredentialPatch
) -> Credential:
    """Change the label and the validity window (extend a lease, end it early); fields left
    out keep their value. The number never changes: revoke and give a new one."""
    scope = request_scope(request)
    credential: Credential = selectors.credential_get(scope, access_credential_id)
    given = payload.model_fields_set
    valid_until = credential.valid_until
    if payload.clear_valid_until:
        valid_until = None
    elif "valid_until" in given:
        valid_until = payload.valid_until
    services.credential_update(
        actor=request_actor(request),
        scope=scope,
        credential=credential,
        label=payload.label if payload.label is not None else credential.label,
        valid_from=payload.valid_from or credential.valid_from,
        valid_until=valid_until,
    )
    return selectors.credential_get(scope, credential.pk)


@router.post(
    "/access/credentials/{access_credential_id}/status",
    response=AccessCredentialOut,
    summary="Report a credential lost or stolen, revoke it or mark it found",
)
def credential_status(
    request: HttpRequest, access_credential_id: int, payload: CredentialStatusIn
) -> Credential:
    """Lost or stolen puts it on the watch list (any use raises an alarm); active again
    ends those entries; revoked is final. The last card or QR code of someone with a face
    credential cannot be revoked (409)."""
    scope = request_scope(request)
    credential = selectors.credential_get(scope, access_credential_id)
    services.credential_set_status(
        actor=request_actor(request),
        scope=scope,
        credential=credential,
        status=payload.status,
        reason=payload.reason,
        priority=payload.priority,
    )
    return selectors.credential_get(scope, credential.pk)


@router.post(
    "/access/credentials/{access_credential_id}/reveal",
    response=CredentialNumberOut,
    summary="A credential's full number (audited)",
)
def credential_reveal_value(request: HttpRequest, access_credential_id: int) -> CredentialNumberOut:
    """Needs the manage-access permission in its community (viewers 403, others 404); every
    call is written to the audit log (without the number)."""
    scope = request_scope(request)
    credential = selectors.credential_get(scope, access_credential_id)
    value = services.credential_reveal(
        actor=request_actor(request), scope=scope, credential=credential
    )
    return CredentialNumberOut(value=value)


# --------------------------------------------------------------------------- consents


@router.get(
    "/access/residents/{resident_id}/consents",
    response=list[ConsentOut],
    summary="A resident's consents",
)
def consent_list(request: HttpRequest, resident_id: int) -> list[ConsentRecord]:
    """Consents to face enrolment and welfare checks, withdrawn ones too, newest first."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    access = selectors.resident_access(scope, resident)
    return access.consents


@router.post(
    "/access/residents/{resident_id}/consents",
    response={201: ConsentOut},
    summary="Record a resident's consent",
)
def consent_create(
    request: HttpRequest, resident_id: int, payload: ConsentIn
) -> Status[ConsentRecord]:
    """When and how the consent was given; one of a kind in force at a time (409)."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    consent = services.consent_record(
        actor=request_actor(request),
        scope=scope,
        resident=resident,
        kind=payload.kind,
        how=payload.how,
        given_at=payload.given_at,
    )
    return Status(201, consent)


@router.post(
    "/access/consents/{consent_id}/withdraw",
    response=ConsentOut,
    summary="Withdraw a consent",
)
def consent_withdraw(request: HttpRequest, consent_id: int) -> ConsentRecord:
    """Withdrawing face consent revokes the resident's face credentials at once."""
    scope = request_scope(request)
    consent = selectors.consent_get(scope, consent_id)
    return services.consent_withdraw(actor=request_actor(request), scope=scope, consent=consent)


# --------------------------------------------------------------------------- access records


@router.get(
    "/access/residents/{resident_id}/movements",
    response=list[AccessEventOut],
    summary="A person's accesses (audited)",
)
def resident_movements(
    request: HttpRequest,
    resident_id: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[AccessEvent]:
    """Where and when the resident went in, newest first (at most 1000). Every call writes
    an audit entry naming who looked and which period."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    return selectors.resident_movements(
        scope, request_actor(request), resident, since=since, until=until
    )


@router.get(
    "/access/residents/{resident_id}/export",
    response=dict[str, Any],
    summary="Export a person's access data (audited)",
)
def resident_export(request: HttpRequest, resident_id: int) -> dict[str, Any]:
    """Everything access control holds about the person: credentials (numbers in full only
    for managers of access, masked otherwise), consents, accesses, visitor passes registered
    by the person's accounts and watch-list entries about them. Audited with the counts."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    return retention.resident_access_export(
        actor=request_actor(request), scope=scope, resident=resident
    )


@router.post(
    "/access/residents/{resident_id}/erase",
    response=AccessEraseOut,
    summary="Erase a person's access data on request",
)
def resident_erase(request: HttpRequest, resident_id: int) -> dict[str, int]:
    """Delete the person's access records, credentials and watch-list entries (consent
    records stay as proof of what was agreed). Managers of access only; audited with the
    counts."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    return retention.resident_access_erase(
        actor=request_actor(request), scope=scope, resident=resident
    )


@router.get("/access/events", response=list[AccessEventOut], summary="The access log")
def event_list(
    request: HttpRequest,
    community_id: int | None = None,
    access_point_id: int | None = None,
    result: AccessResult | None = None,
    method: AccessMethod | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    unknown_only: bool = False,
    limit: int = 200,
) -> list[AccessEvent]:
    """Accesses of the caller's communities, newest first (``limit`` at most 1000), by
    point, result, method and period; audited. One person's accesses: see
    ``/access/residents/{resident_id}/movements``."""
    scope = request_scope(request)
    if community_id is not None and not selectors.may_view(scope, community_id):
        raise Http404
    return selectors.access_events(
        scope,
        community_id=community_id,
        point_id=access_point_id,
        result=result,
        method=method,
        since=since,
        until=until,
        unknown_only=unknown_only,
        limit=limit,
    )


# --------------------------------------------------------------------------- watch list


@router.get("/access/watch-list", response=list[WatchOut], summary="The watch list")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def watch_list(
    request: HttpRequest, community_id: int | None = None, active: bool | None = True
) -> QuerySet[WatchListEntry]:
    """Lost or stolen credentials, barred persons and vehicles; entries in force by default
    (``active=false``: ended ones)."""
    return selectors.watch_entries(request_scope(request), community_id=community_id, active=active)


@router.post("/access/watch-list", response={201: WatchOut}, summary="Add to the watch list")
def watch_add(request: HttpRequest, payload: WatchIn) -> Status[WatchListEntry]:
    """Any later use of the credential, by the person or of the plate raises an alarm with
    the place and time."""
    scope = request_scope(request)
    community = _manage_community(scope, payload.community_id)
    credential = None
    if payload.credential_id is not None:
        credential = Credential.objects.filter(
            pk=payload.credential_id, community=community
        ).first()
        if credential is None:
            raise ServiceError(
                _("Choose a credential of this community."), field="access_credential_id"
            )
    resident = None
    if payload.resident_id is not None:
        resident = community.residents.filter(pk=payload.resident_id).first()
        if resident is None:
            raise ServiceError(_("Choose a resident of this community."), field="resident_id")
    entry = services.watch_add(
        actor=request_actor(request),
        scope=scope,
        community=community,
        kind=payload.kind,
        reason=payload.reason,
        credential=credential,
        resident=resident,
        plate=payload.plate,
        description=payload.description,
        priority=payload.priority,
    )
    return Status(201, entry)


@router.post(
    "/access/watch-list/{watch_entry_id}/end", response=WatchOut, summary="End a watch-list entry"
)
def watch_end(request: HttpRequest, watch_entry_id: int) -> WatchListEntry:
    """Take the entry off the list (409 when it already was)."""
    scope = request_scope(request)
    entry: WatchListEntry = selectors.watch_entry_get(scope, watch_entry_id)
    return services.watch_end(actor=request_actor(request), scope=scope, entry=entry)

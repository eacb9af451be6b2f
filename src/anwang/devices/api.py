"""JSON API of the devices domain: the device registry and device credentials.

Reads are scoped: a device of a community the caller cannot see is 404. Writes go through
:mod:`anwang.devices.services`, which need the manage-devices permission in the device's
community (403 when the caller can see it but not edit it).
"""

from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.core.tables import CONTENT_TYPES
from anwang.devices import selectors, services
from anwang.devices.choices import DeviceKind, DeviceStatus, Protocol
from anwang.devices.importing import export_file
from anwang.devices.models import Device, DeviceCredential
from anwang.devices.schemas import (
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    DeviceIn,
    DeviceOut,
    DevicePatch,
)
from anwang.places import selectors as place_selectors
from anwang.places.models import Building, Community, Zone

router = Router(tags=["devices"])
PAGE_SIZE = 50


def _zone(scope: Scope, zone_id: int | None) -> Zone | None:
    return None if zone_id is None else place_selectors.zone_get(scope, zone_id)


def _building(scope: Scope, building_id: int | None) -> Building | None:
    return None if building_id is None else place_selectors.building_get(scope, building_id)


@router.get("/devices", response=list[DeviceOut], summary="List devices")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def device_list(
    request: HttpRequest,
    community_id: int | None = None,
    q: str | None = None,
    kind: DeviceKind | None = None,
    protocol: Protocol | None = None,
    zone_id: int | None = None,
    status: DeviceStatus | None = None,
    include_retired: bool = False,
) -> QuerySet[Device]:
    """Devices the caller may see; retired ones only with ``include_retired``."""
    return selectors.device_list(
        request_scope(request),
        community_id=community_id,
        q=q,
        kind=kind,
        protocol=protocol,
        zone_id=zone_id,
        status=status,
        include_retired=include_retired,
    )


_FILE_RESPONSE = {
    "responses": {
        "200": {
            "description": "The devices as a spreadsheet (attachment), in the columns of the "
            "import followed by status, last seen and battery.",
            "content": {
                content_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for content_type in CONTENT_TYPES.values()
            },
        }
    }
}


def _export_community(scope: Scope, community_id: int | None) -> Community:
    """The community given (404 unless its devices are visible), or the only one whose devices
    the caller may see; 403 for a caller who may see devices nowhere."""
    if not (acts_platform_wide(scope) or scope.has_anywhere(selectors.VIEW)):
        raise PermissionDenied
    if community_id is None:
        ids = scope.community_ids(selectors.VIEW)
        if len(ids) != 1:
            raise ServiceError(_("Choose a community."), field="community_id")
        community_id = next(iter(ids))
    if not selectors.can_view(scope, community_id):
        raise Http404
    return Community.objects.get(pk=community_id)


@router.get(
    "/devices/export", summary="Export devices as .xlsx or .csv", openapi_extra=_FILE_RESPONSE
)
def device_export(
    request: HttpRequest,
    community_id: int | None = None,
    format: Literal["xlsx", "csv"] = "xlsx",
    q: str | None = None,
    kind: DeviceKind | None = None,
    protocol: Protocol | None = None,
    zone_id: int | None = None,
    status: DeviceStatus | None = None,
    include_retired: bool = False,
) -> HttpResponse:
    """The devices of one community that the list's filters select, in a file the import
    reads again; retired ones only with ``include_retired``."""
    scope = request_scope(request)
    community = _export_community(scope, community_id)
    devices = selectors.device_list(
        scope,
        community_id=community.pk,
        q=q,
        kind=kind,
        protocol=protocol,
        zone_id=zone_id,
        status=status,
        include_retired=include_retired,
    )
    content, file_name, content_type = export_file(devices, community=community, file_format=format)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@router.post("/devices", response={201: DeviceOut}, summary="Register a device")
def device_create(request: HttpRequest, payload: DeviceIn) -> Status[Device]:
    """Register a device in a community."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = place_selectors.community_get(scope, values.pop("community_id"))
    zone = _zone(scope, values.pop("zone_id"))
    building = _building(scope, values.pop("building_id"))
    device = services.device_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        zone=zone,
        building=building,
        **values,
    )
    return Status(201, device)


@router.get("/devices/{device_id}", response=DeviceOut, summary="Get a device")
def device_get(request: HttpRequest, device_id: int) -> Device:
    """One device, retired or not."""
    return selectors.device_get(request_scope(request), device_id)


@router.patch("/devices/{device_id}", response=DeviceOut, summary="Change a device")
def device_update(request: HttpRequest, device_id: int, payload: DevicePatch) -> Device:
    """Change a device in service; ``zone: null`` takes it out of its zone (and
    ``building: null`` out of its building)."""
    scope = request_scope(request)
    device = selectors.device_get(scope, device_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "zone_id" in values:
        values["zone"] = _zone(scope, values.pop("zone_id"))
    if "building_id" in values:
        values["building"] = _building(scope, values.pop("building_id"))
    return services.device_update(
        actor=request_actor(request), scope=scope, device=device, **values
    )


@router.post("/devices/{device_id}/retire", response=DeviceOut, summary="Retire a device")
def device_retire(request: HttpRequest, device_id: int) -> Device:
    """Take a device out of service; its history stays and its source identity is freed."""
    scope = request_scope(request)
    device = selectors.device_get(scope, device_id)
    return services.device_retire(actor=request_actor(request), scope=scope, device=device)


@router.get(
    "/devices/{device_id}/credentials",
    response=list[CredentialOut],
    summary="List a device's credentials",
)
def credential_list(request: HttpRequest, device_id: int) -> QuerySet[DeviceCredential]:
    """The credentials of a device (never their secrets)."""
    scope = request_scope(request)
    return selectors.device_credentials(scope, selectors.device_get(scope, device_id))


@router.post(
    "/devices/{device_id}/credentials",
    response={201: CredentialIssued},
    summary="Issue a device credential",
)
def credential_issue(
    request: HttpRequest, device_id: int, payload: CredentialIn
) -> Status[dict[str, Any]]:
    """Issue a token, HMAC secret or HTTP Basic/Digest password; the secret is in this answer
    only and cannot be shown again."""
    scope = request_scope(request)
    device = selectors.device_get(scope, device_id)
    credential, raw = services.device_credential_issue(
        actor=request_actor(request), scope=scope, device=device, **payload.model_dump()
    )
    body = CredentialOut.from_orm(credential).model_dump() | {"secret": raw}
    return Status(201, body)


@router.delete(
    "/devices/{device_id}/credentials/{credential_id}",
    response={204: None},
    summary="Revoke a device credential",
)
def credential_revoke(request: HttpRequest, device_id: int, credential_id: int) -> Status[None]:
    """Revoke a credential; the device can no longer use it."""
    scope = request_scope(request)
    device = selectors.device_get(scope, device_id)
    credential = selectors.device_credential_get(scope, device, credential_id)
    services.device_credential_revoke(
        actor=request_actor(request), scope=scope, credential=credential
    )
    return Status(204, None)

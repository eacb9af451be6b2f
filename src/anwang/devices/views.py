"""Pages of the devices domain: the device list, a device with its credentials, registering,
editing and retiring devices, and the spreadsheet import.

Views read through :mod:`anwang.devices.selectors` and write through
:mod:`anwang.devices.services`; they hold no rules. Lists show the community chosen with the
switcher in the top bar; devices of a community the person cannot see are 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, page_scope, page_user, paginate, submit_form
from anwang.core.selectors import communities_permitted, page_community
from anwang.core.tables import CONTENT_TYPES, ImportRejectedError
from anwang.devices import selectors, services
from anwang.devices.choices import DeviceKind, DeviceStatus, Protocol
from anwang.devices.forms import CredentialForm, DeviceForm, ImportForm
from anwang.devices.importing import DEVICES, export_file
from anwang.devices.models import Device
from anwang.places.models import Building, Community, Zone

# --------------------------------------------------------------------------- helpers


def _page_community(request: HttpRequest, scope: Scope, *, manage: bool = False) -> Community:
    """The community a list or create page works in: the one chosen in the top bar if the
    person may view (or, for ``manage``, edit) its devices there, else their first such one."""
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage if manage else selectors.can_view,
        fallback=None if manage else communities_permitted(scope, selectors.VIEW),
    )


def _require_manage(scope: Scope, community_id: int) -> None:
    if not selectors.can_manage(scope, community_id):
        raise PermissionDenied


def _zones(community_id: int) -> Any:
    return Zone.objects.filter(community_id=community_id).order_by("name", "id")


def _buildings(community_id: int) -> Any:
    return Building.objects.filter(community_id=community_id)


LIST_FILTERS = ("q", "kind", "protocol", "status", "zone", "retired")
"""The query parameters of the device list's filters (the export takes the same)."""


def _list_devices(
    request: HttpRequest, scope: Scope, community: Community
) -> tuple[QuerySet[Device], dict[str, Any]]:
    """The community's devices the list's filters select, and the filters as given."""
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    protocol = request.GET.get("protocol", "")
    status = request.GET.get("status", "")
    zone_id = int_param(request.GET.get("zone"))
    retired = request.GET.get("retired", "") == "yes"
    devices = selectors.device_list(
        scope,
        community_id=community.pk,
        q=q or None,
        kind=kind if kind in DeviceKind.values else None,
        protocol=protocol if protocol in Protocol.values else None,
        status=status if status in DeviceStatus.values else None,
        zone_id=zone_id,
        include_retired=retired,
    )
    filters: dict[str, Any] = {
        "q": q,
        "kind": kind,
        "protocol": protocol,
        "status": status,
        "zone_id": zone_id,
        "retired": retired,
    }
    return devices, filters


def _download(content: bytes, file_name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def _render_form(
    request: HttpRequest,
    form: DeviceForm,
    *,
    title: str,
    cancel_url: str,
    community: Community,
) -> HttpResponse:
    return render(
        request,
        "devices/form.html",
        {"form": form, "title": title, "cancel_url": cancel_url, "community": community},
    )


# --------------------------------------------------------------------------- devices


@login_required
def device_list(request: HttpRequest) -> HttpResponse:
    """The devices of the current community: search and filter by kind, protocol, zone and
    status."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    devices, filters = _list_devices(request, scope, community)
    page, query = paginate(request, devices)
    return render(
        request,
        "devices/device_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            **filters,
            "export_query": urlencode(
                [(k, v) for k, v in request.GET.items() if k in LIST_FILTERS and v]
            ),
            "kinds": DeviceKind.choices,
            "protocols": Protocol.choices,
            "statuses": DeviceStatus.choices,
            "zones": _zones(community.pk),
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


def _render_detail(
    request: HttpRequest, scope: Scope, device: Device, issued: dict[str, Any] | None = None
) -> HttpResponse:
    can_manage = selectors.can_manage(scope, device.community_id)
    return render(
        request,
        "devices/device_detail.html",
        {
            "device": device,
            "credentials": selectors.device_credentials(scope, device),
            "can_manage": can_manage and not device.is_retired,
            "credential_form": CredentialForm(),
            "issued": issued,
        },
    )


@login_required
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A device: its details, health and credentials."""
    scope = page_scope(request)
    return _render_detail(request, scope, selectors.device_get(scope, pk))


@login_required
def device_create(request: HttpRequest) -> HttpResponse:
    """Register a device in the current community."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    form = DeviceForm(
        request.POST or None, zones=_zones(community.pk), buildings=_buildings(community.pk)
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.device_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=lambda device: _("Device “%(name)s” was registered.") % {"name": device},
    )
    if saved is not None:
        return redirect("devices:device_detail", pk=saved.pk)
    return _render_form(
        request,
        form,
        title=_("Register a device"),
        cancel_url=reverse("devices:device_list"),
        community=community,
    )


@login_required
def device_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a device in service."""
    scope = page_scope(request)
    device = selectors.device_get(scope, pk)
    _require_manage(scope, device.community_id)
    if device.is_retired:
        messages.error(request, _("This device was retired and can no longer be changed."))
        return redirect("devices:device_detail", pk=device.pk)
    initial = {
        "name": device.name,
        "kind": device.kind,
        "protocol": device.protocol,
        "source_id": device.source_id,
        "zone": device.zone_id,
        "building": device.building_id,
        "latitude": device.latitude,
        "longitude": device.longitude,
        "heartbeat_seconds": device.heartbeat_seconds,
        "note": device.note,
    }
    form = DeviceForm(
        request.POST or None,
        initial=initial,
        zones=_zones(device.community_id),
        buildings=_buildings(device.community_id),
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.device_update(
            actor=page_user(request), scope=scope, device=device, **data
        ),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("devices:device_detail", pk=device.pk)
    return _render_form(
        request,
        form,
        title=_("Edit %(name)s") % {"name": device.name},
        cancel_url=reverse("devices:device_detail", args=[device.pk]),
        community=device.community,
    )


@login_required
def device_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask before retiring a device; on POST retire it."""
    scope = page_scope(request)
    device = selectors.device_get(scope, pk)
    _require_manage(scope, device.community_id)
    error = ""
    if request.method == "POST":
        try:
            services.device_retire(actor=page_user(request), scope=scope, device=device)
        except ServiceError as refused:
            error = str(refused.message)
        else:
            messages.success(request, _("“%(name)s” was retired.") % {"name": device})
            return redirect("devices:device_detail", pk=device.pk)
    return render(
        request,
        "devices/confirm_retire.html",
        {"device": device, "error": error},
        status=409 if error else 200,
    )


# --------------------------------------------------------------------------- credentials


@login_required
@require_POST
def credential_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a credential; its secret is shown once on the device page, then forgotten."""
    scope = page_scope(request)
    device = selectors.device_get(scope, pk)
    _require_manage(scope, device.community_id)
    form = CredentialForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the kind of credential to issue."))
        return redirect("devices:device_detail", pk=device.pk)
    try:
        credential, raw = services.device_credential_issue(
            actor=page_user(request), scope=scope, device=device, **form.cleaned_data
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        # Rendered, not redirected: the raw secret is never stored, not even in the session.
        issued = {
            "id": credential.pk,
            "kind": str(credential.get_kind_display()),
            "kind_code": credential.kind,
            "username": credential.username,
            "secret": raw,
        }
        return _render_detail(request, scope, device, issued)
    return redirect("devices:device_detail", pk=device.pk)


@login_required
@require_POST
def credential_revoke(request: HttpRequest, pk: int, credential_pk: int) -> HttpResponse:
    """Revoke one credential of a device."""
    scope = page_scope(request)
    device = selectors.device_get(scope, pk)
    credential = selectors.device_credential_get(scope, device, credential_pk)
    _require_manage(scope, device.community_id)
    services.device_credential_revoke(actor=page_user(request), scope=scope, credential=credential)
    messages.success(request, _("The credential was revoked."))
    return redirect("devices:device_detail", pk=device.pk)


# --------------------------------------------------------------------------- import and map


@login_required
def device_import(request: HttpRequest) -> HttpResponse:
    """Upload a spreadsheet; every row is checked and nothing is imported if any row fails."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            created = services.device_import(
                actor=page_user(request),
                scope=scope,
                community=community,
                file_name=upload.name or "",
                content=upload.read(),
            )
        except ImportRejectedError as rejected:
            errors = DEVICES.labelled(rejected.errors)
            form.add_error(None, str(rejected.message))
        except ServiceError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Registered %(count)d devices.") % {"count": len(created)})
            return redirect("devices:device_list")
    return render(
        request,
        "devices/device_import.html",
        {"form": form, "errors": errors, "community": community},
    )


@login_required
@require_GET
def device_export(request: HttpRequest) -> HttpResponse:
    """Download the devices the list shows (same filters) as .xlsx or .csv; the file imports
    again."""
    scope = page_scope(request)
    file_format = request.GET.get("format", "xlsx")
    if file_format not in CONTENT_TYPES:
        raise Http404
    community = _page_community(request, scope)
    devices, _filters = _list_devices(request, scope, community)
    return _download(*export_file(devices, community=community, file_format=file_format))


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """The import workbook: headers in the person's language, an example row that imports, and
    a sheet explaining each column with the allowed kinds and protocols."""
    scope = page_scope(request)
    _page_community(request, scope, manage=True)
    return _download(DEVICES.template_xlsx(), "devices-template.xlsx", CONTENT_TYPES["xlsx"])


@login_required
@require_GET
def map_geojson(request: HttpRequest) -> JsonResponse:
    """The positioned devices of a community as GeoJSON (for the map)."""
    scope = page_scope(request)
    community_id = int_param(request.GET.get("community"))
    if community_id is None:
        community_id = _page_community(request, scope).pk
    return JsonResponse(selectors.map_features(scope, community_id))

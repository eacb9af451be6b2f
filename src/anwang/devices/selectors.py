"""Reads of the devices domain, already scoped to what the caller may see.

A ``*_get`` of a device in a community the caller cannot see raises :class:`Http404`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.devices.choices import DeviceStatus
from anwang.devices.models import Device, DeviceCredential
from anwang.places.models import Community

VIEW = Permission.VIEW_DEVICES


def _visible(scope: Scope, queryset: QuerySet[Device]) -> QuerySet[Device]:
    if acts_platform_wide(scope):
        return queryset
    return scope.filter(queryset, VIEW, "community_id")


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the devices of a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may register and edit the devices of a community."""
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_DEVICES, community_id)


def device_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str | None = None,
    kind: str | None = None,
    protocol: str | None = None,
    zone_id: int | None = None,
    status: str | None = None,
    include_retired: bool = False,
) -> QuerySet[Device]:
    """Devices the caller may see (in service only, unless ``include_retired``)."""
    devices = _visible(scope, Device.objects.all()).select_related("community", "zone", "building")
    if community_id is not None:
        devices = devices.filter(community_id=community_id)
    if not include_retired:
        devices = devices.filter(retired_at__isnull=True)
    if kind:
        devices = devices.filter(kind=kind)
    if protocol:
        devices = devices.filter(protocol=protocol)
    if zone_id is not None:
        devices = devices.filter(zone_id=zone_id)
    if status:
        devices = devices.filter(status=status)
    if q and q.strip():
        text = q.strip()
        devices = devices.filter(
            Q(name__icontains=text) | Q(source_id__icontains=text) | Q(note__icontains=text)
        )
    return devices.order_by("community__name", "name", "id")


def device_get(scope: Scope, device_id: int) -> Device:
    """One visible device, retired or not."""
    found = device_list(scope, include_retired=True).filter(pk=device_id).first()
    if found is None:
        raise Http404
    return found


def device_credentials(scope: Scope, device: Device) -> QuerySet[DeviceCredential]:
    """The credentials of a visible device, newest first."""
    if not can_view(scope, device.community_id):
        raise Http404
    return device.credentials.order_by("-created_at", "-id")


def device_credential_get(scope: Scope, device: Device, credential_id: int) -> DeviceCredential:
    """One credential of a visible device."""
    found = device_credentials(scope, device).filter(pk=credential_id).first()
    if found is None:
        raise Http404
    found.device = device
    return found


@dataclass(frozen=True)
class DeviceCounts:
    """How many devices are in service, and how many of them are offline."""

    devices: int = 0
    offline: int = 0


def device_counts(scope: Scope, community: Community | None) -> DeviceCounts:
    """Counts for one community, or every community the caller may see when ``None``."""
    if community is not None and not can_view(scope, community.pk):
        return DeviceCounts()
    devices = _visible(scope, Device.objects.filter(retired_at__isnull=True))
    if community is not None:
        devices = devices.filter(community_id=community.pk)
    totals = devices.aggregate(
        total=Count("pk"), offline=Count("pk", filter=Q(status=DeviceStatus.OFFLINE))
    )
    return DeviceCounts(devices=totals["total"], offline=totals["offline"])


def device_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures of the devices domain (registered in ``DevicesConfig.ready``)."""
    if community is not None:
        if not can_view(scope, community.pk):
            return []
    elif not (acts_platform_wide(scope) or scope.has_anywhere(VIEW)):
        return []
    counts = device_counts(scope, community)
    url = reverse("devices:device_list")
    return [
        Stat("devices", _("Devices"), counts.devices, url),
        Stat(
            "devices_offline",
            _("Devices offline"),
            counts.offline,
            f"{url}?status={DeviceStatus.OFFLINE}",
            tone="warn" if counts.offline else "",
        ),
    ]


def map_features(scope: Scope, community_id: int) -> dict[str, Any]:
    """A community's positioned devices in service as a GeoJSON FeatureCollection (WGS84)."""
    if not can_view(scope, community_id):
        raise Http404
    features: list[dict[str, Any]] = []
    devices = Device.objects.filter(
        community_id=community_id,
        retired_at__isnull=True,
        latitude__isnull=False,
        longitude__isnull=False,
    ).order_by("name", "id")
    for device in devices:
        feature = device.as_feature()
        if feature is None:
            continue
        feature["properties"].update(
            {
                "kind_label": str(device.get_kind_display()),
                "status_label": str(device.get_status_display()),
                "url": reverse("devices:device_detail", args=[device.pk]),
            }
        )
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}

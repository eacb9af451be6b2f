"""The devices spreadsheet (.xlsx or .csv), one row per device: checking an import, writing an
export and the import template.

Reading and writing files (encodings, .xlsx, size and row limits, formula guards) is
:mod:`anwang.core.tables`. Headers are accepted in Chinese or English, and kinds and protocols
as their codes or their English or Chinese labels. Every problem is collected, with its row
and column, before anything is written. An export has the import's columns, so it imports
again, followed by read-only columns (status, last seen, battery) that the import ignores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anwang.core.errors import ServiceError
from anwang.core.tables import (
    CONTENT_TYPES,
    Column,
    ImportRejectedError,
    RowError,
    Table,
    choice_aliases,
    fold,
    read_table,
)
from anwang.devices import services
from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import DEFAULT_HEARTBEAT_SECONDS, Device
from anwang.places.models import Building, Community, Zone

DEVICES = Table(
    (
        Column(
            "name",
            gettext_lazy("Name"),
            "名称",
            "Name",
            ("设备名称",),
            gettext_lazy("Required: what people call the device."),
            example="北门摄像头",
            width=20,
            required=True,
        ),
        Column(
            "kind",
            gettext_lazy("Kind"),
            "类型",
            "Kind",
            ("type", "设备类型"),
            gettext_lazy("Required: one of the allowed values, as its label or its code."),
            choices=DeviceKind,
            example=DeviceKind.CAMERA.label,
            width=16,
            required=True,
        ),
        Column(
            "protocol",
            gettext_lazy("Protocol"),
            "协议",
            "Protocol",
            (),
            gettext_lazy("Required: one of the allowed values, as its label or its code."),
            choices=Protocol,
            example=Protocol.FRIGATE.label,
            width=16,
            required=True,
        ),
        Column(
            "source_id",
            gettext_lazy("Source identity"),
            "来源标识",
            "Source ID",
            ("source identity",),
            gettext_lazy(
                "Required, and free among the community's devices of the protocol: the "
                "Zigbee2MQTT friendly name, the Frigate camera name, the Hikvision serial "
                "number or address, or our own id."
            ),
            example="north_gate",
            width=24,
            required=True,
        ),
        Column(
            "zone",
            gettext_lazy("Zone"),
            "区域",
            "Zone",
            ("zone name",),
            gettext_lazy("Optional: the name of one of the community's zones."),
            width=14,
        ),
        Column(
            "building",
            gettext_lazy("Building"),
            "楼栋",
            "Building",
            ("building name", "building number", "楼号"),
            gettext_lazy("Optional: the name or number of one of the community's buildings."),
            width=12,
        ),
        Column(
            "latitude",
            gettext_lazy("Latitude"),
            "纬度",
            "Latitude",
            ("lat",),
            gettext_lazy("Optional, with the longitude: WGS84, as GPS shows it."),
            example="30.5",
            width=12,
        ),
        Column(
            "longitude",
            gettext_lazy("Longitude"),
            "经度",
            "Longitude",
            ("lon", "lng"),
            gettext_lazy("Optional, with the latitude: WGS84, as GPS shows it."),
            example="114.3",
            width=12,
        ),
        Column(
            "heartbeat_seconds",
            gettext_lazy("Expected heartbeat (seconds)"),
            "心跳秒数",
            "Heartbeat",
            ("heartbeat seconds",),
            gettext_lazy(
                "Optional: the device counts as offline when silent this many seconds; 0 "
                "means it sends no heartbeat; empty keeps the default."
            ),
            example=str(DEFAULT_HEARTBEAT_SECONDS),
            width=10,
        ),
        Column(
            "note",
            gettext_lazy("Note"),
            "备注",
            "Note",
            (),
            gettext_lazy("Optional."),
            width=24,
        ),
        Column("status", gettext_lazy("Status"), "状态", "Status", read_only=True),
        Column("last_seen", gettext_lazy("Last seen"), "最后在线", "Last seen", read_only=True),
        Column("battery", gettext_lazy("Battery"), "电量", "Battery (%)", width=8, read_only=True),
    ),
    title=gettext_lazy("Devices"),
    rules=gettext_lazy(
        "The first sheet is imported; one row per device, each registered as a new device. "
        "Every row is checked first, and nothing is imported if any row has a problem. "
        "Status, last seen and battery, which an export adds, are ignored."
    ),
    example_row=True,
)
"""The devices spreadsheet: its template's example row imports as it is."""


def check_file(*, community: Community, file_name: str, content: bytes) -> list[dict[str, Any]]:
    """The arguments of :func:`anwang.devices.services.device_create` for every row, or
    :class:`ImportRejectedError` with every problem found."""
    header, data = read_table(file_name, content)
    positions, errors = DEVICES.map_header(header)
    if errors:
        raise ImportRejectedError(errors)
    kinds, protocols = choice_aliases(DeviceKind), choice_aliases(Protocol)
    zones = {fold(zone.name): zone for zone in Zone.objects.filter(community=community)}
    buildings: dict[str, Building] = {}
    for building in Building.objects.filter(community=community):
        buildings.setdefault(fold(building.name), building)
        buildings.setdefault(fold(building.number), building)
    taken = set(
        Device.objects.filter(community=community, retired_at__isnull=True).values_list(
            "protocol", "source_id"
        )
    )
    seen: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    for number, cells in data:
        values = DEVICES.row_values(positions, cells)

        def cell(key: str, values: dict[str, Any] = values) -> str:
            found = values.get(key)
            return found.text.strip() if found is not None else ""

        row: dict[str, Any] = {
            "name": cell("name"),
            "source_id": cell("source_id"),
            "latitude": cell("latitude") or None,
            "longitude": cell("longitude") or None,
            "heartbeat_seconds": cell("heartbeat_seconds") or None,
        }
        row_errors: list[RowError] = []
        for key, table, label in (
            ("kind", kinds, DeviceKind),
            ("protocol", protocols, Protocol),
        ):
            text = cell(key)
            value = table.get(fold(text)) if text else None
            if value is None:
                row_errors.append(
                    RowError(
                        number,
                        key,
                        _("Choose one of: %(choices)s.")
                        % {"choices": ", ".join(str(c) for c in label.labels)},
                    )
                )
            row[key] = value
        zone_name = cell("zone")
        row["zone"] = zones.get(fold(zone_name)) if zone_name else None
        if zone_name and row["zone"] is None:
            row_errors.append(
                RowError(
                    number,
                    "zone",
                    _("This community has no zone called “%(name)s”.") % {"name": zone_name},
                )
            )
        building_name = cell("building")
        row["building"] = buildings.get(fold(building_name)) if building_name else None
        if building_name and row["building"] is None:
            row_errors.append(
                RowError(
                    number,
                    "building",
                    _("This community has no building called “%(name)s”.")
                    % {"name": building_name},
                )
            )
        if not row_errors:
            try:
                services.check_device_values(**row)
            except ServiceError as error:
                row_errors.append(RowError(number, error.field or "", str(error.message)))
        key_pair = (str(row["protocol"]), row["source_id"])
        if not row_errors and key_pair in taken:
            row_errors.append(
                RowError(
                    number,
                    "source_id",
                    _("Another device of this community already has this source identity."),
                )
            )
        elif not row_errors and key_pair in seen:
            row_errors.append(
                RowError(
                    number,
                    "source_id",
                    _("Row %(row)d already has this source identity.") % {"row": seen[key_pair]},
                )
            )
        seen.setdefault(key_pair, number)
        errors.extend(row_errors)
        # The note is free text: nothing to check, so it joins after the checks.
        row["note"] = values["note"].text.strip() if "note" in values else ""
        rows.append(row)
    if not data:
        errors.append(RowError(0, "", _("The file has no devices.")))
    if errors:
        raise ImportRejectedError(errors)
    return rows


def export_rows(devices: Iterable[Device]) -> Iterator[list[str]]:
    """One row per device in the columns of :data:`DEVICES`, labels in the current language."""
    retired = _("Retired")
    for device in devices:
        last_seen = device.last_seen_at
        yield [
            device.name,
            str(device.get_kind_display()),
            str(device.get_protocol_display()),
            device.source_id,
            device.zone.name if device.zone else "",
            device.building.name if device.building else "",
            "" if device.latitude is None else str(device.latitude),
            "" if device.longitude is None else str(device.longitude),
            str(device.heartbeat_seconds),
            device.note,
            retired if device.is_retired else str(device.get_status_display()),
            timezone.localtime(last_seen).strftime("%Y-%m-%d %H:%M") if last_seen else "",
            "" if device.battery is None else str(device.battery),
        ]


def export_file(
    devices: Iterable[Device], *, community: Community, file_format: str
) -> tuple[bytes, str, str]:
    """The devices as an .xlsx or .csv file: ``(content, file name, content type)``.

    Not audited: device records hold no personal data, and reading them is not a write."""
    content = DEVICES.write(export_rows(devices), file_format)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return content, f"devices-{community.slug}-{stamp}.{file_format}", CONTENT_TYPES[file_format]

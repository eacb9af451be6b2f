"""Checking a devices spreadsheet (.xlsx or .csv), one row per device.

Reading the file (encodings, .xlsx, size and row limits) is shared with the residents import
(:func:`anwang.people.importing.read_table`). Headers are accepted in Chinese or English, and
kinds and protocols as their codes or their English or Chinese labels. Every problem is
collected, with its row and column, before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import TextChoices
from django.utils import translation
from django.utils.translation import gettext as _

from anwang.core.errors import ServiceError
from anwang.devices import services
from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.people.importing import Cell, ImportRejectedError, RowError, read_table
from anwang.places.models import Community, Zone

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "名称", "设备名称"),
    "kind": ("kind", "type", "类型", "设备类型"),
    "protocol": ("protocol", "协议"),
    "source_id": ("source_id", "source id", "source identity", "来源标识"),
    "zone": ("zone", "zone name", "区域"),
    "latitude": ("latitude", "lat", "纬度"),
    "longitude": ("longitude", "lon", "lng", "经度"),
    "heartbeat_seconds": ("heartbeat", "heartbeat_seconds", "heartbeat seconds", "心跳秒数"),
}
REQUIRED = ("name", "kind", "protocol", "source_id")


def _fold(text: str) -> str:
    """Compare header and value text without case, spaces, underscores or required marks."""
    text = re.sub(r"[(（].*?[)）]", "", text)
    return re.sub(r"[\s_*＊:：]", "", text).lower()


def _aliases(choices: type[TextChoices]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value, label in choices.choices:
        found[_fold(value)] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                found[_fold(str(label))] = value
    return found


def _map_header(header: Sequence[str]) -> tuple[dict[str, int], list[RowError]]:
    aliases = {_fold(text): key for key, texts in COLUMNS.items() for text in texts}
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, text in enumerate(header):
        key = aliases.get(_fold(text))
        if key is None:
            continue  # extra columns (notes, serial numbers) are ignored
        if key in positions:
            errors.append(
                RowError(1, key, _("The column “%(header)s” appears twice.") % {"header": text})
            )
        positions[key] = index
    for key in REQUIRED:
        if key not in positions:
            errors.append(
                RowError(
                    1,
                    key,
                    _("The file has no “%(column)s” column (%(names)s).")
                    % {"column": key, "names": " / ".join(COLUMNS[key][:2])},
                )
            )
    return positions, errors


def check_file(*, community: Community, file_name: str, content: bytes) -> list[dict[str, Any]]:
    """The arguments of :func:`anwang.devices.services.device_create` for every row, or
    :class:`ImportRejectedError` with every problem found."""
    header, data = read_table(file_name, content)
    positions, errors = _map_header(header)
    if errors:
        raise ImportRejectedError(errors)
    kinds, protocols = _aliases(DeviceKind), _aliases(Protocol)
    zones = {_fold(zone.name): zone for zone in Zone.objects.filter(community=community)}
    taken = set(
        Device.objects.filter(community=community, retired_at__isnull=True).values_list(
            "protocol", "source_id"
        )
    )
    seen: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    for number, cells in data:

        def cell(key: str, cells: list[Cell] = cells) -> str:
            index = positions.get(key)
            return cells[index].text.strip() if index is not None and index < len(cells) else ""

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
            value = table.get(_fold(text)) if text else None
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
        row["zone"] = zones.get(_fold(zone_name)) if zone_name else None
        if zone_name and row["zone"] is None:
            row_errors.append(
                RowError(
                    number,
                    "zone",
                    _("This community has no zone called “%(name)s”.") % {"name": zone_name},
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
        rows.append(row)
    if not data:
        errors.append(RowError(0, "", _("The file has no devices.")))
    if errors:
        raise ImportRejectedError(errors)
    return rows

"""Django admin of the facilities domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction. The quantity, status,
retirement and last check are read-only here: they change only through stock adjustments,
retirement and inspections, which keep their history. The history itself is read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.facilities.models import Asset, AssetEvent

ASSET_FIELDS: tuple[str, ...] = (
    "asset_type",
    "name",
    "code",
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


class AssetEventInline(admin.TabularInline):  # type: ignore[type-arg]
    """An asset's history, read-only: it is the record of what was done."""

    model = AssetEvent
    fields = ("at", "kind", "actor", "quantity_delta", "changes", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Asset)
class AssetAdmin(AuditedModelAdmin):
    """Assets of the register."""

    entity = "asset"
    audit_fields = ASSET_FIELDS
    list_display = ("code", "name", "community", "asset_type", "status", "expires_on")
    list_filter = ("community", "asset_type", "status")
    list_select_related = ("community",)
    search_fields = ("code", "name", "location_note")
    fields = ("community", *ASSET_FIELDS, "quantity", "status", "retired_at", "last_checked_at")
    readonly_fields = ("community", "quantity", "status", "retired_at", "last_checked_at")
    inlines = (AssetEventInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Registering goes through the page or the API, which write the first history entry.
        return False

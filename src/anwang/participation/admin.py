"""Django admin of the points ledger, for platform administrators. Rules are edited here with
an audit entry; ledger entries are read-only (corrections are reversals, made on the ledger
page or through the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.participation.models import PointEntry, PointRule


@admin.register(PointRule)
class PointRuleAdmin(AuditedModelAdmin):
    """Point rules per community."""

    entity = "point_rule"
    audit_fields = ("community", "source_kind", "points_per_unit", "daily_cap", "is_active")
    list_display = ("community", "source_kind", "points_per_unit", "daily_cap", "is_active")
    list_filter = ("community", "source_kind", "is_active")
    list_select_related = ("community",)


@admin.register(PointEntry)
class PointEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The points ledger, read-only."""

    list_display = (
        "occurred_at",
        "community",
        "user",
        "kind",
        "source_kind",
        "source_key",
        "points",
        "capped_points",
    )
    list_filter = ("community", "kind", "source_kind")
    list_select_related = ("community", "user")
    search_fields = ("source_key", "reason", "user__username")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Entries come from the services only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The ledger is append-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The ledger is append-only."""
        return False

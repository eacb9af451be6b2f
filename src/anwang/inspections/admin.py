"""Admin of the inspections domain: checklists with their items, plans, records (read-only)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.inspections.models import (
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionPlan,
    InspectionResult,
)
from anwang.inspections.services import PLAN_FIELDS


class ChecklistItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ChecklistItem
    extra = 0


@admin.register(Checklist)
class ChecklistAdmin(AuditedModelAdmin):
    """Checklists and their items."""

    entity = "inspections.checklist"
    audit_fields = ("name", "asset_type", "is_active")
    list_display = ("name", "asset_type", "community", "is_active")
    list_filter = ("asset_type", "is_active", "community")
    search_fields = ("name",)
    inlines = [ChecklistItemInline]


@admin.register(InspectionPlan)
class InspectionPlanAdmin(AuditedModelAdmin):
    """Recurring inspection plans."""

    entity = "inspections.plan"
    audit_fields = PLAN_FIELDS
    list_display = ("name", "community", "checklist", "rrule", "is_active")
    list_filter = ("is_active", "community")
    search_fields = ("name",)
    raw_id_fields = ("assets", "assignees", "checkpoint", "building", "zone")


class InspectionResultInline(admin.TabularInline):  # type: ignore[type-arg]
    model = InspectionResult
    extra = 0
    can_delete = False
    readonly_fields = ("item", "item_text", "outcome", "note", "photo", "hazard")
    exclude = ("photo_thumbnail",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records are written on the phone pages only; the admin reads them."""

    list_display = ("asset", "plan", "inspector", "status", "submitted_at", "passed")
    list_filter = ("status", "passed", "community")
    date_hierarchy = "started_at"
    inlines = [InspectionResultInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

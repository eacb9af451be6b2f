"""Django admin of the hazards domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction. The workflow fields
(status, severity, assignee, deadline, photos) are read-only here: they change only through the
workflow. The reporter is never shown, so an anonymous report stays anonymous here too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.hazards.models import Hazard, HazardStep

HAZARD_FIELDS: tuple[str, ...] = ("category", "description", "address")


class HazardStepInline(admin.TabularInline):  # type: ignore[type-arg]
    """A report's timeline, read-only: it is the record of what was done."""

    model = HazardStep
    fields = ("at", "action", "status", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Hazard)
class HazardAdmin(AuditedModelAdmin):
    """Hazard reports."""

    entity = "hazard"
    audit_fields = HAZARD_FIELDS
    list_display = ("id", "community", "category", "status", "severity", "deadline", "reported_at")
    list_filter = ("community", "category", "status", "severity")
    list_select_related = ("community",)
    search_fields = ("description", "address")
    date_hierarchy = "reported_at"
    fields = (
        "community",
        "reported_at",
        "category",
        "description",
        "address",
        "latitude",
        "longitude",
        "building",
        "unit",
        "zone",
        "status",
        "severity",
        "assignee",
        "deadline",
        "verified_by",
        "verified_at",
        "rejection_reason",
        "escalated_at",
        "closed_at",
    )
    readonly_fields = (
        "community",
        "reported_at",
        "latitude",
        "longitude",
        "building",
        "unit",
        "zone",
        "status",
        "severity",
        "assignee",
        "deadline",
        "verified_by",
        "verified_at",
        "rejection_reason",
        "escalated_at",
        "closed_at",
    )
    inlines = (HazardStepInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

"""Django admin of the patrols domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction. Codes are not editable
here: the salt is never shown and re-issuing goes through the service (checkpoint page or API).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import admin

from anwang.core.admin import AuditedModelAdmin
from anwang.patrols import services
from anwang.patrols.models import Checkpoint, PatrolRoute, RouteStop


@admin.register(Checkpoint)
class CheckpointAdmin(AuditedModelAdmin):
    """Checkpoints."""

    entity = "checkpoint"
    audit_fields = services.CHECKPOINT_FIELDS
    list_display = ("name", "community", "placement", "nfc_tag_id", "code_version", "retired_at")
    list_filter = ("community", "placement")
    list_select_related = ("community",)
    search_fields = ("name", "nfc_tag_id", "note")
    raw_id_fields = ("zone", "building", "device")
    exclude = ("code_salt",)
    readonly_fields = ("code_version", "code_issued_at")

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        """A checkpoint added here gets its secret salt like one added through the service."""
        if not obj.code_salt:
            obj.code_salt = secrets.token_hex(16)
        super().save_model(request, obj, form, change)


class RouteStopInline(admin.TabularInline):  # type: ignore[type-arg]
    """The stops of a route, in order."""

    model = RouteStop
    extra = 0
    raw_id_fields = ("checkpoint",)
    ordering = ("order",)


@admin.register(PatrolRoute)
class PatrolRouteAdmin(AuditedModelAdmin):
    """Patrol routes with their stops."""

    entity = "patrol_route"
    audit_fields = services.ROUTE_FIELDS
    list_display = ("name", "community", "is_active")
    list_filter = ("community", "is_active")
    list_select_related = ("community",)
    search_fields = ("name", "description")
    inlines = (RouteStopInline,)

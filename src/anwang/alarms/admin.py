"""Django admin of the alarms domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction. Alarms are changed through
their lifecycle (pages and API), so the admin shows them read-only; response times may be
edited here too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.alarms import services
from anwang.alarms.models import Alarm, AlarmStep, Escalation, ResponseTime
from anwang.core.admin import AuditedModelAdmin


class AlarmStepInline(admin.TabularInline):  # type: ignore[type-arg]
    """An alarm's history."""

    model = AlarmStep
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Steps are written by the lifecycle only."""
        return False


@admin.register(Alarm)
class AlarmAdmin(AuditedModelAdmin):
    """Alarms (read-only: the lifecycle records who did what)."""

    entity = "alarm"
    audit_fields = services.ALARM_FIELDS
    list_display = ("title", "community", "priority", "state", "count", "raised_at", "assignee")
    list_filter = ("community", "state", "priority")
    list_select_related = ("community", "assignee")
    search_fields = ("title", "close_reason")
    date_hierarchy = "raised_at"
    inlines = (AlarmStepInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Alarms are raised by rules or by hand through the services."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Changes go through the lifecycle, which records each step."""
        return False


@admin.register(Escalation)
class EscalationAdmin(AuditedModelAdmin):
    """Missed response times (read-only)."""

    entity = "escalation"
    audit_fields = ("alarm", "sla", "at", "priority_before", "priority_after")
    list_display = ("alarm", "sla", "at", "priority_before", "priority_after")
    list_filter = ("sla",)
    list_select_related = ("alarm",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Escalations are made by the worker."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """An escalation is a record of what happened."""
        return False

    def community_of(self, obj: Any) -> int | None:
        """An escalation belongs to its alarm's community."""
        return int(obj.alarm.community_id)


@admin.register(ResponseTime)
class ResponseTimeAdmin(AuditedModelAdmin):
    """Response times per community and priority."""

    entity = "response_time"
    audit_fields = (*services.RESPONSE_TIME_FIELDS, "raise_priority")
    list_display = (
        "community",
        "priority",
        "acknowledge_seconds",
        "on_scene_seconds",
        "raise_priority",
    )
    list_filter = ("community", "priority")
    list_select_related = ("community",)

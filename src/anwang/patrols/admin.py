"""Django admin of the patrols domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction. Codes are not editable
here: the salt is never shown and re-issuing goes through the service (checkpoint page or API).
Patrol runs and check-ins are evidence of what was patrolled: the admin shows them and may
correct a run's note or status, but check-ins are read-only (the server judged them).
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin

from anwang.core.admin import AuditedModelAdmin
from anwang.patrols import services
from anwang.patrols.models import (
    CalendarFeed,
    CheckIn,
    Checkpoint,
    PatrolRoute,
    PatrolRun,
    PatrolSchedule,
    RouteStop,
)
from anwang.patrols.schedules import ScheduleError, rrule_clean


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


class CheckInInline(admin.TabularInline):  # type: ignore[type-arg]
    """The check-ins of a run, read-only."""

    model = CheckIn
    extra = 0
    can_delete = False
    fields = (
        "scanned_at",
        "checkpoint",
        "method",
        "status",
        "rejection",
        "far",
        "distance_m",
        "received_at",
    )
    readonly_fields = fields
    ordering = ("scanned_at",)
    show_change_link = True

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        """Check-ins come from guards' phones only."""
        return False


@admin.register(PatrolRun)
class PatrolRunAdmin(AuditedModelAdmin):
    """Patrol runs with their check-ins."""

    entity = "patrol_run"
    audit_fields = services.RUN_FIELDS
    list_display = ("route_name", "guard", "community", "status", "order_mode", "started_at")
    list_filter = ("community", "status", "order_mode")
    list_select_related = ("community", "guard")
    search_fields = ("route_name", "guard__username", "guard__display_name", "note")
    date_hierarchy = "started_at"
    raw_id_fields = ("route", "guard", "abandoned_by")
    readonly_fields = ("plan", "started_at", "last_position_at")
    inlines = (CheckInInline,)


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Check-ins, read-only: the server's judgement of what a guard's phone sent."""

    list_display = ("scanned_at", "run", "checkpoint", "method", "status", "rejection", "far")
    list_filter = ("status", "rejection", "far", "method")
    list_select_related = ("run", "checkpoint")
    search_fields = ("code", "client_id", "note")
    date_hierarchy = "scanned_at"

    def has_add_permission(self, request: Any) -> bool:
        """Check-ins come from guards' phones only."""
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        """Check-ins are evidence and are not edited."""
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        """Check-ins are evidence and are not deleted one by one."""
        return False


class PatrolScheduleAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """A schedule in the admin: its repeat rule checked like the service does."""

    class Meta:
        model = PatrolSchedule
        fields = (
            "community",
            "route",
            "name",
            "first_start",
            "duration",
            "rrule",
            "order_mode",
            "random_start",
            "guards",
            "teams",
            "is_active",
            "note",
        )

    def clean_rrule(self) -> str:
        """The rule in canonical form, or a form error."""
        try:
            return rrule_clean(self.cleaned_data.get("rrule", ""))
        except ScheduleError as error:
            raise forms.ValidationError(str(error.message)) from error


@admin.register(PatrolSchedule)
class PatrolScheduleAdmin(AuditedModelAdmin):
    """Patrol schedules: recurring shifts of a route and their guards."""

    form = PatrolScheduleAdminForm
    entity = "patrol_schedule"
    audit_fields = services.SCHEDULE_FIELDS
    list_display = (
        "name",
        "community",
        "route",
        "rrule",
        "order_mode",
        "random_start",
        "is_active",
    )
    list_filter = ("community", "is_active", "order_mode")
    list_select_related = ("community", "route")
    search_fields = ("name", "note")
    raw_id_fields = ("route",)
    filter_horizontal = ("guards", "teams")


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Secret calendar links: only who has one and since when; deleting one revokes it."""

    list_display = ("user", "created_at")
    search_fields = ("user__username", "user__display_name")
    fields = ("user", "created_at")
    readonly_fields = ("user", "created_at")

    def has_add_permission(self, request: Any) -> bool:
        """Links are made by their owner, who alone sees the token."""
        return False

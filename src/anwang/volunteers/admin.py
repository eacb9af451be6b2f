"""Django admin of the volunteers domain, for platform administrators. Every save and delete
writes an audit entry; the service-hours ledger is read-only (corrections go through the
service, on the shift page or the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.volunteers import services
from anwang.volunteers.models import ServiceHours, Shift, Signup, Team, Volunteer


@admin.register(Volunteer)
class VolunteerAdmin(AuditedModelAdmin):
    """Applications and volunteers."""

    entity = "volunteer"
    audit_fields = services.VOLUNTEER_FIELDS
    list_display = ("user", "community", "status", "applied_at", "decided_at")
    list_filter = ("community", "status")
    list_select_related = ("community", "user")
    search_fields = ("user__username", "user__display_name", "languages", "other_skills")
    raw_id_fields = ("user", "decided_by")


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    """Volunteer teams."""

    entity = "volunteer_team"
    audit_fields = services.TEAM_FIELDS
    list_display = ("name", "community", "leader")
    list_filter = ("community",)
    list_select_related = ("community", "leader__user")
    search_fields = ("name",)
    raw_id_fields = ("leader",)
    filter_horizontal = ("members",)


class SignupInline(admin.TabularInline):  # type: ignore[type-arg]
    """The sign-ups of a shift."""

    model = Signup
    extra = 0
    raw_id_fields = ("volunteer", "checked_in_by", "checked_out_by")


@admin.register(Shift)
class ShiftAdmin(AuditedModelAdmin):
    """Volunteer shifts."""

    entity = "shift"
    audit_fields = services.SHIFT_FIELDS
    list_display = (
        "title",
        "community",
        "team",
        "starts_at",
        "ends_at",
        "capacity",
        "cancelled_at",
    )
    list_filter = ("community",)
    list_select_related = ("community", "team")
    search_fields = ("title", "description")
    date_hierarchy = "starts_at"
    raw_id_fields = ("team", "zone")
    inlines = (SignupInline,)


@admin.register(ServiceHours)
class ServiceHoursAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The service-hours ledger, read-only."""

    list_display = ("served_on", "community", "volunteer", "shift", "kind", "hours", "reason")
    list_filter = ("community", "kind")
    list_select_related = ("community", "volunteer__user", "shift")
    date_hierarchy = "served_on"

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rows come from check-outs and corrections only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The ledger is append-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The ledger is append-only."""
        return False

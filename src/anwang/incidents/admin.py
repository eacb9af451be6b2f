"""Django admin of the incidents domain, for platform administrators.

Every save and delete writes an audit entry (see :class:`anwang.core.admin.AuditedModelAdmin`).
Incidents are declared, worked and closed through the pages and the API; here the record is
read, and only its title and description can be corrected. The tasks, the timeline and the
review are read-only: they are the record of what happened.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.incidents.models import (
    ActionItem,
    AfterActionReview,
    Incident,
    IncidentLogEntry,
    IncidentTask,
)


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IncidentTaskInline(_ReadOnlyInline):
    """An incident's tasks."""

    model = IncidentTask
    fields = ("position", "title", "duty_role", "assignee", "due_at", "status", "done_at")
    readonly_fields = fields


class IncidentLogInline(_ReadOnlyInline):
    """An incident's timeline."""

    model = IncidentLogEntry
    fields = ("at", "kind", "actor", "text")
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(AuditedModelAdmin):
    """Incidents and drills."""

    entity = "incident"
    audit_fields = ("title", "description")
    list_display = ("title", "community", "incident_type", "is_drill", "state", "declared_at")
    list_filter = ("community", "incident_type", "is_drill", "state")
    list_select_related = ("community",)
    search_fields = ("title", "description")
    date_hierarchy = "declared_at"
    fields = (
        "community",
        "incident_type",
        "title",
        "description",
        "is_drill",
        "plan_version",
        "state",
        "zone",
        "latitude",
        "longitude",
        "declared_at",
        "declared_by",
        "closed_at",
        "closed_by",
        "training_drill",
    )
    readonly_fields = tuple(name for name in fields if name not in ("title", "description"))
    inlines = (IncidentTaskInline, IncidentLogInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ActionItemInline(_ReadOnlyInline):
    """A review's action items."""

    model = ActionItem
    fields = ("description", "owner", "due_on", "done_at", "plan_version")
    readonly_fields = fields


@admin.register(AfterActionReview)
class AfterActionReviewAdmin(AuditedModelAdmin):
    """After-action reviews."""

    entity = "after_action_review"
    audit_fields = ("what_worked", "what_did_not")
    list_display = ("incident", "written_by", "written_at")
    list_select_related = ("incident", "written_by")
    readonly_fields = ("incident", "written_by", "written_at")
    fields = ("incident", "what_worked", "what_did_not", "written_by", "written_at")
    inlines = (ActionItemInline,)

    def community_of(self, obj: Any) -> int | None:
        """The incident's community, for the audit entry."""
        return obj.incident.community_id if obj.incident_id else None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

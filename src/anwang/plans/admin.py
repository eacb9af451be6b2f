"""Django admin of the emergency plans domain, for platform administrators; every save and
delete writes an audit entry (see :class:`anwang.core.admin.AuditedModelAdmin`).

Versions are read-only here: drafts are written, approved and discarded on the plan pages or
through the API, so the approval rules (one draft, one version in force, only drafts change)
cannot be sidestepped.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.plans.models import EmergencyPlan, PlanContact, PlanResource, PlanStep, PlanVersion


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Lists of a version change only through the draft editor."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Lists of a version change only through the draft editor."""
        return False


class PlanStepInline(_ReadOnlyInline):
    """A version's steps."""

    model = PlanStep
    fields = ("position", "title", "duty_role", "target_minutes")


class PlanContactInline(_ReadOnlyInline):
    """A version's contacts."""

    model = PlanContact
    fields = ("position", "name", "organisation", "phone")


class PlanResourceInline(_ReadOnlyInline):
    """A version's resources."""

    model = PlanResource
    fields = ("position", "description", "quantity", "asset")


@admin.register(EmergencyPlan)
class EmergencyPlanAdmin(AuditedModelAdmin):
    """Emergency plans."""

    entity = "emergency_plan"
    audit_fields = ("community", "incident_type", "title")
    list_display = ("title", "incident_type", "community")
    list_filter = ("community", "incident_type")
    list_select_related = ("community",)
    search_fields = ("title",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """A plan's community and incident type are fixed once it exists."""
        return ("community", "incident_type") if obj is not None else ()


@admin.register(PlanVersion)
class PlanVersionAdmin(AuditedModelAdmin):
    """Versions of emergency plans (read-only)."""

    entity = "plan_version"
    list_display = ("plan", "number", "status", "approved_by", "approved_at", "superseded_at")
    list_filter = ("status", "plan__community", "plan__incident_type")
    list_select_related = ("plan", "approved_by")
    inlines = (PlanStepInline, PlanContactInline, PlanResourceInline)

    def community_of(self, obj: Any) -> int | None:
        """The community of the version's plan."""
        return int(obj.plan.community_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Versions are made by starting and revising plans."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Versions change only through the services (see the module docstring)."""
        return False

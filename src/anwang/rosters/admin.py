"""Django admin of the rosters domain, for platform administrators; every save and delete
writes an audit entry (see :class:`anwang.core.admin.AuditedModelAdmin`)."""

from __future__ import annotations

from django.contrib import admin

from anwang.core.admin import AuditedModelAdmin
from anwang.rosters.models import DutyException, DutyPattern


@admin.register(DutyPattern)
class DutyPatternAdmin(AuditedModelAdmin):
    """Duty patterns."""

    entity = "duty_pattern"
    audit_fields = ("duty_role", "person", "first_start", "duration", "rrule", "is_active", "note")
    list_display = ("duty_role", "person", "community", "rrule", "first_start", "is_active")
    list_filter = ("community", "duty_role", "is_active")
    list_select_related = ("community", "person")
    raw_id_fields = ("person",)


@admin.register(DutyException)
class DutyExceptionAdmin(AuditedModelAdmin):
    """Exceptions and swaps of duty patterns."""

    entity = "duty_exception"
    audit_fields = ("kind", "pattern", "person", "shift_key", "starts_at", "ends_at", "replacement")
    list_display = ("kind", "duty_role", "pattern", "person", "shift_key", "replacement")
    list_filter = ("community", "kind", "duty_role")
    list_select_related = ("community", "pattern", "person", "replacement")
    raw_id_fields = ("pattern", "person", "replacement", "created_by")

"""Django admin of the rules domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction. The admin does not run
the engine's validators: rules are edited on the rules pages, where every value is checked.
"""

from __future__ import annotations

from django.contrib import admin

from anwang.core.admin import AuditedModelAdmin
from anwang.rules import services
from anwang.rules.models import Holiday, Rule


@admin.register(Rule)
class RuleAdmin(AuditedModelAdmin):
    """Alarm rules."""

    entity = "rule"
    audit_fields = services.RULE_FIELDS
    list_display = ("name", "community", "kind", "priority", "group_by", "enabled", "builtin")
    list_filter = ("community", "kind", "priority", "enabled")
    list_select_related = ("community",)
    search_fields = ("name", "description", "builtin")
    readonly_fields = ("builtin", "created_at", "updated_at")


@admin.register(Holiday)
class HolidayAdmin(AuditedModelAdmin):
    """Public holidays and worked weekend days, for rule schedules."""

    entity = "holiday"
    audit_fields = ("date", "name", "is_workday")
    list_display = ("date", "name", "is_workday")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "date"

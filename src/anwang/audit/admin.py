"""Admin: the audit log is read-only here as everywhere (no add, change or delete)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from anwang.audit.models import AuditChainHead, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An admin that only shows: the log is append-only and written by services alone."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Browse and search audit entries."""

    list_display = (
        "seq",
        "at",
        "actor_name",
        "channel",
        "action",
        "object_type",
        "object_id",
        "community_id",
    )
    list_filter = ("channel", "object_type")
    search_fields = ("action", "object_type", "object_id", "object_repr", "actor_name")
    date_hierarchy = "at"
    ordering = ("-seq",)
    show_full_result_count = False


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    """The last sequence number and hash of the chain."""

    list_display = ("seq", "hash")

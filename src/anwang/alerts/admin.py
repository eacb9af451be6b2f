"""Django admin of the alerts domain, for platform administrators.

Every save and delete writes an audit entry (see :class:`anwang.core.admin.AuditedModelAdmin`).
Alerts are written, sent and cancelled through the pages and the API, which check and notify;
here they are read. The households an alert reached and the door-knock visits are the record of
who was told and who was visited: read-only. CAP feeds can be corrected here; alerts received
from upstream are read-only, as received.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.alerts.models import (
    AlertRecipient,
    CapFeed,
    DoorKnockTask,
    IncomingAlert,
    SafetyAlert,
)
from anwang.core.admin import AuditedModelAdmin


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AlertRecipientInline(_ReadOnlyInline):
    """The households an alert reached and whether they confirmed."""

    model = AlertRecipient
    fields = ("household", "people", "vulnerable", "confirmed_at", "confirmed_via")
    readonly_fields = fields


class DoorKnockInline(_ReadOnlyInline):
    """An alert's door-knock visits."""

    model = DoorKnockTask
    fields = ("household", "assignee", "status", "outcome", "due_at", "done_at", "note")
    readonly_fields = fields


class _ReadOnlyAdmin(AuditedModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SafetyAlert)
class SafetyAlertAdmin(_ReadOnlyAdmin):
    """Safety alerts to residents (read-only: the pages send and cancel them)."""

    entity = "alert"
    list_display = (
        "headline",
        "community",
        "event",
        "severity",
        "state",
        "published_at",
        "households_reached",
    )
    list_filter = ("community", "state", "severity", "category")
    list_select_related = ("community",)
    search_fields = ("headline", "event", "identifier")
    date_hierarchy = "created_at"
    inlines = (AlertRecipientInline, DoorKnockInline)


@admin.register(AlertRecipient)
class AlertRecipientAdmin(_ReadOnlyAdmin):
    """Households reached by alerts (read-only)."""

    entity = "alert_recipient"
    list_display = ("alert", "household", "people", "vulnerable", "confirmed_at", "confirmed_via")
    list_filter = ("vulnerable", "confirmed_via")
    list_select_related = ("alert", "household__unit__building")
    raw_id_fields = ("alert", "household", "confirmed_by")

    def community_of(self, obj: Any) -> int | None:
        """The alert's community, for the audit entry."""
        return obj.alert.community_id if obj.alert_id else None


@admin.register(DoorKnockTask)
class DoorKnockTaskAdmin(_ReadOnlyAdmin):
    """Door-knock visits (read-only: visitors record them on their phone)."""

    entity = "door_knock"
    list_display = ("alert", "household", "assignee", "status", "outcome", "due_at", "done_at")
    list_filter = ("status", "outcome")
    list_select_related = ("alert", "household__unit__building", "assignee")

    def community_of(self, obj: Any) -> int | None:
        """The alert's community, for the audit entry."""
        return obj.alert.community_id if obj.alert_id else None


@admin.register(CapFeed)
class CapFeedAdmin(AuditedModelAdmin):
    """Upstream CAP feeds a community follows."""

    entity = "cap_feed"
    audit_fields = ("name", "url", "is_enabled", "poll_minutes")
    list_display = ("name", "community", "url", "is_enabled", "last_polled_at")
    list_filter = ("community", "is_enabled")
    list_select_related = ("community",)
    search_fields = ("name", "url")
    readonly_fields = ("last_polled_at", "last_error")
    fields = ("community", "name", "url", "is_enabled", "poll_minutes", *readonly_fields)


@admin.register(IncomingAlert)
class IncomingAlertAdmin(_ReadOnlyAdmin):
    """CAP alerts received from upstream, as received (read-only)."""

    entity = "incoming_alert"
    list_display = ("headline", "community", "sender", "severity", "sent", "state")
    list_filter = ("community", "state", "severity")
    list_select_related = ("community",)
    search_fields = ("headline", "identifier", "sender")
    date_hierarchy = "sent"

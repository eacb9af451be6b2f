"""Admin of welfare checks: enrolments and checks to look at, never changed here. Enrolling,
pausing, ending and closing carry rules (consent, who may close, escalation) and go through
the pages and the API; the family contact's number is shown masked."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from anwang.welfare.models import WelfareCheck, WelfareWatch


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shown, never changed here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WelfareWatch)
class WelfareWatchAdmin(ReadOnlyAdmin):
    """Residents enrolled in welfare checks (enrolled and changed on the welfare pages)."""

    list_display = [
        "resident",
        "community",
        "quiet_hours",
        "use_baseline",
        "assignee",
        "paused_until",
        "ended_at",
    ]
    list_filter = ["community", "use_baseline"]
    search_fields = ["resident__name"]
    list_select_related = ["resident", "community", "assignee"]
    raw_id_fields = ["resident", "consent", "assignee", "family_contact"]


@admin.register(WelfareCheck)
class WelfareCheckAdmin(ReadOnlyAdmin):
    """Checks opened by a silence and how they were closed."""

    list_display = [
        "watch",
        "community",
        "household",
        "opened_at",
        "assignee",
        "status",
        "outcome",
        "escalated_at",
        "closed_at",
    ]
    list_filter = ["status", "outcome", "community"]
    date_hierarchy = "opened_at"
    list_select_related = ["watch__resident", "community", "household__unit__building", "assignee"]
    raw_id_fields = ["watch", "household", "assignee", "closed_by"]

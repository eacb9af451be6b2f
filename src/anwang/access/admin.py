"""Admin of access control: access points to look at and fix, credentials with masked numbers,
and read-only access records, anomaly findings, consents and watch-list entries. Writes that
carry rules (face consent, watch list, a finding's review) go through the pages and the API; no
face images exist to show."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from anwang.access.models import (
    AccessEvent,
    AccessFinding,
    AccessPoint,
    ConsentRecord,
    Credential,
    WatchListEntry,
)
from anwang.access.schemas import mask_value


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shown, never changed here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AccessPoint)
class AccessPointAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Gates, unit doors and barriers."""

    list_display = ["name", "community", "kind", "device", "door_no", "is_restricted", "is_active"]
    list_filter = ["kind", "is_active", "community"]
    search_fields = ["name"]
    raw_id_fields = ["device", "zone", "building"]


@admin.register(Credential)
class CredentialAdmin(ReadOnlyAdmin):
    """Credentials, numbers masked (the audited reveal is on the credential's page)."""

    list_display = ["resident", "community", "kind", "masked_number", "status", "valid_until"]
    list_filter = ["kind", "status", "community"]
    exclude = ["value", "value_index"]

    @admin.display(description=_("number"))
    def masked_number(self, obj: Credential) -> str:
        """The number, all but the last four characters hidden."""
        return mask_value(str(obj.value or ""))


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    """Recorded consents and their withdrawal."""

    list_display = ["resident", "kind", "given_at", "withdrawn_at"]
    list_filter = ["kind"]


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    """Access records: read-only (the pages audit who looks at them)."""

    list_display = ["at", "community", "access_point", "result", "method", "reason"]
    list_filter = ["result", "method", "community"]
    exclude = ["presented_index"]


@admin.register(WatchListEntry)
class WatchListEntryAdmin(ReadOnlyAdmin):
    """Watch-list entries (added and ended on the watch-list page)."""

    list_display = ["community", "kind", "description", "priority", "created_at", "ended_at"]
    list_filter = ["kind", "community"]
    exclude = ["value_index"]


@admin.register(AccessFinding)
class AccessFindingAdmin(ReadOnlyAdmin):
    """Anomaly findings: read-only (reviewed on the findings page, which audits who looks)."""

    list_display = ["at", "community", "detector", "access_point", "resident", "status"]
    list_filter = ["detector", "status", "community"]
    exclude = ["key"]
    raw_id_fields = ["access_point", "credential", "resident", "reviewed_by", "device_event"]

"""Django admin of the devices domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction. Credentials are shown
read-only: secrets are issued through the services (so the raw value is shown exactly once)
and never displayed here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from anwang.core.admin import AuditedModelAdmin
from anwang.devices import services
from anwang.devices.models import Device, DeviceCredential


@admin.register(Device)
class DeviceAdmin(AuditedModelAdmin):
    """Devices."""

    entity = "device"
    audit_fields = services.DEVICE_FIELDS
    list_display = ("name", "community", "kind", "protocol", "source_id", "status", "retired_at")
    list_filter = ("community", "kind", "protocol", "status")
    list_select_related = ("community",)
    search_fields = ("name", "source_id", "note")
    raw_id_fields = ("zone",)
    readonly_fields = (
        "last_seen_at",
        "battery",
        "status",
        "ingest_rejections",
        "last_rejected_at",
        "last_rejection_reason",
    )


@admin.register(DeviceCredential)
class DeviceCredentialAdmin(AuditedModelAdmin):
    """Device credentials (read-only but for revoking)."""

    entity = "device_credential"
    audit_fields = services.CREDENTIAL_FIELDS
    redact_fields = services.CREDENTIAL_REDACT
    list_display = ("device", "kind", "username", "created_at", "revoked_at")
    list_filter = ("kind",)
    list_select_related = ("device",)
    fields = ("device", "kind", "username", "created_at", "revoked_at")
    readonly_fields = ("device", "kind", "username", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Credentials are issued on the device page, so the secret is shown once."""
        return False

    def community_of(self, obj: Any) -> int | None:
        """A credential belongs to its device's community."""
        return int(obj.device.community_id)

"""Admin of the events domain: read-only views for operators."""

from django.contrib import admin
from django.http import HttpRequest

from anwang.events.models import CameraSnapshot, DeadLetter, DeviceEvent, DeviceState


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """Device reports are written by the pipeline only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DeviceEvent)
class DeviceEventAdmin(_ReadOnly):
    """Stored device events."""

    list_display = ("received_at", "device", "kind", "attribute", "value", "replay")
    list_filter = ("kind", "replay")
    search_fields = ("device__name", "device__source_id", "edge_key")


@admin.register(DeviceState)
class DeviceStateAdmin(_ReadOnly):
    """The last known value of every device attribute."""

    list_display = ("device", "attribute", "value", "changed_at", "updated_at")
    search_fields = ("device__name", "attribute")


@admin.register(CameraSnapshot)
class CameraSnapshotAdmin(_ReadOnly):
    """Camera pictures (Frigate snapshots), kept for alarms and pruned by age and number."""

    list_display = ("taken_at", "device", "label", "width", "height", "retained")
    list_filter = ("retained", "label")
    list_select_related = ("device",)
    search_fields = ("device__name", "device__source_id", "label")


@admin.register(DeadLetter)
class DeadLetterAdmin(_ReadOnly):
    """Messages that could not be used."""

    list_display = ("received_at", "transport", "topic", "reason", "resolved")
    list_filter = ("transport", "resolved")
    search_fields = ("topic", "reason")
    exclude = ("payload",)

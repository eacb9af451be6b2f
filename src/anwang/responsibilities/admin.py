"""Django admin of the responsibilities domain, for platform administrators; every save and
delete writes an audit entry (see :class:`anwang.core.admin.AuditedModelAdmin`)."""

from __future__ import annotations

from django.contrib import admin

from anwang.core.admin import AuditedModelAdmin
from anwang.responsibilities.models import Responsibility


@admin.register(Responsibility)
class ResponsibilityAdmin(AuditedModelAdmin):
    """Responsibilities of zones, buildings and asset categories."""

    entity = "responsibility"
    audit_fields = (
        "area_kind",
        "zone",
        "building",
        "asset_type",
        "responsible_person",
        "responsible_role",
        "deputy_person",
        "deputy_role",
        "note",
    )
    list_display = (
        "__str__",
        "community",
        "responsible_person",
        "responsible_role",
        "deputy_person",
        "deputy_role",
    )
    list_filter = ("community", "area_kind", "responsible_role")
    list_select_related = ("community", "zone", "building", "responsible_person", "deputy_person")
    raw_id_fields = ("zone", "building", "responsible_person", "deputy_person")

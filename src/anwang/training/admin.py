"""Django admin of the training domain, for platform administrators.

Every save and delete writes an audit entry in the same transaction (see
:class:`anwang.core.admin.AuditedModelAdmin`). Certificates are issued through the service
(session completion or the certificate pages), which also awards points; here they can be
corrected.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from anwang.core.admin import AuditedModelAdmin
from anwang.training import services
from anwang.training.models import (
    Attendance,
    Certificate,
    Course,
    Drill,
    DrillFinding,
    TrainingSession,
)


@admin.register(Course)
class CourseAdmin(AuditedModelAdmin):
    """Courses."""

    entity = "course"
    audit_fields = services.COURSE_FIELDS
    list_display = ("title", "community", "topic", "validity_months", "is_active")
    list_filter = ("community", "topic", "is_active")
    list_select_related = ("community",)
    search_fields = ("title", "description")


class AttendanceInline(admin.TabularInline):  # type: ignore[type-arg]
    """The attendance of a session."""

    model = Attendance
    extra = 0
    raw_id_fields = ("user", "recorded_by")


@admin.register(TrainingSession)
class TrainingSessionAdmin(AuditedModelAdmin):
    """Training sessions and their attendance."""

    entity = "training_session"
    audit_fields = services.SESSION_FIELDS
    list_display = ("course", "community", "starts_at", "trainer_name", "status")
    list_filter = ("community", "status")
    list_select_related = ("course", "community")
    raw_id_fields = ("course", "zone")
    inlines = (AttendanceInline,)


@admin.register(Certificate)
class CertificateAdmin(AuditedModelAdmin):
    """Certificates."""

    entity = "certificate"
    audit_fields = (*services.CERTIFICATE_FIELDS, "revoked_at")
    list_display = ("course", "user", "community", "issued_on", "expires_on", "revoked_at")
    list_filter = ("community", "source")
    list_select_related = ("course", "user", "community")
    search_fields = ("user__username", "user__display_name", "course__title")
    raw_id_fields = ("course", "user", "session", "issued_by")


class FindingInline(admin.TabularInline):  # type: ignore[type-arg]
    """The findings of a drill."""

    model = DrillFinding
    extra = 0
    exclude = ("community",)  # always the drill's, set on save
    raw_id_fields = ("owner",)


@admin.register(Drill)
class DrillAdmin(AuditedModelAdmin):
    """Drills and their findings."""

    entity = "drill"
    audit_fields = services.DRILL_FIELDS
    list_display = ("title", "community", "kind", "planned_at", "status")
    list_filter = ("community", "kind", "status")
    list_select_related = ("community",)
    raw_id_fields = ("zone", "participants")
    inlines = (FindingInline,)

    def save_formset(self, request: Any, form: Any, formset: Any, change: bool) -> None:
        """Findings added here belong to the drill's community."""
        for finding in formset.save(commit=False):
            if isinstance(finding, DrillFinding):
                finding.community_id = finding.drill.community_id
            finding.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()

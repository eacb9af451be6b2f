"""The one audited base for Django admin pages: the admin writes rows directly, so every save
and delete it makes records an audit entry with the before/after difference in the same
transaction."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from anwang.accounts.models import User
from anwang.audit.services import audit_record, diff, snapshot


def admin_actor(request: HttpRequest) -> User | None:
    """The person using the admin."""
    return request.user if isinstance(request.user, User) else None


class AuditedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Writes an audit entry for every save and delete made in the admin."""

    entity: ClassVar[str] = ""
    """Audit action prefix; the model name when empty."""
    audit_fields: ClassVar[tuple[str, ...]] = ()
    redact_fields: ClassVar[tuple[str, ...]] = ()
    """Encrypted fields: the entry says they changed, never their values."""

    def community_of(self, obj: Any) -> int | None:
        """The community an object belongs to, for the audit entry."""
        return getattr(obj, "community_id", None)

    def _action(self, obj: Any, verb: str) -> str:
        return f"{self.entity or obj._meta.model_name}.{verb}"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save and record the change."""
        with transaction.atomic():
            before: dict[str, Any] = {}
            if change:
                stored = type(obj)._base_manager.filter(pk=obj.pk).first()
                if stored is not None:
                    before = snapshot(stored, self.audit_fields)
            super().save_model(request, obj, form, change)
            after = snapshot(obj, self.audit_fields)
            if not change or before != after:
                audit_record(
                    actor=admin_actor(request),
                    action=self._action(obj, "update" if change else "create"),
                    obj=obj,
                    community_id=self.community_of(obj),
                    changes=diff(before, after, redact=self.redact_fields),
                )

    def _audit_delete(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=admin_actor(request),
            action=self._action(obj, "delete"),
            obj=obj,
            community_id=self.community_of(obj),
            changes=diff(snapshot(obj, self.audit_fields), {}, redact=self.redact_fields),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """Delete and record it."""
        with transaction.atomic():
            self._audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Delete several (the admin's bulk action) and record each."""
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)

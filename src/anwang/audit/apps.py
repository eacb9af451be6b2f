from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """Append-only, hash-chained audit log."""

    name = "anwang.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from anwang.accounts.choices import Permission
        from anwang.audit.selectors import audit_can_read
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "audit",
                _("Audit log"),
                "audit:event_list",
                permission=Permission.VIEW_AUDIT,
                # Platform admins read every entry without holding an auditor role.
                visible=audit_can_read,
                order=90,
            )
        )

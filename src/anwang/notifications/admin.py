"""Admin of the notifications domain: the outbox for inspection, channel settings (secret
write-only) and preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from anwang.core.admin import AuditedModelAdmin
from anwang.notifications.models import (
    ChannelConfig,
    Delivery,
    Notification,
    NotificationPreference,
)


class DeliveryInline(admin.TabularInline):  # type: ignore[type-arg]
    """The deliveries of one notification, read-only."""

    model = Delivery
    extra = 0
    can_delete = False
    fields = (
        "recipient",
        "channel",
        "config",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(AuditedModelAdmin):
    """Messages, read-only: the outbox is written by services only."""

    entity = "notification"
    list_display = ("title", "kind", "community", "priority", "urgent", "created_at")
    list_filter = ("kind", "urgent", "priority")
    search_fields = ("title", "kind")
    inlines = (DeliveryInline,)

    def has_add_permission(self, request: Any) -> bool:
        """Messages are only written by the services."""
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        """Read-only."""
        return False


class ChannelConfigAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """The secret is write-only: never rendered, kept when left empty."""

    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored secret."),
    )

    class Meta:
        model = ChannelConfig
        fields = (
            "community",
            "channel",
            "name",
            "is_enabled",
            "settings",
            "secret",
            "kinds",
            "max_priority",
            "rate_per_minute",
        )

    def clean_secret(self) -> str:
        """Keep the stored secret when none is given."""
        value = self.cleaned_data.get("secret") or ""
        if not value and self.instance.pk:
            return str(self.instance.secret)
        return str(value)


@admin.register(ChannelConfig)
class ChannelConfigAdmin(AuditedModelAdmin):
    """Channel settings per community (or platform-wide)."""

    form = ChannelConfigAdminForm
    entity = "channel_config"
    audit_fields = (
        "community",
        "channel",
        "name",
        "is_enabled",
        "settings",
        "secret",
        "kinds",
        "max_priority",
        "rate_per_minute",
    )
    redact_fields = ("secret",)
    list_display = ("name", "channel", "community", "is_enabled", "rate_per_minute")
    list_filter = ("channel", "is_enabled")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(AuditedModelAdmin):
    """People's channels and quiet hours."""

    entity = "notification_preference"
    audit_fields = ("channels", "wechat_openid", "quiet_start", "quiet_end")
    list_display = ("user", "quiet_start", "quiet_end", "updated_at")
    exclude = ("phone",)

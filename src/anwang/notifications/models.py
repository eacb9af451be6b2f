"""The notification outbox: every message to a person or a system is a :class:`Notification`
with one :class:`Delivery` per recipient and channel, written in the same transaction as the
change that caused it and sent by the worker with retries (see
:mod:`anwang.notifications.sending`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.core.crypto import EncryptedCharField
from anwang.core.models import TimeStampedModel
from anwang.notifications.choices import Channel, DeliveryStatus


class Notification(models.Model):
    """One message: what it says, how urgent it is, and what caused it."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("community"),
    )
    # What kind of message (alarm.escalated, incident.task, hazard.assigned, alert, test...):
    # group robots and webhooks choose by it.
    kind = models.CharField(_("kind"), max_length=50)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=3)
    # P1 alarms and alerts of severity Extreme or urgency Immediate ignore quiet hours.
    urgent = models.BooleanField(_("ignores quiet hours"), default=False)
    needs_confirmation = models.BooleanField(_("asks for confirmation"), default=False)
    source_type = models.CharField(_("about"), max_length=50, blank=True)
    source_id = models.CharField(_("about (id)"), max_length=50, blank=True)
    # Channel-specific values (an SMS template's id and parameters, a voice script...).
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["source_type", "source_id"])]

    def __str__(self) -> str:
        return self.title


class ChannelConfig(TimeStampedModel):
    """A channel set up for a community (or, without one, for the whole platform): an SMTP
    server, an SMS or voice provider, a group robot's webhook, a WeChat account, a webhook."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channel_configs",
        verbose_name=_("community"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    name = models.CharField(_("name"), max_length=100)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    # Addresses, template ids, ports... everything but the secret.
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    # A robot's key or signing secret, an API key, an SMTP password, an app secret.
    secret = EncryptedCharField(_("secret"), blank=True)
    # For group robots and webhooks: which kinds of message they carry (empty: all) and from
    # which priority down (1 carries only P1).
    kinds = models.JSONField(_("kinds of message"), default=list, blank=True)
    max_priority = models.PositiveSmallIntegerField(_("up to priority"), default=4)
    rate_per_minute = models.PositiveIntegerField(_("most messages a minute"), default=60)

    class Meta:
        verbose_name = _("channel setting")
        verbose_name_plural = _("channel settings")
        ordering = ["community", "channel", "name"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.name}"


class Delivery(models.Model):
    """One message to one recipient on one channel, tracked to the end."""

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    # A person, or nobody for a group robot or a webhook (then ``config`` says where).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("recipient"),
    )
    # A resident without an account, reached by SMS or a call on the phone number the
    # community registered for them (safety alerts); the number is read when sending.
    resident = models.ForeignKey(
        "people.Resident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resident"),
    )
    # A resident's family contact (welfare checks), reached by SMS or a call on their number.
    emergency_contact = models.ForeignKey(
        "people.EmergencyContact",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("family contact"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    config = models.ForeignKey(
        ChannelConfig,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("channel setting"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_id = models.CharField(_("provider's id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["notification", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["recipient", "channel", "read_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"


class NotificationPreference(models.Model):
    """How a person wants to be reached: channels, their own addresses, quiet hours."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("person"),
    )
    channels = models.JSONField(_("channels"), default=list, blank=True)
    phone = EncryptedCharField(_("mobile number for SMS and calls"), blank=True)
    # Blind index of the number, so an account is found by its number (password reset by
    # SMS) without decrypting every one.
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    wechat_openid = models.CharField(_("WeChat OpenID"), max_length=64, blank=True)
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class PushSubscription(models.Model):
    """A browser's Web Push subscription (its endpoint and keys), for one person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("person"),
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(_("public key"), max_length=200)
    auth = models.CharField(_("auth secret"), max_length=100)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return self.endpoint[:60]

"""Devices that report to Anwang (cameras, sensors, readers, gateways) and their credentials."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.crypto import EncryptedCharField
from anwang.core.models import TimeStampedModel
from anwang.devices.choices import (
    CredentialKind,
    DeviceKind,
    DeviceStatus,
    IngestRejection,
    Protocol,
)

DEFAULT_HEARTBEAT_SECONDS = 600


class Device(TimeStampedModel):
    """A device of a community, known to its source (adapter) by ``source_id``."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="devices",
        verbose_name=_("community"),
    )
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("zone"),
    )
    building = models.ForeignKey(
        "places.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("building"),
        help_text=_("The building the device is in or on, if any (e.g. a stairwell detector)."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=DeviceKind.choices)
    protocol = models.CharField(_("protocol"), max_length=20, choices=Protocol.choices)
    source_id = models.CharField(
        _("source identity"),
        max_length=200,
        help_text=_(
            "The device's name or address in its source: the Zigbee2MQTT friendly name, the "
            "Frigate camera name, the Hikvision serial number or address, or our own id."
        ),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    heartbeat_seconds = models.PositiveIntegerField(
        _("expected heartbeat (seconds)"),
        default=DEFAULT_HEARTBEAT_SECONDS,
        help_text=_("The device is offline when silent this long; 0 means it sends none."),
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    battery = models.PositiveSmallIntegerField(_("battery (%)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.UNKNOWN
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    ingest_rejections = models.PositiveIntegerField(
        _("refused HTTP requests"),
        default=0,
        help_text=_("Requests to HTTP ingestion that named this device and were refused."),
    )
    last_rejected_at = models.DateTimeField(_("last refused at"), null=True, blank=True)
    last_rejection_reason = models.CharField(
        _("last refusal reason"), max_length=30, choices=IngestRejection.choices, blank=True
    )

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["community", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "protocol", "source_id"],
                condition=Q(retired_at__isnull=True),
                name="device_unique_source_id",
            )
        ]
        indexes = [models.Index(fields=["protocol", "source_id"], name="device_source_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        """Whether the device was taken out of service."""
        return self.retired_at is not None

    def as_feature(self) -> dict[str, Any] | None:
        """This device as a GeoJSON Point Feature, or ``None`` without a position."""
        if self.latitude is None or self.longitude is None:
            return None
        return {
            "type": "Feature",
            "id": f"device-{self.pk}",
            "geometry": {"type": "Point", "coordinates": [self.longitude, self.latitude]},
            "properties": {
                "kind": "device",
                "id": self.pk,
                "name": self.name,
                "device_kind": self.kind,
                "status": self.status,
            },
        }


class DeviceCredential(models.Model):
    """A secret a device proves itself with over HTTP; tokens are kept only as a digest."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="credentials", verbose_name=_("device")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CredentialKind.choices)
    username = models.CharField(_("user name"), max_length=100, blank=True)
    # A token is only compared, so a SHA-256 digest suffices; HMAC, Basic and Digest need the
    # secret itself to verify, so it is kept encrypted.
    digest = models.CharField(_("digest"), max_length=64, blank=True, db_index=True)
    secret = EncryptedCharField(_("secret"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("device credential")
        verbose_name_plural = _("device credentials")
        ordering = ["device", "-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "username"], name="device_credential_login_idx")]

    def __str__(self) -> str:
        return f"{self.device} · {self.get_kind_display()}"

    @property
    def community_id(self) -> int:
        """The community of the device (for audit entries)."""
        return int(self.device.community_id)


class DeviceReplayMark(models.Model):
    """A signature or Digest (nonce, count) a credential has used, kept until a request
    carrying it would be refused as stale anyway, so it cannot be used twice."""

    credential = models.ForeignKey(
        DeviceCredential,
        on_delete=models.CASCADE,
        related_name="replay_marks",
        verbose_name=_("credential"),
    )
    # A SHA-256 of what was used: fixed length, and the signature itself is not kept.
    value = models.CharField(_("value"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("replay mark")
        verbose_name_plural = _("replay marks")
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "value"], name="device_replay_mark_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credential_id}:{self.value[:12]}"

"""Access control (门禁): the community's ways in, residents' credentials, every access as it
happened, visitor passes, the guard's gate log and watch lists.

Access records say where a person was and when; they are among the most sensitive data the
system keeps. Card numbers, plates and visitors' phone numbers are encrypted at rest with a
blind index for exact look-ups; a face credential is only the device's template reference
(no face image is stored), and needs its own recorded consent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.access.choices import (
    AccessCredentialKind,
    AccessMethod,
    AccessPointKind,
    AccessResult,
    AnomalyDetector,
    ConsentKind,
    CredentialStatus,
    FindingStatus,
    GateEntryKind,
    WatchKind,
)
from anwang.core.crypto import EncryptedCharField
from anwang.core.models import TimeStampedModel


class AccessPoint(TimeStampedModel):
    """A gate, unit door or garage barrier, with the device (door controller or barrier
    camera) that reports its accesses."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="access_points",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=AccessPointKind.choices)
    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_points",
        verbose_name=_("device"),
    )
    # A door controller may drive several doors (Hikvision doorNo); empty: any of its doors.
    door_no = models.PositiveSmallIntegerField(_("door number"), null=True, blank=True)
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("zone"),
    )
    building = models.ForeignKey(
        "places.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # Restricted areas (plant rooms, rooftops): access outside these hours is a finding.
    is_restricted = models.BooleanField(_("restricted area"), default=False)
    permitted_from = models.TimeField(_("permitted from"), null=True, blank=True)
    permitted_until = models.TimeField(_("permitted until"), null=True, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("access point")
        verbose_name_plural = _("access points")
        ordering = ["community", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "door_no"],
                condition=Q(device__isnull=False),
                name="access_point_device_door_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ConsentRecord(models.Model):
    """A resident's recorded consent (face enrolment, welfare checks), and its withdrawal."""

    resident = models.ForeignKey(
        "people.Resident",
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("resident"),
    )
    kind = models.CharField(_("consent to"), max_length=20, choices=ConsentKind.choices)
    given_at = models.DateTimeField(_("given at"))
    # How it was given (signed form, in the app...) and the text the person agreed to.
    how = models.CharField(_("how it was given"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_in_force",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident_id}:{self.kind}"


class Credential(TimeStampedModel):
    """A resident's card, QR code, licence plate or face, valid for a window (a tenant's
    rights end with the lease)."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="credentials",
        verbose_name=_("community"),
    )
    resident = models.ForeignKey(
        "people.Resident",
        on_delete=models.CASCADE,
        related_name="credentials",
        verbose_name=_("resident"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AccessCredentialKind.choices)
    # Card number, plate, QR code id, or the device's face template reference.
    value = EncryptedCharField(_("number"))
    value_index = models.CharField(max_length=64, db_index=True, editable=False)
    label = models.CharField(_("label"), max_length=100, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CredentialStatus.choices,
        default=CredentialStatus.ACTIVE,
    )
    # RESTRICT, not PROTECT: a consent in use cannot be deleted on its own, but erasing the
    # resident deletes both in one cascade.
    consent = models.ForeignKey(
        ConsentRecord,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="credentials",
        verbose_name=_("consent"),
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering = ["community", "resident", "kind", "id"]
        constraints = [
            # One card (plate...) belongs to one person of a community while it is active.
            models.UniqueConstraint(
                fields=["community", "kind", "value_index"],
                condition=Q(status="active"),
                name="credential_active_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label or self.pk}"


class VisitorPass(models.Model):
    """A visitor a resident registered: a signed QR pass for a time window and a number of
    entries, optionally with a car plate that opens the barrier in that window."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="visitor_passes",
        verbose_name=_("community"),
    )
    household = models.ForeignKey(
        "places.Household",
        on_delete=models.CASCADE,
        related_name="visitor_passes",
        verbose_name=_("household visited"),
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visitor_passes",
        verbose_name=_("registered by"),
    )
    visitor_name = models.CharField(_("visitor's name"), max_length=100)
    visitor_phone = EncryptedCharField(_("visitor's phone"), blank=True)
    plate = EncryptedCharField(_("car plate"), blank=True)
    plate_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    max_entries = models.PositiveSmallIntegerField(_("entries allowed"), default=1)
    entries_used = models.PositiveSmallIntegerField(_("entries used"), default=0)
    # Random id carried in the signed QR code; a new one makes the old QR code useless.
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("visitor pass")
        verbose_name_plural = _("visitor passes")
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(entries_used__lte=models.F("max_entries")),
                name="visitor_pass_entries_within_limit",
            )
        ]

    def __str__(self) -> str:
        return self.visitor_name


class AccessEvent(models.Model):
    """One access at one access point: who (credential, person, visitor pass) if known, how,
    and whether they were let in. Made from device events by the ingestion pipeline, by the
    pass check at a gate, or by the guard's gate log."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="access_events",
        verbose_name=_("community"),
    )
    access_point = models.ForeignKey(
        AccessPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("access point"),
    )
    at = models.DateTimeField(_("at"))
    result = models.CharField(_("result"), max_length=10, choices=AccessResult.choices)
    method = models.CharField(_("how"), max_length=10, choices=AccessMethod.choices)
    # Why the device refused or what it reported (card_no_permission, door_forced_open...).
    reason = models.CharField(_("reason"), max_length=50, blank=True)
    credential = models.ForeignKey(
        Credential,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("credential"),
    )
    resident = models.ForeignKey(
        "people.Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_events",
        verbose_name=_("resident"),
    )
    visitor_pass = models.ForeignKey(
        VisitorPass,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("visitor pass"),
    )
    # Blind index of the card number or plate the device read, known or not (watch lists and
    # unknown cards are found by it; the number itself is not kept here).
    presented_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    device_event = models.OneToOneField(
        "events.DeviceEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_event",
        verbose_name=_("device event"),
    )

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["community", "at"]),
            models.Index(fields=["resident", "at"]),
            models.Index(fields=["credential", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.result}"


class GateLogEntry(models.Model):
    """What a guard at a gate wrote down: walk-in visitors, deliveries, passes checked by
    hand, people refused."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="gate_log",
        verbose_name=_("community"),
    )
    access_point = models.ForeignKey(
        AccessPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gate_log",
        verbose_name=_("gate"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=GateEntryKind.choices)
    at = models.DateTimeField(_("at"))
    guard = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("guard"),
    )
    visitor_name = models.CharField(_("visitor's name"), max_length=100, blank=True)
    visitor_phone = EncryptedCharField(_("visitor's phone"), blank=True)
    plate = EncryptedCharField(_("car plate"), blank=True)
    household = models.ForeignKey(
        "places.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household visited"),
    )
    visitor_pass = models.ForeignKey(
        VisitorPass,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gate_log",
        verbose_name=_("visitor pass"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("gate log entry")
        verbose_name_plural = _("gate log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.visitor_name}"


class WatchListEntry(models.Model):
    """A lost or stolen credential, a barred person or a barred vehicle: any use raises an
    alarm with the place and time."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="watch_list",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=WatchKind.choices)
    credential = models.ForeignKey(
        Credential,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="watch_entries",
        verbose_name=_("credential"),
    )
    resident = models.ForeignKey(
        "people.Resident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="watch_entries",
        verbose_name=_("person"),
    )
    # A barred person without a record here, or a plate: described, and found by index.
    description = models.CharField(_("description"), max_length=200, blank=True)
    value_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    reason = models.TextField(_("reason"))
    priority = models.PositiveSmallIntegerField(_("alarm priority"), default=2)
    created_at = models.DateTimeField(_("added at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("watch-list entry")
        verbose_name_plural = _("watch list")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.description or self.get_kind_display()


class AccessFinding(models.Model):
    """An anomaly a detector found in the access log (:mod:`anwang.access.detectors`): which
    detector, the access that fired it, who and where, the numbers that explain it, and its
    review. New findings are handed to the community's alarm rules as an ``access.anomaly``
    event of the access point's device."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="access_findings",
        verbose_name=_("community"),
    )
    detector = models.CharField(_("detector"), max_length=20, choices=AnomalyDetector.choices)
    at = models.DateTimeField(_("at"))
    access_point = models.ForeignKey(
        AccessPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("access point"),
    )
    credential = models.ForeignKey(
        Credential,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("credential"),
    )
    # CASCADE: a finding says where a person was; erasing the person erases it.
    resident = models.ForeignKey(
        "people.Resident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="access_findings",
        verbose_name=_("resident"),
    )
    # The detector's numbers (Finding.explanation), with point and credential as ids.
    explanation = models.JSONField(_("explanation"), default=dict)
    # detector:epoch:point:credential:person, so a detector run again finds nothing new.
    key = models.CharField(max_length=200, editable=False)
    found_at = models.DateTimeField(_("found at"))
    status = models.CharField(
        _("status"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.NEW
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    device_event = models.ForeignKey(
        "events.DeviceEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("event handed to the rules"),
    )

    class Meta:
        verbose_name = _("access finding")
        verbose_name_plural = _("access findings")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "key"], name="access_finding_unique")
        ]
        indexes = [
            models.Index(fields=["community", "status", "at"]),
            models.Index(fields=["resident", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_detector_display()} {self.at:%Y-%m-%d %H:%M}"

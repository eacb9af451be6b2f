"""Hazard reports (隐患) and the steps that work them to closure."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.hazards.choices import HazardCategory, HazardSeverity, HazardStatus, StepAction


def new_public_token() -> str:
    """Return an unguessable token a reporter (or Open311 client) can follow a report by."""
    return secrets.token_urlsafe(16)


class Hazard(TimeStampedModel):
    """A hazard someone reported, from report to closure (maps to an Open311 service request)."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="hazards",
        verbose_name=_("community"),
    )
    # Set by the service from its clock (Open311 ``requested_datetime``), not auto_now.
    reported_at = models.DateTimeField(_("reported at"))
    category = models.CharField(_("category"), max_length=40, choices=HazardCategory.choices)
    description = models.TextField(_("description"), blank=True)
    # Kept even when anonymous so the reporter can follow it; hidden from everyone else.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="hazards_reported",
        verbose_name=_("reporter"),
    )
    anonymous = models.BooleanField(_("anonymous"), default=False)
    public_token = models.CharField(
        _("public token"), max_length=32, unique=True, default=new_public_token, editable=False
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    building = models.ForeignKey(
        "places.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards",
        verbose_name=_("building"),
    )
    unit = models.ForeignKey(
        "places.Unit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards",
        verbose_name=_("unit"),
    )
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards",
        verbose_name=_("zone"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    photo = models.ImageField(_("photo"), upload_to="hazards/%Y/%m/", blank=True)
    photo_thumbnail = models.ImageField(
        _("photo thumbnail"), upload_to="hazards/%Y/%m/", blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=HazardStatus.choices, default=HazardStatus.REPORTED
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=HazardSeverity.choices, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards_assigned",
        verbose_name=_("responsible person"),
    )
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards_rectified",
        verbose_name=_("rectified by"),
    )
    after_photo = models.ImageField(_("after photo"), upload_to="hazards/%Y/%m/", blank=True)
    after_photo_thumbnail = models.ImageField(
        _("after photo thumbnail"), upload_to="hazards/%Y/%m/", blank=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards_verified",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hazard report")
        verbose_name_plural = _("hazard reports")
        ordering = ["-reported_at", "-pk"]
        indexes = [
            models.Index(fields=["community", "status"]),
            models.Index(fields=["community", "category", "reported_at"]),
            models.Index(fields=["status", "deadline"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} #{self.pk}"


class HazardStep(models.Model):
    """One step of a hazard's timeline: who moved it to which status, when, and why."""

    hazard = models.ForeignKey(
        Hazard, on_delete=models.CASCADE, related_name="steps", verbose_name=_("hazard")
    )
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    status = models.CharField(_("status"), max_length=12, choices=HazardStatus.choices)
    action = models.CharField(
        _("action"), max_length=12, choices=StepAction.choices, blank=True, default=""
    )
    note = models.TextField(_("note"), blank=True)
    # A reporter's extra picture, or the after-photo's copy on the rectification step.
    photo = models.ImageField(_("photo"), upload_to="hazards/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("hazard step")
        verbose_name_plural = _("hazard steps")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.status}"


class HazardFollower(models.Model):
    """Someone who follows a report (often instead of reporting the same hazard again)."""

    hazard = models.ForeignKey(
        Hazard, on_delete=models.CASCADE, related_name="followers", verbose_name=_("hazard")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="hazards_followed",
        verbose_name=_("person"),
    )
    followed_at = models.DateTimeField(_("followed at"))

    class Meta:
        verbose_name = _("hazard follower")
        verbose_name_plural = _("hazard followers")
        constraints = [
            models.UniqueConstraint(fields=["hazard", "user"], name="hazard_follower_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.hazard_id}"

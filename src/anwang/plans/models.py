"""Emergency plans (应急预案): one plan per incident type and community, kept as numbered
versions. A version holds ordered steps (each with a duty role and a time target), contacts,
resources linked to assets, and the zones to evacuate; it is written as a draft and put in
force by the community admin's approval. An approved version is never edited: a change makes
a new draft, and incidents keep the version they started with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.plans.choices import IncidentType, VersionStatus
from anwang.rosters.choices import DutyRole


class EmergencyPlan(TimeStampedModel):
    """A community's plan for one incident type; its content lives in its versions."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="emergency_plans",
        verbose_name=_("community"),
    )
    incident_type = models.CharField(
        _("incident type"), max_length=20, choices=IncidentType.choices
    )
    title = models.CharField(_("title"), max_length=120)

    class Meta:
        verbose_name = _("emergency plan")
        verbose_name_plural = _("emergency plans")
        ordering = ["community", "incident_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "incident_type"], name="plan_one_per_incident_type"
            )
        ]

    def __str__(self) -> str:
        return self.title


class PlanVersion(TimeStampedModel):
    """One numbered version of a plan."""

    plan = models.ForeignKey(
        EmergencyPlan, on_delete=models.CASCADE, related_name="versions", verbose_name=_("plan")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    summary = models.TextField(_("purpose and scope"), blank=True)
    change_note = models.TextField(_("what changed"), blank=True)
    based_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("based on"),
    )
    evacuation_zones = models.ManyToManyField(
        "places.Zone", blank=True, related_name="+", verbose_name=_("zones to evacuate")
    )
    assembly_latitude = models.FloatField(_("assembly point latitude"), null=True, blank=True)
    assembly_longitude = models.FloatField(_("assembly point longitude"), null=True, blank=True)
    assembly_note = models.CharField(_("assembly point"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status=VersionStatus.APPROVED),
                name="plan_one_approved_version",
            ),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status=VersionStatus.DRAFT),
                name="plan_one_draft_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class PlanStep(models.Model):
    """One step of a version: what to do, which duty role does it, and within how many
    minutes of the incident being declared."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="steps", verbose_name=_("version")
    )
    position = models.PositiveIntegerField(_("order"))
    title = models.CharField(_("step"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    duty_role = models.CharField(_("duty role"), max_length=20, choices=DutyRole.choices)
    target_minutes = models.PositiveIntegerField(_("done within (minutes)"))

    class Meta:
        verbose_name = _("plan step")
        verbose_name_plural = _("plan steps")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"], name="plan_step_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class PlanContact(models.Model):
    """Someone to call during an incident (fire brigade, gas company, property manager...)."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("version")
    )
    position = models.PositiveIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=100)
    organisation = models.CharField(_("organisation or role"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("plan contact")
        verbose_name_plural = _("plan contacts")
        ordering = ["version", "position"]

    def __str__(self) -> str:
        return self.name


class PlanResource(models.Model):
    """Equipment or supplies the plan relies on, linked to the asset registry when it is
    there (its status and expiry then show beside the plan)."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="resources", verbose_name=_("version")
    )
    position = models.PositiveIntegerField(_("order"))
    asset = models.ForeignKey(
        "facilities.Asset",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("asset"),
    )
    description = models.CharField(_("resource"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("plan resource")
        verbose_name_plural = _("plan resources")
        ordering = ["version", "position"]

    def __str__(self) -> str:
        return self.description

"""Inspections (巡检) of physical-defence assets: checklists per asset type, recurring plans,
and the records of inspections carried out on a phone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.facilities.choices import AssetType
from anwang.hazards.choices import HazardCategory
from anwang.inspections.choices import InspectionStatus, Outcome


class Checklist(TimeStampedModel):
    """What to check on assets of one type (e.g. 'monthly extinguisher check')."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="inspection_checklists",
        verbose_name=_("community"),
    )
    asset_type = models.CharField(_("asset type"), max_length=30, choices=AssetType.choices)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["asset_type", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="inspection_checklist_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(models.Model):
    """One thing to check; a failure is reported as a hazard of ``hazard_category``."""

    checklist = models.ForeignKey(
        Checklist, on_delete=models.CASCADE, related_name="items", verbose_name=_("checklist")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("what to check"), max_length=200)
    hazard_category = models.CharField(
        _("hazard category when failed"),
        max_length=40,
        choices=HazardCategory.choices,
        default=HazardCategory.OTHER,
    )
    # Removed items are kept (inactive) because past results point at them.
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["checklist", "order", "pk"]

    def __str__(self) -> str:
        return self.text


class InspectionPlan(TimeStampedModel):
    """Recurring inspection work: which assets, which checklist, how often, by whom."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="inspection_plans",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    checklist = models.ForeignKey(
        Checklist, on_delete=models.PROTECT, related_name="plans", verbose_name=_("checklist")
    )
    # The assets: those of the checklist's type, narrowed to a building and/or zone, or the
    # chosen ones when any are chosen.
    building = models.ForeignKey(
        "places.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("zone"),
    )
    assets = models.ManyToManyField(
        "facilities.Asset", blank=True, related_name="inspection_plans", verbose_name=_("assets")
    )
    first_start = models.DateTimeField(_("first period starts"))
    rrule = models.CharField(_("repeat rule (RRULE)"), max_length=200, default="FREQ=MONTHLY")
    # Nobody chosen: anyone who may inspect facilities in the community.
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("inspectors")
    )
    # Inspected on patrol: a guard checking in here is offered the plan's due assets.
    checkpoint = models.ForeignKey(
        "patrols.Checkpoint",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspection_plans",
        verbose_name=_("patrol checkpoint"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["community", "is_active"])]

    def __str__(self) -> str:
        return self.name


class Inspection(models.Model):
    """One inspection of one asset against a checklist, opened and submitted on a phone."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="inspections",
        verbose_name=_("community"),
    )
    plan = models.ForeignKey(
        InspectionPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspections",
        verbose_name=_("plan"),
    )
    asset = models.ForeignKey(
        "facilities.Asset",
        on_delete=models.CASCADE,
        related_name="inspections",
        verbose_name=_("asset"),
    )
    checklist = models.ForeignKey(
        Checklist, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("checklist")
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("inspector"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InspectionStatus.choices,
        default=InspectionStatus.IN_PROGRESS,
    )
    started_at = models.DateTimeField(_("started at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["plan", "asset", "submitted_at"]),
            models.Index(fields=["community", "status", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.started_at:%Y-%m-%d %H:%M}"


def result_photo_path(instance: InspectionResult, filename: str) -> str:
    """Photos of an inspection sit together under the inspection's id."""
    return f"inspections/{instance.inspection_id}/{filename}"


class InspectionResult(models.Model):
    """The outcome of one checklist item on one inspection, with the hazard a failure raised."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.CASCADE, related_name="results", verbose_name=_("inspection")
    )
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.PROTECT, related_name="results", verbose_name=_("item")
    )
    # Copied so the record reads the same after the checklist is edited.
    item_text = models.CharField(_("what was checked"), max_length=200)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    photo = models.ImageField(_("photo"), upload_to=result_photo_path, blank=True)
    photo_thumbnail = models.ImageField(
        _("photo thumbnail"), upload_to=result_photo_path, blank=True
    )
    hazard = models.ForeignKey(
        "hazards.Hazard",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hazard"),
    )

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        ordering = ["inspection", "item__order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "item"], name="inspection_result_one_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_text}: {self.outcome}"

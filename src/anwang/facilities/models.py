"""The asset register of physical defence (物防): equipment and emergency supplies, with history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.facilities.choices import AssetEventKind, AssetStatus, AssetType, ExtinguisherType


class Asset(TimeStampedModel):
    """One physical-defence item or stock of emergency supplies, with a printable QR label."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="assets",
        verbose_name=_("community"),
    )
    asset_type = models.CharField(_("type"), max_length=30, choices=AssetType.choices)
    name = models.CharField(_("name"), max_length=100)
    # Printed on the label and in the QR code's URL; unique within the community only.
    code = models.CharField(_("code"), max_length=40)
    status = models.CharField(
        _("status"), max_length=20, choices=AssetStatus.choices, default=AssetStatus.IN_SERVICE
    )
    building = models.ForeignKey(
        "places.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("building"),
    )
    unit = models.ForeignKey(
        "places.Unit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("entrance"),
    )
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("zone"),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    location_note = models.CharField(_("where exactly"), max_length=200, blank=True)
    photo = models.ImageField(_("photo"), upload_to="facilities/%Y/%m/", blank=True)
    photo_thumbnail = models.ImageField(
        _("photo thumbnail"), upload_to="facilities/%Y/%m/", blank=True
    )
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    # Set by inspections (asset_mark_checked), never from the asset form.
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    extinguisher_type = models.CharField(
        _("extinguisher type"), max_length=20, choices=ExtinguisherType.choices, blank=True
    )
    capacity_kg = models.DecimalField(
        _("capacity (kg)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    last_pressure_check = models.DateField(_("last pressure check"), null=True, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    quantity_unit = models.CharField(_("unit of measure"), max_length=20, blank=True)
    minimum_stock = models.DecimalField(
        _("minimum stock"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["asset_type", "code"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="asset_unique_code"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="asset_quantity_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "asset_type", "status"]),
            models.Index(fields=["community", "expires_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_supply(self) -> bool:
        """Whether the asset is a stock with a quantity (emergency supplies)."""
        return self.asset_type == AssetType.EMERGENCY_SUPPLY

    @property
    def below_minimum(self) -> bool:
        """Whether a supply's quantity has fallen below its minimum stock."""
        return (
            self.is_supply and self.minimum_stock is not None and self.quantity < self.minimum_stock
        )


class AssetEvent(models.Model):
    """One entry of an asset's history: who did what to it, when, and which fields changed."""

    asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="events", verbose_name=_("asset")
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
    kind = models.CharField(_("what"), max_length=20, choices=AssetEventKind.choices)
    # {field: [old, new]} as display strings, so history survives later renames of choices.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # Signed for stock moves (+ in, - out); null for other entries.
    quantity_delta = models.DecimalField(
        _("quantity change"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("asset history entry")
        verbose_name_plural = _("asset history")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["asset", "at"])]

    def __str__(self) -> str:
        return f"{self.asset} {self.get_kind_display()}"

"""The responsibility matrix (责任分工): for each zone, building and asset category of a
community, who answers for it and who stands in, each by person or by duty role."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.facilities.choices import AssetType
from anwang.responsibilities.choices import AreaKind
from anwang.rosters.choices import DutyRole


class Responsibility(TimeStampedModel):
    """Who answers for one area of a community, and their deputy.

    Each side names a person, or a duty role (whoever is on duty in that role at the time,
    see :func:`anwang.rosters.selectors.on_duty`), never both."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="responsibilities",
        verbose_name=_("community"),
    )
    area_kind = models.CharField(_("covers"), max_length=20, choices=AreaKind.choices)
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="responsibilities",
        verbose_name=_("zone"),
    )
    building = models.ForeignKey(
        "places.Building",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="responsibilities",
        verbose_name=_("building"),
    )
    asset_type = models.CharField(
        _("asset category"), max_length=30, choices=AssetType.choices, blank=True
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responsibilities",
        verbose_name=_("responsible person"),
    )
    responsible_role = models.CharField(
        _("responsible duty role"), max_length=20, choices=DutyRole.choices, blank=True
    )
    deputy_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deputy_responsibilities",
        verbose_name=_("deputy"),
    )
    deputy_role = models.CharField(
        _("deputy duty role"), max_length=20, choices=DutyRole.choices, blank=True
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        ordering = ["community", "area_kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        area_kind=AreaKind.ZONE,
                        zone__isnull=False,
                        building__isnull=True,
                        asset_type="",
                    )
                    | Q(
                        area_kind=AreaKind.BUILDING,
                        zone__isnull=True,
                        building__isnull=False,
                        asset_type="",
                    )
                    | (
                        Q(area_kind=AreaKind.ASSET_TYPE, zone__isnull=True, building__isnull=True)
                        & ~Q(asset_type="")
                    )
                ),
                name="responsibility_area_matches_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(responsible_person__isnull=False, responsible_role="")
                    | (Q(responsible_person__isnull=True) & ~Q(responsible_role=""))
                ),
                name="responsibility_person_or_role",
            ),
            models.CheckConstraint(
                condition=Q(deputy_person__isnull=True) | Q(deputy_role=""),
                name="responsibility_deputy_person_or_role",
            ),
            models.UniqueConstraint(
                fields=["community", "zone"],
                condition=Q(area_kind=AreaKind.ZONE),
                name="responsibility_one_per_zone",
            ),
            models.UniqueConstraint(
                fields=["community", "building"],
                condition=Q(area_kind=AreaKind.BUILDING),
                name="responsibility_one_per_building",
            ),
            models.UniqueConstraint(
                fields=["community", "asset_type"],
                condition=Q(area_kind=AreaKind.ASSET_TYPE),
                name="responsibility_one_per_asset_type",
            ),
        ]

    def __str__(self) -> str:
        area = self.zone or self.building or self.get_asset_type_display()
        return f"{self.get_area_kind_display()} · {area}"

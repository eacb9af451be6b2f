"""The points ledger (积分): rules that say how many points an activity earns, and the
append-only entries that record every award, adjustment and reversal."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.participation.choices import EntryKind, PointSource


@dataclass(frozen=True)
class DefaultRule:
    """The rule a community has for a source until an admin changes it."""

    points_per_unit: int
    daily_cap: int | None


DEFAULT_RULES: dict[PointSource, DefaultRule] = {
    PointSource.PATROL_HOUR: DefaultRule(10, 80),
    PointSource.VOLUNTEER_HOUR: DefaultRule(10, 80),
    PointSource.HAZARD_VERIFIED: DefaultRule(20, 100),
    PointSource.TRAINING_COMPLETED: DefaultRule(30, None),
    PointSource.DRILL_PARTICIPATION: DefaultRule(20, None),
    PointSource.MANUAL: DefaultRule(1, None),
}
"""Rules are stored only once an admin edits them; until then these apply (no rows to seed)."""


class PointRule(TimeStampedModel):
    """How many points one unit of an activity earns in a community, and the daily cap."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="point_rules",
        verbose_name=_("community"),
    )
    source_kind = models.CharField(_("source"), max_length=24, choices=PointSource.choices)
    points_per_unit = models.PositiveIntegerField(_("points per unit"))
    daily_cap = models.PositiveIntegerField(
        _("daily cap per person"),
        null=True,
        blank=True,
        help_text=_("Most points one person earns from this source in a day; empty for no cap."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("point rule")
        verbose_name_plural = _("point rules")
        ordering = ["community", "source_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "source_kind"], name="point_rule_unique_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_kind_display()}: {self.points_per_unit}"


class PointEntry(models.Model):
    """One row of the points ledger; never edited or deleted, corrected by a reversal.

    ``points`` is what counts towards the balance; ``capped_points`` what the rule would have
    given beyond the daily cap, kept so a person sees that a cap applied."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="point_entries",
        verbose_name=_("community"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="point_entries",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    source_kind = models.CharField(_("source"), max_length=24, choices=PointSource.choices)
    source_key = models.CharField(
        _("source key"),
        max_length=200,
        help_text=_("What earned the points, e.g. shift:12:34; counted once per person."),
    )
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2)
    points_per_unit = models.IntegerField(_("points per unit"), default=0)
    points = models.IntegerField(_("points"))
    capped_points = models.PositiveIntegerField(_("points over the daily cap"), default=0)
    occurred_at = models.DateTimeField(_("occurred at"))
    day = models.DateField(_("day"), help_text=_("The local day the daily cap counts on."))
    reason = models.TextField(_("reason"), blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("reverses"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("point entry")
        verbose_name_plural = _("point entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["community", "user", "source_kind", "day"], name="point_cap_day"),
            models.Index(fields=["community", "-occurred_at"], name="point_recent"),
        ]
        constraints = [
            # The same hazard, shift or course never earns the same person points twice.
            models.UniqueConstraint(
                fields=["community", "source_kind", "source_key", "user"],
                condition=Q(kind="award"),
                name="point_award_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.points:+d} {self.source_kind} {self.source_key}"

    @property
    def is_reversible(self) -> bool:
        """Whether an admin may still reverse this entry (not a reversal, not reversed yet)."""
        if self.kind == EntryKind.REVERSAL:
            return False
        try:
            self.reversal  # noqa: B018 - the reverse one-to-one raises when absent
        except PointEntry.DoesNotExist:
            return True
        return False

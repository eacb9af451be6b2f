"""Duty rosters: recurring duty patterns per person and duty role, with exceptions and swaps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.rosters.choices import DutyRole, ExceptionKind


class DutyPattern(TimeStampedModel):
    """One person's recurring duty (值班) in one duty role: a first shift repeated by an
    iCalendar RRULE in local wall time (see :mod:`anwang.patrols.schedules`)."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="duty_patterns",
        verbose_name=_("community"),
    )
    duty_role = models.CharField(_("duty role"), max_length=20, choices=DutyRole.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="duty_patterns",
        verbose_name=_("person"),
    )
    first_start = models.DateTimeField(_("first shift starts"))
    duration = models.DurationField(_("shift length"))
    rrule = models.CharField(_("repeat rule (RRULE)"), max_length=500)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("duty pattern")
        verbose_name_plural = _("duty patterns")
        ordering = ["community", "duty_role", "first_start", "id"]
        indexes = [models.Index(fields=["community", "is_active", "duty_role"])]

    def __str__(self) -> str:
        return f"{self.get_duty_role_display()} · {self.person}"


class DutyException(models.Model):
    """A change to the roster: the shifts of a pattern (or of a person in a duty role) that
    are cancelled or swapped to someone else, picked by one shift key or by a time range
    in which the shifts start."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="duty_exceptions",
        verbose_name=_("community"),
    )
    pattern = models.ForeignKey(
        DutyPattern,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exceptions",
        verbose_name=_("pattern"),
    )
    # Without a pattern the exception covers all of this person's patterns in the duty role.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duty_exceptions",
        verbose_name=_("person"),
    )
    duty_role = models.CharField(_("duty role"), max_length=20, choices=DutyRole.choices)
    shift_key = models.CharField(_("shift"), max_length=20, blank=True)
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ExceptionKind.choices)
    replacement = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duty_replacements",
        verbose_name=_("replacement"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("duty exception")
        verbose_name_plural = _("duty exceptions")
        ordering = ["community", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pattern__isnull=False) | Q(person__isnull=False),
                name="duty_exception_pattern_or_person",
            ),
            models.CheckConstraint(
                condition=~Q(shift_key="")
                | (Q(starts_at__isnull=False) & Q(ends_at__isnull=False)),
                name="duty_exception_shift_or_range",
            ),
            models.CheckConstraint(
                condition=Q(kind=ExceptionKind.OFF, replacement__isnull=True)
                | Q(kind=ExceptionKind.SWAP, replacement__isnull=False),
                name="duty_exception_swap_has_replacement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.shift_key or self.starts_at}"

"""Welfare checks (关爱探访): residents who consented (elderly people living alone and others
who ask) are watched for silence. No access and no activity of their home's sensors for their
number of hours opens a check for their volunteer or grid worker, escalated to their family
contact when nobody closes it in time."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.welfare.choices import CheckOutcome, CheckStatus

DEFAULT_QUIET_HOURS = 24
DEFAULT_ESCALATE_MINUTES = 120


class WelfareWatch(TimeStampedModel):
    """One resident enrolled in welfare checks, on their recorded consent."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="welfare_watches",
        verbose_name=_("community"),
    )
    resident = models.OneToOneField(
        "people.Resident",
        on_delete=models.CASCADE,
        related_name="welfare_watch",
        verbose_name=_("resident"),
    )
    # RESTRICT as for face credentials: the consent cannot go while the watch uses it, but
    # erasing the resident deletes both.
    consent = models.ForeignKey(
        "access.ConsentRecord",
        on_delete=models.RESTRICT,
        related_name="welfare_watches",
        verbose_name=_("consent"),
    )
    # When watching began (again): silence counts from here when no activity is known.
    enrolled_at = models.DateTimeField(_("enrolled at"))
    quiet_hours = models.PositiveSmallIntegerField(
        _("hours of silence before a check"),
        default=DEFAULT_QUIET_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    use_baseline = models.BooleanField(
        _("learn the household's usual quiet spells"),
        default=True,
        help_text=_(
            "Wait longer than the hours above when this home is usually quiet longer (at most "
            "twice as long)."
        ),
    )
    # Who visits: empty means the grid worker of the resident's household's grid.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="welfare_watches",
        verbose_name=_("volunteer or grid worker"),
    )
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate after (minutes)"),
        default=DEFAULT_ESCALATE_MINUTES,
        validators=[MinValueValidator(10), MaxValueValidator(24 * 60)],
    )
    family_contact = models.ForeignKey(
        "people.EmergencyContact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("family contact"),
    )
    # Sensors in the home whose activity counts (door contact, motion, water meter...).
    devices = models.ManyToManyField(
        "devices.Device", blank=True, related_name="+", verbose_name=_("home sensors")
    )
    paused_until = models.DateTimeField(
        _("paused until"),
        null=True,
        blank=True,
        help_text=_("Away on a trip or in hospital: no checks until then."),
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Kept by the worker's check: the last activity seen, and the learned baseline.
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    baseline_hours = models.FloatField(
        _("usual longest quiet spell (hours)"), null=True, blank=True
    )
    baseline_updated_at = models.DateTimeField(_("baseline updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("welfare-check enrolment")
        verbose_name_plural = _("welfare-check enrolments")
        ordering = ["community", "resident__name", "id"]

    def __str__(self) -> str:
        return str(self.resident)


class WelfareCheck(models.Model):
    """A check opened because a watched resident was quiet too long, until someone closes it
    with what they found."""

    watch = models.ForeignKey(
        WelfareWatch, on_delete=models.CASCADE, related_name="checks", verbose_name=_("enrolment")
    )
    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="welfare_checks",
        verbose_name=_("community"),
    )
    # The household at opening, for the report per household and month.
    household = models.ForeignKey(
        "places.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="welfare_checks",
        verbose_name=_("household"),
    )
    opened_at = models.DateTimeField(_("opened at"))
    quiet_since = models.DateTimeField(_("quiet since"), null=True, blank=True)
    threshold_hours = models.FloatField(_("hours of silence that opened it"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="welfare_checks",
        verbose_name=_("assigned to"),
    )
    escalate_at = models.DateTimeField(_("escalate at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CheckStatus.choices, default=CheckStatus.OPEN
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=CheckOutcome.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("welfare check")
        verbose_name_plural = _("welfare checks")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["watch"], condition=Q(status="open"), name="welfare_check_one_open"
            )
        ]
        indexes = [
            models.Index(fields=["community", "status", "opened_at"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.watch} {self.opened_at:%Y-%m-%d %H:%M}"

"""Volunteers (志愿者) of a community, their teams, shifts with sign-up and attendance, and the
service-hours ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.volunteers.choices import (
    DayPart,
    HoursKind,
    SignupStatus,
    Skill,
    VolunteerStatus,
    Weekday,
)


class Volunteer(TimeStampedModel):
    """A person's application to volunteer in a community and, once approved, their standing.

    One row per person and community: applying again after a refusal or withdrawal reopens it.
    Contact details stay on the person's account; nothing personal is copied here."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="volunteers",
        verbose_name=_("community"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="volunteering",
        verbose_name=_("person"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=VolunteerStatus.choices,
        default=VolunteerStatus.APPLIED,
    )
    skills = models.JSONField(_("skills"), default=list, blank=True)
    languages = models.CharField(
        _("languages"), max_length=200, blank=True, help_text=_("e.g. English, sign language")
    )
    other_skills = models.CharField(_("other skills"), max_length=200, blank=True)
    # ["mon:morning", "sat:evening", ...]: weekday x part of the day.
    availability = models.JSONField(_("availability"), default=list, blank=True)
    motivation = models.TextField(_("about me"), blank=True)
    applied_at = models.DateTimeField(_("applied at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    status_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["community", "-applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="volunteer_unique_person")
        ]

    def __str__(self) -> str:
        return str(self.user.display_name or self.user.username)

    @property
    def is_approved(self) -> bool:
        """Whether the volunteer may sign up for shifts."""
        return self.status == VolunteerStatus.APPROVED

    def skill_labels(self) -> list[str]:
        """The skills as translated labels."""
        return [str(Skill(value).label) for value in self.skills if value in Skill.values]

    def availability_labels(self) -> list[str]:
        """The time slots as translated labels (weekday and part of the day)."""
        labels = []
        for slot in self.availability:
            day, _sep, part = str(slot).partition(":")
            if day in Weekday.values and part in DayPart.values:
                labels.append(f"{Weekday(day).label} · {DayPart(part).label}")
        return labels


class Team(TimeStampedModel):
    """A group of volunteers with a leader, who may check members in and out of shifts."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="volunteer_teams",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    leader = models.ForeignKey(
        Volunteer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
        verbose_name=_("leader"),
    )
    members = models.ManyToManyField(
        Volunteer, blank=True, related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["community", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="volunteer_team_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Shift(TimeStampedModel):
    """A period of volunteer duty with a number of places that volunteers sign up for."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="volunteer_shifts",
        verbose_name=_("community"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("team"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer_shifts",
        verbose_name=_("zone"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("places"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["community", "starts_at"], name="volunteer_shift_start")]

    def __str__(self) -> str:
        return f"{self.title} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        """Whether the shift was called off."""
        return self.cancelled_at is not None


class Signup(TimeStampedModel):
    """A volunteer's place on a shift, with their check-in and check-out."""

    shift = models.ForeignKey(
        Shift, on_delete=models.CASCADE, related_name="signups", verbose_name=_("shift")
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="signups", verbose_name=_("volunteer")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=SignupStatus.choices, default=SignupStatus.SIGNED_UP
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in by"),
    )
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked out by"),
    )

    class Meta:
        verbose_name = _("shift sign-up")
        verbose_name_plural = _("shift sign-ups")
        ordering = ["shift", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "volunteer"], name="signup_unique_volunteer")
        ]

    def __str__(self) -> str:
        return f"{self.shift_id}:{self.volunteer_id} {self.status}"

    @property
    def community_id(self) -> int:
        """The community of the shift (for audit entries)."""
        return int(self.shift.community_id)


class ServiceHours(models.Model):
    """One row of the service-hours ledger: hours from a check-out, or an admin's correction
    (a difference, positive or negative, with its reason). Never edited or deleted."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="service_hours",
        verbose_name=_("community"),
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="hours", verbose_name=_("volunteer")
    )
    shift = models.ForeignKey(
        Shift,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hours",
        verbose_name=_("shift"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=HoursKind.choices)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    served_on = models.DateField(_("date of service"))
    reason = models.TextField(_("reason"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")
        ordering = ["-served_on", "-id"]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.hours} h {self.served_on}"


ZERO_HOURS = Decimal("0.00")

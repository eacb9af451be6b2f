"""Training (培训): courses, their sessions with attendance, certificates with expiry; drills (演练)
with their key timings, participants and findings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.models import TimeStampedModel
from anwang.training.choices import (
    AttendanceMethod,
    CertificateSource,
    CourseTopic,
    DrillKind,
    DrillStatus,
    FindingSeverity,
    SessionStatus,
)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - the 28th always exists


class Course(TimeStampedModel):
    """A course a community runs (fire safety, first aid, ...), and who must hold it."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="training_courses",
        verbose_name=_("community"),
    )
    title = models.CharField(_("title"), max_length=120)
    topic = models.CharField(_("topic"), max_length=20, choices=CourseTopic.choices)
    description = models.TextField(_("description"), blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=60)
    validity_months = models.PositiveIntegerField(
        _("certificate valid for (months)"),
        null=True,
        blank=True,
        help_text=_("Empty: the certificate never expires."),
    )
    required_for_roles = models.JSONField(
        _("required for roles"),
        default=list,
        blank=True,
        help_text=_("Roles whose holders must have a current certificate of this course."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["community", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "title"], name="course_unique_title")
        ]

    def __str__(self) -> str:
        return self.title

    def required_role_labels(self) -> list[str]:
        """The names of the roles that must hold this course, in the reader's language."""
        from anwang.accounts.choices import Role

        return [str(Role(role).label) for role in self.required_for_roles if role in Role.values]

    def expiry_for(self, issued_on: dt.date) -> dt.date | None:
        """When a certificate of this course issued on ``issued_on`` expires (``None``: never)."""
        if self.validity_months is None:
            return None
        return add_months(issued_on, self.validity_months)


class TrainingSession(TimeStampedModel):
    """One sitting of a course: when, where, by whom, and who came."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="training_sessions",
        verbose_name=_("community"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("course")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("zone"),
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    trainer_name = models.CharField(_("trainer"), max_length=100, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["community", "starts_at"], name="session_community_idx")]

    def __str__(self) -> str:
        return f"{self.course} {self.starts_at:%Y-%m-%d %H:%M}"


class Attendance(models.Model):
    """One person's presence at a session, recorded once (by QR scan or by staff)."""

    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.CASCADE,
        related_name="attendances",
        verbose_name=_("session"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_attendances",
        verbose_name=_("person"),
    )
    method = models.CharField(_("recorded by"), max_length=10, choices=AttendanceMethod.choices)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    passed = models.BooleanField(
        _("passed"), null=True, blank=True, help_text=_("Empty: not assessed (counts as passed).")
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["session", "recorded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.session_id}"


class Certificate(TimeStampedModel):
    """Proof that a person completed a course, valid until ``expires_on`` (if it expires)."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="training_certificates",
        verbose_name=_("community"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("course")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_certificates",
        verbose_name=_("person"),
    )
    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("session"),
    )
    source = models.CharField(_("source"), max_length=10, choices=CertificateSource.choices)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["expires_on", "id"]
        constraints = [
            # Completing a session twice must not issue a second certificate.
            models.UniqueConstraint(
                fields=["session", "user"],
                condition=Q(session__isnull=False),
                name="certificate_once_per_session",
            )
        ]
        indexes = [
            models.Index(fields=["community", "expires_on"], name="certificate_expiry_idx"),
            models.Index(fields=["user", "course"], name="certificate_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.course} · {self.user}"

    @property
    def number(self) -> str:
        """The number printed on the certificate."""
        return f"AW-{self.community_id:04d}-{self.pk:06d}"


class Drill(TimeStampedModel):
    """An exercise (fire evacuation, earthquake, ...) with its key times and who took part."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="drills",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DrillKind.choices)
    title = models.CharField(_("title"), max_length=120)
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("zone"),
    )
    planned_at = models.DateTimeField(_("planned for"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    alarm_raised_at = models.DateTimeField(_("alarm raised at"), null=True, blank=True)
    evacuation_complete_at = models.DateTimeField(
        _("evacuation complete at"), null=True, blank=True
    )
    headcount_done_at = models.DateTimeField(_("headcount done at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="drills", verbose_name=_("participants")
    )
    resident_count = models.PositiveIntegerField(_("residents taking part"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=DrillStatus.choices, default=DrillStatus.PLANNED
    )
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        ordering = ["-planned_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def _span(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
        if start is None or end is None:
            return None
        return int((end - start).total_seconds())

    @property
    def evacuation_seconds(self) -> int | None:
        """Seconds from the alarm to the evacuation complete."""
        return self._span(self.alarm_raised_at, self.evacuation_complete_at)

    @property
    def headcount_seconds(self) -> int | None:
        """Seconds from the alarm to the headcount done."""
        return self._span(self.alarm_raised_at, self.headcount_done_at)

    @property
    def total_seconds(self) -> int | None:
        """Seconds from the start to the end of the drill."""
        return self._span(self.started_at, self.ended_at)


class DrillFinding(TimeStampedModel):
    """Something a drill showed that must be fixed, with an owner and a deadline."""

    drill = models.ForeignKey(
        Drill, on_delete=models.CASCADE, related_name="findings", verbose_name=_("drill")
    )
    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    text = models.TextField(_("finding"))
    severity = models.CharField(
        _("severity"),
        max_length=10,
        choices=FindingSeverity.choices,
        default=FindingSeverity.MEDIUM,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("drill finding")
        verbose_name_plural = _("drill findings")
        ordering = ["closed_at", "deadline", "id"]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_closed(self) -> bool:
        """Whether the finding was dealt with."""
        return self.closed_at is not None

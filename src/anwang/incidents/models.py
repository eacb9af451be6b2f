"""Incidents (突发事件): an emergency (or a drill of one) being worked. Declaring one copies
the steps of its plan's approved version into tasks for whoever holds each duty role on duty;
the timeline records everything that happens; closing it writes an after-action review whose
action items can open a new draft of the plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.incidents.choices import IncidentState, LogKind, TaskStatus
from anwang.plans.choices import IncidentType
from anwang.rosters.choices import DutyRole

if TYPE_CHECKING:
    from anwang.alarms.models import Alarm


class Incident(models.Model):
    """One activated emergency, or a drill that runs the same path (``is_drill``)."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="incidents",
        verbose_name=_("community"),
    )
    incident_type = models.CharField(
        _("incident type"), max_length=20, choices=IncidentType.choices
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_drill = models.BooleanField(_("drill"), default=False)
    # The version in force when the incident started; later approvals do not change it.
    plan_version = models.ForeignKey(
        "plans.PlanVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("plan version"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=IncidentState.choices, default=IncidentState.OPEN
    )
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("zone"),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    alarms: models.ManyToManyField[Alarm, IncidentAlarm] = models.ManyToManyField(
        "alarms.Alarm",
        through="IncidentAlarm",
        blank=True,
        related_name="incidents",
        verbose_name=_("alarms"),
    )
    declared_at = models.DateTimeField(_("declared at"))
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("declared by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    # The training record a closed drill counts as for its participants.
    training_drill = models.OneToOneField(
        "training.Drill",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incident",
        verbose_name=_("training record"),
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-declared_at", "-id"]
        indexes = [models.Index(fields=["community", "state", "declared_at"])]

    def __str__(self) -> str:
        return self.title


class IncidentAlarm(models.Model):
    """An alarm linked to an incident (the one it was declared from, or later ones)."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="alarm_links", verbose_name=_("incident")
    )
    alarm = models.ForeignKey(
        "alarms.Alarm", on_delete=models.CASCADE, related_name="+", verbose_name=_("alarm")
    )
    linked_at = models.DateTimeField(_("linked at"))
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )

    class Meta:
        verbose_name = _("linked alarm")
        verbose_name_plural = _("linked alarms")
        ordering = ["incident", "linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "alarm"], name="incident_alarm_once")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} · {self.alarm_id}"


class IncidentTask(models.Model):
    """One thing to do in an incident: a copy of a plan step (or added by hand), assigned to
    whoever holds its duty role on duty, due a number of minutes after the declaration."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("incident")
    )
    step = models.ForeignKey(
        "plans.PlanStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan step"),
    )
    position = models.PositiveIntegerField(_("order"))
    title = models.CharField(_("task"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    duty_role = models.CharField(
        _("duty role"), max_length=20, choices=DutyRole.choices, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incident_tasks",
        verbose_name=_("assignee"),
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    note = models.TextField(_("note"), blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident task")
        verbose_name_plural = _("incident tasks")
        ordering = ["incident", "position", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return self.title


class IncidentLogEntry(models.Model):
    """One line of an incident's timeline."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="log", verbose_name=_("incident")
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
    kind = models.CharField(_("what"), max_length=20, choices=LogKind.choices)
    text = models.TextField(_("text"), blank=True)
    task = models.ForeignKey(
        IncidentTask,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("task"),
    )
    alarm = models.ForeignKey(
        "alarms.Alarm",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("alarm"),
    )

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["incident", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"


class IncidentParticipant(models.Model):
    """Someone who took part (a drill's participants count it as training)."""

    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        related_name="participants",
        verbose_name=_("incident"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person"),
    )
    role_note = models.CharField(_("role"), max_length=100, blank=True)
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["incident", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "person"], name="incident_person_once")
        ]

    def __str__(self) -> str:
        return str(self.person)


class AfterActionReview(models.Model):
    """What an incident taught: written when it is closed."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="review", verbose_name=_("incident")
    )
    what_worked = models.TextField(_("what worked"), blank=True)
    what_did_not = models.TextField(_("what did not work"), blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    written_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("after-action review")
        verbose_name_plural = _("after-action reviews")

    def __str__(self) -> str:
        return str(self.incident)


class ActionItem(models.Model):
    """Something to change after an incident, with an owner; it can open a new draft of the
    plan, so that lessons change the plan."""

    review = models.ForeignKey(
        AfterActionReview,
        on_delete=models.CASCADE,
        related_name="action_items",
        verbose_name=_("review"),
    )
    description = models.TextField(_("action"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    plan_version = models.ForeignKey(
        "plans.PlanVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
        verbose_name=_("plan draft"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["review", "created_at", "id"]

    def __str__(self) -> str:
        return self.description[:60]

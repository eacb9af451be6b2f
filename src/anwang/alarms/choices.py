"""Choices of the alarms domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlarmState(models.TextChoices):
    """Where an alarm is in its lifecycle."""

    RAISED = "raised", _("Raised")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPATCHED = "dispatched", _("Dispatched")
    ON_SCENE = "on_scene", _("On scene")
    RESOLVED = "resolved", _("Resolved")
    FALSE_ALARM = "false_alarm", _("False alarm")


OPEN_STATES = (
    AlarmState.RAISED,
    AlarmState.ACKNOWLEDGED,
    AlarmState.DISPATCHED,
    AlarmState.ON_SCENE,
)
CLOSED_STATES = (AlarmState.RESOLVED, AlarmState.FALSE_ALARM)


class StepAction(models.TextChoices):
    """One thing that happened to an alarm."""

    RAISED = "raised", _("Raised")
    REPEATED = "repeated", _("Fired again")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted by the guard")
    ON_SCENE = "on_scene", _("On scene")
    RESOLVED = "resolved", _("Resolved")
    FALSE_ALARM = "false_alarm", _("Closed as a false alarm")
    ESCALATED = "escalated", _("Escalated")
    NOTE = "note", _("Note")
    PHOTO = "photo", _("Photo")


class SlaKind(models.TextChoices):
    """Which response time was missed."""

    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    ON_SCENE = "on_scene", _("On scene")

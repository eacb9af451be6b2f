"""Constants of the incidents domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentState(models.TextChoices):
    """An incident is worked while open; closing it writes its after-action review."""

    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class TaskStatus(models.TextChoices):
    """Where one task of an incident stands."""

    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Not needed")


class LogKind(models.TextChoices):
    """What a line of an incident's timeline records."""

    DECLARED = "declared", _("Declared")
    TASK_ASSIGNED = "task_assigned", _("Task assigned")
    TASK_DONE = "task_done", _("Task done")
    TASK_SKIPPED = "task_skipped", _("Task not needed")
    TASK_LATE = "task_late", _("Task late, escalated")
    TASK_ADDED = "task_added", _("Task added")
    NOTE = "note", _("Note")
    ALARM_LINKED = "alarm_linked", _("Alarm linked")
    MESSAGE_SENT = "message_sent", _("Message sent")
    PARTICIPANT = "participant", _("Participant added")
    CLOSED = "closed", _("Closed")
    REVIEWED = "reviewed", _("Review written")

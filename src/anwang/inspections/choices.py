"""Constants of the inspections domain (巡检)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    """The result of one checklist item on one inspection."""

    PASS = "pass", _("pass")
    FAIL = "fail", _("fail")
    NOT_APPLICABLE = "na", _("not applicable")


class InspectionStatus(models.TextChoices):
    """Where an inspection stands: opened on a phone, or submitted with its results."""

    IN_PROGRESS = "in_progress", _("in progress")
    SUBMITTED = "submitted", _("submitted")


class Frequency(models.TextChoices):
    """How often a plan repeats (the ``FREQ`` of its RRULE)."""

    DAILY = "DAILY", _("daily")
    WEEKLY = "WEEKLY", _("weekly")
    MONTHLY = "MONTHLY", _("monthly")


class DueStatus(models.TextChoices):
    """Where an asset stands in its plan's current period."""

    NOT_STARTED = "not_started", _("not started")
    DONE = "done", _("done")
    DUE = "due", _("due")
    OVERDUE = "overdue", _("overdue")

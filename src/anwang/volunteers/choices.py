"""Choices of the volunteers domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Skill(models.TextChoices):
    """What a volunteer can do."""

    FIRST_AID = "first_aid", _("First aid")
    FIREFIGHTING = "firefighting", _("Firefighting")
    LANGUAGES = "languages", _("Languages")
    PATROL = "patrol", _("Patrol")
    ELDERLY_CARE = "elderly_care", _("Elderly care")
    IT = "it", _("IT")
    OTHER = "other", _("Other")


class Weekday(models.TextChoices):
    """Days of the week, for availability."""

    MON = "mon", _("Monday")
    TUE = "tue", _("Tuesday")
    WED = "wed", _("Wednesday")
    THU = "thu", _("Thursday")
    FRI = "fri", _("Friday")
    SAT = "sat", _("Saturday")
    SUN = "sun", _("Sunday")


class DayPart(models.TextChoices):
    """Parts of a day, for availability."""

    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    EVENING = "evening", _("Evening")


class VolunteerStatus(models.TextChoices):
    """Where a person's volunteering in a community stands."""

    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUSPENDED = "suspended", _("Suspended")


class SignupStatus(models.TextChoices):
    """Whether a volunteer is still on a shift."""

    SIGNED_UP = "signed_up", _("Signed up")
    CANCELLED = "cancelled", _("Cancelled")


class HoursKind(models.TextChoices):
    """What a row of the service-hours ledger is."""

    ATTENDANCE = "attendance", _("Attendance")
    CORRECTION = "correction", _("Correction")

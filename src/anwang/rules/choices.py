"""Choices of the rules domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    """How a rule decides that its events need a person."""

    IMMEDIATE = "immediate", _("Immediately, on one matching event")
    COUNT = "count", _("A number of matching events within a window")
    DURATION = "duration", _("A state lasting longer than a time")
    ABSENCE = "absence", _("Nothing matching for a time")
    SEQUENCE = "sequence", _("One event, then another within a time")


class Priority(models.IntegerChoices):
    """How urgent an alarm is: P1 needs a person within seconds."""

    P1 = 1, _("P1 – critical")
    P2 = 2, _("P2 – high")
    P3 = 3, _("P3 – medium")
    P4 = 4, _("P4 – low")


class GroupBy(models.TextChoices):
    """What one alarm of a rule stands for: firings of the same group join one alarm."""

    DEVICE = "device", _("Per device")
    ZONE = "zone", _("Per zone")
    BUILDING = "building", _("Per building")
    RULE = "rule", _("One alarm for the whole rule")

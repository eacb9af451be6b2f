"""Constants of the emergency plans domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentType(models.TextChoices):
    """What kind of emergency a plan answers (and an incident is)."""

    FIRE = "fire", _("Fire")
    GAS_LEAK = "gas_leak", _("Gas leak")
    FLOODING = "flooding", _("Flooding or waterlogging")
    POWER_OUTAGE = "power_outage", _("Power outage")
    INTRUSION = "intrusion", _("Intrusion")
    MISSING_PERSON = "missing_person", _("Missing person")
    MEDICAL = "medical", _("Medical emergency")
    CROWD = "crowd", _("Crowd event")
    EPIDEMIC = "epidemic", _("Epidemic")
    OTHER = "other", _("Other")


class VersionStatus(models.TextChoices):
    """Where one version of a plan stands. A plan has at most one draft and one approved
    version; approving a draft supersedes the approved one, which stays readable."""

    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved (in force)")
    SUPERSEDED = "superseded", _("Superseded")
    DISCARDED = "discarded", _("Discarded")

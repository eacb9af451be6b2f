"""Constants of the alerts domain. The CAP 1.2 code lists keep the specification's spelling
(``Extreme``, ``Immediate``...) as stored values, so CAP documents are written and read
without translation tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AlertState(models.TextChoices):
    """Where a safety alert stands in its life."""

    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", pgettext_lazy("safety alert state", "Cancelled")


class MsgType(models.TextChoices):
    """CAP ``msgType``."""

    ALERT = "Alert", _("Alert")
    UPDATE = "Update", _("Update")
    CANCEL = "Cancel", _("Cancel")


class CapStatus(models.TextChoices):
    """CAP ``status``: only ``Actual`` alerts reach residents as real."""

    ACTUAL = "Actual", _("Actual")
    EXERCISE = "Exercise", _("Exercise")
    SYSTEM = "System", _("System")
    TEST = "Test", pgettext_lazy("CAP status", "Test")
    DRAFT = "Draft", pgettext_lazy("CAP status", "Draft")


class Category(models.TextChoices):
    """CAP ``category``."""

    GEO = "Geo", _("Geophysical")
    MET = "Met", _("Meteorological")
    SAFETY = "Safety", _("Public safety")
    SECURITY = "Security", _("Security and crime")
    RESCUE = "Rescue", _("Rescue and recovery")
    FIRE = "Fire", _("Fire")
    HEALTH = "Health", _("Health")
    ENV = "Env", _("Environment")
    TRANSPORT = "Transport", _("Transport")
    INFRA = "Infra", _("Infrastructure")
    CBRNE = "CBRNE", _("Chemical, biological, radiological or explosive")
    OTHER = "Other", pgettext_lazy("CAP category", "Other")


class Severity(models.TextChoices):
    """CAP ``severity``: Extreme alerts ignore quiet hours."""

    EXTREME = "Extreme", _("Extreme")
    SEVERE = "Severe", _("Severe")
    MODERATE = "Moderate", _("Moderate")
    MINOR = "Minor", _("Minor")
    UNKNOWN = "Unknown", pgettext_lazy("CAP severity", "Unknown")


class Urgency(models.TextChoices):
    """CAP ``urgency``: Immediate alerts ignore quiet hours."""

    IMMEDIATE = "Immediate", _("Immediate")
    EXPECTED = "Expected", _("Expected")
    FUTURE = "Future", _("Future")
    PAST = "Past", _("Past")
    UNKNOWN = "Unknown", pgettext_lazy("CAP urgency", "Unknown")


class Certainty(models.TextChoices):
    """CAP ``certainty``."""

    OBSERVED = "Observed", _("Observed")
    LIKELY = "Likely", _("Likely")
    POSSIBLE = "Possible", _("Possible")
    UNLIKELY = "Unlikely", _("Unlikely")
    UNKNOWN = "Unknown", pgettext_lazy("CAP certainty", "Unknown")


class ResponseType(models.TextChoices):
    """CAP ``responseType``: what residents should do."""

    SHELTER = "Shelter", _("Shelter in place")
    EVACUATE = "Evacuate", _("Evacuate")
    PREPARE = "Prepare", _("Prepare")
    EXECUTE = "Execute", _("Act as planned")
    AVOID = "Avoid", _("Avoid the area")
    MONITOR = "Monitor", _("Stay informed")
    ASSESS = "Assess", _("Assess the information")
    ALL_CLEAR = "AllClear", _("All clear")
    NONE = "None", _("No action")


class Confirmation(models.TextChoices):
    """What an alert asks of the people it reaches."""

    NONE = "none", _("Nothing")
    SAFE = "safe", _("Are you safe?")
    SEEN = "seen", _("Have you seen this?")


class TargetGroup(models.TextChoices):
    """Groups an alert can be narrowed to; the same as the resident tags of the same name."""

    LIVING_ALONE = "living_alone", _("Elderly living alone")
    NEEDS_CARE = "needs_care", _("Needs care")
    DISABLED = "disabled", _("Disabled")
    CHILD = "child", pgettext_lazy("resident tag", "Child")
    TENANT = "tenant", _("Tenant")


VULNERABLE_TAGS: frozenset[str] = frozenset(
    {TargetGroup.LIVING_ALONE, TargetGroup.NEEDS_CARE, TargetGroup.DISABLED}
)
"""Tags that put a household first on the follow-up list."""


class KnockStatus(models.TextChoices):
    """Where a door-knock task stands."""

    OPEN = "open", _("To do")
    DONE = "done", _("Done")


class KnockOutcome(models.TextChoices):
    """What the visitor found at the door."""

    SAFE = "safe", _("Everyone safe")
    NEEDS_HELP = "needs_help", _("Needs help")
    NOT_HOME = "not_home", _("Nobody home")


class IncomingState(models.TextChoices):
    """What was done with an alert received from an upstream warning system."""

    NEW = "new", pgettext_lazy("incoming alert", "New")
    RELAYED = "relayed", _("Relayed to residents")
    DISMISSED = "dismissed", _("Dismissed")

"""Constants of the people domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Gender(models.TextChoices):
    """Gender as recorded on the ID card."""

    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class ResidentTag(models.TextChoices):
    """Tags that change how the community looks after a resident."""

    LIVING_ALONE = "living_alone", _("Elderly living alone")
    DISABLED = "disabled", _("Disabled")
    CHILD = "child", pgettext_lazy("resident tag", "Child")
    TENANT = "tenant", _("Tenant")
    NEEDS_CARE = "needs_care", _("Needs care")


class Relation(models.TextChoices):
    """How a household member relates to the head of household."""

    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", pgettext_lazy("relation to head of household", "Child")
    PARENT = "parent", _("Parent")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", _("Other")


class BindingStatus(models.TextChoices):
    """The state of a resident account's request to be bound to a household."""

    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    ENDED = "ended", _("Ended (moved out)")


class PersonalField(models.TextChoices):
    """Encrypted personal fields that can be revealed by an audited action."""

    ID_NUMBER = "id_number", _("ID number")
    PHONE = "phone", _("Phone number")

"""Residents, their household memberships, emergency contacts and account bindings.

ID and phone numbers are encrypted at rest (:class:`anwang.core.crypto.EncryptedCharField`)
with a blind index beside each for exact look-ups; pages show them masked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.core.crypto import EncryptedCharField
from anwang.core.models import TimeStampedModel
from anwang.people.choices import BindingStatus, Gender, Relation, ResidentTag
from anwang.people.masking import mask_id_number, mask_phone


class Resident(TimeStampedModel):
    """A person who lives in the community."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="residents",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    id_number = EncryptedCharField(_("ID number"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedCharField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("account"),
    )
    note = models.TextField(_("note"), blank=True)
    data_consent_at = models.DateTimeField(_("consented to data processing"), null=True, blank=True)
    moved_out_at = models.DateField(_("moved out"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["community", "name", "id"]
        constraints = [
            # The service refuses duplicates with a clear message; this is the backstop
            # against two concurrent writers.
            models.UniqueConstraint(
                fields=["community", "id_number_index"],
                condition=~Q(id_number_index=""),
                name="resident_unique_id_number",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        """The ID number as pages show it: first 6 and last 4 characters."""
        return mask_id_number(self.id_number or "")

    @property
    def phone_masked(self) -> str:
        """The phone number as pages show it."""
        return mask_phone(self.phone or "")


class ResidentTagLink(models.Model):
    """One tag on one resident (a table, so both databases filter by tag the same way)."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="tag_links", verbose_name=_("resident")
    )
    tag = models.CharField(_("tag"), max_length=20, choices=ResidentTag.choices)

    class Meta:
        verbose_name = _("resident tag")
        verbose_name_plural = _("resident tags")
        constraints = [
            models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_unique")
        ]

    def __str__(self) -> str:
        return self.get_tag_display()


class HouseholdMember(TimeStampedModel):
    """A resident living in a household; ``until`` is set when they move out."""

    household = models.ForeignKey(
        "places.Household",
        on_delete=models.CASCADE,
        related_name="members",
        verbose_name=_("household"),
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("resident")
    )
    relation = models.CharField(
        _("relation to head"), max_length=20, choices=Relation.choices, default=Relation.OTHER
    )
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household", "relation", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "resident"],
                condition=Q(until__isnull=True),
                name="household_member_current_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident} @ {self.household}"


class EmergencyContact(TimeStampedModel):
    """Someone to call for a resident (usually family)."""

    resident = models.ForeignKey(
        Resident,
        on_delete=models.CASCADE,
        related_name="emergency_contacts",
        verbose_name=_("resident"),
    )
    name = models.CharField(_("name"), max_length=100)
    relation = models.CharField(_("relation"), max_length=50, blank=True)
    phone = EncryptedCharField(_("phone"))

    class Meta:
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")
        ordering = ["resident", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        """The phone number as pages show it."""
        return mask_phone(self.phone or "")


class HouseholdBinding(TimeStampedModel):
    """A resident account's request to be bound to a household, and its outcome."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="household_bindings",
        verbose_name=_("account"),
    )
    household = models.ForeignKey(
        "places.Household",
        on_delete=models.CASCADE,
        related_name="bindings",
        verbose_name=_("household"),
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bindings",
        verbose_name=_("resident record"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=BindingStatus.choices, default=BindingStatus.PENDING
    )
    relation = models.CharField(
        _("relation to head"), max_length=20, choices=Relation.choices, default=Relation.OTHER
    )
    message = models.TextField(_("message"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("household binding")
        verbose_name_plural = _("household bindings")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "household"],
                condition=Q(status__in=["pending", "approved"]),
                name="binding_open_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.household}"

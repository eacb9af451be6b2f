"""Users, memberships, API tokens and login failures."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anwang.accounts.choices import PhoneCodePurpose, Role
from anwang.core.crypto import EncryptedCharField
from anwang.core.models import TimeStampedModel


class User(AbstractUser):
    """A person who logs in. What they may see comes from their memberships."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    preferred_language = models.CharField(_("language"), max_length=10, blank=True)
    large_text = models.BooleanField(_("large text"), default=False)
    totp_secret = EncryptedCharField(_("two-factor secret"), blank=True)
    totp_enabled = models.BooleanField(_("two-factor login enabled"), default=False)
    totp_last_step = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Membership(TimeStampedModel):
    """A user's role in one community, or for a supervisor, in one region (covering its
    communities)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("community"),
    )
    region = models.ForeignKey(
        "places.Region",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("street office"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(Q(community__isnull=False) & Q(region__isnull=True))
                | (Q(community__isnull=True) & Q(region__isnull=False)),
                name="membership_community_xor_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "community"],
                name="membership_unique_community_role",
                condition=Q(community__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                name="membership_unique_region_role",
                condition=Q(region__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.community or self.region}"


class ApiToken(TimeStampedModel):
    """A bearer token for the API. Only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("limited to community"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class LoginFailure(models.Model):
    """One failed login, counted for the lockout per account and per client address."""

    username = models.CharField(max_length=150, db_index=True)
    client_address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")

    def __str__(self) -> str:
        return f"{self.username} @ {self.client_address}"


class PhoneCode(models.Model):
    """A six-digit code texted to a mobile number to prove it is the person's (sign-up,
    password reset). The number is kept only as a blind index and masked; the code only as a
    keyed digest. Rows also count the sends for the throttle."""

    phone_index = models.CharField(max_length=64, editable=False)
    phone_masked = models.CharField(_("mobile number"), max_length=20)
    purpose = models.CharField(_("purpose"), max_length=20, choices=PhoneCodePurpose.choices)
    # Empty when no text went out (a reset for a number no account uses): it never matches.
    code_digest = models.CharField(max_length=64, blank=True, editable=False)
    sent = models.BooleanField(_("sent"), default=False)
    client_address = models.CharField(_("network address"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("asked at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("texted code")
        verbose_name_plural = _("texted codes")
        indexes = [
            models.Index(fields=["phone_index", "created_at"], name="phonecode_phone_at"),
            models.Index(fields=["client_address", "created_at"], name="phonecode_address_at"),
        ]

    def __str__(self) -> str:
        return f"{self.phone_masked} · {self.get_purpose_display()}"

"""Writes of the accounts domain: API tokens, staff accounts and memberships."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anwang.accounts.choices import Role
from anwang.accounts.models import ApiToken, Membership, User
from anwang.audit.services import audit_record
from anwang.core.errors import ConflictError, ServiceError

TOKEN_PREFIX = "aw_"  # noqa: S105 - a public prefix that makes leaked tokens recognisable


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(
    *, actor: User | None, user: User, name: str = "", community_id: int | None = None
) -> tuple[ApiToken, str]:
    """Make a new API token for a user; the raw token is returned once and never stored."""
    if community_id is not None and not (
        user.is_superuser
        or Membership.objects.filter(user=user, community_id=community_id).exists()
        or Membership.objects.filter(user=user, region__communities__id=community_id).exists()
    ):
        raise ServiceError(_("The user has no role in that community."), field="community")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=raw[:10],
            digest=_digest(raw),
            community_id=community_id,
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            obj=token,
            changes={"user": user.pk, "community": community_id, "name": name},
        )
    return token, raw


def api_token_authenticate(*, raw_token: str) -> ApiToken | None:
    """The live token matching a raw bearer token, or ``None``."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw_token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy integration must not turn every read into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token; it stops working at once."""
    if token.revoked_at is not None:
        raise ConflictError(_("This token was already revoked."))
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action="api_token.revoke", obj=token)
    return token


def membership_grant(
    *,
    actor: User | None,
    user: User,
    role: Role,
    community_id: int | None = None,
    region_id: int | None = None,
) -> Membership:
    """Give a user a role in a community, or (supervisors) in a region."""
    if (community_id is None) == (region_id is None):
        raise ServiceError(_("Choose either a community or a street office."), field="community")
    if region_id is not None and role != Role.SUPERVISOR:
        raise ServiceError(
            _("Only supervisors hold a role for a whole street office."), field="role"
        )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, role=role, community_id=community_id, region_id=region_id
        )
        if created:
            audit_record(
                actor=actor,
                action="membership.grant",
                obj=membership,
                community_id=community_id,
                changes={"user": user.pk, "role": role.value, "region": region_id},
            )
    return membership


def membership_revoke(*, actor: User, membership: Membership) -> None:
    """Take a role away."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="membership.revoke",
            obj=membership,
            community_id=membership.community_id,
            changes={"user": membership.user_id, "role": membership.role},
        )
        membership.delete()


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    is_superuser: bool = False,
) -> User:
    """Create an account with a validated password."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if User.objects.filter(username__iexact=username).exists():
        raise ConflictError(_("That user name is taken."), field="username")
    candidate = User(username=username, display_name=display_name, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages), field="password") from error
    with transaction.atomic():
        candidate.set_password(password)
        candidate.is_superuser = is_superuser
        candidate.is_staff = is_superuser
        candidate.save()
        audit_record(
            actor=actor,
            action="user.create",
            obj=candidate,
            changes={"username": username, "is_superuser": is_superuser},
        )
    return candidate


def user_preferences_update(
    *,
    actor: User,
    user: User,
    large_text: bool | None = None,
    language: str | None = None,
    display_name: str | None = None,
) -> User:
    """Change a person's display preferences."""
    from anwang.audit.services import diff, snapshot

    fields = ["large_text", "preferred_language", "display_name"]
    before = snapshot(user, fields)
    if large_text is not None:
        user.large_text = large_text
    if language is not None:
        if language not in {"", "zh-hans", "en"}:
            raise ServiceError(_("Unknown language."), field="language")
        user.preferred_language = language
    if display_name is not None:
        user.display_name = display_name.strip()[:100]
    changes = diff(before, snapshot(user, fields))
    if changes:
        with transaction.atomic():
            user.save(update_fields=fields)
            audit_record(actor=actor, action="user.preferences", obj=user, changes=changes)
    return user

"""Writes of the accounts domain: logins and lockout, two-factor login, API tokens, accounts,
staff memberships."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import ApiToken, LoginFailure, Membership, User
from anwang.accounts.roles import COMMUNITY_STAFF_ROLES
from anwang.accounts.selectors import scope_for, scope_reset
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.context import current_meta
from anwang.core.errors import ConflictError, ServiceError, ThrottledError

TOKEN_PREFIX = "aw_"  # noqa: S105 - a public prefix that makes leaked tokens recognisable
TOTP_ISSUER = "Anwang"
# Failures older than this are of no use to the lockout; the audit log keeps the history.
LOGIN_FAILURE_KEEP = dt.timedelta(days=1)


# --- Logins and lockout ---------------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    """A refused login: which lock applies and when it ends."""

    reason: str  # "account" or "address"
    until: dt.datetime

    def minutes_left(self, now: dt.datetime | None = None) -> int:
        """Whole minutes until the lock ends, at least one."""
        seconds = (self.until - (now or timezone.now())).total_seconds()
        return max(1, math.ceil(seconds / 60))


class LoginLockedError(ServiceError):
    """Too many failed logins for the account or the client address.

    The message is the same whatever the password was: while locked, the password is not even
    checked, so the answer cannot leak whether it was right.
    """

    status = 429

    def __init__(self, lockout: Lockout) -> None:
        minutes = lockout.minutes_left()
        message = ngettext(
            "Too many failed logins for this account or from this network address. "
            "Logging in is paused; try again in %(minutes)d minute.",
            "Too many failed logins for this account or from this network address. "
            "Logging in is paused; try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        super().__init__(message, code="locked")
        self.lockout = lockout


def _login_key(username: str) -> str:
    # Case-folded, so that "Alice" and "alice" count against the same lock.
    return username.strip().casefold()[:150]


def _locked_until(failures: list[dt.datetime]) -> dt.datetime | None:
    """When a lock ends, given the most recent failures in the window, newest first."""
    if len(failures) < settings.ANWANG_LOCKOUT_FAILURES:
        return None
    window = dt.timedelta(seconds=settings.ANWANG_LOCKOUT_WINDOW_SECONDS)
    # The lock holds until the oldest of the last N failures leaves the window.
    return failures[settings.ANWANG_LOCKOUT_FAILURES - 1] + window


def _current_lockout(*, username: str, client_address: str, now: dt.datetime) -> Lockout | None:
    window_start = now - dt.timedelta(seconds=settings.ANWANG_LOCKOUT_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(at__gt=window_start).order_by("-at")
    limit = settings.ANWANG_LOCKOUT_FAILURES
    account_until = _locked_until(
        list(recent.filter(username=_login_key(username)).values_list("at", flat=True)[:limit])
    )
    address_until = None
    if client_address:  # an unknown address must not lock every other unknown address
        address_until = _locked_until(
            list(recent.filter(client_address=client_address).values_list("at", flat=True)[:limit])
        )
    candidates = [
        Lockout(reason, until)
        for reason, until in (("account", account_until), ("address", address_until))
        if until is not None and until > now
    ]
    return max(candidates, key=lambda lock: lock.until) if candidates else None


def _user_id_for(username: str) -> int | None:
    return (
        User.objects.filter(username__iexact=username.strip()).values_list("pk", flat=True).first()
    )


def login_check_lockout(
    *, username: str, client_address: str, now: dt.datetime | None = None
) -> Lockout | None:
    """The lock that refuses a login for this account or address now, if any; a refused
    attempt is audited as ``login.locked``."""
    now = now or timezone.now()
    lockout = _current_lockout(username=username, client_address=client_address, now=now)
    if lockout is not None:
        audit_record(
            actor=None,
            action="login.locked",
            object_type="accounts.user",
            object_id=_user_id_for(username) or "",
            object_repr=username[:150],
            changes={"username": username[:150], "lock": lockout.reason, "until": lockout.until},
        )
    return lockout


def login_failure_record(
    *, username: str, client_address: str, reason: str = "password", now: dt.datetime | None = None
) -> Lockout | None:
    """Count a failed login against the account and the address; returns the lock it
    triggered, if any."""
    now = now or timezone.now()
    with transaction.atomic():
        LoginFailure.objects.create(
            username=_login_key(username), client_address=client_address[:64], at=now
        )
        LoginFailure.objects.filter(at__lt=now - LOGIN_FAILURE_KEEP).delete()
        audit_record(
            actor=None,
            action="login.failure",
            object_type="accounts.user",
            object_id=_user_id_for(username) or "",
            object_repr=username[:150],
            changes={"username": username[:150], "reason": reason},
        )
    return _current_lockout(username=username, client_address=client_address, now=now)


def login_authenticate(*, username: str, password: str, client_address: str) -> User:
    """The user a user name and password belong to, unless the account or address is locked.

    Raises :class:`LoginLockedError` while locked (without checking the password) and
    :class:`ServiceError` for a wrong user name or password, which also counts as a failure.
    """
    lockout = login_check_lockout(username=username, client_address=client_address)
    if lockout is not None:
        raise LoginLockedError(lockout)
    user = authenticate(None, username=username, password=password)
    if not isinstance(user, User):
        lockout = login_failure_record(username=username, client_address=client_address)
        if lockout is not None:
            raise LoginLockedError(lockout)
        raise ServiceError(
            _("Please enter a correct user name and password. Both are case-sensitive."),
            code="invalid_login",
        )
    return user


def login_success(*, user: User) -> None:
    """Record a completed login (after the second factor, if any) and clear the account's
    failed attempts."""
    with transaction.atomic():
        LoginFailure.objects.filter(username=_login_key(user.username)).delete()
        audit_record(
            actor=user,
            action="login.success",
            obj=user,
            changes={"two_factor": user.totp_enabled},
        )


def login_failures_clear(*, actor: User, username: str = "", client_address: str = "") -> int:
    """Lift a lock early by forgetting the failed logins of an account or an address."""
    if not actor.is_superuser:
        raise PermissionDenied
    if not username and not client_address:
        raise ServiceError(_("Name an account or a network address."), field="username")
    failures = LoginFailure.objects.all()
    if username:
        failures = failures.filter(username=_login_key(username))
    if client_address:
        failures = failures.filter(client_address=client_address)
    with transaction.atomic():
        count, _deleted = failures.delete()
        audit_record(
            actor=actor,
            action="login.unlock",
            object_type="accounts.loginfailure",
            object_repr=username or client_address,
            changes={"username": username, "client_address": client_address, "cleared": count},
        )
    return count


# --- Two-factor login (TOTP) ----------------------------------------------------------------


def totp_provisioning_uri(user: User) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    uri: str = pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.get_username(), issuer_name=TOTP_ISSUER
    )
    return uri


def _totp_step(secret: str, code: str, now: dt.datetime | None = None) -> int | None:
    """The time step a six-digit code is valid for, within one step either side of now."""
    code = "".join(code.split())
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current: int = totp.timecode(now or timezone.now())
    # Equivalent to ``totp.verify(code, valid_window=1)``, but we need the matching step to
    # refuse the same code twice.
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _bad_code() -> ServiceError:
    return ServiceError(
        _("That code is not valid. Enter the current six-digit code from your app."),
        field="code",
    )


def totp_setup_begin(*, actor: User, user: User) -> str:
    """Give a staff member a new two-factor secret to scan; it counts only once confirmed."""
    if user.totp_enabled:
        raise ConflictError(_("Two-factor login is already on."))
    if not scope_for(user).is_staff_member:
        raise ServiceError(_("Two-factor login is offered to staff accounts."))
    if user.totp_secret:  # a second tab or a reload shows the same pending secret
        return user.totp_secret
    with transaction.atomic():
        user.totp_secret = pyotp.random_base32()
        user.save(update_fields=["totp_secret"])
        audit_record(
            actor=actor,
            action="user.totp_setup",
            obj=user,
            changes=diff({"totp_secret": ""}, {"totp_secret": "new"}, redact=["totp_secret"]),
        )
    return user.totp_secret


def totp_enable(*, actor: User, user: User, code: str) -> User:
    """Switch two-factor login on after the person proves their app shows the right code."""
    if user.totp_enabled:
        raise ConflictError(_("Two-factor login is already on."))
    if not user.totp_secret:
        raise ConflictError(_("Start the two-factor set-up again."))
    step = _totp_step(user.totp_secret, code)
    if step is None:
        raise _bad_code()
    with transaction.atomic():
        user.totp_enabled = True
        user.totp_last_step = step
        user.save(update_fields=["totp_enabled", "totp_last_step"])
        audit_record(
            actor=actor,
            action="user.totp_enable",
            obj=user,
            changes={"totp_enabled": [False, True]},
        )
    return user


def totp_verify(*, user: User, code: str) -> bool:
    """Whether a code is valid for the user and not used before; a valid one is used up."""
    with transaction.atomic():
        # Row lock: two requests racing with the same code must not both pass.
        current = User.objects.select_for_update().get(pk=user.pk)
        step = _totp_step(current.totp_secret, code)
        if not current.totp_enabled or step is None or step <= current.totp_last_step:
            return False
        # Bookkeeping of the used step only; the login itself is audited by login_success.
        User.objects.filter(pk=user.pk).update(totp_last_step=step)
        user.totp_last_step = step
    return True


def login_second_factor(*, user: User, code: str, client_address: str) -> None:
    """Check the code of the second login step; a wrong code counts as a failed login, so the
    six digits cannot be guessed by trying them all."""
    lockout = login_check_lockout(username=user.username, client_address=client_address)
    if lockout is not None:
        raise LoginLockedError(lockout)
    if not totp_verify(user=user, code=code):
        lockout = login_failure_record(
            username=user.username, client_address=client_address, reason="code"
        )
        if lockout is not None:
            raise LoginLockedError(lockout)
        raise _bad_code()


def totp_disable(*, actor: User, user: User, code: str) -> User:
    """Switch two-factor login off; needs a current code, so a stolen session cannot."""
    if not user.totp_enabled:
        raise ConflictError(_("Two-factor login is already off."))
    if not totp_verify(user=user, code=code):
        raise _bad_code()
    return _totp_clear(actor=actor, user=user, action="user.totp_disable")


def totp_reset(*, actor: User, user: User) -> User:
    """Switch off a person's two-factor login when they lost their phone (platform admin)."""
    if not actor.is_superuser:
        raise PermissionDenied
    return _totp_clear(actor=actor, user=user, action="user.totp_reset")


def _totp_clear(*, actor: User, user: User, action: str) -> User:
    with transaction.atomic():
        was_enabled = user.totp_enabled
        user.totp_secret = ""
        user.totp_enabled = False
        user.totp_last_step = 0
        user.save(update_fields=["totp_secret", "totp_enabled", "totp_last_step"])
        audit_record(
            actor=actor, action=action, obj=user, changes={"totp_enabled": [was_enabled, False]}
        )
    return user


# --- API tokens -----------------------------------------------------------------------------


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(
    *,
    actor: User | None,
    user: User,
    name: str = "",
    community_id: int | None = None,
    within_community_id: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a new API token for a user; the raw token is returned once and never stored.

    ``within_community_id`` is the community the request's own token is limited to: a limited
    token may only make tokens limited the same way, never one that sees more.
    """
    if within_community_id is not None:
        if community_id not in (None, within_community_id):
            raise ServiceError(
                _("A token limited to one community can only create tokens for that community."),
                field="community",
            )
        community_id = within_community_id
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
            name=name.strip()[:100],
            prefix=raw[:10],
            digest=_digest(raw),
            community_id=community_id,
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            obj=token,
            changes={"user": user.pk, "community": community_id, "name": token.name},
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


def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    """Revoke a token; it stops working at once."""
    if token.revoked_at is not None:
        raise ConflictError(_("This token was already revoked."))
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action="api_token.revoke", obj=token)
    return token


# --- Memberships ----------------------------------------------------------------------------


def membership_validate(*, role: str, community_id: int | None, region_id: int | None) -> None:
    """Check the shape of a membership: a community role, or a supervisor's street office."""
    if (community_id is None) == (region_id is None):
        raise ServiceError(_("Choose either a community or a street office."), field="community")
    if region_id is not None and role != Role.SUPERVISOR:
        raise ServiceError(
            _("Only supervisors hold a role for a whole street office."), field="role"
        )
    if community_id is not None and role == Role.SUPERVISOR:
        raise ServiceError(
            _("A supervisor's role is for a street office, not a community."), field="role"
        )


def membership_grant(
    *,
    actor: User | None,
    user: User,
    role: Role,
    community_id: int | None = None,
    region_id: int | None = None,
) -> Membership:
    """Give a user a role in a community, or (supervisors) in a region.

    No permission check: callers acting for a person use :func:`staff_membership_grant`.
    """
    membership_validate(role=role, community_id=community_id, region_id=region_id)
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
                changes={"user": user.pk, "role": Role(role).value, "region": region_id},
            )
    scope_reset(user)
    return membership


def membership_revoke(*, actor: User | None, membership: Membership) -> None:
    """Take a role away.

    No permission check: callers acting for a person use :func:`staff_membership_revoke`.
    """
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="membership.revoke",
            obj=membership,
            community_id=membership.community_id,
            changes={"user": membership.user_id, "role": membership.role},
        )
        membership.delete()
    scope_reset(membership.user)


def _require_staff_manager(actor: User, community_id: int) -> None:
    # 404 rather than 403: another community's staff list is not even acknowledged.
    scope_for(actor).require(Permission.MANAGE_STAFF, community_id)


def _grantable_role(role: str) -> Role:
    if role not in {r.value for r in COMMUNITY_STAFF_ROLES}:
        raise ServiceError(_("This role cannot be given here."), field="role")
    return Role(role)


def staff_membership_grant(*, actor: User, community_id: int, user: User, role: str) -> Membership:
    """Give a person who already belongs to the community a staff or volunteer role."""
    _require_staff_manager(actor, community_id)
    granted_role = _grantable_role(role)
    memberships = Membership.objects.filter(user=user, community_id=community_id)
    if not memberships.exists():
        raise ServiceError(
            _("This person does not belong to the community. Create a staff account instead."),
            field="user",
        )
    if memberships.filter(role=granted_role).exists():
        raise ConflictError(_("This person already has that role."), field="role")
    return membership_grant(actor=actor, user=user, role=granted_role, community_id=community_id)


def staff_membership_revoke(*, actor: User, membership: Membership) -> None:
    """Take a staff or volunteer role away in a community the actor manages."""
    if membership.community_id is None:
        raise Http404  # street-office roles are the platform admin's, through the admin site
    _require_staff_manager(actor, membership.community_id)
    if membership.role not in {r.value for r in COMMUNITY_STAFF_ROLES}:
        raise ServiceError(_("This role cannot be taken away here."), field="role")
    if membership.user_id == actor.pk and membership.role == Role.COMMUNITY_ADMIN:
        raise ConflictError(
            _("You cannot take away your own admin role; ask another admin."), field="role"
        )
    membership_revoke(actor=actor, membership=membership)


def staff_account_create(
    *,
    actor: User,
    community_id: int,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    email: str = "",
) -> Membership:
    """Create an account for a new staff member or volunteer with a role in the community."""
    _require_staff_manager(actor, community_id)
    granted_role = _grantable_role(role)
    with transaction.atomic():
        user = user_create(
            actor=actor,
            username=username,
            password=password,
            display_name=display_name,
            email=email,
        )
        return membership_grant(
            actor=actor, user=user, role=granted_role, community_id=community_id
        )


# --- Accounts -------------------------------------------------------------------------------


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    is_superuser: bool = False,
) -> User:
    """Create an account with a validated user name, email address and password."""
    username = username.strip()
    email = email.strip()
    if not username:
        raise ServiceError(_("Enter a user name."), field="username")
    if len(username) > 150:
        raise ServiceError(_("Use at most 150 characters for the user name."), field="username")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages), field="username") from error
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise ServiceError(" ".join(error.messages), field="email") from error
    if User.objects.filter(username__iexact=username).exists():
        raise ConflictError(_("That user name is taken."), field="username")
    candidate = User(username=username, display_name=display_name.strip()[:100], email=email)
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
            changes={"username": username, "email": email, "is_superuser": is_superuser},
        )
    return candidate


def _signup_throttle() -> None:
    """Refuse a sign-up when the client address already made the hour's allowance of accounts:
    sign-up is open to anyone, so it must not become a way to fill the database."""
    from anwang.audit.models import AuditEvent

    limit = settings.ANWANG_SIGNUPS_PER_HOUR
    if limit == 0:
        raise ServiceError(_("Sign-up is turned off here. Ask your community office."))
    address = current_meta().client_address
    if not address:
        return
    recent = AuditEvent.objects.filter(
        action="user.create",
        actor_id__isnull=True,
        client_address=address,
        at__gte=timezone.now() - dt.timedelta(hours=1),
    ).count()
    if recent >= limit:
        raise ThrottledError(
            _("Too many new accounts were made from this network. Try again in an hour.")
        )


def user_signup(*, username: str, password: str, display_name: str, email: str) -> User:
    """A resident makes their own account; it has no role until a household binding is
    approved."""
    _signup_throttle()
    email = email.strip()
    if not display_name.strip():
        raise ServiceError(_("Enter the name others should see."), field="display_name")
    if not email:
        raise ServiceError(
            _("Enter an email address; it is how you reset a forgotten password."),
            field="email",
        )
    if User.objects.filter(email__iexact=email).exists():
        raise ConflictError(
            _(
                "An account with this email address exists. Use “Forgot your password?” to get "
                "back into it."
            ),
            field="email",
        )
    # Anonymous actor: the audit entry carries the client address of the sign-up.
    return user_create(
        actor=None,
        username=username,
        password=password,
        display_name=display_name,
        email=email,
    )


def user_password_set(
    *, actor: User | None, user: User, password: str, via_reset: bool = False
) -> User:
    """Set a new password (change or emailed reset), validated; failed logins are forgotten."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages), field="password") from error
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        # Whoever proved to own the account may log in again at once.
        LoginFailure.objects.filter(username=_login_key(user.username)).delete()
        audit_record(
            actor=actor,
            action="user.password_set",
            obj=user,
            changes={"password": ["(hidden)", "(hidden)"], "via_reset": via_reset},
        )
    return user


def user_preferences_update(
    *,
    actor: User,
    user: User,
    large_text: bool | None = None,
    language: str | None = None,
    display_name: str | None = None,
) -> User:
    """Change a person's display preferences."""
    fields = ["large_text", "preferred_language", "display_name"]
    before = snapshot(user, fields)
    if large_text is not None:
        user.large_text = large_text
    if language is not None:
        if language not in {"", *(code for code, _name in settings.LANGUAGES)}:
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

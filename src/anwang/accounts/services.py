"""Writes of the accounts domain: logins and lockout, two-factor login, API tokens, accounts,
staff memberships."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
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
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from anwang.accounts.choices import Permission, PhoneCodePurpose, Role
from anwang.accounts.models import (
    ApiToken,
    LoginFailure,
    Membership,
    PhoneCode,
    User,
)
from anwang.accounts.roles import COMMUNITY_STAFF_ROLES
from anwang.accounts.selectors import scope_for, scope_reset
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.context import current_meta
from anwang.core.crypto import blind_index
from anwang.core.errors import ConflictError, ServiceError, ThrottledError
from anwang.notifications.channels import sms
from anwang.notifications.channels.base import ChannelSettings
from anwang.notifications.channels.http import ChannelError
from anwang.notifications.choices import Channel
from anwang.notifications.models import ChannelConfig, NotificationPreference
from anwang.notifications.sending import personal_channel_config
from anwang.notifications.services import MOBILE_RE, preference_set

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


def user_signup(
    *,
    username: str,
    password: str,
    display_name: str,
    email: str,
    phone: str = "",
    phone_code: str = "",
) -> User:
    """A resident makes their own account; it has no role until a household binding is
    approved. A mobile number, if given, must be proved with the code texted to it
    (:func:`phone_code_send`) and is saved as the number for SMS and calls."""
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
    verified: PhoneCode | None = None
    if phone.strip():
        if sms_settings(purpose=PhoneCodePurpose.SIGN_UP) is None:
            raise ServiceError(
                _("Sign-up with a mobile number is not offered here."), field="phone"
            )
        # Checked before the account is made so that a wrong code counts even though the
        # sign-up fails; used only in the transaction that makes the account, so that a taken
        # user name does not waste a good code.
        verified = phone_code_check(phone=phone, purpose=PhoneCodePurpose.SIGN_UP, code=phone_code)
    with transaction.atomic():
        if verified is not None:
            _phone_code_use(verified)
        # Anonymous actor: the audit entry carries the client address of the sign-up.
        user = user_create(
            actor=None,
            username=username,
            password=password,
            display_name=display_name,
            email=email,
        )
        if verified is not None:
            preference_set(user=user, phone=phone_normalise(phone))
    return user


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


# --- Codes texted to a mobile number --------------------------------------------------------

PHONE_CODE_DIGITS = 6
PHONE_CODE_TTL = dt.timedelta(minutes=10)
PHONE_CODE_MAX_ATTEMPTS = 5
# One code a minute and five an hour per number (a texted code costs money and can be used to
# pester someone), five an hour per client address (to stop enumerating numbers).
PHONE_CODE_RESEND = dt.timedelta(seconds=60)
PHONE_CODES_PER_HOUR = 5
# Rows older than this are of no use to the throttle or a check; the audit log keeps the history.
PHONE_CODE_KEEP = dt.timedelta(days=1)


def phone_normalise(phone: str) -> str:
    """A mainland mobile number as 11 digits (spaces, dashes and ``+86`` dropped), or a
    :class:`ServiceError` on ``phone``."""
    number = re.sub(r"[\s-]", "", phone or "").removeprefix("+86")
    if not MOBILE_RE.match(number):
        raise ServiceError(_("Enter a mainland mobile number (11 digits)."), field="phone")
    return number


def phone_mask(number: str) -> str:
    """A number as shown back to people and in the audit log: ``138****8000``."""
    return f"{number[:3]}****{number[-4:]}"


def _sms_config_settings(config: ChannelConfig, purpose: str) -> ChannelSettings | None:
    channel = ChannelSettings(
        config_id=config.pk, settings=dict(config.settings), secret=config.secret
    )
    try:
        # The same lookup send_code makes: a code never goes out in another template.
        sms.template_for(channel, f"code.{purpose}", "code", use_default=False)
    except ChannelError:
        return None
    return channel


def sms_settings(*, purpose: str, community_id: int | None = None) -> ChannelSettings | None:
    """The SMS gateway that texts codes for ``purpose``: the community's, else the platform's
    (as for every personal channel); ``None`` when there is none or it has no code template."""
    config = personal_channel_config(Channel.SMS, community_id)
    return None if config is None else _sms_config_settings(config, purpose)


def phone_codes_offered(*, purpose: str) -> bool:
    """Whether any SMS gateway (a community's or the platform's) can text codes for
    ``purpose``: pages offer a mobile number only then."""
    configs = ChannelConfig.objects.filter(channel=Channel.SMS, is_enabled=True).order_by("pk")
    return any(_sms_config_settings(config, purpose) is not None for config in configs)


def _code_digest(phone_index: str, purpose: str, code: str) -> str:
    # Keyed: a copy of the database alone cannot try the million codes against the digest.
    return salted_hmac("anwang.accounts.phone_code", f"{phone_index}:{purpose}:{code}").hexdigest()


def _users_with_phone(number: str) -> list[User]:
    """Active accounts whose notification preferences give this mobile number."""
    ids = list(
        NotificationPreference.objects.filter(
            user__is_active=True, phone_index=blind_index(number)
        ).values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=ids).order_by("pk")) if ids else []


def _phone_code_throttle(*, phone_index: str, client_address: str, now: dt.datetime) -> None:
    recent = PhoneCode.objects.filter(created_at__gt=now - dt.timedelta(hours=1))
    for_number = recent.filter(phone_index=phone_index)
    last = for_number.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None and now - last < PHONE_CODE_RESEND:
        seconds = max(1, math.ceil((last + PHONE_CODE_RESEND - now).total_seconds()))
        raise ThrottledError(
            ngettext(
                "A code was just sent to this number. Wait %(seconds)d second before asking "
                "for another.",
                "A code was just sent to this number. Wait %(seconds)d seconds before asking "
                "for another.",
                seconds,
            )
            % {"seconds": seconds},
            field="phone",
            code="throttled",
        )
    if for_number.count() >= PHONE_CODES_PER_HOUR:
        raise ThrottledError(
            _("Too many codes were sent to this number in the last hour. Try again later."),
            field="phone",
            code="throttled",
        )
    # An unknown address must not throttle every other unknown address.
    if client_address and recent.filter(client_address=client_address).count() >= (
        PHONE_CODES_PER_HOUR
    ):
        raise ThrottledError(
            _("Too many codes were asked for from this network address. Try again later."),
            field="phone",
            code="throttled",
        )


def _first_community_of(user: User) -> int | None:
    return (
        Membership.objects.filter(user=user, community__isnull=False)
        .order_by("pk")
        .values_list("community_id", flat=True)
        .first()
    )


def phone_code_send(
    *, phone: str, purpose: str, client_address: str, now: dt.datetime | None = None
) -> PhoneCode:
    """Text a six-digit code, valid ten minutes, to a mobile number; throttled per number and
    per client address.

    For a password reset the code goes out only when an active account uses the number, yet
    the answer (and what is stored, throttled and checked later) is the same either way, so
    that nobody learns which numbers have accounts. A sign-up code that could not be sent is a
    :class:`ServiceError`.
    """
    purpose = PhoneCodePurpose(purpose)
    number = phone_normalise(phone)
    now = now or timezone.now()
    index = blind_index(number)
    _phone_code_throttle(phone_index=index, client_address=client_address, now=now)
    channel: ChannelSettings | None
    if purpose == PhoneCodePurpose.SIGN_UP:
        channel = sms_settings(purpose=purpose)
        if channel is None:
            raise ServiceError(_("Codes by text message are not set up here."), field="phone")
        reason = ""
    else:
        users = _users_with_phone(number)
        channel = (
            sms_settings(purpose=purpose, community_id=_first_community_of(users[0]))
            if users
            else None
        )
        reason = "" if channel else ("no SMS gateway" if users else "no account")
    code = f"{secrets.randbelow(10**PHONE_CODE_DIGITS):0{PHONE_CODE_DIGITS}d}"
    with transaction.atomic():
        PhoneCode.objects.filter(created_at__lt=now - PHONE_CODE_KEEP).delete()
        row = PhoneCode.objects.create(
            phone_index=index,
            phone_masked=phone_mask(number),
            purpose=purpose,
            code_digest="",
            client_address=client_address[:64],
            created_at=now,
            expires_at=now + PHONE_CODE_TTL,
        )
    # Outside any transaction: the gateway may take seconds to answer.
    if channel is not None:
        outcome = sms.send_code(number, code, purpose.value, channel)
        if outcome.status == "failed":
            reason = outcome.error[:200] or "failed"
    with transaction.atomic():
        if channel is not None and not reason:
            row.sent = True
            row.code_digest = _code_digest(index, purpose, code)
            row.save(update_fields=["sent", "code_digest"])
        audit_record(
            actor=None,
            action="phone_code.send",
            obj=row,
            changes={"purpose": purpose.value, "sent": row.sent, "reason": reason},
        )
    if purpose == PhoneCodePurpose.SIGN_UP and not row.sent:
        raise ServiceError(
            _("The text message could not be sent. Check the number, or try again in a minute."),
            field="phone",
        )
    return row


def _code_expired() -> ServiceError:
    return ServiceError(
        _("This code has expired or was already used. Ask for a new one."),
        field="code",
        code="expired",
    )


def _code_dead() -> ServiceError:
    return ServiceError(
        _("Too many wrong codes. Ask for a new one."), field="code", code="too_many_attempts"
    )


def phone_code_check(
    *, phone: str, purpose: str, code: str, now: dt.datetime | None = None
) -> PhoneCode:
    """The newest code texted to the number for ``purpose``, if ``code`` is it and it is still
    good; a wrong code counts, and after five the code is dead. The code is not used up here:
    the caller does that with the change it proves (:func:`_phone_code_use`)."""
    number = phone_normalise(phone)
    code = "".join(code.split())
    if not re.fullmatch(rf"\d{{{PHONE_CODE_DIGITS}}}", code):
        raise ServiceError(_("Enter the six-digit code from the text message."), field="code")
    now = now or timezone.now()
    index = blind_index(number)
    row = (
        PhoneCode.objects.filter(phone_index=index, purpose=purpose)
        .order_by("-created_at", "-pk")
        .first()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise _code_expired()
    if row.attempts >= PHONE_CODE_MAX_ATTEMPTS:
        raise _code_dead()
    expected = _code_digest(index, purpose, code)
    # A code that was never sent has no digest and matches nothing, with the same answers.
    if row.code_digest and hmac.compare_digest(row.code_digest, expected):
        return row
    counted = PhoneCode.objects.filter(pk=row.pk, attempts__lt=PHONE_CODE_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    left = PHONE_CODE_MAX_ATTEMPTS - row.attempts - 1
    if not counted or left <= 0:
        raise _code_dead()
    raise ServiceError(
        ngettext(
            "That code is wrong. You have %(left)d more try.",
            "That code is wrong. You have %(left)d more tries.",
            left,
        )
        % {"left": left},
        field="code",
        code="wrong",
    )


def _phone_code_use(row: PhoneCode, *, actor: User | None = None) -> None:
    """Use up a checked code, once (a second request with the same code loses the race)."""
    now = timezone.now()
    used = PhoneCode.objects.filter(
        pk=row.pk, used_at__isnull=True, attempts__lt=PHONE_CODE_MAX_ATTEMPTS
    ).update(used_at=now)
    if not used:
        raise _code_expired()
    row.used_at = now
    audit_record(actor=actor, action="phone_code.use", obj=row, changes={"purpose": row.purpose})


def user_password_reset_by_code(
    *, phone: str, code: str, password: str, username: str = "", now: dt.datetime | None = None
) -> User:
    """Set a new password for the account that uses a mobile number, proved by the code texted
    to it; like the emailed reset, the person's sessions end and their failed logins are
    forgotten. ``username`` picks the account when several use the number."""
    row = phone_code_check(phone=phone, purpose=PhoneCodePurpose.PASSWORD_RESET, code=code, now=now)
    # Only someone holding a good code gets this far, so naming accounts reveals nothing.
    users = _users_with_phone(phone_normalise(phone))
    wanted = username.strip().casefold()
    if wanted:
        users = [user for user in users if user.username.casefold() == wanted]
    if not users:
        raise ServiceError(
            _("No account with this user name uses this number.")
            if wanted
            else _("No account uses this number any more."),
            field="username" if wanted else "phone",
        )
    if len(users) > 1:
        raise ServiceError(
            _(
                "Several accounts use this number. Enter the user name of the one whose "
                "password you want to reset."
            ),
            field="username",
        )
    user = users[0]
    with transaction.atomic():
        _phone_code_use(row, actor=user)
        # Validates first: a refused password rolls back the use, and the code still works.
        # The new password hash ends every session (Django checks it on each request).
        return user_password_set(actor=user, user=user, password=password, via_reset=True)

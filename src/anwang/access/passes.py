"""Visitor passes and the guard's gate log: services and selectors.

A resident registers a visitor for a household they live in; the visitor gets a signed QR
pass for a time window and a number of entries, and a registered car plate opens the
barrier in that window.

Passes are signed with Ed25519, not an HMAC: the server keeps the private key, and gate
devices verify passes with the public key (``GET /api/v1/access/passes/public-key``), so a
device that is stolen or read out cannot make passes. What a device can check by itself
(:func:`pass_verify_offline`) is the signature and the window; revocation and the entries
left need the server (:func:`pass_admit`), which counts an entry with one conditional
``UPDATE`` so that concurrent scans never let in more than the pass allows.

A token is ``AWP1.`` and the unpadded base64url of a 29-byte payload and its 64-byte
signature (129 characters, a version 7 QR code at medium error correction):

=====  =====  ==========================================================
bytes  type   field
=====  =====  ==========================================================
1      u8     format version (1)
4      u32    pass id
4      u32    community id
12     bytes  the pass's nonce (a new nonce makes old QR codes useless)
4      u32    valid from (unix seconds)
4      u32    valid until (unix seconds)
=====  =====  ==========================================================

The signature covers ``b"AWP1." + payload``. Everything is big-endian.

Limits (the reasons are in the constants' comments): a window of at most 7 days, starting
at most 30 days ahead; 1 to 20 entries; a mainland mobile number; a plate checked as a plate
credential is.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import secrets
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.access.choices import AccessCredentialKind, AccessMethod, AccessResult, GateEntryKind
from anwang.access.models import AccessEvent, AccessPoint, GateLogEntry, VisitorPass
from anwang.access.services import access_record, normalise_plate, normalise_value
from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, service_scope
from anwang.accounts.services import phone_normalise
from anwang.audit.services import audit_record
from anwang.core.crypto import blind_index
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import clean_aware, clean_text
from anwang.people.choices import BindingStatus
from anwang.people.masking import mask_phone
from anwang.people.models import HouseholdBinding, HouseholdMember
from anwang.places.models import Community, Household

TOKEN_PREFIX: Final = "AWP1."  # noqa: S105 - a format marker, not a secret
_VERSION: Final = 1
_PAYLOAD: Final = struct.Struct(">BII12sII")
_SIGNATURE_BYTES: Final = 64
_NONCE_BYTES: Final = 12
KEY_FILE_NAME: Final = "pass-signing.key"

# A pass is for a visit, not a standing permission: a week covers a relative staying over;
# anything longer should be a resident's credential, which has its own review.
MAX_WINDOW: Final = dt.timedelta(days=7)
# Registering further ahead than a month is more likely a mistake than a plan.
MAX_LEAD: Final = dt.timedelta(days=30)
# A window's start may be a little in the past (the form's "now" was filled in a minute ago).
PAST_START_GRACE: Final = dt.timedelta(hours=1)
# Enough for daily visits over the week; entries_used is a small integer in the database.
MAX_ENTRIES: Final = 20


class PassReason:
    """Why a pass check ended as it did (the ``reason`` of the access record and the API)."""

    OK = "ok"
    MALFORMED = "malformed"
    FORGED = "forged"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED_UP = "used_up"
    UNKNOWN = "unknown_pass"
    WRONG_COMMUNITY = "wrong_community"
    POINT_CLOSED = "access_point_inactive"


def reason_text(reason: str) -> str:
    """What a guard or a gate device shows for a check's outcome."""
    texts = {
        PassReason.OK: _("Valid pass: let the visitor in."),
        PassReason.MALFORMED: _("This is not an Anwang visitor pass."),
        PassReason.FORGED: _("The pass's signature is wrong: it is forged or damaged."),
        PassReason.NOT_YET_VALID: _("The pass is not valid yet."),
        PassReason.EXPIRED: _("The pass has expired."),
        PassReason.REVOKED: _("The pass was revoked."),
        PassReason.USED_UP: _("The pass has no entries left."),
        PassReason.UNKNOWN: _("There is no such pass."),
        PassReason.WRONG_COMMUNITY: _("The pass is for another community."),
        PassReason.POINT_CLOSED: _("This access point is not in use."),
    }
    return texts.get(reason, reason)


@dataclass(frozen=True)
class PassClaims:
    """What a token says, once its signature has been checked."""

    pass_id: int
    community_id: int
    nonce: str
    valid_from: dt.datetime
    valid_until: dt.datetime


@dataclass(frozen=True)
class PassCheck:
    """The outcome of checking a pass: ``ok`` and why, the token's claims when it was
    genuine, and (online checks) the pass and the entries it has left."""

    ok: bool
    reason: str
    claims: PassClaims | None = None
    visitor_pass: VisitorPass | None = None
    entries_left: int | None = None
    event: AccessEvent | None = None

    @property
    def message(self) -> str:
        """The outcome in words."""
        return reason_text(self.reason)


# --------------------------------------------------------------------------- the signing key


def _key_path() -> Path:
    return Path(settings.HOME) / KEY_FILE_NAME


def _create_key_file(path: Path) -> None:
    """Write a new private key (owner-readable only); the first of two racing writers wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


@lru_cache(maxsize=4)
def _load_key(configured: str, path: str) -> Ed25519PrivateKey:
    if configured:
        data = configured.encode("ascii")
    else:
        if not os.path.exists(path):
            _create_key_file(Path(path))
        data = Path(path).read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the pass signing key is not an Ed25519 key")
    return key


def signing_key() -> Ed25519PrivateKey:
    """The pass signing key: ``settings.ANWANG_PASS_SIGNING_KEY`` (PEM) when set, else the one
    generated once into ``<home>/pass-signing.key``."""
    configured = str(getattr(settings, "ANWANG_PASS_SIGNING_KEY", "") or "")
    return _load_key(configured, str(_key_path()))


def public_key() -> Ed25519PublicKey:
    """The key gate devices verify passes with."""
    return signing_key().public_key()


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_key_pem() -> str:
    """The public key as PEM (SubjectPublicKeyInfo)."""
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def public_key_id() -> str:
    """A short name of the key (the first 16 hex digits of the SHA-256 of its raw bytes)."""
    return hashlib.sha256(_raw_public(public_key())).hexdigest()[:16]


def public_key_jwk() -> dict[str, str]:
    """The public key as a JSON Web Key (RFC 8037)."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw_public(public_key())),
        "kid": public_key_id(),
        "use": "sig",
        "alg": "EdDSA",
    }


# --------------------------------------------------------------------------- tokens


def _unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def pass_token(visitor_pass: VisitorPass, *, key: Ed25519PrivateKey | None = None) -> str:
    """The signed token a pass's QR code carries."""
    payload = _PAYLOAD.pack(
        _VERSION,
        visitor_pass.pk,
        visitor_pass.community_id,
        bytes.fromhex(visitor_pass.nonce),
        _unix(visitor_pass.valid_from),
        _unix(visitor_pass.valid_until),
    )
    signature = (key or signing_key()).sign(TOKEN_PREFIX.encode() + payload)
    return TOKEN_PREFIX + _b64url(payload + signature)


def _decode(token: str, key: Ed25519PublicKey) -> PassClaims | str:
    """The claims of a genuine token, else the reason it is not one."""
    text = (token or "").strip()
    if not text.startswith(TOKEN_PREFIX) or len(text) > 200:
        return PassReason.MALFORMED
    body = text[len(TOKEN_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return PassReason.MALFORMED
    if len(raw) != _PAYLOAD.size + _SIGNATURE_BYTES:
        return PassReason.MALFORMED
    payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    try:
        key.verify(signature, TOKEN_PREFIX.encode() + payload)
    except InvalidSignature:
        return PassReason.FORGED
    version, pass_id, community_id, nonce, start, end = _PAYLOAD.unpack(payload)
    if version != _VERSION:
        return PassReason.MALFORMED
    return PassClaims(
        pass_id=pass_id,
        community_id=community_id,
        nonce=nonce.hex(),
        valid_from=dt.datetime.fromtimestamp(start, tz=dt.UTC),
        valid_until=dt.datetime.fromtimestamp(end, tz=dt.UTC),
    )


def pass_verify_offline(
    token: str, *, now: dt.datetime, key: Ed25519PublicKey | None = None
) -> PassCheck:
    """Check a token the way a gate device can without the server: the signature (with the
    public key) and the window. Revocation and entries left are not known here."""
    decoded = _decode(token, key or public_key())
    if isinstance(decoded, str):
        return PassCheck(ok=False, reason=decoded)
    if now < decoded.valid_from:
        return PassCheck(ok=False, reason=PassReason.NOT_YET_VALID, claims=decoded)
    if now > decoded.valid_until:
        return PassCheck(ok=False, reason=PassReason.EXPIRED, claims=decoded)
    return PassCheck(ok=True, reason=PassReason.OK, claims=decoded)


# --------------------------------------------------------------------------- who may host


def _scope(actor: User | None, scope: Scope | None) -> Scope | None:
    return service_scope(actor, scope)


def hosted_household_ids(user: User | None) -> set[int]:
    """Households a person may register visitors for: those their account is bound to
    (approved) and those their resident record currently lives in."""
    if user is None:
        return set()
    bound = HouseholdBinding.objects.filter(user=user, status=BindingStatus.APPROVED).values_list(
        "household_id", flat=True
    )
    lives = HouseholdMember.objects.filter(
        resident__user=user, resident__moved_out_at__isnull=True, until__isnull=True
    ).values_list("household_id", flat=True)
    return set(bound) | set(lives)


def may_host(scope: Scope | None, household: Household) -> bool:
    """Whether the caller may register (and revoke) visitors of a household: its residents,
    and access managers of its community (registering for a resident who phoned)."""
    if scope is None:
        return True
    if scope.token_community_id not in (None, household.community_id):
        return False
    if scope.has(Permission.MANAGE_ACCESS, household.community_id):
        return True
    return household.pk in hosted_household_ids(scope.user)


def hosted_households(scope: Scope) -> list[Household]:
    """The households the caller may register visitors for (a resident's own first)."""
    ids = hosted_household_ids(scope.user)
    households = Household.objects.filter(pk__in=ids).select_related("unit__building")
    if scope.token_community_id is not None:
        households = households.filter(community_id=scope.token_community_id)
    return list(households.order_by("community_id", "pk"))


# --------------------------------------------------------------------------- cleaning


def plate_normalise(plate: str, *, field: str = "plate") -> str:
    """A licence plate as credentials store it (:func:`anwang.access.services.normalise_plate`:
    capitals, no spaces or dots), checked like a plate credential; ``""`` stays ``""``."""
    if not normalise_plate(plate):
        return ""
    return normalise_value(AccessCredentialKind.PLATE, plate, field=field)


def _clean_phone(phone: str, *, field: str, required: bool) -> str:
    if not (phone or "").strip():
        if required:
            raise ServiceError(_("Enter the visitor's mobile number."), field=field)
        return ""
    try:
        return phone_normalise(phone)
    except ServiceError as error:
        raise ServiceError(error.message, field=field) from error


def _clean_window(
    valid_from: Any, valid_until: Any, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    start = clean_aware("valid_from", valid_from).replace(microsecond=0)
    end = clean_aware("valid_until", valid_until).replace(microsecond=0)
    if end <= start:
        raise ServiceError(_("The pass must end after it starts."), field="valid_until")
    if end - start > MAX_WINDOW:
        raise ServiceError(_("A visitor pass is valid for at most 7 days."), field="valid_until")
    if start < now - PAST_START_GRACE:
        raise ServiceError(_("The pass cannot start in the past."), field="valid_from")
    if start > now + MAX_LEAD:
        raise ServiceError(
            _("Register visitors at most 30 days ahead."),
            field="valid_from",
        )
    return start, end


# --------------------------------------------------------------------------- services


def pass_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    household: Household,
    visitor_name: str,
    visitor_phone: str,
    valid_from: dt.datetime,
    valid_until: dt.datetime,
    max_entries: int = 1,
    plate: str = "",
    now: dt.datetime | None = None,
) -> VisitorPass:
    """Register a visitor to a household: a pass for a window and a number of entries."""
    now = now or timezone.now()
    resolved = _scope(actor, scope)
    if not may_host(resolved, household):
        raise Http404
    name = clean_text("visitor_name", visitor_name, limit=100)
    phone = _clean_phone(visitor_phone, field="visitor_phone", required=True)
    start, end = _clean_window(valid_from, valid_until, now)
    if not isinstance(max_entries, int) or isinstance(max_entries, bool):
        raise ServiceError(_("Enter a whole number."), field="max_entries")
    if not 1 <= max_entries <= MAX_ENTRIES:
        raise ServiceError(
            _("Allow 1 to %(max)d entries.") % {"max": MAX_ENTRIES}, field="max_entries"
        )
    clean_plate = plate_normalise(plate)
    with transaction.atomic():
        visitor_pass = VisitorPass.objects.create(
            community_id=household.community_id,
            household=household,
            host=actor,
            visitor_name=name,
            visitor_phone=phone,
            plate=clean_plate,
            plate_index=blind_index(clean_plate),
            valid_from=start,
            valid_until=end,
            max_entries=max_entries,
            nonce=secrets.token_hex(_NONCE_BYTES),
            created_at=now,
        )
        audit_record(
            actor=actor,
            action="visitor_pass.create",
            obj=visitor_pass,
            community_id=household.community_id,
            changes={
                "household": household.pk,
                "visitor_name": name,
                "visitor_phone": mask_phone(phone),
                "plate": "(set)" if clean_plate else "",
                "valid_from": start.isoformat(),
                "valid_until": end.isoformat(),
                "max_entries": max_entries,
            },
        )
    return visitor_pass


def pass_revoke(
    *,
    actor: User | None,
    scope: Scope | None = None,
    visitor_pass: VisitorPass,
    now: dt.datetime | None = None,
) -> VisitorPass:
    """Revoke a pass: its QR code and plate stop opening anything at once."""
    now = now or timezone.now()
    resolved = _scope(actor, scope)
    if not may_host(resolved, visitor_pass.household):
        raise Http404
    with transaction.atomic():
        changed = VisitorPass.objects.filter(pk=visitor_pass.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor
        )
        if not changed:
            raise ConflictError(_("The pass was already revoked."), code="revoked")
        audit_record(
            actor=actor,
            action="visitor_pass.revoke",
            obj=visitor_pass,
            community_id=visitor_pass.community_id,
            changes={"revoked_at": now.isoformat()},
        )
    visitor_pass.refresh_from_db()
    return visitor_pass


def _record(
    *,
    access_point: AccessPoint,
    now: dt.datetime,
    ok: bool,
    reason: str,
    visitor_pass: VisitorPass | None,
    presented_index: str = "",
) -> AccessEvent:
    return access_record(
        community=access_point.community,
        access_point=access_point,
        at=now,
        result=AccessResult.GRANTED if ok else AccessResult.DENIED,
        method=AccessMethod.PASS,
        reason=reason,
        visitor_pass=visitor_pass,
        presented_index=presented_index,
    )


def _count_entry(visitor_pass: VisitorPass, now: dt.datetime) -> tuple[bool, str]:
    """Use one entry of a pass with one conditional UPDATE (concurrent scans cannot exceed
    ``max_entries``); else say why not, from the row as it is now."""
    used = VisitorPass.objects.filter(
        pk=visitor_pass.pk,
        revoked_at__isnull=True,
        valid_from__lte=now,
        valid_until__gte=now,
        entries_used__lt=F("max_entries"),
    ).update(entries_used=F("entries_used") + 1)
    visitor_pass.refresh_from_db()
    if used:
        return True, PassReason.OK
    if visitor_pass.revoked_at is not None:
        return False, PassReason.REVOKED
    if now < visitor_pass.valid_from:
        return False, PassReason.NOT_YET_VALID
    if now > visitor_pass.valid_until:
        return False, PassReason.EXPIRED
    return False, PassReason.USED_UP


def _entries_left(visitor_pass: VisitorPass) -> int:
    return max(0, visitor_pass.max_entries - visitor_pass.entries_used)


def pass_admit(
    token: str,
    *,
    access_point: AccessPoint,
    actor: User | None = None,
    scope: Scope | None = None,
    now: dt.datetime | None = None,
) -> PassCheck:
    """Check a pass at a gate, online: the signature and window, then revocation and the
    entries left; a valid pass uses one entry. Every check, let in or refused, is recorded
    as an access (and a guard's admission also in the gate log). ``actor`` is the guard
    (CHECK_PASSES in the access point's community); ``None`` is a gate device."""
    now = now or timezone.now()
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.CHECK_PASSES,
        community_id=access_point.community_id,
    )
    with transaction.atomic():
        check = _admit(token, access_point=access_point, now=now)
        event = _record(
            access_point=access_point,
            now=now,
            ok=check.ok,
            reason=check.reason,
            visitor_pass=check.visitor_pass,
        )
        if check.ok and actor is not None and check.visitor_pass is not None:
            GateLogEntry.objects.create(
                community_id=access_point.community_id,
                access_point=access_point,
                kind=GateEntryKind.PASS,
                at=now,
                guard=actor,
                visitor_name=check.visitor_pass.visitor_name,
                visitor_phone=check.visitor_pass.visitor_phone,
                plate=check.visitor_pass.plate,
                household=check.visitor_pass.household,
                visitor_pass=check.visitor_pass,
            )
    return PassCheck(
        ok=check.ok,
        reason=check.reason,
        claims=check.claims,
        visitor_pass=check.visitor_pass,
        entries_left=check.entries_left,
        event=event,
    )


def _admit(token: str, *, access_point: AccessPoint, now: dt.datetime) -> PassCheck:
    offline = pass_verify_offline(token, now=now)
    claims = offline.claims
    if claims is None:
        return offline
    if claims.community_id != access_point.community_id:
        return PassCheck(ok=False, reason=PassReason.WRONG_COMMUNITY, claims=claims)
    found = (
        VisitorPass.objects.select_related("household__unit__building")
        .filter(pk=claims.pass_id, community_id=access_point.community_id)
        .first()
    )
    if found is None:
        return PassCheck(ok=False, reason=PassReason.UNKNOWN, claims=claims)
    if not secrets.compare_digest(found.nonce, claims.nonce):
        # Genuinely signed, but for a nonce the pass no longer has: an old QR code.
        return PassCheck(ok=False, reason=PassReason.REVOKED, claims=claims, visitor_pass=found)
    if not access_point.is_active:
        return _refused(PassReason.POINT_CLOSED, claims, found)
    if not offline.ok:
        return _refused(offline.reason, claims, found)
    ok, reason = _count_entry(found, now)
    return PassCheck(
        ok=ok, reason=reason, claims=claims, visitor_pass=found, entries_left=_entries_left(found)
    )


def _refused(reason: str, claims: PassClaims, found: VisitorPass) -> PassCheck:
    if found.revoked_at is not None:
        reason = PassReason.REVOKED
    return PassCheck(
        ok=False,
        reason=reason,
        claims=claims,
        visitor_pass=found,
        entries_left=_entries_left(found),
    )


def pass_admit_plate(
    plate_index: str, access_point: AccessPoint, now: dt.datetime
) -> PassCheck | None:
    """For a barrier camera's plate read: the visitor pass registered with this plate that
    lets the car in now (using one entry), or why the best candidate does not; ``None`` when
    no pass of the community has this plate. Records nothing: the ingestion pipeline records
    the access (with this check's pass and reason) from its device event."""
    if not plate_index:
        return None
    candidates = list(
        VisitorPass.objects.filter(
            community_id=access_point.community_id, plate_index=plate_index
        ).order_by("-valid_until", "-pk")[:20]
    )
    if not candidates:
        return None
    if not access_point.is_active:
        return PassCheck(ok=False, reason=PassReason.POINT_CLOSED, visitor_pass=candidates[0])
    refusal: PassCheck | None = None
    for candidate in candidates:
        if candidate.revoked_at is None and candidate.valid_from <= now <= candidate.valid_until:
            ok, reason = _count_entry(candidate, now)
            check = PassCheck(
                ok=ok, reason=reason, visitor_pass=candidate, entries_left=_entries_left(candidate)
            )
            if ok:
                return check
            refusal = refusal or check
    if refusal is not None:
        return refusal
    first = candidates[0]
    if first.revoked_at is not None:
        reason = PassReason.REVOKED
    elif now < first.valid_from:
        reason = PassReason.NOT_YET_VALID
    else:
        reason = PassReason.EXPIRED
    return PassCheck(ok=False, reason=reason, visitor_pass=first, entries_left=_entries_left(first))


def gate_log_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community_id: int,
    kind: str,
    access_point: AccessPoint | None = None,
    visitor_name: str = "",
    visitor_phone: str = "",
    plate: str = "",
    household: Household | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> GateLogEntry:
    """Write down at the gate a walk-in visitor, a delivery or someone refused; it is also
    recorded as an access (so a barred vehicle's plate raises the watch-list alarm)."""
    now = now or timezone.now()
    authorize(
        actor=actor, scope=scope, permission=Permission.CHECK_PASSES, community_id=community_id
    )
    if kind not in GateEntryKind.values:
        raise ServiceError(_("Choose what happened."), field="kind")
    if access_point is not None and access_point.community_id != community_id:
        raise ServiceError(_("Choose a gate of this community."), field="access_point")
    if household is not None and household.community_id != community_id:
        raise ServiceError(_("Choose a household of this community."), field="household")
    name = clean_text("visitor_name", visitor_name, limit=100, required=kind != "delivery")
    phone = _clean_phone(visitor_phone, field="visitor_phone", required=False)
    clean_plate = plate_normalise(plate)
    text = clean_text("note", note, limit=2000, required=False)
    with transaction.atomic():
        entry = GateLogEntry.objects.create(
            community_id=community_id,
            access_point=access_point,
            kind=kind,
            at=now,
            guard=actor,
            visitor_name=name,
            visitor_phone=phone,
            plate=clean_plate,
            household=household,
            note=text,
        )
        access_record(
            community=Community.objects.get(pk=community_id),
            access_point=access_point,
            at=now,
            result=AccessResult.DENIED if kind == GateEntryKind.REFUSED else AccessResult.GRANTED,
            method=AccessMethod.OTHER,
            reason=f"gate_log_{kind}",
            presented_index=blind_index(clean_plate),
        )
    return entry


# --------------------------------------------------------------------------- selectors


def pass_status(visitor_pass: VisitorPass, now: dt.datetime | None = None) -> str:
    """``revoked``, ``used_up``, ``expired``, ``upcoming`` or ``active``."""
    now = now or timezone.now()
    if visitor_pass.revoked_at is not None:
        return "revoked"
    if visitor_pass.entries_used >= visitor_pass.max_entries:
        return "used_up"
    if now > visitor_pass.valid_until:
        return "expired"
    if now < visitor_pass.valid_from:
        return "upcoming"
    return "active"


def _entries_prefetch() -> Prefetch[str, QuerySet[AccessEvent], str]:
    return Prefetch(
        "events",
        queryset=AccessEvent.objects.select_related("access_point").order_by("-at", "-id"),
    )


def my_passes(scope: Scope) -> QuerySet[VisitorPass]:
    """The visitors of the caller's households (newest first), with their entries."""
    households = [household.pk for household in hosted_households(scope)]
    return (
        VisitorPass.objects.filter(household_id__in=households)
        .select_related("household__unit__building", "host")
        .prefetch_related(_entries_prefetch())
        .order_by("-valid_from", "-id")
    )


def pass_get(scope: Scope, pass_id: int) -> VisitorPass:
    """A pass its household's residents, or access staff of its community, may see; else 404."""
    found = (
        VisitorPass.objects.select_related("household__unit__building", "host", "community")
        .prefetch_related(_entries_prefetch())
        .filter(pk=pass_id)
        .first()
    )
    if found is None:
        raise Http404
    if scope.has(Permission.VIEW_ACCESS, found.community_id) or scope.has(
        Permission.CHECK_PASSES, found.community_id
    ):
        return found
    if may_host(scope, found.household):
        return found
    raise Http404


def pass_entries(visitor_pass: VisitorPass) -> list[AccessEvent]:
    """Every time the pass was shown at a gate, let in or refused (newest first)."""
    return list(visitor_pass.events.all())


def gate_points(scope: Scope, community_id: int | None = None) -> QuerySet[AccessPoint]:
    """The access points where the caller may check passes."""
    points = scope.filter(AccessPoint.objects.filter(is_active=True), Permission.CHECK_PASSES)
    if community_id is not None:
        points = points.filter(community_id=community_id)
    return points.select_related("community").order_by("community_id", "name", "id")


def gate_point_get(scope: Scope, point_id: int) -> AccessPoint:
    """An access point where the caller may check passes; else 404."""
    point = AccessPoint.objects.select_related("community").filter(pk=point_id).first()
    if point is None or not scope.has(Permission.CHECK_PASSES, point.community_id):
        raise Http404
    return point


def gate_log_list(
    scope: Scope, *, community_id: int | None = None, since: dt.datetime | None = None
) -> QuerySet[GateLogEntry]:
    """The gate log of the caller's communities (newest first)."""
    entries = scope.filter(GateLogEntry.objects.all(), Permission.CHECK_PASSES)
    if community_id is not None:
        entries = entries.filter(community_id=community_id)
    if since is not None:
        entries = entries.filter(at__gte=since)
    return entries.select_related(
        "access_point", "guard", "household__unit__building", "visitor_pass"
    ).order_by("-at", "-id")


def gate_households(community_id: int, q: str = "") -> QuerySet[Household]:
    """Households a guard can name as visited (for the walk-in form)."""
    households = Household.objects.filter(community_id=community_id).select_related(
        "unit__building"
    )
    if q:
        households = households.filter(Q(number__icontains=q))
    return households.order_by("unit__building__number", "unit__number", "floor", "number")

"""Writes of the devices domain: registering, editing and retiring devices, their credentials,
and bulk import from a spreadsheet.

Every function is keyword-only, checks that the caller may make the change (editing needs
:attr:`Permission.MANAGE_DEVICES` in the device's community; someone who cannot even see the
community's devices gets 404), validates the input with translated errors on the field they
concern, and records an audit entry in the same transaction. Without ``actor`` and ``scope``
the call is the system itself (commands, demo data).

HTTP ingestion authenticates devices, not people: :func:`device_authenticate_http` has no
actor, counts refusals against the device a request names and writes no audit entry (device
traffic is not audited, like device events).

A retired device keeps its history (events, audit) but frees its source identity, so a
replacement can be registered under the same Zigbee2MQTT name or camera serial.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_batch, audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import UNSET, Unset, clean_text
from anwang.devices import http_auth
from anwang.devices.choices import CredentialKind, DeviceKind, IngestRejection, Protocol
from anwang.devices.models import (
    DEFAULT_HEARTBEAT_SECONDS,
    Device,
    DeviceCredential,
    DeviceReplayMark,
)
from anwang.places.models import Building, Community, Zone

DEVICE_FIELDS = (
    "community",
    "zone",
    "building",
    "name",
    "kind",
    "protocol",
    "source_id",
    "latitude",
    "longitude",
    "heartbeat_seconds",
    "retired_at",
    "note",
)
CREDENTIAL_FIELDS = ("device", "kind", "username", "digest", "secret", "revoked_at")
CREDENTIAL_REDACT = ("digest", "secret")
MAX_HEARTBEAT_SECONDS = 7 * 24 * 3600
TOKEN_PREFIX = "awd_"  # noqa: S105 - a marker, not a secret
SIGNATURE_HEADER = "X-Anwang-Signature"
KEY_HEADER = "X-Anwang-Key"

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    """Allow the change only for someone who manages devices in the community."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_DEVICES,
        community_id=community_id,
        visible_with=Permission.VIEW_DEVICES,
    )


def _choice(value: Any, choices: Any, name: str) -> str:
    if value not in choices.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in choices.labels)},
            field=name,
        )
    return str(value)


def _number(value: Any, name: str, *, low: float, high: float) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ServiceError(_("Enter a number."), field=name)
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Enter a number."), field=name) from error
    if not low <= number <= high:
        raise ServiceError(
            _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
            field=name,
        )
    return number


def _position(latitude: Any, longitude: Any) -> tuple[float | None, float | None]:
    """A WGS84 position, or none: both coordinates or neither."""
    lat = _number(latitude, "latitude", low=-90, high=90)
    lon = _number(longitude, "longitude", low=-180, high=180)
    if (lat is None) != (lon is None):
        raise ServiceError(
            _("Give both latitude and longitude, or neither."),
            field="longitude" if lon is None else "latitude",
        )
    return lat, lon


def _heartbeat(value: Any) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_HEARTBEAT_SECONDS
    if isinstance(value, bool):
        raise ServiceError(_("Enter a whole number."), field="heartbeat_seconds")
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Enter a whole number."), field="heartbeat_seconds") from error
    if number != value and not isinstance(value, str):
        raise ServiceError(_("Enter a whole number."), field="heartbeat_seconds")
    if not 0 <= number <= MAX_HEARTBEAT_SECONDS:
        raise ServiceError(
            _("Enter a number of seconds from 0 to %(max)d.") % {"max": MAX_HEARTBEAT_SECONDS},
            field="heartbeat_seconds",
        )
    return number


def _zone(zone: Zone | None, community_id: int) -> Zone | None:
    if zone is not None and zone.community_id != community_id:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    return zone


def _building(building: Building | None, community_id: int) -> Building | None:
    if building is not None and building.community_id != community_id:
        raise ServiceError(_("Choose a building of this community."), field="building")
    return building


def _ensure_free_source(
    community_id: int, protocol: str, source_id: str, *, exclude_pk: int | None
) -> None:
    taken = Device.objects.filter(
        community_id=community_id, protocol=protocol, source_id=source_id, retired_at__isnull=True
    )
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ServiceError(_SOURCE_TAKEN(), field="source_id")


def _SOURCE_TAKEN() -> str:  # noqa: N802 - reads like the constant message it is
    return _("Another device of this community already has this source identity.")


def _save(device: Device) -> None:
    # The check before saving can race with a concurrent registration; the constraint decides.
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError as error:
        raise ServiceError(_SOURCE_TAKEN(), field="source_id") from error


def _audit(
    actor: User | None,
    action: str,
    obj: Device | DeviceCredential,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    redact: tuple[str, ...] = (),
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        community_id=obj.community_id,
        changes=diff(before, after, redact=redact),
    )


def _refuse_retired(device: Device) -> None:
    if device.retired_at is not None:
        raise ConflictError(_("This device was retired and can no longer be changed."))


# --------------------------------------------------------------------------- devices


def check_device_values(
    *,
    name: Any,
    kind: Any,
    protocol: Any,
    source_id: Any,
    zone: Zone | None = None,
    building: Building | None = None,
    latitude: Any = None,
    longitude: Any = None,
    heartbeat_seconds: Any = None,
) -> None:
    """Raise :class:`ServiceError` for the first value :func:`device_create` would refuse
    (used by the import to check every row before writing any)."""
    clean_text("name", name, limit=100)
    _choice(kind, DeviceKind, "kind")
    _choice(protocol, Protocol, "protocol")
    clean_text("source_id", source_id, limit=200)
    _position(latitude, longitude)
    _heartbeat(heartbeat_seconds)


def device_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    kind: str,
    protocol: str,
    source_id: str,
    zone: Zone | None = None,
    building: Building | None = None,
    latitude: float | str | None = None,
    longitude: float | str | None = None,
    heartbeat_seconds: int | str | None = DEFAULT_HEARTBEAT_SECONDS,
    note: str = "",
) -> Device:
    """Register a device; its source identity must be free among the community's devices."""
    _require_manage(actor, scope, community.pk)
    lat, lon = _position(latitude, longitude)
    device = Device(
        community=community,
        zone=_zone(zone, community.pk),
        building=_building(building, community.pk),
        name=clean_text("name", name, limit=100),
        kind=_choice(kind, DeviceKind, "kind"),
        protocol=_choice(protocol, Protocol, "protocol"),
        source_id=clean_text("source_id", source_id, limit=200),
        latitude=lat,
        longitude=lon,
        heartbeat_seconds=_heartbeat(heartbeat_seconds),
        note=clean_text("note", note, limit=2000, required=False),
    )
    with transaction.atomic():
        _ensure_free_source(community.pk, device.protocol, device.source_id, exclude_pk=None)
        _save(device)
        _audit(actor, "device.create", device, {}, snapshot(device, DEVICE_FIELDS))
    return device


def device_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    device: Device,
    name: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    protocol: str | Unset = UNSET,
    source_id: str | Unset = UNSET,
    zone: Zone | Unset | None = UNSET,
    building: Building | Unset | None = UNSET,
    latitude: float | str | Unset | None = UNSET,
    longitude: float | str | Unset | None = UNSET,
    heartbeat_seconds: int | str | Unset | None = UNSET,
    note: str | Unset = UNSET,
) -> Device:
    """Change a device that is in service; arguments left at :data:`UNSET` keep their value."""
    _require_manage(actor, scope, device.community_id)
    _refuse_retired(device)
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = clean_text("name", name, limit=100)
    if kind is not UNSET:
        values["kind"] = _choice(kind, DeviceKind, "kind")
    if protocol is not UNSET:
        values["protocol"] = _choice(protocol, Protocol, "protocol")
    if source_id is not UNSET:
        values["source_id"] = clean_text("source_id", source_id, limit=200)
    if zone is not UNSET:
        values["zone"] = _zone(zone, device.community_id)
    if building is not UNSET:
        values["building"] = _building(building, device.community_id)
    if latitude is not UNSET or longitude is not UNSET:
        values["latitude"], values["longitude"] = _position(
            device.latitude if latitude is UNSET else latitude,
            device.longitude if longitude is UNSET else longitude,
        )
    if heartbeat_seconds is not UNSET:
        values["heartbeat_seconds"] = _heartbeat(heartbeat_seconds)
    if note is not UNSET:
        values["note"] = clean_text("note", note, limit=2000, required=False)
    with transaction.atomic():
        if "protocol" in values or "source_id" in values:
            _ensure_free_source(
                device.community_id,
                values.get("protocol", device.protocol),
                values.get("source_id", device.source_id),
                exclude_pk=device.pk,
            )
        before = snapshot(device, DEVICE_FIELDS)
        for key, value in values.items():
            setattr(device, key, value)
        after = snapshot(device, DEVICE_FIELDS)
        if before != after:
            _save(device)
            _audit(actor, "device.update", device, before, after)
    return device


def device_retire(*, actor: User | None, scope: Scope | None = None, device: Device) -> Device:
    """Take a device out of service: its history stays, its credentials are revoked and its
    source identity is free for a replacement."""
    _require_manage(actor, scope, device.community_id)
    _refuse_retired(device)
    now = timezone.now()
    with transaction.atomic():
        before = snapshot(device, DEVICE_FIELDS)
        device.retired_at = now
        device.save(update_fields=["retired_at", "updated_at"])
        revoked = device.credentials.filter(revoked_at__isnull=True).update(revoked_at=now)
        changes = diff(before, snapshot(device, DEVICE_FIELDS))
        if revoked:
            changes["credentials_revoked"] = [0, revoked]
        audit_record(
            actor=actor,
            action="device.retire",
            obj=device,
            community_id=device.community_id,
            changes=changes,
        )
    return device


# --------------------------------------------------------------------------- credentials


def token_digest(raw: str) -> str:
    """The stored form of a device token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def device_credential_issue(
    *,
    actor: User | None,
    scope: Scope | None = None,
    device: Device,
    kind: str,
    username: str = "",
) -> tuple[DeviceCredential, str]:
    """Issue a credential for a device; the raw secret is returned this once and never again
    (a token is stored only as its digest, other secrets encrypted)."""
    _require_manage(actor, scope, device.community_id)
    _refuse_retired(device)
    kind = _choice(kind, CredentialKind, "kind")
    login = clean_text("username", username, limit=100, required=False)
    if kind in (CredentialKind.HTTP_BASIC, CredentialKind.HTTP_DIGEST):
        login = login or device.source_id[:100]
        if ":" in login:
            raise ServiceError(_("A user name may not contain a colon."), field="username")
    else:
        login = ""
    if kind == CredentialKind.TOKEN:
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        credential = DeviceCredential(
            device=device, kind=kind, username=login, digest=token_digest(raw)
        )
    else:
        raw = secrets.token_urlsafe(24)
        credential = DeviceCredential(device=device, kind=kind, username=login, secret=raw)
    with transaction.atomic():
        credential.save()
        _audit(
            actor,
            "device_credential.issue",
            credential,
            {},
            snapshot(credential, CREDENTIAL_FIELDS),
            redact=CREDENTIAL_REDACT,
        )
    return credential, raw


def device_credential_revoke(
    *, actor: User | None, scope: Scope | None = None, credential: DeviceCredential
) -> DeviceCredential:
    """Revoke a credential; the device can no longer use it. Revoking twice changes nothing."""
    _require_manage(actor, scope, credential.device.community_id)
    if credential.revoked_at is not None:
        return credential
    with transaction.atomic():
        before = snapshot(credential, CREDENTIAL_FIELDS)
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        _audit(
            actor,
            "device_credential.revoke",
            credential,
            before,
            snapshot(credential, CREDENTIAL_FIELDS),
            redact=CREDENTIAL_REDACT,
        )
    return credential


# --------------------------------------------------------------------------- HTTP ingestion


@dataclass(frozen=True)
class HttpAttempt:
    """What a request to HTTP ingestion presents: enough to authenticate the device."""

    method: str
    path: str
    """The path and query string as the client sent them (Digest's ``uri``)."""
    headers: Mapping[str, str]
    """Looked up by their canonical names: pass Django's case-insensitive ``request.headers``."""
    secure: bool
    """Whether the request came over TLS (directly or through a trusted proxy)."""
    body: bytes | None
    """The raw body, or ``None`` when it was larger than the ingestion limit."""
    now: dt.datetime


class DeviceAuthError(ServiceError):
    """A request to HTTP ingestion refused before its body is used; ``code`` is one of
    :class:`IngestRejection`. A 401 carries ``WWW-Authenticate`` challenges (``stale``: the
    Digest nonce only expired)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int = 401,
        device: Device | None = None,
        stale: bool = False,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.device = device
        self.stale = stale


def device_ingest_rejection_record(*, device: Device, reason: str, at: dt.datetime) -> None:
    """Count a refused ingestion request against the device it named (kept even when the
    request's own transaction is rolled back: call it outside that transaction)."""
    Device.objects.filter(pk=device.pk).update(
        ingest_rejections=F("ingest_rejections") + 1,
        last_rejected_at=at,
        last_rejection_reason=reason,
    )


def _refuse(
    message: str,
    code: IngestRejection,
    attempt: HttpAttempt,
    *,
    devices: Iterable[Device] = (),
    status: int = 401,
    stale: bool = False,
) -> DeviceAuthError:
    """The error to raise, counted against the device when exactly one is named."""
    named = {device.pk: device for device in devices}
    device = next(iter(named.values())) if len(named) == 1 else None
    if device is not None:
        device_ingest_rejection_record(device=device, reason=code, at=attempt.now)
    else:
        logger.warning("HTTP ingestion refused (%s) for no identifiable device", code)
    return DeviceAuthError(message, code=code, status=status, device=device, stale=stale)


def _bad_credentials(attempt: HttpAttempt, devices: Iterable[Device] = ()) -> DeviceAuthError:
    return _refuse(
        _("The device credentials are not valid."),
        IngestRejection.BAD_CREDENTIALS,
        attempt,
        devices=devices,
    )


def _usable(credential: DeviceCredential, attempt: HttpAttempt) -> Device:
    """The credential's device, if both are still in service."""
    device = credential.device
    if device.retired_at is not None:
        raise _refuse(
            _("This device was retired and may no longer send events."),
            IngestRejection.DEVICE_RETIRED,
            attempt,
            devices=[device],
            status=403,
        )
    if credential.revoked_at is not None:
        raise _refuse(
            _("This credential was revoked."),
            IngestRejection.CREDENTIAL_REVOKED,
            attempt,
            devices=[device],
        )
    return device


def _body_read(device: Device, attempt: HttpAttempt) -> Device:
    if attempt.body is None:
        raise _refuse(
            _("The body is larger than %(limit)d bytes.")
            % {"limit": settings.ANWANG_INGEST_MAX_BYTES},
            IngestRejection.BODY_TOO_LARGE,
            attempt,
            devices=[device],
            status=413,
        )
    return device


def _mark_used(credential: DeviceCredential, value: str, expires_at: dt.datetime) -> bool:
    """Remember a signature or nonce count until it expires; ``False`` if it was used already.
    Expired marks are purged on the way (they can no longer be accepted anyway)."""
    digest = hashlib.sha256(value.encode()).hexdigest()
    try:
        with transaction.atomic():
            DeviceReplayMark.objects.filter(expires_at__lt=timezone.now()).delete()
            DeviceReplayMark.objects.create(
                credential=credential, value=digest, expires_at=expires_at
            )
    except IntegrityError:
        return False
    return True


def _replayed(attempt: HttpAttempt, device: Device) -> DeviceAuthError:
    return _refuse(
        _("This request was already received once; sign each request anew."),
        IngestRejection.REPLAYED,
        attempt,
        devices=[device],
    )


def _by_login(kind: str, username: str) -> list[DeviceCredential]:
    return list(
        DeviceCredential.objects.filter(kind=kind, username=username)
        .select_related("device")
        .order_by("pk")
    )


def _authenticate_token(raw: str, attempt: HttpAttempt) -> Device:
    credential = (
        DeviceCredential.objects.filter(kind=CredentialKind.TOKEN, digest=token_digest(raw))
        .select_related("device")
        .first()
    )
    if credential is None:
        raise _bad_credentials(attempt)
    return _body_read(_usable(credential, attempt), attempt)


def _authenticate_signature(header: str, attempt: HttpAttempt) -> Device:
    key = attempt.headers.get(KEY_HEADER, "").strip()
    credential = None
    if key.isascii() and key.isdigit() and len(key) < 19:
        credential = (
            DeviceCredential.objects.filter(kind=CredentialKind.HMAC, pk=int(key))
            .select_related("device")
            .first()
        )
    if credential is None:
        raise _refuse(
            _(
                "Name the signing key in the %(header)s header: the id of the device's HMAC "
                "credential."
            )
            % {"header": KEY_HEADER},
            IngestRejection.BAD_CREDENTIALS,
            attempt,
        )
    device = _body_read(_usable(credential, attempt), attempt)
    assert attempt.body is not None
    try:
        signature = http_auth.parse_signature(header)
    except http_auth.MalformedCredentialsError:
        raise _refuse(
            _('The %(header)s header must read "t=<unix seconds>,v1=<hex HMAC-SHA256>".')
            % {"header": SIGNATURE_HEADER},
            IngestRejection.BAD_SIGNATURE,
            attempt,
            devices=[device],
        ) from None
    if not http_auth.signature_matches(credential.secret, signature, attempt.body):
        raise _refuse(
            _("The signature does not match the body."),
            IngestRejection.BAD_SIGNATURE,
            attempt,
            devices=[device],
        )
    if not http_auth.timestamp_is_fresh(signature.timestamp, attempt.now.timestamp()):
        raise _refuse(
            _(
                "The signature's timestamp is more than %(seconds)d seconds from the server's "
                "clock; check the device's clock."
            )
            % {"seconds": http_auth.SIGNATURE_TOLERANCE_SECONDS},
            IngestRejection.STALE_TIMESTAMP,
            attempt,
            devices=[device],
        )
    expires = signature.timestamp + http_auth.SIGNATURE_TOLERANCE_SECONDS
    # The mark is the signature this server computes, not the header's text: a replay with
    # the candidates reordered or repeated is the same request.
    used = http_auth.sign(credential.secret, signature.timestamp, attempt.body)
    if not _mark_used(credential, f"v1:{used}", _at(expires)):
        raise _replayed(attempt, device)
    return device


def _at(unix: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC)


def _tls_required(attempt: HttpAttempt, candidates: list[DeviceCredential]) -> DeviceAuthError:
    return _refuse(
        _("HTTP Basic and Digest passwords are accepted over HTTPS only."),
        IngestRejection.TLS_REQUIRED,
        attempt,
        devices=[c.device for c in candidates],
        status=403,
    )


def _authenticate_basic(credentials: str, attempt: HttpAttempt) -> Device:
    try:
        username, password = http_auth.parse_basic(credentials)
    except http_auth.MalformedCredentialsError:
        raise _bad_credentials(attempt) from None
    candidates = _by_login(CredentialKind.HTTP_BASIC, username)
    if not attempt.secure:
        raise _tls_required(attempt, candidates)
    # Every candidate is compared, so the time taken does not tell how many there are.
    matching = [c for c in candidates if hmac.compare_digest(c.secret.encode(), password.encode())]
    if not matching:
        raise _bad_credentials(attempt, [c.device for c in candidates])
    return _body_read(_usable(_prefer_active(matching), attempt), attempt)


def _prefer_active(matching: list[DeviceCredential]) -> DeviceCredential:
    return next((c for c in matching if c.revoked_at is None), matching[0])


def _authenticate_digest(credentials: str, attempt: HttpAttempt) -> Device:
    try:
        digest = http_auth.parse_digest(credentials)
    except http_auth.MalformedCredentialsError:
        raise _bad_credentials(attempt) from None
    candidates = _by_login(CredentialKind.HTTP_DIGEST, digest.username)
    if not attempt.secure:
        raise _tls_required(attempt, candidates)
    devices = [c.device for c in candidates]
    if (
        digest.realm != http_auth.REALM
        or digest.uri != attempt.path
        or (digest.opaque is not None and digest.opaque != http_auth.opaque())
    ):
        raise _bad_credentials(attempt, devices)
    matching = [
        c
        for c in candidates
        if http_auth.digest_matches(digest, password=c.secret, method=attempt.method)
    ]
    if not matching:
        raise _bad_credentials(attempt, devices)
    credential = _prefer_active(matching)
    device = _usable(credential, attempt)
    state = http_auth.nonce_state(digest.nonce, attempt.now.timestamp())
    if state == "forged":
        raise _bad_credentials(attempt, [device])
    if state == "stale":
        # The normal Digest re-challenge (the client kept an old nonce): not counted.
        raise DeviceAuthError(
            _("The Digest nonce expired; answer the new challenge."),
            code=IngestRejection.STALE_NONCE,
            device=device,
            stale=True,
        )
    _body_read(device, attempt)
    expires = _at(http_auth.nonce_expires_at(digest.nonce))
    if not _mark_used(credential, f"digest:{digest.nonce}:{digest.nc}", expires):
        raise _replayed(attempt, device)
    return device


def device_authenticate_http(*, attempt: HttpAttempt) -> Device:
    """The device a request to HTTP ingestion comes from, proven by a device token
    (``Authorization: Bearer``), an HMAC signature (``X-Anwang-Signature`` with
    ``X-Anwang-Key``), or HTTP Basic or Digest over TLS. Raises :class:`DeviceAuthError`
    otherwise, counting the refusal against the device when the request names one."""
    signature = attempt.headers.get(SIGNATURE_HEADER)
    if signature is not None:
        return _authenticate_signature(signature, attempt)
    scheme, credentials = http_auth.split_authorization(attempt.headers.get("Authorization", ""))
    if scheme == "bearer" and credentials:
        return _authenticate_token(credentials, attempt)
    if scheme == "basic":
        return _authenticate_basic(credentials, attempt)
    if scheme == "digest":
        return _authenticate_digest(credentials, attempt)
    if scheme:
        raise _bad_credentials(attempt)
    raise DeviceAuthError(
        _(
            "Send a device token, an %(header)s signature, or HTTP Basic or Digest credentials "
            "(over HTTPS)."
        )
        % {"header": SIGNATURE_HEADER},
        code=IngestRejection.CREDENTIALS_MISSING,
    )


# --------------------------------------------------------------------------- import


def device_import(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    file_name: str,
    content: bytes,
) -> list[Device]:
    """Register every device of a spreadsheet (.xlsx or .csv), or none: any problem rejects the
    whole file with :class:`~anwang.people.importing.ImportRejectedError` listing each row and
    column."""
    from anwang.devices.importing import check_file

    _require_manage(actor, scope, community.pk)
    rows = check_file(community=community, file_name=file_name, content=content)
    created: list[Device] = []
    with transaction.atomic(), audit_batch():
        for row in rows:
            created.append(device_create(actor=actor, scope=scope, community=community, **row))
    return created

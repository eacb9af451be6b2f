"""Writes of the access domain: access points, residents' credentials, consent to face
enrolment, the watch list, and recording an access (with its watch-list alarm).

Rules kept here:

* A credential's number is stored encrypted with a blind index (:func:`normalise_value` then
  :func:`anwang.core.crypto.blind_index`); plates are upper-case without spaces, dots or
  hyphens ("浙A12345"). The number never goes into the audit log.
* A face credential is only the device's template reference (no face image is stored). It
  needs the resident's face consent in force, and an active card or QR credential of the same
  resident (face is never the only way in). Withdrawing the consent revokes the resident's
  face credentials; the last card or QR alternative of someone with an active face credential
  cannot be revoked.
* A card reported lost or stolen goes on the watch list at once; finding it again ends that
  entry. A tenant's rights ending with the lease is the credential's ``valid_until``, checked at
  each access (:func:`credential_finding`).
* Any use of a watch-listed credential, person or plate raises one alarm per access, with the
  place and the time (not for replays from a device's log: they are history).

Who may do what: :attr:`Permission.MANAGE_ACCESS` in the community writes; holders of
:attr:`Permission.VIEW_ACCESS` get 403, everyone else 404. ``actor`` and ``scope`` both
``None`` is the system itself (the ingestion pipeline, the pass check).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from anwang.access.choices import (
    AccessCredentialKind,
    AccessMethod,
    AccessPointKind,
    AccessResult,
    ConsentKind,
    CredentialStatus,
    WatchKind,
)
from anwang.access.models import (
    AccessEvent,
    AccessPoint,
    ConsentRecord,
    Credential,
    VisitorPass,
    WatchListEntry,
)
from anwang.access.signals import consent_withdrawn
from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, service_scope
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.crypto import blind_index
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import clean_text, service_now
from anwang.devices.models import Device
from anwang.people.models import Resident
from anwang.places.models import Building, Community, Zone

NAME_MAX: Final = 100
LABEL_MAX: Final = 100
HOW_MAX: Final = 200
DESCRIPTION_MAX: Final = 200
REASON_MAX: Final = 2000
EVENT_REASON_MAX: Final = 50
VALUE_MAX: Final = 64
"""Longest card number, QR code id or face template reference accepted."""

PLATE_RE: Final = re.compile(r"^[\u4e00-\u9fffA-Z0-9]{5,10}$")
"""A normalised plate: Chinese plates have 7 (8 for new-energy vehicles) characters, the first
the province's character; foreign and special plates vary, so 5 to 10 letters or digits."""
CARD_RE: Final = re.compile(r"^[A-Z0-9]{1,32}$")
"""A normalised card number (decimal or hexadecimal, as readers report it)."""
_PLATE_NOISE: Final = re.compile(r"[\s.·•\-_]+")

POINT_FIELDS: Final = (
    "name",
    "kind",
    "device",
    "door_no",
    "zone",
    "building",
    "latitude",
    "longitude",
    "is_restricted",
    "permitted_from",
    "permitted_until",
    "is_active",
)
CREDENTIAL_FIELDS: Final = (
    "resident",
    "kind",
    "label",
    "valid_from",
    "valid_until",
    "status",
    "consent",
)

# Findings added to an access record's reason (see selectors.reason_text).
FINDING_NOT_ACTIVE: Final = "credential_{status}"
FINDING_NOT_YET_VALID: Final = "credential_not_yet_valid"
FINDING_EXPIRED: Final = "credential_expired"
FINDING_OUTSIDE_HOURS: Final = "outside_permitted_hours"
FINDING_UNKNOWN: Final = "unknown_credential"


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_ACCESS,
        community_id=community_id,
        visible_with=Permission.VIEW_ACCESS,
    )


def _audit(
    actor: User | None,
    action: str,
    obj: Any,
    community_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        community_id=community_id,
        changes=diff(before or {}, after or {}),
    )


def _aware(name: str, value: Any, *, required: bool) -> dt.datetime | None:
    if value is None or value == "":
        if required:
            raise ServiceError(_("Enter a date and time."), field=name)
        return None
    if not isinstance(value, dt.datetime):
        raise ServiceError(_("Enter a date and time."), field=name)
    if timezone.is_naive(value):
        raise ServiceError(_("Give a time with its time zone."), field=name)
    return value


def _coordinate(name: str, value: Any, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ServiceError(_("Enter a number."), field=name) from None
    if not low <= number <= high:
        raise ServiceError(
            _("Enter a value between %(low)s and %(high)s.") % {"low": low, "high": high},
            field=name,
        )
    return number


def normalise_plate(value: Any) -> str:
    """A licence plate as stored and indexed: upper-case, without spaces, dots, middle dots
    or hyphens ("浙a·123 45" → "浙A12345"); ``""`` for nothing."""
    return _PLATE_NOISE.sub("", str(value or "")).upper()


def normalise_value(kind: str, value: Any, *, field: str = "value") -> str:
    """A credential's number as stored and indexed, checked for its kind; raises
    :class:`ServiceError` on ``field`` when it cannot be one."""
    if kind == AccessCredentialKind.PLATE:
        plate = normalise_plate(value)
        if not plate:
            raise ServiceError(_("This field is required."), field=field)
        if not PLATE_RE.match(plate):
            raise ServiceError(_("Enter a licence plate, such as 浙A12345."), field=field)
        return plate
    text = "".join(str(value or "").split())
    if not text:
        raise ServiceError(_("This field is required."), field=field)
    if kind == AccessCredentialKind.CARD:
        text = text.upper()
        if not CARD_RE.match(text):
            raise ServiceError(
                _("Enter the card number as the reader shows it: letters and digits only."),
                field=field,
            )
        return text
    if kind in (AccessCredentialKind.QR, AccessCredentialKind.FACE):
        if len(text) > VALUE_MAX:
            raise ServiceError(
                _("Use at most %(limit)d characters (this has %(count)d).")
                % {"limit": VALUE_MAX, "count": len(text)},
                field=field,
            )
        return text
    raise ServiceError(_("Choose a kind of credential."), field="kind")


def value_index(kind: str, value: Any) -> str:
    """The blind index a credential of ``kind`` with this number has (``""`` when the value
    is not a valid one); used to find credentials by a presented card, QR id or plate."""
    try:
        return blind_index(normalise_value(kind, value))
    except ServiceError:
        return ""


def in_window(credential: Credential, at: dt.datetime) -> bool:
    """Whether ``at`` lies in the credential's validity window."""
    if at < credential.valid_from:
        return False
    return credential.valid_until is None or at < credential.valid_until


def credential_finding(credential: Credential, at: dt.datetime) -> str:
    """What is wrong with using the credential at ``at`` (``""`` when nothing): not active
    (lost, stolen, revoked), not valid yet, or expired (a tenant's lease ended)."""
    if credential.status != CredentialStatus.ACTIVE:
        return FINDING_NOT_ACTIVE.format(status=credential.status)
    if at < credential.valid_from:
        return FINDING_NOT_YET_VALID
    if credential.valid_until is not None and at >= credential.valid_until:
        return FINDING_EXPIRED
    return ""


def outside_permitted_hours(point: AccessPoint, at: dt.datetime) -> bool:
    """Whether ``at`` (in the community's local time) falls outside a restricted access
    point's permitted hours (a window may run past midnight, 22:00-06:00)."""
    if not point.is_restricted or point.permitted_from is None or point.permitted_until is None:
        return False
    local = timezone.localtime(at).time()
    start, end = point.permitted_from, point.permitted_until
    if start <= end:
        return not (start <= local < end)
    return end <= local < start


def _resident_of(community: Community, resident: Resident | None, field: str) -> Resident:
    if resident is None or resident.community_id != community.pk:
        raise ServiceError(_("Choose a resident of this community."), field=field)
    return resident


def add_finding(reason: str, finding: str) -> str:
    """``reason`` with a finding added (``valid_card|credential_expired``), at most 50
    characters."""
    if not finding:
        return reason[:EVENT_REASON_MAX]
    joined = f"{reason}|{finding}" if reason else finding
    return joined[:EVENT_REASON_MAX]


# --------------------------------------------------------------------------- access points


def _point_values(
    community: Community,
    *,
    point: AccessPoint | None,
    name: Any,
    kind: Any,
    device: Device | None,
    door_no: Any,
    zone: Zone | None,
    building: Building | None,
    latitude: Any,
    longitude: Any,
    is_restricted: Any,
    permitted_from: Any,
    permitted_until: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {"name": clean_text("name", name, limit=NAME_MAX)}
    if kind not in AccessPointKind.values:
        raise ServiceError(_("Choose a kind of access point."), field="kind")
    values["kind"] = kind
    if device is not None and device.community_id != community.pk:
        raise ServiceError(_("Choose a device of this community."), field="device")
    if door_no in ("", None):
        door = None
    else:
        try:
            door = int(door_no)
        except (TypeError, ValueError):
            raise ServiceError(_("Enter a whole number."), field="door_no") from None
        if not 1 <= door <= 255:
            raise ServiceError(_("Enter a door number from 1 to 255."), field="door_no")
        if device is None:
            raise ServiceError(_("A door number needs a device."), field="door_no")
    if device is not None:
        others = AccessPoint.objects.filter(device=device)
        if point is not None and point.pk is not None:
            others = others.exclude(pk=point.pk)
        if door is None and others.exists():
            raise ServiceError(
                _(
                    "Another access point uses this device. Give each one the door number "
                    "it has on the device."
                ),
                field="door_no",
            )
        if others.filter(door_no__isnull=True).exists() or others.filter(door_no=door).exists():
            raise ServiceError(
                _("Another access point already uses this door of this device."),
                field="door_no",
            )
    values["device"] = device
    values["door_no"] = door
    if zone is not None and zone.community_id != community.pk:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    if building is not None and building.community_id != community.pk:
        raise ServiceError(_("Choose a building of this community."), field="building")
    values["zone"] = zone
    values["building"] = building
    values["latitude"] = _coordinate("latitude", latitude, -90.0, 90.0)
    values["longitude"] = _coordinate("longitude", longitude, -180.0, 180.0)
    if (values["latitude"] is None) != (values["longitude"] is None):
        raise ServiceError(_("Give both latitude and longitude, or neither."), field="latitude")
    restricted = bool(is_restricted)
    start = permitted_from or None
    end = permitted_until or None
    for field_name, value in (("permitted_from", start), ("permitted_until", end)):
        if value is not None and not isinstance(value, dt.time):
            raise ServiceError(_("Enter a time."), field=field_name)
    if (start is None) != (end is None):
        raise ServiceError(
            _("Give both the start and the end of the permitted hours, or neither."),
            field="permitted_from" if start is None else "permitted_until",
        )
    if start is not None and start == end:
        raise ServiceError(
            _("The permitted hours must not start and end at the same time."),
            field="permitted_until",
        )
    if start is not None and not restricted:
        raise ServiceError(
            _("Permitted hours apply to restricted areas only: tick “restricted area”."),
            field="is_restricted",
        )
    values["is_restricted"] = restricted
    values["permitted_from"] = start
    values["permitted_until"] = end
    return values


def access_point_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    kind: str,
    device: Device | None = None,
    door_no: int | None = None,
    zone: Zone | None = None,
    building: Building | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    is_restricted: bool = False,
    permitted_from: dt.time | None = None,
    permitted_until: dt.time | None = None,
) -> AccessPoint:
    """Add a gate, unit door or barrier, with the device that reports its accesses (a
    device of the community; ``door_no`` when a door controller drives several doors) and,
    for a restricted area, the hours access is permitted."""
    _require_manage(actor, scope, community.pk)
    values = _point_values(
        community,
        point=None,
        name=name,
        kind=kind,
        device=device,
        door_no=door_no,
        zone=zone,
        building=building,
        latitude=latitude,
        longitude=longitude,
        is_restricted=is_restricted,
        permitted_from=permitted_from,
        permitted_until=permitted_until,
    )
    try:
        with transaction.atomic():
            point = AccessPoint.objects.create(community=community, **values)
            _audit(actor, "access.point_create", point, community.pk, {}, _point_snapshot(point))
    except IntegrityError:
        raise ConflictError(
            _("Another access point already uses this door of this device."), field="door_no"
        ) from None
    return point


def _point_snapshot(point: AccessPoint) -> dict[str, Any]:
    return snapshot(point, POINT_FIELDS)


def access_point_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    point: AccessPoint,
    name: str,
    kind: str,
    device: Device | None = None,
    door_no: int | None = None,
    zone: Zone | None = None,
    building: Building | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    is_restricted: bool = False,
    permitted_from: dt.time | None = None,
    permitted_until: dt.time | None = None,
    is_active: bool = True,
) -> AccessPoint:
    """Change an access point (every field at once, as a form sends it); ``is_active`` False
    takes it out of use (its past accesses stay)."""
    _require_manage(actor, scope, point.community_id)
    values = _point_values(
        point.community,
        point=point,
        name=name,
        kind=kind,
        device=device,
        door_no=door_no,
        zone=zone,
        building=building,
        latitude=latitude,
        longitude=longitude,
        is_restricted=is_restricted,
        permitted_from=permitted_from,
        permitted_until=permitted_until,
    )
    values["is_active"] = bool(is_active)
    before = _point_snapshot(point)
    for key, value in values.items():
        setattr(point, key, value)
    try:
        with transaction.atomic():
            point.save()
            _audit(
                actor, "access.point_update", point, point.community_id, before,
                _point_snapshot(point),
            )  # fmt: skip
    except IntegrityError:
        raise ConflictError(
            _("Another access point already uses this door of this device."), field="door_no"
        ) from None
    return point


# --------------------------------------------------------------------------- consent


def face_consent_in_force(resident: Resident) -> ConsentRecord | None:
    """The resident's face-enrolment consent not withdrawn, if any."""
    return ConsentRecord.objects.filter(
        resident=resident, kind=ConsentKind.FACE, withdrawn_at__isnull=True
    ).first()


def _require_consent_manager(
    actor: User | None, scope: Scope | None, community_id: int, kind: str
) -> None:
    """Face consent is managed with access control; welfare-check consent also by whoever
    enrols residents in welfare checks."""
    if kind == ConsentKind.WELFARE:
        resolved = service_scope(actor, scope)
        if resolved is not None and resolved.has(Permission.MANAGE_WELFARE, community_id):
            return
    _require_manage(actor, scope, community_id)


def consent_record(
    *,
    actor: User | None,
    scope: Scope | None = None,
    resident: Resident,
    kind: str,
    how: str,
    given_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ConsentRecord:
    """Record a resident's consent (face enrolment, welfare checks): when and how it was given
    (signed form, in the app, and the text agreed to). One consent of a kind is in force at a
    time: recording another while one is in force is refused."""
    _require_consent_manager(actor, scope, resident.community_id, kind)
    at = service_now(now)
    if kind not in ConsentKind.values:
        raise ServiceError(_("Choose what the consent is for."), field="kind")
    how = clean_text("how", how, limit=HOW_MAX)
    given = _aware("given_at", given_at, required=False) or at
    if given > at + dt.timedelta(minutes=5):
        raise ServiceError(_("A consent cannot be given in the future."), field="given_at")
    try:
        with transaction.atomic():
            consent = ConsentRecord.objects.create(
                resident=resident, kind=kind, given_at=given, how=how, recorded_by=actor
            )
            _audit(
                actor,
                "access.consent_record",
                consent,
                resident.community_id,
                {},
                {"resident": resident.pk, "kind": kind, "given_at": given.isoformat(), "how": how},
            )
    except IntegrityError:
        raise ConflictError(
            _("This resident's consent of this kind is already recorded and in force."),
            field="kind",
            code="duplicate",
        ) from None
    return consent


def consent_withdraw(
    *,
    actor: User | None,
    scope: Scope | None = None,
    consent: ConsentRecord,
    now: dt.datetime | None = None,
) -> ConsentRecord:
    """Record that a consent was withdrawn. Withdrawing face consent revokes the resident's
    face credentials at once (the device templates must then be deleted on the devices);
    receivers of :data:`consent_withdrawn` end what else relied on it (welfare checks)."""
    resident = consent.resident
    _require_consent_manager(actor, scope, resident.community_id, consent.kind)
    at = service_now(now)
    with transaction.atomic():
        locked = ConsentRecord.objects.select_for_update().get(pk=consent.pk)
        if locked.withdrawn_at is not None:
            raise ConflictError(_("This consent was already withdrawn."), code="withdrawn")
        locked.withdrawn_at = at
        locked.save(update_fields=["withdrawn_at"])
        _audit(
            actor,
            "access.consent_withdraw",
            locked,
            resident.community_id,
            {"withdrawn_at": None},
            {"withdrawn_at": at.isoformat()},
        )
        if locked.kind == ConsentKind.FACE:
            faces = Credential.objects.select_for_update().filter(
                resident=resident, kind=AccessCredentialKind.FACE, status=CredentialStatus.ACTIVE
            )
            for face in faces:
                _change_status(actor, face, CredentialStatus.REVOKED, at, reason="consent")
        consent_withdrawn.send(sender=ConsentRecord, consent=locked, actor=actor, now=at)
    consent.withdrawn_at = at
    return consent


# --------------------------------------------------------------------------- credentials


def _credential_snapshot(credential: Credential) -> dict[str, Any]:
    return snapshot(credential, CREDENTIAL_FIELDS)


def has_alternative(
    resident: Resident, at: dt.datetime, *, excluding: Credential | None = None
) -> bool:
    """Whether the resident has an active card or QR credential valid at ``at`` (the way in
    besides their face)."""
    alternatives = Credential.objects.filter(
        resident=resident,
        kind__in=[AccessCredentialKind.CARD, AccessCredentialKind.QR],
        status=CredentialStatus.ACTIVE,
        valid_from__lte=at,
    ).exclude(valid_until__lte=at)
    if excluding is not None and excluding.pk is not None:
        alternatives = alternatives.exclude(pk=excluding.pk)
    return alternatives.exists()


def _duplicate_error() -> ConflictError:
    return ConflictError(
        _("Another active credential of this community already has this number."),
        field="value",
        code="duplicate",
    )


def credential_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    resident: Resident,
    kind: str,
    value: str,
    label: str = "",
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Credential:
    """Give a resident a card, QR code, plate or face credential, valid from ``valid_from``
    (now when empty) until ``valid_until`` (a tenant's lease end; empty: no end).

    A face credential's ``value`` is the device's template reference (its employee number or
    face id), never an image; it needs the resident's face consent in force and an active
    card or QR credential of theirs. One active credential of a kind per number in a
    community."""
    community = resident.community
    _require_manage(actor, scope, community.pk)
    at = service_now(now)
    if kind not in AccessCredentialKind.values:
        raise ServiceError(_("Choose a kind of credential."), field="kind")
    normalised = normalise_value(kind, value)
    label = clean_text("label", label, limit=LABEL_MAX, required=False)
    start = _aware("valid_from", valid_from, required=False) or at
    end = _aware("valid_until", valid_until, required=False)
    if end is not None and end <= start:
        raise ServiceError(_("The end must come after the start."), field="valid_until")
    consent: ConsentRecord | None = None
    if kind == AccessCredentialKind.FACE:
        consent = face_consent_in_force(resident)
        if consent is None:
            raise ServiceError(
                _(
                    "Record the resident's consent to face enrolment first: a face credential "
                    "needs its own recorded consent."
                ),
                field="kind",
            )
        if not has_alternative(resident, start):
            raise ServiceError(
                _(
                    "Face is never the only way in: give the resident an active card or QR "
                    "code first."
                ),
                field="kind",
            )
    index = blind_index(normalised)
    if Credential.objects.filter(
        community=community, kind=kind, value_index=index, status=CredentialStatus.ACTIVE
    ).exists():
        raise _duplicate_error()
    try:
        with transaction.atomic():
            credential = Credential.objects.create(
                community=community,
                resident=resident,
                kind=kind,
                value=normalised,
                value_index=index,
                label=label,
                valid_from=start,
                valid_until=end,
                consent=consent,
                status_changed_at=at,
            )
            after = _credential_snapshot(credential)
            after["value"] = "(encrypted)"
            _audit(actor, "access.credential_create", credential, community.pk, {}, after)
    except IntegrityError:
        raise _duplicate_error() from None
    return credential


def credential_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    credential: Credential,
    label: str = "",
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Credential:
    """Change a credential's label and validity window (extend a lease, end it early). The
    number cannot change: revoke the credential and give a new one. Ending the window of a
    resident's last card or QR alternative while they have an active face credential is
    refused."""
    _require_manage(actor, scope, credential.community_id)
    at = service_now(now)
    label = clean_text("label", label, limit=LABEL_MAX, required=False)
    start = _aware("valid_from", valid_from, required=False) or credential.valid_from
    end = _aware("valid_until", valid_until, required=False)
    if end is not None and end <= start:
        raise ServiceError(_("The end must come after the start."), field="valid_until")
    before = _credential_snapshot(credential)
    with transaction.atomic():
        credential.label = label
        credential.valid_from = start
        credential.valid_until = end
        if (
            credential.kind in (AccessCredentialKind.CARD, AccessCredentialKind.QR)
            and credential.status == CredentialStatus.ACTIVE
            and end is not None
            and end <= at
        ):
            _refuse_losing_alternative(credential, at)
        credential.save(update_fields=["label", "valid_from", "valid_until", "updated_at"])
        _audit(
            actor,
            "access.credential_update",
            credential,
            credential.community_id,
            before,
            _credential_snapshot(credential),
        )
    return credential


def _refuse_losing_alternative(credential: Credential, at: dt.datetime) -> None:
    faces = Credential.objects.filter(
        resident_id=credential.resident_id,
        kind=AccessCredentialKind.FACE,
        status=CredentialStatus.ACTIVE,
    ).exclude(valid_until__lte=at)
    if faces.exists() and not has_alternative(credential.resident, at, excluding=credential):
        raise ConflictError(
            _(
                "This is the resident's last card or QR code, and face is never the only way "
                "in: revoke the face credential first, or give another card or QR code."
            ),
            field="status",
            code="last_alternative",
        )


def _change_status(
    actor: User | None,
    credential: Credential,
    status: str,
    at: dt.datetime,
    *,
    reason: str = "",
) -> None:
    before = {"status": credential.status}
    credential.status = status
    credential.status_changed_at = at
    credential.save(update_fields=["status", "status_changed_at", "updated_at"])
    changes = {"status": status}
    if reason:
        changes["reason"] = reason
    _audit(actor, "access.credential_status", credential, credential.community_id, before, changes)


def credential_set_status(
    *,
    actor: User | None,
    scope: Scope | None = None,
    credential: Credential,
    status: str,
    reason: str = "",
    priority: int = 2,
    now: dt.datetime | None = None,
) -> Credential:
    """Mark a credential lost, stolen, revoked, or active again (a lost card found).

    Lost or stolen puts it on the watch list (``reason``, alarm ``priority``): any later use
    raises an alarm with the place and time. Active again ends those watch-list entries (and
    is refused when another active credential now has the number). A revoked credential stays
    revoked. The last card or QR alternative of someone with an active face credential
    cannot be revoked."""
    _require_manage(actor, scope, credential.community_id)
    at = service_now(now)
    if status not in CredentialStatus.values:
        raise ServiceError(_("Choose a status."), field="status")
    reason = clean_text("reason", reason, limit=REASON_MAX, required=False)
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        current = locked.status
        if current == status:
            return locked
        if current == CredentialStatus.REVOKED:
            raise ConflictError(
                _("This credential was revoked; give a new one instead."), code="revoked"
            )
        if status == CredentialStatus.ACTIVE:
            if (
                Credential.objects.filter(
                    community_id=locked.community_id,
                    kind=locked.kind,
                    value_index=locked.value_index,
                    status=CredentialStatus.ACTIVE,
                )
                .exclude(pk=locked.pk)
                .exists()
            ):
                raise _duplicate_error()
            if (
                locked.kind == AccessCredentialKind.FACE
                and face_consent_in_force(locked.resident) is None
            ):
                raise ServiceError(
                    _("Record the resident's consent to face enrolment first."), field="status"
                )
        if (
            status == CredentialStatus.REVOKED
            and current == CredentialStatus.ACTIVE
            and locked.kind in (AccessCredentialKind.CARD, AccessCredentialKind.QR)
        ):
            _refuse_losing_alternative(locked, at)
        _change_status(actor, locked, status, at, reason=reason)
        if status in (CredentialStatus.LOST, CredentialStatus.STOLEN):
            if not WatchListEntry.objects.filter(credential=locked, ended_at__isnull=True).exists():
                entry = WatchListEntry.objects.create(
                    community_id=locked.community_id,
                    kind=WatchKind.CREDENTIAL,
                    credential=locked,
                    resident_id=None,
                    value_index=locked.value_index,
                    reason=reason
                    or (
                        _("Reported lost.")
                        if status == CredentialStatus.LOST
                        else _("Reported stolen.")
                    ),
                    priority=_priority(priority),
                    created_at=at,
                    created_by=actor,
                )
                _audit(
                    actor,
                    "access.watch_add",
                    entry,
                    locked.community_id,
                    {},
                    _watch_snapshot(entry),
                )
        elif status == CredentialStatus.ACTIVE:
            for entry in WatchListEntry.objects.filter(credential=locked, ended_at__isnull=True):
                _end_watch(actor, entry, at)
    credential.status = locked.status
    credential.status_changed_at = locked.status_changed_at
    return credential


# --------------------------------------------------------------------------- watch list


def _priority(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ServiceError(_("Choose a priority from 1 to 4."), field="priority") from None
    if not 1 <= number <= 4:
        raise ServiceError(_("Choose a priority from 1 to 4."), field="priority")
    return number


def _watch_snapshot(entry: WatchListEntry) -> dict[str, Any]:
    return snapshot(
        entry, ("kind", "credential", "resident", "description", "reason", "priority", "ended_at")
    )


def watch_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    kind: str,
    reason: str,
    credential: Credential | None = None,
    resident: Resident | None = None,
    plate: str = "",
    description: str = "",
    priority: int = 2,
    now: dt.datetime | None = None,
) -> WatchListEntry:
    """Put a credential (lost, stolen), a person (a resident of the community, or someone
    described) or a vehicle's plate on the watch list: any use raises an alarm of
    ``priority`` with the place and time.

    kind ``credential`` needs ``credential``; ``person`` needs ``resident`` or a
    ``description``; ``plate`` needs ``plate`` (kept only as its blind index and in the
    description)."""
    _require_manage(actor, scope, community.pk)
    at = service_now(now)
    reason = clean_text("reason", reason, limit=REASON_MAX)
    description = clean_text("description", description, limit=DESCRIPTION_MAX, required=False)
    prio = _priority(priority)
    index = ""
    if kind == WatchKind.CREDENTIAL:
        if credential is None or credential.community_id != community.pk:
            raise ServiceError(_("Choose a credential of this community."), field="credential")
        resident = None
        index = credential.value_index
    elif kind == WatchKind.PERSON:
        credential = None
        if resident is not None:
            _resident_of(community, resident, "resident")
        elif not description:
            raise ServiceError(_("Choose a resident, or describe the person."), field="description")
    elif kind == WatchKind.PLATE:
        credential = None
        resident = None
        normalised = normalise_value(AccessCredentialKind.PLATE, plate, field="plate")
        index = blind_index(normalised)
        description = description or normalised
    else:
        raise ServiceError(_("Choose what to watch for."), field="kind")
    with transaction.atomic():
        entry = WatchListEntry.objects.create(
            community=community,
            kind=kind,
            credential=credential,
            resident=resident,
            description=description,
            value_index=index,
            reason=reason,
            priority=prio,
            created_at=at,
            created_by=actor,
        )
        _audit(actor, "access.watch_add", entry, community.pk, {}, _watch_snapshot(entry))
    return entry


def _end_watch(actor: User | None, entry: WatchListEntry, at: dt.datetime) -> None:
    entry.ended_at = at
    entry.save(update_fields=["ended_at"])
    _audit(
        actor,
        "access.watch_end",
        entry,
        entry.community_id,
        {"ended_at": None},
        {"ended_at": at.isoformat()},
    )


def watch_end(
    *,
    actor: User | None,
    scope: Scope | None = None,
    entry: WatchListEntry,
    now: dt.datetime | None = None,
) -> WatchListEntry:
    """Take an entry off the watch list (a barred person no longer barred). A lost card's
    entry ends when the card is found (:func:`credential_set_status` to active)."""
    _require_manage(actor, scope, entry.community_id)
    at = service_now(now)
    with transaction.atomic():
        locked = WatchListEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.ended_at is not None:
            raise ConflictError(_("This entry was already taken off the list."), code="ended")
        _end_watch(actor, locked, at)
    entry.ended_at = at
    return entry


def watch_matches(
    community_id: int,
    *,
    credential_id: int | None = None,
    resident_id: int | None = None,
    presented_index: str = "",
) -> list[WatchListEntry]:
    """The community's watch-list entries in force that a use of this credential, by this
    person, or of this card number or plate (blind index) matches."""
    entries = WatchListEntry.objects.filter(community_id=community_id, ended_at__isnull=True)
    found: list[WatchListEntry] = []
    for entry in entries.order_by("priority", "pk"):
        if (
            (
                entry.kind == WatchKind.CREDENTIAL
                and (
                    (credential_id is not None and entry.credential_id == credential_id)
                    or (presented_index and entry.value_index == presented_index)
                )
            )
            or (
                entry.kind == WatchKind.PERSON
                and resident_id is not None
                and entry.resident_id == resident_id
            )
            or (
                entry.kind == WatchKind.PLATE
                and presented_index
                and entry.value_index == presented_index
            )
        ):
            found.append(entry)
    return found


# --------------------------------------------------------------------------- access records


def _watch_title(entry: WatchListEntry, point: AccessPoint | None, at: dt.datetime) -> str:
    place = point.name if point is not None else _("an unknown access point")
    when = date_format(timezone.localtime(at), "Y-m-d H:i:s")
    if entry.kind == WatchKind.CREDENTIAL:
        what = _("Watch-listed credential used")
    elif entry.kind == WatchKind.PLATE:
        what = _("Watch-listed vehicle seen")
    else:
        what = _("Barred person at the door")
    return _("%(what)s at %(place)s, %(time)s") % {"what": what, "place": place, "time": when}


def access_record(
    *,
    community: Community,
    access_point: AccessPoint | None,
    at: dt.datetime,
    result: str,
    method: str,
    reason: str = "",
    credential: Credential | None = None,
    resident: Resident | None = None,
    visitor_pass: VisitorPass | None = None,
    presented_index: str = "",
    device_event_id: int | None = None,
    raise_alarms: bool = True,
) -> AccessEvent:
    """Record one access (the system's write: no permission check; callers check theirs) and
    check the watch list: each watch-list entry in force that the credential, the person
    (given, or the credential's) or the presented card number / plate (blind index) matches
    raises one alarm with the place and time (``raise_alarms`` False for replays from a
    device's log, which are history). ``reason`` is the device's word or the caller's code
    (at most 50 characters)."""
    if access_point is not None and access_point.community_id != community.pk:
        raise ServiceError(_("Choose an access point of this community."), field="access_point")
    if result not in AccessResult.values:
        raise ServiceError(_("Choose a result."), field="result")
    if method not in AccessMethod.values:
        raise ServiceError(_("Choose how the access happened."), field="method")
    if credential is not None:
        if credential.community_id != community.pk:
            raise ServiceError(_("Choose a credential of this community."), field="credential")
        if resident is None:
            resident = credential.resident
        presented_index = presented_index or credential.value_index
    if resident is not None and resident.community_id != community.pk:
        raise ServiceError(_("Choose a resident of this community."), field="resident")
    if visitor_pass is not None and visitor_pass.community_id != community.pk:
        raise ServiceError(_("Choose a visitor pass of this community."), field="visitor_pass")
    with transaction.atomic():
        event = AccessEvent.objects.create(
            community=community,
            access_point=access_point,
            at=at,
            result=result,
            method=method,
            reason=reason[:EVENT_REASON_MAX],
            credential=credential,
            resident=resident,
            visitor_pass=visitor_pass,
            presented_index=presented_index,
            device_event_id=device_event_id,
        )
        if raise_alarms:
            _alarm_watch_matches(event, access_point)
    return event


def _alarm_watch_matches(event: AccessEvent, point: AccessPoint | None) -> int:
    from anwang.alarms.services import alarm_raise_system

    raised = 0
    for entry in watch_matches(
        event.community_id,
        credential_id=event.credential_id,
        resident_id=event.resident_id,
        presented_index=event.presented_index,
    ):
        alarm = alarm_raise_system(
            community=event.community,
            source_key=f"watch:{entry.pk}:{event.pk}",
            priority=entry.priority,
            title=_watch_title(entry, point, event.at),
            note=entry.reason[:1000],
            device=point.device if point is not None else None,
            zone=point.zone if point is not None else None,
            data={
                "access_event": event.pk,
                "watch_entry": entry.pk,
                "access_point": point.pk if point is not None else None,
                "at": event.at.isoformat(),
                "result": event.result,
            },
        )
        if alarm is not None:
            raised += 1
    return raised


def credential_reveal(*, actor: User, scope: Scope | None, credential: Credential) -> str:
    """A credential's full number for holders of the manage-access permission in its
    community (403 for viewers, 404 for anyone else); audited without the number."""
    _require_manage(actor, scope, credential.community_id)
    audit_record(
        actor=actor,
        action="access.credential_reveal",
        obj=credential,
        community_id=credential.community_id,
        changes={"kind": credential.kind},
    )
    return str(credential.value or "")

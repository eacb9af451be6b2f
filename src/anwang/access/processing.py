"""Access records from device events: the ingestion pipeline's access processor.

Registered by :class:`anwang.access.apps.AccessConfig` with
:func:`anwang.events.processors.register_stored_events_processor`, it runs in the ingestion
transaction over each batch's newly stored events:

* ``access`` events (Hikvision ``AccessControllerEvent``, Anwang's own format) of a device an
  access point uses (the point with the event's door number, else the device's point without
  one) become one :class:`AccessEvent` each. Hikvision's word (``data.name``) says whether the
  person was let in: :data:`GRANTED` and :data:`DENIED` words are accesses; door states
  (``door_opened``, ``lock_opened``, ``exit_button_pressed``, ``door_forced_open``...) are
  not, and are skipped (the rules engine alarms on them). Anwang's format says it with
  ``data.result`` (``granted``/``denied``) and ``data.method``.
* The credential is found by the card number (``card_no``, blind index) or else by the
  employee number: Hikvision's ``employeeNo``/``employeeNoString`` is the person's id on the
  device, which keys their face template, so it is matched against face credentials (whose
  value is that template reference) and then QR credentials (readers that report a QR code's
  id as the employee number). Anwang's format may also send ``qr``. The person is the
  credential's. A credential found but not active (lost, stolen, revoked) or outside its
  window (a tenant's lease ended) is still linked, and the finding is added to the reason
  (``valid_card|credential_expired``); so is an access let in outside a restricted point's
  permitted hours, and a card the device let in that Anwang does not know. A card nobody has
  is kept by its blind index only.
* ``plate`` events (ANPR barrier cameras) of a barrier's device link to the plate credential
  (let in when active and in its window), else to a visitor pass registered with the plate
  that lets the car in now (:func:`anwang.access.passes.pass_admit_plate`, which uses one of
  its entries), else are an unknown plate (refused, plate kept by blind index only). A read
  without a plate is not an access.
* Every access is checked against the watch list (one alarm per watch-list entry and use,
  with the place and time) except replays from a device's log, which are history: their
  access is recorded, with no alarm and no pass entry used.

The time of an access is the device's own time when it sent one (a replay happened then),
else the time Anwang received it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Final

from anwang.access.choices import AccessCredentialKind, AccessMethod, AccessResult
from anwang.access.models import AccessPoint, Credential
from anwang.access.selectors import credential_find_by_index
from anwang.access.services import (
    FINDING_OUTSIDE_HOURS,
    FINDING_UNKNOWN,
    access_record,
    add_finding,
    credential_finding,
    outside_permitted_hours,
    value_index,
)
from anwang.events.bulk import NewEvent

GRANTED: Final = frozenset(
    {
        "valid_card",
        "face_verified",
        "card_and_password_passed",
        "fingerprint_passed",
        "remote_open",
    }
)
"""Hikvision's words for a person let in."""
DENIED: Final = frozenset(
    {
        "card_and_password_failed",
        "card_no_permission",
        "card_outside_schedule",
        "card_expired",
        "invalid_card",
        "fingerprint_failed",
        "face_failed",
        "face_not_recognised",
    }
)
"""Hikvision's words for a person refused."""
KINDS: Final = ("access", "plate")


def access_events_from(stored: list[NewEvent]) -> None:
    """Turn the batch's stored access and plate events of access points' devices into access
    records (and watch-list alarms)."""
    relevant = [event for event in stored if event.kind in KINDS and event.id is not None]
    if not relevant:
        return
    by_device: dict[int, list[AccessPoint]] = defaultdict(list)
    points = AccessPoint.objects.filter(
        device_id__in={event.device.pk for event in relevant}, is_active=True
    ).select_related("community", "device", "zone")
    for found in points:
        if found.device_id is not None:
            by_device[found.device_id].append(found)
    if not by_device:
        return
    for event in relevant:
        point = _point_for(by_device.get(event.device.pk, []), event.data.get("door"))
        if point is None:
            continue
        if event.kind == "access":
            _door_access(event, point)
        else:
            _plate_read(event, point)


def _point_for(points: list[AccessPoint], door: Any) -> AccessPoint | None:
    """The access point of a device's door: the one with this door number, else the one
    without a door number (any door of the device)."""
    if not points:
        return None
    try:
        door_no = int(door) if door is not None else None
    except (TypeError, ValueError):
        door_no = None
    if door_no is not None:
        for point in points:
            if point.door_no == door_no:
                return point
    for point in points:
        if point.door_no is None:
            return point
    return None


def _at(event: NewEvent) -> dt.datetime:
    return event.device_time or event.received_at


def _outcome(data: dict[str, Any]) -> tuple[str, str, str] | None:
    """(result, method, reason) of an access event's data, or None when it is no access."""
    name = str(data.get("name") or "")
    result: str
    method: str
    if name in GRANTED or name in DENIED:
        result = AccessResult.GRANTED if name in GRANTED else AccessResult.DENIED
        if name.startswith("face"):
            method = AccessMethod.FACE
        elif name == "remote_open":
            method = AccessMethod.REMOTE
        elif name.startswith("fingerprint"):
            method = AccessMethod.OTHER
        else:
            method = AccessMethod.CARD
        return result, method, name
    # Anwang's own format: {"result": "granted", "method": "card", "card_no": "..."}
    result = str(data.get("result") or "")
    if result in AccessResult.values:
        method = str(data.get("method") or "")
        if method not in AccessMethod.values:
            method = AccessMethod.CARD if data.get("card_no") else AccessMethod.OTHER
        return result, method, str(data.get("reason") or "")[:40]
    return None


def _credential(
    community_id: int, data: dict[str, Any], method: str
) -> tuple[Credential | None, str]:
    """The credential presented and the blind index of what was presented."""
    card_no = data.get("card_no")
    if card_no:
        index = value_index(AccessCredentialKind.CARD, str(card_no))
        return credential_find_by_index(community_id, AccessCredentialKind.CARD, index), index
    qr = data.get("qr")
    if qr:
        index = value_index(AccessCredentialKind.QR, str(qr))
        return credential_find_by_index(community_id, AccessCredentialKind.QR, index), index
    employee = data.get("employee_no")
    if employee:
        kinds = (
            (AccessCredentialKind.FACE, AccessCredentialKind.QR)
            if method != AccessMethod.CARD or data.get("name", "").startswith("face")
            else (AccessCredentialKind.QR, AccessCredentialKind.FACE)
        )
        first_index = ""
        for kind in kinds:
            index = value_index(kind, str(employee))
            first_index = first_index or index
            found = credential_find_by_index(community_id, kind, index)
            if found is not None:
                return found, index
        return None, first_index
    return None, ""


def _door_access(event: NewEvent, point: AccessPoint) -> None:
    outcome = _outcome(event.data)
    if outcome is None:
        return
    result, method, reason = outcome
    at = _at(event)
    credential, presented = _credential(point.community_id, event.data, method)
    if credential is not None:
        reason = add_finding(reason, credential_finding(credential, at))
    elif presented and result == AccessResult.GRANTED:
        reason = add_finding(reason, FINDING_UNKNOWN)
    if result == AccessResult.GRANTED and outside_permitted_hours(point, at):
        reason = add_finding(reason, FINDING_OUTSIDE_HOURS)
    access_record(
        community=point.community,
        access_point=point,
        at=at,
        result=result,
        method=method,
        reason=reason,
        credential=credential,
        presented_index=presented,
        device_event_id=event.id,
        raise_alarms=not event.replay,
    )


def _plate_read(event: NewEvent, point: AccessPoint) -> None:
    plate = event.data.get("plate")
    if not plate:
        return
    at = _at(event)
    index = value_index(AccessCredentialKind.PLATE, str(plate))
    if not index:
        return  # not something a plate can be (a misread)
    credential = credential_find_by_index(point.community_id, AccessCredentialKind.PLATE, index)
    finding = credential_finding(credential, at) if credential is not None else ""
    if credential is not None and not finding:
        reason = "plate_read"
        if outside_permitted_hours(point, at):
            reason = add_finding(reason, FINDING_OUTSIDE_HOURS)
        access_record(
            community=point.community,
            access_point=point,
            at=at,
            result=AccessResult.GRANTED,
            method=AccessMethod.PLATE,
            reason=reason,
            credential=credential,
            presented_index=index,
            device_event_id=event.id,
            raise_alarms=not event.replay,
        )
        return
    check = None
    if not event.replay:
        from anwang.access.passes import pass_admit_plate

        check = pass_admit_plate(index, point, at)
    if check is not None:
        access_record(
            community=point.community,
            access_point=point,
            at=at,
            result=AccessResult.GRANTED if check.ok else AccessResult.DENIED,
            method=AccessMethod.PLATE,
            reason=f"pass_{check.reason}",
            visitor_pass=check.visitor_pass,
            presented_index=index,
            device_event_id=event.id,
            raise_alarms=True,
        )
        return
    # A plate credential lost, revoked or out of its window, or an unknown plate.
    access_record(
        community=point.community,
        access_point=point,
        at=at,
        result=AccessResult.DENIED,
        method=AccessMethod.PLATE,
        reason=add_finding("plate_read", finding) if credential else "unknown_plate",
        credential=credential,
        presented_index=index,
        device_event_id=event.id,
        raise_alarms=not event.replay,
    )

"""Writes of the events domain: turning inbound messages into stored device events, and
re-processing dead letters.

:func:`ingest_messages` is the pipeline's one write. Each message goes to the adapter that
accepts it; each observation is matched to a device in service by (protocol, source id).
Level-triggered observations (``attribute`` set) become an event only when the value differs
from the device's stored state (:class:`DeviceState`); edge-triggered ones (``edge_key`` set)
are stored once per (device, edge key). Retained messages and device-log replays update state
but are never new level events. A message that cannot be used becomes a dead letter and never
stops the batch. The whole batch is one transaction, so the worker acknowledges the messages
only after everything they caused has committed.

Device events are not audit entries (they are the devices' own reports, stored in bulk);
re-processing a dead letter is a person's action and is audited.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, authorize_platform_admin
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError
from anwang.devices.choices import DeviceStatus, Protocol
from anwang.devices.models import Device
from anwang.events.adapters.base import AdapterError, InboundMessage, Observation, Transport
from anwang.events.adapters.registry import adapter_for
from anwang.events.models import DeadLetter, DeviceEvent, DeviceState
from anwang.places.models import Community

PREVIEW_CHARS = 1000
MAX_KEY = 255
DEAD_LETTER_FIELDS = ("reason", "reprocessed_at", "resolved")

# The adapter that reads each device protocol; adapter names are the protocol values.
_PROTOCOL_OF_ADAPTER: dict[str, str] = {
    "zigbee2mqtt": Protocol.ZIGBEE2MQTT,
    "frigate": Protocol.FRIGATE,
    "hikvision": Protocol.HIKVISION,
    "anwang": Protocol.ANWANG,
}


@dataclass
class IngestResult:
    """What one batch stored: new events, duplicates ignored, and dead letters."""

    events: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    reasons: list[str] = field(default_factory=list)
    """The dead-letter reasons, in message order."""


def _sha256(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        # A separator, so ("ab", "c") and ("a", "bc") differ.
        digest.update(b"\x00")
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    """``value`` as it will read back from a JSON column, so comparisons with stored state
    hold (tuples become lists, datetimes text)."""
    return json.loads(json.dumps(value, default=str))


def fingerprint(message: InboundMessage) -> str:
    """The identity of a message: the same topic and payload redelivered gives the same one."""
    return _sha256(message.topic, message.payload)


def _preview(payload: bytes) -> str:
    return payload[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")[:PREVIEW_CHARS]


class _Batch:
    """The state of one ingestion transaction: devices, states, new events and dead letters."""

    def __init__(self, community: Community | None) -> None:
        self.community = community
        self.devices: dict[str, dict[str, list[Device]]] = {}
        self.states: dict[int, dict[str, DeviceState]] = {}
        self.new_states: list[DeviceState] = []
        self.changed_states: dict[int, DeviceState] = {}
        self.events: dict[str, DeviceEvent] = {}
        self.duplicates = 0
        self.touched: dict[int, Device] = {}
        self.dead: list[tuple[InboundMessage, str]] = []

    # ------------------------------------------------------------------ lookups

    def devices_of(self, protocol: str) -> dict[str, list[Device]]:
        """Devices in service of a protocol by source id (loaded once per batch)."""
        if protocol not in self.devices:
            found = Device.objects.filter(protocol=protocol, retired_at__isnull=True)
            if self.community is not None:
                found = found.filter(community_id=self.community.pk)
            by_source: dict[str, list[Device]] = {}
            for device in found.order_by("pk"):
                by_source.setdefault(device.source_id, []).append(device)
            self.devices[protocol] = by_source
        return self.devices[protocol]

    def state(self, device: Device, attribute: str) -> DeviceState | None:
        """The stored (or, in this batch, updated) state of a device attribute."""
        if device.pk not in self.states:
            self.states[device.pk] = {s.attribute: s for s in device.states.all()}
        return self.states[device.pk].get(attribute)

    # ------------------------------------------------------------------ messages

    def add(self, message: InboundMessage) -> None:
        """Parse one message and record what it changes."""
        adapter = adapter_for(message)
        if adapter is None:
            # Reasons are stored data, in English like the adapters' own reasons.
            self.dead.append((message, "No adapter accepts this topic."))
            return
        protocol = _PROTOCOL_OF_ADAPTER.get(adapter.name, adapter.name)
        known = self.devices_of(protocol)
        try:
            observations = adapter.parse(message, known_source_ids=known.keys())
        except AdapterError as error:
            self.dead.append((message, error.reason))
            return
        message_id = fingerprint(message)
        unknown: list[str] = []
        ambiguous: list[str] = []
        for observation in observations:
            matches = known.get(observation.source_id, [])
            if not matches:
                unknown.append(observation.source_id)
            elif len(matches) > 1:
                ambiguous.append(observation.source_id)
            else:
                self.observe(matches[0], observation, message, message_id)
        if unknown:
            self.dead.append((message, f"Unknown device {', '.join(sorted(set(unknown)))}."))
        if ambiguous:
            self.dead.append(
                (
                    message,
                    "Several communities have a device with source identity "
                    f"{', '.join(sorted(set(ambiguous)))}.",
                )
            )

    def observe(
        self, device: Device, observation: Observation, message: InboundMessage, message_id: str
    ) -> None:
        """Update the device's health and state; record an event if this is a real change."""
        self.touch(device, observation, message)
        received = message.received_at
        if observation.edge_key is not None:
            key = f"{device.pk}:{observation.edge_key}"
            if len(key) > MAX_KEY:
                key = f"{device.pk}:{_sha256(observation.edge_key)}"
            self.event(device, observation, message, key, previous=None)
            return
        if observation.attribute is None:
            return
        value = _jsonable(observation.value)
        state = self.state(device, observation.attribute)
        if state is None:
            state = DeviceState(
                device=device,
                attribute=observation.attribute,
                value=value,
                changed_at=received,
                updated_at=received,
            )
            self.states[device.pk][observation.attribute] = state
            self.new_states.append(state)
            previous: Any = None
            previous_change = "first"
        elif state.value == value:
            state.updated_at = max(state.updated_at, received)
            self._changed(state)
            return
        else:
            previous, previous_change = state.value, state.changed_at.isoformat()
            state.value, state.changed_at = value, received
            state.updated_at = max(state.updated_at, received)
            self._changed(state)
        if observation.replay:
            # A retained message or a replay from the device's log: state, never a new event.
            return
        # The key is the message's identity plus the state it changed from: a redelivered
        # message (or the same message stored by two workers at once) yields the same key,
        # while a fire that clears and returns with a byte-identical payload does not.
        key = _sha256(
            str(device.pk), observation.attribute, json.dumps(value), message_id, previous_change
        )
        self.event(device, observation, message, key, previous=previous)

    def _changed(self, state: DeviceState) -> None:
        if state.pk is not None:
            self.changed_states[state.pk] = state

    def touch(self, device: Device, observation: Observation, message: InboundMessage) -> None:
        """Health: last seen, battery, online/offline."""
        offline = observation.kind == "availability" and observation.value in ("offline", False)
        if offline:
            device.status = DeviceStatus.OFFLINE
        elif not message.retained:
            # A retained message is the broker's memory, not a sign of life now.
            if device.last_seen_at is None or device.last_seen_at < message.received_at:
                device.last_seen_at = message.received_at
            device.status = DeviceStatus.ONLINE
        if observation.battery is not None:
            device.battery = max(0, min(100, round(observation.battery)))
        self.touched[device.pk] = device

    def event(
        self,
        device: Device,
        observation: Observation,
        message: InboundMessage,
        key: str,
        *,
        previous: Any,
    ) -> None:
        """Add an event to store, unless its key is already in this batch."""
        if key in self.events:
            self.duplicates += 1
            return
        skew = None
        if observation.device_time is not None:
            skew = (observation.device_time - message.received_at).total_seconds()
        self.events[key] = DeviceEvent(
            community_id=device.community_id,
            device=device,
            kind=observation.kind,
            attribute=observation.attribute,
            value=_jsonable(observation.value),
            previous_value=previous,
            edge_key=observation.edge_key,
            dedup_key=key,
            device_time=observation.device_time,
            device_time_raw=(observation.device_time_raw or "")[:100],
            received_at=message.received_at,
            clock_skew_seconds=skew,
            replay=observation.replay,
            data=_jsonable(observation.data),
        )

    # ------------------------------------------------------------------ storing

    def flush(self, *, store_dead_letters: bool) -> IngestResult:
        """Write everything recorded; the caller holds the transaction."""
        existing = set(
            DeviceEvent.objects.filter(dedup_key__in=list(self.events)).values_list(
                "dedup_key", flat=True
            )
        )
        fresh = [event for key, event in self.events.items() if key not in existing]
        # ignore_conflicts: a concurrent worker may store the same key between check and insert.
        DeviceEvent.objects.bulk_create(fresh, ignore_conflicts=True)
        DeviceState.objects.bulk_create(self.new_states)
        DeviceState.objects.bulk_update(
            list(self.changed_states.values()), ["value", "changed_at", "updated_at"]
        )
        for device in self.touched.values():
            Device.objects.filter(pk=device.pk).update(
                last_seen_at=device.last_seen_at,
                battery=device.battery,
                status=device.status,
                updated_at=timezone.now(),
            )
        if store_dead_letters:
            DeadLetter.objects.bulk_create(
                _dead_letter(message, reason, self.community) for message, reason in self.dead
            )
        return IngestResult(
            events=len(fresh),
            duplicates=self.duplicates + len(existing),
            dead_letters=len(self.dead),
            reasons=[reason for _message, reason in self.dead],
        )


def _dead_letter(message: InboundMessage, reason: str, community: Community | None) -> DeadLetter:
    return DeadLetter(
        community=community,
        transport=message.transport,
        topic=message.topic[:500],
        payload=message.payload,
        payload_preview=_preview(message.payload),
        content_type=message.content_type[:200],
        retained=message.retained,
        reason=reason,
        received_at=message.received_at,
    )


def ingest_messages(
    *, messages: Iterable[InboundMessage], community: Community | None = None
) -> IngestResult:
    """Store the events of a batch of messages in one transaction; unusable messages become
    dead letters. With ``community`` (a device authenticated over HTTP), only that community's
    devices are matched and its dead letters belong to it."""
    with transaction.atomic():
        batch = _Batch(community)
        for message in messages:
            batch.add(message)
        return batch.flush(store_dead_letters=True)


def message_of(dead_letter: DeadLetter) -> InboundMessage:
    """The inbound message a dead letter keeps, as it arrived."""
    transport: Transport = "http" if dead_letter.transport == "http" else "mqtt"
    return InboundMessage(
        transport=transport,
        topic=dead_letter.topic,
        payload=bytes(dead_letter.payload),
        received_at=dead_letter.received_at,
        content_type=dead_letter.content_type,
        retained=dead_letter.retained,
    )


def dead_letter_reprocess(
    *, actor: User | None, scope: Scope | None = None, dead_letter: DeadLetter
) -> DeadLetter:
    """Run a dead letter through the pipeline again (after a device was registered or an
    adapter fixed); it is resolved when it now yields no dead letter."""
    if dead_letter.community_id is None:
        authorize_platform_admin(actor=actor, scope=scope)
    else:
        authorize(
            actor=actor,
            scope=scope,
            permission=Permission.MANAGE_DEVICES,
            community_id=dead_letter.community_id,
            visible_with=Permission.VIEW_DEVICES,
        )
    if dead_letter.resolved:
        raise ConflictError(_("This message was already re-processed successfully."))
    with transaction.atomic():
        before = snapshot(dead_letter, DEAD_LETTER_FIELDS)
        batch = _Batch(dead_letter.community)
        batch.add(message_of(dead_letter))
        result = batch.flush(store_dead_letters=False)
        dead_letter.reprocessed_at = timezone.now()
        if result.reasons:
            dead_letter.reason = " ".join(result.reasons)
        else:
            dead_letter.resolved = True
        dead_letter.save(update_fields=list(DEAD_LETTER_FIELDS))
        audit_record(
            actor=actor,
            action="dead_letter.reprocess",
            obj=dead_letter,
            changes=diff(before, snapshot(dead_letter, DEAD_LETTER_FIELDS)),
        )
    return dead_letter

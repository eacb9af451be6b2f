"""Writes of the events domain: turning inbound messages into stored device events, and
re-processing dead letters.

:func:`ingest_messages` is the pipeline's one write. Each message goes to the adapter that
accepts it; each observation is matched to a device in service by (protocol, source id).
Level-triggered observations (``attribute`` set) become an event only when the value differs
from the device's stored state (:class:`DeviceState`); edge-triggered ones (``edge_key`` set)
are stored once per (device, edge key). Retained messages and device-log replays update state
but are never new level events. Observations carrying a picture (Frigate snapshots) are stored
as :class:`CameraSnapshot` rows with the batch, never as events, so they fire no rule. A
message that cannot be used becomes a dead letter and never stops the batch. The whole batch is
one transaction, so the worker acknowledges the messages only after everything they caused has
committed.

Device events are not audit entries (they are the devices' own reports, stored in bulk);
re-processing a dead letter is a person's action and is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, authorize_platform_admin
from anwang.alarms.choices import OPEN_STATES
from anwang.alarms.models import Alarm
from anwang.alarms.services import alarm_sla_check, alarms_from_firings
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.live import LiveUpdate, live_health, live_publish, live_publish_many
from anwang.devices.choices import DeviceStatus, Protocol
from anwang.devices.models import Device
from anwang.events.adapters.base import AdapterError, InboundMessage, Observation, Transport
from anwang.events.adapters.registry import adapter_for
from anwang.events.bulk import NewEvent, store_events
from anwang.events.choices import EventKind
from anwang.events.models import CameraSnapshot, DeadLetter, DeviceState, WorkerStatus
from anwang.events.processors import process_stored_events
from anwang.events.selectors import LAG_LIMIT_SECONDS, STALE_AFTER
from anwang.places.models import Community
from anwang.rules.engine import evaluate_events, evaluate_timers
from anwang.rules.facts import DeviceFacts, EventFacts
from anwang.rules.history import DatabaseHistory, device_facts, holidays_map, rule_spec
from anwang.rules.memory import WorkerMemory, thread_memory
from anwang.rules.models import Rule

PREVIEW_CHARS = 1000
SNAPSHOTS_KEPT = 50
"""Camera snapshots kept per camera and object label by :func:`camera_snapshot_prune`."""
SNAPSHOT_MAX_AGE = dt.timedelta(days=30)
LAST_SEEN_STEP = dt.timedelta(seconds=10)
"""A device's ``last_seen_at`` is written when it moved on by this much (or a quarter of the
device's heartbeat, if less), or with any change of status or battery: a busy door reader
would otherwise rewrite its row in every batch, for a time no one reads to the second."""
"""Camera snapshots older than this are removed by :func:`camera_snapshot_prune`."""
_PRUNE_CHUNK = 500
MAX_KEY = 255
DEAD_LETTER_FIELDS = ("reason", "reprocessed_at", "resolved")

# The adapter that reads each device protocol; adapter names are the protocol values.
_PROTOCOL_OF_ADAPTER: dict[str, str] = {
    "zigbee2mqtt": Protocol.ZIGBEE2MQTT,
    "frigate": Protocol.FRIGATE,
    "hikvision": Protocol.HIKVISION,
    "anwang": Protocol.ANWANG,
}


class ForeignDeviceError(ServiceError):
    """A device authenticated over HTTP sent events of another device (or another protocol)."""

    status = 403


class UnusableMessageError(ServiceError):
    """A message received over HTTP that no adapter can use; the sender is told why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(
            _("The message cannot be used: %(reasons)s") % {"reasons": " ".join(reasons)},
            code="unusable_message",
        )
        self.reasons = reasons


QUIET_VALUES: dict[str, Any] = {
    "smoke": False,
    "smoke_test": False,
    "gas": False,
    "water_leak": False,
    "motion": False,
    "tamper": False,
    "battery_low": False,
    "panic": False,
    "line_crossing": False,
    "intrusion": False,
    "video_loss": False,
    "contact": "closed",
    "availability": "online",
    "heartbeat": True,
}
"""The normal value of each level-triggered kind. A device's first reading of an attribute
with its normal value is a baseline (state only, no event): a Zigbee bridge starting up reports
every sensor's whole state, and 'no smoke' is not news. A first reading of anything else (smoke
on the first message) is an event."""


@dataclass
class IngestResult:
    """What one batch stored: new events, duplicates ignored, and dead letters."""

    events: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    snapshots: int = 0
    """Camera pictures stored (not events)."""
    alarms: int = 0
    """Alarms raised or fired again by the new events."""
    reasons: list[str] = field(default_factory=list)
    """The dead-letter reasons, in message order."""


def _sha256(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        # A separator, so ("ab", "c") and ("a", "bc") differ.
        digest.update(b"\x00")
    return digest.hexdigest()


_PLAIN = (str, bool, int, float, type(None))


def _plain(value: Any) -> bool:
    return isinstance(value, _PLAIN) and not (isinstance(value, float) and value != value)


def _jsonable(value: Any) -> Any:
    """``value`` as it will read back from a JSON column, so comparisons with stored state
    hold (tuples become lists, datetimes text)."""
    if _plain(value):
        return value  # the common case, without a JSON round trip
    if type(value) is dict and all(
        type(key) is str and _plain(item) for key, item in value.items()
    ):
        return dict(value)  # a flat object (most events' data): a copy reads back the same
    return json.loads(json.dumps(value, default=str))


def fingerprint(message: InboundMessage) -> str:
    """The identity of a message: the same topic and payload redelivered gives the same one."""
    return _sha256(message.topic, message.payload)


def _preview(payload: bytes) -> str:
    text = payload[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")[:PREVIEW_CHARS]
    # PostgreSQL text cannot hold NUL, which binary payloads (a JPEG on a snapshot topic) have.
    return text.replace("\x00", "\ufffd")


class _Batch:
    """The state of one ingestion transaction: devices, states, new events and dead letters."""

    def __init__(self, community: Community | None, device: Device | None = None) -> None:
        self.community = community
        self.device = device
        self.devices: dict[str, dict[str, list[Device]]] = {}
        self.states: dict[int, dict[str, DeviceState]] = {}
        self.new_states: list[DeviceState] = []
        self.changed_states: dict[int, DeviceState] = {}
        self.events: dict[str, NewEvent] = {}
        self.duplicates = 0
        self.touched: dict[int, Device] = {}
        """Devices whose health row must be written."""
        self.stored_health: dict[int, tuple[str, int | None, dt.datetime | None]] = {}
        """Status, battery and last seen of each device as the batch found them."""
        self.health_changed: dict[int, Device] = {}
        """Devices whose health changed, for the live device states."""
        self.dead: list[tuple[InboundMessage, str]] = []
        self.slugs: dict[int, str] = {}
        """Short names of the communities of the devices looked up."""
        self.stored: list[NewEvent] = []
        """The events the flush stored (new ones only), with their ids."""
        self.snapshots: dict[tuple[int, str, str], tuple[CameraSnapshot, bytes]] = {}
        """Pictures to store, by (device, label, digest), with their bytes."""

    # ------------------------------------------------------------------ lookups

    def devices_of(self, protocol: str) -> dict[str, list[Device]]:
        """Devices in service of a protocol by source id (loaded once per batch)."""
        if protocol not in self.devices:
            found = (
                Device.objects.filter(protocol=protocol, retired_at__isnull=True)
                .select_related("zone", "building")
                # Anwang's own topics name the community: its short name comes along.
                .annotate(community_slug=F("community__slug"))
            )
            if self.community is not None:
                found = found.filter(community_id=self.community.pk)
            by_source: dict[str, list[Device]] = {}
            for device in found.order_by("pk"):
                by_source.setdefault(device.source_id, []).append(device)
                self.slugs[device.community_id] = device.community_slug
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
        if self.device is not None:
            self.check_own(protocol, observations)
        message_id = fingerprint(message)
        unknown: list[str] = []
        ambiguous: list[str] = []
        topic_community = _topic_community(message) if adapter.name == "anwang" else None
        for observation in observations:
            matches = known.get(observation.source_id, [])
            if topic_community is not None:
                # Anwang's own topics name the community: only its device is meant.
                matches = [d for d in matches if self.slugs[d.community_id] == topic_community]
            if not matches:
                unknown.append(observation.source_id)
            elif len(matches) > 1:
                ambiguous.append(observation.source_id)
            else:
                self.observe(matches[0], observation, message, message_id)
        if unknown:
            where = f" in community {topic_community}" if topic_community is not None else ""
            self.dead.append((message, f"Unknown device {', '.join(sorted(set(unknown)))}{where}."))
        if ambiguous:
            self.dead.append(
                (
                    message,
                    "Several communities have a device with source identity "
                    f"{', '.join(sorted(set(ambiguous)))}.",
                )
            )

    def check_own(self, protocol: str, observations: list[Observation]) -> None:
        """An authenticated device speaks only for itself, in its own protocol."""
        assert self.device is not None
        if protocol != self.device.protocol:
            raise ForeignDeviceError(
                _("This device is registered for %(registered)s, not %(sent)s.")
                % {"registered": self.device.get_protocol_display(), "sent": protocol},
                code="wrong_protocol",
            )
        for observation in observations:
            if observation.source_id != self.device.source_id:
                raise ForeignDeviceError(
                    _(
                        "The message is from device %(sent)s, but the credentials are those of "
                        "device %(registered)s."
                    )
                    % {"sent": observation.source_id, "registered": self.device.source_id},
                    code="foreign_device",
                )

    def observe(
        self, device: Device, observation: Observation, message: InboundMessage, message_id: str
    ) -> None:
        """Update the device's health and state; record an event if this is a real change."""
        self.touch(device, observation, message)
        received = message.received_at
        if observation.image is not None:
            self.snapshot(device, observation, message)
            return
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
            if observation.kind in QUIET_VALUES and QUIET_VALUES[observation.kind] == value:
                return
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

    def snapshot(self, device: Device, observation: Observation, message: InboundMessage) -> None:
        """Record a camera picture to store with the batch (the same picture once)."""
        assert observation.image is not None
        label = str(observation.data.get("label") or "")[:100]
        digest = hashlib.sha256(observation.image).hexdigest()
        if (device.pk, label, digest) in self.snapshots:
            self.duplicates += 1
            return
        picture = CameraSnapshot(
            community_id=device.community_id,
            device=device,
            label=label,
            taken_at=message.received_at,
            width=int(observation.data.get("width") or 0),
            height=int(observation.data.get("height") or 0),
            digest=digest,
            retained=message.retained,
        )
        self.snapshots[(device.pk, label, digest)] = (picture, observation.image)

    def _changed(self, state: DeviceState) -> None:
        if state.pk is not None:
            self.changed_states[state.pk] = state

    def touch(self, device: Device, observation: Observation, message: InboundMessage) -> None:
        """Health: last seen, battery, online/offline."""
        before = device.status
        stored = self.stored_health.setdefault(
            device.pk, (device.status, device.battery, device.last_seen_at)
        )
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
        if (device.status, device.battery) != stored[:2] or _seen_worth_writing(
            stored[2], device.last_seen_at, device.heartbeat_seconds
        ):
            self.touched[device.pk] = device
        # Unknown -> online is a first sighting, not news; every other change of health is.
        if device.status != before and (before, device.status) != (
            DeviceStatus.UNKNOWN,
            DeviceStatus.ONLINE,
        ):
            health = health_event(
                device,
                online=device.status == DeviceStatus.ONLINE,
                at=message.received_at,
                key=f"{device.pk}:{device.status}:{fingerprint(message)}",
                data={"reason": "reported" if offline else "heard_again"},
            )
            self.events.setdefault(health.dedup_key, health)
            self.health_changed[device.pk] = device

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
        self.events[key] = NewEvent(
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
        # ON CONFLICT in the insert: a redelivered message, or another worker storing the same
        # key at the same time, stores nothing.
        self.stored = store_events(list(self.events.values()))
        DeviceState.objects.bulk_create(self.new_states)
        DeviceState.objects.bulk_update(
            list(self.changed_states.values()), ["value", "changed_at", "updated_at"]
        )
        now = timezone.now()
        for device in self.touched.values():
            device.updated_at = now
        Device.objects.bulk_update(
            list(self.touched.values()), ["last_seen_at", "battery", "status", "updated_at"]
        )
        if store_dead_letters:
            DeadLetter.objects.bulk_create(
                _dead_letter(message, reason, self.community) for message, reason in self.dead
            )
        snapshots = self.flush_snapshots()
        return IngestResult(
            events=len(self.stored),
            duplicates=self.duplicates + len(self.events) - len(self.stored),
            dead_letters=len(self.dead),
            snapshots=snapshots,
            reasons=[reason for _message, reason in self.dead],
        )

    def flush_snapshots(self) -> int:
        """Store the batch's new pictures: files first, then the rows in one insert. Pictures
        already stored (a retained snapshot redelivered on reconnect) are skipped before their
        file is written. Batches without pictures cost nothing here."""
        if not self.snapshots:
            return 0
        known = set(
            CameraSnapshot.objects.filter(
                device_id__in={device_id for device_id, _label, _digest in self.snapshots},
                digest__in={digest for _device_id, _label, digest in self.snapshots},
            ).values_list("device_id", "label", "digest")
        )
        new: list[CameraSnapshot] = []
        for key, (picture, image) in self.snapshots.items():
            if key in known:
                self.duplicates += 1
                continue
            extension = "jpg" if image.startswith(b"\xff\xd8") else "png"
            picture.image.save(f"{picture.digest[:16]}.{extension}", ContentFile(image), save=False)
            new.append(picture)
        # A race with another worker storing the same picture leaves an orphan file at worst.
        CameraSnapshot.objects.bulk_create(new, ignore_conflicts=True)
        return len(new)


def _seen_worth_writing(
    stored: dt.datetime | None, seen: dt.datetime | None, heartbeat_seconds: int
) -> bool:
    """Whether a device's new ``last_seen_at`` is worth a write (see :data:`LAST_SEEN_STEP`)."""
    if seen is None or seen == stored:
        return False
    if stored is None:
        return True
    step = LAST_SEEN_STEP
    if heartbeat_seconds:
        step = min(step, dt.timedelta(seconds=heartbeat_seconds / 4))
    return seen - stored >= step


def camera_snapshot_prune(
    *,
    keep: int = SNAPSHOTS_KEPT,
    max_age: dt.timedelta = SNAPSHOT_MAX_AGE,
    now: dt.datetime | None = None,
) -> int:
    """Remove camera snapshots older than ``max_age`` and all but the newest ``keep`` of each
    camera and object label, with their files (after commit); returns how many were removed."""
    now = now or timezone.now()
    ranked = CameraSnapshot.objects.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("device_id"), F("label")],
            order_by=[F("taken_at").desc(), F("id").desc()],
        )
    )
    old = list(CameraSnapshot.objects.filter(taken_at__lt=now - max_age).values_list("pk", "image"))
    surplus = list(ranked.filter(rank__gt=keep).values_list("pk", "image"))
    doomed = dict(old + surplus)
    if not doomed:
        return 0
    storage = CameraSnapshot().image.storage
    ids = list(doomed)
    with transaction.atomic():
        for start in range(0, len(ids), _PRUNE_CHUNK):
            CameraSnapshot.objects.filter(pk__in=ids[start : start + _PRUNE_CHUNK]).delete()
        # Files go only once the rows are gone for good.
        transaction.on_commit(lambda: _delete_files(storage, list(doomed.values())))
    return len(doomed)


def _delete_files(storage: Storage, names: list[str]) -> None:
    """Delete stored files; one that is already gone is no error."""
    for name in names:
        if name:
            storage.delete(name)


def publish_device_health(devices: Iterable[Device]) -> None:
    """Publish the live ``device`` messages of devices whose health changed, with one insert
    (in the caller's transaction, after its alarms: ``alarming`` says whether an alarm of the
    device is open)."""
    changed = list(devices)
    if not changed:
        return
    alarming = set(
        Alarm.objects.filter(
            device_id__in=[device.pk for device in changed], state__in=OPEN_STATES
        ).values_list("device_id", flat=True)
    )
    live_publish_many(
        updates=[
            LiveUpdate(
                kind="device",
                community_id=device.community_id,
                data={
                    "id": device.pk,
                    "community": device.community_id,
                    "status": device.status,
                    "alarming": device.pk in alarming,
                },
            )
            for device in changed
        ]
    )


def _topic_community(message: InboundMessage) -> str | None:
    """The community short name in an ``anwang/<community>/<device>/event`` MQTT topic."""
    if message.transport != "mqtt":
        return None
    parts = message.topic.split("/")
    return parts[1] if len(parts) == 4 and parts[0] == "anwang" else None


def health_event(
    device: Device, *, online: bool, at: dt.datetime, key: str, data: dict[str, Any]
) -> NewEvent:
    """The ``device.online``/``device.offline`` event of a change in a device's health."""
    kind = EventKind.DEVICE_ONLINE if online else EventKind.DEVICE_OFFLINE
    status = DeviceStatus.ONLINE if online else DeviceStatus.OFFLINE
    return NewEvent(
        device=device,
        kind=str(kind),
        value=str(status),
        dedup_key=_sha256("health", key),
        received_at=at,
        data=_jsonable(data),
    )


def device_heartbeat_sweep(*, now: dt.datetime | None = None) -> int:
    """Mark devices offline that have been silent past their expected heartbeat, with one
    ``device.offline`` event each; how many went offline.

    Only devices heard at least once are swept: one never heard from is unknown, not offline.
    The event's key is the device and the last time it was seen, so two workers sweeping at
    once store it once.
    """
    now = now or timezone.now()
    overdue = [
        device
        for device in Device.objects.filter(
            retired_at__isnull=True,
            heartbeat_seconds__gt=0,
            last_seen_at__isnull=False,
            status=DeviceStatus.ONLINE,
        ).only("pk", "community_id", "last_seen_at", "heartbeat_seconds", "status")
        if device.last_seen_at is not None
        and device.last_seen_at + dt.timedelta(seconds=device.heartbeat_seconds) < now
    ]
    if not overdue:
        return 0
    with transaction.atomic():
        # The status condition again: a message may have arrived since the list was read.
        went = 0
        events = []
        gone = []
        for device in overdue:
            changed = Device.objects.filter(
                pk=device.pk, status=DeviceStatus.ONLINE, last_seen_at=device.last_seen_at
            ).update(status=DeviceStatus.OFFLINE, updated_at=now)
            if not changed:
                continue
            went += 1
            device.status = DeviceStatus.OFFLINE
            gone.append(device)
            assert device.last_seen_at is not None
            events.append(
                health_event(
                    device,
                    online=False,
                    at=now,
                    key=f"{device.pk}:offline:{device.last_seen_at.isoformat()}",
                    data={
                        "reason": "heartbeat_missed",
                        "last_seen_at": device.last_seen_at.isoformat(),
                        "heartbeat_seconds": device.heartbeat_seconds,
                    },
                )
            )
        store_events(events)
        publish_device_health(gone)
    return went


def dead_letter_store(*, message: InboundMessage, reason: str) -> DeadLetter:
    """Keep a message the pipeline failed on (not just could not use), so it can be looked at
    and re-processed, and the rest of the stream goes on."""
    dead_letter = _dead_letter(message, reason, None)
    dead_letter.save()
    return dead_letter


def worker_status_report(*, name: str, values: dict[str, Any]) -> None:
    """Record what a worker says about itself (one row per worker name); when that changes
    the pipeline's health (a worker started, stopped, connected or lost its broker, fell
    behind or caught up), publish a live ``health`` message."""
    with transaction.atomic():
        before = (
            WorkerStatus.objects.select_for_update()
            .filter(name=name)
            .values_list("connected", "stopped_at", "lag_seconds", "reported_at")
            .first()
        )
        WorkerStatus.objects.update_or_create(name=name, defaults=values)
        if before is None or _health_changed(before, values):
            health = live_health()
            live_publish(kind="health", data=health, community_id=None)


def _health_changed(before: tuple[bool, Any, float, dt.datetime], values: dict[str, Any]) -> bool:
    """Whether a worker's new report changes what the pipeline's health says."""
    connected, stopped_at, lag_seconds, reported_at = before
    lagging = lag_seconds > LAG_LIMIT_SECONDS
    silent = "reported_at" in values and values["reported_at"] - reported_at > STALE_AFTER
    return (
        silent  # it was silent and is back
        or ("connected" in values and bool(values["connected"]) != connected)
        or ("stopped_at" in values and (values["stopped_at"] is None) != (stopped_at is None))
        or ("lag_seconds" in values and (values["lag_seconds"] > LAG_LIMIT_SECONDS) != lagging)
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
    *,
    messages: Iterable[InboundMessage],
    community: Community | None = None,
    device: Device | None = None,
    reject_unusable: bool = False,
) -> IngestResult:
    """Store the events of a batch of messages in one transaction; unusable messages become
    dead letters. With ``community``, only that community's devices are matched and its dead
    letters belong to it. With ``device`` (authenticated over HTTP), the messages must be that
    device's own, in its protocol, or :class:`ForeignDeviceError` is raised and nothing is
    stored. With ``reject_unusable`` (a sender who can be told), a message that would become a
    dead letter raises :class:`UnusableMessageError` instead and nothing is stored."""
    if device is not None:
        community = device.community
    with transaction.atomic():
        batch = _Batch(community, device)
        for message in messages:
            batch.add(message)
        if reject_unusable and batch.dead:
            raise UnusableMessageError([reason for _message, reason in batch.dead])
        result = batch.flush(store_dead_letters=True)
        # In the same transaction: an acknowledged message always has its alarm.
        result.alarms = raise_alarms(batch.stored)
        process_stored_events(batch.stored)
        publish_device_health(batch.health_changed.values())
        return result


_EVENT_RULE_KINDS = ("immediate", "count", "sequence")
_TIMER_RULE_KINDS = ("duration", "absence")


def _engine_context(memory: WorkerMemory | None) -> tuple[dt.tzinfo, dict[dt.date, bool]]:
    holidays = memory.calendar.holidays() if memory else holidays_map()
    return timezone.get_default_timezone(), holidays


def raise_alarms(stored: list[NewEvent], *, now: dt.datetime | None = None) -> int:
    """Run the communities' event rules over newly stored events and raise (or join) their
    alarms; how many alarms were raised or fired again. Replays from a device's log are
    history, not news: no rule sees them."""
    live = [event for event in stored if not event.replay]
    if not live:
        return 0
    communities = {event.device.community_id for event in live}
    memory = thread_memory()
    enabled = Rule.objects.filter(
        community_id__in=communities, enabled=True, kind__in=_EVENT_RULE_KINDS
    )
    rules = memory.rules.specs(enabled) if memory else [rule_spec(rule) for rule in enabled]
    if not rules:
        return 0
    devices: dict[int, DeviceFacts] = {}
    facts = []
    for event in stored:
        device = devices.get(event.device.pk)
        if device is None:
            device = devices[event.device.pk] = device_facts(event.device)
        assert event.id is not None
        facts.append(
            EventFacts(
                id=event.id,
                device=device,
                kind=event.kind,
                received_at=event.received_at,
                attribute=event.attribute,
                value=event.value,
                previous_value=event.previous_value,
                edge_key=event.edge_key,
                data=event.data,
            )
        )
    tz, holidays = _engine_context(memory)
    history = DatabaseHistory(reads=memory.events if memory else None, fresh=facts)
    news = [fact for fact, event in zip(facts, stored, strict=True) if not event.replay]
    firings = evaluate_events(rules, news, history=history, tz=tz, holidays=holidays)
    history.keep_fresh()
    if not firings:
        return 0
    # The firings name events this batch has just stored.
    alarms = alarms_from_firings(
        firings=firings, now=now or timezone.now(), rules=rules, of_new_events=True
    )
    return len(alarms)


def pipeline_tick(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """What the worker does every second with no message needed: rules that fire on time
    (a door held open, a silent zone) and response times that ran out. Returns
    (alarms raised or fired again, escalations)."""
    now = now or timezone.now()
    with transaction.atomic():
        memory = thread_memory()
        enabled = Rule.objects.filter(enabled=True, kind__in=_TIMER_RULE_KINDS)
        rules = memory.rules.specs(enabled) if memory else [rule_spec(rule) for rule in enabled]
        alarms = 0
        if rules:
            tz, holidays = _engine_context(memory)
            firings = evaluate_timers(
                rules, history=DatabaseHistory(), now=now, tz=tz, holidays=holidays
            )
            if firings:
                alarms = len(alarms_from_firings(firings=firings, now=now, rules=rules))
        escalations = alarm_sla_check(now=now)
    return alarms, len(escalations)


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
        publish_device_health(batch.health_changed.values())
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

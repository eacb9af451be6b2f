"""Reads of the events domain, already scoped to what the caller may see.

Device events and dead letters of a community are visible with the view-devices permission
there; dead letters of no known community only to platform administrators. A ``*_get`` of
something the caller cannot see raises :class:`Http404`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.alarms.models import Alarm
from anwang.events.choices import WorkerMode
from anwang.events.models import CameraSnapshot, DeadLetter, DeviceEvent, WorkerStatus

VIEW = Permission.VIEW_DEVICES
SNAPSHOT_BEFORE = dt.timedelta(seconds=60)
"""An alarm's snapshot may have been taken this long before the alarm was raised (the camera
saw the object before the rule fired)."""
SNAPSHOT_AFTER = dt.timedelta(minutes=5)
"""... and this long after (Frigate replaces its snapshot as it finds a better picture)."""
_LINKED_EVENTS = 100


def event_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    device_id: int | None = None,
    kind: str | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[DeviceEvent]:
    """Device events the caller may see, newest received first."""
    events = DeviceEvent.objects.all()
    if not acts_platform_wide(scope):
        events = scope.filter(events, VIEW, "community_id")
    if community_id is not None:
        events = events.filter(community_id=community_id)
    if device_id is not None:
        events = events.filter(device_id=device_id)
    if kind:
        events = events.filter(kind=kind)
    if since is not None:
        events = events.filter(received_at__gte=since)
    return events.select_related("device", "community").order_by("-received_at", "-id")


def event_get(scope: Scope, device_event_id: int) -> DeviceEvent:
    """One visible device event."""
    found = event_list(scope).filter(pk=device_event_id).first()
    if found is None:
        raise Http404
    return found


def alarm_snapshot(scope: Scope, alarm: Alarm) -> CameraSnapshot | None:
    """The camera picture that shows an alarm, or ``None``: the newest snapshot taken from
    :data:`SNAPSHOT_BEFORE` before the alarm was raised to :data:`SNAPSHOT_AFTER` after, from
    the alarm's own device first, else from the devices of its linked events, preferring the
    object label of the event that raised it. Retained snapshots are left out (their time is
    when the broker delivered them, not when they were taken). Seen with the view-alarms
    permission in the alarm's community."""
    if not (acts_platform_wide(scope) or scope.has(Permission.VIEW_ALARMS, alarm.community_id)):
        return None
    linked = list(
        DeviceEvent.objects.filter(alarm_links__alarm=alarm)
        .order_by("received_at", "id")
        .values_list("device_id", "data")[:_LINKED_EVENTS]
    )
    device_ids = {device_id for device_id, _data in linked}
    if alarm.device_id is not None:
        device_ids.add(alarm.device_id)
    if not device_ids:
        return None
    # The label of the earliest linked event that names one: the event that raised the alarm.
    label = next(
        (
            data["label"]
            for _device_id, data in linked
            if isinstance(data, dict) and isinstance(data.get("label"), str)
        ),
        None,
    )
    rank = [When(device_id=alarm.device_id, then=Value(0))] if alarm.device_id else []
    by_label = [When(label=label, then=Value(0))] if label else []
    return (
        CameraSnapshot.objects.filter(
            community_id=alarm.community_id,
            device_id__in=device_ids,
            retained=False,
            taken_at__gte=alarm.raised_at - SNAPSHOT_BEFORE,
            taken_at__lte=alarm.raised_at + SNAPSHOT_AFTER,
        )
        .annotate(
            own=Case(*rank, default=Value(1), output_field=IntegerField()),
            same_label=Case(*by_label, default=Value(1), output_field=IntegerField()),
        )
        .select_related("device")
        .order_by("own", "same_label", "-taken_at", "-id")
        .first()
    )


def dead_letter_list(
    scope: Scope, *, community_id: int | None = None, resolved: bool | None = None
) -> QuerySet[DeadLetter]:
    """Dead letters the caller may see, newest first."""
    letters = DeadLetter.objects.all()
    if not acts_platform_wide(scope):
        # A filter on the community leaves out those of no known community.
        letters = scope.filter(letters, VIEW, "community_id")
    if community_id is not None:
        letters = letters.filter(community_id=community_id)
    if resolved is not None:
        letters = letters.filter(resolved=resolved)
    return letters.select_related("community").defer("payload").order_by("-received_at", "-id")


def dead_letter_get(scope: Scope, dead_letter_id: int) -> DeadLetter:
    """One visible dead letter, with its payload."""
    letters = DeadLetter.objects.filter(pk=dead_letter_id)
    if not acts_platform_wide(scope):
        letters = scope.filter(letters, VIEW, "community_id")
    found = letters.select_related("community").first()
    if found is None:
        raise Http404
    return found


STALE_AFTER = dt.timedelta(seconds=15)
"""A running worker reports every 5 s; silent three times as long, it is not responding."""
LAG_LIMIT_SECONDS = 10.0
"""Messages waiting longer than this mean the worker cannot keep up."""


@dataclass
class WorkerHealth:
    """One worker's last report and what is wrong with it, said for people."""

    status: WorkerStatus
    state: str
    """``running``, ``silent`` (stopped reporting without saying so) or ``stopped``."""
    problems: list[str] = field(default_factory=list)


@dataclass
class PipelineHealth:
    """Whether device messages are being stored now, and if not, why."""

    workers: list[WorkerHealth]
    problems: list[str]
    checked_at: dt.datetime

    @property
    def ok(self) -> bool:
        """No problem: at least one worker runs, connected and keeping up."""
        return not self.problems


def _worker_health(status: WorkerStatus, now: dt.datetime) -> WorkerHealth:
    if status.stopped_at is not None:
        return WorkerHealth(status, "stopped")
    age = now - status.reported_at
    if age > STALE_AFTER:
        return WorkerHealth(
            status,
            "silent",
            [
                _("Worker %(name)s has not reported for %(duration)s: it may have crashed.")
                % {"name": status.name, "duration": timesince(status.reported_at, now)}
            ],
        )
    problems = []
    if status.mode == WorkerMode.MQTT and not status.connected:
        problems.append(
            _("Worker %(name)s is not connected to the MQTT broker %(broker)s.")
            % {"name": status.name, "broker": status.broker}
        )
    if status.lag_seconds > LAG_LIMIT_SECONDS:
        problems.append(
            _("Worker %(name)s is %(seconds)s s behind, with %(pending)s messages waiting.")
            % {
                "name": status.name,
                "seconds": round(status.lag_seconds),
                "pending": status.pending,
            }
        )
    return WorkerHealth(status, "running", problems)


def pipeline_health(scope: Scope, *, now: dt.datetime | None = None) -> PipelineHealth:
    """The event workers' health as the web app sees it; for people who may see devices."""
    if not (acts_platform_wide(scope) or scope.has_anywhere(VIEW)):
        raise PermissionDenied
    now = now or timezone.now()
    workers = [_worker_health(status, now) for status in WorkerStatus.objects.order_by("name")]
    problems = [problem for worker in workers for problem in worker.problems]
    if not any(worker.state == "running" for worker in workers):
        problems.insert(
            0,
            _(
                "No event worker is running: device messages are not being stored. "
                "Start it with `anwang worker`."
            ),
        )
    return PipelineHealth(workers=workers, problems=problems, checked_at=now)

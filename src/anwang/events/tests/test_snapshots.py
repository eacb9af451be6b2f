"""Camera snapshots: stored by the pipeline beside (never as) events, pruned, and found for an
alarm within its time window, preferring its own camera and the label that raised it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from anwang.accounts.selectors import scope_for
from anwang.alarms.models import Alarm
from anwang.alarms.services import alarms_from_firings
from anwang.devices.choices import DeviceKind, DeviceStatus, Protocol
from anwang.devices.models import Device
from anwang.events.adapters.base import InboundMessage
from anwang.events.models import CameraSnapshot, DeadLetter, DeviceEvent
from anwang.events.selectors import SNAPSHOT_AFTER, SNAPSHOT_BEFORE, alarm_snapshot
from anwang.events.services import camera_snapshot_prune, ingest_messages
from anwang.rules.facts import Firing
from anwang.rules.models import Rule

FIXTURES = Path(__file__).resolve().parents[4] / "tests/fixtures/payloads/frigate"
JPEG = (FIXTURES / "snapshot_made_here.jpg").read_bytes()
T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def picture(shade: int) -> bytes:
    """A different small JPEG for each shade."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), (shade, shade, shade)).save(buffer, format="JPEG")
    return buffer.getvalue()


def snapshot_message(
    camera: str = "gate_cam",
    label: str = "person",
    *,
    payload: bytes = JPEG,
    second: float = 0,
    retained: bool = False,
) -> InboundMessage:
    return InboundMessage(
        transport="mqtt",
        topic=f"frigate/{camera}/{label}/snapshot",
        payload=payload,
        received_at=at(second),
        retained=retained,
    )


def camera(world: Any, source_id: str = "gate_cam", side: str = "a") -> Device:
    return Device.objects.create(
        community=getattr(world, side).community,
        name=f"Camera {source_id}",
        kind=DeviceKind.CAMERA,
        protocol=Protocol.FRIGATE,
        source_id=source_id,
    )


# --------------------------------------------------------------------------- the pipeline


def test_a_snapshot_is_stored_as_a_picture_of_the_camera_not_an_event(world: Any, media: Path):
    cam = camera(world)
    result = ingest_messages(messages=[snapshot_message(second=3)])
    assert (result.events, result.snapshots, result.dead_letters) == (0, 1, 0)
    assert not DeviceEvent.objects.exists()
    shot = CameraSnapshot.objects.get()
    assert (shot.device_id, shot.community_id, shot.label) == (cam.pk, cam.community_id, "person")
    assert (shot.width, shot.height, shot.taken_at, shot.retained) == (96, 54, at(3), False)
    assert shot.image.name.startswith("snapshots/")
    assert shot.image.name.endswith(".jpg")
    assert (media / shot.image.name).read_bytes() == JPEG


def test_a_snapshot_fires_no_rule(world: Any):
    camera(world)
    Rule.objects.create(
        community=world.a.community,
        name="Anything from the camera",
        kind="immediate",
        condition={"any": [{"field": "kind", "op": "eq", "value": "snapshot"}]},
        priority=1,
        title_template="Picture",
    )
    result = ingest_messages(messages=[snapshot_message()])
    assert (result.snapshots, result.alarms) == (1, 0)
    assert not Alarm.objects.exists()


def test_a_live_snapshot_is_a_sign_of_life_a_retained_one_is_not(world: Any):
    cam = camera(world)
    ingest_messages(messages=[snapshot_message(payload=picture(10), second=5, retained=True)])
    cam.refresh_from_db()
    assert (cam.status, cam.last_seen_at) == (DeviceStatus.UNKNOWN, None)
    assert CameraSnapshot.objects.get().retained
    ingest_messages(messages=[snapshot_message(payload=picture(20), second=9)])
    cam.refresh_from_db()
    assert (cam.status, cam.last_seen_at) == (DeviceStatus.ONLINE, at(9))


def test_the_same_picture_is_stored_once(world: Any, media: Path):
    camera(world)
    first = ingest_messages(messages=[snapshot_message(), snapshot_message(second=1)])
    assert (first.snapshots, first.duplicates) == (1, 1)
    # Redelivered as a retained message after a reconnect: no row, no file.
    again = ingest_messages(messages=[snapshot_message(second=60, retained=True)])
    assert (again.snapshots, again.duplicates) == (0, 1)
    assert CameraSnapshot.objects.count() == 1
    assert len(list((media / "snapshots").rglob("*.jpg"))) == 1
    # The same picture of another label is another snapshot.
    assert ingest_messages(messages=[snapshot_message(label="car")]).snapshots == 1


def test_unusable_or_unknown_snapshots_are_dead_letters(world: Any):
    camera(world)
    result = ingest_messages(
        messages=[
            snapshot_message(payload=b"<html>not a picture</html>"),
            snapshot_message("nobody_cam"),
        ]
    )
    assert (result.snapshots, result.dead_letters) == (0, 2)
    assert sorted(DeadLetter.objects.values_list("reason", flat=True)) == [
        "Frigate snapshot is not a JPEG or PNG image.",
        "Unknown device nobody_cam.",
    ]
    # The JPEG's NUL bytes never reach the text preview (PostgreSQL text cannot hold them).
    unknown = DeadLetter.objects.get(reason__startswith="Unknown")
    assert "\x00" not in unknown.payload_preview
    assert bytes(unknown.payload) == JPEG
    assert not CameraSnapshot.objects.exists()


def test_batches_without_pictures_query_nothing_for_them(world: Any):
    camera(world)
    with CaptureQueriesContext(connection) as queries:
        ingest_messages(messages=[InboundMessage("mqtt", "frigate/available", b"online", T0)])
    assert not any("camera_snapshot" in q["sql"].lower() for q in queries.captured_queries)


# --------------------------------------------------------------------------- pruning


def _stored(device: Device, label: str, seconds: float, shade: int) -> CameraSnapshot:
    ingest_messages(
        messages=[snapshot_message(device.source_id, label, payload=picture(shade), second=seconds)]
    )
    return CameraSnapshot.objects.get(device=device, label=label, taken_at=at(seconds))


def test_prune_keeps_the_newest_per_camera_and_label_and_drops_old_ones(
    world: Any, media: Path, django_capture_on_commit_callbacks: Any
):
    gate, yard = camera(world), camera(world, "yard_cam")
    people = [_stored(gate, "person", s, s) for s in range(5)]
    car = _stored(gate, "car", 0, 100)
    yard_person = _stored(yard, "person", 0, 150)
    ancient = _stored(yard, "dog", -40 * 86400, 200)
    with django_capture_on_commit_callbacks(execute=True):
        removed = camera_snapshot_prune(keep=2, max_age=dt.timedelta(days=30), now=at(10))
    assert removed == 4  # three older gate people and the 40-day-old dog
    left = set(CameraSnapshot.objects.values_list("pk", flat=True))
    assert left == {people[3].pk, people[4].pk, car.pk, yard_person.pk}
    assert not (media / ancient.image.name).exists()
    assert not (media / people[0].image.name).exists()
    assert (media / people[4].image.name).exists()
    assert camera_snapshot_prune(keep=2, now=at(10)) == 0


# --------------------------------------------------------------------------- the alarm's snapshot


def _alarm(world: Any, *, device: Device | None, events: list[DeviceEvent], side: str = "a"):
    community = getattr(world, side).community
    rule = Rule.objects.create(
        community=community,
        name=f"Night {Rule.objects.count()}",
        kind="immediate",
        priority=1,
        title_template="Night",
    )
    (alarm,) = alarms_from_firings(
        firings=[
            Firing(
                rule_id=rule.pk,
                community_id=community.pk,
                priority=1,
                group_key=f"device:{device.pk}" if device else "rule",
                trigger_key=f"test:{rule.pk}",
                at=T0,
                title_template="Night",
                title_values={},
                event_ids=tuple(e.pk for e in events),
                device_id=device.pk if device else None,
                zone_id=None,
                why={},
            )
        ],
        now=T0,
    )
    return Alarm.objects.select_related("device").get(pk=alarm.pk)


def _event(device: Device, label: str | None, key: str) -> DeviceEvent:
    return DeviceEvent.objects.create(
        community_id=device.community_id,
        device=device,
        kind="object_detected",
        edge_key=key,
        dedup_key=f"{device.pk}:{key}",
        received_at=T0,
        data={"label": label} if label else {},
    )


def _operator(world: Any, side: str = "a") -> Any:
    return scope_for(world.user("operator", side))


def test_the_newest_snapshot_within_the_window_is_chosen(world: Any):
    gate = camera(world)
    alarm = _alarm(world, device=gate, events=[])
    before = SNAPSHOT_BEFORE.total_seconds()
    after = SNAPSHOT_AFTER.total_seconds()
    too_early = _stored(gate, "person", -before - 1, 1)
    assert alarm_snapshot(_operator(world), alarm) is None
    early = _stored(gate, "person", -before, 2)
    assert alarm_snapshot(_operator(world), alarm) == early
    late = _stored(gate, "person", after, 3)
    _stored(gate, "person", after + 1, 4)  # too late
    assert alarm_snapshot(_operator(world), alarm) == late
    assert too_early.pk


def test_retained_snapshots_are_not_an_alarms_picture(world: Any):
    gate = camera(world)
    alarm = _alarm(world, device=gate, events=[])
    ingest_messages(messages=[snapshot_message(second=2, retained=True)])
    assert alarm_snapshot(_operator(world), alarm) is None


def test_the_label_of_the_raising_event_is_preferred(world: Any):
    gate = camera(world)
    raising = _event(gate, "person", "1")
    later = _event(gate, "car", "2")
    later.received_at = at(30)
    later.save()
    alarm = _alarm(world, device=None, events=[raising, later])
    person = _stored(gate, "person", 10, 1)
    _stored(gate, "car", 20, 2)  # newer, but not what raised the alarm
    assert alarm_snapshot(_operator(world), alarm) == person


def test_the_alarms_own_camera_comes_before_cameras_of_its_events(world: Any):
    gate, yard = camera(world), camera(world, "yard_cam")
    alarm = _alarm(world, device=gate, events=[_event(yard, "person", "1")])
    yard_shot = _stored(yard, "person", 20, 1)
    assert alarm_snapshot(_operator(world), alarm) == yard_shot
    own = _stored(gate, "car", 5, 2)
    assert alarm_snapshot(_operator(world), alarm) == own


def test_an_alarm_of_a_sensor_uses_the_cameras_of_its_events(world: Any):
    sensor = Device.objects.create(
        community=world.a.community,
        name="door",
        kind=DeviceKind.CONTACT,
        protocol=Protocol.ZIGBEE2MQTT,
        source_id="door",
    )
    gate = camera(world)
    alarm = _alarm(world, device=sensor, events=[_event(gate, "person", "1")])
    shot = _stored(gate, "person", 1, 1)
    assert alarm_snapshot(_operator(world), alarm) == shot


def test_the_snapshot_is_scoped(world: Any):
    gate = camera(world)
    alarm = _alarm(world, device=gate, events=[])
    shot = _stored(gate, "person", 1, 1)
    assert alarm_snapshot(_operator(world), alarm) == shot
    assert alarm_snapshot(_operator(world, "b"), alarm) is None
    # A grid worker sees residents, not alarms.
    assert alarm_snapshot(scope_for(world.user("grid_worker", "a")), alarm) is None
    # Another community's camera never shows on this community's alarm, even if linked.
    other = camera(world, "b_cam", side="b")
    _stored(other, "person", 1, 2)
    crossed = _alarm(world, device=None, events=[_event(other, "person", "1")])
    assert alarm_snapshot(_operator(world), crossed) is None
    alarm_b = _alarm(world, device=other, events=[], side="b")
    assert alarm_snapshot(_operator(world, "b"), alarm_b) is not None
    assert alarm_snapshot(_operator(world), alarm_b) is None


def test_the_alarm_snapshot_costs_two_queries(world: Any, django_assert_num_queries: Any):
    gate = camera(world)
    alarm = _alarm(world, device=None, events=[_event(gate, "person", str(n)) for n in range(5)])
    _stored(gate, "person", 1, 1)
    scope = _operator(world)
    scope.has  # noqa: B018 - the scope is computed before counting
    with django_assert_num_queries(2):
        assert alarm_snapshot(scope, alarm) is not None


def test_a_hikvision_alarm_picture_posted_over_http_is_stored_for_the_camera(world):
    from anwang.events.tests.test_hikvision import multipart

    alert = (FIXTURES.parent / "hikvision/linedetection_isapi_ns.xml").read_bytes()
    nvr = Device.objects.create(
        community=world.a.community,
        name="Perimeter NVR",
        kind=DeviceKind.CAMERA,
        protocol=Protocol.HIKVISION,
        source_id="58:50:ed:21:f0:9b",
    )
    message = InboundMessage(
        transport="http",
        topic="hikvision",
        payload=multipart(alert, JPEG),
        received_at=at(0),
        content_type="multipart/form-data; boundary=MIME_boundary",
    )
    result = ingest_messages(messages=[message], device=nvr)
    assert (result.events, result.snapshots, result.dead_letters) == (1, 1, 0)
    stored = CameraSnapshot.objects.get()
    assert (stored.device, stored.label) == (nvr, "linedetection")
    assert stored.image.read() == JPEG

"""End to end, as on duty: a Zigbee2MQTT smoke detector publishes through a real Mosquitto, the
real event worker stores the event and the built-in rule pack raises a P1 alarm, which appears
live on the operator's console (Debian's chromium, 1920x1080, uvicorn serving the ASGI app). The
operator acknowledges it and dispatches it to the guard, whose phone page (390x844) gets it
live; the guard accepts, arrives, photographs and resolves it. Stopping the worker brings up the
console's red health banner; starting it again clears it.

A missing Mosquitto or chromium skips the test locally and fails it in CI.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from anwang.alarms.choices import AlarmState
from anwang.alarms.models import Alarm, AlarmPhoto
from anwang.alarms.tests import test_console_browser as console_browser
from anwang.devices.choices import DeviceKind, Protocol
from anwang.devices.models import Device
from anwang.devices.services import device_create
from anwang.events.models import DeviceEvent, WorkerStatus
from anwang.rules.services import rules_install_builtin
from tests.browser_support import PHONE, WALL, page_as
from tests.services.mosquitto import Broker, broker_for_test
from tests.services.test_alarms_mqtt import payload
from tests.services.worker_support import Publisher, WorkerThread, wait_until

pytestmark = pytest.mark.browser

# The console browser tests' ASGI server; chromium and the committed world are the shared
# fixtures of tests/browser_support.py.
asgi_server = console_browser.asgi_server
TOPIC = "zigbee2mqtt/kitchen_smoke"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A private broker with the shipped configuration."""
    with broker_for_test(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def publisher(broker: Broker) -> Iterator[Publisher]:
    """A connected publisher standing in for the Zigbee2MQTT bridge."""
    client = Publisher(broker)
    yield client
    client.close()


@pytest.fixture
def detector(live_world: Any) -> Device:
    """Community A with the built-in rule pack and a Zigbee2MQTT smoke detector."""
    community = live_world.a.community
    rules_install_builtin(community=community)
    return device_create(
        actor=live_world.user("community_admin"),
        community=community,
        name="kitchen smoke",
        kind=DeviceKind.SMOKE,
        protocol=Protocol.ZIGBEE2MQTT,
        source_id="kitchen_smoke",
        zone=live_world.a.zone,
    )


QUIET = """() => {
  const guard = window.AnwangGuard;
  if (!guard || guard.source.readyState !== EventSource.OPEN) return false;
  if (!window.quiet) {
    window.quiet = {since: performance.now()};
    const restart = () => { window.quiet.since = performance.now(); };
    guard.source.addEventListener("alarm", restart);
    document.addEventListener("htmx:afterSettle", restart);
  }
  return !document.querySelector(".htmx-request") && performance.now() - window.quiet.since > 1000;
}"""


def wait_quiet(page: Any) -> None:
    """Until the guard's page has taken the live updates still coming: a page loaded right
    after an action may still get that action's message (its stream starts where the web
    process's live hub is, which polls SQLite twice a second), and the reload it causes would
    drop a photo or a note chosen while it was under way."""
    page.wait_for_function(QUIET, polling=100, timeout=10_000)


def start_worker(broker: Broker, client_id: str | None = None) -> WorkerThread:
    """The event worker, subscribed and reporting itself as running."""
    worker = WorkerThread(broker, client_id=client_id)
    worker.start()
    wait_until(
        lambda: WorkerStatus.objects.filter(
            name=worker.worker.client_id, stopped_at__isnull=True, connected=True
        ).exists(),
        "the worker to report itself running",
    )
    return worker


@pytest.fixture
def workers(
    broker: Broker, detector: Device, django_db_blocker: Any
) -> Iterator[list[WorkerThread]]:
    """The event worker (and any restarted one the test appends), stopped afterwards. Its
    threads use the database throughout: allowed explicitly, since pytest-django's guard is
    one switch for the whole process and an earlier browser test may have left it set."""
    with django_db_blocker.unblock():
        running = [start_worker(broker)]
        yield running
        for worker in running:
            if worker.thread.is_alive():
                worker.stop()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="the worker, the web server and the browser write at once: runs when the suite "
    "runs on PostgreSQL (scripts/test runs it twice); on SQLite, after other browser tests in "
    "the same session, the worker thread's database access is refused",
)
def test_smoke_reaches_the_console_and_the_guard_resolves_it(
    chromium: Any,
    asgi_server: Any,
    live_world: Any,
    detector: Device,
    broker: Broker,
    publisher: Publisher,
    workers: list[WorkerThread],
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    operator, guard = live_world.user("operator"), live_world.user("guard")
    # The bridge reports the detector's normal state first: a baseline, no event.
    publisher.publish(TOPIC, payload("smoke_state.json"))
    wait_until(
        lambda: WorkerStatus.objects.filter(messages_total__gte=1).exists(),
        "the worker to handle the baseline",
    )

    console = page_as(chromium, asgi_server, operator, WALL)
    console.goto(f"{asgi_server.url}/alarms/console/")
    console.locator('#console[data-connected="true"]').wait_for(timeout=15_000)
    assert console.locator("[data-empty-calm]").is_visible()
    assert not console.locator("#console-health").is_visible()

    # The guard's phone is open on their page before anything is dispatched to them.
    phone = page_as(chromium, asgi_server, guard, PHONE)
    phone.goto(f"{asgi_server.url}/alarms/mine/")
    phone.locator('[data-testid="guard-empty"]').wait_for(timeout=10_000)
    phone.wait_for_function("window.AnwangGuard && window.AnwangGuard.source.readyState === 1")

    # Smoke: on the console within 2 s of the publish, without a reload.
    started = time.monotonic()
    publisher.publish(TOPIC, payload("smoke_state.json", smoke=True))
    row = console.locator("#console-queue .console-alarm").first
    row.wait_for(timeout=2_000)
    assert time.monotonic() - started < 2.0
    alarm = Alarm.objects.get()
    assert row.get_attribute("data-alarm-id") == str(alarm.pk)
    assert row.get_attribute("data-state") == "raised"
    assert "Smoke at kitchen smoke" in row.inner_text()
    assert alarm.rule is not None
    assert alarm.rule.builtin == "smoke"
    assert alarm.priority == 1

    # The operator acknowledges it and dispatches it to the guard.
    row.locator(".console-alarm-link").click()
    panel = console.locator(f'#console-detail .console-panel[data-alarm-id="{alarm.pk}"]')
    panel.wait_for(timeout=5_000)
    panel.locator('button[data-action="acknowledge"]').click()
    console.locator(
        f'#console-queue .console-alarm[data-alarm-id="{alarm.pk}"][data-state="acknowledged"]'
    ).wait_for(timeout=3_000)
    console.locator("#console-assignee").select_option(str(guard.pk))
    console.locator('#console-detail button[data-action="dispatch"]').click()
    console.locator(
        f'#console-queue .console-alarm[data-alarm-id="{alarm.pk}"][data-state="dispatched"]'
    ).wait_for(timeout=3_000)

    # The guard's page, opened before the dispatch, shows it by itself.
    card = phone.locator(f'#alarm-{alarm.pk}[data-state="dispatched"]')
    card.wait_for(timeout=5_000)
    assert "Smoke at kitchen smoke" in card.inner_text()
    # Each step is a form posted and the page loaded again.
    wait_quiet(phone)
    with phone.expect_navigation():
        phone.locator(f'#alarm-{alarm.pk} button[data-action="accept"]').click()
    assert phone.locator(f'#alarm-{alarm.pk} button[data-action="accept"]').count() == 0
    wait_quiet(phone)
    with phone.expect_navigation():
        phone.locator(f'#alarm-{alarm.pk} button[data-action="arrive"]').click()
    phone.locator(f'#alarm-{alarm.pk}[data-state="on_scene"]').wait_for(timeout=5_000)
    photo = tmp_path / "scene.png"
    Image.new("RGB", (32, 24), (30, 120, 200)).save(photo, format="PNG")
    wait_quiet(phone)
    card = phone.locator(f"#alarm-{alarm.pk}")
    card.locator('input[type="file"]').set_input_files(str(photo))
    with phone.expect_navigation():
        card.locator('form[data-action="photo"] button[type="submit"]').click()
    phone.locator(f"#alarm-{alarm.pk} .guard-photos img").wait_for(timeout=5_000)
    wait_quiet(phone)
    phone.locator(f"#alarm-{alarm.pk} textarea").fill("Burnt toast; detector reset.")
    with phone.expect_navigation():
        phone.locator(f'#alarm-{alarm.pk} button[data-action="resolve"]').click()
    phone.locator(f'#alarm-{alarm.pk}[data-state="resolved"]').wait_for(timeout=5_000)
    # The console drops the closed alarm by itself.
    console.locator(f'#console-queue .console-alarm[data-alarm-id="{alarm.pk}"]').wait_for(
        state="detached", timeout=3_000
    )

    alarm.refresh_from_db()
    assert alarm.state == AlarmState.RESOLVED
    assert alarm.acknowledged_by == operator
    assert alarm.assignee == guard
    assert alarm.acknowledged_at is not None
    assert alarm.dispatched_at is not None
    assert alarm.accepted_at is not None
    assert alarm.on_scene_at is not None
    assert alarm.closed_by == guard
    assert [(step.action, step.actor) for step in alarm.steps.all()] == [
        ("raised", None),
        ("acknowledged", operator),
        ("dispatched", operator),
        ("accepted", guard),
        ("on_scene", guard),
        ("photo", guard),
        ("resolved", guard),
    ]
    assert alarm.steps.get(action="resolved").note == "Burnt toast; detector reset."
    assert AlarmPhoto.objects.filter(alarm=alarm, uploaded_by=guard).count() == 1
    event = DeviceEvent.objects.get(device=detector, kind="smoke")
    assert alarm.raised_at == event.received_at

    # The worker stops: the red banner comes up; started again, it goes.
    (worker,) = workers
    worker.stop()
    health = console.locator("#console-health")
    health.wait_for(state="visible", timeout=15_000)
    assert "No event worker is running" in health.inner_text()
    assert console.locator("[data-empty-unhealthy]").is_visible()
    workers.append(start_worker(broker, client_id=worker.worker.client_id))
    health.wait_for(state="hidden", timeout=15_000)
    assert console.locator("[data-empty-calm]").is_visible()
    assert console.js_errors == []
    assert phone.js_errors == []

"""A patrol run on a phone in a real browser: start a run, lose the signal, reload the page
without signal (the service worker serves it), check in by typing a code (kept on the phone),
get the signal back, and see the check-in reach the server with its original time.

The browser and the committed world are the shared fixtures of :mod:`tests.browser_support`;
``live_patrols`` (conftest) adds the gate, the garden (far from the gate) and the route.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

import pytest
from django.utils import timezone
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.patrols.choices import CheckInStatus
from anwang.patrols.models import CheckIn, PatrolRun

pytestmark = pytest.mark.browser


def test_patrol_run_offline_on_a_phone(live_server: Any, chromium: Any, live_patrols: Any) -> None:
    gate = live_patrols.gate
    page = page_as(chromium, live_server, live_patrols.user("guard"))
    context = page.context

    visit(page, f"{live_server.url}/patrols/runs/")
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.locator("[data-testid=start-run] button[type=submit]").click()
    run = PatrolRun.objects.get()
    assert page.url.endswith(f"/patrols/runs/{run.pk}/go/")
    assert page.locator("[data-testid=next]").inner_text() == "北门"
    # The service worker is installed and has kept the page and its data.
    page.locator('#run[data-offline-ready="true"]').wait_for()
    assert fits_the_phone(page)

    # The signal goes; the page still opens.
    context.set_offline(True)
    page.reload()
    page.locator("#run").wait_for()
    assert page.locator("[data-testid=next]").inner_text() == "北门"
    assert "Offline" in page.locator("[data-testid=net]").inner_text()

    # A typed check-in is kept on the phone.
    before = timezone.now()
    page.locator("[data-testid=code]").fill(gate.code.lower().replace("-", " "))
    page.locator("[data-testid=check-in]").click()
    page.locator('#run[data-waiting="1"]').wait_for()
    after = timezone.now()
    entry = page.locator("[data-testid=check-ins] li").first
    assert "北门" in entry.inner_text()
    assert "waiting to sync" in entry.inner_text()
    assert page.locator("[data-testid=next]").inner_text() == "花园"
    assert not CheckIn.objects.exists()

    # Reloaded without signal: the check-in is still there, still waiting.
    page.reload()
    page.locator('#run[data-waiting="1"]').wait_for()
    assert "waiting to sync" in page.locator("[data-testid=check-ins] li").first.inner_text()
    assert not CheckIn.objects.exists()
    time.sleep(2)  # so that the time of sending differs visibly from the time of the scan

    # The signal comes back: the check-in is sent and accepted with its original time.
    context.set_offline(False)
    page.locator('#run[data-waiting="0"]').wait_for()
    page.locator('[data-testid=check-ins] li[data-state="accepted"]').wait_for()
    check_in = CheckIn.objects.get()
    assert check_in.status == CheckInStatus.ACCEPTED
    assert check_in.checkpoint == gate
    assert check_in.method == "typed"
    assert before - dt.timedelta(seconds=1) <= check_in.scanned_at <= after
    assert check_in.received_at - check_in.scanned_at >= dt.timedelta(seconds=2)
    assert "Online" in page.locator("[data-testid=net]").inner_text()
    assert fits_the_phone(page)

    # The supervisor's list and the run's page fit a phone too.
    admin = page_as(chromium, live_server, live_patrols.user("community_admin"))
    visit(admin, f"{live_server.url}/patrols/runs/")
    assert admin.locator("[data-testid=run]").count() == 1
    assert fits_the_phone(admin)
    visit(admin, f"{live_server.url}/patrols/runs/{run.pk}/")
    admin.locator('#run-map[data-loaded="true"]').wait_for()
    assert admin.locator("[data-testid=check-in]").count() == 1
    assert fits_the_phone(admin)
    assert admin.js_errors == []
    if os.environ.get("ANWANG_SHOT"):
        page.screenshot(path=os.environ["ANWANG_SHOT"], full_page=True)
    assert page.js_errors == []


def test_gps_sos_and_finish_on_a_phone(live_server: Any, chromium: Any, live_patrols: Any) -> None:
    from anwang.alarms.models import Alarm
    from anwang.patrols import services

    gate, yard = live_patrols.gate, live_patrols.yard
    guard = live_patrols.user("guard")
    run = services.patrol_run_start(actor=guard, route=live_patrols.route)
    page = page_as(chromium, live_server, guard)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    # Standing at the gate, about 10 m accurate.
    page.context.set_geolocation({"latitude": 30.5005, "longitude": 114.3005, "accuracy": 10})
    visit(page, f"{live_server.url}/patrols/runs/{run.pk}/go/")
    page.locator("[data-gps]", has_text="GPS").wait_for()

    # A typing mistake is caught on the phone; nothing is queued or sent.
    wrong = gate.code[:-1] + ("0" if gate.code[-1] != "0" else "1")
    page.locator("[data-testid=code]").fill(wrong)
    page.locator("[data-testid=check-in]").click()
    page.locator("[data-testid=message]", has_text="not a checkpoint code").wait_for()
    assert not CheckIn.objects.exists()

    # Checked in at the gate with the position; then at the yard from the gate: far.
    page.locator("[data-testid=code]").fill(gate.code)
    page.locator("[data-testid=check-in]").click()
    page.locator('[data-testid=check-ins] li[data-state="accepted"]').wait_for()
    page.locator("[data-testid=code]").fill(yard.code)
    page.locator("[data-testid=check-in]").click()
    page.locator('[data-testid=check-ins] li[data-state="accepted"]').nth(1).wait_for()
    at_gate = CheckIn.objects.get(checkpoint=gate)
    assert at_gate.accuracy == 10
    assert at_gate.distance_m is not None
    assert at_gate.distance_m < 1
    assert not at_gate.far
    assert CheckIn.objects.get(checkpoint=yard).far
    assert "far from the checkpoint" in page.locator("[data-testid=check-ins]").inner_text()

    # SOS asks once more, then raises a P1 alarm with the position.
    page.locator("[data-testid=sos]").click()
    page.locator("[data-testid=sos-send]").click()
    page.locator("[data-testid=sos-status]", has_text="SOS sent").wait_for()
    alarm = Alarm.objects.get()
    assert alarm.priority == 1
    assert "30.500500, 114.300500 (±10 m)" in alarm.steps.get().note

    # Finishing goes to the run's page.
    with page.expect_navigation():
        page.locator("[data-testid=finish]").click()
    assert page.url.endswith(f"/patrols/runs/{run.pk}/")
    run.refresh_from_db()
    assert run.status == "completed"
    page.locator('#run-map[data-loaded="true"]').wait_for()
    assert page.locator("#run-map").get_attribute("data-device-count") == "5"
    assert fits_the_phone(page)
    if os.environ.get("ANWANG_SHOT"):
        page.screenshot(path=os.environ["ANWANG_SHOT"] + "-detail.png", full_page=True)
    assert page.js_errors == []


def test_each_stop_links_to_the_hazard_report_once_there_is_one(
    live_server: Any, chromium: Any, live_patrols: Any, monkeypatch: Any
) -> None:
    from anwang.patrols import services
    from anwang.patrols.templatetags import patrols_tags

    # As if the hazards app had its report page (the live server runs in this process).
    monkeypatch.setattr(patrols_tags, "reverse", lambda name: "/hazards/report/")
    guard = live_patrols.user("guard")
    run = services.patrol_run_start(actor=guard, route=live_patrols.route)
    page = page_as(chromium, live_server, guard)
    visit(page, f"{live_server.url}/patrols/runs/{run.pk}/go/")
    links = page.locator("[data-testid=stops] [data-testid=report-hazard]")
    links.first.wait_for()
    assert [links.nth(n).get_attribute("href") for n in range(links.count())] == [
        f"/hazards/report/?checkpoint={live_patrols.gate.pk}",
        f"/hazards/report/?checkpoint={live_patrols.yard.pk}",
    ]
    assert links.first.inner_text() == "Report a hazard here"
    assert fits_the_phone(page)
    assert page.js_errors == []


FAKE_CAMERA = """
(() => {
  // A phone whose camera sees one QR code: BarcodeDetector and the camera stand-ins.
  window.BarcodeDetector = class {
    static getSupportedFormats() { return Promise.resolve(["qr_code"]); }
    detect() { return Promise.resolve([{rawValue: %s}]); }
  };
  Object.defineProperty(navigator, "mediaDevices", {
    value: {getUserMedia: () => Promise.resolve({getTracks: () => [{stop() {}}]})},
  });
  Object.defineProperty(HTMLMediaElement.prototype, "srcObject", {
    set() {},
    get() { return null; },
  });
  HTMLMediaElement.prototype.play = () => Promise.resolve();
})();
"""


def test_camera_check_in_through_the_shared_scanner(
    live_server: Any, chromium: Any, live_patrols: Any
) -> None:
    import json

    from anwang.patrols import services

    gate = live_patrols.gate
    guard = live_patrols.user("guard")
    run = services.patrol_run_start(actor=guard, route=live_patrols.route)
    page = page_as(chromium, live_server, guard)
    page.context.add_init_script(FAKE_CAMERA % json.dumps(gate.code))
    visit(page, f"{live_server.url}/patrols/runs/{run.pk}/go/")
    scan = page.locator("[data-scan]")
    scan.wait_for(state="visible")
    scan.click()
    page.locator('[data-testid=check-ins] li[data-state="accepted"]').wait_for()
    check_in = CheckIn.objects.get()
    assert (check_in.checkpoint_id, check_in.method) == (gate.pk, "qr")
    assert page.locator("[data-camera]").is_hidden()
    assert not page.js_errors

"""The guard's phone page in Debian's chromium (Playwright) at 390x844, against the live
server: a dispatched alarm is shown, accepted, reached, photographed and resolved.

Skipped when /usr/bin/chromium is missing, except in CI where that fails.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from tests.browser_support import page_as

from anwang.alarms import services
from anwang.alarms.choices import AlarmState
from anwang.alarms.models import Alarm, AlarmPhoto
from anwang.alarms.tests.conftest import firing, make_device, make_rule

pytestmark = pytest.mark.browser

FAKE_EVENT_SOURCE = """
window.__sources = [];
window.EventSource = function (url) {
  this.url = url; this.listeners = {}; window.__sources.push(this);
};
window.EventSource.prototype.addEventListener = function (kind, fn) {
  (this.listeners[kind] = this.listeners[kind] || []).push(fn);
};
window.__emit = function (kind, data) {
  window.__sources.forEach(function (s) {
    (s.listeners[kind] || []).forEach(function (fn) { fn({data: JSON.stringify(data)}); });
  });
};
"""
"""A stand-in for the browser's EventSource that the test speaks through with ``__emit``, so
the page's side of the live stream is tested on its own (the stream itself is core's)."""


def phone_page(chromium: Any, live_server: Any, user: Any) -> Any:
    """A phone-sized page logged in as ``user``, in English, with the stand-in live stream."""
    page = page_as(chromium, live_server, user, has_touch=True)
    page.add_init_script(FAKE_EVENT_SOURCE)
    return page


def no_horizontal_scroll(page: Any) -> bool:
    """Whether the page fits the phone's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_guard_accepts_arrives_photographs_and_resolves(
    live_server, chromium, live_world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    world = live_world
    rule = make_rule(world.a)
    device = make_device(world.a)
    (alarm,) = services.alarms_from_firings(
        firings=[firing(rule, device=device)], now=rule.created_at
    )
    guard = world.user("guard")
    services.alarm_dispatch(actor=world.user("operator"), alarm=alarm, assignee=guard)

    page = phone_page(chromium, live_server, guard)
    page.goto(f"{live_server.url}/alarms/mine/")
    card = page.locator(f"#alarm-{alarm.pk}")
    card.wait_for()
    assert card.get_attribute("data-state") == AlarmState.DISPATCHED
    assert "Smoke at sensor smoke-1" in card.inner_text()
    # The location is drawn (the zone's centre: the device has no position of its own).
    page.locator(f'#alarm-{alarm.pk} [data-anwang-map][data-loaded="true"]').wait_for()
    assert no_horizontal_scroll(page)
    accept = card.locator('button[data-action="accept"]')
    box = accept.bounding_box()
    assert box is not None
    assert box["height"] >= 48

    accept.tap()
    page.locator(f"#alarm-{alarm.pk}").wait_for()
    assert page.locator(f'#alarm-{alarm.pk} button[data-action="accept"]').count() == 0
    page.locator(f'#alarm-{alarm.pk} button[data-action="arrive"]').tap()
    page.locator(f'#alarm-{alarm.pk}[data-state="on_scene"]').wait_for()

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 120, 200)).save(buffer, format="PNG")
    card = page.locator(f"#alarm-{alarm.pk}")
    card.locator('input[type="file"]').set_input_files(
        {"name": "scene.png", "mimeType": "image/png", "buffer": buffer.getvalue()}
    )
    card.locator('form[data-action="photo"] button[type="submit"]').tap()
    page.locator(f"#alarm-{alarm.pk} .guard-photos img").wait_for()

    page.locator(f"#alarm-{alarm.pk} textarea").fill("Burnt toast in 302; detector reset.")
    page.locator(f'#alarm-{alarm.pk} button[data-action="resolve"]').tap()
    page.locator(f'#alarm-{alarm.pk}[data-state="resolved"]').wait_for()
    history = page.locator(f'#alarm-{alarm.pk} [data-testid="guard-history"]').text_content()
    assert "Burnt toast in 302" in history
    assert no_horizontal_scroll(page)
    assert page.js_errors == []

    alarm = Alarm.objects.get(pk=alarm.pk)
    assert alarm.state == AlarmState.RESOLVED
    assert alarm.accepted_at is not None
    assert alarm.on_scene_at is not None
    assert AlarmPhoto.objects.filter(alarm=alarm, uploaded_by=guard).count() == 1


def test_a_new_dispatch_appears_without_reload(live_server, chromium, live_world):
    """The page re-fetches its list when the live stream reports a dispatch to this guard
    (messages in the format documented in ``anwang.core.live``)."""
    world = live_world
    guard = world.user("guard")
    page = phone_page(chromium, live_server, guard)
    page.goto(f"{live_server.url}/alarms/mine/")
    page.locator('[data-testid="guard-empty"]').wait_for()
    assert page.evaluate("window.__sources.map(s => s.url)") == ["/live/stream"]
    rule = make_rule(world.a)
    (alarm,) = services.alarms_from_firings(
        firings=[firing(rule, device=make_device(world.a))], now=rule.created_at
    )
    services.alarm_dispatch(actor=world.user("operator"), alarm=alarm, assignee=guard)
    # A message about someone else's alarm changes nothing.
    page.evaluate(
        "window.__emit('alarm', {id: 999999, state: 'dispatched', assignee: 999999, "
        "change: 'dispatched'})"
    )
    page.wait_for_timeout(300)
    assert page.locator(f"#alarm-{alarm.pk}").count() == 0
    page.evaluate(
        f"window.__emit('alarm', {{id: {alarm.pk}, state: 'dispatched', assignee: {guard.pk}, "
        "change: 'dispatched'})"
    )
    page.locator(f"#alarm-{alarm.pk}").wait_for(timeout=5_000)
    page.locator(f'#alarm-{alarm.pk} [data-anwang-map][data-loaded="true"]').wait_for()
    assert page.js_errors == []

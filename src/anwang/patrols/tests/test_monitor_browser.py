"""The live patrol board on a phone in a real browser: the countdown runs every second and the
page fits 390 px.

Self-contained like the other browser tests: a function-scoped chromium.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from anwang.patrols import services
from anwang.patrols.tests.conftest import make_checkpoint, make_route
from anwang.patrols.tests.test_browser import PHONE, chromium, live_world, phone_as, visit

pytestmark = pytest.mark.browser

__all__ = ["chromium", "live_world"]  # fixtures used by name below


def test_board_counts_down_on_a_phone(live_server: Any, chromium: Any, live_world: Any) -> None:
    gate = make_checkpoint(live_world.a, "北门")
    route = make_route(live_world.a, gate)
    run = services.patrol_run_start(actor=live_world.user("guard"), route=route)
    page = phone_as(chromium, live_server, live_world.user("operator"))
    visit(page, f"{live_server.url}/patrols/board/")
    row = page.locator(f'[data-testid=board-run][data-run-id="{run.pk}"]')
    row.wait_for()
    assert "北门" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    countdown = row.locator(".monitor-countdown time")
    first = countdown.inner_text()
    assert ":" in first
    time.sleep(1.5)
    assert countdown.inner_text() != first

"""Patrol monitoring in a real browser on a phone (390 px): the live board's countdown runs
every second, and the reports page with its Excel and CSV downloads.

The browser and the committed world are the shared fixtures of :mod:`tests.browser_support`;
``live_patrols`` (conftest) adds the route.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tests.browser_support import fits_the_phone, page_as, visit

from anwang.patrols import services

pytestmark = pytest.mark.browser


def test_board_counts_down_on_a_phone(live_server: Any, chromium: Any, live_patrols: Any) -> None:
    run = services.patrol_run_start(actor=live_patrols.user("guard"), route=live_patrols.route)
    page = page_as(chromium, live_server, live_patrols.user("operator"))
    visit(page, f"{live_server.url}/patrols/board/")
    row = page.locator(f'[data-testid=board-run][data-run-id="{run.pk}"]')
    row.wait_for()
    assert "北门" in row.inner_text()
    assert fits_the_phone(page)
    countdown = row.locator(".monitor-countdown time")
    first = countdown.inner_text()
    assert ":" in first
    time.sleep(1.5)
    assert countdown.inner_text() != first
    assert page.js_errors == []


def test_reports_and_their_downloads_on_a_phone(
    live_server: Any, chromium: Any, live_patrols: Any
) -> None:
    guard = live_patrols.user("guard")
    run = services.patrol_run_start(actor=guard, route=live_patrols.route)
    services.patrol_run_finish(actor=guard, run=run)
    page = page_as(chromium, live_server, live_patrols.user("supervisor"), accept_downloads=True)
    visit(page, f"{live_server.url}/patrols/reports/")
    assert page.locator("[data-testid=missed-row]").count() == 2
    assert fits_the_phone(page)
    with page.expect_download() as download:
        page.locator("a[href*='export=xlsx']:not([href*='missed'])").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("All", "All runs", "1")
    with page.expect_download() as download:
        page.locator("a[href*='export=csv'][href*='missed']").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "北门" in text
    assert "花园" in text
    assert page.js_errors == []

"""A welfare check from enrolment to the visit, in a real browser and in Chinese: the community
admin (1280x800) finds a resident living alone by name and enrols them on a consent given on a
signed form; a day and a bit of silence later the worker's minute job opens a check; the grid
worker finds it on their phone (390x844) and closes it as safe and well; the admin's report
counts one false alarm for the household. Screenshots go to ``/tmp/welfare_*.png``.

The browser and the committed world are the shared fixtures of :mod:`tests.browser_support`.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from tests.browser_support import PHONE, fits_the_phone, page_as, visit

from anwang.people.choices import ResidentTag
from anwang.people.models import ResidentTagLink
from anwang.welfare.choices import CheckOutcome, CheckStatus
from anwang.welfare.models import WelfareCheck, WelfareWatch
from anwang.welfare.services import welfare_checks_run

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}
LANGUAGE = "zh-hans"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(Path(tempfile.gettempdir()) / f"welfare_{name}.png"), full_page=True)


def test_enrol_open_visit_and_report(live_server: Any, chromium: Any, live_world: Any) -> None:
    side = live_world.a
    grid_worker = live_world.user("grid_worker")
    side.grid.grid_worker = grid_worker
    side.grid.save(update_fields=["grid_worker"])
    ResidentTagLink.objects.get_or_create(resident=side.resident, tag=ResidentTag.LIVING_ALONE)

    # The admin finds the resident by name and enrols them on their signed consent.
    admin = page_as(
        chromium, live_server, live_world.user("community_admin"), DESK, language=LANGUAGE
    )
    visit(admin, f"{live_server.url}/welfare/new/")
    admin.locator("[data-testid=find-resident] input[name=q]").fill(side.resident.name)
    with admin.expect_navigation():
        admin.locator("[data-testid=find-resident] button").click()
    admin.locator("[data-testid=choose-resident] select[name=resident]").select_option(
        str(side.resident.pk)
    )
    with admin.expect_navigation():
        admin.locator("[data-testid=choose-resident] button[type=submit]").click()
    assert admin.locator("[data-testid=consent-state] .badge.warn").count() == 1
    # Without saying how consent was given, nothing is enrolled and the input stays.
    admin.locator("#id_quiet_hours").fill("12")
    with admin.expect_navigation():
        admin.locator("[data-testid=watch-form] button[type=submit]").click()
    assert not WelfareWatch.objects.exists()
    assert admin.locator("#id_quiet_hours").input_value() == "12"
    assert admin.locator(".errorlist").count() >= 1
    admin.locator("#id_consent_how").fill("书面同意书，本人签字")
    with admin.expect_navigation():
        admin.locator("[data-testid=watch-form] button[type=submit]").click()
    match = re.search(r"/welfare/watches/(\d+)/$", admin.url)
    assert match, admin.url
    watch = WelfareWatch.objects.get(pk=int(match.group(1)))
    assert (watch.resident_id, watch.quiet_hours) == (side.resident.pk, 12)
    assert "12" in admin.locator("[data-testid=status-words]").inner_text()
    _shot(admin, "watch")
    assert not admin.js_errors

    # Thirteen quiet hours later (the enrolment moved back in time rather than the clock on),
    # the worker's minute job opens a check for the grid worker.
    WelfareWatch.objects.filter(pk=watch.pk).update(
        enrolled_at=timezone.now() - dt.timedelta(hours=13)
    )
    report = welfare_checks_run()
    assert report.opened == 1
    check = WelfareCheck.objects.get(watch=watch)
    assert check.assignee == grid_worker

    # The grid worker visits and finds the resident safe and well.
    worker = page_as(chromium, live_server, grid_worker, PHONE, language=LANGUAGE)
    visit(worker, f"{live_server.url}/welfare/mine/")
    assert worker.locator("[data-testid=my-checks] li").count() == 1
    assert fits_the_phone(worker)
    with worker.expect_navigation():
        worker.locator("[data-testid=my-checks] li a").first.click()
    assert worker.locator("[data-testid=check-resident]").inner_text() == side.resident.name
    assert fits_the_phone(worker)
    _shot(worker, "check_phone")
    worker.locator(f"[data-testid=close-form] input[value={CheckOutcome.SAFE}]").check()
    with worker.expect_navigation():
        worker.locator("[data-testid=close-form] button[type=submit]").click()
    check.refresh_from_db()
    assert (check.status, check.outcome, check.closed_by) == (
        CheckStatus.CLOSED,
        CheckOutcome.SAFE,
        grid_worker,
    )
    visit(worker, f"{live_server.url}/welfare/mine/")
    assert worker.locator("[data-testid=my-checks] li").count() == 0
    assert not worker.js_errors

    # The admin's report counts it as a false alarm of the household.
    visit(admin, f"{live_server.url}/welfare/report/")
    assert "1 / 1" in admin.locator("[data-testid=report-table]").inner_text()
    _shot(admin, "report")
    assert not admin.js_errors

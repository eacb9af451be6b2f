"""A safety alert from composing to the door-knocks, in a real browser and in Chinese: the
community admin (1280x800) picks the typhoon template, sees the reach preview change as a
channel is ticked, and sends; a resident on a phone (390x844) finds it in the inbox and
confirms; the admin's follow-up list is one household shorter, and one click turns the rest
into door-knock visits; the grid worker records one on their phone. Screenshots go to
``/tmp/alerts_*.png``.

The browser and the committed world are the shared fixtures of :mod:`tests.browser_support`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from tests.browser_support import PHONE, fits_the_phone, page_as, visit

from anwang.alerts.choices import AlertState, KnockStatus
from anwang.alerts.models import AlertRecipient, DoorKnockTask, SafetyAlert
from anwang.alerts.tests.support import build_alert_world

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}
LANGUAGE = "zh-hans"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(Path(tempfile.gettempdir()) / f"alerts_{name}.png"), full_page=True)


def test_compose_send_confirm_and_door_knock(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    alerts = build_alert_world(live_world)

    # The admin composes from the typhoon template; the preview shows the reach at once.
    admin = page_as(chromium, live_server, alerts.admin, DESK, language=LANGUAGE)
    visit(admin, f"{live_server.url}/alerts/new/")
    with admin.expect_navigation():
        admin.locator("[data-template=typhoon]").click()
    assert admin.locator("#id_severity").input_value() == "Severe"
    assert admin.locator("#id_confirmation input[value=safe]").is_checked()
    assert admin.locator("[data-testid=reach-households]").inner_text() == "4"
    assert admin.locator("[data-testid=reach-unreachable]").count() == 1
    # Ticking SMS reaches the resident who has only a registered phone: htmx swaps the preview.
    admin.locator("#id_channels input[value=sms]").check()
    admin.locator("#alert-preview tr[data-channel=sms]").wait_for()
    assert admin.locator("[data-testid=reach-unreachable]").count() == 0
    _shot(admin, "compose")
    with admin.expect_navigation():
        admin.locator("[data-testid=send]").click()
    match = re.search(r"/alerts/(\d+)/$", admin.url)
    assert match, admin.url
    alert = SafetyAlert.objects.get(pk=int(match.group(1)))
    assert alert.state == AlertState.ACTIVE
    assert alert.households_reached == 4
    assert admin.locator("[data-testid=count-unconfirmed]").inner_text() == "4"
    assert not admin.js_errors

    # The resident finds it in the inbox on a phone and confirms.
    resident = page_as(chromium, live_server, alerts.tenant, PHONE, language=LANGUAGE)
    visit(resident, f"{live_server.url}/notifications/")
    item = resident.locator("[data-testid=inbox-item]", has_text=alert.headline)
    assert item.count() == 1
    assert fits_the_phone(resident)
    with resident.expect_navigation():
        item.locator("[data-testid=confirm]").click()
    assert item.locator("[data-testid=confirm]").count() == 0
    assert AlertRecipient.objects.get(alert=alert, household=alerts.tenant_household).confirmed_at
    # The alert's own page says it is confirmed.
    with resident.expect_navigation():
        item.locator(f"a[href='/alerts/{alert.pk}/']").click()
    assert resident.locator("[data-testid=confirmed]").count() == 1
    assert fits_the_phone(resident)
    _shot(resident, "resident_phone")

    # The admin's follow-up list is one shorter; one click sends the grid worker.
    visit(admin, f"{live_server.url}/alerts/{alert.pk}/follow-up/")
    assert admin.locator("[data-testid=count-unconfirmed]").inner_text() == "3"
    assert admin.locator("[data-testid=unconfirmed-list] tbody tr").count() == 3
    assert admin.locator("[data-testid=without-visitor]").count() == 1
    with admin.expect_navigation():
        admin.locator("[data-testid=knock-all]").click()
    tasks = DoorKnockTask.objects.filter(alert=alert)
    assert tasks.count() == 2
    assert admin.locator("[data-testid=open-knocks] tbody tr").count() == 2
    _shot(admin, "follow_up")
    assert not admin.js_errors

    # The grid worker visits the vulnerable household first and finds everyone safe.
    worker = page_as(chromium, live_server, alerts.grid_worker, PHONE, language=LANGUAGE)
    visit(worker, f"{live_server.url}/alerts/door-knocks/")
    assert worker.locator("[data-testid=knocks] li").count() == 2
    assert fits_the_phone(worker)
    with worker.expect_navigation():
        worker.locator("[data-testid=knocks] li a").first.click()
    assert worker.locator("[data-testid=vulnerable]").count() == 1
    assert fits_the_phone(worker)
    _shot(worker, "knock_phone")
    with worker.expect_navigation():
        worker.locator("button[data-outcome=safe]").click()
    assert worker.locator("[data-testid=knocks] li").count() == 1
    assert tasks.filter(status=KnockStatus.DONE).count() == 1
    visit(admin, f"{live_server.url}/alerts/{alert.pk}/follow-up/")
    assert admin.locator("[data-testid=count-unconfirmed]").inner_text() == "2"

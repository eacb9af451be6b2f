"""QR attendance in a real browser on a phone: a participant opens the URL that the session's QR
code carries (as the phone's camera would), confirms, and is recorded once.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser_support import PHONE, page_as

from anwang.training import services
from anwang.training.models import Attendance
from anwang.training.tests.conftest import make_course, make_session

pytestmark = pytest.mark.browser


def test_check_in_by_opening_the_qr_url_on_a_phone(
    live_server: Any, chromium: Any, live_world: Any
) -> None:
    session = make_session(make_course(live_world.a, "消防安全"), place="社区活动室")
    # The trainer's QR page shows the code; its link is exactly what the QR encodes.
    trainer = page_as(chromium, live_server, live_world.user("community_admin"))
    response = trainer.goto(f"{live_server.url}/training/sessions/{session.pk}/qr/")
    assert response is not None
    assert response.status == 200
    assert trainer.locator("#attendance-qr svg").count() == 1
    url = trainer.locator("[data-testid=check-in-url]").get_attribute("href")
    assert url is not None
    assert "/training/check-in/?t=" in url
    assert trainer.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page = page_as(chromium, live_server, live_world.user("guard"))
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    assert "消防安全" in page.locator("[data-testid=check-in]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_navigation():
        page.locator("[data-testid=confirm-check-in]").click()
    assert (
        "Your attendance was recorded." in page.locator("[data-testid=check-in-done]").inner_text()
    )
    page.goto(url)
    assert "already checked in" in page.locator("[data-testid=check-in-done]").inner_text()
    assert Attendance.objects.filter(session=session).count() == 1

    # A forged code is refused with a clear message.
    forged = url[:-4] + "abcd"
    response = page.goto(forged)
    assert response is not None
    assert response.status == 400
    assert "not genuine" in page.locator("[data-testid=check-in-error]").inner_text()
    assert page.js_errors == []
    assert trainer.js_errors == []
    assert services.TOKEN_MAX_AGE > 0

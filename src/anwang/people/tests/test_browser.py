"""The resident pages in Debian's chromium (Playwright) at phone size: masked values, the
audited 'Show' button swapping in the full value (htmx), and choosing a household level by
level. Skipped when /usr/bin/chromium is missing, except in CI where that fails."""

import pytest
from tests.browser_support import PHONE, page_as

from anwang.audit.models import AuditEvent
from anwang.people.models import HouseholdBinding

pytestmark = pytest.mark.browser


def test_show_button_swaps_in_the_full_value(live_server, chromium, live_world):
    page = page_as(chromium, live_server, live_world.user("community_admin"), PHONE)
    page.goto(f"{live_server.url}/people/residents/{live_world.a.resident.pk}/")
    phone = page.get_by_test_id("resident-phone")
    assert phone.inner_text() == "138****5678"
    assert "masked" in (phone.get_attribute("class") or "")
    assert page.get_by_test_id("resident-id-number").inner_text() == "110101********1234"
    page.get_by_test_id("reveal-phone").click()
    page.wait_for_selector('[data-testid="resident-phone"].revealed')
    assert page.get_by_test_id("resident-phone").inner_text() == "13812345678"
    assert page.get_by_test_id("resident-id-number").inner_text() == "110101********1234"
    assert AuditEvent.objects.filter(action="resident.reveal").count() == 1
    # The page fits a phone: nothing wider than the viewport.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


def test_operator_sees_no_show_button(live_server, chromium, live_world):
    page = page_as(chromium, live_server, live_world.user("operator"), PHONE)
    page.goto(f"{live_server.url}/people/residents/{live_world.a.resident.pk}/")
    assert page.get_by_test_id("resident-phone").inner_text() == "138****5678"
    assert page.get_by_test_id("reveal-phone").count() == 0


def test_binding_request_chooses_household_level_by_level(live_server, chromium, live_world):
    from conftest import make_user

    user = make_user("newcomer")
    page = page_as(chromium, live_server, user, PHONE)
    page.goto(f"{live_server.url}/people/bindings/request/")
    a = live_world.a
    for select, value, then in (
        ("#id_community", a.community.pk, "#id_building"),
        ("#id_building", a.building.pk, "#id_unit"),
        ("#id_unit", a.unit.pk, "#id_household"),
    ):
        page.select_option(select, str(value))
        page.wait_for_selector(then)
        # The form is swapped whole: wait until htmx has settled before the next choice.
        page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling')")
    page.select_option("#id_household", str(a.household.pk))
    page.get_by_test_id("binding-submit").click()
    page.wait_for_url("**/people/my-household/")
    binding = HouseholdBinding.objects.get(user=user)
    assert binding.household_id == a.household.pk
    assert page.get_by_test_id("binding-status").inner_text() == "Pending"

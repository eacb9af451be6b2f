"""The extension point for reporting a hazard from a checkpoint: no button while no app offers
a page named ``hazards:report``; once one does, links to it with ``?checkpoint=<id>`` on the
checkpoint's page, the run's page and each stop of the guard's phone page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import NoReverseMatch

from anwang.patrols import services
from anwang.patrols.templatetags import patrols_tags
from anwang.patrols.tests.conftest import make_checkpoint, make_route

pytestmark = pytest.mark.django_db


def phone_data(page: str) -> dict[str, Any]:
    """The JSON the phone page's script starts from."""
    found = re.search(r'<script id="run-data" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.fixture
def hazards_page(monkeypatch: pytest.MonkeyPatch) -> str:
    """As if the hazards app had its report page."""

    def reverse(name: str) -> str:
        if name != "hazards:report":
            raise NoReverseMatch(name)
        return "/hazards/report/"

    monkeypatch.setattr(patrols_tags, "reverse", reverse)
    return "/hazards/report/"


def test_no_hazard_button_without_a_hazards_page(
    world: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reverse(name: str) -> str:
        raise NoReverseMatch(name)

    monkeypatch.setattr(patrols_tags, "reverse", reverse)  # whether or not hazards has it yet
    gate = make_checkpoint(world.a, "北门")
    run = services.patrol_run_start(actor=world.user("guard"), route=make_route(world.a, gate))
    assert patrols_tags.hazard_report_url(gate.pk) == ""
    admin = client_for("community_admin")
    for url in (f"/patrols/checkpoints/{gate.pk}/", f"/patrols/runs/{run.pk}/"):
        page = admin.get(url)
        assert page.status_code == 200
        assert "report-hazard" not in page.text
    phone = client_for("guard").get(f"/patrols/runs/{run.pk}/go/")
    assert phone_data(phone.text)["urls"]["hazard_report"] == ""


def test_the_hazard_links_name_the_checkpoint(
    world: Any, client_for: Any, hazards_page: str
) -> None:
    gate = make_checkpoint(world.a, "北门")
    run = services.patrol_run_start(actor=world.user("guard"), route=make_route(world.a, gate))
    link = f'href="{hazards_page}?checkpoint={gate.pk}"'
    admin = client_for("community_admin")
    assert link in admin.get(f"/patrols/checkpoints/{gate.pk}/").text
    assert link in admin.get(f"/patrols/runs/{run.pk}/").text
    # The phone page's script adds the link to each stop from the base address.
    phone = client_for("guard").get(f"/patrols/runs/{run.pk}/go/")
    assert phone_data(phone.text)["urls"]["hazard_report"] == hazards_page
    assert "data-label-hazard=" in phone.text

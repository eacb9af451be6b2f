"""Default assignee of a hazard report from the responsibility matrix, with a controllable
clock: assigning without naming anyone gives the report to whoever answers for its building
(else its zone) at that moment; nobody answering is a clear error and nothing changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anwang.hazards import services
from anwang.hazards.choices import HazardStatus
from anwang.hazards.services import HazardInputError
from anwang.hazards.tests.support import report
from anwang.responsibilities import services as responsibility_services
from anwang.rosters import services as roster_services

pytestmark = pytest.mark.django_db

LOCAL = dt.timezone(dt.timedelta(hours=8))


def moment(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=LOCAL)


def triaged(world: Any, **fields: Any) -> Any:
    hazard = report(world, at=moment(3, 7), **fields)
    return services.hazard_triage(
        actor=world.user("community_admin"), hazard=hazard, severity="medium", at=moment(3, 7)
    )


@pytest.fixture
def matrix(world: Any) -> None:
    """The grid worker answers for the zone; the guard on duty (08-20) for the building."""
    responsibility_services.responsibility_create(
        actor=None,
        community=world.a.community,
        area_kind="zone",
        zone=world.a.zone,
        responsible_person=world.user("grid_worker"),
    )
    responsibility_services.responsibility_create(
        actor=None,
        community=world.a.community,
        area_kind="building",
        building=world.a.building,
        responsible_role="guard",
        deputy_person=world.user("operator"),
    )
    roster_services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role="guard",
        person=world.user("guard"),
        first_start=moment(1, 8),
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
    )


def test_the_building_comes_before_the_zone(world, matrix):
    hazard = triaged(world, building=world.a.building)
    assert hazard.zone_id == world.a.zone.pk  # the pin is in the zone as well
    assigned = services.hazard_assign(
        actor=world.user("community_admin"), hazard=hazard, at=moment(3, 9)
    )
    assert assigned.assignee == world.user("guard")
    assert assigned.status == HazardStatus.ASSIGNED


def test_outside_the_guards_shift_the_deputy_gets_it(world, matrix):
    hazard = triaged(world, building=world.a.building)
    assert services.hazard_default_assignee(hazard, at=moment(3, 22)) == world.user("operator")
    assigned = services.hazard_assign(
        actor=world.user("community_admin"), hazard=hazard, at=moment(3, 22)
    )
    assert assigned.assignee == world.user("operator")


def test_a_report_in_a_zone_only_goes_to_the_zones_person(world, matrix):
    hazard = triaged(world)
    assert hazard.building_id is None
    assigned = services.hazard_assign(
        actor=world.user("community_admin"), hazard=hazard, at=moment(3, 9)
    )
    assert assigned.assignee == world.user("grid_worker")


def test_an_explicit_assignee_wins(world, matrix):
    hazard = triaged(world, building=world.a.building)
    assigned = services.hazard_assign(
        actor=world.user("community_admin"),
        hazard=hazard,
        assignee=world.user("volunteer"),
        at=moment(3, 9),
    )
    assert assigned.assignee == world.user("volunteer")


def test_nobody_answering_is_a_clear_error(world):
    hazard = triaged(world)
    assert services.hazard_default_assignee(hazard, at=moment(3, 9)) is None
    with pytest.raises(HazardInputError) as caught:
        services.hazard_assign(actor=world.user("community_admin"), hazard=hazard, at=moment(3, 9))
    assert caught.value.field == "assignee"
    assert "Nobody answers for this place" in str(caught.value.message)
    hazard.refresh_from_db()
    assert (hazard.status, hazard.assignee) == (HazardStatus.TRIAGED, None)


def test_the_api_and_the_page_use_the_matrix_when_nobody_is_named(world, matrix, settings):
    settings.LANGUAGE_CODE = "en"
    hazard = triaged(world, building=world.a.building)
    admin = world.client_for("community_admin")
    # The page offers the responsible person as the pre-filled choice (the guard on duty
    # now, or the operator standing in outside the guard's shift).
    page = admin.get(f"/hazards/{hazard.pk}/").text
    default = services.hazard_default_assignee(hazard)
    assert default is not None
    assert f'<option value="{default.pk}" selected>' in page
    response = admin.post(
        f"/api/v1/hazards/{hazard.pk}/assign", {}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["assignee"]["id"] == default.pk


def test_the_responsible_person_is_told_through_the_outbox(world, matrix):
    from anwang.notifications.models import Delivery

    hazard = triaged(world, building=world.a.building)
    services.hazard_assign(actor=world.user("community_admin"), hazard=hazard, at=moment(3, 9))
    told = Delivery.objects.get(notification__kind="hazard.assigned", channel="inbox")
    assert told.recipient == world.user("guard")
    assert told.notification.url == f"/hazards/{hazard.pk}/"

"""Escalation follows the responsibility matrix and the roster, with a controllable clock:
a missed response time also reaches the people answering for the alarm's place (its zone,
the device's building), duty roles resolved at the moment of the miss, each person once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from anwang.alarms import services
from anwang.alarms.models import Alarm
from anwang.alarms.tests.conftest import T0, firing, make_rule
from anwang.devices.models import Device
from anwang.responsibilities import services as responsibility_services
from anwang.rosters import services as roster_services

pytestmark = pytest.mark.django_db

LOCAL = dt.timezone(dt.timedelta(hours=8))  # T0 is 06:00 in Shanghai


def daily(world: Any, role: str, user: str, start_hour: int, hours: int) -> None:
    """A daily duty in community A from 1 March, local time."""
    roster_services.duty_pattern_create(
        actor=None,
        community=world.a.community,
        duty_role=role,
        person=world.user(user),
        first_start=dt.datetime(2026, 3, 1, start_hour, tzinfo=LOCAL),
        duration=dt.timedelta(hours=hours),
        rrule="FREQ=DAILY",
    )


@pytest.fixture
def stairwell(world: Any) -> Device:
    """A smoke sensor in community A's zone and building."""
    return Device.objects.create(
        community=world.a.community,
        zone=world.a.zone,
        building=world.a.building,
        name="stairwell smoke",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id="stair-1",
    )


@pytest.fixture
def matrix(world: Any) -> None:
    """The grid worker answers for the zone; the guard on duty for the building."""
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
        deputy_role="on_duty_leader",
    )
    daily(world, "guard", "guard", 8, 12)  # 08:00-20:00 local
    daily(world, "on_duty_leader", "community_admin", 0, 24)


def p2_alarm(world: Any, device: Device, at: dt.datetime) -> Alarm:
    rule = make_rule(world.a, "leak", priority=2, title_template="Leak at {device}")
    (alarm,) = services.alarms_from_firings(firings=[firing(rule, device=device, at=at)], now=at)
    return alarm


def test_before_the_guards_shift_the_zone_person_and_leader_are_told(world, matrix, stairwell):
    p2_alarm(world, stairwell, T0)  # 06:00 local: no guard on duty yet
    (escalation,) = services.alarm_sla_check(now=T0 + dt.timedelta(seconds=60))
    recipients = list(escalation.recipients.all())
    assert set(recipients) == {world.user("community_admin"), world.user("grid_worker")}
    step = escalation.alarm.steps.get(action="escalated")
    assert len(step.data["recipients"]) == len(set(step.data["recipients"]))  # each once


def test_during_the_guards_shift_the_guard_is_told_first(world, matrix, stairwell):
    later = T0 + dt.timedelta(hours=4)  # 10:00 local
    p2_alarm(world, stairwell, later)
    (escalation,) = services.alarm_sla_check(now=later + dt.timedelta(seconds=60))
    assert set(escalation.recipients.all()) == {
        world.user("community_admin"),
        world.user("guard"),
        world.user("grid_worker"),
    }
    step = escalation.alarm.steps.get(action="escalated")
    assert sorted(step.data["recipients"]) == step.data["recipients"]


def test_recipients_are_told_through_the_outbox_and_the_guard_sent_too(world, matrix, stairwell):
    from anwang.notifications.models import Delivery

    later = T0 + dt.timedelta(hours=4)
    alarm = p2_alarm(world, stairwell, later)
    (escalation,) = services.alarm_sla_check(now=later + dt.timedelta(seconds=60))
    told = Delivery.objects.filter(notification__kind="alarm.escalated", channel="inbox")
    assert {delivery.recipient for delivery in told} == set(escalation.recipients.all())
    notification = told[0].notification
    assert notification.url == f"/alarms/{alarm.pk}/"
    assert (notification.priority, notification.urgent) == (2, False)  # P2: quiet hours hold
    services.alarm_dispatch(actor=world.user("operator"), alarm=alarm, assignee=world.user("guard"))
    sent = Delivery.objects.get(notification__kind="alarm.dispatched", channel="inbox")
    assert sent.recipient == world.user("guard")


def test_the_alarms_own_zone_counts_without_a_device(world, matrix):
    rule = make_rule(world.a, "manual", priority=2, title_template="Manual")
    later = T0 + dt.timedelta(hours=4)
    fired = dataclasses.replace(firing(rule, at=later), zone_id=world.a.zone.pk)
    services.alarms_from_firings(firings=[fired], now=later)
    (escalation,) = services.alarm_sla_check(now=later + dt.timedelta(seconds=60))
    assert world.user("grid_worker") in escalation.recipients.all()
    assert world.user("guard") not in escalation.recipients.all()  # no building known


def test_without_a_matrix_or_roster_only_admins(world, device):
    p2_alarm(world, device, T0)
    (escalation,) = services.alarm_sla_check(now=T0 + dt.timedelta(seconds=60))
    assert set(escalation.recipients.all()) == {world.user("community_admin")}


def test_nothing_due_costs_two_queries(world, matrix, stairwell, django_assert_num_queries):
    p2_alarm(world, stairwell, T0)
    with django_assert_num_queries(2):  # the two due-alarm queries, nothing more
        assert services.alarm_sla_check(now=T0 + dt.timedelta(seconds=1)) == []

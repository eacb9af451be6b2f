"""Response times and escalation with a controllable clock: the worker's check finds each miss
once, escalates it to the right people, may raise the priority, and feeds 'my work'."""

from __future__ import annotations

import datetime as dt

import pytest

from anwang.accounts.selectors import scope_for
from anwang.alarms import services
from anwang.alarms.choices import AlarmState, SlaKind, StepAction
from anwang.alarms.models import Alarm, Escalation, ResponseTime
from anwang.alarms.selectors import alarm_work_items
from anwang.alarms.tests.conftest import T0, firing, make_rule
from anwang.core.inbox import my_work

pytestmark = pytest.mark.django_db


def seconds(value: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=value)


@pytest.fixture
def p1(rule, device) -> Alarm:
    (alarm,) = services.alarms_from_firings(firings=[firing(rule, device=device)], now=T0)
    return alarm


def test_p1_unacknowledged_escalates_at_15_seconds_once(world, p1):
    assert services.alarm_sla_check(now=seconds(14.9)) == []
    (escalation,) = services.alarm_sla_check(now=seconds(15))
    assert escalation.sla == SlaKind.ACKNOWLEDGE
    assert escalation.at == seconds(15)
    assert services.alarm_sla_check(now=seconds(15)) == []
    assert services.alarm_sla_check(now=seconds(16)) == []
    p1.refresh_from_db()
    assert p1.escalations == 1
    step = p1.steps.get(action=StepAction.ESCALATED)
    assert step.data["sla"] == "acknowledge"


def test_p1_goes_to_admins_and_the_street_office(world, p1):
    (escalation,) = services.alarm_sla_check(now=seconds(15))
    recipients = set(escalation.recipients.all())
    assert recipients == {world.user("community_admin"), world.user("supervisor")}


def test_lower_priorities_go_to_community_admins_only(world, device):
    rule = make_rule(world.a, "leak", priority=2, title_template="Leak at {device}")
    services.alarms_from_firings(firings=[firing(rule, device=device)], now=T0)
    assert services.alarm_sla_check(now=seconds(59)) == []
    (escalation,) = services.alarm_sla_check(now=seconds(60))
    assert set(escalation.recipients.all()) == {world.user("community_admin")}


def test_acknowledged_alarm_still_misses_on_scene(world, p1):
    services.alarm_acknowledge(actor=world.user("operator"), alarm=p1)
    assert services.alarm_sla_check(now=seconds(299)) == []
    (escalation,) = services.alarm_sla_check(now=seconds(300))
    assert escalation.sla == SlaKind.ON_SCENE
    assert services.alarm_sla_check(now=seconds(400)) == []


def test_an_alarm_reached_in_time_is_not_escalated(world, p1):
    operator, guard = world.user("operator"), world.user("guard")
    services.alarm_dispatch(actor=operator, alarm=p1, assignee=guard)
    services.alarm_arrive(actor=guard, alarm=p1)
    assert services.alarm_sla_check(now=seconds(3600)) == []
    services.alarm_resolve(actor=guard, alarm=p1)
    assert services.alarm_sla_check(now=seconds(7200)) == []


def test_both_misses_escalate_separately(world, p1):
    assert len(services.alarm_sla_check(now=seconds(15))) == 1
    assert [e.sla for e in services.alarm_sla_check(now=seconds(300))] == [SlaKind.ON_SCENE]
    p1.refresh_from_db()
    assert p1.escalations == 2


def test_priority_rises_one_step_when_configured(world, device):
    ResponseTime.objects.create(
        community=world.a.community,
        priority=3,
        acknowledge_seconds=10,
        on_scene_seconds=100,
        raise_priority=True,
    )
    ResponseTime.objects.create(
        community=world.a.community,
        priority=2,
        acknowledge_seconds=10,
        on_scene_seconds=100,
        raise_priority=True,
    )
    rule = make_rule(world.a, "door", priority=3, title_template="Door open: {device}")
    (alarm,) = services.alarms_from_firings(firings=[firing(rule, device=device)], now=T0)
    (first,) = services.alarm_sla_check(now=seconds(10))
    assert (first.priority_before, first.priority_after) == (3, 2)
    alarm.refresh_from_db()
    assert alarm.priority == 2
    # The due times stay those promised when the alarm was raised.
    assert alarm.on_scene_due_at == seconds(100)
    (second,) = services.alarm_sla_check(now=seconds(100))
    assert (second.priority_before, second.priority_after) == (2, 1)
    # Now P1: the street office hears of it.
    assert world.user("supervisor") in second.recipients.all()
    alarm.refresh_from_db()
    assert alarm.priority == 1


def test_p1_stays_p1(world, p1):
    ResponseTime.objects.create(
        community=world.a.community,
        priority=1,
        acknowledge_seconds=15,
        on_scene_seconds=300,
        raise_priority=True,
    )
    (escalation,) = services.alarm_sla_check(now=seconds(15))
    assert escalation.priority_after == 1


def test_without_raise_priority_the_priority_stays(world, device):
    rule = make_rule(world.a, "door", priority=3, title_template="Door open: {device}")
    (alarm,) = services.alarms_from_firings(firings=[firing(rule, device=device)], now=T0)
    services.alarm_sla_check(now=seconds(300))
    alarm.refresh_from_db()
    assert alarm.priority == 3
    assert alarm.escalations == 1


def test_escalations_and_dispatches_appear_in_my_work(world, p1):
    admin = world.user("community_admin")
    assert alarm_work_items(scope_for(admin)) == []
    services.alarm_sla_check(now=seconds(15))
    (item,) = alarm_work_items(scope_for(admin))
    assert item.priority == 1
    assert f"/alarms/{p1.pk}/" == item.url
    assert "Escalated P1 alarm" in str(item.title)
    assert any(i.url == item.url for i in my_work(scope_for(world.user("supervisor"))))
    # Community B's admin hears nothing.
    assert alarm_work_items(scope_for(world.user("community_admin", "b"))) == []
    guard = world.user("guard")
    services.alarm_dispatch(actor=admin, alarm=p1, assignee=guard)
    (dispatched,) = alarm_work_items(scope_for(guard))
    assert "dispatched to you" in str(dispatched.title)
    assert dispatched.due_at == p1.on_scene_due_at
    services.alarm_resolve(actor=guard, alarm=p1)
    assert alarm_work_items(scope_for(guard)) == []
    assert alarm_work_items(scope_for(admin)) == []


def test_check_is_cheap_when_nothing_is_due(world, p1, django_assert_max_num_queries):
    Alarm.objects.filter(pk=p1.pk).update(state=AlarmState.RESOLVED)
    with django_assert_max_num_queries(2):
        assert services.alarm_sla_check(now=seconds(10_000)) == []
    assert not Escalation.objects.exists()

"""Alarm reads: scoping, filters, statistics, people to dispatch, response times."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.alarms import selectors, services
from anwang.alarms.choices import AlarmState
from anwang.alarms.models import Alarm, ResponseTime
from anwang.alarms.tests.conftest import T0, firing, make_device, make_rule

pytestmark = pytest.mark.django_db


def test_list_is_scoped_and_filtered(world, rule, device):
    other = make_device(world.a, "smoke-2")
    services.alarms_from_firings(
        firings=[
            firing(rule, device=device),
            firing(rule, device=other, at=T0 + dt.timedelta(hours=2)),
        ],
        now=T0,
    )
    b_rule = make_rule(world.b)
    services.alarms_from_firings(firings=[firing(b_rule, device=make_device(world.b))], now=T0)
    guard = scope_for(world.user("guard"))
    assert selectors.alarm_list(guard).count() == 2
    assert selectors.alarm_list(guard, device_id=other.pk).count() == 1
    assert selectors.alarm_list(guard, since=T0 + dt.timedelta(hours=1)).count() == 1
    assert selectors.alarm_list(guard, until=T0 + dt.timedelta(hours=1)).count() == 1
    assert selectors.alarm_list(guard, priority=2).count() == 0
    assert selectors.alarm_list(guard, zone_id=world.a.zone.pk, rule_id=rule.pk).count() == 2
    first = Alarm.objects.filter(device=device).get()
    services.alarm_resolve(actor=None, alarm=first)
    assert selectors.alarm_list(guard, open_only=True).count() == 1
    assert selectors.alarm_list(guard, state=AlarmState.RESOLVED).get() == first
    assert selectors.alarm_list(scope_for(world.user("resident"))).count() == 0
    assert selectors.alarm_list(scope_for(world.user("supervisor"))).count() == 2
    with pytest.raises(Http404):
        selectors.alarm_get(scope_for(world.user("guard", "b")), first.pk)


def test_stats(world, device):
    smoke = make_rule(world.a, "smoke")
    leak = make_rule(world.a, "leak", priority=2, title_template="Leak")
    other = make_device(world.a, "leak-1")
    raised = services.alarms_from_firings(
        firings=[
            firing(smoke, device=device, group="g1"),
            firing(smoke, device=device, group="g2"),
            firing(smoke, device=device, group="g3"),
            firing(leak, device=other),
        ],
        now=T0,
    )
    a1, a2, a3, a4 = raised
    # Acknowledged after 10 s and 30 s; resolved after 100 s; two false alarms.
    Alarm.objects.filter(pk=a1.pk).update(
        acknowledged_at=T0 + dt.timedelta(seconds=10),
        state=AlarmState.RESOLVED,
        closed_at=T0 + dt.timedelta(seconds=100),
    )
    Alarm.objects.filter(pk=a2.pk).update(
        acknowledged_at=T0 + dt.timedelta(seconds=30),
        state=AlarmState.FALSE_ALARM,
        closed_at=T0 + dt.timedelta(seconds=40),
    )
    Alarm.objects.filter(pk=a3.pk).update(state=AlarmState.FALSE_ALARM, closed_at=T0)
    Alarm.objects.create(
        community=world.a.community,
        priority=4,
        title="by hand",
        group_key="manual",
        raised_at=T0 - dt.timedelta(days=5),
        last_fired_at=T0,
    )
    scope = scope_for(world.user("community_admin"))
    stats = selectors.alarm_stats(scope, world.a.community.pk, since=T0 - dt.timedelta(days=1))
    assert stats.total == 4
    assert stats.open == 1
    assert stats.false == 2
    assert stats.by_priority == {1: 3, 2: 1, 3: 0, 4: 0}
    assert stats.by_rule == [(smoke.pk, "smoke", 3), (leak.pk, "leak", 1)]
    assert (stats.to_acknowledge.count, stats.to_acknowledge.median) == (2, 20.0)
    assert stats.to_acknowledge.mean == 20.0
    assert (stats.to_resolve.count, stats.to_resolve.median) == (1, 100.0)
    (noisy,) = stats.false_by_device
    assert (noisy.id, noisy.total, noisy.false) == (device.pk, 3, 2)
    assert noisy.rate == pytest.approx(2 / 3)
    (noisy_rule,) = stats.false_by_rule
    assert noisy_rule.name == "smoke"
    everything = selectors.alarm_stats(scope, world.a.community.pk)
    assert everything.total == 5
    assert "Raised by hand" in [name for _id, name, _n in everything.by_rule]
    assert a4.state == AlarmState.RAISED
    with pytest.raises(Http404):
        selectors.alarm_stats(scope_for(world.user("community_admin", "b")), world.a.community.pk)


def test_dispatchable_people(world):
    scope = scope_for(world.user("operator"))
    people = set(selectors.dispatchable_people(scope, world.a.community.pk))
    assert people == {
        world.user("community_admin"),
        world.user("operator"),
        world.user("guard"),
    }
    with pytest.raises(Http404):
        selectors.dispatchable_people(scope, world.b.community.pk)


def test_response_times_with_defaults(world):
    ResponseTime.objects.create(
        community=world.a.community, priority=3, acknowledge_seconds=100, on_scene_seconds=900
    )
    values = selectors.response_times(world.a.community)
    assert [
        (v.priority, v.acknowledge_seconds, v.on_scene_seconds, v.is_default) for v in values
    ] == [
        (1, 15, 300, True),
        (2, 60, 600, True),
        (3, 100, 900, False),
        (4, 43200, 43200, True),
    ]


def test_dashboard_figures(world, rule, device):
    services.alarms_from_firings(firings=[firing(rule, device=device)], now=T0)
    stats = selectors.alarm_dashboard_stats(scope_for(world.user("guard")), world.a.community)
    by_key = {stat.key: stat for stat in stats}
    assert by_key["alarms_open_p1"].value == 1
    assert by_key["alarms_open_p1"].tone == "key"
    assert by_key["alarms_open_p2"].value == 0
    assert selectors.alarm_dashboard_stats(scope_for(world.user("resident")), None) == []

"""Safety alerts' reads: the follow-up list (vulnerable households first), confirmation
counts, which alerts are public, a resident's alerts, who may read an alert, the dashboard
figures and the door-knock items of 'my work'."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from anwang.accounts.selectors import ANONYMOUS_SCOPE, scope_for
from anwang.alerts import selectors, services
from anwang.alerts.choices import AlertState
from anwang.alerts.models import SafetyAlert
from anwang.alerts.tests.support import AlertWorld, sent_alert
from anwang.people.models import Resident, ResidentTagLink

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def stats(alerts: AlertWorld, user: Any, community: Any = None) -> dict[str, int]:
    return {stat.key: stat.value for stat in selectors.alert_stats(scope_for(user), community)}


# --------------------------------------------------------------------------- follow-up


def test_follow_up_lists_unconfirmed_households_vulnerable_first(
    alert_world: AlertWorld,
) -> None:
    a = alert_world.world.a
    # The far household (building 2) needs care; a's resident no longer lives alone.
    far_resident = Resident.objects.get(name="翠苑钱七")
    ResidentTagLink.objects.create(resident=far_resident, tag="needs_care")
    ResidentTagLink.objects.filter(resident=a.resident).delete()
    alert = sent_alert(alert_world)
    order = [r.household_id for r in selectors.follow_up(alert)]
    assert order == [
        alert_world.far_household.pk,  # vulnerable, although in building 2
        a.household.pk,  # then building 1 by floor: 3, 4, 5
        alert_world.tenant_household.pk,
        alert_world.phone_household.pk,
    ]
    services.alert_confirm(user=alert_world.tenant, alert=alert)
    services.door_knocks_create(actor=alert_world.admin, alert=alert)
    rows = {r.household_id: vars(r)["has_open_knock"] for r in selectors.follow_up(alert)}
    assert rows == {
        alert_world.far_household.pk: False,  # no grid worker for building 2
        a.household.pk: True,
        alert_world.phone_household.pk: True,
    }


def test_confirmation_counts(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    assert selectors.confirmation_counts(alert) == {
        "reached": 4,
        "confirmed": 0,
        "by_knock": 0,
        "vulnerable_open": 1,
        "unconfirmed": 4,
    }
    services.alert_confirm(user=alert_world.world.user("resident"), alert=alert)
    services.door_knocks_create(actor=alert_world.admin, alert=alert)
    task = alert.door_knocks.get(household=alert_world.phone_household)
    services.door_knock_record(actor=alert_world.grid_worker, task=task, outcome="safe")
    assert selectors.confirmation_counts(alert) == {
        "reached": 4,
        "confirmed": 2,
        "by_knock": 1,
        "vulnerable_open": 0,
        "unconfirmed": 2,
    }


# --------------------------------------------------------------------------- lists


def test_public_alerts_are_whole_community_alerts_in_force(alert_world: AlertWorld) -> None:
    community_id = alert_world.world.a.community.pk
    public = sent_alert(alert_world, headline="全体")
    sent_alert(
        alert_world,
        headline="2号楼",
        whole_community=False,
        building_ids=[alert_world.building2.pk],
    )
    sent_alert(alert_world, headline="独居老人", groups=["living_alone"])
    ended = sent_alert(alert_world, headline="已结束")
    services.alert_cancel(actor=alert_world.admin, alert=ended, reason="取消")
    services.alert_create(  # a draft is never public
        actor=alert_world.admin,
        community=alert_world.world.a.community,
        event="台风",
        category="Met",
        severity="Severe",
        urgency="Expected",
        certainty="Likely",
        headline="草稿",
        description="草稿",
    )
    assert list(selectors.public_alerts(community_id)) == [public]
    assert list(selectors.public_alerts(alert_world.world.b.community.pk)) == []
    later = timezone.now() + dt.timedelta(hours=25)
    assert list(selectors.public_alerts(community_id, now=later)) == []
    assert set(selectors.active_alerts(community_id).values_list("headline", flat=True)) == {
        "全体",
        "2号楼",
        "独居老人",
    }


def test_resident_alerts_are_those_that_reached_them(alert_world: AlertWorld) -> None:
    everyone = sent_alert(alert_world, headline="全体")
    mine = sent_alert(
        alert_world,
        headline="我家",
        whole_community=False,
        household_ids=[alert_world.tenant_household.pk],
    )
    sent_alert(
        alert_world,
        headline="2号楼",
        whole_community=False,
        building_ids=[alert_world.building2.pk],
    )
    assert set(selectors.resident_alerts(alert_world.tenant.pk)) == {everyone, mine}
    assert set(selectors.resident_alerts(alert_world.far_user.pk)) == {
        everyone,
        SafetyAlert.objects.get(headline="2号楼"),
    }


def test_alert_list_is_the_readers_communities_with_counts(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    services.alert_confirm(user=alert_world.tenant, alert=alert)
    listed = selectors.alert_list(scope_for(alert_world.grid_worker))
    assert [(a.pk, vars(a)["confirmed_count"]) for a in listed] == [(alert.pk, 1)]
    assert list(selectors.alert_list(scope_for(alert_world.world.user("guard")))) == []
    b_admin = alert_world.world.user("community_admin", "b")
    assert list(selectors.alert_list(scope_for(b_admin))) == []
    assert list(selectors.alert_list(scope_for(alert_world.admin), state="draft")) == []


def test_may_read_alert(alert_world: AlertWorld) -> None:
    world = alert_world.world
    public = sent_alert(alert_world)
    targeted = sent_alert(
        alert_world, whole_community=False, household_ids=[alert_world.tenant_household.pk]
    )
    grouped = sent_alert(alert_world, groups=["living_alone"])
    b_admin = scope_for(world.user("community_admin", "b"))
    for alert in (public, targeted, grouped):
        assert selectors.may_read_alert(scope_for(alert_world.grid_worker), alert)
    assert selectors.may_read_alert(scope_for(alert_world.tenant), targeted)
    assert not selectors.may_read_alert(scope_for(alert_world.far_user), targeted)
    assert not selectors.may_read_alert(b_admin, targeted)
    assert not selectors.may_read_alert(ANONYMOUS_SCOPE, grouped)
    assert selectors.may_read_alert(ANONYMOUS_SCOPE, public)
    assert selectors.may_read_alert(b_admin, public)
    cancelled = services.alert_cancel(actor=alert_world.admin, alert=public, reason="取消")
    assert cancelled.state == AlertState.CANCELLED
    assert not selectors.may_read_alert(ANONYMOUS_SCOPE, cancelled)
    # Those it reached still read it.
    assert selectors.may_read_alert(scope_for(alert_world.tenant), cancelled)


def test_may_view_and_publish(alert_world: AlertWorld) -> None:
    community_id = alert_world.world.a.community.pk
    grid = scope_for(alert_world.grid_worker)
    assert selectors.may_view(grid, community_id)
    assert not selectors.may_publish(grid, community_id)
    assert selectors.may_publish(scope_for(alert_world.admin), community_id)
    assert not selectors.may_view(scope_for(alert_world.volunteer), community_id)
    assert list(selectors.publish_communities(grid)) == []
    assert list(selectors.alert_communities(grid)) == [alert_world.world.a.community]


# --------------------------------------------------------------------------- dashboard, work


def test_alert_stats(alert_world: AlertWorld) -> None:
    a = alert_world.world.a
    assert stats(alert_world, alert_world.admin, a.community) == {
        "alerts_active": 0,
        "alerts_unconfirmed": 0,
    }
    alert = sent_alert(alert_world)
    sent_alert(alert_world, confirmation="none")  # asks nothing: nobody is waited for
    services.alert_confirm(user=alert_world.tenant, alert=alert)
    expected = {"alerts_active": 2, "alerts_unconfirmed": 3}
    assert stats(alert_world, alert_world.admin, a.community) == expected
    assert stats(alert_world, alert_world.grid_worker) == expected
    assert stats(alert_world, alert_world.world.platform_admin) == expected
    assert stats(alert_world, alert_world.tenant, a.community) == {}
    assert stats(alert_world, alert_world.world.user("community_admin", "b"), a.community) == {}
    figures = selectors.alert_stats(scope_for(alert_world.admin), a.community)
    assert figures[1].tone == "key"
    assert figures[1].label == "Households yet to confirm an alert"


def test_door_knock_work_items(alert_world: AlertWorld) -> None:
    a = alert_world.world.a
    alert = sent_alert(alert_world, headline="翠苑台风预警")
    services.door_knocks_create(actor=alert_world.admin, alert=alert)
    items = selectors.door_knock_work_items(scope_for(alert_world.grid_worker))
    assert len(items) == 3
    priorities = {item.url: item.priority for item in items}
    vulnerable_task = alert.door_knocks.get(household=a.household)
    assert priorities.pop(reverse("alerts:knock", args=[vulnerable_task.pk])) == 1
    assert list(priorities.values()) == [2, 2]
    assert {item.detail for item in items} == {"翠苑台风预警"}
    assert {item.community_id for item in items} == {a.community.pk}
    assert all(item.title.startswith("Door-knock: ") for item in items)
    assert selectors.door_knock_work_items(scope_for(alert_world.tenant)) == []
    assert selectors.door_knock_work_items(ANONYMOUS_SCOPE) == []
    # Done visits leave the list.
    services.door_knock_record(actor=alert_world.grid_worker, task=vulnerable_task, outcome="safe")
    remaining = selectors.door_knock_work_items(scope_for(alert_world.grid_worker))
    assert [item.priority for item in remaining] == [2, 2]


def test_households_by_grid_worker(alert_world: AlertWorld) -> None:
    workers = selectors.households_by_grid_worker(
        [alert_world.tenant_household.pk, alert_world.far_household.pk]
    )
    assert workers == {
        alert_world.tenant_household.pk: alert_world.grid_worker.pk,
        alert_world.far_household.pk: None,
    }

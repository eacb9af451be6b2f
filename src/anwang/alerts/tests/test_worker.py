"""The worker's alert check with a controllable clock: scheduled alerts go out when their
time comes and not before, alerts expire, and a scheduled alert whose expiry passed before it
could be sent expires without being sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anwang.alerts import services
from anwang.alerts.choices import AlertState
from anwang.alerts.models import AlertRecipient, SafetyAlert
from anwang.alerts.services import alerts_due_check
from anwang.alerts.tests.support import AlertWorld
from anwang.core.errors import ConflictError
from anwang.notifications.models import Notification
from anwang.people.choices import Relation
from anwang.people.models import HouseholdMember, Resident

pytestmark = pytest.mark.django_db

# 10:00 in Shanghai (the site's zone), a Friday.
NOW = dt.datetime(2026, 3, 6, 2, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)


def scheduled(alerts: AlertWorld, *, publish_at: dt.datetime, expires_at: dt.datetime) -> Any:
    alert = services.alert_create(
        actor=alerts.admin,
        community=alerts.world.a.community,
        event="停水",
        category="Infra",
        severity="Moderate",
        urgency="Future",
        certainty="Likely",
        headline="翠苑明日停水",
        description="明天上午停水四小时。",
        confirmation="seen",
        publish_at=publish_at,
        expires_at=expires_at,
        now=NOW,
    )
    alert = services.alert_publish(actor=alerts.admin, alert=alert, now=NOW)
    assert alert.state == AlertState.SCHEDULED
    return alert


def state(alert: SafetyAlert) -> str:
    alert.refresh_from_db()
    return alert.state


def test_scheduled_alert_goes_out_when_due_not_before(alert_world: AlertWorld) -> None:
    alert = scheduled(alert_world, publish_at=NOW + H, expires_at=NOW + 5 * H)
    assert alert.published_by == alert_world.admin
    assert not AlertRecipient.objects.exists()
    assert alerts_due_check(now=NOW) == (0, 0)
    assert alerts_due_check(now=NOW + H - S) == (0, 0)
    assert state(alert) == AlertState.SCHEDULED
    assert not Notification.objects.exists()

    # Recipients are frozen when it goes out, not when it was scheduled.
    empty = alert_world.world.a.community.households.get(number="201")
    resident = Resident.objects.create(community=empty.community, name="翠苑新住户")
    HouseholdMember.objects.create(household=empty, resident=resident, relation=Relation.HEAD)

    assert alerts_due_check(now=NOW + H) == (1, 0)
    alert.refresh_from_db()
    assert (alert.state, alert.published_at, alert.published_by) == (
        AlertState.ACTIVE,
        NOW + H,
        alert_world.admin,
    )
    assert (alert.households_reached, alert.people_reached) == (5, 5)
    assert alert.recipients.filter(household=empty).exists()
    notification = Notification.objects.get(kind="alert")
    assert alert.notification == notification
    assert (notification.created_at, notification.needs_confirmation) == (NOW + H, True)
    # Not sent twice.
    assert alerts_due_check(now=NOW + H + S) == (0, 0)
    assert Notification.objects.filter(kind="alert").count() == 1


def test_late_check_still_sends_while_in_force(alert_world: AlertWorld) -> None:
    alert = scheduled(alert_world, publish_at=NOW + H, expires_at=NOW + 5 * H)
    # The worker was down for two hours.
    assert alerts_due_check(now=NOW + 3 * H) == (1, 0)
    alert.refresh_from_db()
    assert (alert.state, alert.published_at) == (AlertState.ACTIVE, NOW + 3 * H)


def test_active_alerts_expire(alert_world: AlertWorld) -> None:
    alert = scheduled(alert_world, publish_at=NOW + H, expires_at=NOW + 5 * H)
    alerts_due_check(now=NOW + H)
    assert alerts_due_check(now=NOW + 5 * H - S) == (0, 0)
    assert state(alert) == AlertState.ACTIVE
    assert alerts_due_check(now=NOW + 5 * H) == (0, 1)
    assert state(alert) == AlertState.EXPIRED
    assert alerts_due_check(now=NOW + 6 * H) == (0, 0)
    # An expired alert can no longer be confirmed or cancelled.
    with pytest.raises(ConflictError):
        services.alert_confirm(user=alert_world.tenant, alert=alert, now=NOW + 6 * H)
    with pytest.raises(ConflictError):
        services.alert_cancel(actor=alert_world.admin, alert=alert, reason="晚了", now=NOW + 6 * H)


def test_alert_sent_at_once_expires_too(alert_world: AlertWorld) -> None:
    alert = services.alert_create(
        actor=alert_world.admin,
        community=alert_world.world.a.community,
        event="燃气泄漏",
        category="Safety",
        severity="Extreme",
        urgency="Immediate",
        certainty="Observed",
        headline="翠苑燃气泄漏",
        description="请立即撤离。",
        expires_at=NOW + 2 * H,
        now=NOW,
    )
    services.alert_publish(actor=alert_world.admin, alert=alert, now=NOW)
    assert state(alert) == AlertState.ACTIVE
    assert alerts_due_check(now=NOW + 2 * H) == (0, 1)
    assert state(alert) == AlertState.EXPIRED


def test_scheduled_alert_past_its_expiry_expires_without_being_sent(
    alert_world: AlertWorld,
) -> None:
    alert = scheduled(alert_world, publish_at=NOW + H, expires_at=NOW + 2 * H)
    # The worker was down past both times.
    assert alerts_due_check(now=NOW + 3 * H) == (0, 0)
    alert.refresh_from_db()
    assert alert.state == AlertState.EXPIRED
    assert alert.published_at is None
    assert alert.notification is None
    assert not AlertRecipient.objects.exists()
    assert not Notification.objects.exists()


def test_cancelled_scheduled_alert_is_never_sent(alert_world: AlertWorld) -> None:
    alert = scheduled(alert_world, publish_at=NOW + H, expires_at=NOW + 5 * H)
    services.alert_cancel(actor=alert_world.admin, alert=alert, reason="恢复供水", now=NOW)
    assert alerts_due_check(now=NOW + H) == (0, 0)
    assert state(alert) == AlertState.CANCELLED
    assert not Notification.objects.exists()


def test_drafts_with_a_send_time_wait_for_publishing(alert_world: AlertWorld) -> None:
    alert = services.alert_create(
        actor=alert_world.admin,
        community=alert_world.world.a.community,
        event="停水",
        category="Infra",
        severity="Minor",
        urgency="Future",
        certainty="Likely",
        headline="翠苑停水草稿",
        description="草稿",
        publish_at=NOW + H,
        now=NOW,
    )
    assert alerts_due_check(now=NOW + 2 * H) == (0, 0)
    assert state(alert) == AlertState.DRAFT


def test_several_due_alerts_in_one_check(alert_world: AlertWorld) -> None:
    first = scheduled(alert_world, publish_at=NOW + H, expires_at=NOW + 5 * H)
    second = scheduled(alert_world, publish_at=NOW + 2 * H, expires_at=NOW + 5 * H)
    stale = scheduled(
        alert_world, publish_at=NOW + H, expires_at=NOW + 90 * dt.timedelta(minutes=1)
    )
    assert alerts_due_check(now=NOW + 2 * H) == (2, 0)
    assert (state(first), state(second), state(stale)) == (
        AlertState.ACTIVE,
        AlertState.ACTIVE,
        AlertState.EXPIRED,
    )

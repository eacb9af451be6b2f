"""Welfare-check timing with a controllable clock: every call of the job is given the time, so
the tests walk through a day of silence minute by minute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from anwang.accounts.models import User
from anwang.notifications.models import Delivery, Notification
from anwang.welfare import selectors
from anwang.welfare.choices import FALSE_ALARM_OUTCOMES, CheckOutcome, CheckStatus
from anwang.welfare.models import WelfareCheck, WelfareWatch
from anwang.welfare.services import (
    check_close,
    watch_pause,
    watch_update,
    welfare_checks_run,
)
from anwang.welfare.tests.conftest import T0, Clock, Home

pytestmark = pytest.mark.django_db


def _run(clock: Clock, **at: float) -> Any:
    return welfare_checks_run(now=clock.at(**at))


def _checks(home: Home) -> list[WelfareCheck]:
    return list(WelfareCheck.objects.filter(watch=home.watch).order_by("opened_at", "pk"))


def _told(user: User, kind: str) -> list[Notification]:
    return list(
        Notification.objects.filter(kind=kind, deliveries__recipient=user).distinct().order_by("pk")
    )


# --------------------------------------------------------------------------- opening


def test_nothing_opens_before_the_threshold_and_one_check_opens_at_it(home: Home, clock: Clock):
    report = _run(clock, hours=23, minutes=59)
    assert report.opened == 0
    assert _checks(home) == []

    report = _run(clock, hours=24)
    assert report.opened == 1
    (check,) = _checks(home)
    assert check.status == CheckStatus.OPEN
    assert check.opened_at == T0 + dt.timedelta(hours=24)
    assert check.quiet_since == T0  # no activity known: silence counts from enrolment
    assert check.threshold_hours == 24
    assert check.assignee == home.grid_worker  # the grid worker of the resident's grid
    assert check.household == home.world.a.household
    assert check.escalate_at == clock.now + dt.timedelta(minutes=120)
    assert check.escalated_at is None

    (notification,) = _told(home.grid_worker, "welfare.check")
    assert notification.urgent
    assert notification.url == f"/welfare/checks/{check.pk}/"
    assert notification.source_id == str(check.pk)
    assert home.resident.name in notification.title
    assert notification.deliveries.filter(recipient=home.grid_worker).exists()

    # Every later run finds the open check: never a second one.
    assert _run(clock, hours=24, minutes=1).opened == 0
    assert _run(clock, hours=30).opened == 0
    assert len(_checks(home)) == 1
    assert len(_told(home.grid_worker, "welfare.check")) == 1


def test_silence_counts_from_the_last_activity(home: Home, clock: Clock):
    home.access(T0 + dt.timedelta(hours=5))
    home.sensor(T0 + dt.timedelta(hours=9))
    assert _run(clock, hours=32, minutes=59).opened == 0
    assert _run(clock, hours=33).opened == 1
    (check,) = _checks(home)
    assert check.quiet_since == T0 + dt.timedelta(hours=9)
    home.watch.refresh_from_db()
    assert home.watch.last_activity_at == T0 + dt.timedelta(hours=9)


def test_device_talk_is_not_activity_but_a_login_and_a_refused_access_are(home: Home, clock: Clock):
    for kind in ("heartbeat", "availability", "battery_low", "device.offline", "temperature"):
        home.sensor(T0 + dt.timedelta(hours=20), kind=kind)
    # Someone else's access and another home's sensor say nothing of this resident.
    home.access(T0 + dt.timedelta(hours=20), resident=home.world.b.resident)
    assert _run(clock, hours=24).opened == 1


def test_the_account_signing_in_is_activity(home: Home, clock: Clock):
    user = home.resident.user
    assert user is not None
    user.last_login = T0 + dt.timedelta(hours=10)
    user.save(update_fields=["last_login"])
    assert _run(clock, hours=33, minutes=59).opened == 0
    assert _run(clock, hours=34).opened == 1


def test_a_replay_counts_at_the_device_time(home: Home, clock: Clock):
    # Received at 23 h from the device's log: the door opened at 1 h.
    home.sensor(T0 + dt.timedelta(hours=23), replay=True, device_time=T0 + dt.timedelta(hours=1))
    assert _run(clock, hours=24, minutes=59).opened == 0
    assert _run(clock, hours=25).opened == 1


def test_the_enrolment_s_own_assignee_comes_before_the_grid_worker(home: Home, clock: Clock):
    watch_update(
        actor=home.admin,
        watch=home.watch,
        quiet_hours=24,
        use_baseline=True,
        assignee=home.volunteer,
        escalate_after_minutes=120,
        family_contact=home.contact,
        devices=[home.door],
        now=T0,
    )
    _run(clock, hours=24)
    (check,) = _checks(home)
    assert check.assignee == home.volunteer
    assert len(_told(home.volunteer, "welfare.check")) == 1
    assert _told(home.grid_worker, "welfare.check") == []


def test_with_nobody_to_assign_the_managers_are_told(home: Home, clock: Clock):
    home.grid.grid_worker = None
    home.grid.save(update_fields=["grid_worker"])
    _run(clock, hours=24)
    (check,) = _checks(home)
    assert check.assignee is None
    (notification,) = _told(home.admin, "welfare.check")
    assert notification.urgent
    assert notification.deliveries.filter(recipient=home.grid_worker).exists()  # a manager too
    assert not notification.deliveries.filter(recipient=home.volunteer).exists()


# --------------------------------------------------------------------------- resumed


def test_activity_while_a_check_is_open_closes_it_as_resumed(home: Home, clock: Clock):
    _run(clock, hours=24)
    (check,) = _checks(home)
    home.sensor(T0 + dt.timedelta(hours=24, minutes=20))
    report = _run(clock, hours=24, minutes=21)
    assert report.resumed == 1
    check.refresh_from_db()
    assert check.status == CheckStatus.CLOSED
    assert check.outcome == CheckOutcome.RESUMED
    assert check.closed_by is None
    assert check.closed_at == clock.now
    assert check.outcome in FALSE_ALARM_OUTCOMES
    (closed,) = _told(home.grid_worker, "welfare.check_closed")
    assert home.resident.name in closed.title
    # Not escalated: the family was never told, so nothing goes to them now.
    assert not Delivery.objects.filter(emergency_contact=home.contact).exists()

    # Silence now counts from the close (after the activity), and a new check can open.
    assert _run(clock, hours=48, minutes=20).opened == 0
    assert _run(clock, hours=48, minutes=21).opened == 1


def test_activity_before_the_check_opened_does_not_resume_it(home: Home, clock: Clock):
    home.access(T0 + dt.timedelta(hours=1))
    _run(clock, hours=25)
    assert _run(clock, hours=25, minutes=1).resumed == 0
    assert _checks(home)[0].status == CheckStatus.OPEN


# --------------------------------------------------------------------------- escalation


def test_escalation_exactly_at_escalate_at_texts_and_calls_the_family_once(
    home: Home, clock: Clock
):
    _run(clock, hours=24)
    (check,) = _checks(home)
    assert _run(clock, hours=25, minutes=59).escalated == 0
    assert not Delivery.objects.filter(emergency_contact=home.contact).exists()

    report = _run(clock, hours=26)
    assert report.escalated == 1
    check.refresh_from_db()
    assert check.escalated_at == clock.now == check.escalate_at
    assert check.status == CheckStatus.OPEN

    family = Delivery.objects.filter(emergency_contact=home.contact)
    assert sorted(family.values_list("channel", flat=True)) == ["sms", "voice"]
    message = family.get(channel="sms").notification
    assert message.urgent
    assert home.resident.name in message.body
    assert "301" not in message.body  # no address or other detail in a text
    (staff,) = _told(home.admin, "welfare.escalated")
    assert staff.urgent
    assert staff.deliveries.filter(recipient=home.grid_worker).exists()  # the assignee

    # Once only.
    assert _run(clock, hours=26, minutes=1).escalated == 0
    assert _run(clock, hours=40).escalated == 0
    assert family.count() == 2
    assert Notification.objects.filter(kind="welfare.escalated").count() == 1


def test_after_an_escalation_the_family_hears_the_person_was_reached(home: Home, clock: Clock):
    _run(clock, hours=26)  # opens
    _run(clock, hours=28)  # escalates
    (check,) = _checks(home)
    check_close(actor=home.grid_worker, check=check, outcome=CheckOutcome.SAFE, now=clock.now)
    family = Delivery.objects.filter(emergency_contact=home.contact).order_by("pk")
    assert [d.channel for d in family] == ["sms", "voice", "sms"]
    # Texts go out in the site's language, whatever the test's.
    with translation.override(settings.LANGUAGE_CODE):
        expected = gettext("%(community)s: %(name)s has been reached and is well.") % {
            "community": home.world.a.community.name,
            "name": home.resident.name,
        }
    assert family.reverse()[0].notification.body == expected


def test_resumed_after_an_escalation_tells_the_managers_and_texts_the_family(
    home: Home, clock: Clock
):
    _run(clock, hours=24)
    _run(clock, hours=26)
    home.access(T0 + dt.timedelta(hours=26, minutes=30))
    assert _run(clock, hours=26, minutes=31).resumed == 1
    assert len(_told(home.admin, "welfare.check_closed")) == 1
    assert Delivery.objects.filter(emergency_contact=home.contact, channel="sms").count() == 2


def test_without_a_family_contact_the_escalation_still_tells_the_managers(home: Home, clock: Clock):
    WelfareWatch.objects.filter(pk=home.watch.pk).update(family_contact=None)
    _run(clock, hours=24)
    assert _run(clock, hours=26).escalated == 1
    assert not Delivery.objects.filter(emergency_contact__isnull=False).exists()
    assert len(_told(home.admin, "welfare.escalated")) == 1


# --------------------------------------------------------------------------- pause


def test_a_pause_holds_checks_and_silence_counts_from_its_end(home: Home, clock: Clock):
    watch_pause(
        actor=home.admin, watch=home.watch, until=T0 + dt.timedelta(hours=48), now=clock.at(hours=1)
    )
    assert _run(clock, hours=30).opened == 0
    assert _run(clock, hours=47, minutes=59).opened == 0
    assert _run(clock, hours=48, minutes=1).opened == 0  # the pause just ended
    assert _run(clock, hours=71, minutes=59).opened == 0
    assert _run(clock, hours=72).opened == 1


def test_resuming_early_restarts_the_count(home: Home, clock: Clock):
    watch_pause(
        actor=home.admin, watch=home.watch, until=T0 + dt.timedelta(days=7), now=clock.at(hours=1)
    )
    watch_pause(actor=home.admin, watch=home.watch, until=None, now=clock.at(hours=30))
    assert _run(clock, hours=53, minutes=59).opened == 0
    assert _run(clock, hours=54).opened == 1


def test_no_escalation_while_paused(home: Home, clock: Clock):
    _run(clock, hours=24)
    watch_pause(
        actor=home.admin, watch=home.watch, until=T0 + dt.timedelta(days=3), now=clock.at(hours=25)
    )
    assert _run(clock, hours=26).escalated == 0
    assert not Delivery.objects.filter(emergency_contact=home.contact).exists()


# --------------------------------------------------------------------------- baseline


def _history(home: Home, *, usual_quiet_hours: int) -> None:
    """Five weeks of a door opening every four hours, except one quiet spell of
    ``usual_quiet_hours`` a week, the last ending two days before T0; the door last opened at
    T0."""
    gap = dt.timedelta(hours=usual_quiet_hours)
    gap_ends = [T0 - dt.timedelta(days=2 + 7 * week) for week in range(5)]
    times = []
    at = T0 - dt.timedelta(days=35)
    while at <= T0:
        if not any(end - gap < at < end for end in gap_ends):
            times.append(at)
        at += dt.timedelta(hours=4)
    times += [end - gap for end in gap_ends]
    for time in sorted(times):
        home.sensor(time)


def test_a_household_usually_quiet_30_hours_waits_30_hours(home: Home, clock: Clock):
    _history(home, usual_quiet_hours=30)
    report = _run(clock, minutes=1)
    assert report.baselines_updated == 1
    home.watch.refresh_from_db()
    assert home.watch.baseline_hours == 30
    assert home.watch.baseline_updated_at == clock.now

    assert _run(clock, hours=24).opened == 0  # refreshes the baseline: still 30
    home.watch.refresh_from_db()
    assert home.watch.baseline_hours == 30
    assert _run(clock, hours=29, minutes=59).opened == 0
    assert _run(clock, hours=30).opened == 1
    assert _checks(home)[0].threshold_hours == 30


def test_the_baseline_raises_the_threshold_at_most_to_twice_the_hours(home: Home, clock: Clock):
    _history(home, usual_quiet_hours=60)
    _run(clock, minutes=1)
    home.watch.refresh_from_db()
    assert home.watch.baseline_hours == 60
    assert _run(clock, hours=47, minutes=59).opened == 0
    assert _run(clock, hours=48).opened == 1
    assert _checks(home)[0].threshold_hours == 48


def test_without_use_baseline_the_hours_are_the_threshold(home: Home, clock: Clock):
    _history(home, usual_quiet_hours=30)
    watch_update(
        actor=home.admin,
        watch=home.watch,
        quiet_hours=24,
        use_baseline=False,
        assignee=None,
        escalate_after_minutes=120,
        family_contact=home.contact,
        devices=[home.door],
        now=T0,
    )
    assert _run(clock, hours=24).opened == 1
    assert _run(clock, hours=24).baselines_updated == 0


def test_the_baseline_is_learned_at_most_daily(home: Home, clock: Clock):
    assert _run(clock, minutes=1).baselines_updated == 1
    assert _run(clock, hours=23, minutes=59).baselines_updated == 0
    assert _run(clock, hours=24, minutes=1).baselines_updated == 1
    home.watch.refresh_from_db()
    assert home.watch.baseline_hours is None  # no history: no baseline


# --------------------------------------------------------------------------- report


def test_report_counts_false_alarms_per_household_and_month(home: Home, clock: Clock):
    # 1: resumed (a false alarm).
    _run(clock, hours=24)
    home.sensor(T0 + dt.timedelta(hours=25))
    _run(clock, hours=25, minutes=1)
    # 2: the grid worker found the resident well (a false alarm).
    _run(clock, hours=49, minutes=1)
    check_close(
        actor=home.grid_worker,
        check=_checks(home)[-1],
        outcome=CheckOutcome.SAFE,
        now=clock.at(hours=50),
    )
    # 3: they needed help (a real one).
    _run(clock, hours=74)
    check_close(
        actor=home.grid_worker,
        check=_checks(home)[-1],
        outcome=CheckOutcome.NEEDED_HELP,
        note="跌倒, 已送医",
        now=clock.at(hours=75),
    )
    # 4: still open.
    _run(clock, hours=99)
    assert len(_checks(home)) == 4

    scope_user = home.admin
    from anwang.accounts.selectors import scope_for

    rows = selectors.false_alarm_report(
        scope_for(scope_user), community_id=home.world.a.community.pk, months=2, now=clock.now
    )
    march = [row for row in rows if row.month == dt.date(2025, 3, 1)]
    household, total = march
    assert household.household_id == home.world.a.household.pk
    assert household.household_label == "1-1-301"
    assert (household.checks, household.false_alarms, household.real) == (4, 2, 1)
    assert household.rate == pytest.approx(0.667)
    assert total.is_total
    assert (total.checks, total.false_alarms, total.real) == (4, 2, 1)
    february = [row for row in rows if row.month == dt.date(2025, 2, 1)]
    assert len(february) == 1
    assert february[0].is_total
    assert february[0].checks == 0
    assert february[0].rate is None


# --------------------------------------------------------------------------- cost


def test_the_job_costs_one_query_with_nobody_enrolled(world: Any, clock: Clock):
    with CaptureQueriesContext(connection) as queries:
        report = welfare_checks_run(now=clock.now)
    assert len(queries) == 1
    assert report.opened == report.resumed == report.escalated == report.baselines_updated == 0


def test_the_job_s_queries_do_not_grow_with_quiet_enrolments(home: Home, clock: Clock):
    from anwang.access.choices import ConsentKind
    from anwang.access.models import ConsentRecord
    from anwang.people.models import Resident
    from anwang.welfare.tests.conftest import make_sensor

    _run(clock, minutes=1)  # learns the first baseline
    home.sensor(T0 + dt.timedelta(hours=1))
    _run(clock, hours=2)  # keeps the last activity
    with CaptureQueriesContext(connection) as one:
        _run(clock, hours=2, minutes=30)
    community = home.world.a.community
    for number in range(5):
        resident = Resident.objects.create(community=community, name=f"翠苑 居民{number}")
        consent = ConsentRecord.objects.create(
            resident=resident, kind=ConsentKind.WELFARE, given_at=T0, how="form"
        )
        watch = WelfareWatch.objects.create(
            community=community,
            resident=resident,
            consent=consent,
            enrolled_at=T0,
            baseline_updated_at=T0,
            last_activity_at=T0 + dt.timedelta(hours=1),
        )
        watch.devices.add(make_sensor(community, f"door {number}", f"0x{number:016x}"))
    with CaptureQueriesContext(connection) as six:
        _run(clock, hours=3)
    assert len(six) == len(one)

"""Services of welfare checks: enrolment on consent, its settings, pause and end, closing and
reassigning checks, who may do each, and erasure."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.access.choices import ConsentKind
from anwang.access.models import ConsentRecord
from anwang.access.services import consent_record, consent_withdraw
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.notifications.models import Notification
from anwang.people.models import EmergencyContact, Resident
from anwang.people.services import resident_erase
from anwang.welfare.choices import FALSE_ALARM_OUTCOMES, CheckOutcome, CheckStatus
from anwang.welfare.models import WelfareCheck, WelfareWatch
from anwang.welfare.services import (
    check_close,
    check_reassign,
    watch_end,
    watch_enrol,
    watch_pause,
    watch_update,
    welfare_checks_run,
)
from anwang.welfare.tests.conftest import T0, Home, make_sensor

pytestmark = pytest.mark.django_db


def _settings(home: Home, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "quiet_hours": 24,
        "use_baseline": True,
        "assignee": None,
        "escalate_after_minutes": 120,
        "family_contact": home.contact,
        "devices": [home.door],
    }
    values.update(changes)
    return values


def _open_check(home: Home, hours: float = 24) -> WelfareCheck:
    welfare_checks_run(now=T0 + dt.timedelta(hours=hours))
    return WelfareCheck.objects.get(watch=home.watch, status=CheckStatus.OPEN)


# --------------------------------------------------------------------------- enrolment


def test_enrolment_records_the_consent_and_is_audited(home: Home):
    watch = home.watch
    assert watch.community == home.world.a.community
    assert watch.enrolled_at == T0
    assert watch.quiet_hours == 24
    assert watch.use_baseline
    assert watch.escalate_after_minutes == 120
    assert list(watch.devices.all()) == [home.door]
    consent = watch.consent
    assert consent.kind == ConsentKind.WELFARE
    assert consent.how == "signed form 2025-03-03"
    assert consent.recorded_by == home.admin
    assert AuditEvent.objects.filter(action="welfare.watch_enrol", object_id=str(watch.pk)).exists()
    assert AuditEvent.objects.filter(action="access.consent_record").exists()


def test_enrolment_uses_the_consent_in_force(world: Any):
    resident = world.a.resident
    consent = consent_record(
        actor=None, resident=resident, kind=ConsentKind.WELFARE, how="in the app", now=T0
    )
    watch = watch_enrol(actor=world.user("grid_worker"), resident=resident, now=T0)
    assert watch.consent == consent
    assert ConsentRecord.objects.filter(resident=resident, kind=ConsentKind.WELFARE).count() == 1


def test_enrolment_without_consent_asks_how_it_was_given(world: Any):
    with pytest.raises(ServiceError) as raised:
        watch_enrol(actor=world.user("community_admin"), resident=world.a.resident, now=T0)
    assert raised.value.field == "consent_how"
    assert not WelfareWatch.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_a_consent_of_another_kind_or_person_is_refused(world: Any):
    face = consent_record(
        actor=None, resident=world.a.resident, kind=ConsentKind.FACE, how="form", now=T0
    )
    with pytest.raises(ServiceError) as raised:
        watch_enrol(
            actor=world.user("community_admin"), resident=world.a.resident, consent=face, now=T0
        )
    assert raised.value.field == "consent"


def test_enrolling_twice_is_a_conflict_and_re_enrolling_reuses_the_row(home: Home):
    with pytest.raises(ConflictError):
        watch_enrol(actor=home.admin, resident=home.resident, now=T0)
    watch_end(actor=home.admin, watch=home.watch, now=T0 + dt.timedelta(days=1))
    again = watch_enrol(
        actor=home.admin,
        resident=home.resident,
        quiet_hours=12,
        devices=[],
        now=T0 + dt.timedelta(days=2),
    )
    assert again.pk == home.watch.pk
    assert again.ended_at is None
    assert again.enrolled_at == T0 + dt.timedelta(days=2)
    assert again.quiet_hours == 12
    assert list(again.devices.all()) == []
    assert again.consent == home.watch.consent  # still in force
    assert AuditEvent.objects.filter(action="welfare.watch_reenrol").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quiet_hours", 0),
        ("quiet_hours", 169),
        ("quiet_hours", 2.5),
        ("quiet_hours", "many"),
        ("escalate_after_minutes", 5),
        ("escalate_after_minutes", 24 * 60 + 1),
    ],
)
def test_ranges_are_checked(home: Home, field: str, value: Any):
    with pytest.raises(ServiceError) as raised:
        watch_update(actor=home.admin, watch=home.watch, **_settings(home, **{field: value}))
    assert raised.value.field == field


def test_assignee_contact_and_devices_must_belong_to_the_community_and_resident(
    home: Home, world: Any
):
    for field, value in [
        ("assignee", world.user("grid_worker", "b")),
        ("assignee", world.user("resident")),  # a resident is not someone to send
        ("assignee", world.user("guard")),
        ("family_contact", world.b.contact),
        ("devices", [make_sensor(world.b.community, "文华 door", "0xb")]),
        ("devices", [987654]),
    ]:
        with pytest.raises(ServiceError) as raised:
            watch_update(actor=home.admin, watch=home.watch, **_settings(home, **{field: value}))
        assert raised.value.field == field
    other = EmergencyContact.objects.create(
        resident=Resident.objects.create(community=world.a.community, name="翠苑 王五"),
        name="王六",
        phone="13900002222",
    )
    with pytest.raises(ServiceError):
        watch_update(actor=home.admin, watch=home.watch, **_settings(home, family_contact=other))


def test_a_volunteer_or_the_grid_s_worker_may_be_assigned(home: Home):
    watch = watch_update(
        actor=home.admin, watch=home.watch, **_settings(home, assignee=home.volunteer)
    )
    assert watch.assignee == home.volunteer
    assert AuditEvent.objects.filter(action="welfare.watch_update").exists()


def test_a_moved_out_resident_cannot_be_enrolled(world: Any):
    Resident.objects.filter(pk=world.a.resident.pk).update(moved_out_at=dt.date(2025, 1, 1))
    resident = Resident.objects.get(pk=world.a.resident.pk)
    with pytest.raises(ServiceError):
        watch_enrol(actor=None, resident=resident, consent_how="form", now=T0)


@pytest.mark.parametrize(
    ("role", "side", "error"),
    [
        ("supervisor", "a", PermissionDenied),  # sees welfare checks, manages none
        ("volunteer", "a", Http404),
        ("guard", "a", Http404),
        ("community_admin", "b", Http404),
    ],
)
def test_only_welfare_managers_of_the_community_write(
    home: Home, world: Any, role: str, side: str, error: type[Exception]
):
    actor = world.user(role, side)
    with pytest.raises(error):
        watch_update(actor=actor, watch=home.watch, **_settings(home))
    with pytest.raises(error):
        watch_pause(actor=actor, watch=home.watch, until=T0 + dt.timedelta(days=1), now=T0)
    with pytest.raises(error):
        watch_end(actor=actor, watch=home.watch, now=T0)
    with pytest.raises(error):
        watch_enrol(actor=actor, resident=world.a.resident, consent_how="form", now=T0)
    assert WelfareWatch.objects.get(pk=home.watch.pk).ended_at is None


# --------------------------------------------------------------------------- pause


def test_pause_must_be_in_the_future_and_within_90_days(home: Home):
    now = T0 + dt.timedelta(hours=1)
    for until in (now, now - dt.timedelta(hours=1), now + dt.timedelta(days=91)):
        with pytest.raises(ServiceError) as raised:
            watch_pause(actor=home.admin, watch=home.watch, until=until, now=now)
        assert raised.value.field == "until"
    with pytest.raises(ServiceError):
        watch_pause(actor=home.admin, watch=home.watch, until=dt.datetime(2025, 3, 5), now=now)  # noqa: DTZ001 - refused
    with pytest.raises(ConflictError):
        watch_pause(actor=home.admin, watch=home.watch, until=None, now=now)  # not paused
    watch = watch_pause(
        actor=home.admin, watch=home.watch, until=now + dt.timedelta(days=90), now=now
    )
    assert watch.paused_until == now + dt.timedelta(days=90)
    assert AuditEvent.objects.filter(action="welfare.watch_pause").exists()
    watch = watch_pause(actor=home.admin, watch=home.watch, until=None, now=now)
    assert watch.paused_until == now
    assert AuditEvent.objects.filter(action="welfare.watch_resume").exists()


# --------------------------------------------------------------------------- end


def test_ending_closes_the_open_check_without_an_outcome_and_may_withdraw_consent(home: Home):
    check = _open_check(home)
    at = T0 + dt.timedelta(hours=25)
    watch = watch_end(actor=home.admin, watch=home.watch, withdraw_consent=True, now=at)
    assert watch.ended_at == at
    check.refresh_from_db()
    assert check.status == CheckStatus.CLOSED
    assert check.outcome == ""
    assert check.closed_by == home.admin
    assert "ended" in check.note
    assert check.outcome not in FALSE_ALARM_OUTCOMES
    watch.consent.refresh_from_db()
    assert watch.consent.withdrawn_at == at
    assert Notification.objects.filter(
        kind="welfare.check_closed", deliveries__recipient=home.grid_worker
    ).exists()
    with pytest.raises(ConflictError):
        watch_end(actor=home.admin, watch=home.watch, now=at)
    # Ended: the job leaves it alone.
    report = welfare_checks_run(now=T0 + dt.timedelta(days=5))
    assert report.opened == 0
    with pytest.raises(ConflictError):
        watch_pause(actor=home.admin, watch=home.watch, until=None, now=at)


def test_withdrawing_the_consent_ends_the_enrolment(home: Home):
    _open_check(home)
    at = T0 + dt.timedelta(hours=25)
    consent_withdraw(actor=home.grid_worker, consent=home.watch.consent, now=at)
    watch = WelfareWatch.objects.get(pk=home.watch.pk)
    assert watch.ended_at == at
    check = WelfareCheck.objects.get(watch=watch)
    assert check.status == CheckStatus.CLOSED
    assert "withdrew" in check.note
    # A consent of another kind ends nothing.
    face = consent_record(
        actor=None, resident=home.resident, kind=ConsentKind.FACE, how="form", now=at
    )
    watch_enrol(actor=home.admin, resident=home.resident, consent_how="form again", now=at)
    consent_withdraw(actor=None, consent=face, now=at)
    assert WelfareWatch.objects.get(pk=watch.pk).ended_at is None


def test_erasing_the_resident_deletes_the_enrolment_checks_and_consent(home: Home):
    _open_check(home)
    welfare_checks_run(now=T0 + dt.timedelta(hours=26))  # escalated: texts to the contact
    resident_erase(actor=home.admin, resident=home.resident)
    assert not WelfareWatch.objects.exists()
    assert not WelfareCheck.objects.exists()
    assert not ConsentRecord.objects.filter(kind=ConsentKind.WELFARE).exists()


# --------------------------------------------------------------------------- checks


def test_the_assignee_closes_a_check(home: Home):
    check = _open_check(home)
    at = T0 + dt.timedelta(hours=25)
    closed = check_close(
        actor=home.grid_worker, check=check, outcome=CheckOutcome.AWAY, note=" ", now=at
    )
    assert closed.status == CheckStatus.CLOSED
    assert closed.outcome == CheckOutcome.AWAY
    assert closed.closed_at == at
    assert closed.closed_by == home.grid_worker
    assert closed.outcome in FALSE_ALARM_OUTCOMES
    assert AuditEvent.objects.filter(action="welfare.check_close").exists()
    with pytest.raises(ConflictError):
        check_close(actor=home.admin, check=check, outcome=CheckOutcome.SAFE, now=at)


def test_a_volunteer_closes_only_their_own_check(home: Home, world: Any):
    check = _open_check(home)
    at = T0 + dt.timedelta(hours=25)
    with pytest.raises(Http404):
        check_close(actor=home.volunteer, check=check, outcome=CheckOutcome.SAFE, now=at)
    check_reassign(actor=home.admin, check=check, assignee=home.volunteer, now=at)
    check_close(actor=home.volunteer, check=check, outcome=CheckOutcome.SAFE, now=at)
    assert WelfareCheck.objects.get(pk=check.pk).closed_by == home.volunteer


def test_closing_needs_a_human_outcome_and_a_note_when_help_was_needed(home: Home):
    check = _open_check(home)
    at = T0 + dt.timedelta(hours=25)
    with pytest.raises(ServiceError) as raised:
        check_close(actor=home.admin, check=check, outcome=CheckOutcome.RESUMED, now=at)
    assert raised.value.field == "outcome"
    for outcome in (CheckOutcome.NEEDED_HELP, CheckOutcome.EMERGENCY):
        with pytest.raises(ServiceError) as raised:
            check_close(actor=home.admin, check=check, outcome=outcome, note="  ", now=at)
        assert raised.value.field == "note"
    assert WelfareCheck.objects.get(pk=check.pk).status == CheckStatus.OPEN
    check_close(
        actor=home.admin, check=check, outcome=CheckOutcome.EMERGENCY, note="120 called", now=at
    )
    assert WelfareCheck.objects.get(pk=check.pk).note == "120 called"


def test_reassigning_tells_the_new_assignee(home: Home, world: Any):
    check = _open_check(home)
    at = T0 + dt.timedelta(hours=25)
    with pytest.raises(ServiceError):
        check_reassign(actor=home.admin, check=check, assignee=world.user("guard"), now=at)
    with pytest.raises(ServiceError):
        check_reassign(actor=home.admin, check=check, assignee=None, now=at)
    with pytest.raises(Http404):
        check_reassign(actor=home.volunteer, check=check, assignee=home.volunteer, now=at)
    with pytest.raises(Http404):
        check_reassign(
            actor=world.user("community_admin", "b"), check=check, assignee=home.volunteer, now=at
        )
    check_reassign(actor=home.admin, check=check, assignee=home.volunteer, now=at)
    check.refresh_from_db()
    assert check.assignee == home.volunteer
    assert check.escalate_at == T0 + dt.timedelta(hours=26)  # unchanged
    told = (
        Notification.objects.filter(kind="welfare.check", deliveries__recipient=home.volunteer)
        .distinct()
        .get()
    )
    assert told.urgent
    assert AuditEvent.objects.filter(action="welfare.check_reassign").exists()
    check_close(actor=home.admin, check=check, outcome=CheckOutcome.SAFE, now=at)
    with pytest.raises(ConflictError):
        check_reassign(actor=home.admin, check=check, assignee=home.grid_worker, now=at)

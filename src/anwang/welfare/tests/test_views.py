"""The welfare-check pages: enrolling through the form (consent recorded, nothing typed lost on
an error), the enrolment's page audited and its pause, resume and end, the phone page where
the assignee closes a check, other communities 404, people without the permission 403, the
false-alarm report and its CSV, and a query-count guard on the overview."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anwang.access.choices import ConsentKind
from anwang.access.models import ConsentRecord
from anwang.accounts.models import User
from anwang.audit.models import AuditEvent
from anwang.people.models import HouseholdMember, Resident
from anwang.places.models import Household
from anwang.welfare.choices import CheckOutcome, CheckStatus
from anwang.welfare.models import WelfareCheck, WelfareWatch
from anwang.welfare.services import watch_enrol

pytestmark = pytest.mark.django_db


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def open_check(
    watch: WelfareWatch,
    assignee: User | None,
    *,
    opened_at: dt.datetime | None = None,
    quiet_hours: float = 26,
) -> WelfareCheck:
    """An open check of the enrolment, as the worker opens it after a silence."""
    opened = opened_at or timezone.now() - dt.timedelta(hours=1)
    member = HouseholdMember.objects.filter(resident=watch.resident).first()
    return WelfareCheck.objects.create(
        watch=watch,
        community=watch.community,
        household=member.household if member else None,
        opened_at=opened,
        quiet_since=opened - dt.timedelta(hours=quiet_hours - 1),
        threshold_hours=24,
        assignee=assignee,
        escalate_at=opened + dt.timedelta(hours=2),
    )


def closed_check(watch: WelfareWatch, outcome: str, opened_at: dt.datetime) -> WelfareCheck:
    """A check of the enrolment closed with ``outcome``."""
    check = open_check(watch, None, opened_at=opened_at)
    check.status = CheckStatus.CLOSED
    check.outcome = outcome
    check.closed_at = opened_at + dt.timedelta(minutes=30)
    check.save()
    return check


def neighbour(world: Any, number: str, name: str) -> Resident:
    """Another resident of 翠苑社区 living alone in room ``number`` of 1-1."""
    side = world.a
    household = Household.objects.create(
        community=side.community, unit=side.unit, floor=int(number[0]), number=number
    )
    resident = Resident.objects.create(community=side.community, name=name)
    HouseholdMember.objects.create(household=household, resident=resident)
    return resident


# --------------------------------------------------------------------------- enrolling


def test_enrol_through_the_page_records_the_consent(world, home):
    admin = client(world)
    resident = neighbour(world, "402", "翠苑王奶奶")
    chooser = admin.get("/welfare/new/")
    assert chooser.status_code == 200
    assert "翠苑王奶奶" in chooser.content.decode()
    assert home.resident.name not in chooser.content.decode()  # already watched
    form = admin.get(f"/welfare/new/?resident={resident.pk}")
    assert form.status_code == 200
    assert "No welfare-check consent on record" in form.content.decode()
    response = admin.post(
        f"/welfare/new/?resident={resident.pk}",
        {
            "resident": resident.pk,
            "consent_how": "signed form, daughter present",
            "quiet_hours": "18",
            "use_baseline": "on",
            "assignee": home.volunteer.pk,
            "escalate_after_minutes": "60",
            "devices": [home.door.pk],
        },
    )
    watch = WelfareWatch.objects.get(resident=resident)
    assert response.status_code == 302
    assert response["Location"] == f"/welfare/watches/{watch.pk}/"
    assert (watch.quiet_hours, watch.escalate_after_minutes) == (18, 60)
    assert watch.assignee == home.volunteer
    assert list(watch.devices.all()) == [home.door]
    consent = ConsentRecord.objects.get(resident=resident, kind=ConsentKind.WELFARE)
    assert consent.how == "signed form, daughter present"
    assert watch.consent == consent


def test_enrol_with_consent_in_force_asks_no_how(world):
    admin = client(world)
    resident = neighbour(world, "403", "翠苑赵爷爷")
    ConsentRecord.objects.create(
        resident=resident, kind=ConsentKind.WELFARE, given_at=timezone.now(), how="in the app"
    )
    form = admin.get(f"/welfare/new/?resident={resident.pk}")
    assert "Consent in force" in form.content.decode()
    assert 'name="consent_how"' not in form.content.decode()
    response = admin.post(
        f"/welfare/new/?resident={resident.pk}",
        {"resident": resident.pk, "quiet_hours": "24", "escalate_after_minutes": "120"},
    )
    assert response.status_code == 302
    assert WelfareWatch.objects.get(resident=resident).use_baseline is False  # box not ticked


def test_validation_errors_keep_what_was_typed(world):
    admin = client(world)
    resident = neighbour(world, "404", "翠苑钱阿姨")
    url = f"/welfare/new/?resident={resident.pk}"
    data = {
        "resident": resident.pk,
        "consent_how": "",
        "quiet_hours": "500",
        "escalate_after_minutes": "45",
        "use_baseline": "on",
    }
    response = admin.post(url, data)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="45"' in page
    assert 'value="500"' in page
    assert "This field is required." in page
    assert not WelfareWatch.objects.filter(resident=resident).exists()
    # The service's own refusal (the resident moved out meanwhile) shows above the form.
    Resident.objects.filter(pk=resident.pk).update(moved_out_at=timezone.localdate())
    data.update(quiet_hours="30", consent_how="by phone with her son")
    refused = admin.post(url, data)
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "moved out" in page
    assert 'value="by phone with her son"' in page
    assert 'value="30"' in page
    assert not WelfareWatch.objects.filter(resident=resident).exists()


def test_enrolling_a_resident_already_watched_is_refused_on_the_form(world, home):
    response = client(world).post(
        f"/welfare/new/?resident={home.resident.pk}",
        {"resident": home.resident.pk, "quiet_hours": "12", "escalate_after_minutes": "30"},
    )
    assert response.status_code == 400
    assert "already enrolled" in response.content.decode()
    home.watch.refresh_from_db()
    assert home.watch.quiet_hours == 24


def test_edit_changes_the_settings(world, home):
    admin = client(world)
    page = admin.get(f"/welfare/watches/{home.watch.pk}/edit/")
    assert page.status_code == 200
    assert 'value="24"' in page.content.decode()
    response = admin.post(
        f"/welfare/watches/{home.watch.pk}/edit/",
        {
            "quiet_hours": "36",
            "escalate_after_minutes": "90",
            "family_contact": home.contact.pk,
            "devices": [home.door.pk],
        },
    )
    assert response.status_code == 302
    home.watch.refresh_from_db()
    assert (home.watch.quiet_hours, home.watch.use_baseline) == (36, False)


# --------------------------------------------------------------------------- the enrolment


def test_detail_explains_the_status_and_is_audited(world, home):
    response = client(world).get(f"/welfare/watches/{home.watch.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "a check opens after 24 h" in page
    assert "This view is recorded" in page
    entry = AuditEvent.objects.filter(
        action="welfare.view_activity", object_id=str(home.watch.pk)
    ).get()
    assert entry.actor_id == world.user("community_admin").pk
    assert entry.community_id == world.a.community.pk


def test_pause_resume_and_end(world, home):
    admin = client(world)
    url = f"/welfare/watches/{home.watch.pk}"
    past = admin.post(f"{url}/pause/", {"until": "2020-01-01T08:00"})
    assert past.status_code == 400
    assert 'value="2020-01-01T08:00"' in past.content.decode()
    until = timezone.localtime() + dt.timedelta(days=3)
    paused = admin.post(f"{url}/pause/", {"until": until.strftime("%Y-%m-%dT%H:%M")})
    assert paused.status_code == 302
    home.watch.refresh_from_db()
    assert home.watch.paused_until is not None
    assert "Paused until" in admin.get(f"{url}/").content.decode()
    assert admin.post(f"{url}/pause/", {"action": "resume"}).status_code == 302
    home.watch.refresh_from_db()
    assert home.watch.paused_until is not None
    assert home.watch.paused_until <= timezone.now()
    ended = admin.post(f"{url}/end/", {"withdraw_consent": "on"})
    assert ended.status_code == 302
    home.watch.refresh_from_db()
    assert home.watch.ended_at is not None
    assert ConsentRecord.objects.get(pk=home.watch.consent_id).withdrawn_at is not None


def test_viewers_cannot_change_an_enrolment(world, home):
    supervisor = client(world, "supervisor")
    assert supervisor.get(f"/welfare/watches/{home.watch.pk}/").status_code == 200
    assert supervisor.get(f"/welfare/watches/{home.watch.pk}/edit/").status_code == 403
    assert supervisor.post(f"/welfare/watches/{home.watch.pk}/end/").status_code == 403
    assert supervisor.get("/welfare/new/").status_code == 403


# --------------------------------------------------------------------------- checks


def test_the_assignee_closes_a_check_on_the_phone_page(world, home):
    check = open_check(home.watch, home.volunteer)
    volunteer = client(world, "volunteer")
    mine = volunteer.get("/welfare/mine/")
    assert mine.status_code == 200
    assert f'data-check="{check.pk}"' in mine.content.decode()
    page = volunteer.get(f"/welfare/checks/{check.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert home.resident.name in text
    assert "1-1-301" in text
    assert "a李四" in text
    assert "139****1111" in text
    assert "13900001111" not in text  # a volunteer may not reveal numbers
    assert "26 h" in text
    assert AuditEvent.objects.filter(action="welfare.view_check", object_id=str(check.pk)).exists()
    # A real emergency needs a note: the choice is kept.
    refused = volunteer.post(f"/welfare/checks/{check.pk}/close/", {"outcome": "needed_help"})
    assert refused.status_code == 400
    assert re.search(r'value="needed_help"[^>]*checked', refused.content.decode())
    check.refresh_from_db()
    assert check.status == CheckStatus.OPEN
    done = volunteer.post(
        f"/welfare/checks/{check.pk}/close/", {"outcome": "safe", "note": "在家看电视"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/welfare/mine/"
    check.refresh_from_db()
    assert (check.status, check.outcome, check.closed_by) == (
        CheckStatus.CLOSED,
        CheckOutcome.SAFE,
        home.volunteer,
    )


def test_managers_reassign_and_see_overdue_checks_first(world, home):
    check = open_check(
        home.watch, home.grid_worker, opened_at=timezone.now() - dt.timedelta(hours=3)
    )
    admin = client(world)
    overview = admin.get("/welfare/").content.decode()
    assert 'data-testid="overdue"' in overview
    assert overview.index('data-testid="open-checks"') < overview.index('data-testid="watch-list"')
    response = admin.post(f"/welfare/checks/{check.pk}/reassign/", {"assignee": home.volunteer.pk})
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.assignee == home.volunteer
    empty = admin.post(f"/welfare/checks/{check.pk}/reassign/", {"assignee": ""})
    assert empty.status_code == 400


def test_someone_else_s_check_is_not_found_for_a_volunteer(world, home):
    check = open_check(home.watch, home.grid_worker)
    volunteer = client(world, "volunteer")
    assert volunteer.get(f"/welfare/checks/{check.pk}/").status_code == 404
    assert (
        volunteer.post(f"/welfare/checks/{check.pk}/close/", {"outcome": "safe"}).status_code == 404
    )
    assert volunteer.get("/welfare/").status_code == 403


def test_another_community_gets_404(world, home):
    check = open_check(home.watch, home.volunteer)
    other = client(world, "community_admin", "b")
    assert other.get(f"/welfare/watches/{home.watch.pk}/").status_code == 404
    assert other.get(f"/welfare/watches/{home.watch.pk}/edit/").status_code == 404
    assert other.post(f"/welfare/watches/{home.watch.pk}/end/").status_code == 404
    assert other.get(f"/welfare/checks/{check.pk}/").status_code == 404
    assert other.post(f"/welfare/checks/{check.pk}/close/", {"outcome": "safe"}).status_code == 404
    assert other.get(f"/welfare/new/?resident={home.resident.pk}").status_code == 404
    overview = other.get("/welfare/").content.decode()
    assert home.resident.name not in overview


def test_without_the_permission_pages_are_refused(world, home):
    operator = client(world, "operator")
    assert operator.get("/welfare/").status_code == 403
    assert operator.get("/welfare/report/").status_code == 403
    assert operator.get(f"/welfare/watches/{home.watch.pk}/").status_code == 404
    assert operator.get("/welfare/new/").status_code == 403
    anonymous = Client()
    assert anonymous.get("/welfare/").status_code == 302


# --------------------------------------------------------------------------- report


def test_report_counts_false_alarms_per_household_and_month(world, home):
    now = timezone.now()
    this_month = now - dt.timedelta(minutes=5)
    closed_check(home.watch, CheckOutcome.SAFE, this_month)
    closed_check(home.watch, CheckOutcome.AWAY, this_month)
    closed_check(home.watch, CheckOutcome.NEEDED_HELP, this_month)
    open_check(home.watch, None, opened_at=this_month)
    response = client(world).get("/welfare/report/?months=3")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<span class="value" data-testid="total-checks">4</span>' in page
    assert '<span class="value" data-testid="total-false-alarms">2</span>' in page
    assert "66.7 %" in page  # 2 false alarms of 3 decided checks
    assert "1-1-301" in page
    csv = client(world).get("/welfare/report/?months=3&format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Household,")
    assert lines[1].startswith("1-1-301,")
    assert lines[1].endswith(",4,2,66.7")
    assert lines[-1].startswith("Total,")


# --------------------------------------------------------------------------- overview


def test_overview_lists_enrolments_with_how_long_they_are_quiet(world, home):
    page = client(world).get("/welfare/").content.decode()
    assert f'data-watch="{home.watch.pk}"' in page
    assert "Grid worker" in page or home.grid_worker.username in page
    assert AuditEvent.objects.filter(action="welfare.view_activity").exists()


def test_overview_query_count_does_not_grow_with_enrolments(
    world, home, django_assert_max_num_queries
):
    admin = client(world)
    admin.get("/welfare/")  # warm the session and the caches
    open_check(home.watch, home.volunteer)
    with CaptureQueriesContext(connection) as few:
        admin.get("/welfare/")
    for number in range(5):
        resident = neighbour(world, f"50{number}", f"翠苑居民{number}")
        watch = watch_enrol(
            actor=home.admin, resident=resident, consent_how="signed form", devices=[home.door]
        )
        open_check(watch, home.volunteer)
    with django_assert_max_num_queries(len(few) + 2):  # audit entries: one per community
        response = admin.get("/welfare/")
    assert response.content.decode().count("data-watch=") == 6
    assert len(few) <= 30

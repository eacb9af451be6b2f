"""The welfare-check API: enrolling (consent recorded or refused), an enrolment with its status
audited on every read, changing, pausing and ending it, checks listed (``mine``), closed by
their assignee and reassigned, the false-alarm report; other communities 404, viewers 403,
and a query-count guard on the lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.access.choices import ConsentKind
from anwang.access.models import ConsentRecord
from anwang.audit.models import AuditEvent
from anwang.welfare.choices import CheckOutcome, CheckStatus
from anwang.welfare.models import WelfareWatch
from anwang.welfare.services import watch_enrol
from anwang.welfare.tests.test_views import closed_check, neighbour, open_check

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A JSON request to the API."""
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


# --------------------------------------------------------------------------- enrolments


def test_enrol_through_the_api(world, home):
    admin = client(world)
    resident = neighbour(world, "402", "翠苑王奶奶")
    without = send(admin, "post", "/welfare/watches", {"resident_id": resident.pk})
    assert without.status_code == 400
    assert without.json()["errors"][0]["loc"] == ["consent_how"]
    created = send(
        admin,
        "post",
        "/welfare/watches",
        {
            "resident_id": resident.pk,
            "consent_how": "signed form",
            "quiet_hours": 20,
            "assignee_id": home.volunteer.pk,
            "device_ids": [home.door.pk],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["resident_name"] == "翠苑王奶奶"
    assert body["quiet_hours"] == 20
    assert body["assignee_id"] == home.volunteer.pk
    assert body["device_ids"] == [home.door.pk]
    assert body["status"]["threshold_hours"] == 20
    assert body["status"]["open_check_id"] is None
    watch = WelfareWatch.objects.get(pk=body["id"])
    assert ConsentRecord.objects.get(pk=watch.consent_id).kind == ConsentKind.WELFARE
    again = send(admin, "post", "/welfare/watches", {"resident_id": resident.pk})
    assert again.status_code == 409


def test_enrol_refuses_what_is_not_the_community_s(world, home):
    admin = client(world)
    resident = neighbour(world, "403", "翠苑赵爷爷")
    other_device = send(
        admin,
        "post",
        "/welfare/watches",
        {"resident_id": resident.pk, "consent_how": "signed", "device_ids": [999999]},
    )
    assert other_device.status_code == 400
    other_contact = send(
        admin,
        "post",
        "/welfare/watches",
        {
            "resident_id": resident.pk,
            "consent_how": "signed",
            "family_contact_id": world.b.contact.pk,
        },
    )
    assert other_contact.status_code == 400
    outsider = send(
        admin,
        "post",
        "/welfare/watches",
        {
            "resident_id": resident.pk,
            "consent_how": "signed",
            "assignee_id": world.user("volunteer", "b").pk,
        },
    )
    assert outsider.status_code == 400
    assert not WelfareWatch.objects.filter(resident=resident).exists()
    foreign = send(
        admin, "post", "/welfare/watches", {"resident_id": world.b.resident.pk, "consent_how": "x"}
    )
    assert foreign.status_code == 404


def test_viewers_get_403_and_outsiders_404(world, home):
    resident = neighbour(world, "404", "翠苑钱阿姨")
    body = {"resident_id": resident.pk, "consent_how": "signed"}
    assert send(client(world, "supervisor"), "post", "/welfare/watches", body).status_code == 403
    assert send(client(world, "operator"), "post", "/welfare/watches", body).status_code == 404
    url = f"/welfare/watches/{home.watch.pk}"
    assert send(client(world, "supervisor"), "patch", url, {"quiet_hours": 5}).status_code == 403
    other = client(world, "community_admin", "b")
    assert other.get(f"{API}{url}").status_code == 404
    assert send(other, "patch", url, {"quiet_hours": 5}).status_code == 404
    assert send(other, "post", f"{url}/end").status_code == 404
    listed = other.get(f"{API}/welfare/watches").json()
    assert listed["items"] == []


def test_reading_an_enrolment_is_audited_and_lists_leave_activity_out(world, home):
    admin = client(world)
    listed = admin.get(f"{API}/welfare/watches").json()
    assert listed["count"] == 1
    assert "last_activity_at" not in str(listed)
    assert not AuditEvent.objects.filter(action="welfare.view_activity").exists()
    detail = admin.get(f"{API}/welfare/watches/{home.watch.pk}")
    assert detail.status_code == 200
    status = detail.json()["status"]
    assert set(status) >= {"last_activity_at", "quiet_for_hours", "threshold_hours", "baseline"}
    assert status["threshold_hours"] == 24
    assert AuditEvent.objects.filter(
        action="welfare.view_activity", object_id=str(home.watch.pk)
    ).exists()


def test_patch_pause_and_end(world, home):
    admin = client(world)
    url = f"/welfare/watches/{home.watch.pk}"
    changed = send(admin, "patch", url, {"quiet_hours": 36, "family_contact_id": None})
    assert changed.status_code == 200, changed.content
    assert changed.json()["quiet_hours"] == 36
    assert changed.json()["family_contact_id"] is None
    assert changed.json()["device_ids"] == [home.door.pk]  # left out: kept
    bad = send(admin, "patch", url, {"quiet_hours": 500})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["quiet_hours"]
    until = (timezone.now() + dt.timedelta(days=2)).isoformat()
    paused = send(admin, "post", f"{url}/pause", {"until": until})
    assert paused.status_code == 200
    assert paused.json()["status"]["paused"] is True
    resumed = send(admin, "post", f"{url}/pause", {"until": None})
    assert resumed.json()["status"]["paused"] is False
    ended = send(admin, "post", f"{url}/end", {"withdraw_consent": False})
    assert ended.status_code == 200
    assert ended.json()["ended_at"] is not None
    assert send(admin, "post", f"{url}/end").status_code == 409


# --------------------------------------------------------------------------- checks


def test_checks_mine_close_and_reassign(world, home):
    check = open_check(home.watch, home.volunteer)
    volunteer = client(world, "volunteer")
    mine = volunteer.get(f"{API}/welfare/checks?mine=true").json()
    assert [item["id"] for item in mine["items"]] == [check.pk]
    assert mine["items"][0]["household_label"] == "1-1-301"
    assert volunteer.get(f"{API}/welfare/checks").json()["items"] == []  # no VIEW_WELFARE
    got = volunteer.get(f"{API}/welfare/checks/{check.pk}")
    assert got.status_code == 200
    assert got.json()["resident_name"] == home.resident.name
    no_note = send(volunteer, "post", f"/welfare/checks/{check.pk}/close", {"outcome": "emergency"})
    assert no_note.status_code == 400
    assert no_note.json()["errors"][0]["loc"] == ["note"]
    admin = client(world)
    reassigned = send(
        admin,
        "post",
        f"/welfare/checks/{check.pk}/reassign",
        {"assignee_id": home.grid_worker.pk},
    )
    assert reassigned.status_code == 200, reassigned.content
    assert reassigned.json()["assignee_id"] == home.grid_worker.pk
    # No longer the volunteer's: not found for them now.
    assert volunteer.get(f"{API}/welfare/checks/{check.pk}").status_code == 404
    grid_worker = client(world, "grid_worker")
    closed = send(
        grid_worker,
        "post",
        f"/welfare/checks/{check.pk}/close",
        {"outcome": "needed_help", "note": "摔倒了，已送医"},
    )
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "needed_help")
    again = send(grid_worker, "post", f"/welfare/checks/{check.pk}/close", {"outcome": "safe"})
    assert again.status_code == 409


def test_checks_of_another_community_are_not_found(world, home):
    check = open_check(home.watch, home.volunteer)
    other = client(world, "community_admin", "b")
    assert other.get(f"{API}/welfare/checks/{check.pk}").status_code == 404
    close = send(other, "post", f"/welfare/checks/{check.pk}/close", {"outcome": "safe"})
    assert close.status_code == 404
    reassign = send(
        other,
        "post",
        f"/welfare/checks/{check.pk}/reassign",
        {"assignee_id": world.user("volunteer", "b").pk},
    )
    assert reassign.status_code == 404
    assert other.get(f"{API}/welfare/checks").json()["items"] == []
    supervisor = client(world, "supervisor")
    forbidden = send(
        supervisor,
        "post",
        f"/welfare/checks/{check.pk}/reassign",
        {"assignee_id": home.grid_worker.pk},
    )
    assert forbidden.status_code == 403
    assert check.status == CheckStatus.OPEN


# --------------------------------------------------------------------------- report


def test_report_numbers(world, home):
    opened = timezone.now() - dt.timedelta(minutes=5)
    closed_check(home.watch, CheckOutcome.SAFE, opened)
    closed_check(home.watch, CheckOutcome.RESUMED, opened)
    closed_check(home.watch, CheckOutcome.EMERGENCY, opened)
    admin = client(world)
    body = admin.get(f"{API}/welfare/report?community_id={world.a.community.pk}&months=2").json()
    assert body["months"] == 2
    households = [row for row in body["rows"] if row["household_id"] is not None]
    assert len(households) == 1
    row = households[0]
    assert (row["household_label"], row["checks"], row["false_alarms"], row["real"]) == (
        "1-1-301",
        3,
        2,
        1,
    )
    assert row["rate"] == pytest.approx(2 / 3, abs=0.001)
    months = {row["month"] for row in body["rows"]}
    assert len(months) == 2
    other = client(world, "community_admin", "b")
    missing = other.get(f"{API}/welfare/report?community_id={world.a.community.pk}")
    assert missing.status_code == 404
    too_long = admin.get(f"{API}/welfare/report?community_id={world.a.community.pk}&months=99")
    assert too_long.status_code == 400


# --------------------------------------------------------------------------- query counts


def test_lists_have_a_query_count_guard(world, home, django_assert_max_num_queries):
    for number in range(6):
        resident = neighbour(world, f"50{number}", f"翠苑居民{number}")
        watch = watch_enrol(
            actor=home.admin, resident=resident, consent_how="signed form", devices=[home.door]
        )
        open_check(watch, home.volunteer)
    admin = client(world)
    admin.get(f"{API}/welfare/watches")  # warm the session
    with django_assert_max_num_queries(10):
        watches = admin.get(f"{API}/welfare/watches")
    assert watches.json()["count"] == 7
    with django_assert_max_num_queries(10):
        checks = admin.get(f"{API}/welfare/checks?status=open")
    assert checks.json()["count"] == 6

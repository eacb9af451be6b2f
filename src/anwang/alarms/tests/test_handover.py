"""The shift handover: writing it (with the open alarms kept), acknowledging it by the next
shift (not its writer; once), scoping, the pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.accounts.selectors import scope_for
from anwang.alarms import selectors, services
from anwang.alarms.choices import OPEN_STATES, AlarmState
from anwang.alarms.models import Alarm, ShiftHandover
from anwang.alarms.tests.test_guard import raise_alarm
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError

API = "/api/v1/alarms/handovers"


@pytest.fixture
def handover(world: Any) -> ShiftHandover:
    """A handover of community A's operator, with one open and one dispatched alarm."""
    raise_alarm(world.a, "smoke")
    services.alarm_dispatch(
        actor=world.user("operator"),
        alarm=raise_alarm(world.a, "door"),
        assignee=world.user("guard"),
    )
    return services.handover_create(
        actor=world.user("operator"), community=world.a.community, note="Gate 2 camera is down."
    )


# --------------------------------------------------------------------------- services


def test_create_snapshots_the_open_alarms(world, handover):
    closed = raise_alarm(world.a, "water")
    services.alarm_resolve(actor=world.user("operator"), alarm=closed)
    raise_alarm(world.b, "smoke")  # another community's alarm never passes on
    later = services.handover_create(
        actor=world.user("operator"), community=world.a.community, note="Quiet night."
    )
    rows = later.snapshot["alarms"]
    assert [row["state"] for row in rows] == [AlarmState.RAISED, AlarmState.DISPATCHED]
    open_titles = Alarm.objects.filter(community=world.a.community, state__in=OPEN_STATES)
    assert {row["title"] for row in rows} == set(open_titles.values_list("title", flat=True))
    assert rows[1]["assignee"] == world.user("guard").pk
    assert closed.pk not in [row["id"] for row in rows]
    assert later.from_user == world.user("operator")
    assert later.to_user is None
    assert later.is_pending
    entry = AuditEvent.objects.filter(action="handover.create").last()
    assert entry is not None
    assert entry.community_id == world.a.community.pk


def test_unfinished_incident_tasks_pass_on_with_the_alarms(world, settings):
    from anwang.incidents.choices import TaskStatus
    from anwang.incidents.models import Incident, IncidentTask

    settings.LANGUAGE_CODE = "en"
    now = timezone.now()

    def incident(side: Any, title: str, **extra: Any) -> Incident:
        return Incident.objects.create(
            community=side.community, incident_type="fire", title=title, declared_at=now, **extra
        )

    fire = incident(world.a, "Fire in building 1")
    drill = incident(world.a, "Evacuation drill", is_drill=True)
    closed = incident(world.a, "Old fire", state="closed", closed_at=now)
    elsewhere = incident(world.b, "Fire elsewhere")
    guard = world.user("guard")
    IncidentTask.objects.create(
        incident=fire, position=1, title="Evacuate", assignee=guard, due_at=now
    )
    IncidentTask.objects.create(incident=drill, position=1, title="Headcount")
    IncidentTask.objects.create(incident=fire, position=2, title="Call 119", status=TaskStatus.DONE)
    IncidentTask.objects.create(incident=closed, position=1, title="Never done")
    IncidentTask.objects.create(incident=elsewhere, position=1, title="Not ours")
    handover = services.handover_create(
        actor=world.user("operator"), community=world.a.community, note="Fire still open."
    )
    rows = handover.snapshot["tasks"]
    assert [(row["title"], row["is_drill"]) for row in rows] == [
        ("Evacuate", False),
        ("Headcount", True),
    ]
    assert rows[0]["assignee"] == guard.pk
    assert handover.handed_over_tasks()[0]["due"] is not None
    page = world.client_for("operator").get("/alarms/handover/log/").text
    assert 'data-testid="handover-tasks"' in page
    assert "Evacuate" in page
    assert f"/incidents/{fire.pk}/" in page


def test_create_needs_a_note_and_the_handle_permission(world):
    with pytest.raises(ServiceError, match="required"):
        services.handover_create(
            actor=world.user("operator"), community=world.a.community, note=" "
        )
    with pytest.raises(PermissionDenied):
        services.handover_create(
            actor=world.user("supervisor"), community=world.a.community, note="x"
        )
    with pytest.raises(Http404):
        services.handover_create(
            actor=world.user("operator", "b"), community=world.a.community, note="x"
        )
    with pytest.raises(ServiceError, match="handles alarms"):
        services.handover_create(
            actor=world.user("operator"),
            community=world.a.community,
            note="x",
            to_user=world.user("operator", "b"),
        )
    with pytest.raises(ServiceError, match="someone else"):
        services.handover_create(
            actor=world.user("operator"),
            community=world.a.community,
            note="x",
            to_user=world.user("operator"),
        )
    assert not ShiftHandover.objects.exists()


def test_acknowledge_by_the_next_shift_once(world, handover):
    with pytest.raises(PermissionDenied):
        services.handover_acknowledge(actor=world.user("operator"), handover=handover)
    with pytest.raises(PermissionDenied):
        services.handover_acknowledge(actor=world.user("supervisor"), handover=handover)
    with pytest.raises(Http404):
        services.handover_acknowledge(actor=world.user("community_admin", "b"), handover=handover)
    admin = world.user("community_admin")
    services.handover_acknowledge(actor=admin, handover=handover)
    handover.refresh_from_db()
    assert handover.acknowledged_by == admin
    assert handover.acknowledged_at is not None
    with pytest.raises(ConflictError, match="already been acknowledged"):
        services.handover_acknowledge(actor=world.user("guard"), handover=handover)
    assert AuditEvent.objects.filter(action="handover.acknowledge").count() == 1


def test_a_handover_addressed_to_someone_waits_for_them(world):
    handover = services.handover_create(
        actor=world.user("operator"),
        community=world.a.community,
        note="For the admin.",
        to_user=world.user("community_admin"),
    )
    with pytest.raises(PermissionDenied, match="someone else"):
        services.handover_acknowledge(actor=world.user("guard"), handover=handover)
    assert selectors.handovers_to_acknowledge(scope_for(world.user("guard"))) == []
    assert selectors.handovers_to_acknowledge(scope_for(world.user("community_admin"))) == [
        handover
    ]
    services.handover_acknowledge(actor=world.user("community_admin"), handover=handover)


# --------------------------------------------------------------------------- selectors


def test_pending_and_log_are_scoped(world, handover):
    operator_b = world.user("operator", "b")
    other = services.handover_create(actor=operator_b, community=world.b.community, note="B")
    assert selectors.handovers_to_acknowledge(scope_for(world.user("operator"))) == []
    assert selectors.handovers_to_acknowledge(scope_for(world.user("guard"))) == [handover]
    assert selectors.handovers_to_acknowledge(scope_for(world.user("supervisor"))) == []
    assert list(selectors.handover_list(scope_for(world.user("supervisor")))) == [handover]
    assert list(selectors.handover_list(scope_for(operator_b))) == [other]
    assert list(selectors.handover_list(scope_for(world.user("resident")))) == []
    with pytest.raises(Http404):
        selectors.handover_get(scope_for(operator_b), handover.pk)
    assert set(selectors.handover_list(scope_for(world.platform_admin))) == {handover, other}


def test_log_filters_by_time_and_state(world, handover):
    scope = scope_for(world.user("operator"))
    old = services.handover_create(
        actor=world.user("operator"), community=world.a.community, note="Old."
    )
    ShiftHandover.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )
    services.handover_acknowledge(actor=world.user("guard"), handover=handover)
    week_ago = timezone.now() - dt.timedelta(days=7)
    assert list(selectors.handover_list(scope, since=week_ago)) == [handover]
    assert list(selectors.handover_list(scope, until=week_ago)) == [old]
    assert list(selectors.handover_list(scope, pending=True)) == [old]
    assert list(selectors.handover_list(scope, pending=False)) == [handover]


# --------------------------------------------------------------------------- pages


def test_handover_page_lists_open_alarms_and_writes(world, client_for):
    alarm = raise_alarm(world.a)
    operator = client_for("operator")
    page = operator.get("/alarms/handover/")
    assert page.status_code == 200
    assert alarm.display_title() in page.text
    assert 'data-testid="handover-form"' in page.text
    response = operator.post("/alarms/handover/", {"note": "Smoke sensor keeps firing."})
    assert response.status_code == 302
    (handover,) = ShiftHandover.objects.all()
    assert handover.snapshot["alarms"][0]["id"] == alarm.pk
    # The writer sees no banner; the incoming shift does, and takes over with one button.
    assert 'data-testid="handover-pending"' not in operator.get("/alarms/handover/").text
    admin = client_for("community_admin")
    page = admin.get("/alarms/handover/")
    assert 'data-testid="handover-pending"' in page.text
    assert "Smoke sensor keeps firing." in page.text
    assert operator.post(f"/alarms/handover/{handover.pk}/acknowledge/").status_code == 302
    handover.refresh_from_db()
    assert handover.is_pending
    done = admin.post(f"/alarms/handover/{handover.pk}/acknowledge/", follow=True)
    assert "the shift is yours" in done.text
    assert 'data-testid="handover-pending"' not in done.text
    again = admin.post(f"/alarms/handover/{handover.pk}/acknowledge/", follow=True)
    assert "already been acknowledged" in again.text


def test_handover_page_refuses_an_empty_note_and_readers(world, client_for):
    operator = client_for("operator")
    page = operator.post("/alarms/handover/", {"note": ""})
    assert page.status_code == 200
    assert "This field is required" in page.text
    supervisor = client_for("supervisor")
    assert 'data-testid="handover-form"' not in supervisor.get("/alarms/handover/").text
    assert supervisor.post("/alarms/handover/", {"note": "x"}).status_code == 403
    assert client_for("resident").get("/alarms/handover/").status_code == 403
    assert not ShiftHandover.objects.exists()


def test_another_communitys_handover_is_not_found(world, handover, client_for):
    admin_b = client_for("community_admin", "b")
    assert admin_b.post(f"/alarms/handover/{handover.pk}/acknowledge/").status_code == 404
    assert "Gate 2 camera is down." not in admin_b.get("/alarms/handover/log/").text
    handover.refresh_from_db()
    assert handover.is_pending


def test_log_page_keeps_everything_and_filters_by_date(world, handover, client_for):
    old = services.handover_create(
        actor=world.user("operator"), community=world.a.community, note="Last month's note."
    )
    ShiftHandover.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    log = client_for("supervisor")
    page = log.get("/alarms/handover/log/")
    assert "Gate 2 camera is down." in page.text
    assert "Last month&#x27;s note." in page.text
    today = timezone.localdate().isoformat()
    page = log.get(f"/alarms/handover/log/?since={today}")
    assert "Gate 2 camera is down." in page.text
    assert "Last month" not in page.text
    door = Alarm.objects.get(title__contains="door-a")
    assert door.title in page.text  # what was handed over


# --------------------------------------------------------------------------- API


def test_api_create_list_acknowledge(world, client_for):
    raise_alarm(world.a)
    operator = client_for("operator")
    created = operator.post(
        API,
        {"community_id": world.a.community.pk, "note": "Handing over."},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["from_user"] == world.user("operator").pk
    assert body["to_user"] is None
    assert [row["state"] for row in body["alarms"]] == ["raised"]
    listed = operator.get(f"{API}?pending=true").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert client_for("operator", "b").get(API).json()["items"] == []
    own = operator.post(f"{API}/{body['id']}/acknowledge")
    assert own.status_code == 403
    assert client_for("operator", "b").post(f"{API}/{body['id']}/acknowledge").status_code == 404
    taken = client_for("guard").post(f"{API}/{body['id']}/acknowledge")
    assert taken.status_code == 200
    assert taken.json()["acknowledged_by"] == world.user("guard").pk
    assert client_for("community_admin").post(f"{API}/{body['id']}/acknowledge").status_code == 409


def test_api_refuses_a_recipient_from_elsewhere(world, client_for):
    response = client_for("operator").post(
        API,
        {
            "community_id": world.a.community.pk,
            "note": "x",
            "to_user_id": world.user("operator", "b").pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not ShiftHandover.objects.exists()
    response = client_for("operator", "b").post(
        API, {"community_id": world.a.community.pk, "note": "x"}, content_type="application/json"
    )
    assert response.status_code == 404

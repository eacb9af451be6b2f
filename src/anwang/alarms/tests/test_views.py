"""Alarm pages: the list with filters, htmx and export, the detail with the actions a person
may take, statistics, response times, navigation and dashboard."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anwang.alarms import services
from anwang.alarms.choices import AlarmState
from anwang.alarms.models import Alarm, AlarmPhoto, ResponseTime
from anwang.alarms.tests.conftest import T0, firing, make_device, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def alarm(rule, device) -> Alarm:
    event = make_event(device)
    (raised,) = services.alarms_from_firings(
        firings=[firing(rule, device=device, events=(event.pk,))], now=T0
    )
    return raised


def test_list_filters_and_query_count(
    world, rule, alarm, client_for, django_assert_max_num_queries
):
    for number in range(20):
        other = make_device(world.a, f"s{number}")
        services.alarms_from_firings(firings=[firing(rule, device=other)], now=T0)
    c = client_for("guard")
    with django_assert_max_num_queries(20):
        response = c.get("/alarms/")
    assert response.status_code == 200
    assert "Smoke at sensor s19" in response.text
    assert 'data-testid="export-xlsx"' in response.text
    services.alarm_resolve(actor=None, alarm=alarm)
    response = c.get("/alarms/?state=resolved")
    assert "Smoke at sensor smoke-1" in response.text
    assert "Smoke at sensor s3" not in response.text
    fragment = c.get("/alarms/?open=yes&priority=1", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="alarm-table">')
    assert "Smoke at sensor smoke-1" not in fragment.text
    assert "Smoke at sensor s3" in fragment.text


def test_other_community_sees_nothing(world, alarm, client_for):
    assert "Smoke at" not in client_for("community_admin", "b").get("/alarms/").text
    assert client_for("community_admin", "b").get(f"/alarms/{alarm.pk}/").status_code == 404
    response = client_for("community_admin", "b").post(f"/alarms/{alarm.pk}/acknowledge/")
    assert response.status_code == 404
    assert client_for("resident").get("/alarms/").status_code == 403


def test_export(world, alarm, client_for):
    response = client_for("operator").get("/alarms/export/?format=csv&state=raised")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "Smoke at sensor smoke-1" in response.content.decode("utf-8-sig")
    assert client_for("operator").get("/alarms/export/?format=pdf").status_code == 404


def test_detail_shows_why_events_timeline_and_allowed_actions(world, alarm, client_for):
    response = client_for("operator").get(f"/alarms/{alarm.pk}/")
    assert response.status_code == 200
    text = response.text
    assert 'data-testid="alarm-why"' in text
    assert 'data-step="raised"' in text
    assert "sensor smoke-1" in text
    assert 'data-action="acknowledge"' in text
    assert 'data-action="dispatch"' in text
    assert world.user("guard").username in text  # in the person picker
    assert 'data-action="arrive"' not in text
    # A supervisor may look but not act.
    supervisor = client_for("supervisor").get(f"/alarms/{alarm.pk}/")
    assert supervisor.status_code == 200
    assert 'data-testid="alarm-actions"' not in supervisor.text


def test_actions_through_the_page(world, alarm, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    operator = client_for("operator")
    url = f"/alarms/{alarm.pk}"
    assert operator.post(f"{url}/acknowledge/").status_code == 302
    response = operator.post(f"{url}/acknowledge/", follow=True)
    assert "Only a raised alarm can be acknowledged" in response.text
    guard = world.user("guard")
    operator.post(f"{url}/dispatch/", {"assignee": guard.pk, "note": "north gate"})
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.DISPATCHED
    assert alarm.assignee == guard
    guard_client = client_for("guard")
    page = guard_client.get(f"{url}/").text
    assert 'data-action="accept"' in page
    guard_client.post(f"{url}/accept/")
    guard_client.post(f"{url}/arrive/")
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    guard_client.post(
        f"{url}/photo/", {"image": SimpleUploadedFile("p.jpg", buffer.getvalue(), "image/jpeg")}
    )
    assert AlarmPhoto.objects.filter(alarm=alarm).count() == 1
    response = guard_client.post(f"{url}/false/", {"reason": ""}, follow=True)
    assert "This field is required" in response.text
    guard_client.post(f"{url}/resolve/", {"note": "all clear"})
    guard_client.post(f"{url}/note/", {"note": "owner told"})
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.RESOLVED
    page = guard_client.get(f"{url}/").text
    assert "owner told" in page
    assert 'data-action="resolve"' not in page
    assert guard_client.post(f"{url}/unknown/").status_code == 404
    assert client_for("supervisor").post(f"{url}/note/", {"note": "x"}).status_code == 403


def test_stats_page(world, alarm, client_for):
    services.alarm_false(actor=None, alarm=alarm, reason="dust")
    response = client_for("community_admin").get("/alarms/stats/?since=2026-03-01&until=2026-03-03")
    assert response.status_code == 200
    assert 'data-stat="false"' in response.text
    assert "sensor smoke-1" in response.text
    assert "100%" in response.text


def test_response_times_page(world, client_for):
    admin = client_for("community_admin")
    page = admin.get("/alarms/response-times/")
    assert page.status_code == 200
    assert 'value="15"' in page.text
    data = {}
    for priority, (ack, scene) in enumerate([(20, 300), (60, 600), (300, 1800), (600, 3600)], 1):
        data[f"p{priority}-acknowledge_seconds"] = str(ack)
        data[f"p{priority}-on_scene_seconds"] = str(scene)
    data["p3-raise_priority"] = "on"
    assert admin.post("/alarms/response-times/", data).status_code == 302
    assert ResponseTime.objects.get(priority=1).acknowledge_seconds == 20
    assert ResponseTime.objects.get(priority=3).raise_priority
    # P2 was left at its default: it stays the default rather than becoming fixed times.
    assert not ResponseTime.objects.filter(priority=2).exists()
    data["p3-on_scene_seconds"] = "10"  # before acknowledging: refused, nothing changes
    response = admin.post("/alarms/response-times/", data)
    assert "cannot be due before acknowledging" in response.text
    assert ResponseTime.objects.get(priority=3).on_scene_seconds == 1800
    assert client_for("operator").get("/alarms/response-times/").status_code == 403


def test_navigation_and_dashboard(world, alarm, client_for):
    page = client_for("guard").get("/dashboard/").text
    assert 'href="/alarms/"' in page
    assert 'data-stat="alarms_open_p1"' in page
    assert 'href="/alarms/"' not in client_for("resident").get("/dashboard/").text

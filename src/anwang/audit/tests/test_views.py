"""Audit pages: scoped list with filters and pagination, detail, chain verification."""

from __future__ import annotations

import re

import pytest

from anwang.audit.models import AuditEvent
from anwang.audit.services import audit_record
from anwang.audit.tests.helpers import raw, write_entries

pytestmark = pytest.mark.django_db


def test_auditor_sees_own_community_only(world):
    write_entries(2, community_id=world.a.community.pk, action="zone.update")
    write_entries(1, community_id=world.b.community.pk, action="secret.b_action")
    response = world.client_for("auditor").get("/audit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "zone.update" in html
    assert "secret.b_action" not in html
    assert world.a.community.name in html


def test_staff_without_audit_permission_are_refused(world):
    assert world.client_for("community_admin").get("/audit/").status_code == 403
    assert world.client_for("resident").get("/audit/").status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_platform_admin_sees_every_entry(world):
    write_entries(1, community_id=world.b.community.pk, action="zone.b_change")
    write_entries(1, action="user.create")
    client = world.client_for("auditor")
    client.force_login(world.platform_admin)
    html = client.get("/audit/").content.decode()
    assert "zone.b_change" in html
    assert "user.create" in html


def test_navigation_shows_audit_to_auditors_only(world):
    html = world.client_for("auditor").get("/audit/").content.decode()
    assert 'href="/audit/"' in html
    dashboard = world.client_for("guard").get("/dashboard/").content.decode()
    assert 'href="/audit/"' not in dashboard


def test_filters_keep_what_was_typed_and_narrow_the_list(world):
    community = world.a.community.pk
    write_entries(2, community_id=community, action="resident.update")
    write_entries(2, community_id=community, action="zone.create")
    client = world.client_for("auditor")
    html = client.get("/audit/", {"action": "resident."}).content.decode()
    assert html.count("<code>resident.update</code>") == 2
    assert "<code>zone.create</code>" not in html
    assert 'value="resident."' in html


def test_backwards_date_range_is_reported(world):
    write_entries(1, community_id=world.a.community.pk)
    client = world.client_for("auditor")
    response = client.get("/audit/", {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2026-03-10"' in html
    assert "errorlist" in html


def test_list_is_paginated(world):
    write_entries(60, community_id=world.a.community.pk)
    client = world.client_for("auditor")
    first = client.get("/audit/").content.decode()
    assert len(re.findall(r'href="/audit/\d+/"', first)) == 50
    assert "?page=2" in first
    second = client.get("/audit/", {"page": 2}).content.decode()
    assert ">#10<" in second
    assert ">#60<" not in second


def test_list_query_count_does_not_grow_with_entries(world, django_assert_max_num_queries):
    write_entries(50, community_id=world.a.community.pk)
    client = world.client_for("auditor")
    client.get("/audit/")  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get("/audit/")
    assert response.status_code == 200


def test_detail_shows_changes_before_and_after(world):
    event = audit_record(
        actor=world.user("community_admin"),
        action="resident.update",
        obj=world.a.resident,
        changes={"name": ["张三", "张叁"], "phone": ["(encrypted)", "(encrypted)"]},
    )
    response = world.client_for("auditor").get(f"/audit/{event.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "张三" in html
    assert "张叁" in html
    assert event.hash in html
    assert "(encrypted)" not in html  # shown as a badge, not as a fake value


def test_detail_of_another_community_is_not_found(world):
    event = write_entries(1, community_id=world.b.community.pk)[0]
    assert world.client_for("auditor").get(f"/audit/{event.pk}/").status_code == 404
    assert world.client_for("auditor", "b").get(f"/audit/{event.pk}/").status_code == 200
    assert world.client_for("community_admin", "b").get(f"/audit/{event.pk}/").status_code == 404


def test_verify_button_reports_intact_chain(world):
    write_entries(3, community_id=world.a.community.pk)
    client = world.client_for("auditor")
    response = client.post("/audit/verify/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-ok="true"' in html
    assert "<html" not in html  # a fragment for htmx


def test_verify_reports_the_broken_entry(world):
    write_entries(4, community_id=world.a.community.pk)
    raw("UPDATE audit_auditevent SET action = 'x' WHERE seq = 2")
    response = world.client_for("auditor").post("/audit/verify/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-ok="false"' in html
    assert "#2" in html
    assert "<html" in html  # without htmx, a whole page


def test_verify_needs_the_permission_and_a_post(world):
    assert world.client_for("guard").post("/audit/verify/").status_code == 403
    assert world.client_for("auditor").get("/audit/verify/").status_code == 405


def test_admin_is_read_only(world):
    event = write_entries(1, community_id=world.a.community.pk)[0]
    client = world.client_for("auditor")
    client.force_login(world.platform_admin)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    change = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()

"""Audit API: scoped, filtered, paginated reads and chain verification."""

from __future__ import annotations

import pytest

from anwang.accounts.services import api_token_create
from anwang.audit.tests.helpers import raw, write_entries

pytestmark = pytest.mark.django_db


def test_list_is_scoped_and_paginated(world):
    write_entries(55, community_id=world.a.community.pk)
    write_entries(3, community_id=world.b.community.pk, action="secret.b")
    response = world.client_for("auditor").get("/api/v1/audit/events")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 55
    assert len(body["items"]) == 50
    assert {item["community_id"] for item in body["items"]} == {world.a.community.pk}
    assert body["items"][0]["seq"] > body["items"][-1]["seq"]
    assert set(body["items"][0]) >= {"seq", "at", "action", "changes", "hash", "prev_hash"}


def test_list_filters(world):
    community = world.a.community.pk
    write_entries(2, community_id=community, action="resident.update")
    write_entries(3, community_id=community, action="zone.create", object_type="places.zone")
    client = world.client_for("auditor")
    assert client.get("/api/v1/audit/events?action=resident.").json()["count"] == 2
    assert client.get("/api/v1/audit/events?object_type=places.zone").json()["count"] == 3
    other = client.get(f"/api/v1/audit/events?community_id={world.b.community.pk}").json()
    assert other["count"] == 0


def test_list_refuses_staff_without_the_permission(world):
    response = world.client_for("operator").get("/api/v1/audit/events")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_list_query_count(world, django_assert_max_num_queries):
    write_entries(50, community_id=world.a.community.pk)
    client = world.client_for("auditor")
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/audit/events").status_code == 200


def test_detail_of_another_community_is_404(world):
    event = write_entries(1, community_id=world.b.community.pk)[0]
    response = world.client_for("auditor").get(f"/api/v1/audit/events/{event.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    own = world.client_for("auditor", "b").get(f"/api/v1/audit/events/{event.pk}")
    assert own.status_code == 200
    assert own.json()["hash"] == event.hash


def test_token_limited_to_a_community_sees_only_it(world):
    from anwang.accounts.choices import Role
    from anwang.accounts.models import Membership

    auditor = world.user("auditor")
    Membership.objects.create(user=auditor, role=Role.AUDITOR, community=world.b.community)
    write_entries(2, community_id=world.a.community.pk)
    write_entries(1, community_id=world.b.community.pk)
    _token, raw_token = api_token_create(
        actor=None, user=auditor, community_id=world.b.community.pk
    )
    from django.test import Client

    response = Client().get(
        "/api/v1/audit/events", headers={"Authorization": f"Bearer {raw_token}"}
    )
    assert response.status_code == 200
    assert {i["community_id"] for i in response.json()["items"]} == {world.b.community.pk}


def test_verify_reports_ok_then_the_first_broken_entry(world):
    write_entries(5, community_id=world.a.community.pk)
    client = world.client_for("auditor")
    body = client.post("/api/v1/audit/verify").json()
    assert body["ok"] is True
    assert body["checked"] >= 5
    raw("DELETE FROM audit_auditevent WHERE seq = 4")
    body = client.post("/api/v1/audit/verify").json()
    assert body["ok"] is False
    assert body["first_broken_seq"] == 4
    assert body["problem"] == "missing"


def test_verify_needs_the_permission(world):
    assert world.client_for("guard").post("/api/v1/audit/verify").status_code == 403

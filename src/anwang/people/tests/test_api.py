"""The people API: masked responses, scoping (404 across communities), audited reveals,
import/export, household members and bindings, query-count guards."""

import json
from typing import Any

import pytest
from conftest import make_user
from django.test import Client

from anwang.audit.models import AuditEvent
from anwang.people import services
from anwang.people.choices import ResidentTag
from anwang.people.models import EmergencyContact, HouseholdBinding, Resident
from anwang.people.tests.conftest import make_id
from anwang.people.tests.test_importing import CHINESE, GOOD_ROWS, csv_bytes
from anwang.places.models import Household

pytestmark = pytest.mark.django_db
API = "/api/v1"


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def patch(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def test_list_is_masked_and_scoped(world):
    response = world.client_for("community_admin").get(f"{API}/residents")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == world.a.resident.pk
    assert item["phone"] == "138****5678"
    assert item["id_number"] == "110101********1234"
    assert item["tags"] == ["living_alone"]
    assert item["households"][0]["address"] == "1-1-301"
    assert "13812345678" not in response.content.decode()


def test_list_search_by_exact_phone_and_address(world):
    client = world.client_for("grid_worker")
    assert client.get(f"{API}/residents?q=138 1234 5678").json()["count"] == 1
    assert client.get(f"{API}/residents?q=5678").json()["count"] == 0
    assert client.get(f"{API}/residents?q=1-1-301").json()["count"] == 1
    assert client.get(f"{API}/residents?q=110101199001011234").json()["count"] == 1
    assert client.get(f"{API}/residents?tag=disabled").json()["count"] == 0


def test_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    for number in range(40):
        household = Household.objects.create(
            community=world.a.community, unit=world.a.unit, floor=1, number=f"1{number:02}"
        )
        services.resident_create(
            actor=None,
            community=world.a.community,
            name=f"居民{number}",
            phone="13800000000",
            tags=[ResidentTag.CHILD],
            household=household,
        )
    client = world.client_for("community_admin")
    with django_assert_max_num_queries(12):
        response = client.get(f"{API}/residents")
    assert response.json()["count"] == 41
    assert len(response.json()["items"]) == 41


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/residents/{resident_id}"),
        ("patch", "/residents/{resident_id}"),
        ("delete", "/residents/{resident_id}"),
        ("post", "/residents/{resident_id}/reveal"),
        ("post", "/residents/{resident_id}/move-out"),
        ("get", "/residents/{resident_id}/emergency-contacts"),
        ("post", "/residents/{resident_id}/emergency-contacts"),
        ("patch", "/emergency-contacts/{contact_id}"),
        ("delete", "/emergency-contacts/{contact_id}"),
        ("post", "/emergency-contacts/{contact_id}/reveal"),
        ("get", "/households/{household_id}/members"),
        ("post", "/bindings/{binding_id}/approve"),
        ("post", "/bindings/{binding_id}/refuse"),
        ("post", "/bindings/{binding_id}/end"),
    ],
)
def test_objects_of_another_community_are_404(world, method, path):
    binding = HouseholdBinding.objects.get(household=world.b.household)
    url = API + path.format(
        resident_id=world.b.resident.pk,
        contact_id=world.b.contact.pk,
        household_id=world.b.household.pk,
        binding_id=binding.pk,
    )
    client = world.client_for("community_admin")
    body = {"field": "phone", "name": "x", "phone": "13800000000", "note": "no"}
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(
            url, data=json.dumps(body), content_type="application/json"
        )
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert Resident.objects.filter(pk=world.b.resident.pk).exists()
    assert EmergencyContact.objects.filter(pk=world.b.contact.pk).exists()


def test_create_with_household_returns_masked_and_validation_errors_have_the_shape(world):
    client = world.client_for("community_admin")
    number = make_id("19881111", "051")
    response = post(
        client,
        f"{API}/residents",
        {
            "community_id": world.a.community.pk,
            "name": "冯九",
            "id_number": number,
            "phone": "13755556666",
            "tags": ["tenant"],
            "household_id": world.a.household.pk,
            "relation": "tenant",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id_number"] == number[:6] + "********" + number[-4:]
    assert body["birth_date"] == "1988-11-11"
    assert body["households"][0]["household_id"] == world.a.household.pk
    duplicate = post(
        client,
        f"{API}/residents",
        {"community_id": world.a.community.pk, "name": "冯九", "id_number": number},
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["loc"] == ["id_number"]
    bad = post(
        client,
        f"{API}/residents",
        {"community_id": world.a.community.pk, "name": "x", "phone": "1"},
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"detail", "code", "errors"}


def test_create_in_another_community_or_without_permission_is_404(world):
    body = {"community_id": world.b.community.pk, "name": "x"}
    assert post(world.client_for("community_admin"), f"{API}/residents", body).status_code == 404
    body = {"community_id": world.a.community.pk, "name": "x"}
    assert post(world.client_for("operator"), f"{API}/residents", body).status_code == 404


def test_patch_keeps_omitted_numbers_and_clears_with_empty_string(world):
    client = world.client_for("community_admin")
    url = f"{API}/residents/{world.a.resident.pk}"
    response = patch(client, url, {"note": "腿脚不便", "tags": ["living_alone", "disabled"]})
    assert response.status_code == 200, response.content
    resident = Resident.objects.get(pk=world.a.resident.pk)
    assert resident.phone == "13812345678"
    assert resident.note == "腿脚不便"
    assert sorted(response.json()["tags"]) == ["disabled", "living_alone"]
    patch(client, url, {"phone": ""})
    assert Resident.objects.get(pk=world.a.resident.pk).phone == ""


def test_operator_can_read_but_not_write(world):
    client = world.client_for("operator")
    url = f"{API}/residents/{world.a.resident.pk}"
    assert client.get(url).status_code == 200
    assert patch(client, url, {"note": "x"}).status_code == 404
    assert client.delete(url).status_code == 404


def test_reveal_for_permitted_roles_only_and_audited(world):
    url = f"{API}/residents/{world.a.resident.pk}/reveal"
    response = post(world.client_for("grid_worker"), url, {"field": "id_number"})
    assert response.status_code == 200
    assert response.json() == {"value": "110101199001011234"}
    event = AuditEvent.objects.get(action="resident.reveal")
    assert event.changes == {"field": "id_number"}
    assert event.channel  # who and from where are recorded by the audit service
    for role in ("operator", "supervisor", "resident", "guard"):
        assert post(world.client_for(role), url, {"field": "phone"}).status_code == 404
    assert AuditEvent.objects.filter(action="resident.reveal").count() == 1
    bad = post(world.client_for("grid_worker"), url, {"field": "name"})
    assert bad.status_code == 422


def test_contact_endpoints(world):
    client = world.client_for("community_admin")
    base = f"{API}/residents/{world.a.resident.pk}/emergency-contacts"
    listed = client.get(base).json()
    assert listed["items"][0]["phone"] == "139****1111"
    created = post(client, base, {"name": "陈十", "phone": "13600001111", "relation": "女儿"})
    assert created.status_code == 201
    contact_id = created.json()["id"]
    changed = patch(client, f"{API}/emergency-contacts/{contact_id}", {"relation": "女儿（外地）"})
    assert changed.json()["relation"] == "女儿（外地）"
    assert EmergencyContact.objects.get(pk=contact_id).phone == "13600001111"
    revealed = post(client, f"{API}/emergency-contacts/{contact_id}/reveal")
    assert revealed.json() == {"value": "13600001111"}
    assert client.delete(f"{API}/emergency-contacts/{contact_id}").status_code == 204
    assert not EmergencyContact.objects.filter(pk=contact_id).exists()


def test_move_out_and_erase(world):
    client = world.client_for("community_admin")
    url = f"{API}/residents/{world.a.resident.pk}"
    moved = post(client, f"{url}/move-out", {"date": "2026-02-01"})
    assert moved.json()["moved_out_at"] == "2026-02-01"
    assert moved.json()["households"] == []
    assert post(client, f"{url}/move-out").status_code == 409
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert AuditEvent.objects.filter(action="resident.erase").exists()


def test_import_reports_rows_with_400_and_imports_nothing(world):
    client = world.client_for("community_admin")
    bad_rows = [*GOOD_ROWS, ["99", "1", "", "101", "错楼", "", "", "", "", "", "", "", ""]]
    upload = {"file": _upload(csv_bytes(CHINESE, bad_rows)), "community_id": world.a.community.pk}
    response = client.post(f"{API}/residents/import", upload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "import_rejected"
    assert body["errors"][0]["row"] == 4
    assert body["errors"][0]["column"] == "building"
    assert not Resident.objects.filter(name="钱一").exists()
    good = {"file": _upload(csv_bytes(CHINESE, GOOD_ROWS))}
    response = client.post(f"{API}/residents/import", good)  # the only community is assumed
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2


def test_import_needs_manage_permission(world):
    upload = {"file": _upload(csv_bytes(CHINESE, GOOD_ROWS)), "community_id": world.a.community.pk}
    assert world.client_for("operator").post(f"{API}/residents/import", upload).status_code == 404


def _upload(content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("residents.csv", content, content_type="text/csv")


def test_export_downloads_and_audits(world):
    response = world.client_for("operator").get(f"{API}/residents/export?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert "138****5678" in response.content.decode("utf-8-sig")
    assert AuditEvent.objects.get(action="resident.export").changes["masked"] is True
    other = world.client_for("community_admin").get(
        f"{API}/residents/export?community_id={world.b.community.pk}"
    )
    assert other.status_code == 404


def test_household_members_for_staff_and_bound_residents(world):
    url = f"{API}/households/{world.a.household.pk}/members"
    staff = world.client_for("grid_worker").get(url)
    assert staff.status_code == 200
    assert staff.json()["items"][0]["phone"] == "138****5678"
    assert world.client_for("resident").get(url).status_code == 200
    other = Household.objects.create(
        community=world.a.community, unit=world.a.unit, floor=6, number="601"
    )
    assert (
        world.client_for("resident").get(f"{API}/households/{other.pk}/members").status_code == 404
    )
    assert world.client_for("guard").get(url).status_code == 404


def test_bindings_flow_through_the_api(world):
    newcomer = make_user("newcomer")
    client = Client()
    client.force_login(newcomer)
    flat = Household.objects.create(
        community=world.a.community, unit=world.a.unit, floor=5, number="501"
    )
    created = post(client, f"{API}/bindings", {"household_id": flat.pk, "relation": "head"})
    assert created.status_code == 201, created.content
    binding_id = created.json()["id"]
    assert client.get(f"{API}/bindings").json()["count"] == 1
    admin = world.client_for("community_admin")
    work = admin.get(f"{API}/my-work").json()
    assert any(item["source"] == "bindings" for item in work)
    pending = admin.get(f"{API}/bindings?status=pending").json()
    assert [item["id"] for item in pending["items"]] == [binding_id]
    assert post(client, f"{API}/bindings/{binding_id}/approve").status_code == 404
    approved = post(admin, f"{API}/bindings/{binding_id}/approve")
    assert approved.json()["status"] == "approved"
    assert client.get(f"{API}/households/{flat.pk}/members").status_code == 200
    ended = post(client, f"{API}/bindings/{binding_id}/end")
    assert ended.json()["status"] == "ended"
    again = post(client, f"{API}/bindings", {"household_id": flat.pk})
    refused = post(admin, f"{API}/bindings/{again.json()['id']}/refuse", {"note": "请带证件"})
    assert refused.json()["decision_note"] == "请带证件"


def test_bindings_list_query_count(world, django_assert_max_num_queries):
    for number in range(20):
        user = make_user(f"asker{number}")
        flat = Household.objects.create(
            community=world.a.community, unit=world.a.unit, floor=2, number=f"2{number:02}"
        )
        services.binding_request(actor=user, household=flat)
    client = world.client_for("community_admin")
    with django_assert_max_num_queries(10):
        response = client.get(f"{API}/bindings")
    assert response.json()["count"] == 21

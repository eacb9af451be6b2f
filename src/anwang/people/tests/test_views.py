"""People pages: masked values and audited 'Show', scoping, forms that keep what was typed,
import with its error table, export, bindings pages and the resident's own household."""

import re
from typing import Any

import pytest
from conftest import make_user
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.accounts.selectors import scope_for
from anwang.audit.models import AuditEvent
from anwang.people import selectors, services
from anwang.people.choices import BindingStatus, ResidentTag
from anwang.people.models import EmergencyContact, HouseholdBinding, Resident
from anwang.people.tests.conftest import make_id
from anwang.people.tests.test_importing import CHINESE, GOOD_ROWS, csv_bytes
from anwang.places.models import Household

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_list_shows_masked_phone_and_only_own_community(world):
    html = page(world.client_for("community_admin"), "/people/residents/")
    assert world.a.resident.name in html
    assert world.b.resident.name not in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert 'class="masked"' in html


def test_list_filters_by_tag_and_search(world):
    client = world.client_for("grid_worker")
    assert world.a.resident.name in page(client, "/people/residents/?tag=living_alone")
    assert world.a.resident.name not in page(client, "/people/residents/?tag=disabled")
    assert world.a.resident.name in page(client, "/people/residents/?q=13812345678")
    assert world.a.resident.name in page(
        client, f"/people/residents/?building={world.a.building.pk}"
    )


def test_list_is_forbidden_without_the_permission(world):
    assert world.client_for("resident").get("/people/residents/").status_code == 403
    assert world.client_for("guard").get("/people/residents/").status_code == 403


def test_list_page_query_count_is_constant(world, django_assert_max_num_queries):
    for number in range(60):
        household = Household.objects.create(
            community=world.a.community, unit=world.a.unit, floor=2, number=f"2{number:02}"
        )
        services.resident_create(
            actor=None,
            community=world.a.community,
            name=f"居民{number:02}",
            phone="13800000000",
            tags=[ResidentTag.DISABLED],
            household=household,
        )
    client = world.client_for("community_admin")
    with django_assert_max_num_queries(18):
        html = page(client, "/people/residents/")
    assert len(re.findall(r'href="/people/residents/\d+/"', html)) == 50
    assert "page=2" in html


def test_detail_has_masked_values_with_show_buttons_for_permitted_roles(world):
    url = f"/people/residents/{world.a.resident.pk}/"
    html = page(world.client_for("community_admin"), url)
    assert 'class="masked" data-testid="resident-id-number">110101********1234<' in html
    assert 'class="masked" data-testid="resident-phone">138****5678<' in html
    assert 'data-testid="reveal-phone"' in html
    assert "13812345678" not in html
    assert "110101199001011234" not in html
    operator_html = page(world.client_for("operator"), url)
    assert 'data-testid="resident-phone"' in operator_html
    assert "reveal-phone" not in operator_html


def test_detail_of_another_community_is_404(world):
    client = world.client_for("community_admin")
    for url in (
        f"/people/residents/{world.b.resident.pk}/",
        f"/people/residents/{world.b.resident.pk}/edit/",
        f"/people/contacts/{world.b.contact.pk}/edit/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/people/residents/{world.b.resident.pk}/reveal/phone/").status_code == 404
    assert client.post(f"/people/contacts/{world.b.contact.pk}/reveal/").status_code == 404
    assert client.post(f"/people/residents/{world.b.resident.pk}/move-out/").status_code == 404
    assert Resident.objects.get(pk=world.b.resident.pk).moved_out_at is None


def test_reveal_with_htmx_swaps_in_the_full_value_and_is_audited(world):
    client = world.client_for("community_admin")
    url = f"/people/residents/{world.a.resident.pk}/reveal/id_number/"
    response = client.post(url, headers=HTMX)
    html = response.content.decode()
    assert 'data-testid="resident-id-number">110101199001011234<' in html
    assert 'id="resident-id-number-field"' in html
    assert "<html" not in html
    event = AuditEvent.objects.get(action="resident.reveal")
    assert event.changes == {"field": "id_number"}
    assert event.channel == "web"
    # Without htmx the value comes on a page of its own.
    full = client.post(f"/people/residents/{world.a.resident.pk}/reveal/phone/")
    assert "13812345678" in full.content.decode()
    assert "<html" in full.content.decode()


def test_reveal_is_404_for_roles_without_the_permission_and_needs_post(world):
    url = f"/people/residents/{world.a.resident.pk}/reveal/phone/"
    assert world.client_for("operator").post(url, headers=HTMX).status_code == 404
    assert world.client_for("supervisor").post(url, headers=HTMX).status_code == 404
    assert world.client_for("community_admin").get(url).status_code == 405
    assert (
        world.client_for("community_admin")
        .post(f"/people/residents/{world.a.resident.pk}/reveal/name/")
        .status_code
        == 404
    )
    assert not AuditEvent.objects.filter(action="resident.reveal").exists()


def test_contact_reveal(world):
    client = world.client_for("grid_worker")
    response = client.post(f"/people/contacts/{world.a.contact.pk}/reveal/", headers=HTMX)
    assert "13900001111" in response.content.decode()
    assert (
        world.client_for("operator")
        .post(f"/people/contacts/{world.a.contact.pk}/reveal/", headers=HTMX)
        .status_code
        == 404
    )


def _form(**extra: Any) -> dict[str, Any]:
    data = {
        "community": "",
        "name": "褚十一",
        "gender": "unknown",
        "birth_date": "",
        "id_number": make_id("19920202", "071"),
        "phone": "13512345678",
        "address": "1-1-301",
        "relation": "child",
        "note": "",
    }
    data.update(extra)
    return data


def test_create_page_registers_in_a_household(world):
    client = world.client_for("community_admin")
    data = _form(community=world.a.community.pk, tags=["child"], consent="on")
    response = client.post("/people/residents/new/", data)
    assert response.status_code == 302
    resident = Resident.objects.get(name="褚十一")
    assert response["Location"] == f"/people/residents/{resident.pk}/"
    assert resident.memberships.get().household == world.a.household
    assert resident.data_consent_at is not None
    assert list(resident.tag_links.values_list("tag", flat=True)) == ["child"]


def test_create_page_reshows_what_was_typed_with_the_error_on_the_field(world):
    client = world.client_for("community_admin")
    data = _form(community=world.a.community.pk, phone="12345")
    response = client.post("/people/residents/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="褚十一"' in html
    assert 'data-field="phone"' in html
    assert "has-error" in html
    assert not Resident.objects.filter(name="褚十一").exists()
    unknown = client.post(
        "/people/residents/new/", _form(community=world.a.community.pk, address="9-9-999")
    )
    assert "has-error" in unknown.content.decode()
    assert not Resident.objects.filter(name="褚十一").exists()


def test_create_page_refuses_a_community_without_permission(world):
    client = world.client_for("community_admin")
    response = client.post("/people/residents/new/", _form(community=world.b.community.pk))
    assert response.status_code == 200  # not a valid choice: the form says so
    assert not Resident.objects.filter(name="褚十一").exists()
    assert world.client_for("operator").get("/people/residents/new/").status_code == 403


def test_edit_page_never_sends_full_numbers_and_empty_fields_keep_them(world):
    client = world.client_for("community_admin")
    url = f"/people/residents/{world.a.resident.pk}/edit/"
    html = page(client, url)
    assert "13812345678" not in html
    assert "110101199001011234" not in html
    assert "138****5678" in html
    response = client.post(
        url,
        {"name": "张三丰", "gender": "male", "id_number": "", "phone": "", "note": "", "tags": []},
    )
    assert response.status_code == 302
    resident = Resident.objects.get(pk=world.a.resident.pk)
    assert resident.name == "张三丰"
    assert resident.phone == "13812345678"
    assert resident.id_number == "110101199001011234"
    assert not resident.tag_links.exists()


def test_edit_page_can_remove_a_number(world):
    client = world.client_for("community_admin")
    url = f"/people/residents/{world.a.resident.pk}/edit/"
    client.post(url, {"name": "张三", "gender": "male", "clear_phone": "on"})
    assert Resident.objects.get(pk=world.a.resident.pk).phone == ""


def test_contact_pages(world):
    client = world.client_for("community_admin")
    resident = world.a.resident
    response = client.post(
        f"/people/residents/{resident.pk}/contacts/new/",
        {"name": "卫十二", "relation": "侄子", "phone": "13300001111"},
    )
    assert response.status_code == 302
    contact = EmergencyContact.objects.get(name="卫十二")
    edit = page(client, f"/people/contacts/{contact.pk}/edit/")
    assert "133****1111" in edit
    assert "13300001111" not in edit
    client.post(f"/people/contacts/{contact.pk}/edit/", {"name": "卫十二", "relation": "外甥"})
    contact.refresh_from_db()
    assert (contact.relation, contact.phone) == ("外甥", "13300001111")
    client.post(f"/people/contacts/{contact.pk}/delete/")
    assert not EmergencyContact.objects.filter(pk=contact.pk).exists()


def test_move_out_consent_and_erase_pages(world):
    client = world.client_for("community_admin")
    pk = world.a.resident.pk
    client.post(f"/people/residents/{pk}/consent/", {"consented": "1"})
    assert Resident.objects.get(pk=pk).data_consent_at is not None
    client.post(f"/people/residents/{pk}/move-out/", {"date": "2026-03-01"})
    assert str(Resident.objects.get(pk=pk).moved_out_at) == "2026-03-01"
    assert "2026-03-01" in page(client, f"/people/residents/{pk}/")
    client.post(f"/people/residents/{pk}/erase/")
    assert not Resident.objects.filter(pk=pk).exists()


def test_import_page_shows_the_error_table_and_imports_nothing(world):
    client = world.client_for("community_admin")
    rows = [*GOOD_ROWS, ["1", "1", "", "302", "", "", "", "", "", "", "", "", ""]]
    upload = SimpleUploadedFile("r.csv", csv_bytes(CHINESE, rows), content_type="text/csv")
    response = client.post(
        "/people/residents/import/", {"community": world.a.community.pk, "file": upload}
    )
    html = response.content.decode()
    assert 'data-testid="import-errors"' in html
    assert "<td data-label=" in html
    assert not Resident.objects.filter(name="钱一").exists()
    good = SimpleUploadedFile("r.csv", csv_bytes(CHINESE, GOOD_ROWS), content_type="text/csv")
    response = client.post(
        "/people/residents/import/", {"community": world.a.community.pk, "file": good}
    )
    assert response.status_code == 302
    assert Resident.objects.filter(name="钱一").exists()


def test_export_and_template_downloads(world):
    client = world.client_for("operator")
    response = client.get("/people/residents/export/?format=csv")
    assert response.status_code == 200
    assert "138****5678" in response.content.decode("utf-8-sig")
    assert client.get("/people/residents/export/?format=pdf").status_code == 404
    narrowed = client.get("/people/residents/export/?format=csv&q=nobody")
    assert "138****5678" not in narrowed.content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(action="resident.export").latest("seq").changes["rows"] == 0
    admin = world.client_for("community_admin")
    xlsx = admin.get("/people/residents/export/?format=xlsx")
    assert xlsx.content.startswith(b"PK")
    template = admin.get("/people/residents/import-template.xlsx")
    assert template.status_code == 200
    assert template.content.startswith(b"PK")
    assert client.get("/people/residents/import-template.xlsx").status_code == 403


def test_navigation_entries_follow_roles(world):
    admin_html = page(world.client_for("community_admin"), "/people/residents/")
    assert 'href="/people/residents/"' in admin_html
    assert 'href="/people/bindings/"' in admin_html
    assert 'href="/people/my-household/"' not in admin_html
    resident_html = page(world.client_for("resident"), "/people/my-household/")
    assert 'href="/people/my-household/"' in resident_html
    assert 'href="/people/residents/"' not in resident_html
    newcomer = Client()
    newcomer.force_login(make_user("newcomer"))
    assert 'href="/people/my-household/"' in page(newcomer, "/people/my-household/")


def test_binding_request_page_chooses_level_by_level_and_sends(world):
    client = Client()
    user = make_user("newcomer")
    client.force_login(user)
    html = page(client, "/people/bindings/request/")
    assert world.a.community.name in html
    step = client.get(f"/people/bindings/request/?community={world.a.community.pk}", headers=HTMX)
    assert world.a.building.name in step.content.decode()
    assert "<html" not in step.content.decode()
    query = (
        f"community={world.a.community.pk}&building={world.a.building.pk}&unit={world.a.unit.pk}"
    )
    ready = page(client, f"/people/bindings/request/?{query}")
    assert 'data-testid="binding-submit"' in ready
    assert ">301<" in ready
    # A building of another community does not lead to its entrances.
    mixed = page(
        client,
        f"/people/bindings/request/?community={world.a.community.pk}&building={world.b.building.pk}",
    )
    assert 'name="unit"' not in mixed
    response = client.post(
        "/people/bindings/request/",
        {
            "community": world.a.community.pk,
            "building": world.a.building.pk,
            "unit": world.a.unit.pk,
            "household": world.a.household.pk,
            "relation": "child",
            "message": "我是张三的儿子",
        },
    )
    assert response.status_code == 302
    binding = HouseholdBinding.objects.get(user=user)
    assert binding.status == BindingStatus.PENDING
    assert 'data-testid="binding-status"' in page(client, "/people/my-household/")


def test_binding_pages_for_approvers(world):
    newcomer = make_user("newcomer")
    binding = services.binding_request(actor=newcomer, household=world.a.household)
    admin = world.client_for("community_admin")
    html = page(admin, "/people/bindings/")
    assert f'id="binding-{binding.pk}"' in html
    assert (
        world.client_for("community_admin", "b")
        .post(f"/people/bindings/{binding.pk}/approve/")
        .status_code
        == 404
    )
    assert world.client_for("operator").get("/people/bindings/").status_code == 403
    admin.post(f"/people/bindings/{binding.pk}/approve/")
    binding.refresh_from_db()
    assert binding.status == BindingStatus.APPROVED
    assert Membership.objects.filter(user=newcomer, role=Role.RESIDENT).exists()
    assert "newcomer" in page(admin, "/people/bindings/")


def test_refuse_page_action_needs_a_reason(world):
    binding = services.binding_request(actor=make_user("newcomer"), household=world.a.household)
    admin = world.client_for("community_admin")
    admin.post(f"/people/bindings/{binding.pk}/refuse/", {"note": ""})
    binding.refresh_from_db()
    assert binding.status == BindingStatus.PENDING
    admin.post(f"/people/bindings/{binding.pk}/refuse/", {"note": "信息不符"})
    binding.refresh_from_db()
    assert binding.status == BindingStatus.REFUSED


def test_my_household_shows_own_household_masked_and_moved_out_ends_binding(world):
    client = world.client_for("resident")
    html = page(client, "/people/my-household/")
    assert 'data-testid="my-household"' in html
    assert world.a.resident.name in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert world.b.resident.name not in html
    assert "/people/residents/" not in html.split('data-testid="my-household"')[1]
    binding = HouseholdBinding.objects.get(user=world.user("resident"))
    response = client.post(f"/people/bindings/{binding.pk}/end/")
    assert response["Location"] == "/people/my-household/"
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ENDED
    assert 'data-testid="my-household"' not in page(client, "/people/my-household/")
    # Someone else's binding cannot be ended.
    other = HouseholdBinding.objects.get(user=world.user("resident", "b"))
    assert client.post(f"/people/bindings/{other.pk}/end/").status_code == 404


def test_household_members_template_for_the_places_page(world):
    scope = scope_for(world.user("community_admin"))
    members = selectors.household_members(scope=scope, household=world.a.household)
    html = render_to_string("people/_household_members.html", {"members": members})
    assert world.a.resident.name in html
    assert f"/people/residents/{world.a.resident.pk}/" in html
    assert "138****5678" in html
    guard = scope_for(world.user("guard"))
    assert selectors.household_members(scope=guard, household=world.a.household) == []
    empty = render_to_string("people/_household_members.html", {"members": []})
    assert 'class="empty"' in empty

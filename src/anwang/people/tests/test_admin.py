"""The admin: masked lists, no decrypted numbers in forms, audited writes."""

from typing import Any

import pytest
from conftest import World, make_user
from django.contrib.auth.models import Permission as ModelPermission
from django.test import Client
from django.utils import translation

from anwang.audit.models import AuditEvent
from anwang.people import services
from anwang.people.choices import BindingStatus
from anwang.people.models import EmergencyContact, HouseholdBinding, Resident
from anwang.people.tests.conftest import make_id
from anwang.places.models import Household

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(world):
    client = Client()
    client.force_login(world.platform_admin)
    return client


def test_lists_and_forms_show_only_masked_numbers(world, admin_client):
    listing = admin_client.get("/admin/people/resident/").content.decode()
    assert "138****5678" in listing
    assert "13812345678" not in listing
    form = admin_client.get(f"/admin/people/resident/{world.a.resident.pk}/change/")
    html = form.content.decode()
    assert form.status_code == 200
    assert "13812345678" not in html
    assert "110101199001011234" not in html
    contacts = admin_client.get(f"/admin/people/emergencycontact/{world.a.contact.pk}/change/")
    assert "13900001111" not in contacts.content.decode()


def test_admin_change_goes_through_the_service_and_is_audited(world, admin_client):
    url = f"/admin/people/resident/{world.a.resident.pk}/change/"
    data = {
        "name": "张三（改）",
        "gender": "male",
        "birth_date": "",
        "note": "",
        "new_id_number": "",
        "new_phone": "13711112222",
        "tag_links-TOTAL_FORMS": "1",
        "tag_links-INITIAL_FORMS": "1",
        "tag_links-MIN_NUM_FORMS": "0",
        "tag_links-MAX_NUM_FORMS": "1000",
        "tag_links-0-id": str(world.a.resident.tag_links.get().pk),
        "tag_links-0-resident": str(world.a.resident.pk),
        "tag_links-0-tag": "living_alone",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    resident = Resident.objects.get(pk=world.a.resident.pk)
    assert resident.name == "张三（改）"
    assert resident.phone == "13711112222"
    assert resident.id_number == "110101199001011234"
    event = AuditEvent.objects.filter(action="resident.update").latest("seq")
    assert event.changes["phone"] == ["(encrypted)", "(encrypted)"]


def test_admin_refuses_a_duplicate_id_number_on_the_form(world, admin_client):
    number = make_id("19660606", "081")
    Resident.objects.filter(pk=world.a.resident.pk).update(id_number_index="")
    from anwang.people import services

    services.resident_create(actor=None, community=world.a.community, name="甲", id_number=number)
    response = admin_client.post(
        "/admin/people/resident/add/",
        {
            "community": world.a.community.pk,
            "name": "乙",
            "gender": "unknown",
            "new_id_number": number,
            "tag_links-TOTAL_FORMS": "0",
            "tag_links-INITIAL_FORMS": "0",
            "tag_links-MIN_NUM_FORMS": "0",
            "tag_links-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Resident.objects.filter(name="乙").exists()


def test_admin_delete_erases_through_the_service(world, admin_client):
    pk = world.a.resident.pk
    response = admin_client.post(f"/admin/people/resident/{pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Resident.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(action="resident.erase", object_id=str(pk)).exists()


def test_admin_contact_delete_is_audited(world, admin_client):
    pk = world.a.contact.pk
    admin_client.post(f"/admin/people/emergencycontact/{pk}/delete/", {"post": "yes"})
    assert not EmergencyContact.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(action="emergency_contact.delete").exists()


def _pending_binding(world: World) -> HouseholdBinding:
    flat = Household.objects.create(
        community=world.a.community, unit=world.a.unit, floor=5, number="502"
    )
    return services.binding_request(actor=make_user("newcomer"), household=flat)


def _approve_selected(client: Client, binding: HouseholdBinding) -> Any:
    return client.post(
        "/admin/people/householdbinding/",
        {"action": "approve_selected", "_selected_action": [str(binding.pk)]},
        follow=True,
    )


def test_admin_approve_action_runs_as_the_platform_admin(world, admin_client):
    binding = _pending_binding(world)
    response = _approve_selected(admin_client, binding)
    assert response.status_code == 200
    binding.refresh_from_db()
    assert binding.status == BindingStatus.APPROVED
    assert binding.decided_by == world.platform_admin


def test_admin_approve_action_is_checked_by_the_service_for_other_staff(world):
    binding = _pending_binding(world)
    # Staff of community B allowed into the admin for bindings, but not an approver in A.
    staff = world.user("community_admin", "b")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(
        *ModelPermission.objects.filter(
            content_type__app_label="people", codename__endswith="householdbinding"
        )
    )
    client = Client()
    client.force_login(staff)
    response = _approve_selected(client, binding)
    assert response.status_code == 200
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        refusal = translation.gettext("You may not do this.")
    assert refusal in response.content.decode()
    binding.refresh_from_db()
    assert binding.status == BindingStatus.PENDING

"""Writes of the people domain: validation, blind indexes, audit, consent, move-out, erase,
reveal and encryption at rest."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.audit.models import AuditEvent
from anwang.audit.services import REDACTED
from anwang.core.crypto import blind_index
from anwang.core.errors import ConflictError, ServiceError
from anwang.people import services
from anwang.people.choices import BindingStatus, Gender, PersonalField, Relation, ResidentTag
from anwang.people.models import EmergencyContact, HouseholdBinding, HouseholdMember, Resident
from anwang.people.tests.conftest import make_id

pytestmark = pytest.mark.django_db


def _create(world: Any, **extra: Any) -> Resident:
    values = {
        "actor": world.user("community_admin"),
        "community": world.a.community,
        "name": "王五",
        "id_number": make_id("19800315", "215"),
        "phone": "139 0000 2222",
    }
    values.update(extra)
    return services.resident_create(**values)


def test_create_derives_birth_date_and_gender_and_keeps_blind_indexes(world):
    resident = _create(world)
    resident.refresh_from_db()
    assert resident.birth_date == dt.date(1980, 3, 15)
    assert resident.gender == Gender.MALE
    assert resident.phone == "13900002222"
    assert resident.id_number_index == blind_index(resident.id_number)
    assert resident.phone_index == blind_index("13900002222")


def test_create_is_audited_with_numbers_redacted(world):
    resident = _create(world, tags=[ResidentTag.DISABLED])
    event = AuditEvent.objects.get(action="resident.create", object_id=str(resident.pk))
    assert event.community_id == world.a.community.pk
    assert event.changes["id_number"] == [REDACTED, REDACTED]
    assert event.changes["phone"] == [REDACTED, REDACTED]
    assert "13900002222" not in str(event.changes)
    assert event.changes["tags"] == [[], ["disabled"]]


def test_numbers_are_encrypted_at_rest(world):
    resident = _create(world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM people_resident WHERE id = %s", [resident.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert raw_id
    assert raw_id != resident.id_number
    assert resident.id_number[-6:] not in raw_id
    assert raw_phone
    assert "13900002222" not in raw_phone
    assert Resident.objects.get(pk=resident.pk).phone == "13900002222"


def test_contact_phone_is_encrypted_at_rest(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone FROM people_emergencycontact WHERE id = %s", [world.a.contact.pk]
        )
        (raw,) = cursor.fetchone()
    assert "13900001111" not in raw


def test_birth_date_contradicting_id_number_is_refused(world):
    with pytest.raises(ServiceError) as raised:
        _create(world, birth_date=dt.date(1981, 1, 1))
    assert raised.value.field == "birth_date"
    assert not Resident.objects.filter(name="王五").exists()


def test_gender_contradicting_id_number_is_refused(world):
    with pytest.raises(ServiceError) as raised:
        _create(world, gender=Gender.FEMALE)
    assert raised.value.field == "gender"


def test_bad_id_number_and_phone_are_refused_on_their_fields(world):
    with pytest.raises(ServiceError) as raised:
        _create(world, id_number="110101199001011234")
    assert raised.value.field == "id_number"
    with pytest.raises(ServiceError) as raised:
        _create(world, phone="12345")
    assert raised.value.field == "phone"


def test_duplicate_id_number_in_the_same_community_is_refused(world):
    first = _create(world)
    with pytest.raises(ConflictError) as raised:
        _create(world, name="冒名")
    assert raised.value.field == "id_number"
    assert first.name in str(raised.value.message)
    # Another community may register the same person.
    other = _create(world, community=world.b.community, actor=world.user("community_admin", "b"))
    assert other.pk != first.pk


def test_update_with_none_keeps_numbers_and_bad_input_keeps_saved_data(world):
    resident = _create(world)
    services.resident_update(
        actor=world.user("community_admin"), resident=resident, name="王五五", note="三楼"
    )
    resident.refresh_from_db()
    assert resident.name == "王五五"
    assert resident.phone == "13900002222"
    assert resident.id_number == make_id("19800315", "215")
    with pytest.raises(ServiceError):
        services.resident_update(
            actor=world.user("community_admin"), resident=resident, name="改名", phone="999"
        )
    stored = Resident.objects.get(pk=resident.pk)
    assert stored.name == "王五五"
    assert stored.phone == "13900002222"


def test_update_clears_a_number_with_an_empty_string(world):
    resident = _create(world)
    services.resident_update(actor=world.user("community_admin"), resident=resident, phone="")
    resident.refresh_from_db()
    assert resident.phone == ""
    assert resident.phone_index == ""


def test_update_of_a_legacy_record_does_not_revalidate_its_stored_number(world):
    # The shared world stores an ID number with a wrong check digit, as old registers do.
    resident = world.a.resident
    services.resident_update(actor=world.user("community_admin"), resident=resident, note="ok")
    resident.refresh_from_db()
    assert resident.note == "ok"


def test_update_audit_names_changed_fields_only(world):
    resident = _create(world)
    services.resident_update(
        actor=world.user("community_admin"), resident=resident, phone="13700001111"
    )
    event = AuditEvent.objects.filter(action="resident.update").latest("seq")
    assert event.changes == {"phone": [REDACTED, REDACTED]}


def test_tags_set_replaces_tags_and_rejects_unknown(world):
    resident = world.a.resident
    services.resident_tags_set(
        actor=world.user("grid_worker"),
        resident=resident,
        tags=[ResidentTag.DISABLED, ResidentTag.NEEDS_CARE],
    )
    assert sorted(resident.tag_links.values_list("tag", flat=True)) == ["disabled", "needs_care"]
    event = AuditEvent.objects.filter(action="resident.tags_set").latest("seq")
    assert event.changes["tags"] == [["living_alone"], ["disabled", "needs_care"]]
    with pytest.raises(ServiceError):
        services.resident_tags_set(actor=None, resident=resident, tags=["vip"])


def test_consent_is_recorded_and_withdrawn(world):
    resident = world.a.resident
    services.resident_consent_record(actor=None, resident=resident, consented=True)
    assert Resident.objects.get(pk=resident.pk).data_consent_at is not None
    services.resident_consent_record(actor=None, resident=resident, consented=False)
    assert Resident.objects.get(pk=resident.pk).data_consent_at is None
    assert AuditEvent.objects.filter(action="resident.consent_record").count() == 2


def test_move_out_ends_memberships_and_binding_and_revokes_role(world):
    resident = world.a.resident
    user = world.user("resident")
    services.resident_move_out(
        actor=world.user("community_admin"), resident=resident, on=dt.date(2026, 1, 1)
    )
    resident.refresh_from_db()
    assert resident.moved_out_at == dt.date(2026, 1, 1)
    assert not resident.memberships.filter(until__isnull=True).exists()
    binding = HouseholdBinding.objects.get(user=user)
    assert binding.status == BindingStatus.ENDED
    assert not user.memberships.filter(role="resident").exists()
    with pytest.raises(ConflictError):
        services.resident_move_out(actor=None, resident=resident)


def test_household_member_add_refuses_other_community_and_second_head(world):
    resident = _create(world)
    with pytest.raises(ServiceError) as raised:
        services.household_member_add(
            actor=None, household=world.b.household, resident=resident, relation=Relation.CHILD
        )
    assert raised.value.field == "household"
    with pytest.raises(ConflictError) as raised:
        services.household_member_add(
            actor=None, household=world.a.household, resident=resident, relation=Relation.HEAD
        )
    assert raised.value.field == "relation"
    member = services.household_member_add(
        actor=None, household=world.a.household, resident=resident, relation=Relation.SPOUSE
    )
    with pytest.raises(ConflictError):
        services.household_member_add(actor=None, household=world.a.household, resident=resident)
    services.household_member_end(actor=None, member=member)
    assert HouseholdMember.objects.get(pk=member.pk).until is not None


def test_emergency_contact_lifecycle_is_audited(world):
    resident = world.a.resident
    contact = services.emergency_contact_create(
        actor=None, resident=resident, name="赵六", phone="0571-87654321", relation="邻居"
    )
    services.emergency_contact_update(actor=None, contact=contact, relation="朋友")
    contact.refresh_from_db()
    assert contact.phone == "0571-87654321"
    assert contact.relation == "朋友"
    with pytest.raises(ServiceError) as raised:
        services.emergency_contact_create(actor=None, resident=resident, name="x", phone="")
    assert raised.value.field == "phone"
    services.emergency_contact_delete(actor=None, contact=contact)
    assert not EmergencyContact.objects.filter(pk=contact.pk).exists()
    actions = set(
        AuditEvent.objects.filter(object_type="people.emergencycontact").values_list(
            "action", flat=True
        )
    )
    assert actions == {
        "emergency_contact.create",
        "emergency_contact.update",
        "emergency_contact.delete",
    }


def test_reveal_returns_value_and_audits_field_not_value(world):
    admin = world.user("community_admin")
    value = services.resident_reveal(
        actor=admin, scope=scope_for(admin), resident=world.a.resident, field=PersonalField.PHONE
    )
    assert value == "13812345678"
    event = AuditEvent.objects.get(action="resident.reveal")
    assert event.changes == {"field": "phone"}
    assert event.actor_id == admin.pk
    assert "13812345678" not in str(event.changes) + event.object_repr


@pytest.mark.parametrize("role", ["operator", "supervisor", "guard", "resident", "auditor"])
def test_reveal_is_404_without_the_permission(world, role):
    user = world.user(role)
    with pytest.raises(Http404):
        services.resident_reveal(
            actor=user, scope=scope_for(user), resident=world.a.resident, field="id_number"
        )
    assert not AuditEvent.objects.filter(action="resident.reveal").exists()


def test_reveal_is_404_in_another_community(world):
    admin = world.user("community_admin")
    with pytest.raises(Http404):
        services.resident_reveal(
            actor=admin, scope=scope_for(admin), resident=world.b.resident, field="phone"
        )


def test_contact_reveal_is_audited(world):
    worker = world.user("grid_worker")
    value = services.emergency_contact_reveal(
        actor=worker, scope=scope_for(worker), contact=world.a.contact
    )
    assert value == "13900001111"
    assert AuditEvent.objects.get(action="emergency_contact.reveal").changes == {"field": "phone"}


def test_erase_removes_personal_data_and_keeps_an_audit_entry(world):
    resident = world.a.resident
    pk = resident.pk
    services.resident_erase(actor=world.user("community_admin"), resident=resident)
    assert not Resident.objects.filter(pk=pk).exists()
    assert not EmergencyContact.objects.filter(pk=world.a.contact.pk).exists()
    assert not HouseholdMember.objects.filter(resident_id=pk).exists()
    event = AuditEvent.objects.get(action="resident.erase", object_id=str(pk))
    assert event.object_repr == f"#{pk}"
    assert event.changes == {"emergency_contacts": 1, "household_memberships": 1}
    assert HouseholdBinding.objects.get(user=world.user("resident")).status == "ended"

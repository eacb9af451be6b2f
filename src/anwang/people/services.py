"""Writes of the people domain: residents, household membership, emergency contacts, consent,
reveals of personal data, erasure and household bindings.

Every function is atomic and audited. ID and phone numbers are redacted in audit diffs: the log
records *that* they changed, never their values.

Every write checks itself that the caller may make it (through
:func:`anwang.accounts.selectors.authorize`), so pages, the API, the admin and commands get the
same rules: residents, their households and emergency contacts need
:attr:`Permission.MANAGE_RESIDENTS` in the resident's community; deciding on a binding needs
:attr:`Permission.APPROVE_BINDINGS`. Someone who cannot see the community's residents gets 404,
someone who can see but not change them gets 403. Pass ``scope`` when the caller's scope is
narrower than their account's (an API token limited to one community); without ``actor`` and
``scope`` the call is the system itself (commands, demo data) and is not checked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import (
    Scope,
    acts_platform_wide,
    authorize,
    scope_reset,
    service_scope,
)
from anwang.accounts.services import membership_grant, membership_revoke
from anwang.audit.services import audit_batch, audit_record, diff, snapshot
from anwang.core.crypto import blind_index
from anwang.core.errors import ConflictError, ServiceError
from anwang.people.choices import BindingStatus, Gender, PersonalField, Relation, ResidentTag
from anwang.people.importing import (
    CONTENT_TYPES,
    ImportRejectedError,
    ImportResult,
    ParsedRow,
    RowError,
    check_file,
    export_rows,
    header_row,
    write_csv,
    write_xlsx,
)
from anwang.people.models import (
    EmergencyContact,
    HouseholdBinding,
    HouseholdMember,
    Resident,
    ResidentTagLink,
)
from anwang.people.validation import id_number_normalise, id_number_parse, phone_normalise
from anwang.places.models import Community, Household, Unit
from anwang.places.services import household_create, unit_create

REDACT: Final = ["id_number", "phone"]
RESIDENT_FIELDS: Final = [
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "note",
    "data_consent_at",
    "moved_out_at",
]
CONTACT_FIELDS: Final = ["name", "relation", "phone"]
MEMBER_FIELDS: Final = ["household", "resident", "relation", "since", "until"]
MAX_PENDING_BINDINGS = 3


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""Default of update arguments: leave the stored value as it is."""

Keep = Literal[_Keep.KEEP]


# Authorisation ---------------------------------------------------------------------------------


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    """Allow the change only for someone who manages residents in the community."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_RESIDENTS,
        community_id=community_id,
        visible_with=Permission.VIEW_RESIDENTS,
    )


def _require_reveal(actor: User | None, scope: Scope | None, community_id: int) -> None:
    """Allow a reveal only for holders of the reveal permission; 404 for everybody else, like
    any object the person may not see."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.REVEAL_PERSONAL_DATA,
        community_id=community_id,
    )


def _require_approver(actor: User | None, scope: Scope | None, binding: HouseholdBinding) -> None:
    """Allow deciding on a binding only for approvers of its household's community. Only they
    see other people's requests, so anyone else gets 404, except the requester, who sees their
    own request and gets 403."""
    try:
        authorize(
            actor=actor,
            scope=scope,
            permission=Permission.APPROVE_BINDINGS,
            community_id=binding.household.community_id,
        )
    except Http404:
        if actor is not None and actor.pk == binding.user_id:
            raise PermissionDenied from None
        raise


# Residents ------------------------------------------------------------------------------------


def _clean_name(name: str, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ServiceError(_("Enter a name."), field=field)
    if len(cleaned) > 100:
        raise ServiceError(_("A name has at most 100 characters."), field=field)
    return cleaned


def _check_gender(gender: str) -> Gender:
    if gender not in Gender.values:
        raise ServiceError(_("Choose a gender from the list."), field="gender")
    return Gender(gender)


def _apply_identity(
    resident: Resident,
    *,
    id_number: str | None,
    birth_date: dt.date | Keep | None,
    gender: str | Keep,
) -> None:
    """Set ID number, birth date and gender together, keeping them consistent.

    ``id_number`` ``None`` keeps the stored number (it is then not re-validated, so a legacy
    record with a wrong check digit can still be edited). When the number states a birth date
    or gender, an explicitly given different value is refused; a missing one is derived.
    """
    id_changed = False
    if id_number is not None:
        number = id_number_normalise(id_number)
        if number:
            id_number_parse(number)
        id_changed = number != (resident.id_number or "")
        resident.id_number = number
        resident.id_number_index = blind_index(number)
    if gender is not KEEP:
        resident.gender = _check_gender(gender)
    if birth_date is not KEEP:
        resident.birth_date = birth_date
    facts = None
    if resident.id_number and (id_changed or birth_date is not KEEP or gender is not KEEP):
        try:
            facts = id_number_parse(resident.id_number)
        except ServiceError:
            facts = None  # a legacy number left unchanged: nothing reliable to compare with
    if facts is None:
        return
    if birth_date is not KEEP and birth_date is not None and birth_date != facts.birth_date:
        raise ServiceError(
            _("The date of birth does not match the ID number (%(date)s).")
            % {"date": facts.birth_date.isoformat()},
            field="birth_date",
        )
    if resident.birth_date is None or id_changed:
        resident.birth_date = facts.birth_date
    if gender is not KEEP and gender != Gender.UNKNOWN and gender != facts.gender:
        raise ServiceError(
            _("The gender does not match the ID number (%(gender)s).")
            % {"gender": facts.gender.label},
            field="gender",
        )
    if resident.gender == Gender.UNKNOWN or id_changed:
        resident.gender = facts.gender


def _check_unique_id_number(resident: Resident) -> None:
    if not resident.id_number_index:
        return
    other = (
        Resident.objects.filter(
            community_id=resident.community_id, id_number_index=resident.id_number_index
        )
        # Excluding empty indexes lets SQLite use the partial unique index instead of
        # scanning the community; no ordering, so no join for the default ordering.
        .exclude(pk=resident.pk)
        .exclude(id_number_index="")
        .order_by()
        .only("id", "name")
        .first()
    )
    if other is not None:
        raise ConflictError(
            _("This ID number is already registered in this community, for %(name)s.")
            % {"name": other.name},
            field="id_number",
        )


def resident_validate(
    *,
    community_id: int,
    pk: int | None,
    gender: str,
    birth_date: dt.date | None,
    id_number: str | None,
) -> None:
    """Check identity fields as :func:`resident_create`/:func:`resident_update` would, without
    writing (for forms that cannot show a service error after saving, like the admin's)."""
    stored = Resident.objects.filter(pk=pk).first() if pk else None
    probe = Resident(
        pk=pk,
        community_id=community_id,
        id_number=stored.id_number if stored else "",
        gender=stored.gender if stored else Gender.UNKNOWN,
        birth_date=stored.birth_date if stored else None,
    )
    _apply_identity(probe, id_number=id_number, birth_date=birth_date, gender=gender)
    _check_unique_id_number(probe)


def resident_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    gender: str = Gender.UNKNOWN,
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
    note: str = "",
    tags: Iterable[str] = (),
    consent: bool = False,
    household: Household | None = None,
    relation: str = Relation.OTHER,
    user: User | None = None,
) -> Resident:
    """Register a resident, optionally with tags, consent and a household to live in."""
    _require_manage(actor, scope, community.pk)
    if household is not None:
        _require_manage(actor, scope, household.community_id)
    return _resident_create(
        actor=actor,
        community=community,
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
        phone=phone,
        note=note,
        tags=tags,
        consent=consent,
        household=household,
        relation=relation,
        user=user,
    )


def _resident_create(
    *,
    actor: User | None,
    community: Community,
    name: str,
    gender: str = Gender.UNKNOWN,
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
    note: str = "",
    tags: Iterable[str] = (),
    consent: bool = False,
    household: Household | None = None,
    relation: str = Relation.OTHER,
    user: User | None = None,
) -> Resident:
    """:func:`resident_create` for a caller already authorised (approving a binding)."""
    resident = Resident(community=community, name=_clean_name(name), note=note.strip())
    _apply_identity(resident, id_number=id_number, birth_date=birth_date, gender=gender)
    resident.phone = phone_normalise(phone)
    resident.phone_index = blind_index(resident.phone)
    if consent:
        resident.data_consent_at = timezone.now()
    if user is not None:
        resident.user = user
    tag_list = _clean_tags(tags)
    _check_unique_id_number(resident)
    changes = diff({}, snapshot(resident, RESIDENT_FIELDS), redact=REDACT)
    with transaction.atomic():
        resident.save()
        if tag_list:
            # A new resident has no tags yet: write them and record them with the creation.
            ResidentTagLink.objects.bulk_create(
                [ResidentTagLink(resident=resident, tag=tag) for tag in tag_list]
            )
            changes["tags"] = [[], tag_list]
        audit_record(actor=actor, action="resident.create", obj=resident, changes=changes)
        if household is not None:
            _household_member_add(
                actor=actor, household=household, resident=resident, relation=relation
            )
    return resident


def resident_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    resident: Resident,
    name: str | Keep = KEEP,
    gender: str | Keep = KEEP,
    birth_date: dt.date | Keep | None = KEEP,
    id_number: str | None = None,
    phone: str | None = None,
    note: str | Keep = KEEP,
    tags: Iterable[str] | None = None,
    consent: bool | None = None,
) -> Resident:
    """Change a resident. ``id_number``/``phone``: ``None`` keeps the stored value, ``""``
    removes it. ``tags`` (when given) replaces the tags; ``consent`` records or withdraws it."""
    _require_manage(actor, scope, resident.community_id)
    before = snapshot(resident, RESIDENT_FIELDS)
    if name is not KEEP:
        resident.name = _clean_name(name)
    if note is not KEEP:
        resident.note = note.strip()
    _apply_identity(resident, id_number=id_number, birth_date=birth_date, gender=gender)
    if phone is not None:
        resident.phone = phone_normalise(phone)
        resident.phone_index = blind_index(resident.phone)
    tag_list = _clean_tags(tags) if tags is not None else None
    _check_unique_id_number(resident)
    with transaction.atomic():
        changes = diff(before, snapshot(resident, RESIDENT_FIELDS), redact=REDACT)
        if changes:
            resident.save()
            audit_record(actor=actor, action="resident.update", obj=resident, changes=changes)
        if tag_list is not None:
            resident_tags_set(actor=actor, scope=scope, resident=resident, tags=tag_list)
        if consent is not None:
            resident_consent_record(actor=actor, scope=scope, resident=resident, consented=consent)
    return resident


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = sorted({str(tag) for tag in tags})
    unknown = [tag for tag in cleaned if tag not in ResidentTag.values]
    if unknown:
        raise ServiceError(_("Unknown tag: %(tag)s.") % {"tag": ", ".join(unknown)}, field="tags")
    return cleaned


def resident_tags_set(
    *, actor: User | None, scope: Scope | None = None, resident: Resident, tags: Iterable[str]
) -> Resident:
    """Replace a resident's tags (elderly living alone, disabled, ...)."""
    _require_manage(actor, scope, resident.community_id)
    wanted = _clean_tags(tags)
    current = sorted(resident.tag_links.values_list("tag", flat=True))
    if wanted == current:
        return resident
    with transaction.atomic():
        resident.tag_links.exclude(tag__in=wanted).delete()
        ResidentTagLink.objects.bulk_create(
            [ResidentTagLink(resident=resident, tag=tag) for tag in wanted if tag not in current]
        )
        audit_record(
            actor=actor,
            action="resident.tags_set",
            obj=resident,
            changes={"tags": [current, wanted]},
        )
    # Drop a prefetched copy so the caller sees the new tags.
    getattr(resident, "_prefetched_objects_cache", {}).pop("tag_links", None)
    return resident


def resident_consent_record(
    *, actor: User | None, scope: Scope | None = None, resident: Resident, consented: bool
) -> Resident:
    """Record (or withdraw) the resident's consent to processing of their personal data."""
    _require_manage(actor, scope, resident.community_id)
    if consented == (resident.data_consent_at is not None):
        return resident
    before = snapshot(resident, ["data_consent_at"])
    resident.data_consent_at = timezone.now() if consented else None
    with transaction.atomic():
        resident.save(update_fields=["data_consent_at", "updated_at"])
        audit_record(
            actor=actor,
            action="resident.consent_record",
            obj=resident,
            changes=diff(before, snapshot(resident, ["data_consent_at"])),
        )
    return resident


def resident_move_out(
    *,
    actor: User | None,
    scope: Scope | None = None,
    resident: Resident,
    on: dt.date | None = None,
) -> Resident:
    """Record that a resident left: every current household membership ends and any account
    binding of theirs ends with it."""
    _require_manage(actor, scope, resident.community_id)
    if resident.moved_out_at is not None:
        raise ConflictError(_("This resident has already moved out."))
    day = on or timezone.localdate()
    before = snapshot(resident, RESIDENT_FIELDS)
    with transaction.atomic():
        for member in resident.memberships.filter(until__isnull=True).select_related("household"):
            _household_member_end(actor=actor, member=member, until=day)
        for binding in resident.bindings.filter(status=BindingStatus.APPROVED):
            _binding_close(actor=actor, binding=binding, end_membership=False)
        resident.moved_out_at = day
        resident.save(update_fields=["moved_out_at", "updated_at"])
        audit_record(
            actor=actor,
            action="resident.move_out",
            obj=resident,
            changes=diff(before, snapshot(resident, RESIDENT_FIELDS), redact=REDACT),
        )
    return resident


def resident_reveal(
    *, actor: User, scope: Scope | None = None, resident: Resident, field: PersonalField | str
) -> str:
    """The full value of an encrypted field, for holders of the reveal permission; audited.

    The audit entry names the field, never the value. Without the permission in the resident's
    community this is 404, like any object the person may not see.
    """
    _require_reveal(actor, scope, resident.community_id)
    if field not in PersonalField.values:
        raise ServiceError(_("This field cannot be revealed."), field="field")
    value = str(getattr(resident, str(field)) or "")
    audit_record(actor=actor, action="resident.reveal", obj=resident, changes={"field": str(field)})
    return value


def resident_erase(*, actor: User | None, scope: Scope | None = None, resident: Resident) -> None:
    """Erase a resident's personal data on request: the record, tags, household memberships
    and emergency contacts go; account bindings end. The audit entry keeps only counts."""
    _require_manage(actor, scope, resident.community_id)
    with transaction.atomic():
        for binding in resident.bindings.filter(
            status__in=[BindingStatus.APPROVED, BindingStatus.PENDING]
        ):
            _binding_close(actor=actor, binding=binding, end_membership=False)
        audit_record(
            actor=actor,
            action="resident.erase",
            obj=resident,
            # The name is personal data too: the entry that outlives the record names only its id.
            object_repr=f"#{resident.pk}",
            changes={
                "emergency_contacts": resident.emergency_contacts.count(),
                "household_memberships": resident.memberships.count(),
            },
        )
        resident.delete()


# Household membership ---------------------------------------------------------------------------


def household_member_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    household: Household,
    resident: Resident,
    relation: str = Relation.OTHER,
    since: dt.date | None = None,
) -> HouseholdMember:
    """Record that a resident lives in a household (moving back in clears 'moved out')."""
    _require_manage(actor, scope, resident.community_id)
    _require_manage(actor, scope, household.community_id)
    return _household_member_add(
        actor=actor, household=household, resident=resident, relation=relation, since=since
    )


def _household_member_add(
    *,
    actor: User | None,
    household: Household,
    resident: Resident,
    relation: str = Relation.OTHER,
    since: dt.date | None = None,
) -> HouseholdMember:
    """:func:`household_member_add` for a caller already authorised (registering a resident,
    approving a binding)."""
    if household.community_id != resident.community_id:
        raise ServiceError(
            _("The household belongs to another community than the resident."),
            field="household",
        )
    if relation not in Relation.values:
        raise ServiceError(_("Choose a relation from the list."), field="relation")
    current = HouseholdMember.objects.filter(household=household, until__isnull=True)
    if current.filter(resident=resident).exists():
        raise ConflictError(_("This resident already lives in this household."), field="household")
    if relation == Relation.HEAD:
        head = current.filter(relation=Relation.HEAD).select_related("resident").first()
        if head is not None:
            raise ConflictError(
                _("%(name)s is already the head of this household.") % {"name": head.resident.name},
                field="relation",
            )
    with transaction.atomic():
        member = HouseholdMember.objects.create(
            household=household,
            resident=resident,
            relation=relation,
            since=since or timezone.localdate(),
        )
        audit_record(
            actor=actor,
            action="household_member.add",
            obj=member,
            community_id=household.community_id,
            changes=diff({}, snapshot(member, MEMBER_FIELDS)),
        )
        if resident.moved_out_at is not None:
            before = snapshot(resident, ["moved_out_at"])
            resident.moved_out_at = None
            resident.save(update_fields=["moved_out_at", "updated_at"])
            audit_record(
                actor=actor,
                action="resident.update",
                obj=resident,
                changes=diff(before, snapshot(resident, ["moved_out_at"])),
            )
    return member


def household_member_end(
    *,
    actor: User | None,
    scope: Scope | None = None,
    member: HouseholdMember,
    until: dt.date | None = None,
) -> HouseholdMember:
    """End a resident's membership of a household (they no longer live there)."""
    _require_manage(actor, scope, member.household.community_id)
    return _household_member_end(actor=actor, member=member, until=until)


def _household_member_end(
    *, actor: User | None, member: HouseholdMember, until: dt.date | None = None
) -> HouseholdMember:
    """:func:`household_member_end` for a caller already authorised (a move-out, the end of
    a binding by its own account)."""
    if member.until is not None:
        raise ConflictError(_("This household membership has already ended."))
    day = until or timezone.localdate()
    if member.since is not None and day < member.since:
        raise ServiceError(_("The end date cannot be before the start date."), field="until")
    before = snapshot(member, MEMBER_FIELDS)
    with transaction.atomic():
        member.until = day
        member.save(update_fields=["until", "updated_at"])
        audit_record(
            actor=actor,
            action="household_member.end",
            obj=member,
            community_id=member.household.community_id,
            changes=diff(before, snapshot(member, MEMBER_FIELDS)),
        )
    return member


def household_member_update(
    *, actor: User | None, scope: Scope | None = None, member: HouseholdMember, relation: str
) -> HouseholdMember:
    """Change how a member relates to the head of the household."""
    _require_manage(actor, scope, member.household.community_id)
    if relation not in Relation.values:
        raise ServiceError(_("Choose a relation from the list."), field="relation")
    if relation == member.relation:
        return member
    if relation == Relation.HEAD:
        head = (
            HouseholdMember.objects.filter(
                household_id=member.household_id, until__isnull=True, relation=Relation.HEAD
            )
            .exclude(pk=member.pk)
            .select_related("resident")
            .first()
        )
        if head is not None:
            raise ConflictError(
                _("%(name)s is already the head of this household.") % {"name": head.resident.name},
                field="relation",
            )
    before = snapshot(member, MEMBER_FIELDS)
    with transaction.atomic():
        member.relation = relation
        member.save(update_fields=["relation", "updated_at"])
        audit_record(
            actor=actor,
            action="household_member.update",
            obj=member,
            community_id=member.household.community_id,
            changes=diff(before, snapshot(member, MEMBER_FIELDS)),
        )
    return member


# Emergency contacts ----------------------------------------------------------------------------


def _clean_contact_phone(phone: str) -> str:
    normalised = phone_normalise(phone)
    if not normalised:
        raise ServiceError(_("Enter the contact's phone number."), field="phone")
    return normalised


def emergency_contact_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    resident: Resident,
    name: str,
    phone: str,
    relation: str = "",
) -> EmergencyContact:
    """Add someone to call for a resident."""
    _require_manage(actor, scope, resident.community_id)
    contact = EmergencyContact(
        resident=resident,
        name=_clean_name(name),
        relation=" ".join(relation.split())[:50],
        phone=_clean_contact_phone(phone),
    )
    with transaction.atomic():
        contact.save()
        audit_record(
            actor=actor,
            action="emergency_contact.create",
            obj=contact,
            community_id=resident.community_id,
            changes=diff({}, snapshot(contact, CONTACT_FIELDS), redact=REDACT),
        )
    return contact


def emergency_contact_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    contact: EmergencyContact,
    name: str | Keep = KEEP,
    relation: str | Keep = KEEP,
    phone: str | None = None,
) -> EmergencyContact:
    """Change an emergency contact; ``phone`` ``None`` keeps the stored number."""
    _require_manage(actor, scope, contact.resident.community_id)
    before = snapshot(contact, CONTACT_FIELDS)
    if name is not KEEP:
        contact.name = _clean_name(name)
    if relation is not KEEP:
        contact.relation = " ".join(relation.split())[:50]
    if phone is not None:
        contact.phone = _clean_contact_phone(phone)
    changes = diff(before, snapshot(contact, CONTACT_FIELDS), redact=REDACT)
    if changes:
        with transaction.atomic():
            contact.save()
            audit_record(
                actor=actor,
                action="emergency_contact.update",
                obj=contact,
                community_id=contact.resident.community_id,
                changes=changes,
            )
    return contact


def emergency_contact_delete(
    *, actor: User | None, scope: Scope | None = None, contact: EmergencyContact
) -> None:
    """Remove an emergency contact."""
    _require_manage(actor, scope, contact.resident.community_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="emergency_contact.delete",
            obj=contact,
            community_id=contact.resident.community_id,
            changes=diff(snapshot(contact, CONTACT_FIELDS), {}, redact=REDACT),
        )
        contact.delete()


def emergency_contact_reveal(
    *, actor: User, scope: Scope | None = None, contact: EmergencyContact
) -> str:
    """The full phone number of an emergency contact, for holders of the reveal permission;
    audited like :func:`resident_reveal`."""
    community_id = contact.resident.community_id
    _require_reveal(actor, scope, community_id)
    audit_record(
        actor=actor,
        action="emergency_contact.reveal",
        obj=contact,
        community_id=community_id,
        changes={"field": PersonalField.PHONE.value},
    )
    return str(contact.phone)


# Import and export -------------------------------------------------------------------------------

# Where a service's complaint about a field lands in the spreadsheet.
_RESIDENT_COLUMNS: Final = {
    "name": "name",
    "gender": "gender",
    "birth_date": "birth_date",
    "id_number": "id_number",
    "phone": "phone",
    "tags": "tags",
    "relation": "relation",
    "household": "building",
}
_CONTACT_COLUMNS: Final = {"name": "emergency_contact", "phone": "emergency_phone"}


class _ImportPlaces:
    """Entrances and households found or created during one import."""

    def __init__(
        self,
        actor: User | None,
        scope: Scope | None,
        community: Community,
        result: ImportResult,
    ) -> None:
        self.actor = actor
        self.scope = scope
        self.community = community
        self.result = result
        self.units: dict[tuple[int, str], Unit] = {}
        self.households: dict[tuple[int, str], Household] = {}
        self.load()

    def load(self) -> None:
        """Read the community's entrances and households once, not once per row."""
        self.units = {
            (unit.building_id, unit.number): unit
            for unit in Unit.objects.filter(building__community=self.community)
        }
        self.households = {
            (household.unit_id, household.number): household
            for household in Household.objects.filter(community=self.community)
        }

    def household(self, row: ParsedRow) -> Household:
        """The row's household, creating a missing entrance of a known building, and a
        missing household under it."""
        assert row.building is not None
        unit_key = (row.building.pk, row.unit_number)
        unit = self.units.get(unit_key)
        if unit is None:
            with self._as_column({"number": "unit"}):
                unit = unit_create(
                    actor=self.actor,
                    scope=self.scope,
                    building=row.building,
                    number=row.unit_number,
                )
            self.result.units_created += 1
            self.units[unit_key] = unit
        household_key = (unit.pk, row.room)
        household = self.households.get(household_key)
        if household is None:
            with self._as_column({"number": "room", "floor": "floor", "unit": "unit"}):
                household = household_create(
                    actor=self.actor,
                    scope=self.scope,
                    unit=unit,
                    floor=row.floor or 1,
                    number=row.room,
                )
            self.result.households_created += 1
            self.households[household_key] = household
        return household

    @contextlib.contextmanager
    def _as_column(self, columns: dict[str, str]) -> Iterator[None]:
        """Report the places services' complaints in the spreadsheet's columns."""
        try:
            yield
        except ServiceError as error:
            error.field = columns.get(error.field or "", "building")
            raise
        except (PermissionDenied, Http404) as error:
            raise ServiceError(
                _(
                    "Only people who manage places may add entrances and households; "
                    "this address does not exist yet."
                ),
                field="building",
            ) from error


def _import_row(
    actor: User | None,
    scope: Scope | None,
    community: Community,
    row: ParsedRow,
    places: _ImportPlaces,
) -> bool:
    """Apply one checked row through the services (with the importer's scope, so each change
    is checked as if made by hand); returns whether a resident was created."""
    household = places.household(row) if row.building is not None else None
    if row.existing is None:
        resident = resident_create(
            actor=actor,
            scope=scope,
            community=community,
            name=row.name,
            gender=row.gender or Gender.UNKNOWN,
            birth_date=row.birth_date,
            id_number=row.id_number or "",
            phone=row.phone or "",
            tags=row.tags or (),
            household=household,
            relation=row.relation or Relation.OTHER,
        )
    else:
        resident = row.existing
        resident_update(
            actor=actor,
            scope=scope,
            resident=resident,
            name=row.name,
            gender=row.gender or KEEP,
            birth_date=row.birth_date or KEEP,
            id_number=row.id_number,
            phone=row.phone,
            tags=row.tags,
        )
        if household is not None:
            member = HouseholdMember.objects.filter(
                household=household, resident=resident, until__isnull=True
            ).first()
            if member is None:
                household_member_add(
                    actor=actor,
                    scope=scope,
                    household=household,
                    resident=resident,
                    relation=row.relation or Relation.OTHER,
                )
            elif row.relation is not None and member.relation != row.relation:
                household_member_update(
                    actor=actor, scope=scope, member=member, relation=row.relation
                )
    if row.contact_name:
        try:
            contact = resident.emergency_contacts.filter(name=row.contact_name).first()
            if contact is None:
                emergency_contact_create(
                    actor=actor,
                    scope=scope,
                    resident=resident,
                    name=row.contact_name,
                    phone=row.contact_phone or "",
                )
            else:
                emergency_contact_update(
                    actor=actor, scope=scope, contact=contact, phone=row.contact_phone
                )
        except ServiceError as error:
            error.field = _CONTACT_COLUMNS.get(error.field or "", "emergency_contact")
            raise
    return row.existing is None


def resident_import(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    file_name: str,
    content: bytes,
) -> ImportResult:
    """Import residents and households from an .xlsx or .csv file, all or nothing.

    Every row is checked, then every row is applied through the services above inside one
    transaction; if any row fails, nothing stays and :class:`ImportRejectedError` lists each
    problem by row and column. Needs :attr:`Permission.MANAGE_RESIDENTS` in the community;
    adding missing entrances and households also needs :attr:`Permission.MANAGE_PLACES`.
    """
    _require_manage(actor, scope, community.pk)
    parsed = check_file(community=community, file_name=file_name, content=content)
    errors: list[RowError] = list(parsed.errors)
    result = ImportResult(rows=parsed.total)
    # One audit batch: the chain head is moved once for the whole file, not once per row.
    with transaction.atomic(), audit_batch():
        places = _ImportPlaces(actor, scope, community, result)
        matched: dict[int, int] = {}
        for row in parsed.rows:
            if row.existing is not None:
                if row.existing.pk in matched:
                    errors.append(
                        RowError(
                            row.row,
                            "name",
                            _("This resident is also in row %(row)s.")
                            % {"row": matched[row.existing.pk]},
                        )
                    )
                    continue
                matched[row.existing.pk] = row.row
            try:
                with transaction.atomic():
                    created = _import_row(actor, scope, community, row, places)
            except ServiceError as error:
                column = _RESIDENT_COLUMNS.get(error.field or "", error.field or "")
                errors.append(RowError(row.row, column, str(error.message)))
                # The row's savepoint took back what it created: read again what stays.
                places.load()
                continue
            if created:
                result.created += 1
            else:
                result.updated += 1
        if errors:
            raise ImportRejectedError(sorted(errors, key=lambda e: (e.row, e.column)))
        audit_record(
            actor=actor,
            action="resident.import",
            object_type="people.resident",
            community_id=community.pk,
            changes={
                "file": file_name[:200],
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "units_created": result.units_created,
                "households_created": result.households_created,
            },
        )
    return result


def resident_export(
    *,
    actor: User,
    scope: Scope | None = None,
    community: Community,
    residents: QuerySet[Resident],
    file_format: str,
) -> tuple[bytes, str, str]:
    """The residents as an .xlsx or .csv file: ``(content, file name, content type)``.

    Full ID and phone numbers only for holders of the reveal permission in the community;
    masked otherwise. Either way the export is audited with its row count.
    """
    # Like any read of residents: 404 for whoever may not see them.
    authorize(
        actor=actor, scope=scope, permission=Permission.VIEW_RESIDENTS, community_id=community.pk
    )
    if file_format not in CONTENT_TYPES:
        raise ServiceError(_("Choose the xlsx or csv format."), field="format")
    resolved = service_scope(actor, scope)
    reveal = (
        resolved is None
        or acts_platform_wide(resolved)
        or resolved.has(Permission.REVEAL_PERSONAL_DATA, community.pk)
    )
    chosen = residents.filter(community=community).prefetch_related("emergency_contacts")
    rows = list(export_rows(chosen, reveal=reveal))
    header = header_row()
    if file_format == "csv":
        content = write_csv(header, rows)
    else:
        content = write_xlsx(header, rows, sheet_title=_("Residents"))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    file_name = f"residents-{community.slug}-{stamp}.{file_format}"
    audit_record(
        actor=actor,
        action="resident.export",
        object_type="people.resident",
        community_id=community.pk,
        changes={"rows": len(rows), "format": file_format, "masked": not reveal},
    )
    return content, file_name, CONTENT_TYPES[file_format]


# Household bindings ------------------------------------------------------------------------------


BINDING_FIELDS: Final = ["status", "resident", "decided_by", "decided_at", "decision_note"]


def _binding_audit(
    actor: User | None, binding: HouseholdBinding, action: str, before: dict[str, Any]
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=binding,
        community_id=binding.household.community_id,
        changes=diff(before, snapshot(binding, [*BINDING_FIELDS, "ended_at"])),
    )


def binding_request(
    *,
    actor: User,
    scope: Scope | None = None,
    household: Household,
    relation: str = Relation.OTHER,
    message: str = "",
) -> HouseholdBinding:
    """A logged-in account asks to be bound to the household it lives in. Any active account
    may ask, in any community (that is how residents join); nobody may ask for someone else."""
    resolved = service_scope(actor, scope)
    if resolved is None or resolved.user is None or resolved.user.pk != actor.pk:
        raise PermissionDenied
    if relation not in Relation.values:
        raise ServiceError(_("Choose a relation from the list."), field="relation")
    open_bindings = HouseholdBinding.objects.filter(
        user=actor, status__in=[BindingStatus.PENDING, BindingStatus.APPROVED]
    )
    if open_bindings.filter(household=household).exists():
        raise ConflictError(
            _("You have already asked to be bound to this household."), field="household"
        )
    if open_bindings.filter(status=BindingStatus.PENDING).count() >= MAX_PENDING_BINDINGS:
        raise ConflictError(
            _("You have too many requests waiting; wait until they are decided."),
            field="household",
        )
    with transaction.atomic():
        binding = HouseholdBinding.objects.create(
            user=actor, household=household, relation=relation, message=message.strip()[:1000]
        )
        audit_record(
            actor=actor,
            action="binding.request",
            obj=binding,
            community_id=household.community_id,
            changes={"household": household.pk, "relation": relation},
        )
    return binding


def _resident_for_binding(
    actor: User, binding: HouseholdBinding, resident: Resident | None
) -> Resident:
    """The resident record an approved binding links to: the one given, else the account's
    own record in this community, else a new one named after the account."""
    community_id = binding.household.community_id
    user = binding.user
    if resident is not None:
        if resident.community_id != community_id:
            raise ServiceError(
                _("The resident record belongs to another community."), field="resident"
            )
        if resident.user_id is not None and resident.user_id != user.pk:
            raise ConflictError(
                _("This resident record is already linked to another account."),
                field="resident",
            )
    # An account links to at most one resident record (one person, one record).
    current = Resident.objects.filter(user=user).first()
    if resident is None and current is not None and current.community_id == community_id:
        resident = current
    if current is not None and current != resident:
        if current.memberships.filter(until__isnull=True).exists():
            raise ConflictError(
                _(
                    "This account belongs to a resident who still lives in another household; "
                    "end that binding first."
                ),
                field="resident",
            )
        # The old record (someone who moved away) lets go of the account.
        Resident.objects.filter(pk=current.pk).update(user=None)
        audit_record(
            actor=actor,
            action="resident.unlink_account",
            obj=current,
            changes={"user": [user.pk, None]},
        )
    if resident is None:
        return _resident_create(
            actor=actor,
            community=binding.household.community,
            name=user.display_name or user.get_username(),
            user=user,
        )
    if resident.user_id is None:
        resident.user = user
        resident.save(update_fields=["user", "updated_at"])
        audit_record(
            actor=actor,
            action="resident.link_account",
            obj=resident,
            changes={"user": [None, user.pk]},
        )
    return resident


def binding_approve(
    *,
    actor: User,
    scope: Scope | None = None,
    binding: HouseholdBinding,
    resident: Resident | None = None,
) -> HouseholdBinding:
    """Approve a binding: link (or create) the account's resident record, add it to the
    household and give the account the resident role in that community.

    Approving is enough: the resident record and household membership it writes do not also
    need :attr:`Permission.MANAGE_RESIDENTS`.
    """
    _require_approver(actor, scope, binding)
    if binding.status != BindingStatus.PENDING:
        raise ConflictError(_("This request has already been decided."))
    before = snapshot(binding, [*BINDING_FIELDS, "ended_at"])
    household = binding.household
    with transaction.atomic():
        linked = _resident_for_binding(actor, binding, resident)
        if not HouseholdMember.objects.filter(
            household=household, resident=linked, until__isnull=True
        ).exists():
            _household_member_add(
                actor=actor, household=household, resident=linked, relation=binding.relation
            )
        membership_grant(
            actor=actor,
            user=binding.user,
            role=Role.RESIDENT,
            community_id=household.community_id,
        )
        binding.status = BindingStatus.APPROVED
        binding.resident = linked
        binding.decided_by = actor
        binding.decided_at = timezone.now()
        binding.save()
        _binding_audit(actor, binding, "binding.approve", before)
    scope_reset(binding.user)
    return binding


def binding_refuse(
    *, actor: User, scope: Scope | None = None, binding: HouseholdBinding, note: str
) -> HouseholdBinding:
    """Refuse a binding request, telling the requester why."""
    _require_approver(actor, scope, binding)
    if binding.status != BindingStatus.PENDING:
        raise ConflictError(_("This request has already been decided."))
    reason = note.strip()
    if not reason:
        raise ServiceError(_("Say why the request is refused."), field="note")
    before = snapshot(binding, [*BINDING_FIELDS, "ended_at"])
    with transaction.atomic():
        binding.status = BindingStatus.REFUSED
        binding.decided_by = actor
        binding.decided_at = timezone.now()
        binding.decision_note = reason[:1000]
        binding.save()
        _binding_audit(actor, binding, "binding.refuse", before)
    return binding


def _binding_close(*, actor: User | None, binding: HouseholdBinding, end_membership: bool) -> bool:
    """End (approved) or withdraw (pending) a binding; revoke the resident role when no other
    approved binding remains in that community. Returns whether it had been approved."""
    before = snapshot(binding, [*BINDING_FIELDS, "ended_at"])
    was_approved = binding.status == BindingStatus.APPROVED
    binding.status = BindingStatus.ENDED
    binding.ended_at = timezone.now()
    binding.save()
    _binding_audit(actor, binding, "binding.end", before)
    if not was_approved:
        return False
    community_id = binding.household.community_id
    if end_membership and binding.resident_id is not None:
        member = (
            HouseholdMember.objects.filter(
                household_id=binding.household_id,
                resident_id=binding.resident_id,
                until__isnull=True,
            )
            .select_related("household")
            .first()
        )
        if member is not None:
            _household_member_end(actor=actor, member=member)
    still_bound = HouseholdBinding.objects.filter(
        user_id=binding.user_id,
        status=BindingStatus.APPROVED,
        household__community_id=community_id,
    ).exists()
    if not still_bound:
        membership = Membership.objects.filter(
            user_id=binding.user_id, role=Role.RESIDENT, community_id=community_id
        ).first()
        if membership is not None:
            membership_revoke(actor=actor, membership=membership)
    scope_reset(binding.user)
    return True


def binding_end(
    *, actor: User, scope: Scope | None = None, binding: HouseholdBinding
) -> HouseholdBinding:
    """End a binding when the resident moves out (or withdraw a pending request): the
    household membership ends, and the resident role goes when nothing else binds the account
    to that community. A resident who then lives nowhere is marked moved out.

    The bound account itself may do this, and so may approvers of the household's community.
    """
    if actor.pk != binding.user_id:
        _require_approver(actor, scope, binding)
    if binding.status not in (BindingStatus.APPROVED, BindingStatus.PENDING):
        raise ConflictError(_("This binding is no longer active."))
    with transaction.atomic():
        was_approved = _binding_close(actor=actor, binding=binding, end_membership=True)
        resident = binding.resident
        if (
            was_approved
            and resident is not None
            and resident.moved_out_at is None
            and not resident.memberships.filter(until__isnull=True).exists()
        ):
            before = snapshot(resident, ["moved_out_at"])
            resident.moved_out_at = timezone.localdate()
            resident.save(update_fields=["moved_out_at", "updated_at"])
            audit_record(
                actor=actor,
                action="resident.move_out",
                obj=resident,
                changes=diff(before, snapshot(resident, ["moved_out_at"])),
            )
    return binding

"""API schemas of the people domain. ID and phone numbers always leave masked; the full value
only comes from the audited reveal endpoint."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from anwang.people.choices import BindingStatus, Gender, PersonalField, Relation, ResidentTag
from anwang.people.models import EmergencyContact, HouseholdBinding, HouseholdMember, Resident


class HouseholdRefOut(Schema):
    """A household a resident lives in."""

    member_id: int
    household_id: int
    address: str
    relation: Relation
    since: dt.date | None


class ResidentOut(Schema):
    """A resident, with ID and phone numbers masked."""

    id: int
    community_id: int
    name: str
    gender: Gender
    birth_date: dt.date | None
    id_number: str = Field(description="Masked: first 6 and last 4 characters.")
    phone: str = Field(description="Masked.")
    tags: list[ResidentTag]
    households: list[HouseholdRefOut]
    has_account: bool
    note: str
    data_consent_at: dt.datetime | None
    moved_out_at: dt.date | None

    @staticmethod
    def resolve_id_number(obj: Resident) -> str:
        """Masked."""
        return obj.id_number_masked

    @staticmethod
    def resolve_phone(obj: Resident) -> str:
        """Masked."""
        return obj.phone_masked

    @staticmethod
    def resolve_tags(obj: Resident) -> list[str]:
        """From the prefetched tag links."""
        return [link.tag for link in obj.tag_links.all()]

    @staticmethod
    def resolve_households(obj: Resident) -> list[HouseholdRefOut]:
        """Current memberships, prefetched by the selectors."""
        members: list[HouseholdMember] = getattr(obj, "current_memberships", [])
        return [
            HouseholdRefOut(
                member_id=member.pk,
                household_id=member.household_id,
                address=member.household.address,
                relation=Relation(member.relation),
                since=member.since,
            )
            for member in members
        ]

    @staticmethod
    def resolve_has_account(obj: Resident) -> bool:
        """Whether an account is linked."""
        return obj.user_id is not None


class ResidentIn(Schema):
    """A new resident; ``household_id`` (optional) is where they live."""

    community_id: int
    name: str
    gender: Gender = Gender.UNKNOWN
    birth_date: dt.date | None = None
    id_number: str = ""
    phone: str = ""
    note: str = ""
    tags: list[ResidentTag] = []
    consent: bool = False
    household_id: int | None = None
    relation: Relation = Relation.OTHER


class ResidentPatch(Schema):
    """Changes to a resident: omitted fields stay; ``""`` removes an ID or phone number."""

    name: str | None = None
    gender: Gender | None = None
    birth_date: dt.date | None = None
    id_number: str | None = None
    phone: str | None = None
    note: str | None = None
    tags: list[ResidentTag] | None = None
    consent: bool | None = None


class RevealIn(Schema):
    """Which encrypted field to reveal."""

    field: PersonalField


class RevealOut(Schema):
    """The full value of a revealed field."""

    value: str


class MoveOutIn(Schema):
    """When the resident moved out (today when omitted)."""

    date: dt.date | None = None


class ContactOut(Schema):
    """An emergency contact, phone masked."""

    id: int
    resident_id: int
    name: str
    relation: str
    phone: str = Field(description="Masked.")

    @staticmethod
    def resolve_phone(obj: EmergencyContact) -> str:
        """Masked."""
        return obj.phone_masked


class ContactIn(Schema):
    """A new emergency contact."""

    name: str
    relation: str = ""
    phone: str


class ContactPatch(Schema):
    """Changes to an emergency contact; omitted fields stay."""

    name: str | None = None
    relation: str | None = None
    phone: str | None = None


class MemberOut(Schema):
    """Someone living in a household (masked)."""

    id: int
    resident_id: int
    name: str
    relation: Relation
    since: dt.date | None
    phone: str = Field(description="Masked.")
    tags: list[ResidentTag]

    @staticmethod
    def resolve_name(obj: HouseholdMember) -> str:
        """The resident's name."""
        return obj.resident.name

    @staticmethod
    def resolve_phone(obj: HouseholdMember) -> str:
        """Masked."""
        return obj.resident.phone_masked

    @staticmethod
    def resolve_tags(obj: HouseholdMember) -> list[str]:
        """From the prefetched tag links."""
        return [link.tag for link in obj.resident.tag_links.all()]


class ImportCountsOut(Schema):
    """What an import did."""

    rows: int
    created: int
    updated: int
    units_created: int
    households_created: int


class ImportErrorOut(Schema):
    """One problem of a rejected import."""

    loc: list[str | int]
    msg: str
    row: int
    column: str


class ImportRejectedOut(Schema):
    """The error shape of a rejected import, with one entry per problem."""

    detail: str
    code: str
    errors: list[ImportErrorOut]


class BindingOut(Schema):
    """A household binding request and its outcome."""

    id: int
    user_id: int
    account: str
    household_id: int
    community_id: int
    address: str
    relation: Relation
    status: BindingStatus
    message: str
    resident_id: int | None
    decided_at: dt.datetime | None
    decision_note: str
    ended_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_account(obj: HouseholdBinding) -> str:
        """The requesting account's display name."""
        return str(obj.user)

    @staticmethod
    def resolve_community_id(obj: HouseholdBinding) -> int:
        """The household's community."""
        return obj.household.community_id

    @staticmethod
    def resolve_address(obj: HouseholdBinding) -> str:
        """Building-entrance-room."""
        return obj.household.address


class BindingIn(Schema):
    """A request to be bound to a household."""

    household_id: int
    relation: Relation = Relation.OTHER
    message: str = ""


class BindingApproveIn(Schema):
    """Optionally, the existing resident record to link the account to."""

    resident_id: int | None = None


class BindingRefuseIn(Schema):
    """Why the request is refused."""

    note: str

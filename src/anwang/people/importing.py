"""Reading and writing the residents spreadsheet (.xlsx and .csv), one row per resident.

This module parses and checks files and writes them; the import itself, which changes data,
is :func:`anwang.people.services.resident_import`. Headers are accepted in Chinese or English;
values such as gender, relation and tags in Chinese, in English, or as their codes. Exports
write the headers and labels of the exporter's language, and always re-import cleanly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anwang.core import tables
from anwang.core.crypto import blind_index
from anwang.core.errors import ServiceError
from anwang.core.tables import (
    CONTENT_TYPES,
    Cell,
    Column,
    ImportRejectedError,
    RowError,
    choice_aliases,
    fold,
    is_chinese,
    read_table,
    write_csv,
)
from anwang.people.choices import Gender, Relation, ResidentTag
from anwang.people.masking import is_masked
from anwang.people.models import HouseholdMember, Resident
from anwang.people.validation import id_number_normalise, id_number_parse, phone_normalise
from anwang.places.models import Building, Community, Household, Unit

# The generic parts live in anwang.core.tables; the residents services and API import some of
# them from here, as the residents spreadsheet's own.
__all__ = [
    "COLUMNS",
    "CONTENT_TYPES",
    "RESIDENTS",
    "ImportRejectedError",
    "ImportResult",
    "ParsedFile",
    "ParsedRow",
    "RowError",
    "check_file",
    "export_rows",
    "header_row",
    "parse_date",
    "template_xlsx",
    "write_csv",
    "write_xlsx",
]

TAG_SEPARATORS = re.compile(r"[、,，;；]")
COLUMNS: tuple[Column, ...] = (
    Column(
        "building",
        gettext_lazy("Building"),
        "楼栋",
        "Building",
        ("楼号", "楼栋号", "楼", "building number"),
        gettext_lazy("Number (or name) of an existing building, e.g. 1."),
        example="1",
        width=8,
    ),
    Column(
        "unit",
        gettext_lazy("Entrance"),
        "单元",
        "Unit",
        ("单元号", "entrance"),
        gettext_lazy("Entrance number; a missing entrance of a known building is created."),
        example="1",
        width=8,
    ),
    Column(
        "floor",
        gettext_lazy("Floor"),
        "楼层",
        "Floor",
        ("层",),
        gettext_lazy("Optional: taken from the room number when empty (301 is on floor 3)."),
        example="3",
        width=6,
    ),
    Column(
        "room",
        gettext_lazy("Room"),
        "房号",
        "Room",
        ("房间号", "门牌号", "室", "room number"),
        gettext_lazy("Room number, e.g. 301."),
        example="301",
        width=8,
    ),
    Column(
        "name",
        gettext_lazy("Name"),
        "姓名",
        "Name",
        (),
        gettext_lazy("Required."),
        example="张三",
        width=12,
        required=True,
    ),
    Column(
        "gender",
        gettext_lazy("Gender"),
        "性别",
        "Gender",
        ("sex",),
        gettext_lazy("男 / 女, or male / female; taken from the ID number when empty."),
        example="男",
        width=6,
    ),
    Column(
        "birth_date",
        gettext_lazy("Date of birth"),
        "出生日期",
        "Birth date",
        ("生日", "date of birth", "birthday"),
        gettext_lazy("Like 1990-01-31; taken from the ID number when empty."),
        example="1990-01-01",
        width=12,
    ),
    Column(
        "id_number",
        gettext_lazy("ID number"),
        "身份证号",
        "ID number",
        ("身份证号码", "公民身份号码", "证件号码", "id"),
        gettext_lazy("18 characters. A resident with the same ID number is updated."),
        example="110101199001011237",
        width=22,
    ),
    Column(
        "phone",
        gettext_lazy("Phone"),
        "手机号",
        "Phone",
        ("手机号码", "手机", "电话", "联系电话", "mobile", "phone number"),
        gettext_lazy("Mobile number, or landline with area code."),
        example="13812345678",
        width=16,
    ),
    Column(
        "relation",
        gettext_lazy("Relation to head"),
        "与户主关系",
        "Relation",
        ("关系", "relation to head"),
        gettext_lazy("户主, 配偶, 子女, 父母, 租户, ... (empty: other)."),
        example="户主",
        width=12,
    ),
    Column(
        "tags",
        gettext_lazy("Tags"),
        "标签",
        "Tags",
        (),
        gettext_lazy("Separated by 、 , or ;. Replaces the resident's tags."),
        example="独居老人",
        width=20,
    ),
    Column(
        "emergency_contact",
        gettext_lazy("Emergency contact"),
        "紧急联系人",
        "Emergency contact",
        (),
        gettext_lazy("Name of someone to call."),
        example="李四",
        width=12,
    ),
    Column(
        "emergency_phone",
        gettext_lazy("Emergency contact phone"),
        "紧急联系人电话",
        "Emergency phone",
        ("紧急联系电话", "emergency contact phone"),
        gettext_lazy("Their phone number."),
        example="13900001111",
        width=16,
    ),
)
RESIDENTS = tables.Table(
    COLUMNS,
    title=gettext_lazy("Residents"),
    rules=gettext_lazy(
        "The first sheet is imported; one row per resident. Every row is checked "
        "first, and nothing is imported if any row has a problem. Import adds "
        "residents to the households in the file and never ends other household "
        "memberships: record moves with 'Move out'. Empty cells keep what is stored, "
        "except Tags, which replaces the tags."
    ),
)
"""The residents spreadsheet: its template has the example in its instructions only, so a
filled-in template never imports a sample person."""

# Spelling variants found in real registers, beyond the labels of the choices.
_EXTRA_ALIASES: dict[type[TextChoices], dict[str, str]] = {
    Gender: {"男": "male", "男性": "male", "m": "male", "女": "female", "女性": "female",
             "f": "female", "未知": "unknown"},
    Relation: {
        "户主": "head", "本人": "head", "配偶": "spouse", "妻子": "spouse", "丈夫": "spouse",
        "妻": "spouse", "夫": "spouse", "子女": "child", "儿子": "child", "女儿": "child",
        "子": "child", "女": "child", "父母": "parent", "父亲": "parent", "母亲": "parent",
        "祖父母": "grandparent", "祖父": "grandparent", "祖母": "grandparent",
        "外祖父": "grandparent", "外祖母": "grandparent", "孙子女": "grandchild",
        "孙子": "grandchild", "孙女": "grandchild", "外孙": "grandchild",
        "外孙女": "grandchild", "兄弟姐妹": "sibling", "兄弟": "sibling", "姐妹": "sibling",
        "租户": "tenant", "租客": "tenant", "其他": "other",
    },
    ResidentTag: {
        "独居老人": "living_alone", "独居": "living_alone", "残疾人": "disabled",
        "残疾": "disabled", "儿童": "child", "未成年人": "child", "租户": "tenant",
        "租客": "tenant", "需照护": "needs_care", "需要照护": "needs_care",
        "需关爱": "needs_care",
    },
}  # fmt: skip


@dataclass
class ParsedRow:
    """One checked row, ready to be applied by the import service."""

    row: int
    name: str
    gender: str | None = None
    birth_date: dt.date | None = None
    id_number: str | None = None  # None: not given (or masked: keep what is stored)
    phone: str | None = None
    relation: str | None = None  # None: empty cell, keep a member's stored relation
    tags: list[str] | None = None  # None: column absent, keep the resident's tags
    building: Building | None = None
    unit_number: str = ""
    floor: int | None = None
    room: str = ""
    contact_name: str = ""
    contact_phone: str | None = None
    existing: Resident | None = None
    masked: set[str] = field(default_factory=set)  # columns holding masked numbers


@dataclass
class ParsedFile:
    """The checked rows of a file and every problem found."""

    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    total: int = 0


@dataclass
class ImportResult:
    """What an import did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    units_created: int = 0
    households_created: int = 0


def _map_header(header: Sequence[str]) -> tuple[dict[str, int], list[RowError]]:
    positions, errors = RESIDENTS.map_header(header)
    address = {"building", "unit", "room"}
    if address & positions.keys() and not address <= positions.keys():
        errors.append(
            RowError(
                1,
                "building",
                _("An address needs all three columns: building, entrance and room."),
            )
        )
    return positions, errors


# Checking ----------------------------------------------------------------------------------------


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(text: str) -> dt.date:
    """A date written as 1990-01-31, 1990/1/31, 1990.1.31, 19900131 or 1990年1月31日."""
    value = text.strip().split(" ")[0]
    for pattern in _DATE_PATTERNS:
        found = pattern.match(value)
        if found:
            try:
                return dt.date(*(int(part) for part in found.groups()))
            except ValueError:
                break
    raise ValueError(text)


class _RowChecker:
    """Checks rows of one file against one community, remembering what it looked up."""

    def __init__(self, community: Community) -> None:
        self.community = community
        self.genders = choice_aliases(Gender, _EXTRA_ALIASES[Gender])
        self.relations = choice_aliases(Relation, _EXTRA_ALIASES[Relation])
        self.tags = choice_aliases(ResidentTag, _EXTRA_ALIASES[ResidentTag])
        self.buildings: dict[str, Building] = {}
        for building in Building.objects.filter(community=community):
            self.buildings.setdefault(fold(building.name), building)
        for building in Building.objects.filter(community=community):
            self.buildings[fold(building.number)] = building  # numbers win over names
        self.seen_ids: dict[str, int] = {}
        # Existing residents, read once: by ID number, and by name at an address.
        self.by_id_number: dict[str, Resident] = {}
        self.by_address: dict[tuple[int, str, str, str], Resident] = {}
        # Only what matching needs: decrypting every number of a large community is slow, and
        # the few rows that update a resident load the rest when they need it.
        residents = {
            r.pk: r
            for r in Resident.objects.filter(community=community)
            .order_by()
            .only("id", "community_id", "name", "id_number_index")
        }
        for resident in residents.values():
            if resident.id_number_index:
                self.by_id_number[resident.id_number_index] = resident
        for member in HouseholdMember.objects.filter(
            household__community=community, until__isnull=True
        ).select_related("household__unit"):
            unit = member.household.unit
            living = residents[member.resident_id]
            key = (
                unit.building_id,
                fold(unit.number),
                fold(member.household.number),
                living.name,
            )
            self.by_address.setdefault(key, living)

    def check(self, number: int, values: dict[str, Cell], errors: list[RowError]) -> ParsedRow:
        """Check one row; problems are appended to ``errors``."""

        def fail(column: str, message: str) -> None:
            errors.append(RowError(number, column, message))

        def text(key: str) -> str:
            cell = values.get(key)
            return cell.text if cell else ""

        row = ParsedRow(row=number, name=" ".join(text("name").split()))
        if not row.name:
            fail("name", _("Enter a name."))
        elif len(row.name) > 100:
            fail("name", _("A name has at most 100 characters."))
        self._check_identity(row, values, fail)
        self._check_phones(row, text, fail)
        if "gender" in values and text("gender"):
            row.gender = self.genders.get(fold(text("gender")))
            if row.gender is None:
                fail("gender", _("Unknown gender “%(value)s”.") % {"value": text("gender")})
        if text("birth_date"):
            try:
                row.birth_date = parse_date(text("birth_date"))
            except ValueError:
                fail("birth_date", _("Write the date like 1990-01-31."))
        if text("relation"):
            relation = self.relations.get(fold(text("relation")))
            if relation is None:
                fail(
                    "relation",
                    _("Unknown relation “%(value)s”.") % {"value": text("relation")},
                )
            else:
                row.relation = relation
        if "tags" in values:
            row.tags = []
            for word in (w.strip() for w in TAG_SEPARATORS.split(text("tags"))):
                if not word:
                    continue
                tag = self.tags.get(fold(word))
                if tag is None:
                    fail("tags", _("Unknown tag “%(value)s”.") % {"value": word})
                elif tag not in row.tags:
                    row.tags.append(tag)
        self._check_address(row, text, fail)
        self._match_existing(row, fail)
        return row

    def _check_identity(self, row: ParsedRow, values: dict[str, Cell], fail: Any) -> None:
        cell = values.get("id_number")
        if cell is None or not cell.text:
            return
        if is_masked(cell.text):
            row.masked.add("id_number")  # a masked export: keep the stored number
            return
        if cell.was_float:
            fail(
                "id_number",
                _(
                    "The spreadsheet stored this ID number as a number and lost digits; "
                    "format the column as text and type it again."
                ),
            )
            return
        number = id_number_normalise(cell.text)
        try:
            id_number_parse(number)
        except ServiceError as error:
            fail("id_number", str(error.message))
            return
        if number in self.seen_ids:
            fail(
                "id_number",
                _("This ID number is also in row %(row)s.") % {"row": self.seen_ids[number]},
            )
            return
        self.seen_ids[number] = row.row
        row.id_number = number

    def _check_phones(self, row: ParsedRow, text: Any, fail: Any) -> None:
        for key in ("phone", "emergency_phone"):
            value = text(key)
            if not value:
                continue
            if is_masked(value):
                row.masked.add(key)
                continue
            try:
                normalised = phone_normalise(value)
            except ServiceError as error:
                fail(key, str(error.message))
                continue
            if key == "phone":
                row.phone = normalised
            else:
                row.contact_phone = normalised
        row.contact_name = " ".join(text("emergency_contact").split())
        if text("emergency_phone") and not row.contact_name:
            fail("emergency_contact", _("Give the name of the emergency contact."))
        if row.contact_name and not text("emergency_phone"):
            fail("emergency_phone", _("Enter the contact's phone number."))

    def _check_address(self, row: ParsedRow, text: Any, fail: Any) -> None:
        building, unit, room = text("building"), text("unit"), text("room")
        if not (building or unit or room):
            return
        for key, value in (("building", building), ("unit", unit), ("room", room)):
            if not value:
                fail(key, _("An address needs building, entrance and room."))
        if not (building and unit and room):
            return
        row.building = self.buildings.get(fold(building))
        if row.building is None:
            fail(
                "building",
                _("There is no building “%(value)s” in %(community)s.")
                % {"value": building, "community": self.community.name},
            )
        row.unit_number, row.room = unit, room
        if len(unit) > 20 or len(room) > 20:
            fail("room", _("Entrance and room numbers have at most 20 characters."))
        floor = text("floor")
        try:
            if floor:
                row.floor = int(float(floor))
            elif room.isdigit() and len(room) >= 3:
                row.floor = int(room[:-2])
            else:
                fail("floor", _("Give the floor: it cannot be read from this room number."))
        except ValueError:
            fail("floor", _("The floor is a whole number, e.g. 3 (or -1 below ground)."))

    def _match_existing(self, row: ParsedRow, fail: Any) -> None:
        """The stored resident this row updates: same ID number, else same name in the same
        household."""
        if row.id_number:
            row.existing = self.by_id_number.get(blind_index(row.id_number))
        if row.existing is None and row.building is not None and row.name:
            address = (row.building.pk, fold(row.unit_number), fold(row.room), row.name)
            row.existing = self.by_address.get(address)
        masked_message = _("A masked number can only keep a stored one; enter it in full.")
        if row.existing is None:
            for key in sorted(row.masked):
                fail(key, masked_message)
        elif (
            "emergency_phone" in row.masked
            and row.contact_name
            and not row.existing.emergency_contacts.filter(name=row.contact_name).exists()
        ):
            fail("emergency_phone", masked_message)


def check_file(*, community: Community, file_name: str, content: bytes) -> ParsedFile:
    """Read and check every row of an import file; nothing is written."""
    header, data = read_table(file_name, content)
    positions, errors = _map_header(header)
    parsed = ParsedFile(errors=errors, columns=set(positions), total=len(data))
    if errors:
        return parsed
    checker = _RowChecker(community)
    for number, cells in data:
        values = RESIDENTS.row_values(positions, cells)
        before = len(parsed.errors)
        row = checker.check(number, values, parsed.errors)
        if len(parsed.errors) == before:
            parsed.rows.append(row)
    if not data:
        parsed.errors.append(RowError(0, "", _("The file has a header row but no residents.")))
    return parsed


# Writing -----------------------------------------------------------------------------------------


def header_row() -> list[str]:
    """Column headers in the language of the person exporting (both import again)."""
    return RESIDENTS.header_row()


def export_rows(residents: Iterable[Resident], *, reveal: bool) -> Iterator[list[str]]:
    """One row per resident: full ID and phone numbers only when ``reveal``."""
    genders = dict(Gender.choices)
    relations = dict(Relation.choices)
    tag_labels = dict(ResidentTag.choices)
    separator = "、" if is_chinese() else ", "
    for resident in residents:
        members: list[HouseholdMember] = getattr(resident, "current_memberships", [])
        member = members[0] if members else None
        household: Household | None = member.household if member else None
        unit: Unit | None = household.unit if household else None
        contacts = list(resident.emergency_contacts.all())
        contact = contacts[0] if contacts else None
        id_number = resident.id_number or ""
        phone = resident.phone or ""
        contact_phone = contact.phone if contact else ""
        if not reveal:
            id_number = resident.id_number_masked
            phone = resident.phone_masked
            contact_phone = contact.phone_masked if contact else ""
        yield [
            unit.building.number if unit else "",
            unit.number if unit else "",
            str(household.floor) if household else "",
            household.number if household else "",
            resident.name,
            str(genders.get(resident.gender, "")) if resident.gender != Gender.UNKNOWN else "",
            resident.birth_date.isoformat() if resident.birth_date else "",
            id_number,
            phone,
            str(relations.get(member.relation, "")) if member else "",
            separator.join(str(tag_labels.get(link.tag, link.tag)) for link in _tags(resident)),
            contact.name if contact else "",
            contact_phone,
        ]


def _tags(resident: Resident) -> list[Any]:
    return sorted(resident.tag_links.all(), key=lambda link: link.tag)


def write_xlsx(
    header: list[str],
    rows: Iterable[list[str]],
    *,
    sheet_title: str,
    notes: list[list[str]] | None = None,
) -> bytes:
    """A residents workbook (see :func:`anwang.core.tables.write_xlsx`) with the residents'
    column widths."""
    return tables.write_xlsx(
        header, rows, sheet_title=sheet_title, notes=notes, widths=RESIDENTS.widths()
    )


def template_xlsx() -> bytes:
    """An empty import file with the headers, and a second sheet explaining each column."""
    return RESIDENTS.template_xlsx()

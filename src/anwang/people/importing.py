"""Reading and writing the residents spreadsheet (.xlsx and .csv), one row per resident.

This module parses and checks files and writes them; the import itself, which changes data,
is :func:`anwang.people.services.resident_import`. Headers are accepted in Chinese or English;
values such as gender, relation and tags in Chinese, in English, or as their codes. Exports
write the headers and labels of the exporter's language, and always re-import cleanly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anwang.core.crypto import blind_index
from anwang.core.errors import ServiceError
from anwang.people.choices import Gender, Relation, ResidentTag
from anwang.people.masking import is_masked
from anwang.people.models import HouseholdMember, Resident
from anwang.people.validation import id_number_normalise, id_number_parse, phone_normalise
from anwang.places.models import Building, Community, Household, Unit

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
TAG_SEPARATORS = re.compile(r"[、,，;；]")
XLSX_MAGIC = b"PK\x03\x04"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class Column:
    """One column of the residents spreadsheet."""

    key: str
    label: str | Promise
    chinese: str
    english: str
    aliases: tuple[str, ...] = ()
    help: str | Promise = ""


COLUMNS: tuple[Column, ...] = (
    Column(
        "building",
        gettext_lazy("Building"),
        "楼栋",
        "Building",
        ("楼号", "楼栋号", "楼", "building number"),
        gettext_lazy("Number (or name) of an existing building, e.g. 1."),
    ),
    Column(
        "unit",
        gettext_lazy("Entrance"),
        "单元",
        "Unit",
        ("单元号", "entrance"),
        gettext_lazy("Entrance number; a missing entrance of a known building is created."),
    ),
    Column(
        "floor",
        gettext_lazy("Floor"),
        "楼层",
        "Floor",
        ("层",),
        gettext_lazy("Optional: taken from the room number when empty (301 is on floor 3)."),
    ),
    Column(
        "room",
        gettext_lazy("Room"),
        "房号",
        "Room",
        ("房间号", "门牌号", "室", "room number"),
        gettext_lazy("Room number, e.g. 301."),
    ),
    Column("name", gettext_lazy("Name"), "姓名", "Name", (), gettext_lazy("Required.")),
    Column(
        "gender",
        gettext_lazy("Gender"),
        "性别",
        "Gender",
        ("sex",),
        gettext_lazy("男 / 女, or male / female; taken from the ID number when empty."),
    ),
    Column(
        "birth_date",
        gettext_lazy("Date of birth"),
        "出生日期",
        "Birth date",
        ("生日", "date of birth", "birthday"),
        gettext_lazy("Like 1990-01-31; taken from the ID number when empty."),
    ),
    Column(
        "id_number",
        gettext_lazy("ID number"),
        "身份证号",
        "ID number",
        ("身份证号码", "公民身份号码", "证件号码", "id"),
        gettext_lazy("18 characters. A resident with the same ID number is updated."),
    ),
    Column(
        "phone",
        gettext_lazy("Phone"),
        "手机号",
        "Phone",
        ("手机号码", "手机", "电话", "联系电话", "mobile", "phone number"),
        gettext_lazy("Mobile number, or landline with area code."),
    ),
    Column(
        "relation",
        gettext_lazy("Relation to head"),
        "与户主关系",
        "Relation",
        ("关系", "relation to head"),
        gettext_lazy("户主, 配偶, 子女, 父母, 租户, ... (empty: other)."),
    ),
    Column(
        "tags",
        gettext_lazy("Tags"),
        "标签",
        "Tags",
        (),
        gettext_lazy("Separated by 、 , or ;. Replaces the resident's tags."),
    ),
    Column(
        "emergency_contact",
        gettext_lazy("Emergency contact"),
        "紧急联系人",
        "Emergency contact",
        (),
        gettext_lazy("Name of someone to call."),
    ),
    Column(
        "emergency_phone",
        gettext_lazy("Emergency contact phone"),
        "紧急联系人电话",
        "Emergency phone",
        ("紧急联系电话", "emergency contact phone"),
        gettext_lazy("Their phone number."),
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

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


def _fold(text: str) -> str:
    """Compare header and label text without case, spaces, underscores or required marks."""
    text = re.sub(r"[(（].*?[)）]", "", text)
    return re.sub(r"[\s_*＊:：]", "", text).lower()


def _choice_aliases(choices: type[TextChoices]) -> dict[str, str]:
    """Every accepted spelling of every value of a choice, folded."""
    aliases = {_fold(text): value for text, value in _EXTRA_ALIASES.get(choices, {}).items()}
    for value, label in choices.choices:
        aliases[_fold(value)] = value
        for language in ("en", "zh-hans", translation.get_language() or "en"):
            with translation.override(language):
                aliases[_fold(str(label))] = value
    return aliases


def _header_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for column in COLUMNS:
        for text in (column.key, column.chinese, column.english, *column.aliases):
            aliases[_fold(text)] = column.key
        for language in ("en", "zh-hans"):
            with translation.override(language):
                aliases.setdefault(_fold(str(column.label)), column.key)
    return aliases


@dataclass(frozen=True)
class RowError:
    """One problem found in an import file; row 1 is the header row, row 0 the whole file."""

    row: int
    column: str
    message: str

    @property
    def column_label(self) -> str:
        """The column as the person knows it."""
        column = COLUMN_BY_KEY.get(self.column)
        return str(column.label) if column else ""


class ImportRejectedError(ServiceError):
    """The file was not imported; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            _("Nothing was imported: %(count)s problems were found in the file.")
            % {"count": len(errors)},
            field="file",
        )
        self.errors = errors


@dataclass
class Cell:
    """A raw cell value and whether the spreadsheet stored it as a number."""

    text: str
    was_float: bool = False


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


# Reading -----------------------------------------------------------------------------------------


def _cell(value: Any) -> Cell:
    if value is None:
        return Cell("")
    if isinstance(value, dt.datetime):
        return Cell(value.date().isoformat())
    if isinstance(value, dt.date):
        return Cell(value.isoformat())
    if isinstance(value, bool):
        return Cell(str(value))
    if isinstance(value, int):
        return Cell(str(value))
    if isinstance(value, float):
        if value.is_integer():
            return Cell(str(int(value)), was_float=True)
        return Cell(str(value), was_float=True)
    text = str(value).strip()
    # Undo the quote that guards a CSV cell against being run as a formula (see _csv_safe).
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return Cell(text)


def _xlsx_rows(content: bytes) -> Iterator[list[Cell]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ImportRejectedError(
            [RowError(0, "", _("The file is not a readable .xlsx workbook."))]
        ) from error
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in values]
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> Iterator[list[Cell]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError as error:
            raise ImportRejectedError(
                [RowError(0, "", _("The file's text encoding is neither UTF-8 nor GB18030."))]
            ) from error
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [_cell(value) for value in values]


def read_table(file_name: str, content: bytes) -> tuple[list[str], list[tuple[int, list[Cell]]]]:
    """The header row and the non-empty data rows (with spreadsheet row numbers) of a file."""
    if not content:
        raise ImportRejectedError([RowError(0, "", _("The file is empty."))])
    if len(content) > MAX_BYTES:
        raise ImportRejectedError([RowError(0, "", _("The file is larger than 10 MB."))])
    if content.startswith(XLSX_MAGIC):
        rows = _xlsx_rows(content)
    elif file_name.lower().endswith((".xls", ".et", ".numbers", ".ods")):
        raise ImportRejectedError([RowError(0, "", _("Save the file as .xlsx or .csv first."))])
    else:
        rows = _csv_rows(content)
    header: list[str] | None = None
    data: list[tuple[int, list[Cell]]] = []
    for number, cells in enumerate(rows, start=1):
        if not any(cell.text for cell in cells):
            continue
        if header is None:
            header = [cell.text for cell in cells]
            continue
        data.append((number, cells))
        if len(data) > MAX_ROWS:
            raise ImportRejectedError(
                [RowError(0, "", _("A file may hold at most %(max)s rows.") % {"max": MAX_ROWS})]
            )
    if header is None:
        raise ImportRejectedError([RowError(0, "", _("The file is empty."))])
    return header, data


def _map_header(header: Sequence[str]) -> tuple[dict[str, int], list[RowError]]:
    aliases = _header_aliases()
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, text in enumerate(header):
        key = aliases.get(_fold(text))
        if key is None:
            continue  # extra columns (notes, serial numbers) are ignored
        if key in positions:
            errors.append(
                RowError(1, key, _("The column “%(header)s” appears twice.") % {"header": text})
            )
        positions[key] = index
    if "name" not in positions:
        errors.append(RowError(1, "name", _("The file has no name column (姓名 / Name).")))
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
        self.genders = _choice_aliases(Gender)
        self.relations = _choice_aliases(Relation)
        self.tags = _choice_aliases(ResidentTag)
        self.buildings: dict[str, Building] = {}
        for building in Building.objects.filter(community=community):
            self.buildings.setdefault(_fold(building.name), building)
        for building in Building.objects.filter(community=community):
            self.buildings[_fold(building.number)] = building  # numbers win over names
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
                _fold(unit.number),
                _fold(member.household.number),
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
            row.gender = self.genders.get(_fold(text("gender")))
            if row.gender is None:
                fail("gender", _("Unknown gender “%(value)s”.") % {"value": text("gender")})
        if text("birth_date"):
            try:
                row.birth_date = parse_date(text("birth_date"))
            except ValueError:
                fail("birth_date", _("Write the date like 1990-01-31."))
        if text("relation"):
            relation = self.relations.get(_fold(text("relation")))
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
                tag = self.tags.get(_fold(word))
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
        row.building = self.buildings.get(_fold(building))
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
            address = (row.building.pk, _fold(row.unit_number), _fold(row.room), row.name)
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
        values = {
            key: cells[index] if index < len(cells) else Cell("")
            for key, index in positions.items()
        }
        before = len(parsed.errors)
        row = checker.check(number, values, parsed.errors)
        if len(parsed.errors) == before:
            parsed.rows.append(row)
    if not data:
        parsed.errors.append(RowError(0, "", _("The file has a header row but no residents.")))
    return parsed


# Writing -----------------------------------------------------------------------------------------


def _chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


def header_row() -> list[str]:
    """Column headers in the language of the person exporting (both import again)."""
    return [column.chinese if _chinese() else column.english for column in COLUMNS]


def export_rows(residents: Iterable[Resident], *, reveal: bool) -> Iterator[list[str]]:
    """One row per resident: full ID and phone numbers only when ``reveal``."""
    genders = dict(Gender.choices)
    relations = dict(Relation.choices)
    tag_labels = dict(ResidentTag.choices)
    separator = "、" if _chinese() else ", "
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


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs (CSV injection).
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def write_csv(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """A UTF-8 CSV with a byte-order mark, which Excel on Windows needs to show Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_safe(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(
    header: list[str],
    rows: Iterable[list[str]],
    *,
    sheet_title: str,
    notes: list[list[str]] | None = None,
) -> bytes:
    """An .xlsx workbook; every cell is text, so numbers keep their digits and nothing runs
    as a formula."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell as XlsxCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate((8, 8, 6, 8, 12, 6, 12, 22, 16, 12, 20, 12, 16)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width

    def text_cells(values: list[str], bold: bool = False) -> list[XlsxCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.number_format = "@"
            if bold:
                cell.font = Font(bold=True)
            cells.append(cell)
        return cells

    sheet.append(text_cells(header, bold=True))
    for row in rows:
        sheet.append(text_cells(row))
    if notes:
        notes_sheet = workbook.create_sheet(_("Instructions")[:31])
        notes_sheet.column_dimensions["A"].width = 22
        notes_sheet.column_dimensions["B"].width = 70
        for note in notes:
            notes_sheet.append(note)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_xlsx() -> bytes:
    """An empty import file with the headers, and a second sheet explaining each column."""
    header = header_row()
    notes = [[_("Column"), _("What to enter")]]
    notes += [[title, str(column.help)] for title, column in zip(header, COLUMNS, strict=True)]
    notes.append(["", ""])
    notes.append(
        [
            _("Example"),
            "1 | 1 | 3 | 301 | 张三 | 男 | 1990-01-01 | 110101199001011237 | 13812345678 | "
            "户主 | 独居老人 | 李四 | 13900001111",
        ]
    )
    notes.append(
        [
            _("Rules"),
            _(
                "The first sheet is imported; one row per resident. Every row is checked "
                "first, and nothing is imported if any row has a problem. Import adds "
                "residents to the households in the file and never ends other household "
                "memberships: record moves with 'Move out'. Empty cells keep what is stored, "
                "except Tags, which replaces the tags."
            ),
        ]
    )
    return write_xlsx(header, [], sheet_title=_("Residents"), notes=notes)

"""Spreadsheets in and out (.xlsx and .csv) for every import, export and import template.

A :class:`Table` names the columns of one kind of spreadsheet (residents, devices, ...):
headers are read in Chinese or English and under their aliases, and written in the language of
the person asking. Reading checks size, row count and encoding (UTF-8 with or without a
byte-order mark, and the GB18030/GBK that Chinese Excel saves CSV in); writing quotes cells a
spreadsheet would run as formulas (CSV) or stores every cell as text (.xlsx). What a row means
is each domain's business (``<app>/importing.py``); the writes are its services'.
"""

from __future__ import annotations

import csv
import dataclasses
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

from anwang.core.errors import ServiceError

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
XLSX_MAGIC = b"PK\x03\x04"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class Column:
    """One column of a spreadsheet: how it is shown, written and recognised when read."""

    key: str
    label: str | Promise
    chinese: str
    english: str
    aliases: tuple[str, ...] = ()
    help: str | Promise = ""
    choices: type[TextChoices] | None = None  # its allowed values, listed in the template
    example: str | Promise = ""
    width: int = 12
    required: bool = False
    read_only: bool = False  # exported for information, ignored by the import


@dataclass(frozen=True)
class RowError:
    """One problem found in an import file; row 1 is the header row, row 0 the whole file."""

    row: int
    column: str
    message: str
    column_label: str = field(default="", compare=False)  # set by :meth:`Table.labelled`


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


def fold(text: str) -> str:
    """Compare header and label text without case, spaces, underscores, required marks or a
    bracketed remark."""
    text = re.sub(r"[(（].*?[)）]", "", text)
    return re.sub(r"[\s_*＊:：]", "", text).lower()


def is_chinese() -> bool:
    """Whether the person asking reads Chinese (files are written in their language)."""
    return (translation.get_language() or "").startswith("zh")


def choice_aliases(
    choices: type[TextChoices], extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Every accepted spelling of every value of a choice, folded: its code, its label in
    English, Chinese and the current language, and the ``extra`` spellings given."""
    aliases = {fold(text): value for text, value in (extra or {}).items()}
    for value, label in choices.choices:
        aliases[fold(value)] = value
        for language in ("en", "zh-hans", translation.get_language() or "en"):
            with translation.override(language):
                aliases[fold(str(label))] = value
    return aliases


# Reading -----------------------------------------------------------------------------------------


def _cell(value: Any) -> Cell:
    if value is None:
        return Cell("")
    if isinstance(value, dt.datetime):
        return Cell(value.date().isoformat())
    if isinstance(value, dt.date):
        return Cell(value.isoformat())
    if isinstance(value, bool | int):
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
            text = content.decode("gb18030")  # a superset of GBK, which Chinese Excel writes
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


# Writing -----------------------------------------------------------------------------------------


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
    widths: Sequence[int] = (),
) -> bytes:
    """An .xlsx workbook, with a bold header row and an optional second sheet of ``notes``;
    every cell is text, so numbers keep their digits and nothing runs as a formula."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell as XlsxCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths):
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
        for letter, width in zip("ABC", (22, 70, 70), strict=True):
            notes_sheet.column_dimensions[letter].width = width
        for note in notes:
            notes_sheet.append(note)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Tables ------------------------------------------------------------------------------------------


class Table:
    """The columns of one kind of spreadsheet, with what reading, writing and the import
    template need from them."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        title: str | Promise,
        rules: str | Promise = "",
        example_row: bool = False,
    ) -> None:
        self.columns = tuple(columns)
        self.by_key = {column.key: column for column in self.columns}
        self.title = title
        self.rules = rules
        # Whether the template's first sheet carries the example as a row that imports.
        self.example_row = example_row

    @property
    def importable(self) -> tuple[Column, ...]:
        """The columns an import reads."""
        return tuple(column for column in self.columns if not column.read_only)

    def header_aliases(self) -> dict[str, str]:
        """Every accepted header of every importable column, folded, to its key."""
        aliases: dict[str, str] = {}
        for column in self.importable:
            for text in (column.key, column.chinese, column.english, *column.aliases):
                aliases[fold(text)] = column.key
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    aliases.setdefault(fold(str(column.label)), column.key)
        return aliases

    def map_header(self, header: Sequence[str]) -> tuple[dict[str, int], list[RowError]]:
        """The position of each known column in a header row, and its problems (a column
        twice, a required column missing). Unknown columns are ignored."""
        aliases = self.header_aliases()
        positions: dict[str, int] = {}
        errors: list[RowError] = []
        for index, text in enumerate(header):
            key = aliases.get(fold(text))
            if key is None:
                continue  # extra columns (notes, serial numbers, read-only ones) are ignored
            if key in positions:
                errors.append(
                    RowError(1, key, _("The column “%(header)s” appears twice.") % {"header": text})
                )
            positions[key] = index
        for column in self.importable:
            if column.required and column.key not in positions:
                errors.append(
                    RowError(
                        1,
                        column.key,
                        _("The file has no “%(column)s” column (%(names)s).")
                        % {
                            "column": str(column.label),
                            "names": f"{column.chinese} / {column.english}",
                        },
                    )
                )
        return positions, errors

    @staticmethod
    def row_values(positions: dict[str, int], cells: list[Cell]) -> dict[str, Cell]:
        """The cells of one data row by column key (an empty cell where the row is short)."""
        return {
            key: cells[index] if index < len(cells) else Cell("")
            for key, index in positions.items()
        }

    def labelled(self, errors: Iterable[RowError]) -> list[RowError]:
        """The errors with the label of their column, in the current language, for a page."""
        labelled = []
        for error in errors:
            column = self.by_key.get(error.column)
            label = str(column.label) if column else ""
            labelled.append(dataclasses.replace(error, column_label=label))
        return labelled

    def header_row(self, columns: Sequence[Column] | None = None) -> list[str]:
        """Column headers in the language of the person asking (both import again)."""
        chinese = is_chinese()
        return [c.chinese if chinese else c.english for c in columns or self.columns]

    def widths(self, columns: Sequence[Column] | None = None) -> list[int]:
        """The width of each column in a workbook."""
        return [column.width for column in columns or self.columns]

    def write(self, rows: Iterable[list[str]], file_format: str) -> bytes:
        """Every column of ``rows`` as a ``csv`` or ``xlsx`` file, with the header row."""
        if file_format not in CONTENT_TYPES:
            raise ServiceError(_("Choose the xlsx or csv format."), field="format")
        if file_format == "csv":
            return write_csv(self.header_row(), rows)
        return write_xlsx(
            self.header_row(), rows, sheet_title=str(self.title), widths=self.widths()
        )

    def template_xlsx(self) -> bytes:
        """An import workbook: the headers (with the example row if the table has one), and a
        second sheet saying what to enter in each column, its allowed values, an example and
        the rules."""
        columns = self.importable
        header = self.header_row(columns)
        example = [str(column.example) for column in columns]
        with_choices = any(column.choices for column in columns)
        notes = [[_("Column"), _("What to enter")]]
        if with_choices:
            notes[0].append(_("Allowed values"))
        for title, column in zip(header, columns, strict=True):
            note = [title, str(column.help)]
            if with_choices:
                note.append(_allowed(column.choices) if column.choices else "")
            notes.append(note)
        notes.append(["", ""])
        if any(example):
            notes.append([_("Example"), " | ".join(example)])
        if self.rules:
            notes.append([_("Rules"), str(self.rules)])
        rows = [example] if self.example_row else []
        return write_xlsx(
            header,
            rows,
            sheet_title=str(self.title),
            notes=notes,
            widths=self.widths(columns),
        )


def _allowed(choices: type[TextChoices]) -> str:
    return "; ".join(f"{label} ({value})" for value, label in choices.choices)

"""Import (all or nothing, with row and column errors) and export of residents, .xlsx and
.csv, Chinese or English headers, and the export → import round trip."""

import csv
import io
from typing import Any

import openpyxl
import pytest
from django.utils import translation

from anwang.accounts.selectors import scope_for
from anwang.audit.models import AuditEvent
from anwang.people import selectors, services
from anwang.people.choices import Relation, ResidentTag
from anwang.people.importing import ImportRejectedError, ImportResult, template_xlsx
from anwang.people.models import EmergencyContact, HouseholdMember, Resident
from anwang.people.tests.conftest import make_id
from anwang.places.models import Household, Unit

pytestmark = pytest.mark.django_db

CHINESE = ["楼栋", "单元", "楼层", "房号", "姓名", "性别", "出生日期", "身份证号", "手机号",
           "与户主关系", "标签", "紧急联系人", "紧急联系人电话"]  # fmt: skip
ENGLISH = ["Building", "Unit", "Floor", "Room", "Name", "Gender", "Birth date", "ID number",
           "Phone", "Relation", "Tags", "Emergency contact", "Emergency phone"]  # fmt: skip


def xlsx(header: list[Any], rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet: Any = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(header: list[str], rows: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def run_import(
    world: Any, content: bytes, name: str = "residents.xlsx", side: str = "a"
) -> ImportResult:
    return services.resident_import(
        actor=world.user("community_admin", side),
        community=getattr(world, side).community,
        file_name=name,
        content=content,
    )


GOOD_ROWS = [
    ["1", "1", "", "401", "钱一", "男", "", make_id("19500101", "011"), "13811112222", "户主",
     "独居老人、残疾人", "钱二", "13911112222"],
    ["1", "2", "2", "201", "孙三", "", "1960-02-03", make_id("19600203", "022"), "0571-87654321",
     "配偶", "", "", ""],
]  # fmt: skip


def test_xlsx_with_chinese_headers_creates_residents_households_and_units(world):
    result = run_import(world, xlsx(CHINESE, GOOD_ROWS))
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    assert result.units_created == 1  # entrance 2 of building 1 did not exist
    assert result.households_created == 2
    qian = Resident.objects.get(name="钱一")
    assert qian.phone == "13811112222"
    assert sorted(qian.tag_links.values_list("tag", flat=True)) == ["disabled", "living_alone"]
    member = HouseholdMember.objects.get(resident=qian)
    assert member.household.number == "401"
    assert member.household.floor == 4  # read from the room number
    assert member.relation == Relation.HEAD
    assert EmergencyContact.objects.get(resident=qian).phone == "13911112222"
    sun = Resident.objects.get(name="孙三")
    assert sun.gender == "female"  # from the ID number
    assert Unit.objects.filter(building=world.a.building, number="2").exists()
    event = AuditEvent.objects.get(action="resident.import")
    assert event.changes["created"] == 2


def test_csv_with_english_headers_and_bom(world):
    result = run_import(world, csv_bytes(ENGLISH, GOOD_ROWS), name="r.csv")
    assert result.created == 2


def test_csv_in_gb18030_is_read(world):
    result = run_import(world, csv_bytes(CHINESE, GOOD_ROWS, encoding="gb18030"), name="r.csv")
    assert result.created == 2
    assert Resident.objects.filter(name="钱一").exists()


def test_one_bad_row_imports_nothing_and_reports_row_and_column(world):
    rows = [
        *GOOD_ROWS,
        ["9", "1", "", "101", "周四", "", "", "110101199001011234", "123", "", "", "", ""],
        ["1", "1", "", "", "", "", "", "", "", "朋友", "贵宾", "", "13900000000"],
    ]
    before = Resident.objects.count()
    with pytest.raises(ImportRejectedError) as raised:
        run_import(world, xlsx(CHINESE, rows))
    found = {(error.row, error.column) for error in raised.value.errors}
    assert {
        (4, "building"),
        (4, "id_number"),
        (4, "phone"),
        (5, "name"),
        (5, "room"),
        (5, "relation"),
        (5, "tags"),
        (5, "emergency_contact"),
    } <= found
    assert Resident.objects.count() == before
    assert not Household.objects.filter(number="401").exists()
    assert not Unit.objects.filter(number="2").exists()
    assert not AuditEvent.objects.filter(action__in=["resident.create", "resident.import"]).exists()


def test_errors_found_while_applying_also_roll_everything_back(world):
    # Both rows are well formed, but the household already has a head (world.a.resident).
    rows = [
        ["1", "1", "3", "301", "新户主", "", "", "", "", "户主", "", "", ""],
        ["1", "1", "4", "402", "吴七", "", "", "", "", "", "", "", ""],
    ]
    with pytest.raises(ImportRejectedError) as raised:
        run_import(world, csv_bytes(CHINESE, rows), name="r.csv")
    assert [(e.row, e.column) for e in raised.value.errors] == [(2, "relation")]
    assert not Resident.objects.filter(name__in=["新户主", "吴七"]).exists()


def test_duplicate_id_numbers_in_one_file_are_reported(world):
    number = make_id("19700101", "033")
    rows = [
        ["", "", "", "", "甲", "", "", number, "", "", "", "", ""],
        ["", "", "", "", "乙", "", "", number, "", "", "", "", ""],
    ]
    with pytest.raises(ImportRejectedError) as raised:
        run_import(world, csv_bytes(CHINESE, rows), name="r.csv")
    assert [(e.row, e.column) for e in raised.value.errors] == [(3, "id_number")]


def test_id_number_stored_as_a_number_by_excel_gets_a_clear_message(world):
    rows = [["", "", "", "", "甲", "", "", 1.10101199001011e17, "", "", "", "", ""]]
    with pytest.raises(ImportRejectedError) as raised:
        run_import(world, xlsx(CHINESE, rows))
    assert "text" in raised.value.errors[0].message


def test_missing_name_column_and_empty_file(world):
    with pytest.raises(ImportRejectedError) as raised:
        run_import(world, csv_bytes(["楼栋", "手机号"], [["1", "13800000000"]]), name="r.csv")
    assert {(e.row, e.column) for e in raised.value.errors} == {(1, "name"), (1, "building")}
    with pytest.raises(ImportRejectedError):
        run_import(world, b"", name="r.csv")
    with pytest.raises(ImportRejectedError):
        run_import(world, b"PK\x03\x04 not really a workbook", name="r.xlsx")


def test_existing_resident_is_updated_by_id_number(world):
    number = make_id("19450505", "041")
    existing = services.resident_create(
        actor=None, community=world.a.community, name="郑八", id_number=number, phone=""
    )
    rows = [["1", "1", "3", "301", "郑八", "", "", number, "13866667777", "父母", "需照护", "", ""]]
    result = run_import(world, csv_bytes(CHINESE, rows), name="r.csv")
    assert (result.created, result.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.phone == "13866667777"
    assert list(existing.tag_links.values_list("tag", flat=True)) == [ResidentTag.NEEDS_CARE]
    assert HouseholdMember.objects.get(resident=existing).household == world.a.household


def test_empty_relation_cell_keeps_the_stored_relation(world):
    number = make_id("19450505", "041")
    existing = services.resident_create(
        actor=None, community=world.a.community, name="郑八", id_number=number, phone=""
    )
    first = [["1", "1", "3", "301", "郑八", "", "", number, "", "父母", "", "", ""]]
    run_import(world, csv_bytes(CHINESE, first), name="r.csv")
    again = [["1", "1", "3", "301", "郑八", "", "", number, "", "", "", "", ""]]
    run_import(world, csv_bytes(CHINESE, again), name="r.csv")
    member = HouseholdMember.objects.get(resident=existing, until__isnull=True)
    assert member.relation == Relation.PARENT


def _export(
    world: Any, role: str = "community_admin", file_format: str = "xlsx"
) -> tuple[bytes, str, str]:
    user = world.user(role)
    scope = scope_for(user)
    residents = selectors.residents_list(scope, community_id=world.a.community.pk)
    return services.resident_export(
        actor=user,
        scope=scope,
        community=world.a.community,
        residents=residents,
        file_format=file_format,
    )


def _make_world_resident_valid(world: Any) -> None:
    # The shared world's ID number has a wrong check digit (as legacy data may).
    services.resident_update(
        actor=None, resident=world.a.resident, id_number=make_id("19900101", "123")
    )


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_export_then_import_round_trips(world, file_format, language):
    _make_world_resident_valid(world)
    run_import(world, xlsx(CHINESE, GOOD_ROWS))
    snapshot = sorted(
        (r.name, r.id_number, r.phone, r.gender, r.birth_date) for r in Resident.objects.all()
    )
    with translation.override(language):
        content, name, _type = _export(world, file_format=file_format)
        result = run_import(world, content, name=name)
    assert result.created == 0
    assert result.updated == 3
    assert result.households_created == 0
    after = sorted(
        (r.name, r.id_number, r.phone, r.gender, r.birth_date) for r in Resident.objects.all()
    )
    assert after == snapshot
    qian = Resident.objects.get(name="钱一")
    assert sorted(qian.tag_links.values_list("tag", flat=True)) == ["disabled", "living_alone"]
    assert EmergencyContact.objects.filter(resident=qian).count() == 1


def test_full_export_is_audited_and_masked_export_hides_numbers(world):
    content, name, _content_type = _export(world, file_format="csv")
    text = content.decode("utf-8-sig")
    assert name.endswith(".csv")
    assert "13812345678" in text
    event = AuditEvent.objects.get(action="resident.export")
    assert event.changes == {"rows": 1, "format": "csv", "masked": False}
    assert event.community_id == world.a.community.pk

    content, _name, _type = _export(world, role="operator", file_format="csv")
    text = content.decode("utf-8-sig")
    assert "13812345678" not in text
    assert "138****5678" in text
    assert "110101********1234" in text
    assert AuditEvent.objects.filter(action="resident.export").latest("seq").changes["masked"]


def test_masked_export_reimports_keeping_the_stored_numbers(world):
    content, name, _type = _export(world, role="operator", file_format="xlsx")
    result = run_import(world, content, name=name)
    assert result.updated == 1
    resident = Resident.objects.get(pk=world.a.resident.pk)
    assert resident.phone == "13812345678"
    assert resident.id_number == "110101199001011234"


def test_masked_number_for_a_new_resident_is_refused(world):
    rows = [["", "", "", "", "新人", "", "", "110101********1237", "", "", "", "", ""]]
    with pytest.raises(ImportRejectedError) as raised:
        run_import(world, csv_bytes(CHINESE, rows), name="r.csv")
    assert raised.value.errors[0].column == "id_number"


def test_formulas_are_not_exported_as_formulas(world):
    services.resident_update(actor=None, resident=world.a.resident, name="=HYPERLINK(1)")
    content, _name, _type = _export(world, file_format="csv")
    assert "'=HYPERLINK(1)" in content.decode("utf-8-sig")
    content, _name, _type = _export(world, file_format="xlsx")
    sheet: Any = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["E2"].data_type == "s"
    assert sheet["E2"].value == "=HYPERLINK(1)"


def test_template_has_the_headers_and_instructions():
    with translation.override("zh-hans"):
        workbook = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
    header = [cell.value for cell in workbook.worksheets[0][1]]
    assert header == CHINESE
    assert workbook.worksheets[0].max_row == 1
    assert len(workbook.worksheets) == 2


def test_new_households_need_the_manage_places_permission(world):
    rows = [["1", "1", "", "302", "网格新户", "", "", "", "", "", "", "", ""]]
    with pytest.raises(ImportRejectedError) as raised:
        services.resident_import(
            actor=world.user("grid_worker"),
            community=world.a.community,
            file_name="r.csv",
            content=csv_bytes(CHINESE, rows),
        )
    assert [(e.row, e.column) for e in raised.value.errors] == [(2, "building")]
    # Into an existing household a grid worker may import.
    rows = [["1", "1", "", "301", "网格新户", "", "", "", "", "子女", "", "", ""]]
    result = services.resident_import(
        actor=world.user("grid_worker"),
        community=world.a.community,
        file_name="r.csv",
        content=csv_bytes(CHINESE, rows),
    )
    assert result.created == 1
    assert AuditEvent.objects.filter(action="household.create").count() == 0


def test_places_rules_apply_to_created_households(world):
    # Building 1 has 6 floors.
    rows = [["1", "1", "", "901", "高楼层", "", "", "", "", "", "", "", ""]]
    with pytest.raises(ImportRejectedError) as raised:
        run_import(world, csv_bytes(CHINESE, rows), name="r.csv")
    assert [(e.row, e.column) for e in raised.value.errors] == [(2, "floor")]

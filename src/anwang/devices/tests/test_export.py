"""Devices export and import template: files that import again, the list's filters, scoping."""

import csv
import io

import openpyxl
import pytest
from django.utils import timezone, translation

from anwang.devices import services
from anwang.devices.importing import DEVICES
from anwang.devices.models import Device

pytestmark = pytest.mark.django_db

FIELDS = ("name", "kind", "protocol", "source_id", "latitude", "longitude", "heartbeat_seconds")


@pytest.fixture
def devices(world):
    """Three devices of community A (one retired, one in a zone with health) and one of B."""
    community = world.a.community
    gate = services.device_create(
        actor=None,
        community=community,
        name="北门摄像头",
        kind="camera",
        protocol="frigate",
        source_id="north_gate",
        zone=world.a.zone,
        latitude=30.5,
        longitude=114.3,
        heartbeat_seconds=60,
        note="=cmd|' /C calc'!A0",
    )
    Device.objects.filter(pk=gate.pk).update(
        status="online", battery=87, last_seen_at=timezone.now()
    )
    services.device_create(
        actor=None,
        community=community,
        name="1F smoke",
        kind="smoke",
        protocol="zigbee2mqtt",
        source_id="1F/smoke",
    )
    old = services.device_create(
        actor=None,
        community=community,
        name="old reader",
        kind="access_reader",
        protocol="hikvision",
        source_id="DS-K1T-1",
    )
    services.device_retire(actor=None, device=old)
    services.device_create(
        actor=None,
        community=world.b.community,
        name="B camera",
        kind="camera",
        protocol="frigate",
        source_id="b_gate",
    )
    return community


def rows_of(response) -> list[list[str]]:
    """The rows (header first) of an exported .csv or .xlsx."""
    content = response.content
    if content.startswith(b"PK"):
        sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
        return [[str(cell or "") for cell in row] for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def described(community) -> list[tuple[object, ...]]:
    """What defines the devices of a community, in a comparable form."""
    return sorted(
        (*(getattr(d, f) for f in FIELDS), d.zone.name if d.zone else "", d.note)
        for d in Device.objects.filter(community=community, retired_at__isnull=True)
    )


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_imports_into_another_community_unchanged(world, client_for, devices, file_format):
    response = client_for("community_admin").get(f"/devices/export/?format={file_format}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="devices-a-')
    rows = rows_of(response)
    assert rows[0][: len(DEVICES.importable)] == [c.english for c in DEVICES.importable]
    assert rows[0][len(DEVICES.importable) :] == ["Status", "Last seen", "Battery (%)"]
    gate = next(row for row in rows if row[0] == "北门摄像头")
    assert gate[1:4] == ["Camera", "Frigate", "north_gate"]
    assert gate[-3] == "Online"
    assert gate[-2]
    assert gate[-1] == "87"
    # Retired devices only when the list includes them.
    assert "old reader" not in {row[0] for row in rows}
    assert "B camera" not in {row[0] for row in rows}
    # Community B has a zone of the same name, which the zone column finds.
    created = services.device_import(
        actor=world.user("community_admin", "b"),
        community=world.b.community,
        file_name=f"devices.{file_format}",
        content=response.content,
    )
    assert len(created) == 2
    mine = described(world.a.community)
    theirs = [row for row in described(world.b.community) if row[3] != "b_gate"]
    assert theirs == mine


def test_csv_cells_are_not_formulas(client_for, devices):
    text = client_for("community_admin").get("/devices/export/?format=csv").content
    assert "'=cmd|" in text.decode("utf-8-sig")
    xlsx = client_for("community_admin").get("/devices/export/?format=xlsx").content
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
    notes = [cell for cell in sheet["J"] if cell.value and str(cell.value).startswith("=")]
    assert notes
    assert all(cell.data_type == "s" for cell in notes)


def test_export_honours_the_list_filters(client_for, devices):
    client = client_for("community_admin")
    only_smoke = rows_of(client.get("/devices/export/?format=csv&kind=smoke"))
    assert [row[0] for row in only_smoke[1:]] == ["1F smoke"]
    searched = rows_of(client.get("/devices/export/?format=csv&q=north"))
    assert [row[0] for row in searched[1:]] == ["北门摄像头"]
    with_retired = rows_of(client.get("/devices/export/?format=csv&retired=yes"))
    retired = next(row for row in with_retired if row[0] == "old reader")
    assert retired[-3] == "Retired"
    page = client.get("/devices/?kind=smoke&retired=yes&page=2").text
    assert "/devices/export/?format=csv&amp;kind=smoke&amp;retired=yes" in page
    assert client.get("/devices/export/?format=pdf").status_code == 404


def test_export_is_scoped(world, client_for, devices):
    b_admin = client_for("community_admin", "b")
    names = {row[0] for row in rows_of(b_admin.get("/devices/export/?format=csv"))}
    assert names == {"Name", "B camera"}
    assert client_for("resident").get("/devices/export/?format=csv").status_code == 403


def test_export_query_count_does_not_grow_with_devices(
    world, client_for, devices, django_assert_max_num_queries
):
    client = client_for("community_admin")
    for number in range(30):
        services.device_create(
            actor=None,
            community=world.a.community,
            name=f"sensor {number}",
            kind="motion",
            protocol="zigbee2mqtt",
            source_id=f"motion/{number}",
            zone=world.a.zone,
        )
    with django_assert_max_num_queries(12):
        response = client.get("/devices/export/?format=xlsx")
    assert len(rows_of(response)) == 33


def api_get(world, path: str, role: str = "community_admin", side: str = "a"):
    return world.client_for(role, side).get(f"/api/v1{path}")


def test_api_export_with_filters_and_scope(world, devices):
    response = api_get(world, "/devices/export?format=csv&kind=camera")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert [row[0] for row in rows_of(response)[1:]] == ["北门摄像头"]
    with_retired = api_get(world, "/devices/export?format=xlsx&include_retired=true")
    assert "old reader" in {row[0] for row in rows_of(with_retired)}
    other = api_get(world, f"/devices/export?community_id={world.b.community.pk}")
    assert other.status_code == 404
    assert api_get(world, "/devices/export", role="resident").status_code == 403


def test_template_downloads_and_imports_its_example_row(world, client_for):
    client = client_for("community_admin")
    client.cookies["anwang_language"] = "zh-hans"
    response = client.get("/devices/import-template.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet, notes = workbook.worksheets
    assert [cell.value for cell in sheet[1]] == [c.chinese for c in DEVICES.importable]
    assert sheet.max_row == 2
    text = " ".join(str(cell.value) for row in notes.iter_rows() for cell in row if cell.value)
    assert "(access_reader)" in text
    assert "(hikvision)" in text
    created = services.device_import(
        actor=world.user("community_admin"),
        community=world.a.community,
        file_name="template.xlsx",
        content=response.content,
    )
    assert [(d.kind, d.protocol, d.source_id) for d in created] == [
        ("camera", "frigate", "north_gate")
    ]
    english = client_for("community_admin").get("/devices/import-template.xlsx")
    header = next(openpyxl.load_workbook(io.BytesIO(english.content)).worksheets[0].rows)
    assert [cell.value for cell in header][:2] == ["Name", "Kind"]
    assert client_for("resident").get("/devices/import-template.xlsx").status_code == 403
    import_page = client.get("/devices/import/").text
    assert "/devices/import-template.xlsx" in import_page


def test_template_in_english_lists_allowed_values():
    with translation.override("en"):
        notes = openpyxl.load_workbook(io.BytesIO(DEVICES.template_xlsx())).worksheets[1]
    rows = {row[0]: row for row in notes.iter_rows(values_only=True)}
    assert "Smoke detector (smoke)" in str(rows["Kind"][2])
    assert "Anwang JSON (anwang)" in str(rows["Protocol"][2])

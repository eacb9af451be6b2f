"""Devices import: headers in Chinese or English, all or nothing, row and column errors."""

import io

import openpyxl
import pytest

from anwang.core.tables import ImportRejectedError
from anwang.devices import services
from anwang.devices.models import Device

pytestmark = pytest.mark.django_db


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


def run(world, content: bytes, file_name: str = "devices.csv"):
    return services.device_import(
        actor=world.user("community_admin"),
        community=world.a.community,
        file_name=file_name,
        content=content,
    )


def test_chinese_headers_and_labels(world):
    content = csv_bytes(
        "名称,类型,协议,来源标识,区域,纬度,经度,心跳秒数\n"
        "北门摄像头,camera,frigate,north_gate,北门,30.5,114.3,60\n"
        "1楼烟感,Smoke detector,Zigbee2MQTT,1F/smoke,,,,\n"
    )
    created = run(world, content)
    assert len(created) == 2
    gate = Device.objects.get(source_id="north_gate")
    assert gate.zone == world.a.zone
    assert gate.heartbeat_seconds == 60
    assert gate.latitude == 30.5
    smoke = Device.objects.get(source_id="1F/smoke")
    assert smoke.kind == "smoke"
    assert smoke.heartbeat_seconds == 600


def test_xlsx(world):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Kind", "Protocol", "Source ID", "Zone", "Latitude", "Longitude"])
    sheet.append(["Reader", "access_reader", "hikvision", "DS-K1T-123", "北门", 30.5, 114.3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    created = run(world, buffer.getvalue(), "devices.xlsx")
    assert [device.source_id for device in created] == ["DS-K1T-123"]


def test_any_bad_row_imports_nothing(world):
    services.device_create(
        actor=None,
        community=world.a.community,
        name="existing",
        kind="camera",
        protocol="frigate",
        source_id="taken",
    )
    content = csv_bytes(
        "name,kind,protocol,source_id,zone,latitude,longitude\n"
        "ok,camera,frigate,fine,,,\n"
        "bad kind,toaster,frigate,x1,,,\n"
        "bad zone,camera,frigate,x2,nowhere,,\n"
        "taken,camera,frigate,taken,,,\n"
        "dup a,camera,frigate,twice,,,\n"
        "dup b,camera,frigate,twice,,,\n"
        "half,camera,frigate,x3,,30.5,\n"
    )
    with pytest.raises(ImportRejectedError) as caught:
        run(world, content)
    found = {(error.row, error.column) for error in caught.value.errors}
    assert found == {
        (3, "kind"),
        (4, "zone"),
        (5, "source_id"),
        (7, "source_id"),
        (8, "longitude"),
    }
    assert list(Device.objects.values_list("source_id", flat=True)) == ["taken"]


def test_missing_required_column(world):
    with pytest.raises(ImportRejectedError) as caught:
        run(world, csv_bytes("name,kind\nx,camera\n"))
    assert {error.column for error in caught.value.errors} == {"protocol", "source_id"}

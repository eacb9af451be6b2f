"""Device selectors: scoping, dashboard figures, admin pages."""

import pytest

from anwang.accounts.selectors import scope_for
from anwang.devices import selectors, services
from anwang.devices.models import Device

pytestmark = pytest.mark.django_db


def test_dashboard_counts_devices_in_service_and_offline(world):
    for number in range(3):
        services.device_create(
            actor=None,
            community=world.a.community,
            name=f"d{number}",
            kind="smoke",
            protocol="zigbee2mqtt",
            source_id=f"d{number}",
        )
    Device.objects.filter(source_id="d0").update(status="offline")
    services.device_retire(actor=None, device=Device.objects.get(source_id="d2"))
    stats = {s.key: s for s in selectors.device_stats(scope_for(world.user("guard")), None)}
    assert stats["devices"].value == 2
    assert stats["devices_offline"].value == 1
    assert stats["devices_offline"].tone == "warn"
    assert selectors.device_stats(scope_for(world.user("resident")), None) == []
    other = selectors.device_stats(scope_for(world.user("community_admin", "b")), None)
    assert {s.key: s.value for s in other} == {"devices": 0, "devices_offline": 0}


def test_admin_pages_load(world, client):
    services.device_create(
        actor=None,
        community=world.a.community,
        name="cam",
        kind="camera",
        protocol="frigate",
        source_id="cam",
    )
    client.force_login(world.platform_admin)
    assert client.get("/admin/devices/device/").status_code == 200
    assert client.get("/admin/devices/devicecredential/").status_code == 200

"""The demo community: a realistic, reproducible plan, seeded once, served by `anwang demo`."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from anwang.core import geo
from anwang.demo.names import MOBILE_PREFIXES, id_number_valid
from anwang.demo.plan import ELDERLY_AGE, ID_REGION, DevicePlan, build_plan
from anwang.events.adapters.base import InboundMessage, Transport
from tests.cli_support import cli_env, run_cli, start_cli

PLAN = build_plan()
CUIYUAN, WENHUA = PLAN.communities


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """Argon2 costs seconds per login under a loaded machine; these tests never check it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- the plan (no database) ------------------------------------------------------------------


def test_plan_is_reproducible():
    again = build_plan()
    assert again == PLAN
    assert [p.name for p in again.communities[0].residents()] == [
        p.name for p in CUIYUAN.residents()
    ]
    other = build_plan(seed=7)
    assert [p.name for p in other.communities[0].residents()[:50]] != [
        p.name for p in CUIYUAN.residents()[:50]
    ]


def test_plan_has_the_expected_shape():
    assert PLAN.region_name == "东湖街道"
    assert CUIYUAN.name == "翠苑社区"
    assert WENHUA.name == "文华社区"
    assert len(CUIYUAN.buildings) == 12
    assert len(CUIYUAN.grids) == 4
    assert len(CUIYUAN.households) == 12 * 2 * 6 * 4
    assert 1400 <= len(CUIYUAN.residents()) <= 1700
    assert len(WENHUA.residents()) < len(CUIYUAN.residents()) / 5
    zones = {zone.name: zone for zone in CUIYUAN.zones}
    for name in ("南门", "北门", "地下车库", "儿童游乐场", "河岸步道"):
        assert zones[name].is_key_area, name
    assert not zones["中心广场"].is_key_area
    assert not zones["地面停车场"].is_key_area
    sheds = [zone for zone in CUIYUAN.zones if zone.kind == "bike_shed"]
    assert len(sheds) == 2
    assert all(shed.is_key_area for shed in sheds)


def test_geometry_is_near_hangzhou_and_inside_the_boundary():
    ring = CUIYUAN.boundary["coordinates"][0]
    assert ring[0] == ring[-1]
    lons = [point[0] for point in ring]
    lats = [point[1] for point in ring]
    assert 120.12 < min(lons) < max(lons) < 120.14
    assert 30.27 < min(lats) < max(lats) < 30.29
    for building in CUIYUAN.buildings:
        for lon, lat in building.footprint["coordinates"][0]:
            assert min(lons) <= lon <= max(lons)
            assert min(lats) <= lat <= max(lats)


def test_people_have_valid_identity_numbers_and_phones():
    people = [p for c in PLAN.communities for p in c.residents()]
    ids = [p.id_number for p in people]
    assert len(set(ids)) == len(ids)
    for person in people:
        assert id_number_valid(person.id_number), person
        assert person.id_number.startswith(ID_REGION)
        assert person.id_number[6:14] == person.birth_date.strftime("%Y%m%d")
        assert (int(person.id_number[16]) % 2 == 1) == (person.gender == "male")
        assert 2 <= len(person.name) <= 4
    phones = [p.phone for p in people if p.phone]
    phones += [c.phone for p in people for c in p.contacts]
    assert len(set(phones)) == len(phones)
    assert all(len(phone) == 11 and phone[:3] in MOBILE_PREFIXES for phone in phones)


def test_tags_follow_ages_and_households():
    residents = CUIYUAN.residents()
    for household in CUIYUAN.households:
        for person in household.members:
            tags = set(person.tags)
            assert ("child" in tags) == (person.age() < 18)
            assert ("tenant" in tags) == household.is_rented
            if "living_alone" in tags:
                assert len(household.members) == 1
                assert person.age() >= ELDERLY_AGE
            if person.age() >= ELDERLY_AGE:
                assert person.contacts, person
    alone = sum(1 for p in residents if "living_alone" in p.tags)
    assert 0.02 <= alone / len(residents) <= 0.05
    counts = Counter(tag for p in residents for tag in p.tags)
    assert counts["disabled"] > 0
    assert counts["needs_care"] > 0


def _devices(protocol: str) -> list[DevicePlan]:
    return [d for c in PLAN.communities for d in c.devices if d.protocol == protocol]


def test_devices_are_what_a_real_installation_has():
    kinds = Counter((d.protocol, d.kind) for d in CUIYUAN.devices)
    assert 60 <= len(CUIYUAN.devices) <= 90
    entrances = sum(b.units for b in CUIYUAN.buildings)
    assert kinds["zigbee2mqtt", "smoke"] >= entrances
    assert kinds["zigbee2mqtt", "contact"] == entrances
    assert kinds["zigbee2mqtt", "water_leak"] >= 1
    assert kinds["zigbee2mqtt", "gas"] >= 1
    assert kinds["zigbee2mqtt", "panic_button"] >= 1
    assert kinds["hikvision", "access_reader"] >= 3
    assert kinds["zigbee2mqtt", "gateway"] == kinds["hikvision", "gateway"] == 1
    names = [d.name for d in CUIYUAN.devices]
    assert len(set(names)) == len(names)
    assert "3号楼1单元 烟感" in names
    assert "北门 摄像机" in names
    assert "北门 门禁" in names
    # Every key area and every gate is watched by a Frigate camera linked to it.
    watched = {d.zone for d in CUIYUAN.devices if d.kind == "camera" and d.protocol == "frigate"}
    for zone in CUIYUAN.zones:
        if zone.is_key_area or zone.kind == "gate":
            assert zone.name in watched, zone.name
    gates = {zone.name for zone in CUIYUAN.zones if zone.kind == "gate"}
    assert gates <= {d.zone for d in CUIYUAN.devices if d.kind == "access_reader"}
    assert all(d.heartbeat_seconds >= 0 for d in CUIYUAN.devices)
    assert {d.heartbeat_seconds for d in CUIYUAN.devices if d.kind == "smoke"} == {3600}
    # The neighbour has a handful, so scoping shows on the devices page and the map.
    assert 5 <= len(WENHUA.devices) <= 10


def test_device_source_ids_are_unique_and_in_their_adapters_format():
    for community in PLAN.communities:
        keys = [(d.protocol, d.source_id) for d in community.devices]
        assert len(set(keys)) == len(keys), community.name
    # Unique across the demo too: a message on the shared broker names no community.
    for protocol in ("zigbee2mqtt", "frigate", "hikvision"):
        ids = [d.source_id for d in _devices(protocol)]
        assert len(set(ids)) == len(ids), protocol
    for camera in _devices("frigate"):
        assert re.fullmatch(r"[a-z0-9_]+", camera.source_id), camera
    for reader in _devices("hikvision"):
        assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", reader.source_id), reader


def _message(topic: str, payload: bytes, transport: Transport = "mqtt") -> InboundMessage:
    return InboundMessage(
        transport=transport,
        topic=topic,
        payload=payload,
        received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def test_adapters_name_the_demo_devices_by_their_source_ids():
    from anwang.events.adapters.frigate import AVAILABILITY_SOURCE, FrigateAdapter
    from anwang.events.adapters.hikvision import HikvisionAdapter
    from anwang.events.adapters.zigbee2mqtt import Zigbee2MqttAdapter

    zigbee = Zigbee2MqttAdapter()
    known = [d.source_id for d in _devices("zigbee2mqtt")]
    for name in known:
        assert name.isascii()
        state = zigbee.parse(
            _message(f"zigbee2mqtt/{name}", b'{"tamper": false}'), known_source_ids=known
        )
        assert state
        assert {o.source_id for o in state} == {name}
        online = zigbee.parse(
            _message(f"zigbee2mqtt/{name}/availability", b'{"state": "online"}'),
            known_source_ids=known,
        )
        assert [o.source_id for o in online] == [name]
        assert (
            zigbee.parse(_message(f"zigbee2mqtt/{name}/set", b"{}"), known_source_ids=known) == []
        )

    fixture = Path(__file__).parent / "fixtures/payloads/hikvision/access_face_employee_string.json"
    alert = json.loads(fixture.read_text())
    hikvision = HikvisionAdapter()
    for reader in _devices("hikvision"):
        alert["macAddress"] = reader.source_id
        body = json.dumps(alert).encode()
        observed = hikvision.parse(_message("hikvision", body, "http"), known_source_ids=())
        assert {o.source_id for o in observed} == {reader.source_id}

    available = FrigateAdapter().parse(_message("frigate/available", b"online"))
    assert [o.source_id for o in available] == [AVAILABILITY_SOURCE]
    assert AVAILABILITY_SOURCE in {d.source_id for d in CUIYUAN.devices if d.kind == "gateway"}


def _near(box: geo.BBox, lon: float, lat: float, metres: float) -> bool:
    # Degrees per metre at Hangzhou's latitude, generously rounded.
    dlon, dlat = metres / 96_000, metres / 110_000
    west, south, east, north = box
    return west - dlon <= lon <= east + dlon and south - dlat <= lat <= north + dlat


def test_devices_sit_inside_the_community_near_what_they_belong_to():
    for community in PLAN.communities:
        zones = {zone.name: zone for zone in community.zones}
        buildings = {b.name: b for b in community.buildings}
        for device in community.devices:
            point = (device.longitude, device.latitude)
            assert geo.contains(community.boundary, point), device
            if device.zone is not None:
                assert geo.contains(zones[device.zone].geometry, point), device
            building = buildings.get(device.name.split("号楼", 1)[0] + "号楼")
            if building is not None:
                assert _near(geo.bbox(building.footprint), *point, metres=5), device


# --- seeding ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_writes_the_demo_once(fast_passwords, django_assert_max_num_queries):
    from django.contrib.auth import authenticate

    from anwang.accounts.choices import Role
    from anwang.accounts.models import Membership, User
    from anwang.audit.models import AuditEvent
    from anwang.audit.selectors import audit_chain_verify
    from anwang.core.crypto import blind_index
    from anwang.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
    from anwang.devices.models import Device
    from anwang.people.models import HouseholdBinding, Resident, ResidentTagLink
    from anwang.places.models import Community, Grid, Household, Zone

    started = time.monotonic()
    result = seed_demo()
    elapsed = time.monotonic() - started
    assert result.created
    assert elapsed < 20, f"seeding took {elapsed:.1f}s"

    cuiyuan = Community.objects.get(slug="cuiyuan")
    assert Household.objects.filter(community=cuiyuan).count() == 576
    residents = Resident.objects.filter(community=cuiyuan)
    assert residents.count() == len(CUIYUAN.residents())
    # Reproducible into the database too: the same people in the same order.
    assert list(residents.order_by("id").values_list("name", flat=True)) == [
        p.name for p in CUIYUAN.residents()
    ]
    first = residents.order_by("id").first()
    assert first is not None
    assert first.id_number == CUIYUAN.residents()[0].id_number
    assert first.id_number_index == blind_index(first.id_number)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM people_resident WHERE id = %s", [first.pk])
        stored = cursor.fetchone()[0]
    assert first.id_number not in stored  # encrypted at rest
    assert Zone.objects.filter(community=cuiyuan, is_key_area=True).count() == 7
    assert ResidentTagLink.objects.filter(resident__community=cuiyuan, tag="living_alone").exists()
    assert Community.objects.filter(slug="wenhua", region=cuiyuan.region).exists()
    devices = Device.objects.filter(community=cuiyuan)
    assert devices.count() == len(CUIYUAN.devices)
    assert Device.objects.filter(community__slug="wenhua").count() == len(WENHUA.devices)
    assert sorted(devices.values_list("protocol", "source_id")) == sorted(
        (d.protocol, d.source_id) for d in CUIYUAN.devices
    )
    planned_zones = {d.source_id: d.zone for d in CUIYUAN.devices}
    for device in devices.select_related("zone"):
        assert (device.zone.name if device.zone else None) == planned_zones[device.source_id]
        assert device.zone is None or device.zone.community_id == cuiyuan.pk
        assert device.latitude is not None
        assert device.longitude is not None
    camera = devices.get(protocol="frigate", source_id="gate_north")
    assert (camera.name, camera.kind, camera.heartbeat_seconds) == ("北门 摄像机", "camera", 0)

    for account in DEMO_ACCOUNTS:
        user = authenticate(username=account.username, password=DEMO_PASSWORD)
        assert user is not None, account.username
        if account.role is None:
            assert user.is_superuser
        elif account.role == Role.SUPERVISOR:
            assert Membership.objects.filter(user=user, region=cuiyuan.region).exists()
        else:
            assert Membership.objects.get(user=user).community == cuiyuan
    resident_user = User.objects.get(username="resident")
    binding = HouseholdBinding.objects.get(user=resident_user)
    assert binding.status == "approved"
    assert binding.resident is not None
    assert binding.resident.user == resident_user
    assert binding.household.members.filter(resident=binding.resident).exists()
    assert Grid.objects.get(grid_worker__username="gridworker").community == cuiyuan

    seeded = AuditEvent.objects.get(action="demo.seed")
    assert seeded.action == "demo.seed"
    assert seeded.changes["counts"]["residents"] == Resident.objects.count()
    assert seeded.changes["counts"]["devices"] == Device.objects.count()
    assert audit_chain_verify().ok

    # The first seed recorded itself and what it made through the services (inspection
    # checklists, the plan, safety alerts, access points, credentials, visitor passes).
    assert AuditEvent.objects.filter(action="demo.seed").count() == 1
    assert AuditEvent.objects.filter(action="alert.publish").count() == 3
    audited = AuditEvent.objects.count()
    with django_assert_max_num_queries(3):
        again = seed_demo()
    assert not again.created
    assert Resident.objects.count() == result.counts["residents"]
    # Seeding again writes nothing, not even to the audit log.
    assert AuditEvent.objects.count() == audited


@pytest.mark.django_db
def test_the_demo_has_patrols_training_and_a_drill(fast_passwords):
    from anwang.accounts.models import User
    from anwang.demo.seed import seed_demo
    from anwang.patrols.models import Checkpoint, PatrolRoute
    from anwang.patrols.services import checkpoint_code_verify
    from anwang.places.models import Community
    from anwang.training.choices import TrainingState
    from anwang.training.models import Drill, TrainingSession
    from anwang.training.selectors import training_status_for

    result = seed_demo()
    cuiyuan = Community.objects.get(slug="cuiyuan")
    checkpoints = Checkpoint.objects.filter(community=cuiyuan)
    # Every key area has a checkpoint, and so do the first buildings' entrances.
    assert checkpoints.filter(placement="zone").count() == 7
    assert checkpoints.filter(placement="building").count() == 4
    assert result.counts["checkpoints"] == 11
    # The demo's checkpoint codes verify like any other.
    checkpoint = checkpoints.first()
    assert checkpoint is not None
    assert checkpoint_code_verify(community=cuiyuan, code=checkpoint.code) == checkpoint
    routes = PatrolRoute.objects.filter(community=cuiyuan)
    assert routes.count() == 2
    assert all(route.checkpoints.exists() for route in routes)
    # The guard's first-aid certificate is about to expire; the operator's has lapsed.
    states = {
        row.course.topic: row.state
        for row in training_status_for(User.objects.get(username="guard"), cuiyuan)
    }
    assert states == {"fire_safety": TrainingState.CURRENT, "first_aid": TrainingState.EXPIRING}
    operator = training_status_for(User.objects.get(username="operator"), cuiyuan)
    assert [row.state for row in operator] == [TrainingState.CURRENT]
    assert TrainingSession.objects.filter(community=cuiyuan, status="scheduled").count() == 1
    drill = Drill.objects.get(community=cuiyuan)
    assert drill.findings.filter(closed_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_demo_devices_show_on_the_devices_page_and_the_map(fast_passwords):
    from django.test import Client

    from anwang.demo.seed import DEMO_PASSWORD, seed_demo
    from anwang.places.models import Community

    seed_demo()
    cuiyuan = Community.objects.get(slug="cuiyuan")
    wenhua = Community.objects.get(slug="wenhua")

    admin = Client()
    assert admin.login(username="admin", password=DEMO_PASSWORD)
    page = admin.get("/devices/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1号楼1单元 烟感" in html
    assert "b01/u1/smoke" in html
    assert "大门 摄像机" not in html  # 文华's, not the admin's community
    cameras = admin.get("/devices/", {"kind": "camera", "q": "北门"}).content.decode()
    assert "北门 摄像机" in cameras

    layer = admin.get("/devices/map.geojson").json()
    assert layer["type"] == "FeatureCollection"
    assert sorted(f["properties"]["name"] for f in layer["features"]) == sorted(
        d.name for d in CUIYUAN.devices
    )
    planned = {d.name: d for d in CUIYUAN.devices}
    for feature in layer["features"]:
        device = planned[feature["properties"]["name"]]
        assert feature["geometry"]["coordinates"] == [device.longitude, device.latitude]
        assert feature["properties"]["device_kind"] == device.kind
    assert admin.get("/devices/map.geojson", {"community": wenhua.pk}).status_code == 404

    supervisor = Client()
    assert supervisor.login(username="supervisor", password=DEMO_PASSWORD)
    neighbour = supervisor.get("/devices/map.geojson", {"community": wenhua.pk}).json()
    assert sorted(f["properties"]["name"] for f in neighbour["features"]) == sorted(
        d.name for d in WENHUA.devices
    )
    both = supervisor.get("/devices/map.geojson", {"community": cuiyuan.pk}).json()
    assert len(both["features"]) == len(CUIYUAN.devices)


@pytest.mark.django_db
def test_demo_is_not_mixed_into_a_database_in_use(fast_passwords, world):
    from anwang.demo.seed import DemoConflictError, seed_demo
    from anwang.places.models import Community

    with pytest.raises(DemoConflictError):
        seed_demo(only_if_empty=True)
    assert not Community.objects.filter(slug="cuiyuan").exists()


# --- the command -----------------------------------------------------------------------------


def test_demo_command_serves_and_stops_cleanly(tmp_path):
    env = cli_env(tmp_path / "home")
    demo = start_cli("demo", "--port", "0", env=env)
    try:
        url = demo.wait_for(r"(http://127\.0\.0\.1:\d+/)", timeout=180).group(1)
        demo.wait_for(r"Ctrl-C")
        for username in ("supervisor", "admin", "gridworker", "resident", "auditor", "root"):
            demo.wait_for(rf"\s{username}\s*$")
        with urllib.request.urlopen(url + "accounts/login/", timeout=30) as response:  # noqa: S310
            assert response.status == 200
            html = response.read().decode()
        assert 'lang="zh-hans"' in html
        from django.utils import translation

        with translation.override("zh-hans"):
            log_in = translation.gettext("Log in")
        assert log_in in html  # "登录" once the Chinese catalogue translates it
        with urllib.request.urlopen(url + "static/anwang/anwang.css", timeout=30) as css:  # noqa: S310
            assert css.status == 200
            assert b"--brand" in css.read()
        demo.process.send_signal(signal.SIGINT)
        assert demo.process.wait(timeout=30) == 0
    finally:
        demo.stop()
    output = demo.output()
    assert "Demo community created" in output
    # The event worker runs beside the web server, on a broker or saying it has none.
    assert "Event worker: MQTT" in output or "No MQTT broker reachable" in output
    assert "Traceback" not in output

    # The second start finds the demo and does not seed it again.
    again = start_cli("demo", "--port", "0", env=env)
    try:
        again.wait_for(r"already present")
        again.wait_for(r"http://127\.0\.0\.1:\d+/")
        again.process.send_signal(signal.SIGTERM)
        assert again.process.wait(timeout=30) == 0
    finally:
        again.stop()


def test_seed_demo_command_is_idempotent(tmp_path):
    env = cli_env(tmp_path / "home")
    first = run_cli("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "residents" in first.stdout
    second = run_cli("seed-demo", env=env)
    assert second.returncode == 0, second.stderr
    assert "already present" in second.stdout

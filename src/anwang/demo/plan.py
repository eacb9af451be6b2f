"""The demo community as plain data: a street office, two communities, buildings, households,
residents, key areas and devices, generated reproducibly from a seed without touching the
database.

:func:`build_plan` is pure; :mod:`anwang.demo.seed` writes a plan to the database.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from anwang.demo import names
from anwang.devices.choices import DeviceKind, Protocol
from anwang.people.choices import Gender, Relation, ResidentTag
from anwang.places.choices import ZoneKind

DEFAULT_SEED = 2026
# Ages are counted from a fixed day, so the same seed gives the same birth dates every year.
REFERENCE_DATE = dt.date(2026, 1, 1)
ID_REGION = "330106"  # 杭州市西湖区
ELDERLY_AGE = 60

Point = tuple[float, float]


@dataclass(frozen=True)
class ContactPlan:
    """An emergency contact of an elderly resident."""

    name: str
    relation: str
    phone: str


@dataclass(frozen=True)
class PersonPlan:
    """One resident."""

    name: str
    gender: str
    birth_date: dt.date
    id_number: str
    phone: str
    relation: str
    tags: tuple[str, ...] = ()
    consent: bool = False
    contacts: tuple[ContactPlan, ...] = ()

    def age(self) -> int:
        """Age in whole years on the reference date."""
        born = self.birth_date
        before_birthday = (REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day)
        return REFERENCE_DATE.year - born.year - int(before_birthday)


@dataclass(frozen=True)
class HouseholdPlan:
    """One dwelling and the people living in it (none if it stands empty)."""

    building: str
    unit: str
    floor: int
    number: str
    area_m2: Decimal
    is_rented: bool
    kind: str
    members: tuple[PersonPlan, ...]


@dataclass(frozen=True)
class BuildingPlan:
    """A residential building and its footprint."""

    number: str
    name: str
    grid: int
    floors: int
    units: int
    footprint: dict[str, Any]


@dataclass(frozen=True)
class GridPlan:
    """A grid (网格) and its boundary."""

    name: str
    code: str
    boundary: dict[str, Any]


@dataclass(frozen=True)
class ZonePlan:
    """A named area on the map."""

    name: str
    kind: str
    is_key_area: bool
    geometry: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class DevicePlan:
    """A device as installed: what it is, how its source names it, where it hangs."""

    name: str
    kind: str
    protocol: str
    source_id: str
    latitude: float
    longitude: float
    heartbeat_seconds: int
    zone: str | None = None
    note: str = ""
    building: str | None = None
    """The number of the building the device is in or on, if any."""


@dataclass(frozen=True)
class CommunityPlan:
    """One community with everything in it."""

    slug: str
    name: str
    address: str
    phone: str
    latitude: float
    longitude: float
    boundary: dict[str, Any]
    grids: tuple[GridPlan, ...]
    buildings: tuple[BuildingPlan, ...]
    households: tuple[HouseholdPlan, ...]
    zones: tuple[ZonePlan, ...]
    devices: tuple[DevicePlan, ...]

    def residents(self) -> list[PersonPlan]:
        """Every resident, household by household."""
        return [person for household in self.households for person in household.members]


@dataclass(frozen=True)
class DemoPlan:
    """The whole demo: one street office and its communities."""

    seed: int
    region_name: str
    region_code: str
    communities: tuple[CommunityPlan, ...]


@dataclass
class _Layout:
    """Converts metres east/north of a community's south-west corner to WGS84."""

    lon0: float
    lat0: float
    metres_per_degree_lon: float = field(init=False)
    metres_per_degree_lat: float = 110_574.0

    def __post_init__(self) -> None:
        self.metres_per_degree_lon = 111_320.0 * math.cos(math.radians(self.lat0))

    def point(self, x: float, y: float) -> list[float]:
        """A GeoJSON position (longitude, latitude) for a point in metres."""
        return [
            round(self.lon0 + x / self.metres_per_degree_lon, 6),
            round(self.lat0 + y / self.metres_per_degree_lat, 6),
        ]

    def polygon(self, points: list[Point]) -> dict[str, Any]:
        """A closed GeoJSON polygon, exterior ring anticlockwise as RFC 7946 asks."""
        ring = [self.point(x, y) for x, y in points]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
        """An axis-aligned rectangle."""
        return self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


class _People:
    """Draws residents while keeping ID and phone numbers unique across the demo."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()

    def birth_date(self, age: int) -> dt.date:
        """A birth date that makes the person ``age`` on the reference date."""
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age) - dt.timedelta(days=1)
        return latest - dt.timedelta(days=self.rng.randrange(0, 365))

    def phone(self) -> str:
        """A mobile number nobody else in the demo has."""
        number = names.mobile_number(self.rng)
        while number in self.phones:
            number = names.mobile_number(self.rng)
        self.phones.add(number)
        return number

    def person(
        self,
        *,
        age: int,
        male: bool,
        relation: Relation,
        surname: str | None = None,
        tenant: bool = False,
    ) -> PersonPlan:
        """One resident with a valid ID number and, from age 14, usually a phone."""
        rng = self.rng
        birth = self.birth_date(age)
        family = surname or names.pick_surname(rng)
        name = family + names.given_name(rng, male=male, birth_year=birth.year)
        id_number = names.id_number(rng, region=ID_REGION, birth_date=birth, male=male)
        while id_number in self.id_numbers:
            id_number = names.id_number(rng, region=ID_REGION, birth_date=birth, male=male)
        self.id_numbers.add(id_number)
        has_phone = age >= 14 and rng.random() < (0.75 if age >= 80 else 0.97)
        tags: list[str] = []
        if age < 18:
            tags.append(ResidentTag.CHILD.value)
        if tenant:
            tags.append(ResidentTag.TENANT.value)
        disabled = rng.random() < (0.06 if age >= 75 else 0.012)
        if disabled:
            tags.append(ResidentTag.DISABLED.value)
        if age >= 80 and (disabled or rng.random() < 0.35):
            tags.append(ResidentTag.NEEDS_CARE.value)
        contacts: tuple[ContactPlan, ...] = ()
        if age >= ELDERLY_AGE:
            # Children carry their father's surname: a woman's children usually not hers.
            contacts = self.contacts(surname=family if male else names.pick_surname(rng))
        return PersonPlan(
            name=name,
            gender=(Gender.MALE if male else Gender.FEMALE).value,
            birth_date=birth,
            id_number=id_number,
            phone=self.phone() if has_phone else "",
            relation=relation.value,
            tags=tuple(tags),
            consent=age >= 18 and rng.random() < 0.55,
            contacts=contacts,
        )

    def contacts(self, *, surname: str) -> tuple[ContactPlan, ...]:
        """One or two relatives to call for an elderly resident."""
        rng = self.rng
        found: list[ContactPlan] = []
        for _index in range(1 if rng.random() < 0.7 else 2):
            son = rng.random() < 0.5
            relation = (
                rng.choice(("儿子", "女儿", "侄子", "外甥女"))
                if found
                else ("儿子" if son else "女儿")
            )
            male = relation in {"儿子", "侄子"}
            name = surname + names.given_name(rng, male=male, birth_year=1975)
            found.append(ContactPlan(name=name, relation=relation, phone=self.phone()))
        return tuple(found)


# Household compositions of owner-occupied dwellings and how often each occurs (per cent).
_KINDS: tuple[tuple[str, int], ...] = (
    ("vacant", 6),
    ("elderly_alone", 9),
    ("elderly_couple", 12),
    ("single", 7),
    ("young_couple", 9),
    ("family", 22),
    ("two_children", 10),
    ("three_generations", 15),
    ("adult_child", 10),
)
RENTED_SHARE = 0.12


def _household_members(people: _People, kind: str) -> list[PersonPlan]:
    """The residents of one household of the given kind."""
    rng = people.rng
    if kind == "vacant":
        return []
    surname = names.pick_surname(rng)
    male_head = rng.random() < 0.72
    if kind == "elderly_alone":
        person = people.person(
            age=rng.randint(68, 93), male=rng.random() < 0.35, relation=Relation.HEAD
        )
        tags = (*person.tags, ResidentTag.LIVING_ALONE.value)
        # Consent matters most here: welfare checks need it, and most living alone give it.
        return [_replace(person, tags=tags, consent=rng.random() < 0.9)]
    if kind == "elderly_couple":
        age = rng.randint(62, 88)
        return [
            people.person(age=age, male=True, relation=Relation.HEAD, surname=surname),
            people.person(
                age=max(58, age - rng.randint(0, 5)), male=False, relation=Relation.SPOUSE
            ),
        ]
    if kind == "single":
        return [
            people.person(age=rng.randint(22, 45), male=rng.random() < 0.55, relation=Relation.HEAD)
        ]
    head_age = {
        "young_couple": rng.randint(25, 36),
        "family": rng.randint(28, 48),
        "two_children": rng.randint(32, 48),
        "three_generations": rng.randint(33, 50),
        "adult_child": rng.randint(48, 62),
    }[kind]
    spouse_age = max(22, head_age + rng.randint(-4, 3))
    members = [
        people.person(age=head_age, male=male_head, relation=Relation.HEAD, surname=surname),
        people.person(age=spouse_age, male=not male_head, relation=Relation.SPOUSE),
    ]
    mother_age = head_age if not male_head else spouse_age
    if kind in {"family", "two_children", "three_generations"}:
        children = 2 if kind == "two_children" else (1 if rng.random() < 0.7 else 2)
        for _index in range(children):
            age = max(0, min(mother_age - 22, rng.randint(0, 20)))
            members.append(
                people.person(
                    age=age, male=rng.random() < 0.52, relation=Relation.CHILD, surname=surname
                )
            )
    if kind == "adult_child":
        members.append(
            people.person(
                age=rng.randint(20, 30),
                male=rng.random() < 0.5,
                relation=Relation.CHILD,
                surname=surname,
            )
        )
    if kind == "three_generations":
        grandparent_age = head_age + rng.randint(24, 32)
        if rng.random() < 0.55:
            members.append(
                people.person(
                    age=grandparent_age, male=True, relation=Relation.PARENT, surname=surname
                )
            )
        members.append(
            people.person(
                age=grandparent_age - rng.randint(0, 4), male=False, relation=Relation.PARENT
            )
        )
    return members


def _rented_members(people: _People) -> tuple[str, list[PersonPlan]]:
    """Tenants: a young family, or two or three people sharing a flat."""
    rng = people.rng
    if rng.random() < 0.6:
        surname = names.pick_surname(rng)
        head_age = rng.randint(24, 40)
        members = [
            people.person(
                age=head_age, male=True, relation=Relation.HEAD, surname=surname, tenant=True
            ),
            people.person(
                age=max(22, head_age - rng.randint(0, 4)),
                male=False,
                relation=Relation.SPOUSE,
                tenant=True,
            ),
        ]
        if rng.random() < 0.45:
            members.append(
                people.person(
                    age=rng.randint(0, 10),
                    male=rng.random() < 0.5,
                    relation=Relation.CHILD,
                    surname=surname,
                    tenant=True,
                )
            )
        return "tenant_family", members
    sharing = 2 if rng.random() < 0.7 else 3
    members = [
        people.person(
            age=rng.randint(21, 35),
            male=rng.random() < 0.55,
            relation=Relation.HEAD if index == 0 else Relation.TENANT,
            tenant=True,
        )
        for index in range(sharing)
    ]
    return "shared_flat", members


def _replace(person: PersonPlan, **changes: Any) -> PersonPlan:
    """A copy of a person with some fields changed."""
    from dataclasses import replace

    return replace(person, **changes)


def _households(
    people: _People, buildings: tuple[BuildingPlan, ...], rooms_per_floor: int
) -> tuple[HouseholdPlan, ...]:
    """Every dwelling of the buildings with its residents."""
    rng = people.rng
    kinds = [kind for kind, _weight in _KINDS]
    weights = [weight for _kind, weight in _KINDS]
    households: list[HouseholdPlan] = []
    for building in buildings:
        for unit in range(1, building.units + 1):
            for floor in range(1, building.floors + 1):
                for room in range(1, rooms_per_floor + 1):
                    rented = rng.random() < RENTED_SHARE
                    if rented:
                        kind, members = _rented_members(people)
                    else:
                        kind = rng.choices(kinds, weights=weights, k=1)[0]
                        members = _household_members(people, kind)
                    # End flats are larger; floor areas follow the building's two plans.
                    base = 118 if room in {1, rooms_per_floor} else 89
                    area = Decimal(base + rng.randint(-6, 6)) + Decimal(rng.randint(0, 99)) / 100
                    households.append(
                        HouseholdPlan(
                            building=building.number,
                            unit=str(unit),
                            floor=floor,
                            number=f"{floor}{room:02d}",
                            area_m2=area,
                            is_rented=rented,
                            kind=kind,
                            members=tuple(members),
                        )
                    )
    return tuple(households)


# Battery Zigbee sensors (Aqara, Heiman) check in about hourly; mains-powered gas detectors and
# the coordinator publish only on change, Frigate only when it detects something, so those
# expect no heartbeat. Hikvision controllers post an ISAPI heartbeat to the listening host
# every minute, so five silent minutes mean trouble.
ZIGBEE_BATTERY_HEARTBEAT = 3600
HIKVISION_HEARTBEAT = 300
NO_HEARTBEAT = 0
# Organisationally unique identifiers registered to Hangzhou Hikvision Digital Technology.
HIKVISION_OUIS = ("44:19:b6", "c0:56:e3", "bc:ad:28", "4c:bd:8f", "a4:14:37", "28:57:be")
FRIGATE_SERVER_SOURCE = "frigate"  # what Frigate's own ``frigate/available`` reports as
ZIGBEE_COORDINATOR_NAME = "Coordinator"  # Zigbee2MQTT's friendly name for its coordinator


class _Macs:
    """Hikvision MAC addresses, unique across the demo."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def next(self) -> str:
        """A new address as the devices send it in ``macAddress`` (lowercase, colons), which
        the Hikvision adapter takes verbatim as the source identity."""
        while True:
            tail = "".join(f":{self.rng.randrange(256):02x}" for _octet in range(3))
            mac = self.rng.choice(HIKVISION_OUIS) + tail
            if mac not in self.used:
                self.used.add(mac)
                return mac


class _Devices:
    """Collects one community's devices, placed in metres on its layout."""

    def __init__(self, layout: _Layout, macs: _Macs) -> None:
        self.layout = layout
        self.macs = macs
        self.found: list[DevicePlan] = []

    def add(
        self,
        name: str,
        kind: DeviceKind,
        protocol: Protocol,
        source_id: str,
        at: Point,
        *,
        heartbeat: int,
        zone: str | None = None,
        note: str = "",
        building: str | None = None,
    ) -> None:
        """One device at ``at`` metres east/north of the community's corner."""
        longitude, latitude = self.layout.point(*at)
        self.found.append(
            DevicePlan(
                name=name,
                kind=kind.value,
                protocol=protocol.value,
                source_id=source_id,
                latitude=latitude,
                longitude=longitude,
                heartbeat_seconds=heartbeat,
                zone=zone,
                note=note,
                building=building,
            )
        )

    def zigbee(
        self,
        name: str,
        kind: DeviceKind,
        friendly_name: str,
        at: Point,
        *,
        zone: str | None = None,
        mains: bool = False,
        note: str = "",
        building: str | None = None,
    ) -> None:
        """A Zigbee2MQTT device under its friendly name."""
        heartbeat = NO_HEARTBEAT if mains else ZIGBEE_BATTERY_HEARTBEAT
        self.add(
            name,
            kind,
            Protocol.ZIGBEE2MQTT,
            friendly_name,
            at,
            heartbeat=heartbeat,
            zone=zone,
            note=note,
            building=building,
        )

    def camera(self, name: str, camera: str, at: Point, *, zone: str) -> None:
        """A camera under its Frigate camera name."""
        self.add(
            name,
            DeviceKind.CAMERA,
            Protocol.FRIGATE,
            camera,
            at,
            heartbeat=NO_HEARTBEAT,
            zone=zone,
        )

    def hikvision(
        self,
        name: str,
        kind: DeviceKind,
        at: Point,
        *,
        zone: str | None = None,
        note: str = "",
        building: str | None = None,
    ) -> None:
        """A Hikvision ISAPI device under its MAC address."""
        self.add(
            name,
            kind,
            Protocol.HIKVISION,
            self.macs.next(),
            at,
            heartbeat=HIKVISION_HEARTBEAT,
            zone=zone,
            note=note,
            building=building,
        )

    def plans(self) -> tuple[DevicePlan, ...]:
        """Everything added, in order."""
        return tuple(self.found)


# 翠苑's buildings: 60 x 14 m, two 30 m wide units each, entrances on the north side.
CUIYUAN_UNIT_WIDTH = 30.0
CUIYUAN_DEPTH = 14.0
# The first phase of the entrance retrofit put face-recognition readers on buildings 1-6.
CUIYUAN_READER_BUILDINGS = 6
CUIYUAN_GAS_BUILDINGS = ("2", "10")
SECURITY_OFFICE: Point = (245.0, 24.0)  # beside the south gate


def _cuiyuan_devices(
    layout: _Layout, macs: _Macs, origins: list[tuple[str, float, float]]
) -> tuple[DevicePlan, ...]:
    """What 翠苑 has installed: Zigbee sensors in the entrances, Frigate cameras on the key
    areas, Hikvision readers at the gates, and the security office's recorders."""
    devices = _Devices(layout, macs)
    for number, x, y in origins:
        tag = f"b{int(number):02d}"
        for unit in (1, 2):
            door_x = x + (unit - 0.5) * CUIYUAN_UNIT_WIDTH
            door_y = y + CUIYUAN_DEPTH
            where = f"{number}号楼{unit}单元"
            devices.zigbee(
                f"{where} 烟感",
                DeviceKind.SMOKE,
                f"{tag}/u{unit}/smoke",
                (door_x - 3, door_y - 3),
                building=number,
            )
            devices.zigbee(
                f"{where} 单元门磁",
                DeviceKind.CONTACT,
                f"{tag}/u{unit}/door",
                (door_x, door_y),
                building=number,
            )
            if int(number) <= CUIYUAN_READER_BUILDINGS:
                devices.hikvision(
                    f"{where} 门禁",
                    DeviceKind.ACCESS_READER,
                    (door_x + 1.5, door_y),
                    note="人脸识别门禁一体机（一期改造）",
                    building=number,
                )
        if number in CUIYUAN_GAS_BUILDINGS:
            devices.zigbee(
                f"{number}号楼 一楼燃气表间 燃气探测器",
                DeviceKind.GAS,
                f"{tag}/gas",
                (x + 3, y + 2),
                mains=True,
                building=number,
            )
    devices.camera("南门 人行通道 摄像机", "gate_south", (212, 15), zone="南门")
    devices.camera("南门 车行道 摄像机", "gate_south_vehicle", (228, 15), zone="南门")
    devices.hikvision("南门 人行门禁（进）", DeviceKind.ACCESS_READER, (210, 8), zone="南门")
    devices.hikvision("南门 人行门禁（出）", DeviceKind.ACCESS_READER, (213, 8), zone="南门")
    devices.zigbee(
        "南门门卫室 紧急按钮", DeviceKind.PANIC_BUTTON, "guard/south/panic", (232, 5), zone="南门"
    )
    devices.camera("北门 摄像机", "gate_north", (220, 313), zone="北门")
    devices.hikvision("北门 门禁", DeviceKind.ACCESS_READER, (218, 320), zone="北门")
    devices.zigbee(
        "北门门卫室 紧急按钮", DeviceKind.PANIC_BUTTON, "guard/north/panic", (232, 325), zone="北门"
    )
    devices.camera("地下车库 出入口 摄像机", "garage_ramp", (390, 110), zone="地下车库")
    devices.camera("地下车库 西区 摄像机", "garage_b1_west", (285, 110), zone="地下车库")
    devices.camera("地下车库 东区 摄像机", "garage_b1_east", (355, 110), zone="地下车库")
    devices.zigbee(
        "地下车库 水泵房 水浸",
        DeviceKind.WATER_LEAK,
        "garage/pump_room/leak",
        (255, 55),
        zone="地下车库",
    )
    devices.zigbee(
        "地下车库 集水井 水浸",
        DeviceKind.WATER_LEAK,
        "garage/sump/leak",
        (300, 52),
        zone="地下车库",
    )
    devices.camera("儿童游乐场 摄像机", "playground", (238, 214), zone="儿童游乐场")
    for index, (x, y0, y1) in enumerate(((120.0, 90.0, 135.0), (320.0, 180.0, 225.0)), start=1):
        shed = "非机动车棚（" + "一二"[index - 1] + "）"
        devices.camera(f"{shed} 摄像机", f"bike_shed_{index}", (x, y1 - 1), zone=shed)
        devices.zigbee(
            f"{shed} 烟感",
            DeviceKind.SMOKE,
            f"shed{index}/smoke",
            (x, (y0 + y1) / 2),
            zone=shed,
            note="电动自行车充电区",
        )
    devices.camera("河岸步道 南段 摄像机", "riverside_south", (21, 70), zone="河岸步道")
    devices.camera("河岸步道 北段 摄像机", "riverside_north", (21, 250), zone="河岸步道")
    devices.camera("中心广场 摄像机", "square", (244, 150), zone="中心广场")
    devices.camera("地面停车场 南 摄像机", "parking_south", (402, 42), zone="地面停车场")
    devices.camera("地面停车场 北 摄像机", "parking_north", (402, 288), zone="地面停车场")
    office_x, office_y = SECURITY_OFFICE
    devices.hikvision(
        "监控中心 硬盘录像机", DeviceKind.GATEWAY, (office_x, office_y), note="32 路 NVR"
    )
    devices.zigbee(
        "监控中心 Zigbee 协调器",
        DeviceKind.GATEWAY,
        ZIGBEE_COORDINATOR_NAME,
        (office_x + 1.5, office_y),
        mains=True,
    )
    devices.add(
        "监控中心 Frigate 服务器",
        DeviceKind.GATEWAY,
        Protocol.FRIGATE,
        FRIGATE_SERVER_SOURCE,
        (office_x + 3, office_y),
        heartbeat=NO_HEARTBEAT,
    )
    return devices.plans()


def _cuiyuan(people: _People, macs: _Macs) -> CommunityPlan:
    """翠苑社区: 12 six-storey buildings in four grids, with its key areas and devices."""
    layout = _Layout(lon0=120.1290, lat0=30.2770)
    boundary = layout.polygon([(0, 0), (440, 0), (452, 160), (436, 330), (8, 322), (-10, 150)])
    columns = (50.0, 130.0, 250.0, 330.0)
    rows = (60.0, 150.0, 240.0)
    buildings: list[BuildingPlan] = []
    origins: list[tuple[str, float, float]] = []
    for row_index, y in enumerate(rows):
        for column_index, x in enumerate(columns):
            number = str(row_index * len(columns) + column_index + 1)
            origins.append((number, x, y))
            buildings.append(
                BuildingPlan(
                    number=number,
                    name=f"{number}号楼",
                    grid=column_index,
                    floors=6,
                    units=2,
                    footprint=layout.rect(x, y, x + 2 * CUIYUAN_UNIT_WIDTH, y + CUIYUAN_DEPTH),
                )
            )
    grid_names = ("第一网格", "第二网格", "第三网格", "第四网格")
    grids = tuple(
        GridPlan(
            name=grid_name,
            code=f"G{index + 1}",
            boundary=layout.rect(columns[index] - 12, 40, columns[index] + 72, 275),
        )
        for index, grid_name in enumerate(grid_names)
    )
    zones = (
        ZonePlan("南门", ZoneKind.GATE, True, layout.rect(205, 0, 235, 16), "主出入口，人车分流"),
        ZonePlan("北门", ZoneKind.GATE, True, layout.rect(205, 312, 235, 328), "步行出入口"),
        ZonePlan("地面停车场", ZoneKind.PARKING, False, layout.rect(400, 40, 432, 290)),
        ZonePlan(
            "地下车库",
            ZoneKind.GARAGE,
            True,
            layout.rect(250, 50, 392, 170),
            "地下一层，出入口在东侧",
        ),
        ZonePlan("儿童游乐场", ZoneKind.PLAYGROUND, True, layout.rect(200, 212, 240, 252)),
        ZonePlan(
            "非机动车棚（一）",
            ZoneKind.BIKE_SHED,
            True,
            layout.rect(114, 90, 126, 135),
            "电动自行车集中停放充电，注意火灾风险",
        ),
        ZonePlan(
            "非机动车棚（二）",
            ZoneKind.BIKE_SHED,
            True,
            layout.rect(314, 180, 326, 225),
            "电动自行车集中停放充电，注意火灾风险",
        ),
        ZonePlan(
            "河岸步道", ZoneKind.RIVER_BANK, True, layout.rect(2, 20, 22, 305), "沿河，防溺水"
        ),
        ZonePlan("中心广场", ZoneKind.SQUARE, False, layout.rect(195, 110, 245, 190)),
    )
    building_plans = tuple(buildings)
    centre = layout.point(220, 165)
    return CommunityPlan(
        slug="cuiyuan",
        name="翠苑社区",
        address="杭州市西湖区东湖街道翠苑路88号",
        phone="0571-88880001",
        latitude=centre[1],
        longitude=centre[0],
        boundary=boundary,
        grids=grids,
        buildings=building_plans,
        households=_households(people, building_plans, rooms_per_floor=4),
        zones=zones,
        devices=_cuiyuan_devices(layout, macs, origins),
    )


def _wenhua_devices(layout: _Layout, macs: _Macs, origins: list[Point]) -> tuple[DevicePlan, ...]:
    """文华's few devices; names carry ``wh`` so none is taken for one of 翠苑's on the shared
    broker."""
    devices = _Devices(layout, macs)
    for index, (x, y) in enumerate(origins, start=1):
        devices.zigbee(
            f"{index}号楼1单元 烟感",
            DeviceKind.SMOKE,
            f"wh/b{index:02d}/u1/smoke",
            (x + 22, y + 9),
            building=str(index),
        )
    devices.camera("大门 摄像机", "wh_gate", (100, 11), zone="大门")
    devices.hikvision("大门 门禁", DeviceKind.ACCESS_READER, (95, 6), zone="大门")
    devices.camera("非机动车棚 摄像机", "wh_bike_shed", (16, 149), zone="非机动车棚")
    devices.zigbee(
        "非机动车棚 烟感",
        DeviceKind.SMOKE,
        "wh/shed/smoke",
        (16, 135),
        zone="非机动车棚",
        note="电动自行车充电区",
    )
    return devices.plans()


def _wenhua(people: _People, macs: _Macs) -> CommunityPlan:
    """文华社区: a smaller neighbour in the same street office."""
    layout = _Layout(lon0=120.1352, lat0=30.2785)
    boundary = layout.rect(0, 0, 200, 160)
    origins = [(30.0 + (index % 2) * 90, 40.0 + (index // 2) * 60) for index in range(4)]
    buildings = tuple(
        BuildingPlan(
            number=str(index + 1),
            name=f"{index + 1}号楼",
            grid=0,
            floors=6,
            units=1,
            footprint=layout.rect(x, y, x + 50, y + 12),
        )
        for index, (x, y) in enumerate(origins)
    )
    zones = (
        ZonePlan("大门", ZoneKind.GATE, True, layout.rect(90, 0, 110, 12)),
        ZonePlan(
            "非机动车棚",
            ZoneKind.BIKE_SHED,
            True,
            layout.rect(10, 120, 22, 150),
            "电动自行车集中停放充电，注意火灾风险",
        ),
    )
    centre = layout.point(100, 80)
    return CommunityPlan(
        slug="wenhua",
        name="文华社区",
        address="杭州市西湖区东湖街道文华路16号",
        phone="0571-88880002",
        latitude=centre[1],
        longitude=centre[0],
        boundary=boundary,
        grids=(GridPlan("文华网格", "G1", layout.rect(15, 30, 185, 130)),),
        buildings=buildings,
        households=_households(people, buildings, rooms_per_floor=2),
        zones=zones,
        devices=_wenhua_devices(layout, macs, origins),
    )


def build_plan(seed: int = DEFAULT_SEED) -> DemoPlan:
    """The demo as data; the same seed always gives the same plan."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    people = _People(rng)
    # Devices draw from their own generator, so adding one leaves every resident as it was.
    macs = _Macs(random.Random(f"{seed}:devices"))  # noqa: S311 - as above
    return DemoPlan(
        seed=seed,
        region_name="东湖街道",
        region_code="donghu",
        communities=(_cuiyuan(people, macs), _wenhua(people, macs)),
    )

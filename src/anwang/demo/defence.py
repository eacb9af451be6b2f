"""People defence in the demo community: patrol checkpoints and routes, training and a drill.

Written as rows (like the rest of the demo), dated around the day the demo is seeded, so the
pages show what a community a few months into using Anwang looks like: checkpoints at every key
area and at some building entrances, two night routes, courses with a held and an upcoming
session, certificates that are current, about to expire and lapsed, and a fire drill with its
findings.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone

from anwang.accounts.models import User
from anwang.patrols.choices import Placement
from anwang.patrols.models import Checkpoint, PatrolRoute, RouteStop
from anwang.places.models import Building, Community, Zone
from anwang.training.choices import (
    AttendanceMethod,
    CertificateSource,
    CourseTopic,
    DrillKind,
    DrillStatus,
    FindingSeverity,
    SessionStatus,
)
from anwang.training.models import (
    Attendance,
    Certificate,
    Course,
    Drill,
    DrillFinding,
    TrainingSession,
)

ENTRANCE_BUILDINGS = 4
"""Buildings (the first ones) with a checkpoint at their entrance besides the key areas."""


def seed_people_defence(
    *, community: Community, users: dict[str, User], now: dt.datetime
) -> dict[str, int]:
    """Checkpoints, routes, training and a drill of the demo community; the row counts."""
    checkpoints = _checkpoints(community, now)
    routes = _routes(community, checkpoints)
    courses, sessions, certificates = _training(community, users, now)
    drills = _drill(community, users, now)
    return {
        "checkpoints": len(checkpoints),
        "patrol_routes": routes,
        "courses": courses,
        "training_sessions": sessions,
        "certificates": certificates,
        "drills": drills,
    }


def _at(now: dt.datetime, days: int, hour: int, minute: int) -> dt.datetime:
    """A local time of day, ``days`` from ``now``'s day."""
    local = timezone.localtime(now) + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _checkpoints(community: Community, now: dt.datetime) -> list[Checkpoint]:
    zones = list(Zone.objects.filter(community=community, is_key_area=True).order_by("pk"))
    buildings = list(Building.objects.filter(community=community).order_by("pk"))
    rows = [
        Checkpoint(
            community=community,
            name=f"{zone.name}巡更点",
            placement=Placement.ZONE,
            zone=zone,
            code_salt=secrets.token_hex(16),
            code_issued_at=now,
        )
        for zone in zones
    ]
    rows += [
        Checkpoint(
            community=community,
            name=f"{building.name}单元门巡更点",
            placement=Placement.BUILDING,
            building=building,
            code_salt=secrets.token_hex(16),
            code_issued_at=now,
        )
        for building in buildings[:ENTRANCE_BUILDINGS]
    ]
    return Checkpoint.objects.bulk_create(rows)


def _routes(community: Community, checkpoints: list[Checkpoint]) -> int:
    key_areas = [c for c in checkpoints if c.placement == Placement.ZONE]
    entrances = [c for c in checkpoints if c.placement == Placement.BUILDING]
    plans = [
        ("夜间巡逻 重点区域", "每晚巡查全部重点区域：周界、配电房、地下车库等。", key_areas),
        ("楼栋巡查", "晚间巡查各楼栋单元门，确认门禁关闭、无堆物。", entrances + key_areas[:2]),
    ]
    for name, description, stops in plans:
        if not stops:
            continue
        route = PatrolRoute.objects.create(community=community, name=name, description=description)
        RouteStop.objects.bulk_create(
            RouteStop(
                route=route,
                checkpoint=checkpoint,
                order=order,
                dwell_seconds=60,
                max_gap_seconds=600,
            )
            for order, checkpoint in enumerate(stops, start=1)
        )
    return sum(1 for _name, _description, stops in plans if stops)


def _training(
    community: Community, users: dict[str, User], now: dt.datetime
) -> tuple[int, int, int]:
    fire = Course.objects.create(
        community=community,
        title="消防安全与灭火器使用",
        topic=CourseTopic.FIRE_SAFETY,
        description="火灾报警、初起火灾扑救、灭火器和消火栓的使用、疏散引导。",
        duration_minutes=90,
        validity_months=12,
        required_for_roles=["guard", "operator"],
    )
    first_aid = Course.objects.create(
        community=community,
        title="急救与AED使用",
        topic=CourseTopic.FIRST_AID,
        description="心肺复苏、AED、止血包扎，由社区卫生服务中心授课。",
        duration_minutes=120,
        validity_months=24,
        required_for_roles=["guard"],
    )
    Course.objects.create(
        community=community,
        title="防范电信网络诈骗",
        topic=CourseTopic.ANTI_FRAUD,
        description="常见骗局、识别方法、遇到诈骗如何报警，面向居民和志愿者。",
        duration_minutes=60,
    )
    held = TrainingSession.objects.create(
        community=community,
        course=fire,
        starts_at=_at(now, -40, 14, 0),
        ends_at=_at(now, -40, 15, 30),
        place="社区党群服务中心二楼会议室",
        trainer_name="区消防救援大队 刘教官",
        capacity=30,
        status=SessionStatus.HELD,
    )
    TrainingSession.objects.create(
        community=community,
        course=first_aid,
        starts_at=_at(now, 9, 14, 0),
        ends_at=_at(now, 9, 16, 0),
        place="社区卫生服务站",
        trainer_name="社区卫生服务中心 张医生",
        capacity=20,
        status=SessionStatus.SCHEDULED,
    )
    attendees = [users[name] for name in ("guard", "operator", "admin") if name in users]
    Attendance.objects.bulk_create(
        Attendance(
            session=held,
            user=user,
            method=AttendanceMethod.QR,
            recorded_at=held.starts_at + dt.timedelta(minutes=5),
        )
        for user in attendees
    )
    today = now.date()
    certificates = [
        Certificate(
            community=community,
            course=fire,
            user=user,
            session=held,
            source=CertificateSource.SESSION,
            issued_on=held.starts_at.date(),
            expires_on=held.starts_at.date() + dt.timedelta(days=365),
        )
        for user in attendees
    ]
    if "guard" in users:
        # The guard's first-aid certificate runs out in three weeks: the renewal reminder.
        certificates.append(
            Certificate(
                community=community,
                course=first_aid,
                user=users["guard"],
                source=CertificateSource.MANUAL,
                issued_on=today - dt.timedelta(days=710),
                expires_on=today + dt.timedelta(days=20),
                note="外部培训机构证书",
            )
        )
    if "operator" in users:
        certificates.append(
            Certificate(
                community=community,
                course=first_aid,
                user=users["operator"],
                source=CertificateSource.MANUAL,
                issued_on=today - dt.timedelta(days=800),
                expires_on=today - dt.timedelta(days=70),
            )
        )
    Certificate.objects.bulk_create(certificates)
    return 3, 2, len(certificates)


def _drill(community: Community, users: dict[str, User], now: dt.datetime) -> int:
    start = _at(now, -21, 9, 30)
    zone = Zone.objects.filter(community=community, is_key_area=True).order_by("pk").first()
    drill = Drill.objects.create(
        community=community,
        kind=DrillKind.FIRE_EVACUATION,
        title="3号楼消防疏散演练",
        zone=zone,
        planned_at=start,
        started_at=start,
        alarm_raised_at=start + dt.timedelta(minutes=1),
        evacuation_complete_at=start + dt.timedelta(minutes=7, seconds=40),
        headcount_done_at=start + dt.timedelta(minutes=11),
        ended_at=start + dt.timedelta(minutes=35),
        resident_count=86,
        status=DrillStatus.HELD,
        summary="3号楼全体住户参加，7分40秒完成疏散。",
    )
    drill.participants.set(
        [users[name] for name in ("guard", "operator", "volunteer", "admin") if name in users]
    )
    owner = users.get("admin")
    DrillFinding.objects.bulk_create(
        [
            DrillFinding(
                drill=drill,
                community=community,
                text="3单元楼梯间堆放电动车和纸箱，影响疏散。",
                severity=FindingSeverity.HIGH,
                owner=owner,
                deadline=(now + dt.timedelta(days=7)).date(),
            ),
            DrillFinding(
                drill=drill,
                community=community,
                text="部分老人不清楚集合点位置，需要在单元门张贴疏散图。",
                severity=FindingSeverity.MEDIUM,
                owner=owner,
                deadline=(now - dt.timedelta(days=3)).date(),
                closed_at=now - dt.timedelta(days=5),
            ),
        ]
    )
    return 1

"""Institutional defence in the demo community: who is on duty, who answers for which area,
emergency plans with their versions, and a fire drill worked to its after-action review.

Written as rows (like the rest of the demo), dated around the day the demo is seeded, so the
pages show a community in the middle of its life: every duty role covered now, one zone nobody
answers for yet (the gaps page has something to show), a fire plan in its second version with
the first kept for reference, a gas plan in force, a flooding plan still a draft, and the fire
plan's last drill with each step's time against its target.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from anwang.accounts.models import User
from anwang.core.geo import centroid
from anwang.facilities.choices import AssetType
from anwang.facilities.models import Asset
from anwang.incidents.choices import IncidentState, LogKind, TaskStatus
from anwang.incidents.models import (
    ActionItem,
    AfterActionReview,
    Incident,
    IncidentLogEntry,
    IncidentParticipant,
    IncidentTask,
)
from anwang.places.models import Building, Community, Zone
from anwang.plans.choices import IncidentType, VersionStatus
from anwang.plans.models import EmergencyPlan, PlanContact, PlanResource, PlanStep, PlanVersion
from anwang.responsibilities.choices import AreaKind
from anwang.responsibilities.models import Responsibility
from anwang.rosters.choices import DutyRole
from anwang.rosters.models import DutyPattern
from anwang.training.choices import DrillKind
from anwang.training.models import Drill

Step = tuple[str, str, DutyRole, int]
"""A plan step: title, instructions, duty role, minutes after the declaration."""

FIRE_STEPS_V1: tuple[Step, ...] = (
    ("确认火情并报警", "查看监控和现场，确认后立即拨打119。", DutyRole.OPERATOR, 2),
    ("通知值班领导", "电话通知值班领导，说明位置和火势。", DutyRole.OPERATOR, 3),
    ("携带灭火器到场处置", "就近取用灭火器，初起火灾立即扑救。", DutyRole.GUARD, 5),
    ("组织楼内人员疏散", "按疏散路线引导住户到中心广场集合。", DutyRole.GUARD, 10),
)
FIRE_STEPS_V2: tuple[Step, ...] = (
    ("确认火情并报警", "查看监控和现场，确认后立即拨打119。", DutyRole.OPERATOR, 2),
    ("通知值班领导", "电话通知值班领导，说明位置和火势。", DutyRole.OPERATOR, 3),
    ("携带灭火器到场处置", "就近取用灭火器，初起火灾立即扑救。", DutyRole.GUARD, 5),
    ("打开消防通道、引导消防车", "清理南门车辆，开启道闸，在路口引导消防车。", DutyRole.GUARD, 8),
    ("组织楼内人员疏散", "按疏散路线引导住户到中心广场集合，先照顾独居老人。", DutyRole.GUARD, 10),
    ("清点人数并上报", "在集合点按楼栋清点人数，向值班领导报告。", DutyRole.GRID_WORKER, 15),
    ("现场指挥与信息发布", "统一指挥，向街道报告，向居民说明情况。", DutyRole.ON_DUTY_LEADER, 20),
)
GAS_STEPS: tuple[Step, ...] = (
    ("确认泄漏位置", "根据燃气报警器定位，禁止开关电器和使用明火。", DutyRole.OPERATOR, 2),
    ("报燃气公司抢修", "拨打燃气抢修电话，说明楼栋和单元。", DutyRole.OPERATOR, 4),
    ("关闭单元燃气总阀、开窗通风", "到场关闭总阀，打开楼道窗户。", DutyRole.GUARD, 8),
    ("疏散本单元住户", "敲门通知，引导住户下楼到空旷处。", DutyRole.GUARD, 12),
    ("设置警戒区", "在单元门外拉警戒线，禁止无关人员进入。", DutyRole.ON_DUTY_LEADER, 15),
)
FLOOD_STEPS: tuple[Step, ...] = (
    ("发布暴雨预警", "向全体住户发布暴雨和积水提醒。", DutyRole.OPERATOR, 10),
    ("地下车库挡水板就位", "放置挡水板和沙袋，启动排水泵。", DutyRole.GUARD, 30),
    ("巡查河岸步道并封闭", "河岸步道拉警戒线，劝离行人。", DutyRole.GUARD, 30),
    ("排查低洼楼栋独居老人", "电话或上门确认独居老人安全。", DutyRole.GRID_WORKER, 60),
)
CONTACTS: tuple[tuple[str, str, str], ...] = (
    ("消防救援", "119", "火警"),
    ("急救中心", "120", "医疗急救"),
    ("辖区派出所", "110", "治安"),
    ("燃气抢修", "96777", "燃气公司24小时抢修"),
)


def seed_institutional_defence(
    *, community: Community, users: dict[str, User], now: dt.datetime
) -> dict[str, int]:
    """Duty patterns, responsibilities, three plans and one drill; the row counts."""
    patterns = _duty_patterns(community, users, now)
    responsibilities = _responsibilities(community, users)
    fire, fire_versions = _plans(community, users, now)
    drills = _fire_drill(community, users, fire, fire_versions, now)
    return {
        "duty_patterns": patterns,
        "responsibilities": responsibilities,
        "emergency_plans": EmergencyPlan.objects.filter(community=community).count(),
        "incidents": drills,
    }


def _local(now: dt.datetime, days: int, hour: int, minute: int = 0) -> dt.datetime:
    local = timezone.localtime(now) + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _duty_patterns(community: Community, users: dict[str, User], now: dt.datetime) -> int:
    """Every duty role covered around the clock by the demo's one person in it (the grid
    worker on weekday office hours), so declaring an incident finds someone for each step."""
    day_start = _local(now, -7, 8)
    rows = [
        DutyPattern(
            community=community,
            duty_role=role,
            person=users[username],
            first_start=day_start,
            duration=dt.timedelta(hours=24),
            rrule="FREQ=DAILY",
            note=note,
        )
        for role, username, note in (
            (DutyRole.OPERATOR, "operator", "监控中心24小时值班"),
            (DutyRole.GUARD, "guard", "保安队24小时值班"),
            (DutyRole.ON_DUTY_LEADER, "admin", "社区值班领导"),
        )
        if username in users
    ]
    if "gridworker" in users:
        rows.append(
            DutyPattern(
                community=community,
                duty_role=DutyRole.GRID_WORKER,
                person=users["gridworker"],
                first_start=_local(now, -7, 8, 30),
                duration=dt.timedelta(hours=9),
                rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                note="工作日网格值班",
            )
        )
    DutyPattern.objects.bulk_create(rows)
    return len(rows)


def _responsibilities(community: Community, users: dict[str, User]) -> int:
    """Gates and key areas by the guard on duty, buildings by the grid worker, fire equipment
    by the community admin; the ground car park is left without anyone (a gap)."""
    rows: list[Responsibility] = []
    for zone in Zone.objects.filter(community=community).order_by("pk"):
        if zone.name == "地面停车场":
            continue
        rows.append(
            Responsibility(
                community=community,
                area_kind=AreaKind.ZONE,
                zone=zone,
                responsible_role=DutyRole.GUARD,
                deputy_role=DutyRole.OPERATOR,
            )
        )
    grid_worker = users.get("gridworker")
    if grid_worker is not None:
        rows.extend(
            Responsibility(
                community=community,
                area_kind=AreaKind.BUILDING,
                building=building,
                responsible_person=grid_worker,
                deputy_role=DutyRole.GUARD,
            )
            for building in Building.objects.filter(community=community).order_by("pk")
        )
    admin = users.get("admin")
    if admin is not None:
        present = set(
            Asset.objects.filter(community=community).values_list("asset_type", flat=True)
        )
        rows.extend(
            Responsibility(
                community=community,
                area_kind=AreaKind.ASSET_TYPE,
                asset_type=asset_type,
                responsible_person=admin,
                deputy_role=DutyRole.GUARD,
                note="每月检查，过期及时更换",
            )
            for asset_type in (
                AssetType.FIRE_EXTINGUISHER,
                AssetType.HYDRANT,
                AssetType.AED,
                AssetType.EMERGENCY_SUPPLY,
            )
            if asset_type in present
        )
    Responsibility.objects.bulk_create(rows)
    return len(rows)


def _version(
    plan: EmergencyPlan,
    number: int,
    status: VersionStatus,
    steps: tuple[Step, ...],
    *,
    summary: str,
    change_note: str = "",
    based_on: PlanVersion | None = None,
    approver: User | None = None,
    approved_at: dt.datetime | None = None,
    superseded_at: dt.datetime | None = None,
    author: User | None = None,
) -> PlanVersion:
    community = plan.community
    square = Zone.objects.filter(community=community, name="中心广场").first()
    assembly = _centre(square) if square else None
    version = PlanVersion.objects.create(
        plan=plan,
        number=number,
        status=status,
        summary=summary,
        change_note=change_note,
        based_on=based_on,
        created_by=author,
        approved_by=approver if approved_at else None,
        approved_at=approved_at,
        superseded_at=superseded_at,
        assembly_latitude=assembly[0] if assembly else None,
        assembly_longitude=assembly[1] if assembly else None,
        assembly_note="中心广场" if square else "",
    )
    PlanStep.objects.bulk_create(
        PlanStep(
            version=version,
            position=position,
            title=title,
            instructions=instructions,
            duty_role=role,
            target_minutes=minutes,
        )
        for position, (title, instructions, role, minutes) in enumerate(steps, start=1)
    )
    PlanContact.objects.bulk_create(
        PlanContact(version=version, position=position, name=name, phone=phone, note=note)
        for position, (name, phone, note) in enumerate(CONTACTS, start=1)
    )
    return version


def _centre(zone: Zone) -> tuple[float, float]:
    """The middle of a zone's outline, as (latitude, longitude)."""
    lon, lat = centroid(zone.geometry)
    return lat, lon


def _resources(version: PlanVersion, asset_types: tuple[str, ...]) -> None:
    assets = Asset.objects.filter(
        community=version.plan.community, asset_type__in=asset_types
    ).order_by("asset_type", "pk")[:6]
    PlanResource.objects.bulk_create(
        PlanResource(
            version=version,
            position=position,
            asset=asset,
            description=asset.name,
            quantity=1,
        )
        for position, asset in enumerate(assets, start=1)
    )


def _plans(
    community: Community, users: dict[str, User], now: dt.datetime
) -> tuple[EmergencyPlan, list[PlanVersion]]:
    admin = users.get("admin")
    fire = EmergencyPlan.objects.create(
        community=community, incident_type=IncidentType.FIRE, title="小区火灾应急预案"
    )
    summary = "适用于小区内住宅楼、车库、电动车棚等发生的火灾。"
    first = _version(
        fire,
        1,
        VersionStatus.SUPERSEDED,
        FIRE_STEPS_V1,
        summary=summary,
        approver=admin,
        approved_at=now - dt.timedelta(days=120),
        superseded_at=now - dt.timedelta(days=14),
        author=admin,
    )
    second = _version(
        fire,
        2,
        VersionStatus.APPROVED,
        FIRE_STEPS_V2,
        summary=summary,
        change_note="演练后补充：引导消防车、集合点清点人数、值班领导统一指挥。",
        based_on=first,
        approver=admin,
        approved_at=now - dt.timedelta(days=14),
        author=admin,
    )
    for version in (first, second):
        _resources(version, (AssetType.FIRE_EXTINGUISHER, AssetType.HYDRANT, AssetType.FIRE_DOOR))
    evacuate = Zone.objects.filter(community=community, name__in=["中心广场", "儿童游乐场"])
    second.evacuation_zones.set(evacuate)

    gas = EmergencyPlan.objects.create(
        community=community, incident_type=IncidentType.GAS_LEAK, title="燃气泄漏应急预案"
    )
    gas_version = _version(
        gas,
        1,
        VersionStatus.APPROVED,
        GAS_STEPS,
        summary="适用于住户家中或楼道内燃气泄漏、燃气报警器报警。",
        approver=admin,
        approved_at=now - dt.timedelta(days=60),
        author=admin,
    )
    _resources(gas_version, (AssetType.EMERGENCY_SUPPLY,))

    flood = EmergencyPlan.objects.create(
        community=community, incident_type=IncidentType.FLOODING, title="暴雨内涝应急预案"
    )
    flood_version = _version(
        flood,
        1,
        VersionStatus.DRAFT,
        FLOOD_STEPS,
        summary="适用于暴雨造成地下车库、低洼楼栋积水。",
        author=admin,
    )
    flood_version.evacuation_zones.set(
        Zone.objects.filter(community=community, name__in=["河岸步道"])
    )
    return fire, [first, second]


def _fire_drill(
    community: Community,
    users: dict[str, User],
    fire: EmergencyPlan,
    versions: list[PlanVersion],
    now: dt.datetime,
) -> int:
    """The fire drill of three weeks ago, run on version 1 of the fire plan: its tasks with
    their times (one late), the timeline, the review, and the action item that became
    version 2. It counts as the training drill the people-defence demo already holds."""
    version = versions[0]
    declared = _local(now, -21, 9, 30)
    operator, guard, leader = users.get("operator"), users.get("guard"), users.get("admin")
    training = (
        Drill.objects.filter(community=community, kind=DrillKind.FIRE_EVACUATION)
        .order_by("-planned_at")
        .first()
    )
    incident = Incident.objects.create(
        community=community,
        incident_type=IncidentType.FIRE,
        title="3号楼消防疏散演练",
        description="模拟3号楼2单元5楼厨房起火。",
        is_drill=True,
        plan_version=version,
        state=IncidentState.CLOSED,
        zone=training.zone if training else None,
        declared_at=declared,
        declared_by=operator,
        closed_at=declared + dt.timedelta(minutes=35),
        closed_by=leader,
        training_drill=training,
    )
    took = {1: 1.5, 2: 2.5, 3: 4.0, 4: 12.0}
    log: list[IncidentLogEntry] = [
        IncidentLogEntry(
            incident=incident,
            at=declared,
            actor=operator,
            kind=LogKind.DECLARED,
            text="按《小区火灾应急预案》第1版启动演练",
        )
    ]
    for step in version.steps.order_by("position"):
        person = operator if step.duty_role == DutyRole.OPERATOR else guard
        done_at = declared + dt.timedelta(minutes=took[step.position])
        task = IncidentTask.objects.create(
            incident=incident,
            step=step,
            position=step.position,
            title=step.title,
            instructions=step.instructions,
            duty_role=step.duty_role,
            assignee=person,
            due_at=declared + dt.timedelta(minutes=step.target_minutes),
            status=TaskStatus.DONE,
            done_at=done_at,
            done_by=person,
            escalated_at=(
                declared + dt.timedelta(minutes=step.target_minutes)
                if took[step.position] > step.target_minutes
                else None
            ),
        )
        log.append(
            IncidentLogEntry(
                incident=incident, at=done_at, actor=person, kind=LogKind.TASK_DONE, task=task
            )
        )
    log.append(
        IncidentLogEntry(
            incident=incident,
            at=declared + dt.timedelta(minutes=9),
            actor=guard,
            kind=LogKind.NOTE,
            text="2单元楼梯间有电动车堵塞，疏散变慢。",
        )
    )
    log.append(
        IncidentLogEntry(
            incident=incident,
            at=declared + dt.timedelta(minutes=35),
            actor=leader,
            kind=LogKind.CLOSED,
        )
    )
    IncidentLogEntry.objects.bulk_create(log)
    IncidentParticipant.objects.bulk_create(
        IncidentParticipant(incident=incident, person=person, added_at=declared)
        for person in (operator, guard, leader, users.get("volunteer"))
        if person is not None
    )
    if leader is not None:
        review = AfterActionReview.objects.create(
            incident=incident,
            what_worked="报警和通知及时，灭火器4分钟内到场。",
            what_did_not="疏散用时12分钟，超出10分钟目标；集合点没有人清点人数；消防车通道被私家车占用。",
            written_by=leader,
            written_at=declared + dt.timedelta(minutes=40),
        )
        ActionItem.objects.create(
            review=review,
            description="预案增加清点人数和引导消防车两个步骤，由值班领导统一指挥。",
            owner=leader,
            due_on=(declared + dt.timedelta(days=7)).date(),
            done_at=versions[1].approved_at,
            plan_version=versions[1],
        )
    return 1

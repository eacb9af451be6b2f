"""The demo community's access control: an access point for every door controller, cards for
the residents of the buildings with readers (a few with face credentials and their consent),
a lost card and a barred person on the watch list, a week of accesses, the demo resident's
visitors and the gate's log.

Everything goes through the access services, as a real community's data would."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from anwang.access import passes
from anwang.access import services as access
from anwang.access.anomalies import access_anomalies_scan
from anwang.access.choices import (
    AccessMethod,
    AccessPointKind,
    AccessResult,
    GateEntryKind,
)
from anwang.access.models import AccessPoint, Credential
from anwang.accounts.models import User
from anwang.devices.choices import DeviceKind
from anwang.devices.models import Device
from anwang.people.models import HouseholdBinding, HouseholdMember
from anwang.places.models import Community

CARD_HOLDERS = 60
"""Residents given a card (the first of the buildings with readers)."""


def seed_access(
    *, community: Community, users: dict[str, User], now: dt.datetime
) -> dict[str, int]:
    """Write the demo access data; answers the row counts."""
    admin = users["admin"]
    rng = random.Random(20261127)  # noqa: S311 - demo data, not security
    points = _points(community, admin)
    unit_points = [p for p in points if p.kind == AccessPointKind.UNIT_DOOR]
    members = list(
        HouseholdMember.objects.filter(
            household__community=community,
            household__unit__building_id__in=[p.building_id for p in unit_points],
            until__isnull=True,
        )
        .select_related("resident", "household__unit")
        .order_by("pk")[:CARD_HOLDERS]
    )
    cards: list[Credential] = []
    for index, member in enumerate(members):
        card = access.credential_create(
            actor=admin,
            resident=member.resident,
            kind="card",
            value=f"{3_100_000_000 + index * 7919:010d}",
            label="IC 卡",
            valid_from=now - dt.timedelta(days=400),
            now=now,
        )
        cards.append(card)
        if index % 15 == 0:
            access.consent_record(
                actor=admin,
                resident=member.resident,
                kind="face",
                how="书面同意书（人脸识别门禁一期改造）",
                given_at=now - dt.timedelta(days=90),
                now=now,
            )
            access.credential_create(
                actor=admin,
                resident=member.resident,
                kind="face",
                value=f"FACE-{member.resident.pk:06d}",
                label="人脸模板",
                valid_from=now - dt.timedelta(days=90),
                now=now,
            )
    # Someone lost a card last week; a former tenant is barred.
    lost = cards[7]
    access.credential_set_status(
        actor=admin,
        credential=lost,
        status="lost",
        reason="住户报失：在菜场丢失",
        now=now - dt.timedelta(days=6),
    )
    access.watch_add(
        actor=admin,
        community=community,
        kind="person",
        description="男，约 40 岁，曾多次尾随进入单元推销",
        reason="派出所通报，禁止进入小区",
        now=now - dt.timedelta(days=20),
    )
    accesses = _history(community, points, cards, lost, rng, now)
    visitors = _visitors(community, users, points, now)
    odd = _anomalies(community, admin, points, cards, now)
    report = access_anomalies_scan(community=community, now=now)
    return {
        "access_points": len(points) + 1,
        "credentials": len(cards),
        "accesses": accesses + visitors + odd,
        "access_findings": report.findings,
    }


def _anomalies(
    community: Community,
    admin: User,
    points: list[AccessPoint],
    cards: list[Credential],
    now: dt.datetime,
) -> int:
    """Last night's odd accesses for the findings page: a card in the plant room at 02:13, an
    unknown card refused six times at a gate, and one card used at two gates far apart within a
    minute (a copied card). All hours old, so the scan stores them for review without raising
    alarms (the demo starts from a quiet console)."""
    placed = {
        p.pk: (p.latitude, p.longitude)
        for p in points
        if p.kind == AccessPointKind.GATE and p.latitude is not None and p.longitude is not None
    }
    gates = [p for p in points if p.pk in placed]
    first = gates[0]
    lat, lon = placed[first.pk]
    far = max(gates, key=lambda g: abs(placed[g.pk][0] - lat) + abs(placed[g.pk][1] - lon))
    plant_room = access.access_point_create(
        actor=admin,
        community=community,
        name="地下水泵房",
        kind=AccessPointKind.OTHER,
        zone=first.zone,
        latitude=lat,
        longitude=lon,
        is_restricted=True,
        permitted_from=dt.time(8, 0),
        permitted_until=dt.time(18, 0),
    )
    # 02:13 last night; seeded between midnight and 05:13, when that is too recent or too far
    # back for the scan's last day, three hours ago (still outside the permitted hours).
    night = timezone.localtime(now).replace(hour=2, minute=13, second=0, microsecond=0)
    if night > now - dt.timedelta(hours=3):
        night -= dt.timedelta(days=1)
    if now - night > dt.timedelta(hours=22):
        night = now - dt.timedelta(hours=3)
    rows: list[tuple[AccessPoint, dt.datetime, str, Credential | None]] = [
        (plant_room, night, AccessResult.GRANTED, cards[3])
    ]
    burst = night + dt.timedelta(minutes=40)
    rows += [
        (first, burst + dt.timedelta(seconds=35 * i), AccessResult.DENIED, None) for i in range(6)
    ]
    copied = night + dt.timedelta(minutes=75)
    rows += [
        (first, copied, AccessResult.GRANTED, cards[5]),
        (far, copied + dt.timedelta(seconds=40), AccessResult.GRANTED, cards[5]),
    ]
    for point, at, result, card in rows:
        access.access_record(
            community=community,
            access_point=point,
            at=at,
            result=result,
            method=AccessMethod.CARD,
            reason="valid_card" if result == AccessResult.GRANTED else "invalid_card",
            credential=card,
            raise_alarms=False,
        )
    return len(rows)


def _points(community: Community, admin: User) -> list[AccessPoint]:
    readers = Device.objects.filter(community=community, kind=DeviceKind.ACCESS_READER).order_by(
        "pk"
    )
    points = []
    for reader in readers:
        kind = AccessPointKind.UNIT_DOOR if reader.building_id else AccessPointKind.GATE
        points.append(
            access.access_point_create(
                actor=admin,
                community=community,
                name=reader.name.removesuffix(" 门禁").removesuffix("门禁") or reader.name,
                kind=kind,
                device=reader,
                zone=reader.zone,
                building=reader.building,
                latitude=reader.latitude,
                longitude=reader.longitude,
            )
        )
    return points


def _history(
    community: Community,
    points: list[AccessPoint],
    cards: list[Credential],
    lost: Credential,
    rng: random.Random,
    now: dt.datetime,
) -> int:
    """A week of card swipes at the gates and a few refusals. The lost card has not been used
    since it was reported, so the demo starts without an open alarm (the console and the
    simulator's tests start from a quiet community)."""
    gates = [p for p in points if p.kind == AccessPointKind.GATE]
    count = 0
    for day in range(7, 0, -1):
        for card in cards[:30]:
            if card.pk == lost.pk:
                continue
            for hour in (7, 18):
                at = timezone.localtime(now - dt.timedelta(days=day)).replace(
                    hour=hour, minute=rng.randrange(60), second=0, microsecond=0
                )
                access.access_record(
                    community=community,
                    access_point=rng.choice(gates),
                    at=at,
                    result=AccessResult.GRANTED,
                    method=AccessMethod.CARD,
                    reason="valid_card",
                    credential=card,
                    raise_alarms=False,
                )
                count += 1
    for _refusal in range(5):
        access.access_record(
            community=community,
            access_point=rng.choice(gates),
            at=now - dt.timedelta(hours=rng.randrange(2, 100)),
            result=AccessResult.DENIED,
            method=AccessMethod.CARD,
            reason="invalid_card",
            raise_alarms=False,
        )
        count += 1
    return count


def _visitors(
    community: Community, users: dict[str, User], points: list[AccessPoint], now: dt.datetime
) -> int:
    """The demo resident's two visitors (one came yesterday, one is expected tomorrow) and the
    north gate's log."""
    resident = users["resident"]
    binding = HouseholdBinding.objects.filter(user=resident).select_related("household").first()
    if binding is None:
        return 0
    household = binding.household
    gate = next(p for p in points if p.kind == AccessPointKind.GATE)
    # Wall-clock hours of the community's day, not of UTC.
    yesterday = timezone.localtime(now - dt.timedelta(days=1))
    came = passes.pass_create(
        actor=resident,
        household=household,
        visitor_name="张阿姨（保洁）",
        visitor_phone="13905710001",
        valid_from=yesterday.replace(hour=8, minute=0, second=0, microsecond=0),
        valid_until=yesterday.replace(hour=12, minute=0, second=0, microsecond=0),
        now=yesterday.replace(hour=7, minute=0, second=0, microsecond=0),
    )
    passes.pass_admit(
        passes.pass_token(came),
        access_point=gate,
        actor=users["guard"],
        now=yesterday.replace(hour=8, minute=40, second=0, microsecond=0),
    )
    tomorrow = timezone.localtime(now + dt.timedelta(days=1))
    passes.pass_create(
        actor=resident,
        household=household,
        visitor_name="刘师傅（空调维修）",
        visitor_phone="13905710002",
        valid_from=tomorrow.replace(hour=9, minute=0, second=0, microsecond=0),
        valid_until=tomorrow.replace(hour=17, minute=0, second=0, microsecond=0),
        max_entries=2,
        plate="浙A·3K27L",
        now=now,
    )
    for hours, name, kind in (
        (5, "顺丰快递", GateEntryKind.DELIVERY),
        (3, "王先生（看房）", GateEntryKind.WALK_IN),
        (1, "推销人员", GateEntryKind.REFUSED),
    ):
        passes.gate_log_add(
            actor=users["guard"],
            community_id=community.pk,
            kind=kind,
            access_point=gate,
            visitor_name=name,
            now=now - dt.timedelta(hours=hours),
        )
    return 4

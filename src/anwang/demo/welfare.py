"""The demo community's welfare checks: six elderly residents living alone who consented, with
five weeks of comings and goings at the gates and the checks those weeks gave.

* one visits her daughter every Saturday, so her home is quiet about 40 hours a week: the
  learned baseline raises her threshold above 24 hours;
* one went on a trip without saying (closed: away, reached by phone), one did not go out for a
  day (closed: safe and well), one had fallen at home (closed: needed help);
* one has been quiet for 25 hours now: an open check waits on the grid worker's phone;
* one is in hospital: checks are paused.

Everything goes through the access and welfare services, in time order, as the worker would
have done it (``welfare_checks_run`` at the moments it would have opened the checks)."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from anwang.access import services as access
from anwang.access.choices import AccessMethod, AccessPointKind, AccessResult
from anwang.access.models import AccessPoint
from anwang.accounts.models import User
from anwang.people.choices import ResidentTag
from anwang.people.models import Resident
from anwang.places.models import Community
from anwang.welfare import services as welfare
from anwang.welfare.models import WelfareCheck

WATCHED = 6
WEEKS = 5


def seed_welfare(
    *, community: Community, users: dict[str, User], now: dt.datetime
) -> dict[str, int]:
    """Write the demo welfare checks; answers the row counts."""
    admin = users["admin"]
    gates = list(
        AccessPoint.objects.filter(community=community, kind=AccessPointKind.GATE).order_by("pk")
    )
    residents = list(
        Resident.objects.filter(
            community=community,
            tag_links__tag=ResidentTag.LIVING_ALONE,
            moved_out_at__isnull=True,
            emergency_contacts__isnull=False,
            memberships__until__isnull=True,
        )
        .distinct()
        .order_by("pk")[:WATCHED]
    )
    if len(residents) < WATCHED or not gates:
        return {"welfare_enrolments": 0}
    rng = random.Random(20261128)  # noqa: S311 - demo data, not security
    local_now = timezone.localtime(now)
    start = (local_now - dt.timedelta(weeks=WEEKS)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    sat_visitor, traveller, homebody, fallen, quiet_now, in_hospital = residents
    # Days each resident did not go out (local dates), and the quiet start of the open check.
    away_days: dict[int, set[dt.date]] = {r.pk: set() for r in residents}
    for week in range(WEEKS + 1):
        saturday = (start + dt.timedelta(days=(5 - start.weekday()) % 7 + 7 * week)).date()
        away_days[sat_visitor.pk].add(saturday)
    trip = (local_now - dt.timedelta(days=20)).date()
    away_days[traveller.pk] |= {trip, trip + dt.timedelta(days=1)}
    stay_home = (local_now - dt.timedelta(days=12)).date()
    away_days[homebody.pk].add(stay_home)
    fall = (local_now - dt.timedelta(days=6)).date()
    away_days[fallen.pk] |= {fall, fall + dt.timedelta(days=1)}
    quiet_from = local_now - dt.timedelta(hours=25)
    hospital_from = local_now - dt.timedelta(days=3)

    enrolled_at = start - dt.timedelta(days=1)
    for index, resident in enumerate(residents):
        contact = resident.emergency_contacts.order_by("pk").first()
        welfare.watch_enrol(
            actor=admin,
            resident=resident,
            consent_how="书面同意书（关爱探访，本人及子女签字）",
            assignee=users["volunteer"] if index == 2 else users["gridworker"],
            family_contact=contact,
            now=enrolled_at,
        )
    accesses = 0
    for resident in residents:
        accesses += _comings_and_goings(
            community,
            resident,
            gates,
            rng,
            start=start,
            until=local_now,
            away=away_days[resident.pk],
            quiet_from=quiet_from if resident.pk == quiet_now.pk else None,
            hospital_from=hospital_from if resident.pk == in_hospital.pk else None,
        )

    def run_at(moment: dt.datetime) -> None:
        welfare.welfare_checks_run(now=moment)

    def close(resident: Resident, moment: dt.datetime, outcome: str, note: str) -> None:
        check = WelfareCheck.objects.get(watch__resident=resident, status="open")
        welfare.check_close(
            actor=check.assignee or admin, check=check, outcome=outcome, note=note, now=moment
        )

    def day_at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    # The worker's minute runs that opened checks, and the visits that closed them.
    run_at(day_at(trip, 17, 30))
    close(traveller, day_at(trip, 19, 10), "away", "电话联系上，在杭州女儿家")
    run_at(day_at(stay_home, 17, 30))
    close(homebody, day_at(stay_home, 18, 20), "safe", "身体不适在家休息，已上门问候")
    run_at(day_at(fall, 17, 30))
    close(
        fallen,
        day_at(fall, 18, 5),
        "needed_help",
        "在家摔倒无法起身，已联系 120 送医，女儿已到医院",
    )
    welfare.watch_pause(
        actor=admin,
        watch=in_hospital.welfare_watch,
        until=local_now + dt.timedelta(days=5),
        now=hospital_from + dt.timedelta(hours=20),
    )
    run_at(now)
    return {
        "welfare_enrolments": len(residents),
        "welfare_checks": WelfareCheck.objects.filter(community=community).count(),
        "accesses": accesses,
    }


def _comings_and_goings(
    community: Community,
    resident: Resident,
    gates: list[AccessPoint],
    rng: random.Random,
    *,
    start: dt.datetime,
    until: dt.datetime,
    away: set[dt.date],
    quiet_from: dt.datetime | None,
    hospital_from: dt.datetime | None,
) -> int:
    """The resident's face at a gate going out in the morning and back in the afternoon, on
    every day they went out, up to ``until`` (or until they went quiet)."""
    count = 0
    day = start
    while day < until:
        if day.date() not in away:
            for hour in (8, 16):
                at = day.replace(hour=hour, minute=rng.randrange(60))
                if at >= until or (quiet_from and at >= quiet_from):
                    break
                if hospital_from and at >= hospital_from:
                    break
                access.access_record(
                    community=community,
                    access_point=rng.choice(gates),
                    at=at,
                    result=AccessResult.GRANTED,
                    method=AccessMethod.FACE,
                    reason="face_recognised",
                    resident=resident,
                    raise_alarms=False,
                )
                count += 1
        day += dt.timedelta(days=1)
    return count

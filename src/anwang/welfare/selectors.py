"""Reads of welfare checks: enrolments, checks, where a watched resident stands, and the report
of false alarms per household and month, scoped to the caller.

Who sees what: holders of :attr:`Permission.VIEW_WELFARE` in a community (community admins,
grid workers, supervisors of its street office) see its enrolments and checks; the person a
check is assigned to (a volunteer, say) sees that check; everyone else gets 404.

How silence is measured (the worker's job, :func:`anwang.welfare.services.welfare_checks_run`,
and :func:`watch_status` use the same functions):

* **Activity** is any access record of the resident (:class:`anwang.access.models.AccessEvent`
  with ``resident`` set, refused ones too: the person was at a door), any event of the
  enrolment's home sensors except those that say nothing about a person
  (:data:`NON_ACTIVITY_KINDS`: heartbeats, availability, battery, health transitions,
  self-tests, temperature readings...), and the resident's account signing in
  (``user.last_login``). Sensor events count at the server's receive time; a replay from a
  device's log counts at the device's time (never later than now). Only the last
  :data:`ACTIVITY_LOOKBACK` is searched; older activity is known through
  ``WelfareWatch.last_activity_at``, which the job keeps.
* **Silence** counts from the latest of: the last activity, ``enrolled_at``, the close of the
  enrolment's last check, and the end of a pause (``paused_until``).
* **Threshold** (:func:`threshold_hours`): ``quiet_hours``; with ``use_baseline`` and a
  baseline, the larger of ``quiet_hours`` and the baseline, at most twice ``quiet_hours``.
* **Baseline** (:func:`baseline_compute`): the last 28 days are cut into four weeks ending now;
  in each, the longest quiet spell is the longest gap between two activities that ends in that
  week (the silence going on now is not a spell: it is what is being measured). A week counts
  when it has such a gap whose start is known (activity before the week). The baseline is the
  median of the weeks' longest spells, from at least two weeks; fewer weeks give none. The job
  refreshes it at most once a day (``baseline_hours``, ``baseline_updated_at``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from anwang.access.choices import ConsentKind
from anwang.access.models import AccessEvent, ConsentRecord
from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import User
from anwang.accounts.roles import ROLE_PERMISSIONS
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.audit.services import audit_record
from anwang.core.selectors import communities_permitted
from anwang.events.choices import EventKind
from anwang.events.models import DeviceEvent
from anwang.people.choices import ResidentTag
from anwang.people.models import HouseholdMember, Resident, ResidentTagLink
from anwang.places.models import Community, Household
from anwang.welfare.choices import FALSE_ALARM_OUTCOMES, CheckOutcome, CheckStatus
from anwang.welfare.models import WelfareCheck, WelfareWatch

NON_ACTIVITY_KINDS: Final = frozenset(
    {
        EventKind.HEARTBEAT.value,
        EventKind.AVAILABILITY.value,
        EventKind.BATTERY_LOW.value,
        EventKind.DEVICE_OFFLINE.value,
        EventKind.DEVICE_ONLINE.value,
        EventKind.ACCESS_ANOMALY.value,
        EventKind.SMOKE_TEST.value,
        EventKind.TEMPERATURE.value,
        EventKind.VIDEO_LOSS.value,
    }
)
"""Sensor event kinds that are the device talking, not a person moving: they are no activity."""

ACTIVITY_LOOKBACK: Final = dt.timedelta(days=35)
"""How far back activity is searched (the baseline's 28 days and the week before them)."""
BASELINE_DAYS: Final = 28
BASELINE_MIN_WEEKS: Final = 2
BASELINE_MAX_FACTOR: Final = 2
"""The baseline raises the threshold to at most this many times ``quiet_hours``."""

ASSIGNEE_ROLES: Final = frozenset({Role.GRID_WORKER, Role.VOLUNTEER, Role.COMMUNITY_ADMIN})
"""Roles in a community whose holders may be given welfare checks to carry out."""
REAL_OUTCOMES: Final = frozenset({CheckOutcome.NEEDED_HELP, CheckOutcome.EMERGENCY})
"""Outcomes where the person did need someone: the check was right."""
REPORT_MONTHS_MAX: Final = 24

MANAGER_ROLES: Final = frozenset(
    role
    for role, permissions in ROLE_PERMISSIONS.items()
    if Permission.MANAGE_WELFARE in permissions
)
"""Roles that manage welfare checks (told when a check has nobody to do it, and escalations)."""


# --------------------------------------------------------------------------- who may do what


def may_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the community's enrolments and checks."""
    return acts_platform_wide(scope) or scope.has(Permission.VIEW_WELFARE, community_id)


def may_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may enrol residents, change enrolments and manage checks in the
    community."""
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_WELFARE, community_id)


def view_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose welfare checks the caller sees."""
    return communities_permitted(scope, Permission.VIEW_WELFARE)


def manage_communities(scope: Scope) -> QuerySet[Community]:
    """The communities where the caller may enrol residents."""
    return communities_permitted(scope, Permission.MANAGE_WELFARE)


def _visible(scope: Scope, qs: QuerySet[Any], community_id: int | None) -> QuerySet[Any]:
    if not acts_platform_wide(scope):
        qs = qs.filter(community_id__in=scope.community_ids(Permission.VIEW_WELFARE))
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs


def managers_of(community_id: int) -> QuerySet[User]:
    """Active accounts managing welfare checks in the community."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__community_id=community_id,
            memberships__role__in=[role.value for role in MANAGER_ROLES],
        )
        .distinct()
        .order_by("pk")
    )


def assignable_users(community_id: int) -> QuerySet[User]:
    """Active accounts that may carry out the community's checks: its volunteers, grid workers
    and community admins, and the grid workers named on its grids."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(
                memberships__community_id=community_id,
                memberships__role__in=[role.value for role in ASSIGNEE_ROLES],
            )
            | Q(grids__community_id=community_id)
        )
        .distinct()
        .order_by("display_name", "username", "pk")
    )


def assignee_choices(scope: Scope, community_id: int) -> QuerySet[User]:
    """Users who may be assigned the community's checks (volunteers, grid workers, community
    admins), for a form; none when the caller does not see the community."""
    if not may_view(scope, community_id):
        return User.objects.none()
    return assignable_users(community_id)


# --------------------------------------------------------------------------- enrolments

WATCH_STATES: Final = ("active", "paused", "ended")


def _open_check_id() -> Subquery:
    return Subquery(
        WelfareCheck.objects.filter(watch=OuterRef("pk"), status=CheckStatus.OPEN).values("pk")[:1]
    )


def watch_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str = "",
    state: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[WelfareWatch]:
    """Enrolments the caller may see, by community and resident name, each annotated with
    ``open_check_id`` (``None`` without an open check). ``state``: ``"active"`` (watched now),
    ``"paused"``, ``"ended"`` or ``""`` for all; ``q`` searches the resident's name."""
    now = now or timezone.now()
    watches = _visible(
        scope,
        WelfareWatch.objects.select_related(
            "community", "resident", "assignee", "family_contact", "consent"
        ).annotate(open_check_id=_open_check_id()),
        community_id,
    )
    q = q.strip()
    if q:
        watches = watches.filter(resident__name__icontains=q)
    paused = Q(paused_until__gt=now)
    if state == "active":
        watches = watches.filter(ended_at__isnull=True).exclude(paused)
    elif state == "paused":
        watches = watches.filter(paused, ended_at__isnull=True)
    elif state == "ended":
        watches = watches.filter(ended_at__isnull=False)
    return watches.order_by("community__name", "resident__name", "id")


def watch_get(scope: Scope, watch_id: int) -> WelfareWatch:
    """One enrolment the caller may see (with its home sensors prefetched); 404 otherwise."""
    watch = watch_list(scope).prefetch_related("devices").filter(pk=watch_id).first()
    if watch is None:
        raise Http404
    return watch


# --------------------------------------------------------------------------- checks


def _checks() -> QuerySet[WelfareCheck]:
    return WelfareCheck.objects.select_related(
        "community",
        "watch__resident",
        "watch__family_contact",
        "household__unit__building",
        "assignee",
        "closed_by",
    )


def check_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    status: str = "",
    assignee_id: int | None = None,
) -> QuerySet[WelfareCheck]:
    """Checks the caller may see, newest first; ``status`` ``"open"``/``"closed"``."""
    checks = _visible(scope, _checks(), community_id)
    if status:
        checks = checks.filter(status=status)
    if assignee_id is not None:
        checks = checks.filter(assignee_id=assignee_id)
    return checks.order_by("-opened_at", "-id")


def check_get(scope: Scope, check_id: int) -> WelfareCheck:
    """One check the caller may see: VIEW_WELFARE in its community, or it is assigned to them;
    404 otherwise."""
    checks = _checks().filter(pk=check_id)
    if not acts_platform_wide(scope):
        allowed = Q(community_id__in=scope.community_ids(Permission.VIEW_WELFARE))
        if scope.user is not None:
            mine = Q(assignee=scope.user)
            if scope.token_community_id is not None:
                mine &= Q(community_id=scope.token_community_id)
            allowed |= mine
        checks = checks.filter(allowed)
    check = checks.first()
    if check is None:
        raise Http404
    return check


def my_checks(user: User) -> QuerySet[WelfareCheck]:
    """Open checks assigned to the user, most urgent first (the soonest escalation; escalated
    ones come first since their time has passed)."""
    return (
        _checks()
        .filter(assignee=user, status=CheckStatus.OPEN)
        .order_by("escalate_at", "opened_at", "id")
    )


def has_open_checks(user: User) -> bool:
    """Whether any open check is assigned to the user (one indexed query)."""
    return WelfareCheck.objects.filter(assignee=user, status=CheckStatus.OPEN).exists()


# --------------------------------------------------------------------------- activity


def _lookback_start(now: dt.datetime) -> dt.datetime:
    return now - ACTIVITY_LOOKBACK


def _later(*values: dt.datetime | None) -> dt.datetime | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def latest_activity(
    watches: Sequence[WelfareWatch], *, now: dt.datetime
) -> dict[int, dt.datetime | None]:
    """The last activity of each enrolment at or before ``now`` (see the module's docstring),
    by enrolment id, combined with the stored ``last_activity_at``. Three queries whatever the
    number of enrolments; load them with ``select_related("resident__user")``."""
    if not watches:
        return {}
    since = _lookback_start(now)
    by_resident = dict(
        AccessEvent.objects.filter(
            resident_id__in={watch.resident_id for watch in watches}, at__gte=since, at__lte=now
        )
        .values("resident_id")
        .annotate(last=Max("at"))
        .values_list("resident_id", "last")
    )
    through = WelfareWatch.devices.through
    devices_of: dict[int, set[int]] = defaultdict(set)
    for watch_id, device_id in through.objects.filter(
        welfarewatch_id__in=[watch.pk for watch in watches]
    ).values_list("welfarewatch_id", "device_id"):
        devices_of[watch_id].add(device_id)
    by_device: dict[int, dt.datetime | None] = {}
    device_ids = set().union(*devices_of.values()) if devices_of else set()
    if device_ids:
        for device_id, live, replayed in (
            DeviceEvent.objects.filter(
                device_id__in=device_ids, received_at__gte=since, received_at__lte=now
            )
            .exclude(kind__in=NON_ACTIVITY_KINDS)
            .values("device_id")
            .annotate(
                live=Max("received_at", filter=Q(replay=False)),
                replayed=Max("device_time", filter=Q(replay=True)),
            )
            .values_list("device_id", "live", "replayed")
        ):
            by_device[device_id] = _later(live, min(replayed, now) if replayed else None)
    result: dict[int, dt.datetime | None] = {}
    for watch in watches:
        user = watch.resident.user
        login = user.last_login if user is not None else None
        stored = watch.last_activity_at
        result[watch.pk] = _later(
            stored if stored is not None and stored <= now else None,
            by_resident.get(watch.resident_id),
            *(by_device.get(device_id) for device_id in devices_of.get(watch.pk, ())),
            login if login is not None and login <= now else None,
        )
    return result


def activity_times(
    watch: WelfareWatch, *, since: dt.datetime, until: dt.datetime
) -> list[dt.datetime]:
    """Every activity of the enrolment in ``[since, until]``, oldest first (for the baseline;
    the account's sign-in is one point, its last)."""
    times: list[dt.datetime] = list(
        AccessEvent.objects.filter(
            resident_id=watch.resident_id, at__gte=since, at__lte=until
        ).values_list("at", flat=True)
    )
    device_ids = list(watch.devices.values_list("pk", flat=True))
    if device_ids:
        for received, replay, device_time in (
            DeviceEvent.objects.filter(
                device_id__in=device_ids, received_at__gte=since, received_at__lte=until
            )
            .exclude(kind__in=NON_ACTIVITY_KINDS)
            .values_list("received_at", "replay", "device_time")
        ):
            at = min(device_time, received) if replay and device_time else received
            if since <= at:
                times.append(at)
    user = watch.resident.user
    if user is not None and user.last_login is not None and since <= user.last_login <= until:
        times.append(user.last_login)
    return sorted(times)


# --------------------------------------------------------------------------- baseline


@dataclass
class Baseline:
    """The household's usual longest quiet spell and how many weeks it was learned from."""

    hours: float
    weeks: int


def baseline_from(
    times: Sequence[dt.datetime], *, now: dt.datetime, days: int = BASELINE_DAYS
) -> Baseline | None:
    """The baseline of a sorted list of activity times (pure; see the module's docstring)."""
    weeks = days // 7
    longest: list[float] = []
    for week in range(weeks):
        end = now - dt.timedelta(days=7 * week)
        start = end - dt.timedelta(days=7)
        spells = [
            (later - earlier).total_seconds() / 3600
            for earlier, later in itertools.pairwise(times)
            if start <= later < end or (week == 0 and later == end)
        ]
        if spells:
            longest.append(max(spells))
    if len(longest) < BASELINE_MIN_WEEKS:
        return None
    return Baseline(hours=round(statistics.median(longest), 2), weeks=len(longest))


def baseline_compute(watch: WelfareWatch, *, now: dt.datetime) -> Baseline | None:
    """The enrolment's baseline learned from its last 28 days of activity (and the week
    before, to know when the first spell began); ``None`` with under two weeks of history."""
    times = activity_times(watch, since=_lookback_start(now), until=now)
    return baseline_from(times, now=now)


def threshold_hours(watch: WelfareWatch, baseline: Baseline | None) -> float:
    """Hours of silence that open a check: ``quiet_hours``, raised to the baseline when the
    enrolment uses it, at most twice ``quiet_hours``."""
    hours = float(watch.quiet_hours)
    if watch.use_baseline and baseline is not None:
        return min(max(hours, baseline.hours), hours * BASELINE_MAX_FACTOR)
    return hours


def stored_baseline(watch: WelfareWatch) -> Baseline | None:
    """The baseline the job keeps on the enrolment (weeks unknown: 0), or ``None``."""
    if watch.baseline_hours is None:
        return None
    return Baseline(hours=watch.baseline_hours, weeks=0)


def silence_start(
    watch: WelfareWatch, last_activity: dt.datetime | None, last_closed: dt.datetime | None
) -> dt.datetime:
    """When the silence being measured began: the latest of the last activity, the enrolment,
    the last check's close and the end of a pause."""
    start = _later(last_activity, watch.enrolled_at, last_closed, watch.paused_until)
    assert start is not None  # enrolled_at is always set
    return start


def is_paused(watch: WelfareWatch, now: dt.datetime) -> bool:
    """Whether checks are paused at ``now``."""
    return watch.paused_until is not None and watch.paused_until > now


# --------------------------------------------------------------------------- status


@dataclass
class WatchStatus:
    """Where a watched resident stands now, as the job sees it."""

    last_activity_at: dt.datetime | None
    quiet_for_hours: float | None
    threshold_hours: float
    baseline: Baseline | None
    paused: bool
    open_check: WelfareCheck | None
    next_check_at: dt.datetime | None
    quiet_since: dt.datetime | None = None
    ended: bool = False
    explanation: list[str] = field(default_factory=list)


def watch_status(watch: WelfareWatch, *, now: dt.datetime | None = None) -> WatchStatus:
    """Where a watched resident stands: last activity, how long it has been quiet (from the
    start of the silence the job measures), the threshold and why, and when a check would open
    if nothing happens (``None`` when ended or a check is open). The baseline is the one the
    job stored; its number of weeks is counted from the activity now."""
    now = now or timezone.now()
    activity = latest_activity([watch], now=now)[watch.pk]
    open_check = (
        WelfareCheck.objects.filter(watch=watch, status=CheckStatus.OPEN)
        .select_related("assignee")
        .first()
    )
    last_closed = WelfareCheck.objects.filter(watch=watch, status=CheckStatus.CLOSED).aggregate(
        last=Max("closed_at")
    )["last"]
    baseline = stored_baseline(watch) if watch.use_baseline else None
    if baseline is not None:
        live = baseline_compute(watch, now=now)
        baseline.weeks = live.weeks if live is not None else 0
    threshold = threshold_hours(watch, baseline)
    start = silence_start(watch, activity, last_closed)
    ended = watch.ended_at is not None
    paused = is_paused(watch, now)
    quiet_for = None if ended else max(0.0, (now - start).total_seconds() / 3600)
    next_at = None
    if not ended and open_check is None:
        next_at = max(start + dt.timedelta(hours=threshold), now)
    return WatchStatus(
        last_activity_at=activity,
        quiet_for_hours=None if quiet_for is None else round(quiet_for, 2),
        threshold_hours=threshold,
        baseline=baseline,
        paused=paused,
        open_check=open_check,
        next_check_at=next_at,
        quiet_since=None if ended else start,
        ended=ended,
        explanation=_explain(watch, baseline, threshold),
    )


def _hours(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _explain(watch: WelfareWatch, baseline: Baseline | None, threshold: float) -> list[str]:
    lines = [
        ngettext(
            "A check opens after %(hours)s hour without activity.",
            "A check opens after %(hours)s hours without activity.",
            watch.quiet_hours,
        )
        % {"hours": watch.quiet_hours}
    ]
    if not watch.use_baseline:
        lines.append(_("This home's usual quiet spells are not taken into account."))
    elif baseline is None:
        lines.append(
            _(
                "This home's usual quiet spells are not known yet: they are learned from at "
                "least two weeks of activity."
            )
        )
    else:
        lines.append(
            ngettext(
                "This home is usually quiet for at most %(hours)s hours at a stretch (the "
                "middle of the longest quiet spell of each of the last %(weeks)s week).",
                "This home is usually quiet for at most %(hours)s hours at a stretch (the "
                "middle of the longest quiet spell of each of the last %(weeks)s weeks).",
                baseline.weeks,
            )
            % {"hours": _hours(baseline.hours), "weeks": baseline.weeks}
        )
        if threshold > watch.quiet_hours:
            lines.append(
                _("So a check opens after %(threshold)s hours (never more than twice %(hours)s).")
                % {"threshold": _hours(threshold), "hours": watch.quiet_hours}
            )
    return lines


# --------------------------------------------------------------------------- report


@dataclass
class ReportRow:
    """Checks of one household (``household_id`` may be ``None``: the resident had none) in
    one month, or the community's totals (``is_total``)."""

    household_id: int | None
    household_label: str
    month: dt.date
    checks: int
    false_alarms: int
    real: int
    rate: float | None
    is_total: bool = False


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months_back(first: dt.date, count: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


def _rate(false_alarms: int, real: int) -> float | None:
    decided = false_alarms + real
    return round(false_alarms / decided, 3) if decided else None


def false_alarm_report(
    scope: Scope, *, community_id: int, months: int = 6, now: dt.datetime | None = None
) -> list[ReportRow]:
    """Checks, false alarms and real ones per household and month (by the local month the
    check opened), for this month and the ``months - 1`` before it, newest month first; each
    month ends with the community's totals (``is_total``, present for every month even
    without checks). A false alarm is a check closed as safe, away or activity seen again; a
    real one closed as needed help or emergency; open checks and checks closed because the
    enrolment ended are neither. ``rate`` is false alarms / (false alarms + real), ``None``
    when there is neither. 404 without VIEW_WELFARE in the community."""
    if not may_view(scope, community_id):
        raise Http404
    now = now or timezone.now()
    months = max(1, min(int(months), REPORT_MONTHS_MAX))
    this_month = _month_start(timezone.localdate(now))
    first = _months_back(this_month, months - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    counts: dict[tuple[dt.date, int | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    for household_id, opened_at, status, outcome in WelfareCheck.objects.filter(
        community_id=community_id, opened_at__gte=start, opened_at__lte=now
    ).values_list("household_id", "opened_at", "status", "outcome"):
        month = _month_start(timezone.localtime(opened_at).date())
        row = counts[(month, household_id)]
        row[0] += 1
        if status == CheckStatus.CLOSED and outcome in FALSE_ALARM_OUTCOMES:
            row[1] += 1
        elif status == CheckStatus.CLOSED and outcome in REAL_OUTCOMES:
            row[2] += 1
    labels = _household_labels({household_id for _month, household_id in counts})
    rows: list[ReportRow] = []
    month = this_month
    for _index in range(months):
        households = sorted(
            (household_id for m, household_id in counts if m == month),
            key=lambda h: (h is None, labels.get(h, "") if h is not None else "", h or 0),
        )
        totals = [0, 0, 0]
        for member_of in households:
            checks, false_alarms, real = counts[(month, member_of)]
            totals = [totals[0] + checks, totals[1] + false_alarms, totals[2] + real]
            rows.append(
                ReportRow(
                    household_id=member_of,
                    household_label=labels.get(member_of, "")
                    if member_of is not None
                    else _("No household"),
                    month=month,
                    checks=checks,
                    false_alarms=false_alarms,
                    real=real,
                    rate=_rate(false_alarms, real),
                )
            )
        rows.append(
            ReportRow(
                household_id=None,
                household_label=_("All households"),
                month=month,
                checks=totals[0],
                false_alarms=totals[1],
                real=totals[2],
                rate=_rate(totals[1], totals[2]),
                is_total=True,
            )
        )
        month = _months_back(month, 1)
    return rows


def _household_labels(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = [household_id for household_id in ids if household_id is not None]
    if not wanted:
        return {}
    return {
        household.pk: household.address
        for household in Household.objects.filter(pk__in=wanted).select_related("unit__building")
    }


# --------------------------------------------------------------------------- households


def current_household(resident_id: int, *, today: dt.date) -> Household | None:
    """The household the resident lives in now (the latest current membership), with its
    building's grid and grid worker loaded."""
    member = (
        HouseholdMember.objects.filter(resident_id=resident_id)
        .filter(Q(until__isnull=True) | Q(until__gte=today))
        .select_related("household__unit__building__grid__grid_worker")
        .order_by(F("since").desc(nulls_last=True), "-id")
        .first()
    )
    return member.household if member is not None else None


def enrollable_residents(scope: Scope, community_id: int, *, q: str = "") -> QuerySet[Resident]:
    """Residents of a community the caller manages who may be enrolled: not moved out and not
    enrolled now (an ended enrolment may start again); none without MANAGE_WELFARE there.
    Those welfare checks are for come first (a welfare consent in force, then the elderly
    living alone and those who need care), then by name; ``q`` narrows by name."""
    if not may_manage(scope, community_id):
        return Resident.objects.none()
    residents = Resident.objects.filter(community_id=community_id, moved_out_at__isnull=True)
    if q.strip():
        residents = residents.filter(name__icontains=q.strip())
    return (
        residents.exclude(
            Exists(WelfareWatch.objects.filter(resident=OuterRef("pk"), ended_at__isnull=True))
        )
        .annotate(
            consenting=Exists(
                ConsentRecord.objects.filter(
                    resident=OuterRef("pk"), kind=ConsentKind.WELFARE, withdrawn_at__isnull=True
                )
            ),
            vulnerable=Exists(
                ResidentTagLink.objects.filter(
                    resident=OuterRef("pk"),
                    tag__in=[ResidentTag.LIVING_ALONE, ResidentTag.NEEDS_CARE],
                )
            ),
        )
        .order_by("-consenting", "-vulnerable", "name", "id")
    )


@dataclass
class ListStatus:
    """What the enrolment list shows of where a watched resident stands."""

    quiet_for_hours: float | None
    threshold_hours: float
    baseline_hours: float | None
    paused: bool
    open_check_id: int | None


def watch_list_statuses(
    watches: list[WelfareWatch], *, now: dt.datetime
) -> list[tuple[WelfareWatch, ListStatus]]:
    """Each listed enrolment with where it stands, in a fixed number of queries whatever the
    number (what :func:`watch_status` tells of one, less the explanation)."""
    activity = latest_activity(watches, now=now)
    last_closed = dict(
        WelfareCheck.objects.filter(watch__in=watches, status=CheckStatus.CLOSED)
        .values("watch_id")
        .annotate(last=Max("closed_at"))
        .values_list("watch_id", "last")
    )
    rows = []
    for watch in watches:
        baseline = stored_baseline(watch) if watch.use_baseline else None
        start = silence_start(watch, activity.get(watch.pk), last_closed.get(watch.pk))
        quiet = None if watch.ended_at else max(0.0, (now - start).total_seconds() / 3600)
        rows.append(
            (
                watch,
                ListStatus(
                    quiet_for_hours=quiet,
                    threshold_hours=threshold_hours(watch, baseline),
                    baseline_hours=baseline.hours if baseline is not None else None,
                    paused=is_paused(watch, now),
                    open_check_id=getattr(watch, "open_check_id", None),
                ),
            )
        )
    return rows


def welfare_consent_in_force(resident: Resident) -> ConsentRecord | None:
    """The resident's welfare-check consent not withdrawn, if any."""
    return ConsentRecord.objects.filter(
        resident=resident, kind=ConsentKind.WELFARE, withdrawn_at__isnull=True
    ).first()


def status_words(watch: WelfareWatch, state: WatchStatus) -> str:
    """Where a watched resident stands, in one or two translated sentences (whole sentences,
    so that each language words and punctuates them its own way)."""
    if watch.ended_at is not None:
        return _("Ended on %(at)s.") % {
            "at": timezone.localtime(watch.ended_at).strftime("%Y-%m-%d %H:%M")
        }
    values: dict[str, Any] = {"threshold": round(state.threshold_hours)}
    if state.quiet_for_hours is not None:
        values["quiet"] = round(state.quiet_for_hours)
    baseline = state.baseline
    if baseline is not None:
        values |= {"baseline": round(baseline.hours), "weeks": baseline.weeks}
        if "quiet" in values:
            words = ngettext(
                "Quiet for %(quiet)s h; a check opens after %(threshold)s h (usually quiet up "
                "to %(baseline)s h, learned from %(weeks)s week).",
                "Quiet for %(quiet)s h; a check opens after %(threshold)s h (usually quiet up "
                "to %(baseline)s h, learned from %(weeks)s weeks).",
                baseline.weeks,
            )
        else:
            words = ngettext(
                "No activity seen yet; a check opens after %(threshold)s h (usually quiet up "
                "to %(baseline)s h, learned from %(weeks)s week).",
                "No activity seen yet; a check opens after %(threshold)s h (usually quiet up "
                "to %(baseline)s h, learned from %(weeks)s weeks).",
                baseline.weeks,
            )
    elif "quiet" in values:
        words = _("Quiet for %(quiet)s h; a check opens after %(threshold)s h.")
    else:
        words = _("No activity seen yet; a check opens after %(threshold)s h.")
    text = words % values
    if state.paused and watch.paused_until is not None:
        until = timezone.localtime(watch.paused_until).strftime("%Y-%m-%d %H:%M")
        text += " " + _("Paused until %(until)s.") % {"until": until}
    return text


def viewed(user: User | None, action: str, obj: Any, community_id: int, **details: Any) -> None:
    """Write down that ``user`` saw when a watched resident was last active (a person's
    movements: every page and API read that shows it is audited, as access records are)."""
    audit_record(
        actor=user, action=action, obj=obj, community_id=community_id, changes=details or None
    )


def with_households(watches: Iterable[WelfareWatch]) -> None:
    """Give each watch a ``household`` attribute: where the resident lives now (one query)."""
    watches = list(watches)
    members = HouseholdMember.objects.filter(
        resident_id__in=[w.resident_id for w in watches], until__isnull=True
    ).select_related("household__unit__building")
    where = {member.resident_id: member.household for member in members}
    for watch in watches:
        watch.household = where.get(watch.resident_id)  # type: ignore[attr-defined]


def is_overdue(check: WelfareCheck, now: dt.datetime) -> bool:
    """An open check past its escalation time (or already escalated)."""
    return check.status == CheckStatus.OPEN and (
        check.escalated_at is not None or check.escalate_at <= now
    )


def flag_overdue(checks: Iterable[WelfareCheck], now: dt.datetime) -> list[WelfareCheck]:
    """Mark each check with ``overdue`` (:func:`is_overdue`), for the pages to highlight."""
    checks = list(checks)
    for check in checks:
        check.overdue = is_overdue(check, now)  # type: ignore[attr-defined]
    return checks

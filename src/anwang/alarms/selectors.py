"""Reads of the alarms domain, already scoped to what the caller may see.

Seeing alarms needs :attr:`Permission.VIEW_ALARMS` in their community; an alarm of a community
the caller cannot see is 404. Response times fall back to :data:`DEFAULT_RESPONSE_TIMES` for
every priority a community has not set.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import Membership, User
from anwang.accounts.roles import ROLE_PERMISSIONS
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.alarms.choices import OPEN_STATES, AlarmState
from anwang.alarms.models import (
    Alarm,
    AlarmPhoto,
    AlarmStep,
    Escalation,
    ResponseTime,
    ShiftHandover,
)
from anwang.core import geo
from anwang.core.dashboard import Stat
from anwang.core.inbox import WorkItem
from anwang.core.selectors import communities_permitted
from anwang.events.models import DeviceEvent
from anwang.places.models import Community
from anwang.rules.choices import Priority

VIEW = Permission.VIEW_ALARMS
HANDLE = Permission.HANDLE_ALARMS
MANAGE = Permission.MANAGE_RULES


@dataclass(frozen=True)
class ResponseTimeValue:
    """How soon an alarm of one priority must be acknowledged and reached, and whether a
    breach raises its priority; ``is_default`` when the community has not set it."""

    priority: int
    acknowledge_seconds: int
    on_scene_seconds: int
    raise_priority: bool = False
    is_default: bool = True
    by_next_shift: bool = False
    """Due at the operators' next shift change (see :func:`next_shift_change`) rather than a
    number of seconds after the raise; the seconds stand when the roster names nobody."""


DEFAULT_RESPONSE_TIMES: dict[int, ResponseTimeValue] = {
    Priority.P1: ResponseTimeValue(Priority.P1, 15, 5 * 60),
    Priority.P2: ResponseTimeValue(Priority.P2, 60, 10 * 60),
    Priority.P3: ResponseTimeValue(Priority.P3, 5 * 60, 30 * 60),
    # "By the next shift"; half a day when the community keeps no operators' roster.
    Priority.P4: ResponseTimeValue(Priority.P4, 12 * 3600, 12 * 3600, by_next_shift=True),
}
"""Response times of a community that has not set its own (issue 4)."""

SHIFT_CHANGE_GRACE = dt.timedelta(hours=1)
"""An alarm due "by the next shift" raised less than this before a shift change is left to
the shift after it: the outgoing operators hand it over rather than race the clock."""


def next_shift_change(community_id: int, after: dt.datetime) -> dt.datetime | None:
    """When an alarm raised at ``after`` is due "by the next shift": the end of the operator
    shift on duty then, or of the next one when that end is within :data:`SHIFT_CHANGE_GRACE`;
    None when the roster has no operator shift ending in the next two days."""
    from anwang.rosters.choices import DutyRole
    from anwang.rosters.selectors import duties_between

    earliest = after + SHIFT_CHANGE_GRACE
    ends = sorted(
        duty.end
        for duty in duties_between(
            community_id=community_id,
            since=after,
            until=after + dt.timedelta(days=2),
            duty_role=DutyRole.OPERATOR,
        )
        if duty.end >= earliest
    )
    return ends[0] if ends else None


def _visible(scope: Scope, queryset: QuerySet[Alarm]) -> QuerySet[Alarm]:
    if acts_platform_wide(scope):
        return queryset
    return scope.filter(queryset, VIEW, "community_id")


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the alarms of a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_handle(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may acknowledge, dispatch and close the alarms of a community."""
    return acts_platform_wide(scope) or scope.has(HANDLE, community_id)


def can_manage_response_times(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may set a community's response times."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def viewable_communities(scope: Scope) -> QuerySet[Community]:
    """Communities whose alarms the caller may see, by name."""
    return communities_permitted(scope, VIEW)


def alarm_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    state: str | None = None,
    priority: int | None = None,
    device_id: int | None = None,
    zone_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    rule_id: int | None = None,
    open_only: bool = False,
) -> QuerySet[Alarm]:
    """Alarms the caller may see, newest first; ``since``/``until`` bound the raise time
    (``until`` exclusive)."""
    alarms = _visible(scope, Alarm.objects.all()).select_related(
        "community", "rule", "device", "zone", "assignee", "closed_by"
    )
    if community_id is not None:
        alarms = alarms.filter(community_id=community_id)
    if state:
        alarms = alarms.filter(state=state)
    if open_only:
        alarms = alarms.filter(state__in=OPEN_STATES)
    if priority is not None:
        alarms = alarms.filter(priority=priority)
    if device_id is not None:
        alarms = alarms.filter(device_id=device_id)
    if zone_id is not None:
        alarms = alarms.filter(zone_id=zone_id)
    if rule_id is not None:
        alarms = alarms.filter(rule_id=rule_id)
    if since is not None:
        alarms = alarms.filter(raised_at__gte=since)
    if until is not None:
        alarms = alarms.filter(raised_at__lt=until)
    return alarms.order_by("-raised_at", "-id")


QUEUE_FIELDS = (
    "id",
    "community_id",
    "priority",
    "state",
    "title",
    "title_template",
    "title_values",
    "count",
    "raised_at",
    "acknowledge_due_at",
    "on_scene_due_at",
    "on_scene_at",
    "device__name",
    "zone__name",
    "assignee__username",
    "assignee__display_name",
)
"""What a queue row shows of an alarm (the console lists every open one)."""


def alarm_queue(scope: Scope, *, community_id: int) -> QuerySet[Alarm]:
    """A community's open alarms the caller may see, most urgent first, then oldest first,
    loaded with only what a queue row shows (other fields load one query each: use
    :func:`alarm_get` for the whole alarm)."""
    return (
        _visible(scope, Alarm.objects.all())
        .filter(community_id=community_id, state__in=OPEN_STATES)
        .select_related("device", "zone", "assignee")
        .only(*QUEUE_FIELDS)
        .order_by("priority", "raised_at", "id")
    )


def alarm_get(scope: Scope, alarm_id: int) -> Alarm:
    """One visible alarm; 404 for another community's."""
    found = alarm_list(scope).filter(pk=alarm_id).first()
    if found is None:
        raise Http404
    return found


def alarm_steps(alarm: Alarm) -> QuerySet[AlarmStep]:
    """An alarm's history, oldest first, with who did each step."""
    return alarm.steps.select_related("actor").order_by("at", "id")


def alarm_events(alarm: Alarm, limit: int = 100) -> list[DeviceEvent]:
    """The device events that made an alarm fire, newest first (at most ``limit``)."""
    return list(
        DeviceEvent.objects.filter(alarm_links__alarm=alarm)
        .select_related("device")
        .order_by("-received_at", "-id")[:limit]
    )


def alarm_photos(alarm: Alarm) -> QuerySet[AlarmPhoto]:
    """An alarm's photos, oldest first."""
    return alarm.photos.select_related("uploaded_by").order_by("uploaded_at", "id")


def alarm_escalations(alarm: Alarm) -> QuerySet[Escalation]:
    """An alarm's missed response times, with their recipients."""
    return alarm.escalation_records.prefetch_related("recipients").order_by("at", "id")


# --------------------------------------------------------------------------- people


def handler_roles() -> list[str]:
    """Community roles that may handle alarms."""
    return [role.value for role, granted in ROLE_PERMISSIONS.items() if HANDLE in granted]


def dispatchable_people(scope: Scope, community_id: int) -> QuerySet[User]:
    """Staff an alarm of the community may be dispatched to (holders of the handle-alarms
    permission there), by name."""
    if not can_view(scope, community_id):
        raise Http404
    holders = Membership.objects.filter(
        user=OuterRef("pk"), community_id=community_id, role__in=handler_roles()
    )
    return User.objects.filter(Exists(holders), is_active=True).order_by(
        "display_name", "username", "id"
    )


def may_be_dispatched(user: User, community_id: int) -> bool:
    """Whether a person holds the handle-alarms permission in the community."""
    return (
        user.is_active
        and Membership.objects.filter(
            user=user, community_id=community_id, role__in=handler_roles()
        ).exists()
    )


# --------------------------------------------------------------------------- response times


def response_times(community: Community | int) -> list[ResponseTimeValue]:
    """A community's response time for every priority, the defaults filled in."""
    community_id = community if isinstance(community, int) else community.pk
    return list(response_times_by_community([community_id])[community_id].values())


def response_times_by_community(
    community_ids: Iterable[int],
) -> dict[int, dict[int, ResponseTimeValue]]:
    """Response times of several communities (one query), by community and priority."""
    ids = set(community_ids)
    table = {cid: dict(DEFAULT_RESPONSE_TIMES) for cid in ids}
    for row in ResponseTime.objects.filter(community_id__in=ids):
        table[row.community_id][row.priority] = ResponseTimeValue(
            row.priority,
            row.acknowledge_seconds,
            row.on_scene_seconds,
            row.raise_priority,
            is_default=False,
        )
    return {cid: dict(sorted(values.items())) for cid, values in table.items()}


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Durations:
    """Median and mean of a set of durations, in seconds (``None`` when there are none)."""

    count: int = 0
    median: float | None = None
    mean: float | None = None


@dataclass(frozen=True)
class FalseRate:
    """How many of a device's (or rule's) alarms were false."""

    id: int | None
    name: str
    total: int
    false: int

    @property
    def rate(self) -> float:
        """The share of false alarms, 0 to 1."""
        return self.false / self.total if self.total else 0.0


@dataclass(frozen=True)
class AlarmStats:
    """Alarm figures of one community over a period."""

    total: int = 0
    open: int = 0
    false: int = 0
    by_priority: dict[int, int] = field(default_factory=dict)
    by_rule: list[tuple[int | None, str, int]] = field(default_factory=list)
    to_acknowledge: Durations = Durations()
    to_resolve: Durations = Durations()
    false_by_device: list[FalseRate] = field(default_factory=list)
    false_by_rule: list[FalseRate] = field(default_factory=list)


def _durations(values: list[float]) -> Durations:
    if not values:
        return Durations()
    return Durations(len(values), statistics.median(values), statistics.fmean(values))


def alarm_stats(
    scope: Scope,
    community_id: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> AlarmStats:
    """Counts by priority and by rule, time to acknowledge and to resolve (of resolved alarms;
    false alarms are not 'resolved'), and false-alarm rates by device and by rule, for the
    alarms raised in ``[since, until)``. Counts are made by the database; medians from the
    two timestamps of each alarm, which no portable SQL computes."""
    if not can_view(scope, community_id):
        raise Http404
    alarms = alarm_list(scope, community_id=community_id, since=since, until=until).order_by()
    is_false = Q(state=AlarmState.FALSE_ALARM)
    totals = alarms.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        false=Count("pk", filter=is_false),
    )
    by_priority = {int(p): 0 for p in Priority.values}
    for row in alarms.values("priority").annotate(n=Count("pk")):
        by_priority[row["priority"]] = row["n"]
    manual = _("Raised by hand")
    rules = list(
        alarms.values("rule_id", "rule__name")
        .annotate(n=Count("pk"), false=Count("pk", filter=is_false))
        .order_by("-n", "rule__name")
    )
    devices = list(
        alarms.filter(device__isnull=False)
        .values("device_id", "device__name")
        .annotate(n=Count("pk"), false=Count("pk", filter=is_false))
        .filter(false__gt=0)
        .order_by("-false", "-n", "device__name")[:50]
    )
    to_acknowledge: list[float] = []
    to_resolve: list[float] = []
    for raised_at, acknowledged_at, closed_at, state in alarms.filter(
        Q(acknowledged_at__isnull=False) | Q(state=AlarmState.RESOLVED)
    ).values_list("raised_at", "acknowledged_at", "closed_at", "state"):
        if acknowledged_at is not None:
            to_acknowledge.append(max(0.0, (acknowledged_at - raised_at).total_seconds()))
        if state == AlarmState.RESOLVED and closed_at is not None:
            to_resolve.append(max(0.0, (closed_at - raised_at).total_seconds()))
    return AlarmStats(
        total=totals["total"],
        open=totals["open"],
        false=totals["false"],
        by_priority=by_priority,
        by_rule=[(r["rule_id"], r["rule__name"] or manual, r["n"]) for r in rules],
        to_acknowledge=_durations(to_acknowledge),
        to_resolve=_durations(to_resolve),
        false_by_device=[
            FalseRate(d["device_id"], d["device__name"], d["n"], d["false"]) for d in devices
        ],
        false_by_rule=sorted(
            (
                FalseRate(r["rule_id"], r["rule__name"] or manual, r["n"], r["false"])
                for r in rules
                if r["false"]
            ),
            key=lambda rate: (-rate.rate, -rate.total, rate.name),
        ),
    )


# --------------------------------------------------------------------------- dashboard and inbox


def open_counts(scope: Scope, community: Community | None) -> dict[int, int]:
    """Open alarms by priority, of one community or of all the caller may see."""
    alarms = _visible(scope, Alarm.objects.filter(state__in=OPEN_STATES))
    if community is not None:
        alarms = alarms.filter(community_id=community.pk)
    counts = {int(p): 0 for p in Priority.values}
    for row in alarms.order_by().values("priority").annotate(n=Count("pk")):
        counts[row["priority"]] = row["n"]
    return counts


def alarm_dashboard_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: open alarms by priority (registered in ``AlarmsConfig.ready``)."""
    if community is not None:
        if not can_view(scope, community.pk):
            return []
    elif not (acts_platform_wide(scope) or scope.has_anywhere(VIEW)):
        return []
    url = reverse("alarms:alarm_list")
    counts = open_counts(scope, community)
    return [
        Stat(
            f"alarms_open_p{priority}",
            _("Open P%(priority)d alarms") % {"priority": priority},
            count,
            f"{url}?open=yes&priority={priority}",
            tone=("key" if priority == Priority.P1 else "warn") if count else "",
        )
        for priority, count in counts.items()
    ]


def alarm_work_items(scope: Scope) -> list[WorkItem]:
    """'My work' items: open alarms dispatched to the person, and open alarms whose missed
    response time was escalated to them (until the notification outbox exists)."""
    if scope.user is None:
        return []
    visible = scope.community_ids(VIEW)
    dispatched = list(
        Alarm.objects.filter(
            assignee=scope.user,
            state__in=[AlarmState.DISPATCHED, AlarmState.ON_SCENE],
            community_id__in=visible,
        )
        .select_related("community")
        .order_by("priority", "raised_at")[:50]
    )
    escalated = list(
        Escalation.objects.filter(
            recipients=scope.user, alarm__state__in=OPEN_STATES, alarm__community_id__in=visible
        )
        .exclude(alarm__in=[alarm.pk for alarm in dispatched])
        .select_related("alarm", "alarm__community")
        .order_by("alarm__priority", "-at")[:50]
    )
    items: list[WorkItem] = []
    for alarm in dispatched:
        items.append(
            WorkItem(
                source="alarms",
                title=_("P%(priority)d alarm dispatched to you: %(title)s")
                % {"priority": alarm.priority, "title": alarm.display_title()},
                # The guard's phone page, where accepting, on scene and photos are one tap.
                url=f"{reverse('alarms:guard_mine')}#alarm-{alarm.pk}",
                community_id=alarm.community_id,
                due_at=alarm.on_scene_due_at if alarm.on_scene_at is None else None,
                priority=alarm.priority,
                detail=alarm.community.name,
            )
        )
    seen: set[int] = set()
    for escalation in escalated:
        alarm = escalation.alarm
        if alarm.pk in seen:
            continue
        seen.add(alarm.pk)
        items.append(
            WorkItem(
                source="alarms",
                title=_("Escalated P%(priority)d alarm (%(missed)s missed): %(title)s")
                % {
                    "priority": alarm.priority,
                    "missed": escalation.get_sla_display(),
                    "title": alarm.display_title(),
                },
                url=reverse("alarms:alarm_detail", args=[alarm.pk]),
                community_id=alarm.community_id,
                due_at=escalation.at,
                priority=alarm.priority,
                detail=alarm.community.name,
            )
        )
    return items


# --------------------------------------------------------------------------- the guard's page

GUARD_CLOSED_SHOWN = 10
"""How many of the person's recently closed alarms the guard's page still shows."""


def guard_alarms(scope: Scope) -> list[Alarm]:
    """The alarms dispatched to the person: the open ones (most urgent, then oldest first),
    then the last few closed ones, with their history and photos."""
    if scope.user is None:
        return []
    mine = (
        alarm_list(scope)
        .filter(assignee=scope.user)
        .prefetch_related(
            Prefetch(
                "steps", queryset=AlarmStep.objects.select_related("actor").order_by("at", "id")
            ),
            Prefetch("photos", queryset=AlarmPhoto.objects.order_by("uploaded_at", "id")),
        )
    )
    still_open = list(mine.filter(state__in=OPEN_STATES).order_by("priority", "raised_at", "id"))
    closed = list(
        mine.exclude(state__in=OPEN_STATES).order_by("-closed_at", "-id")[:GUARD_CLOSED_SHOWN]
    )
    return still_open + closed


def guard_alarm_get(scope: Scope, alarm_id: int) -> Alarm:
    """One alarm dispatched to the person; 404 for any other (also one they could see)."""
    found = (
        alarm_list(scope).filter(pk=alarm_id, assignee=scope.user).first()
        if scope.user is not None
        else None
    )
    if found is None:
        raise Http404
    return found


def alarm_position(alarm: Alarm) -> tuple[float, float] | None:
    """Where to look for an alarm as (longitude, latitude): its device's position, else the
    centre of its zone (or its device's zone); ``None`` when neither is known."""
    device = alarm.device
    if device is not None and device.longitude is not None and device.latitude is not None:
        return device.longitude, device.latitude
    zone = alarm.zone or (device.zone if device is not None else None)
    if zone is not None and zone.geometry:
        try:
            return geo.centroid(zone.geometry)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None  # a shape that cannot be read shows no map rather than an error
    return None


# --------------------------------------------------------------------------- shift handover


def handover_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    pending: bool | None = None,
) -> QuerySet[ShiftHandover]:
    """The handover log the caller may see (view-alarms permission), newest first;
    ``since``/``until`` bound the writing time (``until`` exclusive)."""
    handovers = ShiftHandover.objects.select_related(
        "community", "from_user", "to_user", "acknowledged_by"
    )
    if not acts_platform_wide(scope):
        handovers = scope.filter(handovers, VIEW, "community_id")
    if community_id is not None:
        handovers = handovers.filter(community_id=community_id)
    if since is not None:
        handovers = handovers.filter(created_at__gte=since)
    if until is not None:
        handovers = handovers.filter(created_at__lt=until)
    if pending is not None:
        handovers = handovers.filter(acknowledged_at__isnull=pending)
    return handovers.order_by("-created_at", "-id")


def handover_get(scope: Scope, handover_id: int) -> ShiftHandover:
    """One visible handover; 404 for another community's."""
    found = handover_list(scope).filter(pk=handover_id).first()
    if found is None:
        raise Http404
    return found


def may_acknowledge_handover(scope: Scope, handover: ShiftHandover) -> bool:
    """Whether the person may acknowledge the handover (the service decides anyway)."""
    user = scope.user
    return (
        user is not None
        and handover.acknowledged_at is None
        and handover.from_user_id != user.pk
        and handover.to_user_id in (None, user.pk)
        and can_handle(scope, handover.community_id)
    )


def handovers_to_acknowledge(scope: Scope, community_id: int | None = None) -> list[ShiftHandover]:
    """Handovers waiting for the person to take over: pending, written by someone else, for
    them or for anyone, in communities where they handle alarms; oldest first."""
    user = scope.user
    if user is None:
        return []
    handovers = (
        handover_list(scope, community_id=community_id, pending=True)
        .exclude(from_user=user)
        .filter(Q(to_user__isnull=True) | Q(to_user=user))
    )
    if not acts_platform_wide(scope):
        handovers = handovers.filter(community_id__in=scope.community_ids(HANDLE))
    return list(handovers.order_by("created_at", "id"))


def handover_recipients(scope: Scope, community_id: int) -> QuerySet[User]:
    """Whom a handover may be addressed to: the community's alarm handlers but the writer."""
    people = dispatchable_people(scope, community_id)
    return people.exclude(pk=scope.user.pk) if scope.user is not None else people


def on_duty_until(community_id: int) -> dict[int, dt.datetime]:
    """Who is on duty in the community now (any duty role), with the end of their shift, by
    person id: the people to dispatch first."""
    from anwang.rosters.selectors import on_duty_now

    until: dict[int, dt.datetime] = {}
    for duty in on_duty_now(community_id):
        until[duty.person.pk] = max(duty.end, until.get(duty.person.pk, duty.end))
    return until

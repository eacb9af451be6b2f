"""Reads of the rosters domain: who is on duty at a moment, and the duties in a period.

:func:`on_duty` (and :func:`on_duty_now`, :func:`on_duty_in` for several communities) is the
one answer to "who is on duty now" that every other capability uses (incidents assign plan
steps by it). Shifts come from the patterns' RRULEs
(:func:`anwang.patrols.schedules.shifts`); then exceptions cancel shifts or hand them to
someone else. Shift ends are exclusive: at the instant one shift ends and the next begins,
only the next one's person is on duty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.core.ical import CalendarEntry, calendar_ics
from anwang.patrols.schedules import MAX_SHIFT, ScheduleError, Shift, shifts
from anwang.places.models import Community
from anwang.rosters.choices import DutyRole, ExceptionKind
from anwang.rosters.models import DutyException, DutyPattern

_INSTANT = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class OnDuty:
    """One shift of duty as it stands after exceptions: who holds it, as what, and when."""

    person: User
    duty_role: str
    start: dt.datetime
    end: dt.datetime
    pattern: DutyPattern
    shift_key: str
    swapped_from: User | None = None
    cancelled: bool = False
    """Only in answers that ask for cancelled shifts (pages show them struck through);
    ``person`` is then the pattern's person, who is not on duty."""
    exception: DutyException | None = None
    """The exception that decided this shift (a swap or a cancellation), if any."""

    @property
    def uid(self) -> str:
        """Stable per pattern and shift, for calendar files."""
        return f"duty-{self.pattern.pk}-{self.shift_key}@anwang"


def _applies(exception: DutyException, pattern: DutyPattern, start: dt.datetime, key: str) -> bool:
    if exception.community_id != pattern.community_id:
        return False  # a person's leave in one community says nothing of another
    if exception.pattern_id is not None:
        if exception.pattern_id != pattern.pk:
            return False
    elif exception.person_id != pattern.person_id or exception.duty_role != pattern.duty_role:
        return False
    if exception.shift_key:
        return exception.shift_key == key
    assert exception.starts_at is not None
    assert exception.ends_at is not None
    return exception.starts_at <= start < exception.ends_at


def pattern_shifts(pattern: DutyPattern, since: dt.datetime, until: dt.datetime) -> list[Shift]:
    """The pattern's shifts overlapping ``[since, until)`` as its rule gives them, before any
    exception; none for a rule that no longer validates."""
    zone = timezone.get_current_timezone()
    try:
        found = shifts(
            rule=pattern.rrule,
            first_start=pattern.first_start.astimezone(zone),
            duration=pattern.duration,
            since=since,
            until=until,
        )
    except (ScheduleError, ValueError):
        return []  # a rule saved before a validation change never breaks the roster
    # Recurrence keeps whole seconds: a first start stored with microseconds (through the
    # API or a script) must not lose its first shift.
    first = pattern.first_start.replace(microsecond=0)
    return [shift for shift in found if shift.start >= first]


def _resolve(
    patterns: Iterable[DutyPattern],
    exceptions: Sequence[DutyException],
    since: dt.datetime,
    until: dt.datetime,
    *,
    include_cancelled: bool = False,
) -> list[OnDuty]:
    found: list[OnDuty] = []
    for pattern in patterns:
        for shift in pattern_shifts(pattern, since, until):
            # The latest exception wins: a swap may be cancelled by a later "off" and so on.
            last = next(
                (
                    exc
                    for exc in reversed(exceptions)
                    if _applies(exc, pattern, shift.start, shift.key)
                ),
                None,
            )
            person, swapped_from, cancelled = pattern.person, None, False
            if last is not None:
                if last.kind == ExceptionKind.OFF:
                    if not include_cancelled:
                        continue
                    cancelled = True
                else:
                    assert last.replacement is not None
                    person, swapped_from = last.replacement, pattern.person
            found.append(
                OnDuty(
                    person=person,
                    duty_role=pattern.duty_role,
                    start=shift.start,
                    end=shift.end,
                    pattern=pattern,
                    shift_key=shift.key,
                    swapped_from=swapped_from,
                    cancelled=cancelled,
                    exception=last,
                )
            )
    found.sort(key=lambda duty: (duty.start, duty.duty_role, duty.person.pk))
    return found


def duties_between(
    *,
    since: dt.datetime,
    until: dt.datetime,
    community_id: int | None = None,
    person_id: int | None = None,
    duty_role: str | None = None,
    community_ids: Iterable[int] | None = None,
    include_cancelled: bool = False,
    extra_exceptions: Sequence[DutyException] = (),
) -> list[OnDuty]:
    """The duties overlapping ``[since, until)`` of a community, of a person (as they stand
    after swaps, so a shift swapped to them is theirs), of several communities
    (``community_ids``), or both; in order of start.

    Cancelled shifts are left out unless ``include_cancelled`` (pages strike them through).
    ``extra_exceptions`` (unsaved) apply after the stored ones: the roster as a change would
    leave it, to check the change before it is saved."""
    if community_id is not None:
        community_ids = [community_id]
    if community_ids is None and person_id is None:
        raise ValueError("give a community or a person")
    patterns: QuerySet[DutyPattern] = DutyPattern.objects.filter(is_active=True).select_related(
        "person", "community"
    )
    exceptions = DutyException.objects.select_related("replacement").order_by("created_at", "id")
    if community_ids is not None:
        ids = list(community_ids)
        patterns = patterns.filter(community_id__in=ids)
        exceptions = exceptions.filter(community_id__in=ids)
    else:
        # A person's own patterns and those swapped to them, in any community.
        swapped = DutyException.objects.filter(replacement_id=person_id).values("community_id")
        patterns = patterns.filter(Q(person_id=person_id) | Q(community_id__in=swapped))
        exceptions = exceptions.filter(community_id__in=patterns.values("community_id").distinct())
    if duty_role:
        patterns = patterns.filter(duty_role=duty_role)
        exceptions = exceptions.filter(duty_role=duty_role)
    resolved = _resolve(
        list(patterns),
        [*exceptions, *extra_exceptions],
        since,
        until,
        include_cancelled=include_cancelled,
    )
    if person_id is not None:
        resolved = [duty for duty in resolved if duty.person.pk == person_id]
    return resolved


def on_duty_in(
    community_ids: Iterable[int],
    at: dt.datetime,
    duty_role: str | None = None,
    *,
    include_cancelled: bool = False,
) -> list[OnDuty]:
    """:func:`on_duty` for several communities in one roster read (escalations, dashboards);
    each duty's community is ``duty.pattern.community_id``."""
    return [
        duty
        for duty in duties_between(
            since=at,
            until=at + _INSTANT,
            community_ids=community_ids,
            duty_role=duty_role,
            include_cancelled=include_cancelled,
        )
        if duty.start <= at < duty.end
    ]


def on_duty(
    *,
    community_id: int,
    at: dt.datetime,
    duty_role: str | None = None,
    include_cancelled: bool = False,
) -> list[OnDuty]:
    """Who is on duty in the community at the instant ``at`` (shift start inclusive, end
    exclusive), optionally in one duty role; with ``include_cancelled`` also the cancelled
    shifts of that instant, marked so (for pages only: nobody holds them)."""
    return on_duty_in([community_id], at, duty_role, include_cancelled=include_cancelled)


def on_duty_now(
    community_id: int, duty_role: str | None = None, *, include_cancelled: bool = False
) -> list[OnDuty]:
    """Who is on duty in the community right now."""
    return on_duty(
        community_id=community_id,
        at=timezone.now(),
        duty_role=duty_role,
        include_cancelled=include_cancelled,
    )


def shift_key_start(key: str) -> dt.datetime | None:
    """The local start a shift key names (``YYYYMMDDTHHMM``), or ``None`` if it names none."""
    try:
        local = dt.datetime.strptime(key, "%Y%m%dT%H%M")  # noqa: DTZ007 (wall time of the zone)
    except ValueError:
        return None
    # Through UTC, as the recurrence does, so a wall time skipped by daylight saving moves on.
    zone = timezone.get_current_timezone()
    return local.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def exception_patterns(exception: DutyException) -> list[DutyPattern]:
    """The active patterns an exception is about: its pattern, or all of its person's in the
    duty role in its community."""
    patterns = DutyPattern.objects.filter(
        community_id=exception.community_id, is_active=True
    ).select_related("person", "community")
    if exception.pattern_id is not None:
        return list(patterns.filter(pk=exception.pattern_id))
    return list(patterns.filter(person_id=exception.person_id, duty_role=exception.duty_role))


def exception_shifts(exception: DutyException) -> list[tuple[DutyPattern, Shift]]:
    """The shifts an exception (saved or not) covers as the patterns' rules give them, before
    any exception: by its key or those starting in its range. Empty when it covers none."""
    if exception.shift_key:
        start = shift_key_start(exception.shift_key)
        if start is None:
            return []
        # Any shift starting at that wall time overlaps this window.
        since, until = start - dt.timedelta(hours=2), start + dt.timedelta(hours=2)
    else:
        assert exception.starts_at is not None
        assert exception.ends_at is not None
        since, until = exception.starts_at, exception.ends_at
    return [
        (pattern, shift)
        for pattern in exception_patterns(exception)
        for shift in pattern_shifts(pattern, since, until)
        if _applies(exception, pattern, shift.start, shift.key)
    ]


def may_view(scope: Scope, community_id: int) -> bool:
    """Whether the caller may see the community's roster."""
    return acts_platform_wide(scope) or scope.has(Permission.VIEW_ROSTERS, community_id)


def may_manage(scope: Scope, community_id: int) -> bool:
    """Whether the caller may change the community's roster."""
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_ROSTERS, community_id)


def patterns_visible(scope: Scope, community_id: int) -> QuerySet[DutyPattern]:
    """The community's duty patterns, for those who may see rosters there (404 otherwise)."""
    if not may_view(scope, community_id):
        raise Http404
    return DutyPattern.objects.filter(community_id=community_id).select_related("person")


def pattern_get(scope: Scope, pattern_id: int) -> DutyPattern:
    """One duty pattern the caller may see (404 otherwise, also for other communities')."""
    pattern = (
        DutyPattern.objects.select_related("person", "community").filter(pk=pattern_id).first()
    )
    if pattern is None or not may_view(scope, pattern.community_id):
        raise Http404
    return pattern


RECENT_EXCEPTIONS = dt.timedelta(days=7)
"""How far back the list of exceptions reaches by default: last week's, for the record."""


def exception_start(exception: DutyException) -> dt.datetime | None:
    """When the first shift an exception is about may start: its shift's start or its range's."""
    if exception.shift_key:
        return shift_key_start(exception.shift_key)
    return exception.starts_at


def exceptions_visible(
    scope: Scope, community_id: int, *, since: dt.datetime | None = None
) -> list[DutyException]:
    """The community's exceptions that still matter at or after ``since`` (default a week
    ago): their shift starts, or their range ends, then or later; in order of when they
    apply. 404 for those who may not see the roster."""
    if not may_view(scope, community_id):
        raise Http404
    since = since or timezone.now() - RECENT_EXCEPTIONS
    # A shift key is the local start as YYYYMMDDTHHMM, so keys compare as the times they name.
    earliest_key = timezone.localtime(since - MAX_SHIFT).strftime("%Y%m%dT%H%M")
    rows = list(
        DutyException.objects.filter(community_id=community_id)
        .filter(Q(shift_key__gte=earliest_key) | Q(shift_key="", ends_at__gt=since))
        .select_related("pattern", "person", "replacement", "created_by")
    )
    # The key test above is a day wide (a shift lasts at most a day); the exact one is here.
    kept = [row for row in rows if row.shift_key == "" or _shift_end(row) > since]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    kept.sort(key=lambda row: (exception_start(row) or far, row.created_at, row.pk))
    return kept


def _shift_end(exception: DutyException) -> dt.datetime:
    start = shift_key_start(exception.shift_key)
    if start is None:
        return dt.datetime.max.replace(tzinfo=dt.UTC)  # an odd key is shown, never hidden
    length = exception.pattern.duration if exception.pattern is not None else MAX_SHIFT
    return start + length


def exception_get(scope: Scope, exception_id: int) -> DutyException:
    """One exception the caller may see (404 otherwise, also for other communities')."""
    exception = (
        DutyException.objects.select_related(
            "pattern", "person", "replacement", "created_by", "community"
        )
        .filter(pk=exception_id)
        .first()
    )
    if exception is None or not may_view(scope, exception.community_id):
        raise Http404
    return exception


def community_get(scope: Scope, community_id: int) -> Community:
    """A community whose roster the caller may see; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not may_view(scope, community_id):
        raise Http404
    return community


def roster_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose rosters the caller may see."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(pk__in=scope.community_ids(Permission.VIEW_ROSTERS))


def people_choices(community_id: int, duty_role: str | None = None) -> QuerySet[User]:
    """Active members of the community who may take the duty role (any duty role if
    ``None``), as offered for patterns and swaps."""
    from anwang.rosters.services import ELIGIBLE_ROLES

    roles = ELIGIBLE_ROLES[duty_role] if duty_role else frozenset().union(*ELIGIBLE_ROLES.values())
    return (
        User.objects.filter(
            is_active=True,
            memberships__community_id=community_id,
            memberships__role__in=roles,
        )
        .distinct()
        .order_by("display_name", "username")
    )


def duties_calendar(duties: Iterable[OnDuty], *, name: str) -> bytes:
    """The duties as an iCalendar file, one event per shift (swaps already applied)."""
    entries = [
        CalendarEntry(
            uid=duty.uid,
            summary=f"{DutyRole(duty.duty_role).label} · {duty.pattern.community.name}",
            start=duty.start,
            duration=later_minus(duty.end, duty.start),
            updated_at=duty.pattern.updated_at,
            description=(
                _("Swapped from %(name)s") % {"name": duty.swapped_from}
                if duty.swapped_from
                else duty.pattern.note
            ),
        )
        for duty in duties
    ]
    return calendar_ics(entries, name=name)


def later_minus(end: dt.datetime, start: dt.datetime) -> dt.timedelta:
    """Real time between two aware moments (Python subtracts wall times within one zone)."""
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


def roster_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figure: how many people are on duty now (in the community, or in all those
    whose rosters the caller sees)."""
    if community is not None:
        ids = [community.pk] if may_view(scope, community.pk) else []
    else:
        ids = list(roster_communities(scope).values_list("pk", flat=True))
    if not ids:
        return []
    count = len(on_duty_in(ids, timezone.now()))
    return [
        Stat(
            key="rosters_on_duty",
            label=_("On duty now"),
            value=count,
            url=reverse("rosters:now"),
            tone="" if count else "warn",
        )
    ]

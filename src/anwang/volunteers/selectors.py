"""Reads of the volunteers domain, already scoped.

Everyone sees their own applications, sign-ups, hours and points. Holders of
:attr:`Permission.VIEW_VOLUNTEERS` see every volunteer, team, shift and hour of their
communities. Approved volunteers see the teams and shifts of the communities they volunteer in.
A ``*_get`` outside that answers 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.core.ical import CalendarEntry, calendar_ics
from anwang.core.inbox import WorkItem
from anwang.places.models import Community
from anwang.volunteers.choices import SignupStatus, VolunteerStatus
from anwang.volunteers.models import ZERO_HOURS, ServiceHours, Shift, Signup, Team, Volunteer

VIEW = Permission.VIEW_VOLUNTEERS
MANAGE = Permission.MANAGE_VOLUNTEERS


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see every volunteer, team, shift and hour of a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may decide applications and run teams and shifts in a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def _viewed(scope: Scope) -> Q:
    if acts_platform_wide(scope):
        # Not an empty Q: ``own | Q()`` would be just ``own``.
        return Q(pk__isnull=False)
    return Q(community_id__in=scope.community_ids(VIEW))


def volunteering_communities(scope: Scope) -> set[int]:
    """Communities where the caller is an approved volunteer."""
    if scope.user is None:
        return set()
    ids = set(
        Volunteer.objects.filter(user=scope.user, status=VolunteerStatus.APPROVED).values_list(
            "community_id", flat=True
        )
    )
    return ids & scope.community_ids()


def can_see_shifts(scope: Scope, community_id: int) -> bool:
    """Whether the caller may see a community's shifts and teams (staff or its volunteers)."""
    return can_view(scope, community_id) or community_id in volunteering_communities(scope)


# --------------------------------------------------------------------------- volunteers


def volunteer_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    status: str | None = None,
    q: str | None = None,
    mine: bool = False,
) -> QuerySet[Volunteer]:
    """Applications and volunteers: the caller's own, and all of the communities they see."""
    if scope.user is None:
        return Volunteer.objects.none()
    own = Q(user=scope.user, community_id__in=scope.community_ids())
    volunteers = Volunteer.objects.filter(own if mine else own | _viewed(scope))
    if community_id is not None:
        volunteers = volunteers.filter(community_id=community_id)
    if status:
        volunteers = volunteers.filter(status=status)
    if q and q.strip():
        text = q.strip()
        volunteers = volunteers.filter(
            Q(user__username__icontains=text)
            | Q(user__display_name__icontains=text)
            | Q(languages__icontains=text)
            | Q(other_skills__icontains=text)
        )
    return volunteers.select_related("community", "user").order_by(
        "community__name", "-applied_at", "id"
    )


def volunteer_get(scope: Scope, volunteer_id: int) -> Volunteer:
    """One visible application or volunteer."""
    found = volunteer_list(scope).filter(pk=volunteer_id).first()
    if found is None:
        raise Http404
    return found


def approved_volunteers(scope: Scope, community_id: int) -> QuerySet[Volunteer]:
    """The approved volunteers of a community the caller sees, by name (for teams)."""
    if not can_view(scope, community_id):
        raise Http404
    return (
        Volunteer.objects.filter(community_id=community_id, status=VolunteerStatus.APPROVED)
        .select_related("user")
        .order_by("user__display_name", "user__username")
    )


# --------------------------------------------------------------------------- teams


def team_list(scope: Scope, *, community_id: int | None = None) -> QuerySet[Team]:
    """Teams of the communities the caller sees or volunteers in, with ``member_count``."""
    visible = _viewed(scope) | Q(community_id__in=volunteering_communities(scope))
    teams = Team.objects.filter(visible)
    if community_id is not None:
        teams = teams.filter(community_id=community_id)
    return (
        teams.select_related("community", "leader__user")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("community__name", "name", "id")
    )


def team_get(scope: Scope, team_id: int) -> Team:
    """One visible team."""
    found = team_list(scope).filter(pk=team_id).first()
    if found is None:
        raise Http404
    return found


def team_members(team: Team) -> QuerySet[Volunteer]:
    """A team's members by name."""
    return team.members.select_related("user").order_by("user__display_name", "user__username")


# --------------------------------------------------------------------------- shifts


def shift_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    upcoming: bool = False,
    include_cancelled: bool = True,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Shift]:
    """Shifts the caller may see, each with ``signed_up`` (places taken) and ``mine`` (the
    caller is signed up), by start."""
    if scope.user is None:
        return Shift.objects.none()
    own = Signup.objects.filter(
        shift=OuterRef("pk"), volunteer__user=scope.user, status=SignupStatus.SIGNED_UP
    )
    any_own = Signup.objects.filter(shift=OuterRef("pk"), volunteer__user=scope.user)
    visible = (
        _viewed(scope)
        | Q(community_id__in=volunteering_communities(scope))
        | Q(Exists(any_own), community_id__in=scope.community_ids())
    )
    shifts = Shift.objects.filter(visible)
    if community_id is not None:
        shifts = shifts.filter(community_id=community_id)
    if upcoming:
        shifts = shifts.filter(ends_at__gt=timezone.now())
    if not include_cancelled:
        shifts = shifts.filter(cancelled_at__isnull=True)
    if start is not None:
        shifts = shifts.filter(starts_at__date__gte=start)
    if end is not None:
        shifts = shifts.filter(starts_at__date__lte=end)
    return (
        shifts.select_related("community", "team", "zone")
        .annotate(
            signed_up=Count("signups", filter=Q(signups__status=SignupStatus.SIGNED_UP)),
            mine=Exists(own),
        )
        .order_by("starts_at", "id")
    )


def shift_get(scope: Scope, shift_id: int) -> Shift:
    """One visible shift."""
    found = shift_list(scope).filter(pk=shift_id).first()
    if found is None:
        raise Http404
    return found


def can_take_attendance(scope: Scope, shift: Shift) -> bool:
    """Whether the caller may check others in and out: an admin or the shift's team leader."""
    if can_manage(scope, shift.community_id):
        return True
    team = shift.team
    if scope.user is None or team is None or team.leader_id is None:
        return False
    return Volunteer.objects.filter(
        pk=team.leader_id, user=scope.user, status=VolunteerStatus.APPROVED
    ).exists()


def shift_roster(scope: Scope, shift: Shift) -> QuerySet[Signup]:
    """The sign-ups of a shift with attendance: all for staff and the team leader, the
    caller's own otherwise."""
    signups = Signup.objects.filter(shift=shift).select_related("volunteer__user")
    if not (can_view(scope, shift.community_id) or can_take_attendance(scope, shift)):
        signups = signups.filter(volunteer__user=scope.user)
    return signups.annotate(
        hours=Sum("volunteer__hours__hours", filter=Q(volunteer__hours__shift=shift))
    ).order_by("status", "volunteer__user__display_name", "volunteer__user__username", "id")


def signup_get(scope: Scope, shift: Shift, volunteer_id: int) -> Signup:
    """One volunteer's sign-up on a visible shift (for attendance and corrections)."""
    found = shift_roster(scope, shift).filter(volunteer_id=volunteer_id).first()
    if found is None:
        raise Http404
    return found


def my_signups(scope: Scope, *, upcoming: bool = True) -> QuerySet[Signup]:
    """The caller's own sign-ups (upcoming ones not yet ended, by start; else all, newest
    first)."""
    if scope.user is None:
        return Signup.objects.none()
    signups = Signup.objects.filter(
        volunteer__user=scope.user, shift__community_id__in=scope.community_ids()
    ).select_related("shift__community", "shift__zone", "shift__team", "volunteer")
    if upcoming:
        return signups.filter(
            status=SignupStatus.SIGNED_UP,
            shift__ends_at__gt=timezone.now(),
            shift__cancelled_at__isnull=True,
        ).order_by("shift__starts_at", "id")
    return signups.order_by("-shift__starts_at", "-id")


CALENDAR_HISTORY = dt.timedelta(days=60)
"""How far back the calendar of one's shifts goes (calendar apps keep what they saw before)."""


def my_shifts_calendar(scope: Scope, *, now: dt.datetime | None = None) -> bytes:
    """The caller's volunteer shifts, from :data:`CALENDAR_HISTORY` ago on, as an iCalendar
    file; shifts cancelled by the community stay in it, marked cancelled, so calendar apps
    remove them."""
    now = now or timezone.now()
    signups = (
        Signup.objects.filter(
            volunteer__user=scope.user,
            status=SignupStatus.SIGNED_UP,
            shift__community_id__in=scope.community_ids(),
            shift__ends_at__gte=now - CALENDAR_HISTORY,
        )
        .select_related("shift__community", "shift__zone", "shift__team")
        .order_by("shift__starts_at", "id")
        if scope.user is not None
        else Signup.objects.none()
    )
    entries = []
    for signup in signups:
        shift = signup.shift
        place = [shift.community.name, shift.zone.name if shift.zone else ""]
        about = [shift.team.name if shift.team else "", shift.description]
        entries.append(
            CalendarEntry(
                uid=f"volunteer-shift-{shift.pk}-{signup.volunteer_id}@anwang",
                summary=shift.title,
                start=timezone.localtime(shift.starts_at),
                duration=shift.ends_at - shift.starts_at,
                updated_at=max(shift.updated_at, signup.updated_at),
                description="\n".join(part for part in about if part),
                location=" · ".join(part for part in place if part),
                cancelled=shift.cancelled_at is not None,
            )
        )
    return calendar_ics(entries, name=_("My volunteer shifts"))


# --------------------------------------------------------------------------- hours


def hours_ledger(
    scope: Scope,
    *,
    community_id: int | None = None,
    volunteer_id: int | None = None,
    mine: bool = False,
) -> QuerySet[ServiceHours]:
    """Service-hours rows: the caller's own, and all of the communities they see."""
    if scope.user is None:
        return ServiceHours.objects.none()
    own = Q(volunteer__user=scope.user, community_id__in=scope.community_ids())
    rows = ServiceHours.objects.filter(own if mine else own | _viewed(scope))
    if community_id is not None:
        rows = rows.filter(community_id=community_id)
    if volunteer_id is not None:
        rows = rows.filter(volunteer_id=volunteer_id)
    return rows.select_related("volunteer__user", "shift", "community", "recorded_by").order_by(
        "-served_on", "-id"
    )


def total_hours(rows: QuerySet[ServiceHours]) -> Decimal:
    """The sum of some service-hours rows."""
    return Decimal(rows.aggregate(total=Sum("hours"))["total"] or ZERO_HOURS).quantize(
        Decimal("0.01")
    )


@dataclass(frozen=True)
class CertificateLine:
    """One shift on a certificate of service."""

    served_on: dt.date
    title: str
    hours: Decimal


@dataclass(frozen=True)
class Certificate:
    """What a certificate of service hours says."""

    name: str
    community: Community
    start: dt.date | None
    end: dt.date | None
    lines: list[CertificateLine]
    total: Decimal


def certificate(
    scope: Scope, volunteer: Volunteer, *, start: dt.date | None = None, end: dt.date | None = None
) -> Certificate:
    """The service hours of a visible volunteer in a period, by shift (corrections included;
    shifts that net to zero hours are left out)."""
    if volunteer.user_id != getattr(scope.user, "pk", None) and not can_view(
        scope, volunteer.community_id
    ):
        raise Http404
    rows = ServiceHours.objects.filter(volunteer=volunteer)
    if start is not None:
        rows = rows.filter(served_on__gte=start)
    if end is not None:
        rows = rows.filter(served_on__lte=end)
    grouped = (
        rows.values("shift_id", "shift__title", "served_on")
        .annotate(total=Sum("hours"))
        .order_by("served_on", "shift_id")
    )
    lines = [
        CertificateLine(
            row["served_on"],
            row["shift__title"] or _("Other service"),
            Decimal(row["total"]).quantize(Decimal("0.01")),
        )
        for row in grouped
        if row["total"]
    ]
    return Certificate(
        name=str(volunteer),
        community=volunteer.community,
        start=start,
        end=end,
        lines=lines,
        total=sum((line.hours for line in lines), ZERO_HOURS),
    )


# --------------------------------------------------------------------------- dashboard, inbox


def applications_to_decide(scope: Scope) -> QuerySet[Volunteer]:
    """Applications waiting for a decision in the communities the caller manages, oldest
    first."""
    pending = Volunteer.objects.filter(status=VolunteerStatus.APPLIED)
    if not acts_platform_wide(scope):
        pending = pending.filter(community_id__in=scope.community_ids(MANAGE))
    return pending.select_related("user", "community").order_by("applied_at", "id")


def volunteer_work_items(scope: Scope) -> list[WorkItem]:
    """'My work' items: applications to decide (admins) and the caller's shifts today."""
    items = [
        WorkItem(
            source="volunteers",
            title=_("%(person)s applies to volunteer") % {"person": volunteer},
            url=reverse("volunteers:application_detail", args=[volunteer.pk]),
            community_id=volunteer.community_id,
            priority=3,
            detail=volunteer.community.name,
        )
        for volunteer in applications_to_decide(scope)[:50]
    ]
    today = timezone.localdate()
    for signup in my_signups(scope).filter(shift__starts_at__date=today)[:20]:
        items.append(
            WorkItem(
                source="volunteers",
                title=_("Volunteer shift: %(title)s") % {"title": signup.shift.title},
                url=reverse("volunteers:shift_detail", args=[signup.shift_id]),
                community_id=signup.shift.community_id,
                due_at=signup.shift.starts_at,
                priority=2,
                detail=signup.shift.community.name,
            )
        )
    return items


def volunteer_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: approved volunteers, applications waiting, shifts in the next week."""
    if community is not None:
        if not can_view(scope, community.pk):
            return []
        ids = {community.pk}
    elif acts_platform_wide(scope):
        ids = set(Community.objects.values_list("pk", flat=True))
    else:
        ids = scope.community_ids(VIEW)
    if not ids:
        return []
    counts = Volunteer.objects.filter(community_id__in=ids).aggregate(
        approved=Count("pk", filter=Q(status=VolunteerStatus.APPROVED)),
        waiting=Count("pk", filter=Q(status=VolunteerStatus.APPLIED)),
    )
    now = timezone.now()
    week = Shift.objects.filter(
        community_id__in=ids,
        cancelled_at__isnull=True,
        starts_at__gte=now,
        starts_at__lt=now + dt.timedelta(days=7),
    ).count()
    return [
        Stat(
            "volunteers",
            _("Volunteers"),
            counts["approved"],
            reverse("volunteers:application_list") + "?status=approved",
        ),
        Stat(
            "volunteer_applications",
            _("Volunteer applications waiting"),
            counts["waiting"],
            reverse("volunteers:application_list") + "?status=applied",
            tone="warn" if counts["waiting"] else "",
        ),
        Stat(
            "volunteer_shifts",
            _("Shifts in the next 7 days"),
            week,
            reverse("volunteers:shift_list"),
        ),
    ]

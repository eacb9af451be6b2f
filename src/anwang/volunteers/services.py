"""Writes of the volunteers domain: applications and their decisions, teams, shifts, sign-up,
check-in and check-out, and corrections of the service-hours ledger.

A person applies in a community they belong to; an admin holding
:attr:`Permission.MANAGE_VOLUNTEERS` approves (which gives the ``volunteer`` role there),
refuses or suspends with a reason. Approved volunteers sign up for shifts and check in and out
on their phone; the team leader of a shift's team or an admin may do it for them. Check-out
adds the hours spent on the shift (clipped to its start and end) to the service-hours ledger
and awards points through :func:`anwang.participation.services.points_award`, once per shift
and person. Every change is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, acts_platform_wide, authorize, service_scope
from anwang.accounts.services import membership_grant, membership_revoke
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import UNSET, Unset, clean_text
from anwang.participation.choices import PointSource
from anwang.participation.services import points_award
from anwang.places.models import Community, Zone
from anwang.volunteers.choices import (
    DayPart,
    HoursKind,
    SignupStatus,
    Skill,
    VolunteerStatus,
    Weekday,
)
from anwang.volunteers.models import ZERO_HOURS, ServiceHours, Shift, Signup, Team, Volunteer

VOLUNTEER_FIELDS = (
    "community",
    "user",
    "status",
    "skills",
    "languages",
    "other_skills",
    "availability",
    "motivation",
    "status_reason",
)
TEAM_FIELDS = ("community", "name", "description", "leader")
SHIFT_FIELDS = (
    "community",
    "team",
    "title",
    "description",
    "zone",
    "starts_at",
    "ends_at",
    "capacity",
    "cancelled_at",
    "cancel_reason",
)
EARLY_CHECK_IN = dt.timedelta(minutes=30)
"""How long before a shift starts a volunteer may check in."""
MAX_SHIFT = dt.timedelta(hours=24)
MAX_CAPACITY = 500
MAX_HOURS = Decimal("24")
AVAILABILITY_SLOTS = frozenset(f"{day}:{part}" for day in Weekday.values for part in DayPart.values)


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_VOLUNTEERS,
        community_id=community_id,
        visible_with=Permission.VIEW_VOLUNTEERS,
    )


def _can_manage(actor: User | None, scope: Scope | None, community_id: int) -> bool:
    resolved = service_scope(actor, scope)
    return (
        resolved is None
        or acts_platform_wide(resolved)
        or resolved.has(Permission.MANAGE_VOLUNTEERS, community_id)
    )


def _can_view(actor: User | None, scope: Scope | None, community_id: int) -> bool:
    resolved = service_scope(actor, scope)
    return (
        resolved is None
        or acts_platform_wide(resolved)
        or resolved.has(Permission.VIEW_VOLUNTEERS, community_id)
    )


_text = partial(clean_text, required=False)


def _reason(value: Any) -> str:
    text = _text("reason", value, limit=1000)
    if not text:
        raise ServiceError(_("Give a reason."), field="reason")
    return text


def _skills(values: Iterable[str]) -> list[str]:
    chosen = {str(value) for value in values}
    unknown = chosen - set(Skill.values)
    if unknown:
        raise ServiceError(
            _("Unknown skill: %(skills)s.") % {"skills": ", ".join(sorted(unknown))},
            field="skills",
        )
    return [value for value in Skill.values if value in chosen]


def _availability(values: Iterable[str]) -> list[str]:
    chosen = {str(value) for value in values}
    unknown = chosen - AVAILABILITY_SLOTS
    if unknown:
        raise ServiceError(
            _("Unknown time slot: %(slots)s.") % {"slots": ", ".join(sorted(unknown))},
            field="availability",
        )
    return [f"{d}:{p}" for d in Weekday.values for p in DayPart.values if f"{d}:{p}" in chosen]


def _audit(
    actor: User | None,
    action: str,
    obj: Volunteer | Team | Shift | Signup | ServiceHours,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    audit_record(actor=actor, action=action, obj=obj, changes=diff(before, after))


def _require_self(actor: User | None, volunteer: Volunteer) -> None:
    if actor is None or actor.pk != volunteer.user_id:
        raise Http404


# --------------------------------------------------------------------------- applications


def volunteer_apply(
    *,
    actor: User,
    scope: Scope | None = None,
    community: Community,
    skills: Iterable[str] = (),
    languages: str = "",
    other_skills: str = "",
    availability: Iterable[str] = (),
    motivation: str = "",
) -> Volunteer:
    """Apply to volunteer in a community the person belongs to; a refused or withdrawn
    application is reopened rather than duplicated."""
    resolved = service_scope(actor, scope)
    member = Membership.objects.filter(user=actor, community=community).exists()
    if not member or resolved is None or community.pk not in resolved.community_ids():
        raise Http404
    values = {
        "skills": _skills(skills),
        "languages": _text("languages", languages, limit=200),
        "other_skills": _text("other_skills", other_skills, limit=200),
        "availability": _availability(availability),
        "motivation": _text("motivation", motivation, limit=2000),
    }
    if Skill.LANGUAGES in values["skills"] and not values["languages"]:
        raise ServiceError(_("Say which languages you speak."), field="languages")
    if Skill.OTHER in values["skills"] and not values["other_skills"]:
        raise ServiceError(_("Describe your other skills."), field="other_skills")
    with transaction.atomic():
        volunteer = (
            Volunteer.objects.select_for_update().filter(community=community, user=actor).first()
        )
        before: dict[str, Any] = {}
        if volunteer is not None:
            if volunteer.status not in (VolunteerStatus.REFUSED, VolunteerStatus.WITHDRAWN):
                raise ConflictError(
                    _("You already have an application or are a volunteer in this community.")
                )
            before = snapshot(volunteer, VOLUNTEER_FIELDS)
        else:
            volunteer = Volunteer(community=community, user=actor)
        for name, value in values.items():
            setattr(volunteer, name, value)
        volunteer.status = VolunteerStatus.APPLIED
        volunteer.status_reason = ""
        volunteer.applied_at = timezone.now()
        volunteer.decided_at = None
        volunteer.decided_by = None
        try:
            with transaction.atomic():
                volunteer.save()
        except IntegrityError as error:
            raise ConflictError(
                _("You already have an application or are a volunteer in this community.")
            ) from error
        _audit(actor, "volunteer.apply", volunteer, before, snapshot(volunteer, VOLUNTEER_FIELDS))
    return volunteer


def volunteer_update(
    *,
    actor: User,
    scope: Scope | None = None,
    volunteer: Volunteer,
    skills: Iterable[str] | Unset = UNSET,
    languages: str | Unset = UNSET,
    other_skills: str | Unset = UNSET,
    availability: Iterable[str] | Unset = UNSET,
    motivation: str | Unset = UNSET,
) -> Volunteer:
    """Change one's own skills, languages, availability or note (an admin may too)."""
    if actor.pk != volunteer.user_id:
        _require_manage(actor, scope, volunteer.community_id)
    before = snapshot(volunteer, VOLUNTEER_FIELDS)
    if skills is not UNSET:
        volunteer.skills = _skills(skills)
    if languages is not UNSET:
        volunteer.languages = _text("languages", languages, limit=200)
    if other_skills is not UNSET:
        volunteer.other_skills = _text("other_skills", other_skills, limit=200)
    if availability is not UNSET:
        volunteer.availability = _availability(availability)
    if motivation is not UNSET:
        volunteer.motivation = _text("motivation", motivation, limit=2000)
    if Skill.LANGUAGES in volunteer.skills and not volunteer.languages:
        raise ServiceError(_("Say which languages you speak."), field="languages")
    with transaction.atomic():
        volunteer.save()
        after = snapshot(volunteer, VOLUNTEER_FIELDS)
        if after != before:
            _audit(actor, "volunteer.update", volunteer, before, after)
    return volunteer


def _decide(
    actor: User | None,
    volunteer: Volunteer,
    *,
    allowed_from: Iterable[str],
    status: VolunteerStatus,
    reason: str,
    action: str,
) -> Volunteer:
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        if locked.status not in set(allowed_from):
            raise ConflictError(
                _("This volunteer is %(status)s; that cannot be done now.")
                % {"status": locked.get_status_display()}
            )
        before = snapshot(locked, VOLUNTEER_FIELDS)
        locked.status = status
        locked.status_reason = reason
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.save()
        _audit(actor, action, locked, before, snapshot(locked, VOLUNTEER_FIELDS))
        if status == VolunteerStatus.APPROVED:
            membership_grant(
                actor=actor, user=locked.user, role=Role.VOLUNTEER, community_id=locked.community_id
            )
        else:
            _leave(actor, locked)
    for name in ("status", "status_reason", "decided_at", "decided_by"):
        setattr(volunteer, name, getattr(locked, name))
    return volunteer


def _leave(actor: User | None, volunteer: Volunteer) -> None:
    """Take the volunteer role away and free the places of shifts not yet started."""
    for membership in Membership.objects.filter(
        user_id=volunteer.user_id, community_id=volunteer.community_id, role=Role.VOLUNTEER
    ):
        membership_revoke(actor=actor, membership=membership)
    upcoming = Signup.objects.filter(
        volunteer=volunteer, status=SignupStatus.SIGNED_UP, shift__starts_at__gt=timezone.now()
    )
    for signup in upcoming.select_related("shift"):
        signup.status = SignupStatus.CANCELLED
        signup.cancelled_at = timezone.now()
        signup.save(update_fields=["status", "cancelled_at", "updated_at"])
        _audit(
            actor, "shift.signup_cancel", signup, {"status": "signed_up"}, {"status": "cancelled"}
        )


def volunteer_approve(
    *, actor: User | None, scope: Scope | None = None, volunteer: Volunteer
) -> Volunteer:
    """Accept an application (or lift a suspension): the person gets the volunteer role."""
    _require_manage(actor, scope, volunteer.community_id)
    return _decide(
        actor,
        volunteer,
        allowed_from=(VolunteerStatus.APPLIED, VolunteerStatus.SUSPENDED),
        status=VolunteerStatus.APPROVED,
        reason="",
        action="volunteer.approve",
    )


def volunteer_refuse(
    *, actor: User | None, scope: Scope | None = None, volunteer: Volunteer, reason: str
) -> Volunteer:
    """Turn down an application, saying why (the applicant sees the reason)."""
    _require_manage(actor, scope, volunteer.community_id)
    return _decide(
        actor,
        volunteer,
        allowed_from=(VolunteerStatus.APPLIED,),
        status=VolunteerStatus.REFUSED,
        reason=_reason(reason),
        action="volunteer.refuse",
    )


def volunteer_suspend(
    *, actor: User | None, scope: Scope | None = None, volunteer: Volunteer, reason: str
) -> Volunteer:
    """Stop an approved volunteer from signing up, saying why; upcoming places are freed."""
    _require_manage(actor, scope, volunteer.community_id)
    return _decide(
        actor,
        volunteer,
        allowed_from=(VolunteerStatus.APPROVED,),
        status=VolunteerStatus.SUSPENDED,
        reason=_reason(reason),
        action="volunteer.suspend",
    )


def volunteer_withdraw(
    *, actor: User, scope: Scope | None = None, volunteer: Volunteer, reason: str = ""
) -> Volunteer:
    """The person stops volunteering (or takes back an application); hours and points stay."""
    _require_self(actor, volunteer)
    return _decide(
        actor,
        volunteer,
        allowed_from=(VolunteerStatus.APPLIED, VolunteerStatus.APPROVED, VolunteerStatus.SUSPENDED),
        status=VolunteerStatus.WITHDRAWN,
        reason=_text("reason", reason, limit=1000),
        action="volunteer.withdraw",
    )


# --------------------------------------------------------------------------- teams


def _team_people(
    community_id: int, leader: Volunteer | None, members: Iterable[Volunteer]
) -> tuple[Volunteer | None, list[Volunteer]]:
    chosen = {member.pk: member for member in members}
    if leader is not None:
        chosen.setdefault(leader.pk, leader)
    for person in chosen.values():
        if person.community_id != community_id or not person.is_approved:
            raise ServiceError(
                _("Choose approved volunteers of this community."),
                field="leader" if leader is not None and person.pk == leader.pk else "members",
            )
    return leader, list(chosen.values())


def _save_team(team: Team) -> None:
    taken = Team.objects.filter(community_id=team.community_id, name=team.name)
    if team.pk is not None:
        taken = taken.exclude(pk=team.pk)
    if taken.exists():
        raise ServiceError(_("Another team of this community already has this name."), field="name")
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as error:
        raise ServiceError(
            _("Another team of this community already has this name."), field="name"
        ) from error


def _team_after(team: Team) -> dict[str, Any]:
    return snapshot(team, TEAM_FIELDS) | {
        "members": sorted(team.members.values_list("pk", flat=True))
    }


def team_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    description: str = "",
    leader: Volunteer | None = None,
    members: Iterable[Volunteer] = (),
) -> Team:
    """Add a team of volunteers; the leader is always a member."""
    _require_manage(actor, scope, community.pk)
    leader, people = _team_people(community.pk, leader, members)
    team = Team(
        community=community,
        name=_text("name", name, limit=100, required=True),
        description=_text("description", description, limit=2000),
        leader=leader,
    )
    with transaction.atomic():
        _save_team(team)
        team.members.set(people)
        _audit(actor, "volunteer_team.create", team, {}, _team_after(team))
    return team


def team_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    team: Team,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    leader: Volunteer | Unset | None = UNSET,
    members: Iterable[Volunteer] | Unset = UNSET,
) -> Team:
    """Rename a team, change its leader or members."""
    _require_manage(actor, scope, team.community_id)
    with transaction.atomic():
        before = _team_after(team)
        if name is not UNSET:
            team.name = _text("name", name, limit=100, required=True)
        if description is not UNSET:
            team.description = _text("description", description, limit=2000)
        new_leader = team.leader if leader is UNSET else leader
        current = list(team.members.all()) if members is UNSET else list(members)
        team.leader, people = _team_people(team.community_id, new_leader, current)
        _save_team(team)
        team.members.set(people)
        after = _team_after(team)
        if after != before:
            _audit(actor, "volunteer_team.update", team, before, after)
    return team


def team_delete(*, actor: User | None, scope: Scope | None = None, team: Team) -> None:
    """Delete a team; its shifts stay, without a team."""
    _require_manage(actor, scope, team.community_id)
    with transaction.atomic():
        _audit(actor, "volunteer_team.delete", team, _team_after(team), {})
        team.delete()


# --------------------------------------------------------------------------- shifts


def _shift_values(
    community_id: int,
    *,
    team: Team | None,
    zone: Zone | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: Any,
) -> int:
    if team is not None and team.community_id != community_id:
        raise ServiceError(_("Choose a team of this community."), field="team")
    if zone is not None and zone.community_id != community_id:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    if not isinstance(starts_at, dt.datetime) or not isinstance(ends_at, dt.datetime):
        raise ServiceError(_("Enter a date and time."), field="starts_at")
    if ends_at <= starts_at:
        raise ServiceError(_("The shift must end after it starts."), field="ends_at")
    if ends_at - starts_at > MAX_SHIFT:
        raise ServiceError(_("A shift lasts at most 24 hours."), field="ends_at")
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise ServiceError(_("Enter a whole number."), field="capacity")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ServiceError(
            _("Enter a number of places from 1 to %(max)d.") % {"max": MAX_CAPACITY},
            field="capacity",
        )
    return int(capacity)


def _signed_up(shift: Shift) -> int:
    return shift.signups.filter(status=SignupStatus.SIGNED_UP).count()


def shift_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    description: str = "",
    team: Team | None = None,
    zone: Zone | None = None,
) -> Shift:
    """Add a shift that volunteers can sign up for."""
    _require_manage(actor, scope, community.pk)
    places = _shift_values(
        community.pk, team=team, zone=zone, starts_at=starts_at, ends_at=ends_at, capacity=capacity
    )
    if starts_at <= timezone.now():
        raise ServiceError(_("A new shift must start in the future."), field="starts_at")
    shift = Shift(
        community=community,
        team=team,
        zone=zone,
        title=_text("title", title, limit=120, required=True),
        description=_text("description", description, limit=2000),
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=places,
    )
    with transaction.atomic():
        shift.save()
        _audit(actor, "shift.create", shift, {}, snapshot(shift, SHIFT_FIELDS))
    return shift


def shift_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    shift: Shift,
    title: str | Unset = UNSET,
    description: str | Unset = UNSET,
    team: Team | Unset | None = UNSET,
    zone: Zone | Unset | None = UNSET,
    starts_at: dt.datetime | Unset = UNSET,
    ends_at: dt.datetime | Unset = UNSET,
    capacity: int | Unset = UNSET,
) -> Shift:
    """Change a shift that is not cancelled; its times only before it starts, and never fewer
    places than volunteers already signed up."""
    _require_manage(actor, scope, shift.community_id)
    if shift.is_cancelled:
        raise ConflictError(_("This shift was cancelled and can no longer be changed."))
    with transaction.atomic():
        locked = Shift.objects.select_for_update().get(pk=shift.pk)
        before = snapshot(locked, SHIFT_FIELDS)
        new_start = locked.starts_at if starts_at is UNSET else starts_at
        new_end = locked.ends_at if ends_at is UNSET else ends_at
        times_changed = (new_start, new_end) != (locked.starts_at, locked.ends_at)
        if times_changed and locked.starts_at <= timezone.now():
            raise ConflictError(_("The times of a shift that has started cannot be changed."))
        places = _shift_values(
            locked.community_id,
            team=locked.team if team is UNSET else team,
            zone=locked.zone if zone is UNSET else zone,
            starts_at=new_start,
            ends_at=new_end,
            capacity=locked.capacity if capacity is UNSET else capacity,
        )
        taken = _signed_up(locked)
        if places < taken:
            raise ServiceError(
                _("%(count)d volunteers are signed up; keep at least that many places.")
                % {"count": taken},
                field="capacity",
            )
        if title is not UNSET:
            locked.title = _text("title", title, limit=120, required=True)
        if description is not UNSET:
            locked.description = _text("description", description, limit=2000)
        if team is not UNSET:
            locked.team = team
        if zone is not UNSET:
            locked.zone = zone
        locked.starts_at, locked.ends_at, locked.capacity = new_start, new_end, places
        locked.save()
        after = snapshot(locked, SHIFT_FIELDS)
        if after != before:
            _audit(actor, "shift.update", locked, before, after)
    return locked


def shift_cancel(
    *, actor: User | None, scope: Scope | None = None, shift: Shift, reason: str
) -> Shift:
    """Call off a shift that has not ended, saying why; sign-ups stay on record."""
    _require_manage(actor, scope, shift.community_id)
    text = _reason(reason)
    with transaction.atomic():
        locked = Shift.objects.select_for_update().get(pk=shift.pk)
        if locked.is_cancelled:
            raise ConflictError(_("This shift was already cancelled."))
        if locked.ends_at <= timezone.now():
            raise ConflictError(_("A shift that has ended cannot be cancelled."))
        before = snapshot(locked, SHIFT_FIELDS)
        locked.cancelled_at = timezone.now()
        locked.cancel_reason = text
        locked.save(update_fields=["cancelled_at", "cancel_reason", "updated_at"])
        _audit(actor, "shift.cancel", locked, before, snapshot(locked, SHIFT_FIELDS))
    return locked


# --------------------------------------------------------------------------- sign-up


def _own_volunteer(actor: User, scope: Scope | None, community_id: int) -> Volunteer:
    """The actor's approved volunteering in a community; 404 for those who cannot see it."""
    resolved = service_scope(actor, scope)
    volunteer = Volunteer.objects.filter(user=actor, community_id=community_id).first()
    allowed = resolved is not None and community_id in resolved.community_ids()
    if not allowed:
        raise Http404
    if volunteer is None or not volunteer.is_approved:
        if volunteer is not None or _can_view(actor, scope, community_id):
            raise ServiceError(_("Only approved volunteers of this community can sign up."))
        raise Http404
    return volunteer


def shift_signup(*, actor: User, scope: Scope | None = None, shift: Shift) -> Signup:
    """Take a place on a shift: an approved volunteer, before it starts, while places are left,
    and not on another shift at the same time."""
    volunteer = _own_volunteer(actor, scope, shift.community_id)
    now = timezone.now()
    with transaction.atomic():
        # Locked, so two volunteers cannot both take the last place.
        locked = Shift.objects.select_for_update().get(pk=shift.pk)
        if locked.is_cancelled:
            raise ConflictError(_("This shift was cancelled."))
        if locked.starts_at <= now:
            raise ConflictError(_("This shift has already started; sign-up is closed."))
        existing = Signup.objects.filter(shift=locked, volunteer=volunteer).first()
        if existing is not None and existing.status == SignupStatus.SIGNED_UP:
            raise ConflictError(_("You are already signed up for this shift."))
        if _signed_up(locked) >= locked.capacity:
            raise ConflictError(
                _("This shift is full: all %(count)d places are taken.")
                % {"count": locked.capacity}
            )
        overlapping = (
            Signup.objects.filter(
                volunteer__user=actor,
                status=SignupStatus.SIGNED_UP,
                shift__cancelled_at__isnull=True,
                shift__starts_at__lt=locked.ends_at,
                shift__ends_at__gt=locked.starts_at,
            )
            .exclude(shift=locked)
            .select_related("shift")
            .first()
        )
        if overlapping is not None:
            raise ConflictError(
                _("You are already signed up for “%(shift)s” at the same time.")
                % {"shift": overlapping.shift.title}
            )
        signup = existing or Signup(shift=locked, volunteer=volunteer)
        signup.status = SignupStatus.SIGNED_UP
        signup.cancelled_at = None
        signup.save()
        _audit(actor, "shift.signup", signup, {}, {"shift": locked.pk, "volunteer": volunteer.pk})
    return signup


def shift_signup_cancel(*, actor: User, scope: Scope | None = None, shift: Shift) -> Signup:
    """Give back one's place on a shift before it starts."""
    resolved = service_scope(actor, scope)
    if resolved is None or shift.community_id not in resolved.community_ids():
        raise Http404
    with transaction.atomic():
        signup = (
            Signup.objects.select_for_update()
            .filter(shift=shift, volunteer__user=actor, status=SignupStatus.SIGNED_UP)
            .first()
        )
        if signup is None:
            raise ConflictError(_("You are not signed up for this shift."))
        if shift.starts_at <= timezone.now():
            raise ConflictError(_("This shift has already started; ask the organiser."))
        signup.status = SignupStatus.CANCELLED
        signup.cancelled_at = timezone.now()
        signup.save(update_fields=["status", "cancelled_at", "updated_at"])
        _audit(
            actor, "shift.signup_cancel", signup, {"status": "signed_up"}, {"status": "cancelled"}
        )
    return signup


# --------------------------------------------------------------------------- attendance


def may_take_attendance(actor: User | None, scope: Scope | None, shift: Shift) -> bool:
    """Whether the actor may check others in and out of a shift: an admin, or the leader of the
    shift's team."""
    if _can_manage(actor, scope, shift.community_id):
        return True
    team = shift.team
    return (
        actor is not None
        and team is not None
        and team.leader is not None
        and team.leader.user_id == actor.pk
        and team.leader.is_approved
    )


def _attendance_signup(
    actor: User, scope: Scope | None, shift: Shift, volunteer: Volunteer | None
) -> Signup:
    if volunteer is None or volunteer.user_id == actor.pk:
        resolved = service_scope(actor, scope)
        if resolved is None or shift.community_id not in resolved.community_ids():
            raise Http404
        found = Signup.objects.filter(shift=shift, volunteer__user=actor).first()
    else:
        if not may_take_attendance(actor, scope, shift):
            if _can_view(actor, scope, shift.community_id):
                raise PermissionDenied
            raise Http404
        found = Signup.objects.filter(shift=shift, volunteer=volunteer).first()
    if found is None or found.status != SignupStatus.SIGNED_UP:
        raise ConflictError(_("This volunteer is not signed up for this shift."))
    return found


def _when(actor: User, volunteer: Volunteer | None, at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if volunteer is None or volunteer.user_id == actor.pk:
        # A volunteer's own phone reports now; only a leader or admin records a past time.
        raise ServiceError(_("Only a team leader or admin can give another time."), field="at")
    if at > now + dt.timedelta(minutes=1):
        raise ServiceError(_("The time cannot be in the future."), field="at")
    return at


def shift_check_in(
    *,
    actor: User,
    scope: Scope | None = None,
    shift: Shift,
    volunteer: Volunteer | None = None,
    at: dt.datetime | None = None,
) -> Signup:
    """Record that a signed-up volunteer arrived (themselves, or ``volunteer`` by the team
    leader or an admin), from 30 minutes before the start until the end."""
    signup = _attendance_signup(actor, scope, shift, volunteer)
    moment = _when(actor, volunteer, at)
    if shift.is_cancelled:
        raise ConflictError(_("This shift was cancelled."))
    if moment < shift.starts_at - EARLY_CHECK_IN:
        raise ConflictError(_("Check-in opens 30 minutes before the shift starts."))
    if moment > shift.ends_at:
        raise ConflictError(_("This shift has ended; ask the organiser to correct the hours."))
    with transaction.atomic():
        locked = Signup.objects.select_for_update().get(pk=signup.pk)
        if locked.checked_in_at is not None:
            raise ConflictError(_("Already checked in."))
        locked.checked_in_at = moment
        locked.checked_in_by = actor
        locked.save(update_fields=["checked_in_at", "checked_in_by", "updated_at"])
        _audit(actor, "shift.check_in", locked, {}, {"checked_in_at": moment.isoformat()})
    return locked


def clipped_hours(shift: Shift, checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> Decimal:
    """Hours between check-in and check-out that fall within the shift, to 0.01."""
    start = max(checked_in_at, shift.starts_at)
    end = min(checked_out_at, shift.ends_at)
    seconds = max(0.0, (end - start).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def shift_check_out(
    *,
    actor: User,
    scope: Scope | None = None,
    shift: Shift,
    volunteer: Volunteer | None = None,
    at: dt.datetime | None = None,
) -> Signup:
    """Record that a volunteer left: adds the hours within the shift to the ledger and awards
    points for them (once per shift and person)."""
    signup = _attendance_signup(actor, scope, shift, volunteer)
    moment = _when(actor, volunteer, at)
    with transaction.atomic():
        locked = (
            Signup.objects.select_for_update().select_related("volunteer__user").get(pk=signup.pk)
        )
        if locked.checked_in_at is None:
            raise ConflictError(_("Check in first."))
        if locked.checked_out_at is not None:
            raise ConflictError(_("Already checked out."))
        if moment < locked.checked_in_at:
            raise ServiceError(_("Check-out cannot be before check-in."), field="at")
        locked.checked_out_at = moment
        locked.checked_out_by = actor
        locked.save(update_fields=["checked_out_at", "checked_out_by", "updated_at"])
        hours = clipped_hours(shift, locked.checked_in_at, moment)
        record = ServiceHours.objects.create(
            community_id=shift.community_id,
            volunteer=locked.volunteer,
            shift=shift,
            kind=HoursKind.ATTENDANCE,
            hours=hours,
            served_on=timezone.localdate(shift.starts_at),
            recorded_by=actor,
        )
        _audit(
            actor,
            "shift.check_out",
            locked,
            {},
            {"checked_out_at": moment.isoformat(), "hours": str(hours), "record": record.pk},
        )
        if hours > ZERO_HOURS:
            points_award(
                community=shift.community,
                user=locked.volunteer.user,
                source_kind=PointSource.VOLUNTEER_HOUR,
                source_key=f"shift:{shift.pk}:{locked.volunteer.user_id}",
                quantity=hours,
                occurred_at=min(moment, shift.ends_at),
                reason=shift.title,
            )
    return locked


def shift_hours(volunteer: Volunteer, shift: Shift) -> Decimal:
    """Hours a volunteer has on the ledger for one shift (attendance plus corrections)."""
    total = ServiceHours.objects.filter(volunteer=volunteer, shift=shift).aggregate(
        total=Sum("hours")
    )["total"]
    return Decimal(total or ZERO_HOURS).quantize(Decimal("0.01"))


def service_hours_correct(
    *,
    actor: User | None,
    scope: Scope | None = None,
    shift: Shift,
    volunteer: Volunteer,
    hours: Decimal | str | float,
    reason: str,
) -> ServiceHours:
    """Set a volunteer's hours for a shift to ``hours`` (an admin, with a reason): adds a
    correction row with the difference. Points already awarded are not changed; adjust them on
    the points ledger if needed."""
    _require_manage(actor, scope, shift.community_id)
    text = _reason(reason)
    if volunteer.community_id != shift.community_id:
        raise ServiceError(_("Choose a volunteer of this community."), field="volunteer")
    try:
        target = Decimal(str(hours)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as error:
        raise ServiceError(_("Enter a number of hours."), field="hours") from error
    if not target.is_finite() or target < 0 or target > MAX_HOURS:
        raise ServiceError(_("Enter a number of hours from 0 to 24."), field="hours")
    with transaction.atomic():
        Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
        current = shift_hours(volunteer, shift)
        delta = target - current
        if delta == 0:
            raise ConflictError(_("The hours are already %(hours)s.") % {"hours": current})
        record = ServiceHours.objects.create(
            community_id=shift.community_id,
            volunteer=volunteer,
            shift=shift,
            kind=HoursKind.CORRECTION,
            hours=delta,
            served_on=timezone.localdate(shift.starts_at),
            reason=text,
            recorded_by=actor,
        )
        _audit(
            actor,
            "service_hours.correct",
            record,
            {"hours": str(current)},
            {"hours": str(target), "reason": text},
        )
    return record

"""JSON API of the volunteers domain: applications and decisions, teams, shifts with sign-up
and attendance, the service-hours ledger and the certificate of service.

Everyone reads and changes their own application, sign-ups and hours; holders of
``view_volunteers`` read everything of their communities, ``manage_volunteers`` decides
applications and runs teams and shifts. Another community's objects are 404.
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.core.ical import ics_response
from anwang.places import selectors as place_selectors
from anwang.places.models import Community, Zone
from anwang.volunteers import selectors, services
from anwang.volunteers.certificate import certificate_pdf
from anwang.volunteers.choices import VolunteerStatus
from anwang.volunteers.models import ServiceHours, Shift, Signup, Team, Volunteer
from anwang.volunteers.schemas import (
    HoursCorrectionIn,
    HoursOut,
    OptionalReasonIn,
    ReasonIn,
    ShiftAttendanceIn,
    ShiftIn,
    ShiftOut,
    ShiftPatch,
    SignupOut,
    TeamIn,
    TeamOut,
    TeamPatch,
    VolunteerIn,
    VolunteerOut,
    VolunteerPatch,
)

router = Router(tags=["volunteers"])
PAGE_SIZE = 50


def _community(scope: Scope, community_id: int, *, staff: bool = True) -> Community:
    """A community whose volunteers the caller may see (``staff``) or that they belong to."""
    community = Community.objects.filter(pk=community_id).first()
    allowed = (
        selectors.can_view(scope, community_id)
        if staff
        else community_id in scope.community_ids() or selectors.can_view(scope, community_id)
    )
    if community is None or not allowed:
        raise Http404
    return community


def _volunteer(scope: Scope, community_id: int, volunteer_id: int | None) -> Volunteer | None:
    if volunteer_id is None:
        return None
    volunteer = (
        selectors.volunteer_list(scope, community_id=community_id).filter(pk=volunteer_id).first()
    )
    if volunteer is None:
        raise ServiceError(_("Choose a volunteer of this community."), field="volunteer")
    return volunteer


def _team(scope: Scope, community_id: int, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = selectors.team_list(scope, community_id=community_id).filter(pk=team_id).first()
    if team is None:
        raise ServiceError(_("Choose a team of this community."), field="team")
    return team


def _zone(scope: Scope, zone_id: int | None) -> Zone | None:
    return None if zone_id is None else place_selectors.zone_get(scope, zone_id)


def _team_out(team: Team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "community_id": team.community_id,
        "name": team.name,
        "description": team.description,
        "leader_id": team.leader_id,
        "members": sorted(member.pk for member in team.members.all()),
    }


# --------------------------------------------------------------------------- applications


@router.get("/volunteers/applications", response=list[VolunteerOut], summary="List volunteers")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def application_list(
    request: HttpRequest,
    community_id: int | None = None,
    status: VolunteerStatus | None = None,
    q: str | None = None,
    mine: bool = False,
) -> QuerySet[Volunteer]:
    """Applications and volunteers: the caller's own and those of the communities they see."""
    return selectors.volunteer_list(
        request_scope(request), community_id=community_id, status=status, q=q, mine=mine
    )


@router.post("/volunteers/applications", response={201: VolunteerOut}, summary="Apply to volunteer")
def application_create(request: HttpRequest, payload: VolunteerIn) -> Status[Volunteer]:
    """Apply to volunteer in a community the caller belongs to."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = _community(scope, values.pop("community_id"), staff=False)
    volunteer = services.volunteer_apply(
        actor=request_actor(request), scope=scope, community=community, **values
    )
    return Status(201, volunteer)


@router.get(
    "/volunteers/applications/{volunteer_id}", response=VolunteerOut, summary="Get a volunteer"
)
def application_get(request: HttpRequest, volunteer_id: int) -> Volunteer:
    """One application or volunteer."""
    return selectors.volunteer_get(request_scope(request), volunteer_id)


@router.patch(
    "/volunteers/applications/{volunteer_id}",
    response=VolunteerOut,
    summary="Change skills and availability",
)
def application_update(
    request: HttpRequest, volunteer_id: int, payload: VolunteerPatch
) -> Volunteer:
    """Change one's own skills, languages, availability or note."""
    scope = request_scope(request)
    volunteer = selectors.volunteer_get(scope, volunteer_id)
    return services.volunteer_update(
        actor=request_actor(request),
        scope=scope,
        volunteer=volunteer,
        **payload.model_dump(exclude_unset=True),
    )


@router.post(
    "/volunteers/applications/{volunteer_id}/approve",
    response=VolunteerOut,
    summary="Approve a volunteer",
)
def application_approve(request: HttpRequest, volunteer_id: int) -> Volunteer:
    """Accept an application or lift a suspension; the person gets the volunteer role."""
    scope = request_scope(request)
    volunteer = selectors.volunteer_get(scope, volunteer_id)
    return services.volunteer_approve(
        actor=request_actor(request), scope=scope, volunteer=volunteer
    )


@router.post(
    "/volunteers/applications/{volunteer_id}/refuse",
    response=VolunteerOut,
    summary="Refuse an application",
)
def application_refuse(request: HttpRequest, volunteer_id: int, payload: ReasonIn) -> Volunteer:
    """Turn down an application with a reason."""
    scope = request_scope(request)
    volunteer = selectors.volunteer_get(scope, volunteer_id)
    return services.volunteer_refuse(
        actor=request_actor(request), scope=scope, volunteer=volunteer, reason=payload.reason
    )


@router.post(
    "/volunteers/applications/{volunteer_id}/suspend",
    response=VolunteerOut,
    summary="Suspend a volunteer",
)
def application_suspend(request: HttpRequest, volunteer_id: int, payload: ReasonIn) -> Volunteer:
    """Stop a volunteer from signing up, with a reason; upcoming places are freed."""
    scope = request_scope(request)
    volunteer = selectors.volunteer_get(scope, volunteer_id)
    return services.volunteer_suspend(
        actor=request_actor(request), scope=scope, volunteer=volunteer, reason=payload.reason
    )


@router.post(
    "/volunteers/applications/{volunteer_id}/withdraw",
    response=VolunteerOut,
    summary="Withdraw (stop volunteering)",
)
def application_withdraw(
    request: HttpRequest, volunteer_id: int, payload: OptionalReasonIn
) -> Volunteer:
    """The caller takes back their application or stops volunteering."""
    scope = request_scope(request)
    volunteer = selectors.volunteer_get(scope, volunteer_id)
    return services.volunteer_withdraw(
        actor=request_actor(request), scope=scope, volunteer=volunteer, reason=payload.reason
    )


_PDF = {
    "responses": {
        "200": {
            "description": "The certificate of service hours as a PDF (attachment).",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/volunteers/applications/{volunteer_id}/certificate.pdf",
    summary="Certificate of service hours (PDF)",
    openapi_extra=_PDF,
)
def application_certificate(
    request: HttpRequest,
    volunteer_id: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> HttpResponse:
    """A volunteer's service hours in a period, by shift, with the total."""
    scope = request_scope(request)
    volunteer = selectors.volunteer_get(scope, volunteer_id)
    cert = selectors.certificate(scope, volunteer, start=start, end=end)
    response = HttpResponse(certificate_pdf(cert), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="service-hours-{volunteer.pk}.pdf"'
    return response


@router.get(
    "/volunteers/my/shifts.ics",
    summary="My volunteer shifts (iCalendar)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The caller's shifts from 60 days back on, as RFC 5545 events; "
                "shifts the community cancelled are marked cancelled.",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            }
        }
    },
)
def my_shifts_ics(request: HttpRequest) -> HttpResponse:
    """One's own volunteer shifts for a calendar app."""
    content = selectors.my_shifts_calendar(request_scope(request))
    return ics_response(content, filename="volunteer-shifts.ics")


# --------------------------------------------------------------------------- teams


@router.get("/volunteers/teams", response=list[TeamOut], summary="List volunteer teams")
def team_list(request: HttpRequest, community_id: int | None = None) -> list[dict[str, Any]]:
    """Teams of the communities the caller sees or volunteers in."""
    teams = selectors.team_list(request_scope(request), community_id=community_id)
    return [_team_out(team) for team in teams.prefetch_related("members")]


@router.post("/volunteers/teams", response={201: TeamOut}, summary="Add a volunteer team")
def team_create(request: HttpRequest, payload: TeamIn) -> Status[dict[str, Any]]:
    """Add a team of approved volunteers."""
    scope = request_scope(request)
    community = _community(scope, payload.community_id)
    members = [_volunteer(scope, community.pk, pk) for pk in payload.member_ids]
    team = services.team_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        name=payload.name,
        description=payload.description,
        leader=_volunteer(scope, community.pk, payload.leader_id),
        members=[member for member in members if member is not None],
    )
    return Status(201, _team_out(team))


@router.get("/volunteers/teams/{team_id}", response=TeamOut, summary="Get a volunteer team")
def team_get(request: HttpRequest, team_id: int) -> dict[str, Any]:
    """One team."""
    return _team_out(selectors.team_get(request_scope(request), team_id))


@router.patch("/volunteers/teams/{team_id}", response=TeamOut, summary="Change a volunteer team")
def team_update(request: HttpRequest, team_id: int, payload: TeamPatch) -> dict[str, Any]:
    """Rename a team, change its leader, or replace its members."""
    scope = request_scope(request)
    team = selectors.team_get(scope, team_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "leader_id" in values:
        values["leader"] = _volunteer(scope, team.community_id, values.pop("leader_id"))
    if "member_ids" in values:
        ids = values.pop("member_ids") or []
        values["members"] = [_volunteer(scope, team.community_id, pk) for pk in ids]
    team = services.team_update(actor=request_actor(request), scope=scope, team=team, **values)
    return _team_out(team)


@router.delete(
    "/volunteers/teams/{team_id}", response={204: None}, summary="Delete a volunteer team"
)
def team_delete(request: HttpRequest, team_id: int) -> Status[None]:
    """Delete a team; its shifts stay without a team."""
    scope = request_scope(request)
    team = selectors.team_get(scope, team_id)
    services.team_delete(actor=request_actor(request), scope=scope, team=team)
    return Status(204, None)


# --------------------------------------------------------------------------- shifts


@router.get("/volunteers/shifts", response=list[ShiftOut], summary="List shifts")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def shift_list(
    request: HttpRequest,
    community_id: int | None = None,
    upcoming: bool = False,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Shift]:
    """Shifts the caller may see, with places taken and whether the caller is signed up."""
    return selectors.shift_list(
        request_scope(request), community_id=community_id, upcoming=upcoming, start=start, end=end
    )


@router.post("/volunteers/shifts", response={201: ShiftOut}, summary="Add a shift")
def shift_create(request: HttpRequest, payload: ShiftIn) -> Status[Shift]:
    """Add a shift volunteers can sign up for."""
    scope = request_scope(request)
    community = _community(scope, payload.community_id)
    shift = services.shift_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        title=payload.title,
        description=payload.description,
        team=_team(scope, community.pk, payload.team_id),
        zone=_zone(scope, payload.zone_id),
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        capacity=payload.capacity,
    )
    return Status(201, selectors.shift_get(scope, shift.pk))


@router.get("/volunteers/shifts/{shift_id}", response=ShiftOut, summary="Get a shift")
def shift_get(request: HttpRequest, shift_id: int) -> Shift:
    """One shift."""
    return selectors.shift_get(request_scope(request), shift_id)


@router.patch("/volunteers/shifts/{shift_id}", response=ShiftOut, summary="Change a shift")
def shift_update(request: HttpRequest, shift_id: int, payload: ShiftPatch) -> Shift:
    """Change a shift (its times only before it starts)."""
    scope = request_scope(request)
    shift = selectors.shift_get(scope, shift_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "team_id" in values:
        values["team"] = _team(scope, shift.community_id, values.pop("team_id"))
    if "zone_id" in values:
        values["zone"] = _zone(scope, values.pop("zone_id"))
    services.shift_update(actor=request_actor(request), scope=scope, shift=shift, **values)
    return selectors.shift_get(scope, shift.pk)


@router.post("/volunteers/shifts/{shift_id}/cancel", response=ShiftOut, summary="Cancel a shift")
def shift_cancel(request: HttpRequest, shift_id: int, payload: ReasonIn) -> Shift:
    """Call off a shift with a reason."""
    scope = request_scope(request)
    shift = selectors.shift_get(scope, shift_id)
    services.shift_cancel(
        actor=request_actor(request), scope=scope, shift=shift, reason=payload.reason
    )
    return selectors.shift_get(scope, shift.pk)


@router.post(
    "/volunteers/shifts/{shift_id}/signup", response={201: SignupOut}, summary="Sign up for a shift"
)
def shift_signup(request: HttpRequest, shift_id: int) -> Status[Signup]:
    """Take a place on a shift (approved volunteers; 409 when full or overlapping)."""
    scope = request_scope(request)
    shift = selectors.shift_get(scope, shift_id)
    signup = services.shift_signup(actor=request_actor(request), scope=scope, shift=shift)
    return Status(201, signup)


@router.delete(
    "/volunteers/shifts/{shift_id}/signup", response=SignupOut, summary="Cancel one's sign-up"
)
def shift_signup_cancel(request: HttpRequest, shift_id: int) -> Signup:
    """Give back one's place before the shift starts."""
    scope = request_scope(request)
    shift = selectors.shift_get(scope, shift_id)
    return services.shift_signup_cancel(actor=request_actor(request), scope=scope, shift=shift)


@router.get(
    "/volunteers/shifts/{shift_id}/roster", response=list[SignupOut], summary="Shift roster"
)
def shift_roster(request: HttpRequest, shift_id: int) -> QuerySet[Signup]:
    """Who is on a shift with attendance and hours (the caller's own place for volunteers)."""
    scope = request_scope(request)
    return selectors.shift_roster(scope, selectors.shift_get(scope, shift_id))


def _attendance(
    request: HttpRequest, shift_id: int, payload: ShiftAttendanceIn, *, out: bool
) -> Signup:
    scope = request_scope(request)
    shift = selectors.shift_get(scope, shift_id)
    volunteer = None
    if payload.volunteer_id is not None:
        volunteer = Volunteer.objects.filter(
            pk=payload.volunteer_id, community_id=shift.community_id
        ).first()
        if volunteer is None:
            raise ServiceError(_("Choose a volunteer of this community."), field="volunteer")
    action = services.shift_check_out if out else services.shift_check_in
    signup = action(
        actor=request_actor(request), scope=scope, shift=shift, volunteer=volunteer, at=payload.at
    )
    return selectors.signup_get(scope, shift, signup.volunteer_id)


@router.post("/volunteers/shifts/{shift_id}/check-in", response=SignupOut, summary="Check in")
def shift_check_in(request: HttpRequest, shift_id: int, payload: ShiftAttendanceIn) -> Signup:
    """Record arrival at a shift (oneself, or a volunteer by the team leader or an admin)."""
    return _attendance(request, shift_id, payload, out=False)


@router.post("/volunteers/shifts/{shift_id}/check-out", response=SignupOut, summary="Check out")
def shift_check_out(request: HttpRequest, shift_id: int, payload: ShiftAttendanceIn) -> Signup:
    """Record leaving a shift: the hours go on the ledger and earn points."""
    return _attendance(request, shift_id, payload, out=True)


@router.post(
    "/volunteers/shifts/{shift_id}/hours",
    response={201: HoursOut},
    summary="Correct a volunteer's hours",
)
def shift_hours_correct(
    request: HttpRequest, shift_id: int, payload: HoursCorrectionIn
) -> Status[ServiceHours]:
    """Set a volunteer's hours for a shift, with a reason (admins)."""
    scope = request_scope(request)
    shift = selectors.shift_get(scope, shift_id)
    volunteer = Volunteer.objects.filter(
        pk=payload.volunteer_id, community_id=shift.community_id
    ).first()
    if volunteer is None:
        raise ServiceError(_("Choose a volunteer of this community."), field="volunteer")
    record = services.service_hours_correct(
        actor=request_actor(request),
        scope=scope,
        shift=shift,
        volunteer=volunteer,
        hours=payload.hours,
        reason=payload.reason,
    )
    return Status(201, record)


# --------------------------------------------------------------------------- hours, my shifts


@router.get("/volunteers/hours", response=list[HoursOut], summary="Service-hours ledger")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def hours_list(
    request: HttpRequest,
    community_id: int | None = None,
    volunteer_id: int | None = None,
    mine: bool = False,
) -> QuerySet[ServiceHours]:
    """Service-hours rows: the caller's own, and those of the communities they see."""
    return selectors.hours_ledger(
        request_scope(request), community_id=community_id, volunteer_id=volunteer_id, mine=mine
    )


@router.get("/volunteers/my-shifts", response=list[SignupOut], summary="My shifts")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def my_shifts(request: HttpRequest, upcoming: bool = True) -> QuerySet[Signup]:
    """The caller's own sign-ups (upcoming, or all with ``upcoming=false``)."""
    return selectors.my_signups(request_scope(request), upcoming=upcoming)

"""JSON API of the rosters domain: who is on duty now, the roster between two moments, duty
patterns, their exceptions and swaps, and the caller's duties as an iCalendar file.

Reads need :attr:`Permission.VIEW_ROSTERS` in the community (404 otherwise); writes go through
:mod:`anwang.rosters.services`, which need :attr:`Permission.MANAGE_ROSTERS` (403 when the
caller can see the roster but not change it).
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from anwang.accounts.models import User
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.core.ical import ics_response
from anwang.rosters import selectors, services
from anwang.rosters.choices import DutyRole
from anwang.rosters.models import DutyException, DutyPattern
from anwang.rosters.schemas import (
    DutyExceptionIn,
    DutyExceptionOut,
    DutyPatternIn,
    DutyPatternOut,
    DutyPatternPatch,
    OnDutyOut,
    ShiftSwapIn,
)

router = Router(tags=["rosters"])

RANGE_DAYS = 62
"""Longest range of duties one request may ask for."""
_ICS = {
    200: {
        "description": "An iCalendar file (RFC 5545): one event per shift.",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}


class RangeIn(Schema):
    """Duties overlapping ``[from, to)``, aware times; by default the next 7 days."""

    since: datetime | None = Field(None, alias="from")
    until: datetime | None = Field(None, alias="to")


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    start = since or timezone.now()
    end = until or start + timedelta(days=7)
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ServiceError(_("Give the time with its time zone offset."), field="from")
    if not start < end <= start + timedelta(days=RANGE_DAYS):
        raise ServiceError(
            _("Ask for at most %(days)d days, with from before to.") % {"days": RANGE_DAYS},
            field="to",
        )
    return start, end


def _person(community_id: int, duty_role: str | None, person_id: int, field: str) -> User:
    # Looked up among the community's people only, so an id from elsewhere names nobody.
    person = selectors.people_choices(community_id, duty_role).filter(pk=person_id).first()
    if person is None:
        if duty_role:
            raise ServiceError(
                _("Choose a member of this community who may be on duty as %(role)s.")
                % {"role": DutyRole(duty_role).label},
                field=field,
            )
        raise ServiceError(_("Choose a member of this community."), field=field)
    return person


@router.get("/rosters/on-duty", response=list[OnDutyOut], summary="Who is on duty now")
def on_duty_now(
    request: HttpRequest, community_id: int, duty_role: DutyRole | None = None
) -> list[OnDutyOut]:
    """The people on duty in the community at this moment, with their shift's end."""
    community = selectors.community_get(request_scope(request), community_id)
    duties = selectors.on_duty_now(community.pk, duty_role)
    return [OnDutyOut.of(duty) for duty in duties]


@router.get("/rosters/roster", response=list[OnDutyOut], summary="The roster between two moments")
def roster(
    request: HttpRequest,
    community_id: int,
    window: Query[RangeIn],
    duty_role: DutyRole | None = None,
) -> list[OnDutyOut]:
    """The community's shifts overlapping a range (default the next 7 days, at most 62)."""
    community = selectors.community_get(request_scope(request), community_id)
    start, end = _range(window.since, window.until)
    duties = selectors.duties_between(
        since=start, until=end, community_id=community.pk, duty_role=duty_role
    )
    return [OnDutyOut.of(duty) for duty in duties]


@router.get(
    "/rosters/my-duties.ics",
    openapi_extra={"responses": _ICS},
    summary="Calendar of my duties",
)
def my_duties_calendar(request: HttpRequest) -> HttpResponse:
    """The caller's duties from a week ago to 62 days ahead, one event per shift."""
    user = request_actor(request)
    now = timezone.now()
    duties = selectors.duties_between(
        since=now - timedelta(days=7), until=now + timedelta(days=RANGE_DAYS), person_id=user.pk
    )
    content = selectors.duties_calendar(duties, name=_("My duties"))
    return ics_response(content, filename="my-duties.ics")


@router.get("/rosters/patterns", response=list[DutyPatternOut], summary="List duty patterns")
def pattern_list(request: HttpRequest, community_id: int) -> QuerySet[DutyPattern]:
    """The community's duty patterns, active or not."""
    return selectors.patterns_visible(request_scope(request), community_id)


@router.post("/rosters/patterns", response={201: DutyPatternOut}, summary="Add a duty pattern")
def pattern_create(request: HttpRequest, payload: DutyPatternIn) -> Status[DutyPattern]:
    """Add a person's recurring duty: the first shift's start and length, repeated by an
    RRULE in local wall time."""
    scope = request_scope(request)
    community = selectors.community_get(scope, payload.community_id)
    services.authorize_manage(actor=request_actor(request), scope=scope, community=community)
    pattern = services.duty_pattern_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        duty_role=payload.duty_role,
        person=_person(community.pk, payload.duty_role, payload.person_id, "person"),
        first_start=payload.first_start,
        duration=timedelta(minutes=payload.duration_minutes),
        rrule=payload.rrule,
        is_active=payload.is_active,
        note=payload.note,
    )
    return Status(201, selectors.pattern_get(scope, pattern.pk))


@router.get("/rosters/patterns/{pattern_id}", response=DutyPatternOut, summary="Get a pattern")
def pattern_get(request: HttpRequest, pattern_id: int) -> DutyPattern:
    """One duty pattern."""
    return selectors.pattern_get(request_scope(request), pattern_id)


@router.patch(
    "/rosters/patterns/{pattern_id}", response=DutyPatternOut, summary="Change a duty pattern"
)
def pattern_update(request: HttpRequest, pattern_id: int, payload: DutyPatternPatch) -> DutyPattern:
    """Change a pattern; fields left out keep their value."""
    scope = request_scope(request)
    pattern = selectors.pattern_get(scope, pattern_id)
    actor = request_actor(request)
    services.authorize_manage(actor=actor, scope=scope, community=pattern.community)
    values: dict[str, Any] = {
        name: value
        for name, value in payload.model_dump(exclude_unset=True).items()
        if value is not None
    }
    if "duration_minutes" in values:
        values["duration"] = timedelta(minutes=values.pop("duration_minutes"))
    if "person_id" in values:
        role = values.get("duty_role", pattern.duty_role)
        values["person"] = _person(pattern.community_id, role, values.pop("person_id"), "person")
    services.duty_pattern_update(actor=actor, scope=scope, pattern=pattern, **values)
    return selectors.pattern_get(scope, pattern.pk)


@router.delete(
    "/rosters/patterns/{pattern_id}", response={204: None}, summary="Deactivate a duty pattern"
)
def pattern_deactivate(request: HttpRequest, pattern_id: int) -> Status[None]:
    """Stop a pattern's shifts; the pattern and its exceptions stay for the record."""
    scope = request_scope(request)
    pattern = selectors.pattern_get(scope, pattern_id)
    services.duty_pattern_deactivate(actor=request_actor(request), scope=scope, pattern=pattern)
    return Status(204, None)


@router.post(
    "/rosters/exceptions", response={201: DutyExceptionOut}, summary="Cancel or swap shifts"
)
def exception_add(request: HttpRequest, payload: DutyExceptionIn) -> Status[DutyException]:
    """Cancel shifts (``off``) or hand them to another person (``swap``): of one pattern or
    of a person in a duty role; one shift by key or those starting in a range."""
    scope = request_scope(request)
    actor = request_actor(request)
    community = selectors.community_get(scope, payload.community_id)
    services.authorize_manage(actor=actor, scope=scope, community=community)
    pattern = None
    if payload.pattern_id is not None:
        pattern = selectors.pattern_get(scope, payload.pattern_id)
        if pattern.community_id != community.pk:
            raise ServiceError(_("Choose a duty pattern of this community."), field="pattern")
    role = pattern.duty_role if pattern else payload.duty_role
    person = (
        _person(community.pk, None, payload.person_id, "person")
        if payload.person_id is not None and pattern is None
        else None
    )
    replacement = (
        _person(community.pk, role, payload.replacement_id, "replacement")
        if payload.replacement_id is not None
        else None
    )
    exception = services.duty_exception_add(
        actor=actor,
        scope=scope,
        community=community,
        kind=payload.kind,
        pattern=pattern,
        person=person,
        duty_role=role or "",
        shift_key=payload.shift_key,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        replacement=replacement,
        reason=payload.reason,
    )
    return Status(201, selectors.exception_get(scope, exception.pk))


@router.get(
    "/rosters/exceptions", response=list[DutyExceptionOut], summary="List exceptions and swaps"
)
def exception_list(
    request: HttpRequest, community_id: int, since: datetime | None = None
) -> list[DutyException]:
    """The community's exceptions whose shifts start, or whose range ends, at or after
    ``since`` (an aware time; by default a week ago): upcoming and recent, in order of when
    they apply."""
    if since is not None and timezone.is_naive(since):
        raise ServiceError(_("Give the time with its time zone offset."), field="since")
    return selectors.exceptions_visible(request_scope(request), community_id, since=since)


@router.get(
    "/rosters/exceptions/{duty_exception_id}",
    response=DutyExceptionOut,
    summary="Get an exception or swap",
)
def exception_get(request: HttpRequest, duty_exception_id: int) -> DutyException:
    """One exception or swap."""
    return selectors.exception_get(request_scope(request), duty_exception_id)


@router.delete(
    "/rosters/exceptions/{duty_exception_id}",
    response={204: None},
    summary="Undo an exception or swap",
)
def exception_remove(request: HttpRequest, duty_exception_id: int) -> Status[None]:
    """Remove an exception: its shifts are as the pattern (and any other exception) has them
    again. The audit log keeps what it was."""
    scope = request_scope(request)
    exception = selectors.exception_get(scope, duty_exception_id)
    services.duty_exception_remove(actor=request_actor(request), scope=scope, exception=exception)
    return Status(204, None)


@router.post(
    "/rosters/swaps", response={201: list[DutyExceptionOut]}, summary="Swap two people's shifts"
)
def shifts_swap(request: HttpRequest, payload: ShiftSwapIn) -> Status[list[DutyException]]:
    """Two people swap one shift each: the other pattern's person takes the first shift and
    the first pattern's person the other; both swaps are checked and saved together."""
    scope = request_scope(request)
    actor = request_actor(request)
    community = selectors.community_get(scope, payload.community_id)
    services.authorize_manage(actor=actor, scope=scope, community=community)
    patterns = []
    for field, pattern_id in (
        ("pattern", payload.pattern_id),
        ("other_pattern", payload.other_pattern_id),
    ):
        pattern = selectors.pattern_get(scope, pattern_id)
        if pattern.community_id != community.pk:
            raise ServiceError(_("Choose a duty pattern of this community."), field=field)
        patterns.append(pattern)
    first, second = services.duty_shifts_swap(
        actor=actor,
        scope=scope,
        community=community,
        pattern=patterns[0],
        shift_key=payload.shift_key,
        other_pattern=patterns[1],
        other_shift_key=payload.other_shift_key,
        reason=payload.reason,
    )
    return Status(201, [selectors.exception_get(scope, made.pk) for made in (first, second)])

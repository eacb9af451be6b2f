"""JSON API of welfare checks: enrolments of consenting residents (with where each stands now,
audited), pausing and ending them, the checks a silence opened and closing or reassigning
them, and the false-alarm report per household and month.

Reads need :attr:`Permission.VIEW_WELFARE` in the object's community (else 404); a check is
also visible to the person it is assigned to. Writes need :attr:`Permission.MANAGE_WELFARE`
(viewers get 403), except closing a check, which its assignee may do too. Bad input is 400
with the field in ``errors``; a state that forbids the action (already ended, already
closed) is 409. Lists leave out when residents were last active: that is read one enrolment
at a time (``GET /welfare/watches/{welfare_watch_id}``), which writes an audit entry.
"""

from __future__ import annotations

from dataclasses import asdict

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.access.models import ConsentRecord
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.people.models import EmergencyContact, Resident
from anwang.welfare import selectors, services
from anwang.welfare.models import WelfareCheck, WelfareWatch
from anwang.welfare.schemas import (
    WelfareBaselineOut,
    WelfareCheckCloseIn,
    WelfareCheckOut,
    WelfareCheckReassignIn,
    WelfareEndIn,
    WelfarePauseIn,
    WelfareReportOut,
    WelfareReportRowOut,
    WelfareWatchDetailOut,
    WelfareWatchIn,
    WelfareWatchOut,
    WelfareWatchPatch,
    WelfareWatchStatusOut,
)

router = Router(tags=["welfare"])
PAGE_SIZE = 50


def _resident(scope: Scope, resident_id: int) -> Resident:
    """A resident of a community whose welfare checks the caller sees; 404 otherwise."""
    resident = Resident.objects.filter(pk=resident_id).first()
    if resident is None or not selectors.may_view(scope, resident.community_id):
        raise Http404
    return resident


def _require_manage(scope: Scope, community_id: int) -> None:
    """Viewers get 403 before the body's ids are looked at (the services check again)."""
    if not selectors.may_manage(scope, community_id):
        raise PermissionDenied


def _assignee(user_id: int | None) -> User | None:
    """The account named; whether it may carry out the community's checks is the service's
    to say (the same message for any account, so nothing about other communities shows)."""
    if user_id is None:
        return None
    found = User.objects.filter(pk=user_id).first()
    if found is None:
        raise ServiceError(
            _("Choose a volunteer, grid worker or community admin of this community."),
            field="assignee",
        )
    return found


def _contact(contact_id: int | None) -> EmergencyContact | None:
    """The emergency contact named; the service checks that it is the resident's."""
    if contact_id is None:
        return None
    found = EmergencyContact.objects.filter(pk=contact_id).first()
    if found is None:
        raise ServiceError(
            _("Choose one of this resident's emergency contacts."), field="family_contact"
        )
    return found


def _watch_out(scope: Scope, watch_id: int) -> WelfareWatch:
    """The enrolment as the API returns it, its sensors loaded."""
    watch: WelfareWatch = selectors.watch_get(scope, watch_id)
    return watch


def _detail(request: HttpRequest, watch: WelfareWatch) -> WelfareWatch:
    """An enrolment with where the resident stands now; audited, as it says when they were
    last active."""
    state = selectors.watch_status(watch)
    selectors.viewed(
        request_actor(request),
        "welfare.view_activity",
        watch,
        watch.community_id,
        last_activity_at=state.last_activity_at,
        page="api",
    )
    watch.status = WelfareWatchStatusOut(  # type: ignore[attr-defined]
        last_activity_at=state.last_activity_at,
        quiet_for_hours=state.quiet_for_hours,
        threshold_hours=state.threshold_hours,
        baseline=(
            WelfareBaselineOut(hours=state.baseline.hours, weeks=state.baseline.weeks)
            if state.baseline is not None
            else None
        ),
        paused=state.paused,
        open_check_id=state.open_check.pk if state.open_check is not None else None,
        next_check_at=state.next_check_at,
    )
    return watch


# --------------------------------------------------------------------------- enrolments


@router.get("/welfare/watches", response=list[WelfareWatchOut], summary="List enrolments")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def watch_list(
    request: HttpRequest, community_id: int | None = None, q: str = "", state: str = ""
) -> QuerySet[WelfareWatch]:
    """Residents enrolled in welfare checks in the caller's communities; ``state`` is
    ``active``, ``paused`` or ``ended`` (default: all), ``q`` searches the name."""
    return (
        selectors.watch_list(request_scope(request), community_id=community_id, q=q, state=state)
        .select_related("resident", "assignee", "family_contact")
        .prefetch_related("devices")
    )


@router.post("/welfare/watches", response={201: WelfareWatchDetailOut}, summary="Enrol a resident")
def watch_create(request: HttpRequest, payload: WelfareWatchIn) -> Status[WelfareWatch]:
    """Enrol a resident on their welfare-check consent: the one in force, or ``consent_how``
    to record it now (400 without either)."""
    scope = request_scope(request)
    resident = _resident(scope, payload.resident_id)
    _require_manage(scope, resident.community_id)
    consent = None
    if payload.consent_id is not None:
        consent = ConsentRecord.objects.filter(pk=payload.consent_id, resident=resident).first()
        if consent is None:
            raise ServiceError(_("Choose a consent of this resident."), field="consent_id")
    watch = services.watch_enrol(
        actor=request_actor(request),
        scope=scope,
        resident=resident,
        consent=consent,
        consent_how=payload.consent_how,
        quiet_hours=payload.quiet_hours,
        use_baseline=payload.use_baseline,
        assignee=_assignee(payload.assignee_id),
        escalate_after_minutes=payload.escalate_after_minutes,
        family_contact=_contact(payload.family_contact_id),
        devices=payload.device_ids,
    )
    return Status(201, _detail(request, _watch_out(scope, watch.pk)))


@router.get(
    "/welfare/watches/{welfare_watch_id}",
    response=WelfareWatchDetailOut,
    summary="An enrolment and where the resident stands (audited)",
)
def watch_get(request: HttpRequest, welfare_watch_id: int) -> WelfareWatch:
    """The enrolment, when the resident was last active, how long they have been quiet, the
    threshold and the learned baseline. Every call writes an audit entry."""
    return _detail(request, _watch_out(request_scope(request), welfare_watch_id))


@router.patch(
    "/welfare/watches/{welfare_watch_id}",
    response=WelfareWatchDetailOut,
    summary="Change an enrolment",
)
def watch_update(
    request: HttpRequest, welfare_watch_id: int, payload: WelfareWatchPatch
) -> WelfareWatch:
    """Change the hours, the baseline, who visits, the escalation, the family contact and
    the sensors; fields left out keep their value (``null`` clears who visits and the
    family contact)."""
    scope = request_scope(request)
    watch = _watch_out(scope, welfare_watch_id)
    _require_manage(scope, watch.community_id)
    given = payload.model_fields_set
    services.watch_update(
        actor=request_actor(request),
        scope=scope,
        watch=watch,
        quiet_hours=(payload.quiet_hours if payload.quiet_hours is not None else watch.quiet_hours),
        use_baseline=(
            payload.use_baseline if payload.use_baseline is not None else watch.use_baseline
        ),
        assignee=(_assignee(payload.assignee_id) if "assignee_id" in given else watch.assignee),
        escalate_after_minutes=(
            payload.escalate_after_minutes
            if payload.escalate_after_minutes is not None
            else watch.escalate_after_minutes
        ),
        family_contact=(
            _contact(payload.family_contact_id)
            if "family_contact_id" in given
            else watch.family_contact
        ),
        devices=(
            payload.device_ids
            if payload.device_ids is not None
            else [device.pk for device in watch.devices.all()]
        ),
    )
    return _detail(request, _watch_out(scope, watch.pk))


@router.post(
    "/welfare/watches/{welfare_watch_id}/pause",
    response=WelfareWatchDetailOut,
    summary="Pause or resume an enrolment's checks",
)
def watch_pause(
    request: HttpRequest, welfare_watch_id: int, payload: WelfarePauseIn
) -> WelfareWatch:
    """No checks until ``until`` (away on a trip, in hospital); ``until`` null resumes them
    now."""
    scope = request_scope(request)
    watch = _watch_out(scope, welfare_watch_id)
    services.watch_pause(
        actor=request_actor(request), scope=scope, watch=watch, until=payload.until
    )
    return _detail(request, _watch_out(scope, watch.pk))


@router.post(
    "/welfare/watches/{welfare_watch_id}/end",
    response=WelfareWatchOut,
    summary="End an enrolment",
)
def watch_end(request: HttpRequest, welfare_watch_id: int, payload: WelfareEndIn) -> WelfareWatch:
    """Stop watching the resident (409 when already ended); ``withdraw_consent`` also
    records that they withdrew their consent."""
    scope = request_scope(request)
    watch = _watch_out(scope, welfare_watch_id)
    services.watch_end(
        actor=request_actor(request),
        scope=scope,
        watch=watch,
        withdraw_consent=payload.withdraw_consent,
    )
    return _watch_out(scope, watch.pk)


# --------------------------------------------------------------------------- checks


@router.get("/welfare/checks", response=list[WelfareCheckOut], summary="List welfare checks")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def check_list(
    request: HttpRequest,
    community_id: int | None = None,
    status: str = "",
    assignee_id: int | None = None,
    mine: bool = False,
) -> QuerySet[WelfareCheck]:
    """Checks of the caller's communities, newest first, by ``status`` (``open`` or
    ``closed``) and ``assignee_id``; ``mine`` gives the caller's own open checks (for
    volunteers without access to the others)."""
    if mine:
        checks = selectors.my_checks(request_actor(request))
        if community_id is not None:
            checks = checks.filter(community_id=community_id)
    else:
        checks = selectors.check_list(
            request_scope(request),
            community_id=community_id,
            status=status,
            assignee_id=assignee_id,
        )
    return checks.select_related("watch__resident", "household__unit__building", "assignee")


@router.get(
    "/welfare/checks/{welfare_check_id}", response=WelfareCheckOut, summary="A welfare check"
)
def check_get(request: HttpRequest, welfare_check_id: int) -> WelfareCheck:
    """One check (its assignee sees it too)."""
    check: WelfareCheck = selectors.check_get(request_scope(request), welfare_check_id)
    return check


@router.post(
    "/welfare/checks/{welfare_check_id}/close",
    response=WelfareCheckOut,
    summary="Close a welfare check",
)
def check_close(
    request: HttpRequest, welfare_check_id: int, payload: WelfareCheckCloseIn
) -> WelfareCheck:
    """Record what the visit or call found (its assignee or a manager; 409 when closed
    already). ``needed_help`` and ``emergency`` need a note."""
    scope = request_scope(request)
    check = selectors.check_get(scope, welfare_check_id)
    services.check_close(
        actor=request_actor(request),
        scope=scope,
        check=check,
        outcome=payload.outcome,
        note=payload.note,
    )
    found: WelfareCheck = selectors.check_get(scope, check.pk)
    return found


@router.post(
    "/welfare/checks/{welfare_check_id}/reassign",
    response=WelfareCheckOut,
    summary="Give a welfare check to someone else",
)
def check_reassign(
    request: HttpRequest, welfare_check_id: int, payload: WelfareCheckReassignIn
) -> WelfareCheck:
    """Give the open check to another volunteer, grid worker or community admin of its
    community, who is told at once (409 when it is closed)."""
    scope = request_scope(request)
    check = selectors.check_get(scope, welfare_check_id)
    _require_manage(scope, check.community_id)
    services.check_reassign(
        actor=request_actor(request),
        scope=scope,
        check=check,
        assignee=_assignee(payload.assignee_id),
    )
    found: WelfareCheck = selectors.check_get(scope, check.pk)
    return found


# --------------------------------------------------------------------------- report


@router.get(
    "/welfare/report",
    response=WelfareReportOut,
    summary="False alarms per household and month",
)
def report(request: HttpRequest, community_id: int, months: int = 6) -> WelfareReportOut:
    """Checks opened, false alarms (the resident was safe, away or active again), real ones
    and the false-alarm rate of each household per month over the last ``months`` (1-24),
    with the community's monthly totals (``household_id`` null)."""
    scope = request_scope(request)
    if not selectors.may_view(scope, community_id):
        raise Http404
    if not 1 <= months <= 24:
        raise ServiceError(_("Choose between 1 and 24 months."), field="months")
    rows = selectors.false_alarm_report(scope, community_id=community_id, months=months)
    return WelfareReportOut(
        community_id=community_id,
        months=months,
        rows=[WelfareReportRowOut(**asdict(row)) for row in rows],
    )

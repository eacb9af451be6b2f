"""Pages of the volunteers domain: my volunteering and applying (phone), shifts with sign-up
and check-in/out (phone), and for admins the applications to review, teams, shift editing with
the roster and attendance, and the service-hours ledger.

Views read through :mod:`anwang.volunteers.selectors` and write through
:mod:`anwang.volunteers.services`; they hold no rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.ical import ics_response
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user, paginate
from anwang.core.selectors import communities_permitted, page_community
from anwang.participation import selectors as points_selectors
from anwang.places.models import Community, Zone
from anwang.volunteers import selectors, services
from anwang.volunteers.certificate import certificate_pdf
from anwang.volunteers.choices import DayPart, VolunteerStatus, Weekday
from anwang.volunteers.forms import (
    ApplicationForm,
    HoursForm,
    OptionalReasonForm,
    PeriodForm,
    ReasonForm,
    ShiftForm,
    TeamForm,
)
from anwang.volunteers.models import Shift, Team, Volunteer

ACTIVE = (VolunteerStatus.APPLIED, VolunteerStatus.APPROVED, VolunteerStatus.SUSPENDED)

# --------------------------------------------------------------------------- helpers


def _staff_community(request: HttpRequest, scope: Scope, *, manage: bool = False) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage if manage else selectors.can_view,
        fallback=None if manage else communities_permitted(scope, selectors.VIEW),
    )


def _shift_community(request: HttpRequest, scope: Scope) -> Community:
    ids = selectors.volunteering_communities(scope) | set(
        communities_permitted(scope, selectors.VIEW).values_list("pk", flat=True)
    )
    return page_community(
        request,
        scope,
        allowed=selectors.can_see_shifts,
        fallback=Community.objects.filter(pk__in=ids).order_by("name", "id"),
    )


def _require_manage(scope: Scope, community_id: int) -> None:
    if not selectors.can_manage(scope, community_id):
        raise PermissionDenied


def _run(request: HttpRequest, action: Any, success: str) -> bool:
    """Call a service from a button; say what happened. Whether it succeeded."""
    try:
        action()
    except ServiceError as error:
        messages.error(request, str(error.message))
        return False
    messages.success(request, success)
    return True


def _render_form(
    request: HttpRequest, form: Any, *, title: str, cancel_url: str, intro: str = ""
) -> HttpResponse:
    return render(
        request,
        "volunteers/form.html",
        {"form": form, "title": title, "cancel_url": cancel_url, "intro": intro},
        status=400 if form.is_bound and form.errors else 200,
    )


def _submit(
    request: HttpRequest, form: Any, save: Any, success: str, fields: dict[str, str] | None = None
) -> Any:
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.cleaned_data)
    except ServiceError as error:
        attach_service_error(form, error, fields)
        return None
    messages.success(request, success)
    return saved


# --------------------------------------------------------------------------- volunteers


@login_required
def my_volunteering(request: HttpRequest) -> HttpResponse:
    """The person's volunteering: status per community, upcoming shifts, hours and points."""
    scope = page_scope(request)
    mine = list(selectors.volunteer_list(scope, mine=True))
    hours = {
        row["volunteer_id"]: row["total"]
        for row in selectors.hours_ledger(scope, mine=True)
        .order_by()
        .values("volunteer_id")
        .annotate(total=Sum("hours"))
    }
    points = {balance.community.pk: balance.total for balance in points_selectors.balances(scope)}
    rows = [
        {"volunteer": v, "hours": hours.get(v.pk, 0), "points": points.get(v.community_id, 0)}
        for v in mine
    ]
    return render(
        request,
        "volunteers/my_volunteering.html",
        {
            "rows": rows,
            "upcoming": selectors.my_signups(scope),
            "can_apply": bool(scope.community_ids()),
            "now": timezone.now(),
            "period_form": PeriodForm(),
        },
    )


@login_required
@require_GET
def my_shifts_ics(request: HttpRequest) -> HttpResponse:
    """One's own volunteer shifts as an iCalendar file, for a phone's calendar."""
    content = selectors.my_shifts_calendar(page_scope(request))
    return ics_response(content, filename="volunteer-shifts.ics")


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    """Apply to volunteer in the current community, or change one's skills and availability."""
    scope = page_scope(request)
    community = page_community(
        request,
        scope,
        allowed=lambda s, pk: pk in s.community_ids(),
        fallback=Community.objects.filter(pk__in=scope.community_ids()).order_by("name", "id"),
    )
    user = page_user(request)
    existing = Volunteer.objects.filter(community=community, user=user, status__in=ACTIVE).first()
    initial = {}
    if existing is not None:
        initial = {
            "skills": existing.skills,
            "languages": existing.languages,
            "other_skills": existing.other_skills,
            "availability": existing.availability,
            "motivation": existing.motivation,
        }
    form = ApplicationForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> Volunteer:
        if existing is not None:
            return services.volunteer_update(actor=user, scope=scope, volunteer=existing, **data)
        return services.volunteer_apply(actor=user, scope=scope, community=community, **data)

    saved = _submit(
        request,
        form,
        save,
        _("Your details were saved.")
        if existing is not None
        else _("Thank you! Your application was sent; an organiser will answer soon."),
    )
    if saved is not None:
        return redirect("volunteers:my_volunteering")
    chosen = set(form["availability"].value() or [])
    return render(
        request,
        "volunteers/apply.html",
        {
            "form": form,
            "title": (
                _("My volunteer details in %(community)s")
                if existing is not None
                else _("Volunteer in %(community)s")
            )
            % {"community": community.name},
            "days": [
                (day.label, [(f"{day.value}:{part.value}", part.label) for part in DayPart])
                for day in Weekday
            ],
            "parts": DayPart.labels,
            "chosen": chosen,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back one's application or stop volunteering."""
    scope = page_scope(request)
    volunteer = selectors.volunteer_get(scope, pk)
    user = page_user(request)
    if volunteer.user_id != user.pk:
        raise Http404
    form = OptionalReasonForm(request.POST or None)
    saved = _submit(
        request,
        form,
        lambda data: services.volunteer_withdraw(
            actor=user, scope=scope, volunteer=volunteer, reason=data["reason"]
        ),
        _("You have withdrawn. Your hours and points stay on record."),
    )
    if saved is not None:
        return redirect("volunteers:my_volunteering")
    return _render_form(
        request,
        form,
        title=_("Stop volunteering in %(community)s") % {"community": volunteer.community.name},
        cancel_url=reverse("volunteers:my_volunteering"),
        intro=_("Your places on shifts that have not started are given back."),
    )


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    """Applications and volunteers of the current community (admins and staff)."""
    scope = page_scope(request)
    community = _staff_community(request, scope)
    status = request.GET.get("status", VolunteerStatus.APPLIED.value)
    q = request.GET.get("q", "").strip()
    volunteers = selectors.volunteer_list(
        scope,
        community_id=community.pk,
        status=status if status in VolunteerStatus.values else None,
        q=q or None,
    )
    page, query = paginate(request, volunteers)
    return render(
        request,
        "volunteers/application_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "status": status,
            "statuses": VolunteerStatus.choices,
            "q": q,
        },
    )


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An application or volunteer, with the decisions an admin can make."""
    scope = page_scope(request)
    volunteer = selectors.volunteer_get(scope, pk)
    hours = selectors.hours_ledger(scope, volunteer_id=volunteer.pk)
    return render(
        request,
        "volunteers/application_detail.html",
        {
            "volunteer": volunteer,
            "can_manage": selectors.can_manage(scope, volunteer.community_id),
            "is_self": volunteer.user_id == page_user(request).pk,
            "reason_form": ReasonForm(),
            "hours": hours[:20],
            "total_hours": selectors.total_hours(hours),
            "points": points_selectors.points_balance(volunteer.user, volunteer.community_id),
            "period_form": PeriodForm(),
        },
    )


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve, refuse or suspend (the last two with a reason)."""
    scope = page_scope(request)
    volunteer = selectors.volunteer_get(scope, pk)
    _require_manage(scope, volunteer.community_id)
    actor = page_user(request)
    reason = request.POST.get("reason", "")
    if action == "approve":
        _run(
            request,
            lambda: services.volunteer_approve(actor=actor, scope=scope, volunteer=volunteer),
            _("%(person)s is now a volunteer.") % {"person": volunteer},
        )
    elif action == "refuse":
        _run(
            request,
            lambda: services.volunteer_refuse(
                actor=actor, scope=scope, volunteer=volunteer, reason=reason
            ),
            _("The application was refused."),
        )
    elif action == "suspend":
        _run(
            request,
            lambda: services.volunteer_suspend(
                actor=actor, scope=scope, volunteer=volunteer, reason=reason
            ),
            _("The volunteer was suspended."),
        )
    else:
        raise Http404
    return redirect("volunteers:application_detail", pk=volunteer.pk)


@login_required
@require_GET
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate of service hours of a volunteer (one's own, or any for staff), PDF."""
    scope = page_scope(request)
    volunteer = selectors.volunteer_get(scope, pk)
    period = PeriodForm(request.GET)
    start = end = None
    if period.is_valid():
        start, end = period.cleaned_data["start"], period.cleaned_data["end"]
    cert = selectors.certificate(scope, volunteer, start=start, end=end)
    response = HttpResponse(certificate_pdf(cert), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="service-hours-{volunteer.pk}.pdf"'
    return response


# --------------------------------------------------------------------------- teams


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """The teams of the current community."""
    scope = page_scope(request)
    community = _staff_community(request, scope)
    teams = selectors.team_list(scope, community_id=community.pk)
    page, query = paginate(request, teams)
    return render(
        request,
        "volunteers/team_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


def _team_form(request: HttpRequest, scope: Scope, community_id: int, initial: Any) -> TeamForm:
    return TeamForm(
        request.POST or None,
        initial=initial,
        volunteers=selectors.approved_volunteers(scope, community_id),
    )


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    """Add a team to the current community."""
    scope = page_scope(request)
    community = _staff_community(request, scope, manage=True)
    form = _team_form(request, scope, community.pk, None)
    saved = _submit(
        request,
        form,
        lambda data: services.team_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        _("The team was added."),
    )
    if saved is not None:
        return redirect("volunteers:team_list")
    return _render_form(
        request, form, title=_("Add a team"), cancel_url=reverse("volunteers:team_list")
    )


@login_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a team's name, leader and members."""
    scope = page_scope(request)
    team = selectors.team_get(scope, pk)
    _require_manage(scope, team.community_id)
    initial = {
        "name": team.name,
        "description": team.description,
        "leader": team.leader_id,
        "members": list(team.members.values_list("pk", flat=True)),
    }
    form = _team_form(request, scope, team.community_id, initial)
    saved = _submit(
        request,
        form,
        lambda data: services.team_update(actor=page_user(request), scope=scope, team=team, **data),
        _("The changes were saved."),
    )
    if saved is not None:
        return redirect("volunteers:team_list")
    return _render_form(
        request,
        form,
        title=_("Edit %(name)s") % {"name": team.name},
        cancel_url=reverse("volunteers:team_list"),
    )


@login_required
@require_POST
def team_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a team (its shifts stay)."""
    scope = page_scope(request)
    team = selectors.team_get(scope, pk)
    _require_manage(scope, team.community_id)
    _run(
        request,
        lambda: services.team_delete(actor=page_user(request), scope=scope, team=team),
        _("The team was deleted."),
    )
    return redirect("volunteers:team_list")


# --------------------------------------------------------------------------- shifts


@login_required
def shift_list(request: HttpRequest) -> HttpResponse:
    """Upcoming shifts of the current community with sign-up (past ones with ``?past=yes``)."""
    scope = page_scope(request)
    community = _shift_community(request, scope)
    past = request.GET.get("past") == "yes"
    shifts = selectors.shift_list(scope, community_id=community.pk, upcoming=not past)
    if past:
        shifts = shifts.filter(ends_at__lte=timezone.now()).order_by("-starts_at", "-id")
    page, query = paginate(request, shifts)
    return render(
        request,
        "volunteers/shift_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "past": past,
            "can_manage": selectors.can_manage(scope, community.pk),
            "is_volunteer": community.pk in selectors.volunteering_communities(scope),
            "now": timezone.now(),
        },
    )


@login_required
def shift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A shift: what and when, the person's own place and attendance, and for admins and the
    team leader the roster with attendance."""
    scope = page_scope(request)
    shift = selectors.shift_get(scope, pk)
    user = page_user(request)
    roster = list(selectors.shift_roster(scope, shift))
    own = next((signup for signup in roster if signup.volunteer.user_id == user.pk), None)
    return render(
        request,
        "volunteers/shift_detail.html",
        {
            "shift": shift,
            "roster": roster,
            "own": own,
            "can_manage": selectors.can_manage(scope, shift.community_id),
            "can_take_attendance": selectors.can_take_attendance(scope, shift),
            "is_volunteer": shift.community_id in selectors.volunteering_communities(scope),
            "now": timezone.now(),
            "reason_form": ReasonForm(),
        },
    )


def _shift_form(request: HttpRequest, community_id: int, initial: Any) -> ShiftForm:
    return ShiftForm(
        request.POST or None,
        initial=initial,
        teams=Team.objects.filter(community_id=community_id).order_by("name"),
        zones=Zone.objects.filter(community_id=community_id).order_by("name", "id"),
    )


@login_required
def shift_create(request: HttpRequest) -> HttpResponse:
    """Add a shift to the current community."""
    scope = page_scope(request)
    community = _staff_community(request, scope, manage=True)
    form = _shift_form(request, community.pk, None)
    saved = _submit(
        request,
        form,
        lambda data: services.shift_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        _("The shift was added."),
    )
    if saved is not None:
        return redirect("volunteers:shift_detail", pk=saved.pk)
    return _render_form(
        request, form, title=_("Add a shift"), cancel_url=reverse("volunteers:shift_list")
    )


@login_required
def shift_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a shift."""
    scope = page_scope(request)
    shift = selectors.shift_get(scope, pk)
    _require_manage(scope, shift.community_id)
    local = timezone.localtime
    initial = {
        "title": shift.title,
        "description": shift.description,
        "team": shift.team_id,
        "zone": shift.zone_id,
        "starts_at": local(shift.starts_at),
        "ends_at": local(shift.ends_at),
        "capacity": shift.capacity,
    }
    form = _shift_form(request, shift.community_id, initial)

    def save(data: dict[str, Any]) -> Shift:
        # The picker shows whole minutes: a time left as shown keeps its stored seconds, so an
        # unchanged start of a shift that has begun is not taken for a change.
        for name in ("starts_at", "ends_at"):
            if data[name] == local(getattr(shift, name)).replace(second=0, microsecond=0):
                data[name] = getattr(shift, name)
        return services.shift_update(actor=page_user(request), scope=scope, shift=shift, **data)

    saved = _submit(request, form, save, _("The changes were saved."))
    if saved is not None:
        return redirect("volunteers:shift_detail", pk=shift.pk)
    return _render_form(
        request,
        form,
        title=_("Edit %(title)s") % {"title": shift.title},
        cancel_url=reverse("volunteers:shift_detail", args=[shift.pk]),
    )


@login_required
def shift_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Call off a shift, with a reason."""
    scope = page_scope(request)
    shift = selectors.shift_get(scope, pk)
    _require_manage(scope, shift.community_id)
    form = ReasonForm(request.POST or None)
    saved = _submit(
        request,
        form,
        lambda data: services.shift_cancel(
            actor=page_user(request), scope=scope, shift=shift, reason=data["reason"]
        ),
        _("The shift was cancelled."),
    )
    if saved is not None:
        return redirect("volunteers:shift_detail", pk=shift.pk)
    return _render_form(
        request,
        form,
        title=_("Cancel %(title)s") % {"title": shift.title},
        cancel_url=reverse("volunteers:shift_detail", args=[shift.pk]),
        intro=_("Volunteers on the shift see that it was cancelled and why."),
    )


def _back(request: HttpRequest, shift: Shift) -> HttpResponse:
    target = request.POST.get("next", "")
    if target == "list":
        return redirect("volunteers:shift_list")
    if target == "mine":
        return redirect("volunteers:my_volunteering")
    return redirect("volunteers:shift_detail", pk=shift.pk)


@login_required
@require_POST
def shift_signup(request: HttpRequest, pk: int) -> HttpResponse:
    """Take or give back one's place on a shift (``cancel`` in the form gives it back)."""
    scope = page_scope(request)
    shift = selectors.shift_get(scope, pk)
    actor = page_user(request)
    if request.POST.get("cancel"):
        _run(
            request,
            lambda: services.shift_signup_cancel(actor=actor, scope=scope, shift=shift),
            _("Your place was given back."),
        )
    else:
        _run(
            request,
            lambda: services.shift_signup(actor=actor, scope=scope, shift=shift),
            _("You are signed up for “%(title)s”.") % {"title": shift.title},
        )
    return _back(request, shift)


def _parse_at(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise ServiceError(_("Enter a valid date and time."), field="at") from error
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
@require_POST
def shift_attendance(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Check in or out: oneself, or (team leader, admin) the volunteer named in the form."""
    if action not in ("in", "out"):
        raise Http404
    scope = page_scope(request)
    shift = selectors.shift_get(scope, pk)
    actor = page_user(request)
    volunteer = None
    volunteer_id = int_param(request.POST.get("volunteer"))
    if volunteer_id is not None:
        volunteer = selectors.signup_get(scope, shift, volunteer_id).volunteer
    service = services.shift_check_in if action == "in" else services.shift_check_out

    def call() -> None:
        service(
            actor=actor,
            scope=scope,
            shift=shift,
            volunteer=volunteer,
            at=_parse_at(request.POST.get("at", "")),
        )

    _run(request, call, _("Checked in.") if action == "in" else _("Checked out. Thank you!"))
    return _back(request, shift)


@login_required
def shift_hours(request: HttpRequest, pk: int, volunteer_pk: int) -> HttpResponse:
    """Correct a volunteer's hours for a shift, with a reason (admins)."""
    scope = page_scope(request)
    shift = selectors.shift_get(scope, pk)
    _require_manage(scope, shift.community_id)
    volunteer = selectors.signup_get(scope, shift, volunteer_pk).volunteer
    current = services.shift_hours(volunteer, shift)
    form = HoursForm(request.POST or None, initial={"hours": current})
    saved = _submit(
        request,
        form,
        lambda data: services.service_hours_correct(
            actor=page_user(request), scope=scope, shift=shift, volunteer=volunteer, **data
        ),
        _("The hours were corrected."),
    )
    if saved is not None:
        return redirect("volunteers:shift_detail", pk=shift.pk)
    return _render_form(
        request,
        form,
        title=_("Hours of %(person)s on %(shift)s") % {"person": volunteer, "shift": shift.title},
        cancel_url=reverse("volunteers:shift_detail", args=[shift.pk]),
        intro=_(
            "The ledger keeps the hours from the check-out and adds this correction with its "
            "reason. Points already awarded do not change; adjust them on the points ledger."
        ),
    )


# --------------------------------------------------------------------------- hours


@login_required
def hours_ledger(request: HttpRequest) -> HttpResponse:
    """The service-hours ledger of the current community."""
    scope = page_scope(request)
    community = _staff_community(request, scope)
    volunteer_id = int_param(request.GET.get("volunteer"))
    rows = selectors.hours_ledger(scope, community_id=community.pk, volunteer_id=volunteer_id)
    page, query = paginate(request, rows)
    return render(
        request,
        "volunteers/hours_ledger.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "total": selectors.total_hours(rows),
            "volunteers": selectors.approved_volunteers(scope, community.pk),
            "volunteer_id": volunteer_id,
        },
    )

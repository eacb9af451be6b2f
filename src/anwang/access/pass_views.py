"""Pages of visitor passes and the gate: residents' visitors (register, the pass with its QR
code and a text to share, revoke, history), the guard's phone page that scans passes with the
camera (or takes a typed code) and shows a big green or red answer, and the gate log with a
quick walk-in form. Views read and write through :mod:`anwang.access.passes`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import qrcode
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from qrcode.image.svg import SvgPathImage

from anwang.access import passes
from anwang.access.models import VisitorPass
from anwang.access.pass_forms import GateCheckForm, GateLogForm, VisitorForm
from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user, paginate
from anwang.core.selectors import current_community

GATE_LOG_DAYS = 7
"""How far back the gate log page reaches."""


def _passes_of(scope: Scope) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "pass": found,
            "status": passes.pass_status(found, now),
            "entries": list(found.events.all()),
        }
        for found in passes.my_passes(scope)[:100]
    ]


@login_required
def my_visitors(request: HttpRequest) -> HttpResponse:
    """The visitors of the person's households, with each one's entries."""
    scope = page_scope(request)
    return render(
        request,
        "access/visitor_list.html",
        {
            "rows": _passes_of(scope),
            "may_register": bool(passes.hosted_households(scope)),
        },
    )


@login_required
def visitor_create(request: HttpRequest) -> HttpResponse:
    """Register a visitor."""
    scope = page_scope(request)
    households = passes.hosted_households(scope)
    if not households:
        raise Http404
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = VisitorForm(
        request.POST or None,
        households=households,
        initial={"valid_from": now, "valid_until": now + dt.timedelta(hours=4), "max_entries": 1},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = passes.pass_create(
                actor=page_user(request),
                household=data["household"],
                visitor_name=data["visitor_name"],
                visitor_phone=data["visitor_phone"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                max_entries=data["max_entries"],
                plate=data["plate"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Visitor registered. Send them the pass."))
            return redirect("access:visitor_pass", pass_id=created.pk)
    return render(request, "access/visitor_form.html", {"form": form})


def _share_text(request: HttpRequest, found: VisitorPass, token: str) -> str:
    start = timezone.localtime(found.valid_from).strftime("%Y-%m-%d %H:%M")
    end = timezone.localtime(found.valid_until).strftime("%Y-%m-%d %H:%M")
    return _(
        "%(name)s, you are invited to %(community)s %(household)s from %(start)s to %(end)s "
        "(%(entries)d entries). Show this code at the gate: %(token)s"
    ) % {
        "name": found.visitor_name,
        "community": found.community.name,
        "household": found.household,
        "start": start,
        "end": end,
        "entries": found.max_entries,
        "token": token,
    }


@login_required
def visitor_pass(request: HttpRequest, pass_id: int) -> HttpResponse:
    """A pass: its QR code, a text to send the visitor, its entries, and revoke."""
    scope = page_scope(request)
    found = passes.pass_get(scope, pass_id)
    status = passes.pass_status(found)
    token = passes.pass_token(found) if status != "revoked" else ""
    return render(
        request,
        "access/visitor_pass.html",
        {
            "pass": found,
            "status": status,
            "token": token,
            "share_text": _share_text(request, found, token) if token else "",
            "entries": passes.pass_entries(found),
            "may_revoke": found.revoked_at is None and passes.may_host(scope, found.household),
        },
    )


@login_required
def visitor_qr(request: HttpRequest, pass_id: int) -> HttpResponse:
    """The pass's QR code as SVG (none for a revoked pass)."""
    found = passes.pass_get(page_scope(request), pass_id)
    if found.revoked_at is not None:
        raise Http404
    image = qrcode.make(passes.pass_token(found), image_factory=SvgPathImage, border=2)
    response = HttpResponse(image.to_string(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def visitor_revoke(request: HttpRequest, pass_id: int) -> HttpResponse:
    """Revoke a pass."""
    scope = page_scope(request)
    found = passes.pass_get(scope, pass_id)
    try:
        passes.pass_revoke(actor=page_user(request), visitor_pass=found)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The pass was revoked."))
    return redirect("access:visitor_pass", pass_id=found.pk)


def _require_gate(scope: Scope) -> None:
    if not scope.has_anywhere(Permission.CHECK_PASSES):
        raise Http404


def _gate_form(request: HttpRequest, scope: Scope, data: Any = None) -> GateCheckForm:
    points = passes.gate_points(scope)
    initial_point = int_param(request.GET.get("point")) or request.session.get("gate_point")
    return GateCheckForm(data, points=points, initial={"access_point": initial_point})


@login_required
def gate(request: HttpRequest) -> HttpResponse:
    """The guard's phone page: scan a pass (or type its code)."""
    scope = page_scope(request)
    _require_gate(scope)
    return render(request, "access/gate.html", {"form": _gate_form(request, scope)})


@login_required
@require_POST
def gate_check(request: HttpRequest) -> HttpResponse:
    """Check the scanned pass and show the answer in big green or red."""
    scope = page_scope(request)
    _require_gate(scope)
    form = _gate_form(request, scope, request.POST)
    if not form.is_valid():
        return render(request, "access/gate.html", {"form": form}, status=400)
    point = form.cleaned_data["access_point"]
    request.session["gate_point"] = point.pk
    check = passes.pass_admit(
        form.cleaned_data["token"], access_point=point, actor=page_user(request)
    )
    return render(
        request,
        "access/gate_result.html",
        {"check": check, "point": point, "form": _gate_form(request, scope)},
    )


@login_required
def gate_log(request: HttpRequest) -> HttpResponse:
    """The gate log of the last days, and a quick form for walk-ins."""
    scope = page_scope(request)
    _require_gate(scope)
    community = current_community(request, scope)
    if community is None or not scope.has(Permission.CHECK_PASSES, community.pk):
        ids = sorted(scope.community_ids(Permission.CHECK_PASSES))
        community_id = ids[0]
    else:
        community_id = community.pk
    form = GateLogForm(
        request.POST or None,
        points=passes.gate_points(scope, community_id),
        households=passes.gate_households(community_id),
        initial={"access_point": request.session.get("gate_point")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            passes.gate_log_add(
                actor=page_user(request),
                community_id=community_id,
                kind=data["kind"],
                access_point=data["access_point"],
                visitor_name=data["visitor_name"],
                visitor_phone=data["visitor_phone"],
                plate=data["plate"],
                household=data["household"],
                note=data["note"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Written in the gate log."))
            return redirect(reverse("access:gate_log"))
    since = timezone.now() - dt.timedelta(days=GATE_LOG_DAYS)
    page, query = paginate(
        request, passes.gate_log_list(scope, community_id=community_id, since=since)
    )
    return render(request, "access/gate_log.html", {"form": form, "page": page, "query": query})

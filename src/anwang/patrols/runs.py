"""Pages of patrol runs: the guard's phone page (start a run, check in by scanning or typing
a code, offline with a service worker, finish, SOS) and the supervisor's list and detail with
a map and a timeline.

Views read through :mod:`anwang.patrols.selectors` and write through
:mod:`anwang.patrols.services`; they hold no rules. The phone page keeps working without signal:
its script stores check-ins in the browser (IndexedDB) and sends them to the API when it can;
the forms below are what a phone without JavaScript uses.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from anwang import __version__
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, page_scope, page_user, paginate
from anwang.core.selectors import communities_permitted
from anwang.patrols import selectors, services
from anwang.patrols.choices import CheckInMethod, RunOrder, RunStatus
from anwang.patrols.models import PatrolRun
from anwang.patrols.templatetags.patrols_tags import hazard_report_url

SERVICE_WORKER_ASSETS = (
    "anwang/qr_scan.js",
    "patrols/run.js",
    "patrols/run.css",
    "anwang/anwang.css",
    "anwang/anwang.js",
    "anwang/favicon.svg",
    "anwang/vendor/htmx/htmx.min.js",
)
"""Static files the phone page needs, cached by the service worker when it installs."""
OFFLINE_CACHE = f"anwang-patrols-{__version__}"
"""The name of the phone's cache: a new release starts a new one and drops the old."""


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    """Patrol runs: a guard's own (with the routes they can start), or all of the community for
    supervisors, admins and operators, with filters."""
    scope = page_scope(request)
    if not (scope.has_anywhere(selectors.VIEW) or acts_platform_wide(scope)):
        raise PermissionDenied
    overseen = communities_permitted(scope, selectors.VIEW)
    oversee_ids = [c.pk for c in overseen if selectors.can_oversee_runs(scope, c.pk)]
    route_id = int_param(request.GET.get("route"))
    guard_id = int_param(request.GET.get("guard"))
    status = request.GET.get("status", "")
    day = _day(request.GET.get("day"))
    runs = selectors.patrol_run_list(
        scope,
        route_id=route_id,
        guard_id=guard_id,
        status=status if status in RunStatus.values else None,
        day=day,
    )
    page, query = paginate(request, runs)
    routes = selectors.patrol_route_list(scope).filter(community_id__in=oversee_ids)
    guards = (
        User.objects.filter(patrol_runs__community_id__in=oversee_ids)
        .distinct()
        .order_by("display_name", "username")
        if oversee_ids
        else User.objects.none()
    )
    return render(
        request,
        "patrols/run_list.html",
        {
            "page": page,
            "query": query,
            "oversee": bool(oversee_ids),
            "routes": routes,
            "guards": guards,
            "statuses": RunStatus.choices,
            "route_id": route_id,
            "guard_id": guard_id,
            "status": status,
            "day": request.GET.get("day", "") if day else "",
            "current": selectors.current_run(scope),
            "routes_to_run": list(selectors.routes_to_run(scope)),
            "orders": RunOrder.choices,
        },
    )


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    """Start a run on the chosen route and open its phone page."""
    scope = page_scope(request)
    route_id = int_param(request.POST.get("route"))
    if route_id is None:
        messages.error(request, _("Choose a route."))
        return redirect("patrols:run_list")
    route = selectors.patrol_route_get(scope, route_id)
    try:
        run = services.patrol_run_start(
            actor=page_user(request),
            scope=scope,
            route=route,
            order_mode=request.POST.get("order_mode", RunOrder.FIXED),
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
        current = selectors.current_run(scope)
        if current is not None:
            return redirect("patrols:run_go", pk=current.pk)
        return redirect("patrols:run_list")
    return redirect("patrols:run_go", pk=run.pk)


def _run_for_guard(request: HttpRequest, pk: int) -> PatrolRun:
    scope = page_scope(request)
    run = selectors.patrol_run_get(scope, pk)
    if run.guard_id != request.user.pk:
        raise PermissionDenied
    return run


def _phone_data(request: HttpRequest, run: PatrolRun) -> dict[str, Any]:
    scope = page_scope(request)
    check_ins = selectors.run_check_ins(scope, run)
    stops = selectors.run_progress(run, check_ins)
    api = "/api/v1/patrols"
    return {
        "run": run.pk,
        "community": run.community_id,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "plan": [
            {
                "number": stop.number,
                "checkpoint": stop.checkpoint_id,
                "name": stop.name,
                "position": stop.position,
                "nfc": stop.nfc_tag_id,
            }
            for stop in stops
        ],
        "check_ins": [
            {
                "client_id": str(check_in.client_id),
                "checkpoint": check_in.checkpoint_id,
                "scanned_at": check_in.scanned_at.isoformat(),
                "state": check_in.status,
                "far": check_in.far,
                "message": services.check_in_rejection_message(check_in),
            }
            for check_in in check_ins
        ],
        "urls": {
            "sync": f"{api}/runs/{run.pk}/sync",
            "check_in": f"{api}/runs/{run.pk}/check-ins",
            "finish": f"{api}/runs/{run.pk}/finish",
            "sos": f"{api}/sos",
            "data": f"{api}/runs/{run.pk}",
            "detail": reverse("patrols:run_detail", args=[run.pk]),
            "list": reverse("patrols:run_list"),
            "login": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
            "sw": reverse("patrols:service_worker"),
            # Empty until the hazards app offers its page; the phone then shows no link.
            "hazard_report": hazard_report_url(),
            # Physical defence meets people defence: where this guard has inspections planned
            # at a checkpoint, the phone offers them after the check-in.
            "inspect_at": _inspections_at_checkpoints(scope, run.community_id),
            "cache": OFFLINE_CACHE,
            "assets": [static(name) for name in SERVICE_WORKER_ASSETS],
        },
    }


def _inspections_at_checkpoints(scope: Scope, community_id: int) -> dict[str, str]:
    """Checkpoint id -> the page of inspections due there, for this guard's plans."""
    from anwang.inspections.selectors import at_checkpoint_url, checkpoints_with_inspections

    return {
        str(checkpoint_id): at_checkpoint_url(checkpoint_id)
        for checkpoint_id in checkpoints_with_inspections(scope, community_id)
    }


@login_required
def run_go(request: HttpRequest, pk: int) -> HttpResponse:
    """The guard's phone page of their run: the next checkpoint, scanning or typing codes, the
    remaining stops, note and photo, finish, SOS. Cached by the service worker for offline use."""
    run = _run_for_guard(request, pk)
    data = _phone_data(request, run)
    response = render(
        request,
        "patrols/run_go.html",
        {"run": run, "community": run.community, "data": data},
    )
    # The service worker keeps its own copy; the browser's HTTP cache must not serve a stale one.
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@require_POST
def run_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    """A typed code sent as a plain form (a phone without JavaScript)."""
    run = _run_for_guard(request, pk)
    try:
        result = services.patrol_check_in(
            actor=page_user(request),
            scope=page_scope(request),
            run=run,
            code=request.POST.get("code", ""),
            client_id=request.POST.get("client_id") or uuid.uuid4(),
            scanned_at=timezone.now(),
            method=CheckInMethod.TYPED,
            note=request.POST.get("note", ""),
            photo=request.FILES.get("photo"),
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        check_in = result.check_in
        assert check_in is not None
        if check_in.is_accepted:
            name = check_in.checkpoint.name if check_in.checkpoint else ""
            messages.success(request, _("Checked in at %(name)s.") % {"name": name})
        else:
            messages.error(request, services.check_in_rejection_message(check_in))
    return redirect("patrols:run_go", pk=run.pk)


@login_required
@require_POST
def run_finish(request: HttpRequest, pk: int) -> HttpResponse:
    """Finish one's run (plain form)."""
    run = _run_for_guard(request, pk)
    try:
        services.patrol_run_finish(
            actor=page_user(request),
            scope=page_scope(request),
            run=run,
            note=request.POST.get("note", ""),
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("patrols:run_go", pk=run.pk)
    messages.success(request, _("The patrol run is finished."))
    return redirect("patrols:run_detail", pk=run.pk)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A run: the planned stops and what became of them, every check-in on a timeline (refused
    ones with their reason, far ones flagged) and on a map."""
    scope = page_scope(request)
    run = selectors.patrol_run_get(scope, pk)
    check_ins = selectors.run_check_ins(scope, run)
    stops = selectors.run_progress(run, check_ins)
    services.patrol_run_viewed(actor=page_user(request), run=run, via="page")
    return render(
        request,
        "patrols/run_detail.html",
        {
            "run": run,
            "community": run.community,
            "stops": stops,
            "done": sum(1 for stop in stops if stop.check_in is not None),
            "check_ins": [
                (check_in, services.check_in_rejection_message(check_in)) for check_in in check_ins
            ],
            "far_count": sum(1 for c in check_ins if c.is_accepted and c.far),
            "can_abandon": selectors.can_abandon(scope, run.community_id)
            and run.status != RunStatus.ABANDONED,
            "is_guard": run.guard_id == request.user.pk and run.is_open,
            "show_codes": selectors.can_see_codes(scope, run.community_id),
            "geojson_url": f"{reverse('places:map_geojson')}?"
            f"{urlencode({'community': run.community_id})}",
            "run_geojson_url": reverse("patrols:run_geojson", args=[run.pk]),
        },
    )


@login_required
@require_GET
def run_geojson(request: HttpRequest, pk: int) -> JsonResponse:
    """A run's planned checkpoints, check-ins and last position as GeoJSON."""
    scope = page_scope(request)
    run = selectors.patrol_run_get(scope, pk)
    return JsonResponse(selectors.run_features(run, selectors.run_check_ins(scope, run)))


@login_required
def run_abandon(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask why, then abandon a run (those who manage patrols)."""
    scope = page_scope(request)
    run = selectors.patrol_run_get(scope, pk)
    if not selectors.can_abandon(scope, run.community_id):
        raise PermissionDenied
    error = ""
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            services.patrol_run_abandon(
                actor=page_user(request), scope=scope, run=run, reason=reason
            )
        except ServiceError as refused:
            error = str(refused.message)
        else:
            messages.success(request, _("The run was abandoned."))
            return redirect("patrols:run_detail", pk=run.pk)
    return render(
        request,
        "patrols/run_abandon.html",
        {"run": run, "error": error, "reason": reason},
        status=400 if error else 200,
    )


@login_required
@require_GET
def check_in_photo(request: HttpRequest, pk: int) -> FileResponse:
    """The photo of a check-in, for those who may see its run."""
    check_in = selectors.check_in_get(page_scope(request), pk)
    if not check_in.photo:
        raise Http404
    response = FileResponse(check_in.photo.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker that keeps the phone page and its files for use without signal. It is
    served under /patrols/ so that its scope covers the run pages."""
    response = render(
        request,
        "patrols/sw.js",
        {
            "assets_json": json.dumps([static(name) for name in SERVICE_WORKER_ASSETS]),
            "static_prefix": settings.STATIC_URL,
            "cache_json": json.dumps(OFFLINE_CACHE),
        },
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = reverse("patrols:checkpoint_list")
    return response

"""Cross-cutting pages: dashboard, my work, community switch, text size, health, and the
live-updates stream."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from anwang import __version__
from anwang.accounts.choices import Permission, Role
from anwang.accounts.selectors import scope_for
from anwang.core.dashboard import dashboard_stats
from anwang.core.inbox import my_work, work_sources
from anwang.core.live import live_may_see, live_stream
from anwang.core.selectors import CURRENT_COMMUNITY_KEY, current_community


def _safe_next(request: HttpRequest, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def home(request: HttpRequest) -> HttpResponse:
    """The root: the dashboard for staff, the resident's own page for residents, else login."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    scope = scope_for(request.user)
    if scope.has_anywhere(Permission.VIEW_DASHBOARD) or scope.is_platform_admin:
        return redirect("core:dashboard")
    if Role.RESIDENT in scope.all_roles() or not scope.community_ids():
        # Residents, and new accounts waiting for a household binding, start at their home.
        return redirect("people:my_household")
    return redirect("core:my_work")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Real counts of what the person may see in the current community."""
    scope = scope_for(request.user)
    if not (scope.has_anywhere(Permission.VIEW_DASHBOARD) or scope.is_platform_admin):
        return redirect("core:home")
    community = current_community(request, scope)
    return render(
        request,
        "core/dashboard.html",
        {
            "stats": dashboard_stats(scope, community),
            "community": community,
            "work_items": my_work(scope)[:5],
        },
    )


@login_required
def my_work_page(request: HttpRequest) -> HttpResponse:
    """Everything the person has to do, from every app, in one list."""
    scope = scope_for(request.user)
    items = my_work(scope)
    labels = {source.key: source.label for source in work_sources()}
    return render(request, "core/my_work.html", {"items": items, "source_labels": labels})


@login_required
@require_POST
def switch_community(request: HttpRequest) -> HttpResponse:
    """Choose the community the pages show; only one the person belongs to is accepted."""
    scope = scope_for(request.user)
    try:
        chosen = int(request.POST.get("community", ""))
    except ValueError:
        chosen = 0
    if chosen in scope.community_ids():
        request.session[CURRENT_COMMUNITY_KEY] = chosen
    return HttpResponseRedirect(_safe_next(request, request.META.get("HTTP_REFERER") or "/"))


@require_POST
def toggle_large_text(request: HttpRequest) -> HttpResponse:
    """Switch large-text mode; remembered on the account when logged in, else in a cookie."""
    from anwang.accounts.services import user_preferences_update

    currently = request.COOKIES.get("anwang_large_text") == "1" or bool(
        getattr(request.user, "large_text", False)
    )
    response = HttpResponseRedirect(_safe_next(request))
    if request.user.is_authenticated:
        user_preferences_update(
            actor=request.user,
            user=request.user,
            large_text=not currently,
        )
    response.set_cookie(
        "anwang_large_text",
        "0" if currently else "1",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
    )
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database status, for load balancers and monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception as error:
        database = f"error: {error.__class__.__name__}"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "degraded",
            "database": database,
            "database_vendor": connection.vendor,
            "version": __version__,
        },
        status=status,
    )


def _event_id(value: str | None) -> int | None:
    """A message number from ``Last-Event-ID`` or ``?after=``; ``ValueError`` if not one."""
    if value is None or value.strip() == "":
        return None
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


@login_required
async def live_stream_page(request: HttpRequest) -> HttpResponseBase:
    """Server-Sent Events of everything the person may see live (see :mod:`anwang.core.live`):
    after ``Last-Event-ID`` when reconnecting, else after ``?after=``, else from now."""
    user = await request.auser()
    scope = await sync_to_async(scope_for)(user)
    if not live_may_see(scope):
        return HttpResponseForbidden()
    try:
        after = _event_id(request.headers.get("Last-Event-ID"))
        if after is None:
            after = _event_id(request.GET.get("after"))
    except ValueError:
        return HttpResponseBadRequest("after: not an event id")
    response = StreamingHttpResponse(
        live_stream(scope, after_id=after, language=translation.get_language()),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the stream back
    return response

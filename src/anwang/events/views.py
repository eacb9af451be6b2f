"""Pages of the events domain: stored device events, and dead letters with re-processing.

Views read through :mod:`anwang.events.selectors` and write through
:mod:`anwang.events.services`; they hold no rules.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import acts_platform_wide
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, is_htmx, page_scope, page_user, paginate
from anwang.events import selectors, services
from anwang.events.choices import EventKind


def _since(value: str) -> dt.datetime | None:
    """The start of a day given as YYYY-MM-DD, in the current time zone."""
    day = parse_date(value) if value else None
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    """Device events the person may see, newest first, filtered by kind, device and day."""
    scope = page_scope(request)
    if not (acts_platform_wide(scope) or scope.has_anywhere(Permission.VIEW_DEVICES)):
        raise PermissionDenied
    kind = request.GET.get("kind", "")
    device_id = int_param(request.GET.get("device"))
    since = request.GET.get("since", "")
    events = selectors.event_list(
        scope, device_id=device_id, kind=kind or None, since=_since(since)
    )
    page, query = paginate(request, events)
    return render(
        request,
        "events/event_list.html",
        {
            "page": page,
            "query": query,
            "kind": kind,
            "device_id": device_id,
            "since": since,
            "kinds": EventKind.choices,
            "health": selectors.pipeline_health(scope),
        },
    )


@login_required
@require_GET
def pipeline(request: HttpRequest) -> HttpResponse:
    """Whether device messages are being stored now: each worker's last report."""
    health = selectors.pipeline_health(page_scope(request))
    template = "events/_pipeline_workers.html" if is_htmx(request) else "events/pipeline.html"
    return render(request, template, {"health": health})


@login_required
@require_GET
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    """Messages that could not be used, with a button to re-process them."""
    scope = page_scope(request)
    if not (acts_platform_wide(scope) or scope.has_anywhere(Permission.VIEW_DEVICES)):
        raise PermissionDenied
    show = request.GET.get("show", "open")
    letters = selectors.dead_letter_list(scope, resolved=False if show == "open" else None)
    page, query = paginate(request, letters)
    manageable = (
        None if acts_platform_wide(scope) else scope.community_ids(Permission.MANAGE_DEVICES)
    )
    for letter in page.object_list:
        letter.can_reprocess = not letter.resolved and (
            manageable is None or letter.community_id in manageable
        )
    return render(
        request,
        "events/dead_letter_list.html",
        {"page": page, "query": query, "show": show},
    )


@login_required
@require_POST
def dead_letter_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a dead letter through the pipeline again."""
    scope = page_scope(request)
    letter = selectors.dead_letter_get(scope, pk)
    try:
        letter = services.dead_letter_reprocess(
            actor=page_user(request), scope=scope, dead_letter=letter
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        if letter.resolved:
            messages.success(request, _("The message was re-processed and stored."))
        else:
            messages.warning(
                request,
                _("The message still cannot be used: %(reason)s") % {"reason": letter.reason},
            )
    return redirect("events:dead_letter_list")

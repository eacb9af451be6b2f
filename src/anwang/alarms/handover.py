"""Pages of the shift handover: write the handover note (the open alarms that pass on are
listed above it), acknowledge a pending handover as the incoming shift, and the handover log,
kept forever and filterable by date.

The pages work in the community chosen in the top bar. Reading the log needs the view-alarms
permission; writing and acknowledging need handle-alarms, which
:mod:`anwang.alarms.services` checks (with the rule that the writer cannot acknowledge their
own handover, and a handover is acknowledged once).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.models import User
from anwang.alarms import selectors, services
from anwang.alarms.services import HANDOVER_NOTE_MAX
from anwang.alarms.views import _date, _day_start, _page_community
from anwang.core.errors import ServiceError
from anwang.core.pages import page_scope, page_user, paginate, submit_form

RECENT_SHOWN = 5


class HandoverForm(forms.Form):
    """The handover note and, optionally, who takes over."""

    note = forms.CharField(
        label=gettext_lazy("Handover note"),
        max_length=HANDOVER_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "What the next shift must know: alarms still being handled, things to watch, "
            "promises made."
        ),
    )
    to_user = forms.ModelChoiceField(
        label=gettext_lazy("Hand over to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Whoever of the next shift acknowledges first"),
    )

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


@login_required
def handover_page(request: HttpRequest) -> HttpResponse:
    """Hand the shift over: handovers waiting for me to acknowledge, the open alarms that will
    pass on, the note, and the last few handovers."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    can_write = selectors.can_handle(scope, community.pk)
    if request.method == "POST" and not can_write:
        raise PermissionDenied
    form = (
        HandoverForm(
            request.POST or None, people=selectors.handover_recipients(scope, community.pk)
        )
        if can_write
        else None
    )
    if form is not None:
        saved = submit_form(
            request,
            form,
            lambda data: services.handover_create(
                actor=page_user(request),
                scope=scope,
                community=community,
                note=data["note"],
                to_user=data["to_user"],
            ),
            success=_("The shift was handed over. The next shift will be asked to acknowledge it."),
            fields={"to_user": "to_user", "note": "note"},
        )
        if saved is not None:
            return redirect("alarms:handover")
    open_alarms = selectors.alarm_list(scope, community_id=community.pk, open_only=True).order_by(
        "priority", "raised_at", "id"
    )
    return render(
        request,
        "alarms/handover.html",
        {
            "community": community,
            "form": form,
            "pending": selectors.handovers_to_acknowledge(scope, community.pk),
            "open_alarms": open_alarms,
            "recent": selectors.handover_list(scope, community_id=community.pk)[:RECENT_SHOWN],
        },
    )


@login_required
@require_POST
def handover_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Take over from the previous shift by acknowledging their handover."""
    scope = page_scope(request)
    handover = selectors.handover_get(scope, pk)
    try:
        services.handover_acknowledge(actor=page_user(request), scope=scope, handover=handover)
    except ServiceError as refused:
        messages.error(request, str(refused.message))
    except PermissionDenied as refused:
        messages.error(request, str(refused) or _("You may not acknowledge this handover."))
    else:
        messages.success(request, _("You acknowledged the handover: the shift is yours."))
    return redirect("alarms:handover")


def _log_filters(request: HttpRequest) -> tuple[dt.date | None, dt.date | None]:
    return _date(request.GET.get("since")), _date(request.GET.get("until"))


@login_required
@require_GET
def handover_log(request: HttpRequest) -> HttpResponse:
    """Every handover of the current community, newest first, with what was handed over;
    filterable by the day it was written."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    since, until = _log_filters(request)
    handovers = selectors.handover_list(
        scope,
        community_id=community.pk,
        since=_day_start(since) if since else None,
        until=_day_start(until + dt.timedelta(days=1)) if until else None,
    )
    page, query = paginate(request, handovers)
    return render(
        request,
        "alarms/handover_log.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        },
    )

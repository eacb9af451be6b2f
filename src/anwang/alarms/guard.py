"""The guard's phone page: the alarms dispatched to the person, with accept, on scene and
resolve as one tap each, a photo straight from the camera, a note, where to go on a small map
and the alarm's history.

Made for a phone (390 px wide) on a poor connection: every action is an ordinary form that
works without JavaScript; with it, the list reloads itself (htmx) when the live stream says an
alarm was dispatched to the person or one on the page changed. The rules stay in
:mod:`anwang.alarms.services`; the actions reuse the alarm page's form handling.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.selectors import Scope
from anwang.alarms import selectors
from anwang.alarms.models import Alarm
from anwang.alarms.views import _allowed_actions, _run_action
from anwang.core.errors import ServiceError
from anwang.core.pages import is_htmx, page_scope

GUARD_ACTIONS = frozenset({"accept", "arrive", "resolve", "note", "photo"})
"""What a guard does from the phone page; acknowledging, dispatching and false alarms stay
on the operator's pages."""

LIVE_STREAM_URL = "/live/stream"
"""The Server-Sent Events stream of live messages (``event: alarm`` carries the assignee)."""


@dataclass(frozen=True)
class GuardCard:
    """One alarm on the guard's page, with what the person may do and where it is."""

    alarm: Alarm
    actions: frozenset[str]
    position: dict[str, object] | None
    context_url: str

    @property
    def position_id(self) -> str:
        """The id of the element holding the position as GeoJSON, for the map."""
        return f"alarm-position-{self.alarm.pk}"


def _cards(scope: Scope) -> list[GuardCard]:
    places_url = reverse("places:map_geojson")
    cards = []
    for alarm in selectors.guard_alarms(scope):
        position = selectors.alarm_position(alarm) if alarm.is_open else None
        cards.append(
            GuardCard(
                alarm=alarm,
                actions=frozenset(_allowed_actions(scope, alarm) & GUARD_ACTIONS),
                position=({"type": "Point", "coordinates": list(position)} if position else None),
                context_url=f"{places_url}?{urlencode({'community': alarm.community_id})}",
            )
        )
    return cards


@login_required
@require_GET
def guard_mine(request: HttpRequest) -> HttpResponse:
    """The alarms dispatched to me, open ones first; htmx asks for the list alone when the
    live stream says something changed."""
    scope = page_scope(request)
    cards = _cards(scope)
    context = {
        "cards": cards,
        "open_count": sum(1 for card in cards if card.alarm.is_open),
        "live_url": LIVE_STREAM_URL,
    }
    if is_htmx(request):
        return render(request, "alarms/guard_list.html", context)
    return render(request, "alarms/guard.html", context)


@login_required
@require_POST
def guard_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Accept, report on scene, resolve, add a note or a photo to an alarm dispatched to me,
    then show my page again at that alarm (with the reason if it was refused)."""
    if action not in GUARD_ACTIONS:
        raise Http404
    scope = page_scope(request)
    alarm = selectors.guard_alarm_get(scope, pk)
    form, save, done = _run_action(request, scope, alarm, action)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    else:
        try:
            save(form.cleaned_data)
        except ServiceError as refused:
            messages.error(request, str(refused.message))
        else:
            messages.success(request, done)
    return redirect(f"{reverse('alarms:guard_mine')}#alarm-{alarm.pk}")

"""The operator console for the monitoring centre's wall screen: the open alarms of one
community by priority and age with their response-time countdowns, the community map with live
device states, the selected alarm with its events and one-click actions, and the pipeline's
health in red at the top.

The page is rendered whole on the server (it works, and is fast, before any script runs);
``console.js`` then keeps it live from the Server-Sent Events stream of
:mod:`anwang.core.live`, fetching the fragments below for each alarm that changes. Reads go through
:mod:`anwang.alarms.selectors`, writes through the same lifecycle services (and forms) as the
alarm page, so the console holds no rules of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.alarms import selectors
from anwang.alarms.choices import OPEN_STATES, AlarmState
from anwang.alarms.forms import dispatch_label
from anwang.alarms.models import Alarm
from anwang.alarms.views import (
    _allowed_actions,
    _incident_context,
    _page_community,
    _run_action,
)
from anwang.core.errors import ServiceError
from anwang.core.live import live_health, live_recent_id
from anwang.core.pages import int_param, is_htmx, page_scope
from anwang.core.selectors import CURRENT_COMMUNITY_KEY
from anwang.events import selectors as event_selectors
from anwang.incidents import selectors as incident_selectors
from anwang.patrols.selectors import guard_whereabouts
from anwang.places.models import Community
from anwang.rules.choices import Priority

CONSOLE_ACTIONS = ("acknowledge", "dispatch", "resolve", "false")
"""The lifecycle actions the console offers; the alarm page has the others."""
PANEL_EVENTS = 10
"""Linked events shown in the detail panel; the alarm page has them all."""
PAGE_SECONDS = 10
"""How long at most a person's console page is served again while no live message has come.
A page made for one more operator still takes some 10 ms of CPU (the top bar, the session),
and a monitoring centre's operators open it together (a shift change, a wall of screens
reloading); each live message makes it anew, so the queue and the panel are never older than
the stream that keeps them live.
What the stream does not carry (who is on duty and where guards last checked in, the unread
count) is at most this old, and the stream's first message brings the pipeline's health up to
date. A kept page is served only to the session it was made for, after the login check; a
change of the person's roles shows on it within this time."""
PAGE_SECONDS_LEAST = 5
"""How long at least a page is kept: each is kept for a time drawn between this and
:data:`PAGE_SECONDS`, so pages made together (a wall of consoles opened at once) are not all
made again together, each operator waiting behind all the others' pages."""


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Countdown:
    """One response time still running on an alarm: what it is, when it is due, and the
    seconds left (negative once missed) as the page was made; the script counts on."""

    kind: str
    label: str
    due: dt.datetime
    seconds: int

    @property
    def breached(self) -> bool:
        """Whether the response time was missed."""
        return self.seconds < 0

    @property
    def text(self) -> str:
        """``m:ss`` (``h:mm:ss`` beyond an hour) left, or ``+m:ss`` over; as ``console.js``
        writes it."""
        left = abs(self.seconds)
        hours, rest = divmod(left, 3600)
        minutes, seconds = divmod(rest, 60)
        body = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        return ("+" if self.breached else "") + body


def countdowns(alarm: Alarm, now: dt.datetime) -> list[Countdown]:
    """The response times still running on an alarm: acknowledge-by while it is raised,
    on-scene-by until someone is there."""
    running: list[Countdown] = []
    if alarm.state == AlarmState.RAISED and alarm.acknowledge_due_at is not None:
        running.append(
            Countdown(
                "acknowledge",
                _("Acknowledge by"),
                alarm.acknowledge_due_at,
                math.floor((alarm.acknowledge_due_at - now).total_seconds()),
            )
        )
    if (
        alarm.state in (AlarmState.RAISED, AlarmState.ACKNOWLEDGED, AlarmState.DISPATCHED)
        and alarm.on_scene_due_at is not None
        and alarm.on_scene_at is None
    ):
        running.append(
            Countdown(
                "on_scene",
                _("On scene by"),
                alarm.on_scene_due_at,
                math.floor((alarm.on_scene_due_at - now).total_seconds()),
            )
        )
    return running


def _with_countdowns(alarms: Iterable[Alarm], now: dt.datetime) -> list[Alarm]:
    """The alarms, each carrying its running response times for the template."""
    listed = list(alarms)
    for alarm in listed:
        alarm.countdowns = countdowns(alarm, now)  # type: ignore[attr-defined]
    return listed


def console_queue(scope: Scope, community_id: int) -> QuerySet[Alarm]:
    """The community's open alarms, most urgent first, then oldest first, with what their
    queue rows show."""
    return selectors.alarm_queue(scope, community_id=community_id)


# --------------------------------------------------------------------------- the queue's rows
# The queue lists every open alarm of the community (126 rows make a busy night), and it is the
# console's hot path: each operator's page load and every catch-up after a lost connection.
# Rendered through a template include per row it cost about 80% of the page; rows are made here
# with one format string each instead (the same markup ``console.js`` reads and replaces), every
# value escaped by hand: ``escape`` for text, plain ``str`` for numbers.

_ROW = (
    '<li class="console-alarm console-p{priority}{selected_class}" data-alarm-id="{pk}" '
    'data-priority="{priority}" data-state="{state}" data-raised="{raised}" '
    'data-device="{device_id}" data-zone="{zone_id}">\n'
    '  <a class="console-alarm-link" href="{console_url}?community={community_id}&amp;'
    'alarm={pk}" {current}>\n'
    '    <span class="console-alarm-head">\n'
    '      <span class="console-priority" title="{priority_label}">P{priority}</span>\n'
    '      <span class="console-title">{title}</span>\n'
    "      {count}\n"
    "    </span>\n"
    '    <span class="console-alarm-meta">\n'
    '      <span class="badge{state_class}" data-state="{state}">{state_label}</span>\n\n'
    '      <span class="console-where">{device} · {zone}</span>\n'
    "      {assignee}\n"
    "    </span>\n"
    "    {sla}\n"
    "  </a>\n"
    "</li>\n"
)
_COUNT = '<span class="console-count" title="{label}">×{count}</span>'
_COUNTDOWN = (
    '<span class="countdown{breached}" data-countdown="{kind}" data-due="{due}">{label} '
    '<time datetime="{due_iso}">{text}</time></span>'
)


def _state_class(state: str) -> str:
    """The badge colour of an alarm's state (as ``alarms/_state.html`` has it)."""
    if state == AlarmState.RAISED:
        return " key"
    if state == AlarmState.RESOLVED:
        return " ok"
    return " warn" if state in OPEN_STATES else ""


class _QueueRows:
    """Makes queue rows, working out once per queue what every row shares (labels in the
    reader's language, the time zone, the console's address)."""

    def __init__(self, *, selected_id: int | None) -> None:
        self.selected_id = selected_id
        self.console_url = escape(reverse("alarms:console"))
        self.firings = escape(_("Firings"))
        self.zone = timezone.get_current_timezone()
        self.priorities = {value: escape(label) for value, label in Priority.choices}
        self.states = {
            value: (escape(label), _state_class(value)) for value, label in AlarmState.choices
        }
        self.labels: dict[str, str] = {}

    def _local(self, value: dt.datetime) -> dt.datetime:
        """A time in the current time zone, as templates show it."""
        return timezone.localtime(value, self.zone) if timezone.is_aware(value) else value

    def _countdown(self, countdown: Countdown) -> str:
        label = self.labels.get(countdown.label)
        if label is None:
            label = self.labels[countdown.label] = escape(countdown.label)
        return _COUNTDOWN.format(
            breached=" breached" if countdown.breached else "",
            kind=escape(countdown.kind),
            due=int(countdown.due.timestamp()),
            label=label,
            due_iso=self._local(countdown.due).isoformat(),
            text=countdown.text,
        )

    def row(self, alarm: Alarm) -> str:
        """One alarm's row; the alarm carries its ``countdowns``."""
        selected = alarm.pk == self.selected_id
        running: list[Countdown] = getattr(alarm, "countdowns", [])
        sla = ""
        if running:
            spans = "".join(self._countdown(countdown) for countdown in running)
            sla = f'<span class="console-sla">{spans}</span>'
        count = ""
        if alarm.count > 1:
            count = _COUNT.format(label=self.firings, count=escape(formats.localize(alarm.count)))
        assignee = ""
        if alarm.assignee_id is not None and alarm.assignee is not None:
            assignee = f'<span class="console-assignee">→ {escape(alarm.assignee)}</span>'
        device = alarm.device.name if alarm.device_id is not None and alarm.device else ""
        zone = alarm.zone.name if alarm.zone_id is not None and alarm.zone else ""
        state_label, state_class = self.states.get(alarm.state, (escape(alarm.state), ""))
        raised = self._local(alarm.raised_at)
        return _ROW.format(
            pk=alarm.pk,
            priority=alarm.priority,
            selected_class=" selected" if selected else "",
            current='aria-current="true"' if selected else "",
            state=escape(alarm.state),
            raised=f"{int(raised.timestamp())}{raised.microsecond:06d}",
            device_id="" if alarm.device_id is None else alarm.device_id,
            zone_id="" if alarm.zone_id is None else alarm.zone_id,
            console_url=self.console_url,
            community_id=alarm.community_id,
            priority_label=self.priorities.get(alarm.priority, ""),
            title=escape(alarm.display_title()),
            count=count,
            state_class=state_class,
            state_label=state_label,
            device=escape(device or "—"),
            zone=escape(zone or "—"),
            assignee=assignee,
            sla=sla,
        )


def queue_row_html(alarm: Alarm) -> SafeString:
    """One alarm's row in the console's queue (not selected); the alarm carries its
    ``countdowns``."""
    return mark_safe(_QueueRows(selected_id=None).row(alarm))  # noqa: S308 - every value escaped


def queue_html(alarms: Iterable[Alarm], *, selected_id: int | None = None) -> SafeString:
    """The console's queue rows (the contents of its ``<ol>``); the alarms carry their
    ``countdowns``."""
    rows = _QueueRows(selected_id=selected_id)
    return mark_safe("".join(rows.row(alarm) for alarm in alarms) + "\n")  # noqa: S308 - every value escaped


def _console_community(request: HttpRequest, scope: Scope) -> Community:
    """``?community=<id>`` when the person may see its alarms (a supervisor watching one of
    several), else the community of the other alarm pages."""
    requested = int_param(request.GET.get("community"))
    if requested is not None:
        if not selectors.can_view(scope, requested):
            raise Http404
        found = Community.objects.filter(pk=requested).first()
        if found is None:
            raise Http404
        return found
    return _page_community(request, scope)


def _panel_context(
    scope: Scope, alarm: Alarm | None, *, after_id: int | None = None, **extra: Any
) -> dict[str, Any]:
    """What the detail panel of one alarm shows; with ``after_id``, the live message the
    console page is made as of, the dispatch choices are shared (see :func:`_shared_key`)."""
    if alarm is None:
        return {"alarm": None, **extra}
    _with_countdowns([alarm], timezone.now())
    actions = _allowed_actions(scope, alarm) & set(CONSOLE_ACTIONS)
    people = (
        list(selectors.dispatchable_people(scope, alarm.community_id))
        if "dispatch" in actions
        else []
    )
    return {
        "alarm": alarm,
        "actions": actions,
        "people": _dispatch_choices(alarm, people)
        if after_id is None
        else _shared_dispatch_choices(alarm, people, after_id),
        "events": selectors.alarm_events(alarm, limit=PANEL_EVENTS),
        "photos": list(selectors.alarm_photos(alarm)),
        "snapshot": event_selectors.alarm_snapshot(scope, alarm),
        **_incident_context(scope, alarm),
        **extra,
    }


def _dispatch_choices(alarm: Alarm, people: list[User]) -> list[tuple[User, str]]:
    """The people one may dispatch, each with their duty and where they were last seen on
    patrol: those on duty first, then those on a patrol run, then by their last check-in,
    newest first, then by name."""
    seen = guard_whereabouts(alarm.community_id, [person.pk for person in people])
    duty = selectors.on_duty_until(alarm.community_id)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)

    def rank(person: User) -> tuple[bool, bool, float]:
        where = seen[person.pk]
        last = where.last_check_in_at or oldest
        return (person.pk not in duty, where.on_route is None, -last.timestamp())

    # sorted() keeps the by-name order of equal ranks.
    return [
        (person, dispatch_label(person, seen[person.pk], duty.get(person.pk)))
        for person in sorted(people, key=rank)
    ]


def _shared_dispatch_choices(
    alarm: Alarm, people: list[User], after_id: int
) -> list[tuple[User, str]]:
    """:func:`_dispatch_choices`, worked out once for every console page of the community
    made as of the live message ``after_id`` while it is kept (the order and the labels: the
    people are the caller's own)."""
    key = _shared_key("dispatch", alarm.community_id, after_id, *(p.pk for p in people))
    shared: list[tuple[int, str]] | None = cache.get(key)
    if shared is None:
        choices = _dispatch_choices(alarm, people)
        cache.set(key, [(person.pk, label) for person, label in choices], PAGE_SECONDS_LEAST)
        return choices
    by_pk = {person.pk: person for person in people}
    return [(by_pk[pk], label) for pk, label in shared]


@dataclass(frozen=True)
class _Queue:
    """The queue as a console page shows it: how many open alarms, the one selected in the
    panel, and the rows."""

    count: int
    selected_id: int | None
    rows: str


def _page_queue(
    scope: Scope, community_id: int, chosen: int | None, now: dt.datetime, after_id: int
) -> _Queue:
    """The queue of a console page made as of the live message ``after_id``, with the alarm
    ``chosen`` (if the community has it, else the most urgent) selected. Worked out once for
    every operator of the community while it is kept (see :func:`_shared_key`): the queue is
    the community's, the same for whoever may see its alarms (the caller may: see
    :func:`_console_community`); the countdowns' text is as of then, and the page's script
    counts on from their due times and the page's clock of now."""
    key = _shared_key("queue", community_id, after_id, chosen)
    shared: _Queue | None = cache.get(key)
    if shared is not None:
        return shared
    queue = _with_countdowns(console_queue(scope, community_id), now)
    selected_id = None
    if chosen is not None:
        alarms = selectors.alarm_list(scope, community_id=community_id)
        selected_id = chosen if alarms.filter(pk=chosen).exists() else None
    if selected_id is None and queue:
        selected_id = queue[0].pk
    made = _Queue(len(queue), selected_id, str(queue_html(queue, selected_id=selected_id)))
    cache.set(key, made, PAGE_SECONDS_LEAST)
    return made


def _shared_key(kind: str, community_id: int, after_id: int, *more: object) -> str:
    """The cache key of a part of the console pages of a community that is the same for every
    operator who may see it, as of the live message ``after_id``, in the reader's language and
    time zone. A monitoring centre's operators open the console together (and a kept page of
    each is made again every few seconds): the queue, the dispatch choices and the console's
    body are the page's costliest parts, made once for all of them. As with the kept page,
    each live message makes them anew; they are kept for :data:`PAGE_SECONDS_LEAST` at most."""
    parts = (
        kind,
        str(community_id),
        str(after_id),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        *(str(part) for part in more),
    )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"alarms.console.{kind}:{digest}"


def _labels() -> dict[str, str]:
    """Text that ``console.js`` shows, translated here."""
    return {
        "connection_lost": _("Live connection lost, reconnecting…"),
        "sound_locked": _("Sound is off: press “Start duty” to hear P1 alarms."),
        "sound_on": _("On duty: sound is on for P1 alarms."),
        "overdue": _("overdue"),
        "load_failed": _("The alarm could not be loaded. It may have been closed."),
    }


# --------------------------------------------------------------------------- pages


@login_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    """The live console of one community (``?community=<id>``, else the current one), with
    the alarm ``?alarm=<id>`` (else the most urgent) in the detail panel."""
    # Read first: the page shows at least everything up to this message, and its stream
    # replays whatever comes after it (a message twice does no harm, one missed would).
    after_id = live_recent_id()
    now = timezone.now()
    key = _page_key(request, after_id)
    if key is not None and (kept := cache.get(key)) is not None:
        return HttpResponse(_restamped(kept, now))
    scope = page_scope(request)
    community = _console_community(request, scope)
    queue = _page_queue(scope, community.pk, int_param(request.GET.get("alarm")), now, after_id)
    communities = list(selectors.viewable_communities(scope)[:200])
    response = render(
        request,
        "alarms/console.html",
        {
            "community": community,
            "communities": communities if len(communities) > 1 else [],
            "console_body": _console_body(request, scope, community, queue, now, after_id),
            "labels": _labels(),
        },
    )
    if key is not None:
        kept_for = random.uniform(PAGE_SECONDS_LEAST, PAGE_SECONDS)  # noqa: S311 - not a secret
        cache.set(key, _KeptPage(response.content.decode(), _stamp(now)), kept_for)
    return response


def _console_body(
    request: HttpRequest,
    scope: Scope,
    community: Community,
    queue: _Queue,
    now: dt.datetime,
    after_id: int,
) -> SafeString:
    """The console itself (the health banner, the queue, the map and the selected alarm's
    panel) as of the live message ``after_id``. Made once for all operators of the community
    who see it alike (see :func:`_audience`) while it is kept, as the queue is: only the
    form token and the server's clock are each page's own."""
    token = get_token(request)
    key = _shared_key(
        "body", community.pk, after_id, queue.selected_id, *_audience(scope, community)
    )
    shared: _SharedBody | None = cache.get(key)
    if shared is not None:
        body = shared.html.replace(shared.token, token).replace(shared.stamp, _stamp(now))
        return mark_safe(body)  # noqa: S308 - made by the template below
    # The queue's alarms carry only what a row shows; the panel's alarm is loaded whole.
    selected = None
    if queue.selected_id is not None:
        alarms = selectors.alarm_list(scope, community_id=community.pk)
        selected = alarms.filter(pk=queue.selected_id).first()
    # The pipeline's health as the live stream says it, so page and stream agree; whoever
    # may watch alarms may know that the pipeline is down.
    health = live_health(language=translation.get_language())
    query = {"community": community.pk}
    devices_url = ""
    if scope.has(Permission.VIEW_DEVICES, community.pk):
        devices_url = f"{reverse('devices:map_geojson')}?{urlencode(query)}"
    html = render_to_string(
        "alarms/_console_body.html",
        {
            "csrf_token": token,
            "community": community,
            "queue_count": queue.count,
            "queue_html": mark_safe(queue.rows),  # noqa: S308 - made by queue_html
            "health": health,
            "health_ok": health["ok"],
            "server_now_ms": int(now.timestamp() * 1000),
            "geojson_url": f"{reverse('places:map_geojson')}?{urlencode(query)}",
            "devices_geojson_url": devices_url,
            # From the newest message as the page was made, so nothing raised between this
            # render and the stream's opening is missed.
            "stream_url": f"{reverse('core:live_stream')}?{urlencode({'after': after_id})}",
            "labels": _labels(),
            **_panel_context(scope, selected, after_id=after_id),
        },
        request=request,
    )
    cache.set(key, _SharedBody(html, token, _stamp(now)), PAGE_SECONDS_LEAST)
    return mark_safe(html)  # noqa: S308 - made by the template


@dataclass(frozen=True)
class _SharedBody:
    """A console's body as one operator's page had it: with that page's form token and
    server clock, which each page using it replaces with its own."""

    html: str
    token: str
    stamp: str


def _audience(scope: Scope, community: Community) -> tuple[str, ...]:
    """Everything about the person that the console's body depends on: whether they may
    handle the community's alarms (the panel's actions), see its devices (the map's layer),
    declare incidents, and follow every incident (else whether they see an alarm's open
    incident depends on whether they take part in it: their own body). The queue, the panel's
    alarm, events, photos, snapshot and dispatch list are the same for everyone who may see
    the community's alarms."""
    follows = incident_selectors.may_follow(scope, community.pk)
    return (
        str(selectors.can_handle(scope, community.pk)),
        str(scope.has(Permission.VIEW_DEVICES, community.pk)),
        str(incident_selectors.may_manage(scope, community.pk)),
        "follows" if follows else f"person {scope.user.pk if scope.user else ''}",
    )


@dataclass(frozen=True)
class _KeptPage:
    body: str
    stamp: str


def _stamp(now: dt.datetime) -> str:
    """The server's clock as the page gives it to ``console.js`` (for the countdowns)."""
    return f'data-server-now="{int(now.timestamp() * 1000)}"'


def _restamped(kept: _KeptPage, now: dt.datetime) -> str:
    """A kept page with the server's clock of now."""
    return kept.body.replace(kept.stamp, _stamp(now), 1)


def _page_key(request: HttpRequest, after_id: int) -> str | None:
    """The cache key of this session's console page at this address as of the live message
    ``after_id``; ``None`` when the page must be made afresh (messages to show once, no
    session yet)."""
    session = request.session
    # The page's forms carry tokens made from the browser's CSRF secret: without one yet, the
    # page makes it, and a kept copy would carry tokens for a secret the next browser lacks.
    csrf_secret = request.META.get("CSRF_COOKIE")
    if session.session_key is None or not csrf_secret or len(messages.get_messages(request)):
        return None
    parts = (
        session.session_key,
        str(request.user.pk),
        csrf_secret,
        translation.get_language(),
        request.get_full_path(),
        # Without ?community=, the community chosen in the top bar.
        str(session.get(CURRENT_COMMUNITY_KEY, "")),
        str(after_id),
    )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"alarms.console:{digest}"


@login_required
@require_GET
def console_queue_fragment(request: HttpRequest) -> HttpResponse:
    """The queue alone, to catch up after the live connection was lost."""
    scope = page_scope(request)
    community = _console_community(request, scope)
    queue = _with_countdowns(console_queue(scope, community.pk), timezone.now())
    return HttpResponse(queue_html(queue))


@login_required
@require_GET
def console_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One alarm's queue row after a live update; 204 when it is closed (it leaves the
    queue) or belongs to another community than the console's ``?community=<id>``."""
    scope = page_scope(request)
    alarm = selectors.alarm_get(scope, pk)
    community_id = int_param(request.GET.get("community"))
    if alarm.state not in OPEN_STATES or community_id not in (None, alarm.community_id):
        return HttpResponse(status=204)
    _with_countdowns([alarm], timezone.now())
    return HttpResponse(queue_row_html(alarm))


@login_required
@require_GET
def console_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The detail panel of one alarm."""
    scope = page_scope(request)
    alarm = selectors.alarm_get(scope, pk)
    return render(request, "alarms/_console_panel.html", _panel_context(scope, alarm))


@login_required
@require_POST
def console_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Acknowledge, dispatch, resolve or close as false an alarm from the console; htmx gets
    the panel again with what happened, a browser without scripts goes back to the console."""
    if action not in CONSOLE_ACTIONS:
        raise Http404
    scope = page_scope(request)
    alarm = selectors.alarm_get(scope, pk)
    form, save, done = _run_action(request, scope, alarm, action)
    errors: list[str] = []
    if not form.is_valid():
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
    else:
        try:
            save(form.cleaned_data)
        except ServiceError as refused:
            errors = [str(refused.message)]
    if not is_htmx(request):
        for error in errors:
            messages.error(request, error)
        url = reverse("alarms:console")
        return redirect(f"{url}?{urlencode({'community': alarm.community_id, 'alarm': pk})}")
    alarm = selectors.alarm_get(scope, pk)
    context = _panel_context(
        scope,
        alarm,
        errors=errors,
        done="" if errors else done,
        failed_action=action if errors else "",
    )
    return render(request, "alarms/_console_panel.html", context)

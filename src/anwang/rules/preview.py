"""'Test against the last 24 h': what a rule, saved or not, would have fired on the events of its
community stored in the last day.

The preview replays the day through the same engine the worker runs
(:func:`anwang.rules.engine.evaluate_events` and :func:`~anwang.rules.engine.evaluate_timers`),
reading the past through :class:`ReplayHistory`: the day's events loaded once. The events are
evaluated as one batch in the order they were received, as the worker evaluates what it has
stored (the engine lets each event see only those received before it); duration and absence
rules are also checked once a minute (:data:`TIMER_STEP`), with the past seen as it was at that
minute, which places their firings at most a minute late. Device states are reconstructed
from the day's events; a state that began before the day counts from the day's start, and
windows reaching back before the day see none of the earlier events. Firings with the same
trigger key are one firing, as in the worker. Whether a firing raises a new alarm or
joins the previous one follows the rule's cooldown, assuming no one closed the alarm in between.
Nothing is written.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.rules.choices import GroupBy, RuleKind
from anwang.rules.conditions import event_value, same
from anwang.rules.facts import DeviceFacts, EventFacts, Firing, History, RuleSpec, StateFacts
from anwang.rules.services import CheckedRule

WINDOW: Final = dt.timedelta(hours=24)
TIMER_STEP: Final = dt.timedelta(minutes=1)
MAX_EVENTS: Final = 20_000
"""The newest events evaluated at most (all of them stay visible to windows)."""
MAX_FIRINGS: Final = 500
"""Firings listed at most (all of them are counted)."""
TIMER_KINDS: Final = frozenset({RuleKind.DURATION.value, RuleKind.ABSENCE.value})
_LAST: Final = 2**63


class _Placeholders(dict[str, Any]):
    """Template values; a placeholder without a value shows as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def render_title(template: str, values: Mapping[str, Any]) -> str:
    """An alarm title from a (translatable) template and its placeholder values."""
    text = _(template) if template else ""
    try:
        return text.format_map(
            _Placeholders({k: "" if v is None else v for k, v in values.items()})
        )
    except (ValueError, IndexError, KeyError, AttributeError):
        return text


def _key(event: EventFacts) -> tuple[dt.datetime, int]:
    return (event.received_at, event.id)


class ReplayHistory:
    """The stored past of one community over a window, held in memory and seen as it was at a
    moment (:meth:`at_time`); implements :class:`~anwang.rules.facts.History`.
    """

    def __init__(
        self, base: History, *, community_id: int, since: dt.datetime, until: dt.datetime
    ) -> None:
        self.base = base
        self.community_id = community_id
        self.since = since
        self.events = list(base.events_between(community_id=community_id, since=since, until=until))
        self.keys = [_key(event) for event in self.events]
        self._devices = list(base.devices(community_id=community_id))
        self._states_now = list(base.states(community_id=community_id))
        self._by_attribute: dict[tuple[int, str], list[int]] = defaultdict(list)
        for index, event in enumerate(self.events):
            if event.attribute is not None:
                self._by_attribute[(event.device.id, event.attribute)].append(index)
        self._before: dict[tuple[str, ...] | None, Mapping[int, EventFacts]] = {}
        self._running: dict[tuple[str, ...] | None, tuple[int, dict[int, EventFacts]]] = {}
        self.position = len(self.events)
        self.moment = until

    # -- where in the window we stand

    def at_time(self, moment: dt.datetime) -> None:
        """See the past as it was at ``moment``."""
        self.position = bisect_right(self.keys, (moment, _LAST))
        self.moment = moment

    # -- History

    def events_between(
        self,
        *,
        community_id: int,
        since: dt.datetime,
        until: dt.datetime,
        kinds: Collection[str] | None = None,
        device_ids: Collection[int] | None = None,
        data_equals: Mapping[str, str | int | float] | None = None,
    ) -> Sequence[EventFacts]:
        """Events of the window received in ``[since, until]`` and by now."""
        high = min(self.position, bisect_right(self.keys, (until, _LAST)))
        low = bisect_left(self.keys, (since, -1))
        found = self.events[low:high] if low < high else []
        if kinds is not None or device_ids is not None or data_equals:
            found = [
                event
                for event in found
                if (kinds is None or event.kind in kinds)
                and (device_ids is None or event.device.id in device_ids)
                and all(
                    same(event_value(f"data.{path}", event, dt.UTC), value)
                    for path, value in (data_equals or {}).items()
                )
            ]
        return found

    def last_event_before(
        self, *, community_id: int, until: dt.datetime, kinds: Sequence[str] | None = None
    ) -> Mapping[int, EventFacts]:
        """The last event (of ``kinds``) of each device at or before ``until`` and by now."""
        key = tuple(sorted(kinds)) if kinds is not None else None
        if key not in self._before:
            self._before[key] = self.base.last_event_before(
                community_id=self.community_id,
                until=self.since - dt.timedelta(microseconds=1),
                kinds=kinds,
            )
        high = min(self.position, bisect_right(self.keys, (until, _LAST)))
        # Timers move forward through the day: continue from the last call instead of
        # scanning the window again.
        start, found = self._running.get(key, (0, {}))
        if start > high:
            start, found = 0, {}
        wanted = set(kinds) if kinds is not None else None
        for event in self.events[start:high]:
            if wanted is None or event.kind in wanted:
                found[event.device.id] = event
        self._running[key] = (high, found)
        return {**self._before[key], **found}

    def states(self, *, community_id: int) -> Sequence[StateFacts]:
        """Each device attribute's value at the moment, and since when."""
        result: list[StateFacts] = []
        seen: set[tuple[int, str]] = set()
        for state in self._states_now:
            pair = (state.device.id, state.attribute)
            seen.add(pair)
            if pair in self._by_attribute:
                replayed = self._state_at(pair, state.device)
                if replayed is not None:
                    result.append(replayed)
            elif state.changed_at <= self.moment:
                result.append(state)
        for pair, indexes in self._by_attribute.items():
            if pair not in seen:
                replayed = self._state_at(pair, self.events[indexes[0]].device)
                if replayed is not None:
                    result.append(replayed)
        return result

    def _state_at(self, pair: tuple[int, str], device: DeviceFacts) -> StateFacts | None:
        indexes = self._by_attribute.get(pair)
        if not indexes:
            return None
        upto = bisect_left(indexes, self.position)
        if upto:
            event = self.events[indexes[upto - 1]]
            return StateFacts(device, pair[1], event.value, event.received_at)
        first = self.events[indexes[0]]
        if first.previous_value is None:
            return None
        return StateFacts(device, pair[1], first.previous_value, self.since)

    def devices(self, *, community_id: int) -> Sequence[DeviceFacts]:
        """The community's devices in service."""
        return self._devices


@dataclass(frozen=True)
class PreviewFiring:
    """One firing the rule would have made."""

    at: dt.datetime
    trigger_key: str
    group_key: str
    group: str
    """The device, zone or building named, or the rule's name."""
    title: str
    why: Mapping[str, Any]
    event_ids: tuple[int, ...]
    new_alarm: bool
    """Whether it would have raised an alarm, rather than joined the previous one of its
    group (within the cooldown)."""


@dataclass(frozen=True)
class Preview:
    """What a rule would have fired over a window."""

    since: dt.datetime
    until: dt.datetime
    events_checked: int
    firings: list[PreviewFiring] = field(default_factory=list)
    firing_count: int = 0
    alarm_count: int = 0
    truncated: bool = False
    """Whether more events were stored than were evaluated (only the newest were)."""


def _group_label(firing: Firing, rule_name: str) -> str:
    kind = firing.group_key.split(":", 1)[0]
    if kind == GroupBy.RULE:
        return rule_name
    value = firing.title_values.get(kind)
    return str(value) if value not in (None, "") else firing.group_key


def _time_zone() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def preview_rule(
    *,
    community_id: int,
    values: CheckedRule,
    rule_id: int | None = None,
    now: dt.datetime | None = None,
    history: History | None = None,
) -> Preview:
    """Replay the last 24 h of a community's events through a rule's values (checked already:
    see :func:`anwang.rules.services.check_rule`). Callers check who may ask."""
    from anwang.rules.engine import evaluate_events, evaluate_timers
    from anwang.rules.history import DatabaseHistory, holidays_map

    until = now or timezone.now()
    since = until - WINDOW
    spec = RuleSpec(
        id=rule_id or 0,
        community_id=community_id,
        name=values.name,
        kind=values.kind,
        condition=values.condition,
        params=values.params,
        priority=values.priority,
        title_template=values.title_template,
        group_by=values.group_by,
        cooldown_seconds=values.cooldown_seconds,
        schedule=values.schedule,
        active_since=since,
    )
    replay = ReplayHistory(
        history if history is not None else DatabaseHistory(),
        community_id=community_id,
        since=since,
        until=until,
    )
    tz = _time_zone()
    holidays = holidays_map()
    found: dict[str, Firing] = {}
    first = max(0, len(replay.events) - MAX_EVENTS)
    # One batch, as the worker evaluates what it has just stored: the engine looks at each
    # event with only the events received before it.
    for firing in evaluate_events(
        [spec], replay.events[first:], history=replay, tz=tz, holidays=holidays
    ):
        found.setdefault(firing.trigger_key, firing)
    if spec.kind in TIMER_KINDS:
        moment = since + TIMER_STEP
        while moment <= until:
            replay.at_time(moment)
            for firing in evaluate_timers(
                [spec], history=replay, now=moment, tz=tz, holidays=holidays
            ):
                found.setdefault(firing.trigger_key, firing)
            moment += TIMER_STEP
    ordered = sorted(found.values(), key=lambda f: (f.at, f.trigger_key))
    last_at: dict[str, dt.datetime] = {}
    firings: list[PreviewFiring] = []
    alarms = 0
    cooldown = dt.timedelta(seconds=values.cooldown_seconds)
    for firing in ordered:
        previous = last_at.get(firing.group_key)
        new_alarm = previous is None or firing.at - previous > cooldown
        alarms += new_alarm
        last_at[firing.group_key] = firing.at
        if len(firings) < MAX_FIRINGS:
            firings.append(
                PreviewFiring(
                    at=firing.at,
                    trigger_key=firing.trigger_key,
                    group_key=firing.group_key,
                    group=_group_label(firing, values.name),
                    title=render_title(firing.title_template, firing.title_values),
                    why=dict(firing.why),
                    event_ids=tuple(firing.event_ids),
                    new_alarm=new_alarm,
                )
            )
    return Preview(
        since=since,
        until=until,
        events_checked=len(replay.events) - first,
        firings=firings,
        firing_count=len(ordered),
        alarm_count=alarms,
        truncated=first > 0,
    )

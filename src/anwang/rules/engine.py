"""The rules engine: which rules fire for new events, and which for the passing of time.

Pure over a :class:`~anwang.rules.facts.History`: every window, sequence, duration and
absence is computed from stored events and states, never from memory kept between calls,
so a restarted worker computes the same firings with the same trigger keys (the alarms
service counts a trigger key once).

Event-driven kinds (:func:`evaluate_events`):

- ``immediate`` ``{}``: each matching event fires (``event:<id>``).
- ``count`` ``{"count": N, "window_seconds": M}``: a matching event fires when its group has
  at least N matching events received in ``(t - M, t]`` up to and including it
  (``event:<id>``); a flapping sensor keeps firing, and its alarm's count rises.
- ``sequence`` ``{"then": <condition>, "within_seconds": T}``: an event matching ``then``
  fires when an event of the same group matching the rule's condition was received in
  ``[t - T, t]`` before it; the latest such event pairs with it
  (``sequence:<first id>:<then id>``).

Time-driven kinds (:func:`evaluate_timers`); their condition uses device fields only:

- ``duration`` ``{"attribute": A, "value": V, "seconds": T}``: a matching device whose state
  A has been V since ``changed_at`` fires once ``changed_at + T`` has passed
  (``duration:<device>:<A>:<changed_at iso>``).
- ``absence`` ``{"seconds": T, "kinds": [..]}``: a group of matching devices that sent no
  event (of ``kinds``, or any) since its anchor, the later of its last such event and the
  rule's ``active_since``, fires once ``anchor + T`` has passed
  (``absence:<group>:<anchor iso>``).

Schedules: an event-driven rule considers only events received while it is armed (each
event of a count or a sequence must be); a timer rule fires at the first armed moment at
or after its threshold, and no later than ``now`` (a door held open since 21:00 under a
22:00-06:00 schedule fires at 22:00).

A rule whose kind or params are unusable (which :func:`validate_rule` refuses at save) is
skipped, never an error: one bad rule must not stop the worker.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

from django.utils.translation import gettext as _

from anwang.rules.choices import GroupBy, RuleKind
from anwang.rules.conditions import (
    DEVICE_FIELDS,
    ConditionError,
    Test,
    compile_condition,
    data_holds,
    data_key,
    device_matches,
    explain,
    fields_of,
    same,
    validate_condition,
    value_key,
)
from anwang.rules.facts import DeviceFacts, EventFacts, Firing, History, RuleSpec
from anwang.rules.schedule import first_armed, is_armed, validate_schedule

EVENT_KINDS: Final = frozenset({RuleKind.IMMEDIATE, RuleKind.COUNT, RuleKind.SEQUENCE})
TIMER_KINDS: Final = frozenset({RuleKind.DURATION, RuleKind.ABSENCE})
MAX_COUNT: Final = 10_000
MAX_WINDOW_SECONDS: Final = 7 * 24 * 3600
MAX_DURATION_SECONDS: Final = 30 * 24 * 3600
# Ids that sort before and after any real one at the same receive time, for bisection.
_MIN_ID: Final = -1
_MAX_ID: Final = 2**63
MAX_EVENT_IDS: Final = 50
"""How many of a count's events a firing links (the latest)."""

Holidays = Mapping[dt.date, bool]
_T = TypeVar("_T")


@dataclass(frozen=True)
class RuleError:
    """One problem of a rule: the rule's field (``condition``, ``params``, ``schedule``,
    ``kind``, ``group_by``), where in it, and what is wrong."""

    field: str
    path: str
    """Dotted position inside the field, e.g. ``all.1.value``; empty for the field itself."""
    message: str


# --------------------------------------------------------------------------- groups


def group_key(group_by: str, device: DeviceFacts) -> str:
    """What one alarm stands for: ``device:<id>``, ``zone:<id>``, ``building:<id>`` or
    ``rule``; a device with no zone (or building) is its own group."""
    if group_by == GroupBy.ZONE and device.zone_id is not None:
        return f"zone:{device.zone_id}"
    if group_by == GroupBy.BUILDING and device.building_id is not None:
        return f"building:{device.building_id}"
    if group_by == GroupBy.RULE:
        return "rule"
    return f"device:{device.id}"


def _title_values(rule: RuleSpec, device: DeviceFacts | None, count: int) -> dict[str, Any]:
    return {
        "device": device.name if device else "",
        "zone": device.zone_name if device else "",
        "building": device.building_name if device else "",
        "count": count,
        "rule": rule.name,
    }


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _firing(
    rule: RuleSpec,
    *,
    group: str,
    trigger_key: str,
    at: dt.datetime,
    device: DeviceFacts | None,
    count: int,
    event_ids: Iterable[int] = (),
    why: Mapping[str, Any],
    zone_id: int | None = None,
) -> Firing:
    return Firing(
        rule_id=rule.id,
        community_id=rule.community_id,
        priority=rule.priority,
        group_key=group,
        trigger_key=trigger_key,
        at=at,
        title_template=rule.title_template,
        title_values=_title_values(rule, device, count),
        event_ids=tuple(event_ids),
        device_id=device.id if device else None,
        zone_id=device.zone_id if device else zone_id,
        why=dict(why),
    )


# --------------------------------------------------------------------------- params


def _whole(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return int(value)


def _seconds(params: Mapping[str, Any], key: str, high: int) -> dt.timedelta | None:
    seconds = _whole(params.get(key), 1, high)
    return None if seconds is None else dt.timedelta(seconds=seconds)


def _kinds(params: Mapping[str, Any]) -> tuple[str, ...] | None:
    kinds = params.get("kinds")
    if isinstance(kinds, list) and kinds and all(isinstance(k, str) and k for k in kinds):
        return tuple(kinds)
    return None


# --------------------------------------------------------------------------- events


class _Batch:
    """The events a call looks at. For each count or sequence rule that an event of the call
    matched, the stored events it needs are read once: only its own window, only the kinds
    its condition pins, and for per-device rules only the devices of this call."""

    def __init__(
        self,
        rules: Sequence[RuleSpec],
        events: Sequence[EventFacts],
        history: History,
        tz: dt.tzinfo,
        holidays: Holidays,
    ) -> None:
        self.history = history
        self.tz = tz
        self.holidays = holidays
        self.by_community: dict[int, list[EventFacts]] = defaultdict(list)
        for event in sorted(events, key=_position):
            self.by_community[event.device.community_id].append(event)
        self._index: dict[int, dict[str, tuple[list[tuple[dt.datetime, int]], list[EventFacts]]]]
        self._index = {}
        self._tests: dict[int, tuple[Mapping[str, Any], Test]] = {}
        self.rules = rules
        self._windows: dict[int, dt.timedelta | None] = {}
        self._needs: dict[int, bool] = {}
        self._reads: dict[tuple[Any, ...], Sequence[EventFacts]] = {}
        self._candidates: dict[tuple[Any, ...], list[EventFacts]] = {}
        self._kinds_index: dict[tuple[int, frozenset[str] | None], list[EventFacts]] = {}
        self._value_index: dict[
            tuple[int, frozenset[str] | None, str], dict[tuple[str, Any] | None, list[EventFacts]]
        ] = {}

    def candidates(self, rule: RuleSpec) -> list[EventFacts]:
        """The call's events of the rule's community that can make it fire, in order: of the
        kinds its trigger pins, with the ``data`` values its trigger requires. Rules that pin
        the same share one pass over the events."""
        if rule.trigger is None:
            return []
        kinds = rule.trigger_kinds
        required = rule.trigger_data
        key = (rule.community_id, kinds, required)
        found = self._candidates.get(key)
        if found is None:
            pool = self._of_kinds(rule.community_id, kinds)
            if required and pool:
                # Through an index of one required path's values, built once per path.
                path, value = required[0]
                pool = self._by_value(rule.community_id, kinds, path).get(value_key(value), [])
                if len(required) > 1:
                    pool = [event for event in pool if data_holds(event.data, dict(required))]
            found = self._candidates[key] = pool
        return found

    def _of_kinds(self, community_id: int, kinds: frozenset[str] | None) -> list[EventFacts]:
        """The call's events of a community (of ``kinds``, or all), in order."""
        found = self._kinds_index.get((community_id, kinds))
        if found is None:
            events = self.by_community.get(community_id, [])
            found = self._kinds_index[community_id, kinds] = (
                events if kinds is None else [event for event in events if event.kind in kinds]
            )
        return found

    def _by_value(
        self, community_id: int, kinds: frozenset[str] | None, path: str
    ) -> dict[tuple[str, Any] | None, list[EventFacts]]:
        """Those events by the value at a ``data`` path, in order."""
        index = self._value_index.get((community_id, kinds, path))
        if index is None:
            index = self._value_index[community_id, kinds, path] = {}
            for event in self._of_kinds(community_id, kinds):
                index.setdefault(data_key(event.data, path), []).append(event)
        return index

    def test(self, condition: Mapping[str, Any]) -> Test:
        """The condition compiled once for the call (it is evaluated for many events)."""
        # By identity; the condition is kept with its test so its id is not reused.
        found = self._tests.get(id(condition))
        if found is None:
            found = (condition, compile_condition(condition, tz=self.tz))
            self._tests[id(condition)] = found
        return found[1]

    def past(self, rule: RuleSpec) -> Sequence[EventFacts]:
        """The stored events a rule may count or pair with: from its window before the
        call's first event to the last one.

        Rules that read the same kinds and ``data`` values (e.g. a per-device and a per-zone
        count of refused accesses) share one read: the widest window of those that need one
        in this call, each then keeping its own window and devices."""
        events = self.by_community[rule.community_id]
        window = self._window(rule)
        if not events or window is None:
            return []
        key = rule.condition_read
        sharing = [
            other
            for other in self.rules
            if other is rule
            or (
                other.community_id == rule.community_id
                and self._window(other) is not None
                and other.condition_read == key
                and self._needs_past(other)
            )
        ]
        widest = max(w for w in map(self._window, sharing) if w is not None)
        batch_devices = {event.device.id for event in events}
        kinds, data = key
        device_ids = (
            frozenset(batch_devices) if all(r.group_by == GroupBy.DEVICE for r in sharing) else None
        )
        since = events[0].received_at - widest
        read_key = (rule.community_id, since, kinds, device_ids, data)
        read = self._reads.get(read_key)
        if read is None:
            read = self._reads[read_key] = self.history.events_between(
                community_id=rule.community_id,
                since=since,
                until=events[-1].received_at,
                kinds=kinds,
                device_ids=device_ids,
                data_equals=dict(data) or None,
            )
        since = events[0].received_at - window
        devices = batch_devices if rule.group_by == GroupBy.DEVICE else None
        return sorted(
            (
                event
                for event in read
                if event.received_at >= since and (devices is None or event.device.id in devices)
            ),
            key=_position,
        )

    def _window(self, rule: RuleSpec) -> dt.timedelta | None:
        """The rule's window (see :func:`_window`), read once per call."""
        if id(rule) not in self._windows:
            self._windows[id(rule)] = _window(rule)
        return self._windows[id(rule)]

    def _needs_past(self, rule: RuleSpec) -> bool:
        """Whether some event of the call can make this count or sequence rule fire (so it
        will read the past)."""
        if id(rule) not in self._needs:
            trigger = rule.trigger
            needed = False
            if trigger is not None:
                kinds = rule.trigger_kinds
                test = self.test(trigger)
                needed = any(
                    (kinds is None or event.kind in kinds)
                    and is_armed(
                        rule.schedule, event.received_at, tz=self.tz, holidays=self.holidays
                    )
                    and test(event)
                    for event in self.by_community.get(rule.community_id, ())
                )
            self._needs[id(rule)] = needed
        return self._needs[id(rule)]

    def matching(
        self, rule: RuleSpec, group: str
    ) -> tuple[list[tuple[dt.datetime, int]], list[EventFacts]]:
        """The stored events of a group that match the rule's condition while it is armed,
        in order, with their positions (receive time, id) for bisection."""
        # By identity: two specs may share an id (previews of unsaved rules use 0).
        if id(rule) not in self._index:
            index: dict[str, tuple[list[tuple[dt.datetime, int]], list[EventFacts]]] = {}
            test = self.test(rule.condition)
            for event in self.past(rule):
                if test(event) and is_armed(
                    rule.schedule, event.received_at, tz=self.tz, holidays=self.holidays
                ):
                    keys, found = index.setdefault(group_key(rule.group_by, event.device), ([], []))
                    keys.append(_position(event))
                    found.append(event)
            self._index[id(rule)] = index
        return self._index[id(rule)].get(group, ([], []))


def _position(event: EventFacts) -> tuple[dt.datetime, int]:
    """Where an event stands in the order of receipt (receive time, then id)."""
    return (event.received_at, event.id)


def _window(rule: RuleSpec) -> dt.timedelta | None:
    if rule.kind == RuleKind.COUNT:
        return _seconds(rule.params, "window_seconds", MAX_WINDOW_SECONDS)
    if rule.kind == RuleKind.SEQUENCE:
        return _seconds(rule.params, "within_seconds", MAX_WINDOW_SECONDS)
    return None


def evaluate_events(
    rules: Sequence[RuleSpec],
    events: Sequence[EventFacts],
    *,
    history: History,
    tz: dt.tzinfo,
    holidays: Holidays,
) -> list[Firing]:
    """The firings of event-driven rules for new events, already stored in ``history``.

    Each rule sees the events of its community only; firings come in event order.
    """
    batch = _Batch(rules, events, history, tz, holidays)
    firings: list[Firing] = []
    for rule in rules:
        if rule.kind not in EVENT_KINDS:
            continue
        # Events of kinds or data a rule cannot match are skipped before any condition is
        # evaluated.
        candidates = batch.candidates(rule)
        check = _checker(rule, batch, tz) if candidates else None
        if check is None:
            continue
        for event in candidates:
            if rule.schedule and not is_armed(
                rule.schedule, event.received_at, tz=tz, holidays=holidays
            ):
                continue
            firing = check(event)
            if firing is not None:
                firings.append(firing)
    firings.sort(key=lambda f: (f.at, f.event_ids[-1] if f.event_ids else 0, f.rule_id))
    return firings


_Check = Callable[[EventFacts], Firing | None]


def _checker(rule: RuleSpec, batch: _Batch, tz: dt.tzinfo) -> _Check | None:
    """The rule's test of one new event, its params read once for the call (``None``: the
    params are unusable)."""
    if rule.kind == RuleKind.IMMEDIATE:
        test = batch.test(rule.condition)

        def immediate(event: EventFacts) -> Firing | None:
            if not test(event):
                return None
            return _firing(
                rule,
                group=group_key(rule.group_by, event.device),
                trigger_key=f"event:{event.id}",
                at=event.received_at,
                device=event.device,
                count=1,
                event_ids=(event.id,),
                why=explain(rule.condition, event, tz=tz),
            )

        return immediate
    if rule.kind == RuleKind.COUNT:
        needed = _whole(rule.params.get("count"), 2, MAX_COUNT)
        window = _seconds(rule.params, "window_seconds", MAX_WINDOW_SECONDS)
        if needed is None or window is None:
            return None
        return lambda event: _count(rule, event, batch, tz, needed, window)
    then = rule.params.get("then")
    within = _seconds(rule.params, "within_seconds", MAX_WINDOW_SECONDS)
    if not isinstance(then, Mapping) or within is None:
        return None
    return lambda event: _sequence(rule, event, batch, tz, then, within)


def _count(
    rule: RuleSpec,
    event: EventFacts,
    batch: _Batch,
    tz: dt.tzinfo,
    needed: int,
    window: dt.timedelta,
) -> Firing | None:
    if not batch.test(rule.condition)(event):
        return None
    group = group_key(rule.group_by, event.device)
    keys, found = batch.matching(rule, group)
    # The window is (t - M, t], up to and including this event: later events of the same
    # batch are not seen yet, so one batch fires as the same events one by one would.
    start = bisect.bisect_right(keys, (event.received_at - window, _MAX_ID))
    end = bisect.bisect_right(keys, _position(event))
    counted = found[start:end]
    if not counted or counted[-1].id != event.id:
        counted.append(event)
    if len(counted) < needed:
        return None
    why = explain(rule.condition, event, tz=tz)
    why.update(count=len(counted), window_seconds=int(window.total_seconds()))
    return _firing(
        rule,
        group=group,
        trigger_key=f"event:{event.id}",
        at=event.received_at,
        device=event.device,
        count=len(counted),
        event_ids=[e.id for e in counted][-MAX_EVENT_IDS:],
        why=why,
    )


def _sequence(
    rule: RuleSpec,
    event: EventFacts,
    batch: _Batch,
    tz: dt.tzinfo,
    then: Mapping[str, Any],
    within: dt.timedelta,
) -> Firing | None:
    if not batch.test(then)(event):
        return None
    group = group_key(rule.group_by, event.device)
    keys, found = batch.matching(rule, group)
    # The latest matching event before this one, received in [t - T, t].
    start = bisect.bisect_left(keys, (event.received_at - within, _MIN_ID))
    end = bisect.bisect_left(keys, _position(event))
    if end <= start:
        return None
    first = found[end - 1]
    return _firing(
        rule,
        group=group,
        trigger_key=f"sequence:{first.id}:{event.id}",
        at=event.received_at,
        device=event.device,
        count=1,
        event_ids=(first.id, event.id),
        why={
            "first": explain(rule.condition, first, tz=tz),
            "then": explain(then, event, tz=tz),
            "within_seconds": int(within.total_seconds()),
            "seconds_between": (event.received_at - first.received_at).total_seconds(),
        },
    )


# --------------------------------------------------------------------------- timers


def evaluate_timers(
    rules: Sequence[RuleSpec],
    *,
    history: History,
    now: dt.datetime,
    tz: dt.tzinfo,
    holidays: Holidays,
) -> list[Firing]:
    """The firings of time-driven rules (durations, absences) due at ``now``.

    A firing stays due for as long as its cause lasts, with the same trigger key: the
    caller ignores the keys it has already counted.
    """
    firings: list[Firing] = []
    for rule in rules:
        if rule.kind == RuleKind.DURATION:
            firings.extend(_durations(rule, history, now, tz, holidays))
        elif rule.kind == RuleKind.ABSENCE:
            firings.extend(_absences(rule, history, now, tz, holidays))
    firings.sort(key=lambda f: (f.at, f.rule_id, f.trigger_key))
    return firings


def _durations(
    rule: RuleSpec, history: History, now: dt.datetime, tz: dt.tzinfo, holidays: Holidays
) -> list[Firing]:
    attribute = rule.params.get("attribute")
    seconds = _seconds(rule.params, "seconds", MAX_DURATION_SECONDS)
    if not isinstance(attribute, str) or seconds is None or "value" not in rule.params:
        return []
    wanted = rule.params["value"]
    firings = []
    for state in history.states(community_id=rule.community_id):
        if (
            state.attribute != attribute
            or not same(state.value, wanted)
            or not device_matches(rule.condition, state.device)
        ):
            continue
        at = first_armed(rule.schedule, state.changed_at + seconds, now, tz=tz, holidays=holidays)
        if at is None:
            continue
        firings.append(
            _firing(
                rule,
                group=group_key(rule.group_by, state.device),
                trigger_key=f"duration:{state.device.id}:{attribute}:{_iso(state.changed_at)}",
                at=at,
                device=state.device,
                count=1,
                why={
                    "attribute": attribute,
                    "value": state.value,
                    "since": _iso(state.changed_at),
                    "seconds": int(seconds.total_seconds()),
                },
            )
        )
    return firings


def _absences(
    rule: RuleSpec, history: History, now: dt.datetime, tz: dt.tzinfo, holidays: Holidays
) -> list[Firing]:
    seconds = _seconds(rule.params, "seconds", MAX_DURATION_SECONDS)
    if seconds is None:
        return []
    kinds = _kinds(rule.params)
    groups: dict[str, list[DeviceFacts]] = defaultdict(list)
    for device in history.devices(community_id=rule.community_id):
        if device_matches(rule.condition, device):
            groups[group_key(rule.group_by, device)].append(device)
    if not groups:
        return []
    last = history.last_event_before(community_id=rule.community_id, until=now, kinds=kinds)
    firings = []
    for group, devices in groups.items():
        heard = [last[d.id] for d in devices if d.id in last]
        latest = max(heard, key=lambda e: (e.received_at, e.id)) if heard else None
        anchor = rule.active_since
        if latest is not None and latest.received_at > anchor:
            anchor = latest.received_at
        at = first_armed(rule.schedule, anchor + seconds, now, tz=tz, holidays=holidays)
        if at is None:
            continue
        single = devices[0] if len(devices) == 1 else None
        firing = _firing(
            rule,
            group=group,
            trigger_key=f"absence:{group}:{_iso(anchor)}",
            at=at,
            device=single,
            count=len(devices),
            zone_id=_shared(d.zone_id for d in devices),
            why={
                "seconds": int(seconds.total_seconds()),
                "since": _iso(anchor),
                "last_event_at": _iso(latest.received_at) if latest else None,
                "kinds": list(kinds) if kinds else [],
                "devices": len(devices),
            },
        )
        if single is None:
            # The title speaks of the group: its zone or building when all share one.
            values = dict(firing.title_values)
            values["zone"] = _shared(d.zone_name for d in devices) or ""
            values["building"] = _shared(d.building_name for d in devices) or ""
            firing = replace(firing, title_values=values)
        firings.append(firing)
    return firings


def _shared(values: Iterable[_T]) -> _T | None:
    """The one value all share, or ``None``."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


# --------------------------------------------------------------------------- validation


def _error(field: str, error: ConditionError, prefix: str = "") -> RuleError:
    path = f"{prefix}.{error.path}" if prefix and error.path else prefix or error.path
    return RuleError(field, path, error.message)


def _params_errors(kind: str, condition: Any, params: Any) -> list[RuleError]:
    if not isinstance(params, Mapping):
        return [RuleError("params", "", _("Parameters must be an object."))]
    allowed: dict[str, set[str]] = {
        RuleKind.IMMEDIATE: set(),
        RuleKind.COUNT: {"count", "window_seconds"},
        RuleKind.SEQUENCE: {"then", "within_seconds"},
        RuleKind.DURATION: {"attribute", "value", "seconds"},
        RuleKind.ABSENCE: {"seconds", "kinds"},
    }
    errors = []
    extra = sorted(str(key) for key in params if key not in allowed[kind])
    if extra:
        errors.append(
            RuleError(
                "params",
                "",
                _("Unknown parameters for this kind of rule: %(keys)s.")
                % {"keys": ", ".join(extra)},
            )
        )

    def seconds(key: str, high: int) -> None:
        if _whole(params.get(key), 1, high) is None:
            errors.append(
                RuleError(
                    "params",
                    key,
                    _("A whole number of seconds from 1 to %(max)d is needed.") % {"max": high},
                )
            )

    if kind == RuleKind.COUNT:
        if _whole(params.get("count"), 2, MAX_COUNT) is None:
            errors.append(
                RuleError(
                    "params",
                    "count",
                    _("A whole number from 2 to %(max)d is needed.") % {"max": MAX_COUNT},
                )
            )
        seconds("window_seconds", MAX_WINDOW_SECONDS)
    elif kind == RuleKind.SEQUENCE:
        if "then" not in params:
            errors.append(RuleError("params", "then", _("The following condition is needed.")))
        else:
            errors.extend(_error("params", e, "then") for e in validate_condition(params["then"]))
        seconds("within_seconds", MAX_WINDOW_SECONDS)
    elif kind == RuleKind.DURATION:
        attribute = params.get("attribute")
        if not isinstance(attribute, str) or not attribute:
            errors.append(RuleError("params", "attribute", _("An attribute name is needed.")))
        if "value" not in params:
            errors.append(RuleError("params", "value", _("A value is needed.")))
        seconds("seconds", MAX_DURATION_SECONDS)
    elif kind == RuleKind.ABSENCE:
        seconds("seconds", MAX_DURATION_SECONDS)
        if "kinds" in params and _kinds(params) is None:
            errors.append(
                RuleError("params", "kinds", _("A list of at least one event kind is needed."))
            )
    if kind in TIMER_KINDS:
        event_fields = sorted(f for f in fields_of(condition) if f not in DEVICE_FIELDS)
        if event_fields:
            errors.append(
                RuleError(
                    "condition",
                    "",
                    _(
                        "This kind of rule chooses devices, so its condition may only use "
                        "device fields, not %(fields)s."
                    )
                    % {"fields": ", ".join(event_fields)},
                )
            )
    return errors


def validate_rule(
    kind: Any, condition: Any, params: Any, schedule: Any, group_by: Any
) -> list[RuleError]:
    """Every problem of a rule's data (empty when the engine can use it)."""
    errors: list[RuleError] = []
    if kind not in RuleKind.values:
        errors.append(
            RuleError(
                "kind",
                "",
                _("Use one of %(choices)s.") % {"choices": ", ".join(RuleKind.values)},
            )
        )
    if group_by not in GroupBy.values:
        errors.append(
            RuleError(
                "group_by",
                "",
                _("Use one of %(choices)s.") % {"choices": ", ".join(GroupBy.values)},
            )
        )
    errors.extend(_error("condition", e) for e in validate_condition(condition))
    errors.extend(_error("schedule", e) for e in validate_schedule(schedule))
    if kind in RuleKind.values:
        errors.extend(_params_errors(str(kind), condition, params))
    return errors

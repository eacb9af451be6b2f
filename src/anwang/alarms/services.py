"""Writes of the alarms domain: raising alarms from rule firings (and by hand), their lifecycle,
response times and escalation.

Raising from firings (:func:`alarms_from_firings`) and the response-time check
(:func:`alarm_sla_check`) are the system's work: they run in the worker, have no actor, and
write no audit entries (like device events); each alarm's steps are its history. Every change a
person makes is keyword-only, checks :attr:`Permission.HANDLE_ALARMS` in the alarm's community
(someone who cannot even see the community's alarms gets 404, someone who can see but not
handle them 403), refuses a change the alarm's state forbids with :class:`ConflictError`,
records an :class:`AlarmStep` and an audit entry in the same transaction.

Lifecycle: raised -> acknowledged -> dispatched (to a guard or operator; again to someone else
if needed) -> on scene -> resolved, or closed as a false alarm (with a reason) from any open
state. Dispatching a raised alarm acknowledges it too. Notes and photos may be added at any
time, also after closing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.selectors import Scope, authorize
from anwang.alarms import selectors
from anwang.alarms.choices import OPEN_STATES, AlarmState, SlaKind, StepAction
from anwang.alarms.models import (
    TITLE_MAX,
    Alarm,
    AlarmEvent,
    AlarmPhoto,
    AlarmStep,
    AlarmTrigger,
    Escalation,
    ResponseTime,
    ShiftHandover,
    render_title,
)
from anwang.audit.services import audit_record, diff, jsonable, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.images import clean_photo
from anwang.core.live import LiveUpdate, live_publish, live_publish_many
from anwang.places.models import Community, Zone
from anwang.rules.choices import Priority
from anwang.rules.facts import Firing, RuleSpec
from anwang.rules.models import Rule

logger = logging.getLogger(__name__)

ALARM_FIELDS = (
    "community",
    "rule",
    "priority",
    "state",
    "title",
    "device",
    "zone",
    "acknowledged_at",
    "acknowledged_by",
    "dispatched_at",
    "assignee",
    "accepted_at",
    "on_scene_at",
    "closed_at",
    "closed_by",
    "close_reason",
)
RESPONSE_TIME_FIELDS = ("community", "priority", "acknowledge_seconds", "on_scene_seconds")
NOTE_MAX = 2000
MAX_RESPONSE_SECONDS = 7 * 24 * 3600
MANUAL_GROUP = "manual"


# --------------------------------------------------------------------------- helpers


def _text(name: str, value: Any, *, limit: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ServiceError(_("This field is required."), field=name)
    if len(text) > limit:
        raise ServiceError(
            _("Use at most %(limit)d characters (this has %(count)d).")
            % {"limit": limit, "count": len(text)},
            field=name,
        )
    return text


def _priority(value: Any) -> int:
    if isinstance(value, bool) or value not in Priority.values:
        raise ServiceError(_("Choose a priority from P1 (most urgent) to P4."), field="priority")
    return int(value)


def _require_handle(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.HANDLE_ALARMS,
        community_id=community_id,
        visible_with=Permission.VIEW_ALARMS,
    )


def _step(
    alarm: Alarm,
    action: StepAction,
    *,
    actor: User | None,
    at: dt.datetime,
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> AlarmStep:
    return AlarmStep(
        alarm=alarm, action=action, actor=actor, at=at, note=note, data=jsonable(dict(data or {}))
    )


def _copy_fields(source: Alarm, target: Alarm) -> None:
    """Give the caller's instance the values just saved on the locked one."""
    if source is target:
        return
    for model_field in Alarm._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))


def _change(
    *,
    actor: User | None,
    scope: Scope | None,
    alarm: Alarm,
    verb: str,
    allowed: Sequence[str],
    refused: Callable[[], str],
    apply: Callable[[Alarm, dt.datetime], tuple[StepAction, str, dict[str, Any]]],
) -> Alarm:
    """Lock the alarm, check its state, apply a change, record the step and the audit entry.

    The state is checked on the locked row, so two operators pressing the same button at once
    get one success and one conflict."""
    _require_handle(actor, scope, alarm.community_id)
    with transaction.atomic():
        locked = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if locked.state not in allowed:
            raise ConflictError(refused())
        now = timezone.now()
        before = snapshot(locked, ALARM_FIELDS)
        action, note, data = apply(locked, now)
        locked.save()
        _step(locked, action, actor=actor, at=now, note=note, data=data).save()
        changes = diff(before, snapshot(locked, ALARM_FIELDS))
        if note:
            changes["note"] = [None, note]
        audit_record(
            actor=actor,
            action=f"alarm.{verb}",
            obj=locked,
            community_id=locked.community_id,
            changes=changes,
        )
        _publish(locked, str(action))
    _copy_fields(locked, alarm)
    return alarm


def alarm_live_update(alarm: Alarm, change: str) -> LiveUpdate:
    """The live message of a change to an alarm (its data as documented in
    :mod:`anwang.core.live`)."""
    return LiveUpdate(
        kind="alarm",
        community_id=alarm.community_id,
        data={
            "id": alarm.pk,
            "community": alarm.community_id,
            "priority": alarm.priority,
            "state": alarm.state,
            "title": alarm.title,
            "device": alarm.device_id,
            "zone": alarm.zone_id,
            "raised_at": alarm.raised_at,
            "acknowledge_due_at": alarm.acknowledge_due_at,
            "on_scene_due_at": alarm.on_scene_due_at,
            "count": alarm.count,
            "assignee": alarm.assignee_id,
            "change": change,
        },
    )


def _publish(alarm: Alarm, change: str) -> None:
    update = alarm_live_update(alarm, change)
    live_publish(kind=update.kind, data=update.data, community_id=update.community_id)


def _state_label(alarm: Alarm) -> str:
    return str(AlarmState(alarm.state).label)


def _notify(
    alarm: Alarm,
    *,
    kind: str,
    title: str,
    recipient_ids: Sequence[int],
    at: dt.datetime,
    priority: int | None = None,
) -> None:
    """Tell people about an alarm through the notification outbox, in the caller's
    transaction: a P1 alarm ignores their quiet hours."""
    from anwang.notifications.services import notify

    if not recipient_ids:
        return
    priority = alarm.priority if priority is None else priority
    notify(
        recipients=User.objects.filter(pk__in=recipient_ids, is_active=True),
        kind=kind,
        title=title,
        body=alarm.title,
        url=reverse("alarms:alarm_detail", args=[alarm.pk]),
        community=alarm.community,
        priority=priority,
        urgent=priority == Priority.P1,
        source=alarm,
        now=at,
    )


# --------------------------------------------------------------------------- raising


def _due(
    raised_at: dt.datetime, response: selectors.ResponseTimeValue, community_id: int
) -> dict[str, Any]:
    acknowledge = raised_at + dt.timedelta(seconds=response.acknowledge_seconds)
    on_scene = raised_at + dt.timedelta(seconds=response.on_scene_seconds)
    if response.by_next_shift:
        shift_change = selectors.next_shift_change(community_id, raised_at)
        if shift_change is not None:
            acknowledge = on_scene = shift_change
    return {"acknowledge_due_at": acknowledge, "on_scene_due_at": on_scene}


def _default_language_title(template: str, values: Mapping[str, Any]) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_title(template, values)


class _Candidate(Protocol):
    """What :func:`_joinable` looks at: an alarm, or one this batch is about to write."""

    @property
    def state(self) -> str: ...

    @property
    def last_fired_at(self) -> dt.datetime: ...


_C = TypeVar("_C", bound=_Candidate)


def _joinable(candidates: list[_C], firing: Firing, cooldown_seconds: int) -> _C | None:
    """The alarm a firing joins: the open one of its group, else the last one closed as a
    false alarm whose last firing is within the rule's cooldown of this one.

    A *resolved* alarm never absorbs a new firing: someone dealt with a real cause, so the
    cause coming back (a fire flaring up again) needs a person again. A false alarm that keeps
    flapping just after someone closed it is the noise the cooldown is for."""
    for alarm in candidates:
        if alarm.state in OPEN_STATES:
            return alarm
    window = dt.timedelta(seconds=cooldown_seconds)
    for alarm in candidates:  # newest first
        if alarm.state != AlarmState.FALSE_ALARM:
            return None
        if abs(firing.at - alarm.last_fired_at) <= window:
            return alarm
    return None


class _FiringRule(Protocol):
    """What raising or joining an alarm needs of the rule that fired (a stored
    :class:`~anwang.rules.models.Rule`, or the engine's :class:`RuleSpec` of it)."""

    @property
    def id(self) -> int: ...

    @property
    def community_id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def cooldown_seconds(self) -> int: ...


class _ResponseTimes:
    """Response times by community, read when a batch first raises an alarm: one that only
    joins open alarms (a sensor that keeps firing) needs none."""

    def __init__(self, community_ids: set[int]) -> None:
        self._community_ids = community_ids
        self._table: dict[int, dict[int, selectors.ResponseTimeValue]] | None = None

    def __getitem__(self, community_id: int) -> Mapping[int, selectors.ResponseTimeValue]:
        if self._table is None:
            self._table = selectors.response_times_by_community(self._community_ids)
        return self._table[community_id]


@dataclass(eq=False)
class _Pending:
    """An alarm as a batch of firings will leave it: an existing one they join, or a new one
    the first of them raises."""

    rule: _FiringRule
    state: str
    last_fired_at: dt.datetime
    count: int
    alarm: Alarm | None = None
    """The existing alarm (``None`` until a new one is written)."""
    raised_by: Firing | None = None
    joins: int = 0


@dataclass
class _Repeats:
    """An alarm's firings again in one batch."""

    alarm: Alarm
    first_at: dt.datetime
    last: Firing
    times: int
    count: int


@dataclass
class _Written:
    """What a batch of firings wrote, for the steps, links and live messages."""

    touched: dict[int, Alarm] = field(default_factory=dict)
    changes: dict[int, str] = field(default_factory=dict)
    raises: list[AlarmStep] = field(default_factory=list)
    repeats: dict[int, _Repeats] = field(default_factory=dict)
    links: set[tuple[int, int]] = field(default_factory=set)
    """(alarm id, event id) pairs to link."""

    def add(self, alarm: Alarm, firing: Firing, *, raised: bool, count: int) -> None:
        """Record one firing that raised or joined ``alarm`` (``count``: its count after)."""
        if raised:
            self.raises.append(
                _step(alarm, StepAction.RAISED, actor=None, at=firing.at, data=dict(firing.why))
            )
        elif (repeats := self.repeats.get(alarm.pk)) is None:
            self.repeats[alarm.pk] = _Repeats(alarm, firing.at, firing, 1, count)
        else:
            repeats.last, repeats.count = firing, count
            repeats.times += 1
        for event_id in firing.event_ids:
            # A count's firings of one batch share most of their events: link each once.
            self.links.add((alarm.pk, event_id))
        self.touched[alarm.pk] = alarm
        # Raised and fired again in one batch is news of a raise.
        self.changes.setdefault(alarm.pk, StepAction.RAISED if raised else StepAction.REPEATED)

    def steps(self) -> list[AlarmStep]:
        """The steps to write: each raise, and per alarm one step for all its firings again in
        the batch, with how many (a flapping sensor must not bury the alarm's history)."""
        steps = list(self.raises)
        for repeats in self.repeats.values():
            data = {**repeats.last.why, "count": repeats.count}
            if repeats.times > 1:
                data.update(times=repeats.times, first_at=repeats.first_at)
            steps.append(
                _step(
                    repeats.alarm,
                    StepAction.REPEATED,
                    actor=None,
                    at=repeats.last.at,
                    data=data,
                )
            )
        return steps


def alarms_from_firings(
    *,
    firings: Sequence[Firing],
    now: dt.datetime,
    rules: Sequence[RuleSpec] | None = None,
    of_new_events: bool = False,
) -> list[Alarm]:
    """Turn the rules engine's firings into alarms, inside the caller's transaction (the one
    storing the events that fired), as the system.

    A firing whose (rule, trigger key) was counted before is skipped, so a redelivered message
    or a restarted worker never counts twice. Otherwise it joins the open alarm of its (rule,
    group), or a closed one whose last firing is within the rule's cooldown (its count rises,
    it is not reopened), or raises a new alarm with due dates from the community's response
    times. Two workers raising the same group at once meet the database's one-open-alarm
    constraint; the loser joins the winner's alarm. Returns the alarms raised or joined.

    Each alarm is written once per batch (one ``UPDATE`` of its count, all triggers, steps and
    links in bulk); only when the database refuses that (another worker was faster) are the
    firings applied one by one.

    ``rules`` are the rules that fired as the caller read them in this transaction (the
    engine's specs); without them they are read here. ``of_new_events``: every firing's
    trigger key names an event stored in this transaction (the event rules of a batch), so
    none can have been counted before, by this worker or another; a batch that only joins open
    alarms then cannot conflict with anything and needs no savepoint."""
    if not firings:
        return []
    rule_ids = {firing.rule_id for firing in firings}
    fired: dict[int, _FiringRule]
    if rules is not None:
        fired = {rule.id: rule for rule in rules if rule.id in rule_ids}
    else:
        fired = {
            rule.id: rule
            for rule in Rule.objects.filter(pk__in=rule_ids)
            .only("id", "community_id", "name", "cooldown_seconds")
            .order_by()
        }
    seen, candidates = _known(firings, fired, counted_before=not of_new_events)
    responses = _ResponseTimes({rule.community_id for rule in fired.values()})
    plan = _plan_grouped(firings, fired, set(seen), candidates)
    try:
        if of_new_events and not any(raised for _firing, _pending, raised, _count in plan):
            written = _write_grouped(plan, responses)
        else:
            with transaction.atomic():
                written = _write_grouped(plan, responses)
    except IntegrityError:
        # Another worker raised one of these groups' alarms or counted one of these firings
        # just now: the savepoint undid the batch's writes; read again what is there now
        # and apply the firings one by one.
        seen, candidates = _known(firings, fired)
        written = _write_one_by_one(firings, fired, seen, candidates, responses)
    AlarmStep.objects.bulk_create(written.steps())
    _link_events(written.links)
    live_publish_many(
        updates=[
            alarm_live_update(alarm, str(written.changes[pk]))
            for pk, alarm in written.touched.items()
        ]
    )
    return list(written.touched.values())


def _link_events(links: set[tuple[int, int]]) -> None:
    """Link events to alarms, skipping links that exist: a count that keeps firing names
    mostly the same events every batch, which its alarm has linked already."""
    if not links:
        return
    existing = set(
        AlarmEvent.objects.filter(
            alarm_id__in={alarm_id for alarm_id, _event_id in links},
            device_event_id__in={event_id for _alarm_id, event_id in links},
        ).values_list("alarm_id", "device_event_id")
    )
    AlarmEvent.objects.bulk_create(
        [
            AlarmEvent(alarm_id=alarm_id, device_event_id=event_id)
            for alarm_id, event_id in sorted(links - existing)
        ],
        ignore_conflicts=True,  # another worker may link the same event at the same moment
    )


def _known(
    firings: Sequence[Firing], rules: Mapping[int, _FiringRule], *, counted_before: bool = True
) -> tuple[set[tuple[int, str]], dict[tuple[int, str], list[Alarm]]]:
    """The firings already counted (rule, trigger key; none are looked for unless
    ``counted_before``), and the alarms each (rule, group) of the firings may join, newest
    first."""
    rule_ids = {firing.rule_id for firing in firings}
    seen: set[tuple[int, str]] = set()
    if counted_before:
        seen = set(
            AlarmTrigger.objects.filter(
                rule_id__in=rule_ids, key__in={firing.trigger_key for firing in firings}
            ).values_list("rule_id", "key")
        )
    groups = {(firing.rule_id, firing.group_key) for firing in firings}
    oldest = min(firing.at for firing in firings) - dt.timedelta(
        seconds=max((rule.cooldown_seconds for rule in rules.values()), default=0)
    )
    candidates: dict[tuple[int, str], list[Alarm]] = {}
    for alarm in Alarm.objects.filter(
        Q(state__in=OPEN_STATES) | Q(last_fired_at__gte=oldest),
        rule_id__in=rule_ids,
        group_key__in={group for _rule, group in groups},
    ).order_by("-last_fired_at", "-id"):
        key = (alarm.rule_id or 0, alarm.group_key)
        if key in groups:
            candidates.setdefault(key, []).append(alarm)
    return seen, candidates


_Plan = list[tuple[Firing, _Pending, bool, int]]
"""Each firing to count, the alarm it raises or joins, whether it raises it, and the alarm's
count after it."""


def _plan_grouped(
    firings: Sequence[Firing],
    rules: Mapping[int, _FiringRule],
    seen: set[tuple[int, str]],
    candidates: Mapping[tuple[int, str], list[Alarm]],
) -> _Plan:
    """Decide in memory which alarm each firing raises or joins (nothing is written)."""
    pending_of: dict[tuple[int, str], list[_Pending]] = {}
    plan: _Plan = []
    for firing in firings:
        rule = rules.get(firing.rule_id)
        if rule is None:
            logger.warning("firing of unknown rule %s skipped", firing.rule_id)
            continue
        if (firing.rule_id, firing.trigger_key) in seen:
            continue
        seen.add((firing.rule_id, firing.trigger_key))
        key = (firing.rule_id, firing.group_key)
        group = pending_of.get(key)
        if group is None:
            group = pending_of[key] = [
                _Pending(
                    rule=rule,
                    state=alarm.state,
                    last_fired_at=alarm.last_fired_at,
                    count=alarm.count,
                    alarm=alarm,
                )
                for alarm in candidates.get(key, ())
            ]
        found = _joinable(group, firing, rule.cooldown_seconds)
        if found is None:
            found = _Pending(
                rule=rule,
                state=AlarmState.RAISED,
                last_fired_at=firing.at,
                count=1,
                raised_by=firing,
            )
            group.insert(0, found)
            plan.append((firing, found, True, 1))
            continue
        found.count += 1
        found.joins += 1
        found.last_fired_at = max(found.last_fired_at, firing.at)
        plan.append((firing, found, False, found.count))
    return plan


def _write_grouped(plan: _Plan, responses: _ResponseTimes) -> _Written:
    """Write a plan: each alarm once and the triggers in one ``INSERT``. Raises
    :class:`IntegrityError` when the database refuses (the caller's savepoint undoes what was
    written; no instance was changed)."""
    pendings = list(dict.fromkeys(pending for _firing, pending, _raised, _count in plan))
    alarms: dict[int, Alarm] = {}
    joined: list[tuple[Alarm, _Pending]] = []
    for pending in pendings:
        if pending.raised_by is not None:
            rule = pending.rule
            alarm = _raise_from(pending.raised_by, rule, responses[rule.community_id])
        else:
            assert pending.alarm is not None
            alarm = pending.alarm
        if pending.joins:
            joined.append((alarm, pending))
        alarms[id(pending)] = alarm
    if joined:
        # Every alarm the batch joined, in one statement.
        Alarm.objects.filter(pk__in=[alarm.pk for alarm, _pending in joined]).update(
            count=F("count")
            + Case(*(When(pk=alarm.pk, then=Value(p.joins)) for alarm, p in joined)),
            last_fired_at=Case(
                *(When(pk=alarm.pk, then=Value(p.last_fired_at)) for alarm, p in joined),
                output_field=models.DateTimeField(),
            ),
        )
    AlarmTrigger.objects.bulk_create(
        [
            AlarmTrigger(
                rule_id=firing.rule_id,
                key=firing.trigger_key,
                alarm=alarms[id(pending)],
                fired_at=firing.at,
            )
            for firing, pending, _raised, _count in plan
        ]
    )
    # Written: now the instances may take their new values.
    for pending in pendings:
        alarm = alarms[id(pending)]
        alarm.count = pending.count
        alarm.last_fired_at = pending.last_fired_at
    written = _Written()
    for firing, pending, raised, count in plan:
        written.add(alarms[id(pending)], firing, raised=raised, count=count)
    return written


def _write_one_by_one(
    firings: Sequence[Firing],
    rules: Mapping[int, _FiringRule],
    seen: set[tuple[int, str]],
    candidates: dict[tuple[int, str], list[Alarm]],
    responses: _ResponseTimes,
) -> _Written:
    """Each firing in its own savepoint, meeting other workers' alarms and triggers."""
    written = _Written()
    for firing in firings:
        rule = rules.get(firing.rule_id)
        if rule is None:
            logger.warning("firing of unknown rule %s skipped", firing.rule_id)
            continue
        if (firing.rule_id, firing.trigger_key) in seen:
            continue
        seen.add((firing.rule_id, firing.trigger_key))
        group = candidates.setdefault((firing.rule_id, firing.group_key), [])
        found = _joinable(group, firing, rule.cooldown_seconds)
        count_before = found.count if found is not None else 0
        try:
            with transaction.atomic():
                if found is None:
                    alarm = _raise_from(firing, rule, responses[rule.community_id])
                    raised = True
                else:
                    alarm, raised = found, False
                    _join(alarm, firing)
                AlarmTrigger.objects.create(
                    rule_id=firing.rule_id, key=firing.trigger_key, alarm=alarm, fired_at=firing.at
                )
        except IntegrityError:
            # Another worker raised this group's alarm or counted this firing just now.
            if found is not None:
                found.count = count_before  # the savepoint undid the join
            joined = _after_conflict(firing)
            if joined is None:
                continue
            alarm, raised = joined, False
            if alarm not in group:
                group.insert(0, alarm)
        if raised:
            group.insert(0, alarm)
        written.add(alarm, firing, raised=raised, count=alarm.count)
    return written


def _raise_from(
    firing: Firing, rule: _FiringRule, responses: Mapping[int, selectors.ResponseTimeValue]
) -> Alarm:
    priority = firing.priority if firing.priority in Priority.values else Priority.P3
    values = jsonable(dict(firing.title_values))
    return Alarm.objects.create(
        community_id=rule.community_id,
        rule_id=rule.id,
        priority=priority,
        title=_default_language_title(firing.title_template, values) or rule.name[:TITLE_MAX],
        title_template=firing.title_template[:TITLE_MAX],
        title_values=values,
        device_id=firing.device_id,
        zone_id=firing.zone_id,
        group_key=firing.group_key[:200],
        why=jsonable(dict(firing.why)),
        raised_at=firing.at,
        last_fired_at=firing.at,
        **_due(firing.at, responses[priority], rule.community_id),
    )


def _join(alarm: Alarm, firing: Firing) -> None:
    last = max(alarm.last_fired_at, firing.at)
    Alarm.objects.filter(pk=alarm.pk).update(count=F("count") + 1, last_fired_at=last)
    alarm.count += 1
    alarm.last_fired_at = last


def _after_conflict(firing: Firing) -> Alarm | None:
    """After a constraint said no: the open alarm to join, or ``None`` when the firing was
    already counted (by another worker)."""
    if AlarmTrigger.objects.filter(rule_id=firing.rule_id, key=firing.trigger_key).exists():
        return None
    alarm = (
        Alarm.objects.filter(
            rule_id=firing.rule_id, group_key=firing.group_key, state__in=OPEN_STATES
        )
        .order_by("-id")
        .first()
    )
    if alarm is None:
        return None
    try:
        with transaction.atomic():
            _join(alarm, firing)
            AlarmTrigger.objects.create(
                rule_id=firing.rule_id, key=firing.trigger_key, alarm=alarm, fired_at=firing.at
            )
    except IntegrityError:
        return None
    return alarm


def alarm_raise_manual(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    priority: int,
    title: str,
    device: Any = None,
    zone: Zone | None = None,
    note: str = "",
) -> Alarm:
    """Raise an alarm by hand (an operator, later an SOS button): no rule, no grouping."""
    _require_handle(actor, scope, community.pk)
    priority = _priority(priority)
    title = _text("title", title, limit=TITLE_MAX, required=True)
    note = _text("note", note, limit=NOTE_MAX)
    if device is not None and device.community_id != community.pk:
        raise ServiceError(_("Choose a device of this community."), field="device")
    if zone is not None and zone.community_id != community.pk:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    now = timezone.now()
    response = selectors.response_times_by_community([community.pk])[community.pk][priority]
    with transaction.atomic():
        alarm = Alarm.objects.create(
            community=community,
            priority=priority,
            title=title,
            device=device,
            zone=zone,
            group_key=MANUAL_GROUP,
            why={"manual": True},
            raised_at=now,
            last_fired_at=now,
            **_due(now, response, community.pk),
        )
        _step(alarm, StepAction.RAISED, actor=actor, at=now, note=note).save()
        audit_record(
            actor=actor,
            action="alarm.raise",
            obj=alarm,
            community_id=community.pk,
            changes=diff({}, snapshot(alarm, ALARM_FIELDS)),
        )
        _publish(alarm, StepAction.RAISED)
    return alarm


def alarm_raise_system(
    *,
    community: Community,
    source_key: str,
    priority: int,
    title: str,
    note: str = "",
    device: Any = None,
    zone: Zone | None = None,
    data: Mapping[str, Any] | None = None,
) -> Alarm | None:
    """Raise an alarm the system found without a rule, at most once per ``source_key``.

    Returns None when an alarm with this key exists (open or closed): a second caller, also
    a concurrent one, loses on the unique key and raises nothing."""
    priority = _priority(priority)
    title = _text("title", title, limit=TITLE_MAX, required=True)
    note = _text("note", note, limit=NOTE_MAX)
    if not source_key:
        raise ServiceError(_("A system alarm needs a source."), field="source_key")
    if Alarm.objects.filter(source_key=source_key).exists():
        return None
    now = timezone.now()
    response = selectors.response_times_by_community([community.pk])[community.pk][priority]
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(
                community=community,
                priority=priority,
                title=title,
                device=device,
                zone=zone,
                group_key=source_key,
                source_key=source_key,
                why={"system": True, **dict(data or {})},
                raised_at=now,
                last_fired_at=now,
                **_due(now, response, community.pk),
            )
            _step(alarm, StepAction.RAISED, actor=None, at=now, note=note).save()
            audit_record(
                actor=None,
                action="alarm.raise",
                obj=alarm,
                community_id=community.pk,
                changes=diff({}, snapshot(alarm, ALARM_FIELDS)),
            )
            _publish(alarm, StepAction.RAISED)
    except IntegrityError:
        # Another caller raised the same key between our look and our insert.
        if Alarm.objects.filter(source_key=source_key).exists():
            return None
        raise
    return alarm


# --------------------------------------------------------------------------- lifecycle


def alarm_acknowledge(
    *, actor: User | None, scope: Scope | None = None, alarm: Alarm, note: str = ""
) -> Alarm:
    """Say that someone has seen the alarm (only a raised one)."""
    note = _text("note", note, limit=NOTE_MAX)

    def apply(locked: Alarm, now: dt.datetime) -> tuple[StepAction, str, dict[str, Any]]:
        locked.state = AlarmState.ACKNOWLEDGED
        locked.acknowledged_at = now
        locked.acknowledged_by = actor
        return StepAction.ACKNOWLEDGED, note, {}

    return _change(
        actor=actor,
        scope=scope,
        alarm=alarm,
        verb="acknowledge",
        allowed=[AlarmState.RAISED],
        refused=lambda: (
            _("Only a raised alarm can be acknowledged; this one is %(state)s.")
            % {"state": _state_label(alarm)}
        ),
        apply=apply,
    )


def alarm_dispatch(
    *,
    actor: User | None,
    scope: Scope | None = None,
    alarm: Alarm,
    assignee: User,
    note: str = "",
) -> Alarm:
    """Send someone who handles alarms in the community (a guard or an operator) to the
    alarm; again to someone else while nobody is on scene. A raised alarm is acknowledged by
    dispatching it."""
    _require_handle(actor, scope, alarm.community_id)
    note = _text("note", note, limit=NOTE_MAX)
    if not selectors.may_be_dispatched(assignee, alarm.community_id):
        raise ServiceError(
            _("Choose someone who handles alarms in this community."), field="assignee"
        )

    def apply(locked: Alarm, now: dt.datetime) -> tuple[StepAction, str, dict[str, Any]]:
        if locked.acknowledged_at is None:
            locked.acknowledged_at = now
            locked.acknowledged_by = actor
        locked.state = AlarmState.DISPATCHED
        locked.dispatched_at = now
        locked.assignee = assignee
        locked.accepted_at = None
        with translation.override(settings.LANGUAGE_CODE):
            title = _("P%(priority)d alarm for you: %(alarm)s") % {
                "priority": locked.priority,
                "alarm": locked.title,
            }
        _notify(locked, kind="alarm.dispatched", title=title, recipient_ids=[assignee.pk], at=now)
        return StepAction.DISPATCHED, note, {"assignee": assignee.pk, "name": str(assignee)}

    return _change(
        actor=actor,
        scope=scope,
        alarm=alarm,
        verb="dispatch",
        allowed=[AlarmState.RAISED, AlarmState.ACKNOWLEDGED, AlarmState.DISPATCHED],
        refused=lambda: (
            _("This alarm cannot be dispatched any more: it is %(state)s.")
            % {"state": _state_label(alarm)}
        ),
        apply=apply,
    )


def _require_assignee(actor: User | None, alarm: Alarm) -> None:
    if actor is not None and alarm.assignee_id != actor.pk:
        raise PermissionDenied(_("Only the person the alarm was dispatched to can accept it."))


def alarm_accept(
    *, actor: User | None, scope: Scope | None = None, alarm: Alarm, note: str = ""
) -> Alarm:
    """The person dispatched says they are on their way."""
    note = _text("note", note, limit=NOTE_MAX)
    _require_handle(actor, scope, alarm.community_id)
    _require_assignee(actor, alarm)

    def apply(locked: Alarm, now: dt.datetime) -> tuple[StepAction, str, dict[str, Any]]:
        _require_assignee(actor, locked)
        if locked.accepted_at is not None:
            raise ConflictError(_("You have already accepted this alarm."))
        locked.accepted_at = now
        return StepAction.ACCEPTED, note, {}

    return _change(
        actor=actor,
        scope=scope,
        alarm=alarm,
        verb="accept",
        allowed=[AlarmState.DISPATCHED],
        refused=lambda: (
            _("Only a dispatched alarm can be accepted; this one is %(state)s.")
            % {"state": _state_label(alarm)}
        ),
        apply=apply,
    )


def alarm_arrive(
    *, actor: User | None, scope: Scope | None = None, alarm: Alarm, note: str = ""
) -> Alarm:
    """Someone is on scene (the person dispatched, or a handler saying so for them)."""
    note = _text("note", note, limit=NOTE_MAX)

    def apply(locked: Alarm, now: dt.datetime) -> tuple[StepAction, str, dict[str, Any]]:
        locked.state = AlarmState.ON_SCENE
        locked.on_scene_at = now
        if locked.accepted_at is None and actor is not None and locked.assignee_id == actor.pk:
            locked.accepted_at = now
        return StepAction.ON_SCENE, note, {}

    return _change(
        actor=actor,
        scope=scope,
        alarm=alarm,
        verb="arrive",
        allowed=[AlarmState.DISPATCHED],
        refused=lambda: (
            _("Only a dispatched alarm can be reached on scene; this one is %(state)s.")
            % {"state": _state_label(alarm)}
        ),
        apply=apply,
    )


def _close(
    *,
    actor: User | None,
    scope: Scope | None,
    alarm: Alarm,
    state: AlarmState,
    reason: str,
    verb: str,
) -> Alarm:
    def apply(locked: Alarm, now: dt.datetime) -> tuple[StepAction, str, dict[str, Any]]:
        locked.state = state
        locked.closed_at = now
        locked.closed_by = actor
        locked.close_reason = reason
        action = StepAction.RESOLVED if state == AlarmState.RESOLVED else StepAction.FALSE_ALARM
        return action, reason, {}

    return _change(
        actor=actor,
        scope=scope,
        alarm=alarm,
        verb=verb,
        allowed=list(OPEN_STATES),
        refused=lambda: (
            _("This alarm is already closed (%(state)s).") % {"state": _state_label(alarm)}
        ),
        apply=apply,
    )


def alarm_resolve(
    *, actor: User | None, scope: Scope | None = None, alarm: Alarm, note: str = ""
) -> Alarm:
    """Close an open alarm as dealt with."""
    note = _text("note", note, limit=NOTE_MAX)
    return _close(
        actor=actor,
        scope=scope,
        alarm=alarm,
        state=AlarmState.RESOLVED,
        reason=note,
        verb="resolve",
    )


def alarm_false(
    *, actor: User | None, scope: Scope | None = None, alarm: Alarm, reason: str
) -> Alarm:
    """Close an open alarm as a false alarm; the reason is required (it is how noisy devices
    and rules are found)."""
    reason = _text("reason", reason, limit=NOTE_MAX, required=True)
    return _close(
        actor=actor,
        scope=scope,
        alarm=alarm,
        state=AlarmState.FALSE_ALARM,
        reason=reason,
        verb="false_alarm",
    )


def alarm_note(
    *, actor: User | None, scope: Scope | None = None, alarm: Alarm, note: str
) -> AlarmStep:
    """Add a note to an alarm's history (also after it was closed)."""
    _require_handle(actor, scope, alarm.community_id)
    note = _text("note", note, limit=NOTE_MAX, required=True)
    with transaction.atomic():
        step = _step(alarm, StepAction.NOTE, actor=actor, at=timezone.now(), note=note)
        step.save()
        audit_record(
            actor=actor,
            action="alarm.note",
            obj=alarm,
            community_id=alarm.community_id,
            changes={"note": [None, note]},
        )
        _publish(alarm, StepAction.NOTE)
    return step


def alarm_photo_add(
    *, actor: User | None, scope: Scope | None = None, alarm: Alarm, image: UploadedFile
) -> AlarmPhoto:
    """Attach a photo (JPEG, PNG or WebP, at most 10 MB) to an alarm; its metadata, such as
    the GPS position, is removed."""
    _require_handle(actor, scope, alarm.community_id)
    content, extension = clean_photo(image, field="image")
    now = timezone.now()
    with transaction.atomic():
        photo = AlarmPhoto(alarm=alarm, uploaded_by=actor, uploaded_at=now)
        photo.image.save(f"alarm-{alarm.pk}.{extension}", ContentFile(content), save=False)
        photo.save()
        _step(alarm, StepAction.PHOTO, actor=actor, at=now, data={"photo": photo.pk}).save()
        audit_record(
            actor=actor,
            action="alarm.photo_add",
            obj=alarm,
            community_id=alarm.community_id,
            changes={"photo": [None, photo.image.name]},
        )
        _publish(alarm, StepAction.PHOTO)
    return photo


# --------------------------------------------------------------------------- response times


def _seconds(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ServiceError(_("Enter a whole number."), field=name)
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise ServiceError(_("Enter a whole number."), field=name) from error
    if number != value and not isinstance(value, str):
        raise ServiceError(_("Enter a whole number."), field=name)
    if not 1 <= number <= MAX_RESPONSE_SECONDS:
        raise ServiceError(
            _("Enter a number of seconds from 1 to %(max)d.") % {"max": MAX_RESPONSE_SECONDS},
            field=name,
        )
    return number


def response_time_set(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    priority: int,
    acknowledge_seconds: int,
    on_scene_seconds: int,
    raise_priority: bool = False,
) -> ResponseTime:
    """Set how soon a community's alarms of one priority must be acknowledged and reached,
    and whether a miss makes them one step more urgent. Alarms already raised keep their due
    times."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_RULES,
        community_id=community.pk,
        visible_with=Permission.VIEW_ALARMS,
    )
    priority = _priority(priority)
    acknowledge = _seconds("acknowledge_seconds", acknowledge_seconds)
    on_scene = _seconds("on_scene_seconds", on_scene_seconds)
    if on_scene < acknowledge:
        raise ServiceError(
            _("Being on scene cannot be due before acknowledging."), field="on_scene_seconds"
        )
    with transaction.atomic():
        row = (
            ResponseTime.objects.select_for_update()
            .filter(community=community, priority=priority)
            .first()
        )
        fields = (*RESPONSE_TIME_FIELDS, "raise_priority")
        before = snapshot(row, fields) if row is not None else {}
        if row is None:
            row = ResponseTime(community=community, priority=priority)
        row.acknowledge_seconds = acknowledge
        row.on_scene_seconds = on_scene
        row.raise_priority = bool(raise_priority)
        after = snapshot(row, fields)
        if before != after:
            row.save()
            audit_record(
                actor=actor,
                action="response_time.set",
                obj=row,
                community_id=community.pk,
                changes=diff(before, after),
            )
    return row


# --------------------------------------------------------------------------- escalation


def _recipients(
    community_ids: set[int], *, now: dt.datetime
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Whom a missed response time is escalated to, by community: its community admins and
    whoever is on duty as leader (:attr:`DutyRole.ON_DUTY_LEADER`) at ``now``, and the street
    office's supervisors, who are added for P1 alarms."""
    from anwang.rosters.choices import DutyRole
    from anwang.rosters.selectors import on_duty_in

    admins: dict[int, list[int]] = {cid: [] for cid in community_ids}
    for user_id, community_id in Membership.objects.filter(
        community_id__in=community_ids, role=Role.COMMUNITY_ADMIN, user__is_active=True
    ).values_list("user_id", "community_id"):
        admins[community_id].append(user_id)
    for duty in on_duty_in(community_ids, now, DutyRole.ON_DUTY_LEADER):
        told = admins[duty.pattern.community_id]
        if duty.person.is_active and duty.person.pk not in told:
            told.append(duty.person.pk)
    regions = dict(Community.objects.filter(pk__in=community_ids).values_list("pk", "region_id"))
    by_region: dict[int, list[int]] = {}
    for user_id, region_id in Membership.objects.filter(
        region_id__in=set(regions.values()), role=Role.SUPERVISOR, user__is_active=True
    ).values_list("user_id", "region_id"):
        by_region.setdefault(region_id, []).append(user_id)
    supervisors = {cid: by_region.get(region_id, []) for cid, region_id in regions.items()}
    return admins, supervisors


def _answering_for(alarms: list[Alarm], *, now: dt.datetime) -> dict[int, list[int]]:
    """By alarm: the people the responsibility matrix names for its place at ``now`` (the
    alarm's zone, else its device's, and the device's building)."""
    from anwang.devices.models import Device
    from anwang.responsibilities.selectors import responsible_people

    device_ids = {alarm.device_id for alarm in alarms if alarm.device_id is not None}
    places = {
        pk: (zone_id, building_id)
        for pk, zone_id, building_id in Device.objects.filter(pk__in=device_ids).values_list(
            "pk", "zone_id", "building_id"
        )
    }
    found: dict[tuple[int, int | None, int | None], list[int]] = {}
    by_alarm: dict[int, list[int]] = {}
    for alarm in alarms:
        device_zone, building_id = places.get(alarm.device_id or 0, (None, None))
        key = (alarm.community_id, alarm.zone_id or device_zone, building_id)
        if key not in found:
            found[key] = (
                [
                    person.pk
                    for person in responsible_people(
                        community_id=key[0], zone_id=key[1], building_id=key[2], at=now
                    )
                ]
                if key[1] is not None or key[2] is not None
                else []
            )
        by_alarm[alarm.pk] = found[key]
    return by_alarm


def alarm_sla_check(*, now: dt.datetime) -> list[Escalation]:
    """Escalate every open alarm that missed a response time, as the system (the worker calls
    this every second).

    Still raised past ``acknowledge_due_at`` misses the acknowledge time; not on scene past
    ``on_scene_due_at`` misses the on-scene time. Each miss is escalated once per alarm (the
    database enforces it, so two workers escalate once): to the community's admins, and for a
    P1 alarm (after any raise) also to the street office's supervisors; if the community's
    response time says so the priority rises one step (P1 stays P1). Due times are not
    recomputed after a raise: they are what was promised when the alarm was raised."""
    ack_missed = Exists(Escalation.objects.filter(alarm=OuterRef("pk"), sla=SlaKind.ACKNOWLEDGE))
    scene_missed = Exists(Escalation.objects.filter(alarm=OuterRef("pk"), sla=SlaKind.ON_SCENE))
    due: list[tuple[Alarm, SlaKind]] = []
    for alarm in Alarm.objects.filter(
        ~ack_missed, state=AlarmState.RAISED, acknowledge_due_at__lte=now
    ).order_by("acknowledge_due_at", "id"):
        due.append((alarm, SlaKind.ACKNOWLEDGE))
    for alarm in Alarm.objects.filter(
        ~scene_missed,
        state__in=[AlarmState.RAISED, AlarmState.ACKNOWLEDGED, AlarmState.DISPATCHED],
        on_scene_due_at__lte=now,
    ).order_by("on_scene_due_at", "id"):
        due.append((alarm, SlaKind.ON_SCENE))
    if not due:
        return []
    communities = {alarm.community_id for alarm, _sla in due}
    responses = selectors.response_times_by_community(communities)
    admins, supervisors = _recipients(communities, now=now)
    answering = _answering_for([alarm for alarm, _sla in due], now=now)

    escalations: list[Escalation] = []
    for alarm, sla in due:
        before = alarm.priority
        raise_it = responses[alarm.community_id][before].raise_priority
        new_priority = max(int(Priority.P1), before - 1) if raise_it else before
        people = [*admins[alarm.community_id], *answering[alarm.pk]]
        if new_priority == Priority.P1:
            people = [*people, *supervisors[alarm.community_id]]
        people = list(dict.fromkeys(people))  # one person, one notice
        try:
            with transaction.atomic():
                escalation = Escalation.objects.create(
                    alarm=alarm,
                    sla=sla,
                    at=now,
                    priority_before=before,
                    priority_after=new_priority,
                )
                escalation.recipients.set(people)
                Alarm.objects.filter(pk=alarm.pk).update(
                    escalations=F("escalations") + 1, priority=new_priority
                )
                with translation.override(settings.LANGUAGE_CODE):
                    title = _("%(sla)s time missed, P%(priority)d: %(alarm)s") % {
                        "sla": SlaKind(sla).label,
                        "priority": new_priority,
                        "alarm": alarm.title,
                    }
                _notify(
                    alarm,
                    kind="alarm.escalated",
                    title=title,
                    recipient_ids=people,
                    at=now,
                    priority=new_priority,
                )
                AlarmStep.objects.create(
                    alarm=alarm,
                    action=StepAction.ESCALATED,
                    at=now,
                    data={
                        "sla": str(sla),
                        "priority_before": before,
                        "priority_after": new_priority,
                        "recipients": sorted(people),
                    },
                )
        except IntegrityError:
            continue  # another worker escalated this miss first
        alarm.priority = new_priority
        alarm.escalations += 1
        escalations.append(escalation)
    live_publish_many(
        updates=[alarm_live_update(e.alarm, StepAction.ESCALATED) for e in escalations]
    )
    return escalations


# --------------------------------------------------------------------------- shift handover

HANDOVER_NOTE_MAX = 5000


def _handover_snapshot(community_id: int) -> dict[str, Any]:
    """What passes to the next shift: the community's open alarms as they stand now, most
    urgent first, and the unfinished tasks of its open incidents and drills, soonest due
    first."""
    from anwang.incidents.choices import IncidentState, TaskStatus
    from anwang.incidents.models import IncidentTask

    tasks = (
        IncidentTask.objects.filter(
            incident__community_id=community_id,
            incident__state=IncidentState.OPEN,
            status=TaskStatus.OPEN,
        )
        .select_related("incident", "assignee")
        .order_by(F("due_at").asc(nulls_last=True), "incident_id", "position")
    )
    alarms = (
        Alarm.objects.filter(community_id=community_id, state__in=OPEN_STATES)
        .select_related("assignee")
        .order_by("priority", "raised_at", "id")
    )
    return {
        "alarms": [
            {
                "id": alarm.pk,
                "priority": alarm.priority,
                "state": alarm.state,
                "title": alarm.title,
                "raised_at": alarm.raised_at.isoformat(),
                "assignee": alarm.assignee_id,
                "assignee_name": str(alarm.assignee) if alarm.assignee_id else "",
            }
            for alarm in alarms
        ],
        "tasks": [
            {
                "id": task.pk,
                "incident": task.incident_id,
                "incident_title": task.incident.title,
                "is_drill": task.incident.is_drill,
                "title": task.title,
                "due_at": task.due_at.isoformat() if task.due_at else None,
                "assignee": task.assignee_id,
                "assignee_name": str(task.assignee) if task.assignee_id else "",
            }
            for task in tasks
        ],
    }


def handover_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    note: str,
    to_user: User | None = None,
) -> ShiftHandover:
    """Hand the shift over with a note; the community's open alarms at this moment are kept
    with it. ``to_user`` names the person taking over; without one, whoever of the next shift
    acknowledges it first takes over."""
    _require_handle(actor, scope, community.pk)
    note = _text("note", note, limit=HANDOVER_NOTE_MAX, required=True)
    if to_user is not None:
        if actor is not None and to_user.pk == actor.pk:
            raise ServiceError(_("Hand over to someone else."), field="to_user")
        if not selectors.may_be_dispatched(to_user, community.pk):
            raise ServiceError(
                _("Choose someone who handles alarms in this community."), field="to_user"
            )
    with transaction.atomic():
        handover = ShiftHandover.objects.create(
            community=community,
            from_user=actor,
            to_user=to_user,
            note=note,
            snapshot=_handover_snapshot(community.pk),
            created_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="handover.create",
            obj=handover,
            community_id=community.pk,
            changes={
                "note": [None, note],
                "to_user": [None, to_user.pk if to_user else None],
                "alarms": [None, [row["id"] for row in handover.snapshot["alarms"]]],
            },
        )
    return handover


def handover_acknowledge(
    *, actor: User | None, scope: Scope | None = None, handover: ShiftHandover
) -> ShiftHandover:
    """The next shift takes over: someone who handles alarms in the community, other than the
    writer (and the person it names, if it names one), acknowledges the handover, once."""
    _require_handle(actor, scope, handover.community_id)
    if actor is None:
        raise ServiceError(_("A handover is acknowledged by a person of the next shift."))
    with transaction.atomic():
        locked = ShiftHandover.objects.select_for_update().get(pk=handover.pk)
        if locked.acknowledged_at is not None:
            raise ConflictError(_("This handover has already been acknowledged."))
        if locked.from_user_id == actor.pk:
            raise PermissionDenied(_("The next shift acknowledges a handover, not its writer."))
        if locked.to_user_id is not None and locked.to_user_id != actor.pk:
            raise PermissionDenied(_("This handover is addressed to someone else."))
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(
            actor=actor,
            action="handover.acknowledge",
            obj=locked,
            community_id=locked.community_id,
            changes={
                "acknowledged_at": [None, locked.acknowledged_at.isoformat()],
                "acknowledged_by": [None, actor.pk],
            },
        )
    handover.acknowledged_at = locked.acknowledged_at
    handover.acknowledged_by = actor
    return handover

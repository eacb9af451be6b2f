"""The built-in rule pack: the rules every new community starts with, as data.

Each rule has a stable ``code`` (stored as :attr:`Rule.builtin`), so installing the pack again
adds only what is missing and an exported rule keeps its origin. Names are translated when the
pack is installed (in the site's default language); title templates stay the English source,
marked with ``gettext_noop`` so they are in the catalogue, because alarms render them with
``gettext`` when they are raised.

Where the data keys come from: Hikvision access events carry ``data.major`` (5 for events) and
``data.minor`` (the SDK's minor code, see
:data:`anwang.events.adapters.hikvision.ACCESS_MINOR_NAMES`); Frigate object events carry
``data.label`` and ``data.type`` (``new``/``update``/``end``), Frigate reviews
``data.severity`` (``alert``/``detection``) and ``data.type``. Access anomaly findings
(:mod:`anwang.access.anomalies`) arrive as ``access.anomaly`` events of the access point's
device with ``data.detector``; weekly-baseline findings have no pack rule (review only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_noop

from anwang.rules.choices import GroupBy, Priority, RuleKind

HIKVISION_EVENT = 5
"""Hikvision's major type of access-controller events."""
MINOR_DOOR_FORCED_OPEN = 27
MINOR_DOOR_HELD_OPEN = 28
MINOR_DENIED = (3, 6, 7, 8, 9, 39, 76, 80)
"""Access refused: wrong card password, card without permission, outside its schedule,
expired, unknown card, fingerprint, face failed, face not recognised."""

NIGHT: dict[str, Any] = {"windows": [{"start": "22:00", "end": "06:00"}], "days": "all"}
"""Armed from 22:00 to 06:00 every day."""


def _eq(name: str, value: Any) -> dict[str, Any]:
    return {"field": name, "op": "eq", "value": value}


def _flag(kind: str) -> dict[str, Any]:
    """A level-triggered sensor kind going true."""
    return {"all": [_eq("kind", kind), _eq("value", True)]}


def _anomaly(detector: str) -> dict[str, Any]:
    """An access anomaly finding of one detector (:mod:`anwang.access.anomalies`)."""
    return {"all": [_eq("kind", "access.anomaly"), _eq("data.detector", detector)]}


def _hikvision_access(*minor: int) -> dict[str, Any]:
    code: dict[str, Any] = (
        _eq("data.minor", minor[0])
        if len(minor) == 1
        else {"field": "data.minor", "op": "in", "value": list(minor)}
    )
    return {"all": [_eq("kind", "access"), _eq("data.major", HIKVISION_EVENT), code]}


@dataclass(frozen=True)
class PackRule:
    """One rule of the built-in pack."""

    code: str
    name: str
    """English source, translated when installed."""
    description: str
    kind: str
    condition: Mapping[str, Any]
    priority: int
    title_template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    group_by: str = GroupBy.DEVICE.value
    cooldown_seconds: int = 300
    schedule: Mapping[str, Any] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        """The rule's values as plain data (names untranslated)."""
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "condition": dict(self.condition),
            "params": dict(self.params),
            "priority": self.priority,
            "title_template": self.title_template,
            "group_by": self.group_by,
            "cooldown_seconds": self.cooldown_seconds,
            "schedule": dict(self.schedule),
        }


PACK: tuple[PackRule, ...] = (
    PackRule(
        code="smoke",
        name=gettext_noop("Smoke: fire"),
        description=gettext_noop(
            "A smoke detector reports smoke. A self-test is reported as its own kind "
            "(smoke_test) and never matches."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_flag("smoke"),
        priority=Priority.P1.value,
        title_template=gettext_noop("Smoke at {device}"),
    ),
    PackRule(
        code="gas",
        name=gettext_noop("Gas leak"),
        description=gettext_noop("A gas detector reports gas."),
        kind=RuleKind.IMMEDIATE.value,
        condition=_flag("gas"),
        priority=Priority.P1.value,
        title_template=gettext_noop("Gas at {device}"),
    ),
    PackRule(
        code="water_leak",
        name=gettext_noop("Water leak"),
        description=gettext_noop("A water sensor reports a leak."),
        kind=RuleKind.IMMEDIATE.value,
        condition=_flag("water_leak"),
        priority=Priority.P2.value,
        title_template=gettext_noop("Water leak at {device}"),
    ),
    PackRule(
        code="door_forced",
        name=gettext_noop("Door forced open"),
        description=gettext_noop(
            "A Hikvision access controller reports its door opened without a release "
            "(minor code 27)."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_hikvision_access(MINOR_DOOR_FORCED_OPEN),
        priority=Priority.P1.value,
        title_template=gettext_noop("Door forced open at {device}"),
    ),
    PackRule(
        code="door_held_open",
        name=gettext_noop("Door held open over 5 minutes"),
        description=gettext_noop("A door contact has stayed open for more than 5 minutes."),
        kind=RuleKind.DURATION.value,
        condition={},
        params={"attribute": "contact", "value": "open", "seconds": 300},
        priority=Priority.P3.value,
        title_template=gettext_noop("Door held open at {device}"),
        cooldown_seconds=1800,
    ),
    PackRule(
        code="door_held_open_reader",
        name=gettext_noop("Door held open (access controller)"),
        description=gettext_noop(
            "A Hikvision access controller reports its door held open longer than its own "
            "configured time (minor code 28)."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_hikvision_access(MINOR_DOOR_HELD_OPEN),
        priority=Priority.P3.value,
        title_template=gettext_noop("Door held open at {device}"),
        cooldown_seconds=1800,
    ),
    PackRule(
        code="key_area_person_night",
        name=gettext_noop("Person in a key area at night"),
        description=gettext_noop(
            "Between 22:00 and 06:00, a camera in a key area reports a Frigate review of "
            "severity alert, or a newly detected person."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition={
            "all": [
                _eq("key_area", True),
                {
                    "any": [
                        {
                            "all": [
                                _eq("kind", "review"),
                                _eq("data.severity", "alert"),
                                {"field": "data.type", "op": "in", "value": ["new", "update"]},
                            ]
                        },
                        {
                            "all": [
                                _eq("kind", "object_detected"),
                                _eq("data.label", "person"),
                                _eq("data.type", "new"),
                            ]
                        },
                    ]
                },
            ]
        },
        priority=Priority.P2.value,
        title_template=gettext_noop("Person in {zone} at night"),
        group_by=GroupBy.ZONE.value,
        cooldown_seconds=600,
        schedule=NIGHT,
    ),
    PackRule(
        code="perimeter_crossing_night",
        name=gettext_noop("Perimeter line crossed at night"),
        description=gettext_noop(
            "Between 22:00 and 06:00, a camera's line-crossing detection goes active."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_flag("line_crossing"),
        priority=Priority.P2.value,
        title_template=gettext_noop("Line crossed at {device} at night"),
        cooldown_seconds=600,
        schedule=NIGHT,
    ),
    PackRule(
        code="access_denied_burst",
        name=gettext_noop("Repeated denied access at one door"),
        description=gettext_noop(
            "Five access attempts refused at one door within 2 minutes (unknown or expired "
            "card, no permission, outside its schedule, failed password, fingerprint or face)."
        ),
        kind=RuleKind.COUNT.value,
        condition=_hikvision_access(*MINOR_DENIED),
        params={"count": 5, "window_seconds": 120},
        priority=Priority.P3.value,
        title_template=gettext_noop("{count} denied access attempts at {device}"),
        cooldown_seconds=600,
    ),
    PackRule(
        code="panic",
        name=gettext_noop("Panic button"),
        description=gettext_noop("Someone pressed a panic button."),
        kind=RuleKind.IMMEDIATE.value,
        # A level-triggered button goes true; an edge-triggered one (an event id per press)
        # has no value. Only the release (false) is not a press.
        condition={"all": [_eq("kind", "panic"), {"not": _eq("value", False)}]},
        priority=Priority.P1.value,
        title_template=gettext_noop("Panic button pressed at {device}"),
    ),
    PackRule(
        code="device_offline",
        name=gettext_noop("Device offline"),
        description=gettext_noop("A device stopped reporting for longer than its heartbeat."),
        kind=RuleKind.IMMEDIATE.value,
        condition=_eq("kind", "device.offline"),
        priority=Priority.P3.value,
        title_template=gettext_noop("{device} is offline"),
        cooldown_seconds=3600,
    ),
    PackRule(
        code="battery_low",
        name=gettext_noop("Battery low"),
        description=gettext_noop(
            "A battery-powered device reports a low battery; one alarm per building collects "
            "them for one round of replacements."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_flag("battery_low"),
        priority=Priority.P4.value,
        title_template=gettext_noop("Low battery in {building}"),
        group_by=GroupBy.BUILDING.value,
        cooldown_seconds=7 * 24 * 3600,
    ),
    PackRule(
        code="access_impossible_travel",
        name=gettext_noop("Impossible travel of a credential"),
        description=gettext_noop(
            "The access anomaly scan found one credential used at two access points farther "
            "apart than anyone can walk in the time between (a copied card, or a card lent)."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_anomaly("impossible_travel"),
        priority=Priority.P2.value,
        title_template=gettext_noop("Impossible travel of a credential at {device}"),
        cooldown_seconds=600,
    ),
    PackRule(
        code="access_outside_hours",
        name=gettext_noop("Restricted area entered outside its hours"),
        description=gettext_noop(
            "The access anomaly scan found someone let into a restricted area (a plant room, "
            "a pump room) outside its permitted hours."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_anomaly("outside_hours"),
        priority=Priority.P2.value,
        title_template=gettext_noop("Restricted area entered outside its hours at {device}"),
        cooldown_seconds=600,
    ),
    PackRule(
        code="access_repeated_denials",
        name=gettext_noop("Repeated refusals of a card or at a door"),
        description=gettext_noop(
            "The access anomaly scan found five or more refused attempts within 10 minutes, by "
            "one credential or at one access point (any device, not only Hikvision)."
        ),
        kind=RuleKind.IMMEDIATE.value,
        condition=_anomaly("repeated_denials"),
        priority=Priority.P3.value,
        title_template=gettext_noop("Repeated refusals at {device}"),
        cooldown_seconds=600,
    ),
)
"""The built-in rules, in the order they are shown."""

PACK_BY_CODE: dict[str, PackRule] = {rule.code: rule for rule in PACK}

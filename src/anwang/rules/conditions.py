"""The condition tree of a rule: which events (or devices) it is about. Pure: no ORM, no I/O.

A condition is JSON data::

    {}                                      matches everything
    {"all": [c, ...]}   {"any": [c, ...]}   {"not": c}
    {"field": F, "op": OP, "value": V}      a leaf

Fields of the event: ``kind``, ``attribute``, ``value``, ``previous_value``,
``data.<dotted.path>`` (into the event's data; a number in the path indexes a list), ``time``
(local ``"HH:MM"`` of the receive time) and ``weekday`` (0 = Monday .. 6). Fields of its
device: ``device`` (id), ``device_kind``, ``protocol``, ``zone`` (id), ``zone_name``,
``key_area``, ``building`` (id), ``building_name``.

Operators: ``eq``, ``ne`` (always ``not eq``), ``in``, ``not_in`` (always ``not in``), ``gt``,
``gte``, ``lt``, ``lte``, ``contains`` (a list holding the value, or a text holding it),
``exists`` (present and not null; the value says whether it should be), ``between`` (two
values, both included; for ``time`` a window ``[start, end)`` that crosses midnight when
``start > end``, e.g. ``["22:00", "06:00"]``, so ``["06:00", "22:00"]`` is its exact opposite).

Comparisons are strict about JSON types: ``true`` never equals ``1``; an ordering between a
number and a text, or with a missing field, is false.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from django.utils.translation import gettext as _

from anwang.rules.facts import DeviceFacts, EventFacts

MAX_DEPTH: Final = 10
"""How deeply conditions may nest (a leaf at the top is depth 1)."""
MAX_NODES: Final = 200
"""How many conditions (groups and leaves) one tree may hold."""
MAX_LIST: Final = 500
"""How many values an ``in``/``not_in`` list may hold."""

DEVICE_FIELDS: Final = frozenset(
    {
        "device",
        "device_kind",
        "protocol",
        "zone",
        "zone_name",
        "key_area",
        "building",
        "building_name",
    }
)
"""Fields answered by the device alone (what :func:`device_matches` can decide)."""
EVENT_FIELDS: Final = frozenset({"kind", "attribute", "value", "previous_value", "time", "weekday"})
"""Fields of the event itself, besides ``data.<path>``."""
DATA_PREFIX: Final = "data."
OPERATORS: Final = (
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "exists",
    "between",
)
GROUPS: Final = ("all", "any", "not")

_TEXT_FIELDS = frozenset(
    {"kind", "attribute", "device_kind", "protocol", "zone_name", "building_name"}
)
_ID_FIELDS = frozenset({"device", "zone", "building"})
_ORDER_OPS = frozenset({"gt", "gte", "lt", "lte"})
# Which operators each kind of field takes; fields not listed (value, previous_value, data.*)
# take every operator.
_FIELD_OPS: dict[str, frozenset[str]] = {
    **dict.fromkeys(_TEXT_FIELDS, frozenset({"eq", "ne", "in", "not_in", "contains", "exists"})),
    **dict.fromkeys(_ID_FIELDS, frozenset({"eq", "ne", "in", "not_in", "exists"})),
    "key_area": frozenset({"eq", "ne", "exists"}),
    "time": frozenset({"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between"}),
    "weekday": frozenset({"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between"}),
}
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class _Missing:
    """A field the event does not have (distinct from a JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
# A field the device alone cannot answer (an event field, in device_matches).
_UNKNOWN: Final = object()


@dataclass(frozen=True)
class ConditionError:
    """One problem of a condition (or schedule): where it is and what is wrong."""

    path: str
    """Dotted position in the data, e.g. ``all.1.value``; empty for the whole."""
    message: str
    """Translated, for the person who wrote it."""


# --------------------------------------------------------------------------- values


def is_number(value: Any) -> bool:
    """Whether a JSON value is a number (``true``/``false`` are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def same(left: Any, right: Any) -> bool:
    """JSON equality: numbers by value, ``true`` never equal to ``1``, lists item by item."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if type(left) is not type(right):
        return False
    return bool(left == right)


@functools.lru_cache(maxsize=2048)
def parse_time(text: str) -> int | None:
    """Minutes after midnight of an ``"HH:MM"`` text, or ``None`` when it is not one."""
    found = _TIME_RE.match(text)
    if found is None:
        return None
    return int(found.group(1)) * 60 + int(found.group(2))


def _minutes(value: Any) -> int | None:
    return parse_time(value) if isinstance(value, str) else None


def in_time_window(minute: int, start: int, end: int) -> bool:
    """Whether a minute of the day is in ``[start, end)``, crossing midnight if start > end."""
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def _dig(data: Any, path: str) -> Any:
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return MISSING
            current = current[part]
        elif isinstance(current, list | tuple) and part.isdigit():
            index = int(part)
            if index >= len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def device_value(field: str, device: DeviceFacts) -> Any:
    """The value of a device field (``MISSING`` for a zone or building it has not)."""
    match field:
        case "device":
            return device.id
        case "device_kind":
            return device.kind
        case "protocol":
            return device.protocol
        case "zone":
            return MISSING if device.zone_id is None else device.zone_id
        case "zone_name":
            return MISSING if device.zone_id is None else device.zone_name
        case "key_area":
            return device.is_key_area
        case "building":
            return MISSING if device.building_id is None else device.building_id
        case "building_name":
            return MISSING if device.building_id is None else device.building_name
    return MISSING


def event_value(field: str, event: EventFacts, tz: dt.tzinfo) -> Any:
    """The value of any field for an event (``MISSING`` when it has none)."""
    if field.startswith(DATA_PREFIX):
        return _dig(event.data, field[len(DATA_PREFIX) :])
    match field:
        case "kind":
            return event.kind
        case "attribute":
            return MISSING if event.attribute is None else event.attribute
        case "value":
            return event.value
        case "previous_value":
            return event.previous_value
        case "time":
            return event.received_at.astimezone(tz).strftime("%H:%M")
        case "weekday":
            return event.received_at.astimezone(tz).weekday()
    return device_value(field, event.device)


# --------------------------------------------------------------------------- evaluation

Lookup = Callable[[str], Any]


def _order(op: str, actual: Any, expected: Any, field: str) -> bool:
    if field == "time":
        actual, expected = _minutes(actual), _minutes(expected)
        if actual is None or expected is None:
            return False
    elif not (
        (is_number(actual) and is_number(expected))
        or (isinstance(actual, str) and isinstance(expected, str))
    ):
        return False
    match op:
        case "gt":
            return bool(actual > expected)
        case "gte":
            return bool(actual >= expected)
        case "lt":
            return bool(actual < expected)
    return bool(actual <= expected)


def _between(actual: Any, expected: Any, field: str) -> bool:
    if not isinstance(expected, list | tuple) or len(expected) != 2:
        return False
    low, high = expected
    if field == "time":
        minute, start, end = _minutes(actual), _minutes(low), _minutes(high)
        if minute is None or start is None or end is None:
            return False
        return in_time_window(minute, start, end)
    return _order("gte", actual, low, field) and _order("lte", actual, high, field)


def _members(items: tuple[Any, ...]) -> tuple[frozenset[str], frozenset[Any]] | None:
    """The texts and the numbers of an ``in`` list, as sets (a list of 200 card numbers is
    then one lookup, not 200 comparisons); ``None`` when the list holds anything else."""
    try:
        return _members_cached(items)
    except TypeError:  # an unhashable item (a list or an object): compare one by one
        return None


@functools.lru_cache(maxsize=1024)
def _members_cached(items: tuple[Any, ...]) -> tuple[frozenset[str], frozenset[Any]] | None:
    texts = frozenset(item for item in items if isinstance(item, str))
    numbers = frozenset(item for item in items if is_number(item))
    if len(texts) + len(numbers) < len(set(items)):
        return None  # booleans or nulls mixed in: keep JSON equality (true is not 1)
    return texts, numbers


def compare(op: str, actual: Any, expected: Any, field: str = "") -> bool:
    """Apply an operator to a field's value (``MISSING`` when absent) and the leaf's value."""
    present = actual is not MISSING
    match op:
        case "eq":
            return present and same(actual, expected)
        case "ne":
            return not (present and same(actual, expected))
        case "in":
            if not present or not isinstance(expected, list | tuple):
                return False
            if isinstance(actual, str) or is_number(actual):
                members = _members(tuple(expected))
                if members is not None:
                    return actual in (members[0] if isinstance(actual, str) else members[1])
            return any(same(actual, item) for item in expected)
        case "not_in":
            return not compare("in", actual, expected, field)
        case "exists":
            exists = present and actual is not None
            return exists is (expected is not False)
        case "contains":
            if isinstance(actual, list | tuple):
                return any(same(item, expected) for item in actual)
            return isinstance(actual, str) and isinstance(expected, str) and expected in actual
        case "between":
            return present and _between(actual, expected, field)
    if op in _ORDER_OPS:
        return present and _order(op, actual, expected, field)
    return False


def _evaluate(node: Any, lookup: Lookup) -> bool | None:
    """Three-valued: ``None`` when the answer depends on a field ``lookup`` cannot give."""
    if not isinstance(node, Mapping):
        return False
    if not node:
        return True
    if "all" in node:
        result: bool | None = True
        for child in _children(node["all"]):
            value = _evaluate(child, lookup)
            if value is False:
                return False
            if value is None:
                result = None
        return result
    if "any" in node:
        result = False
        for child in _children(node["any"]):
            value = _evaluate(child, lookup)
            if value is True:
                return True
            if value is None:
                result = None
        return result
    if "not" in node:
        value = _evaluate(node["not"], lookup)
        return None if value is None else not value
    field = node.get("field")
    if not isinstance(field, str):
        return False
    actual = lookup(field)
    if actual is _UNKNOWN:
        return None
    return compare(str(node.get("op")), actual, node.get("value", True), field)


def _children(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [None]


def matches(condition: Mapping[str, Any], event: EventFacts, *, tz: dt.tzinfo) -> bool:
    """Whether an event matches a condition (``time`` and ``weekday`` are local to ``tz``).

    A malformed part (which :func:`validate_condition` refuses) is false, never an error.
    """
    return _evaluate(condition, lambda field: event_value(field, event, tz)) is True


# --------------------------------------------------------------------------- compiled form

Test = Callable[[EventFacts], bool]
Getter = Callable[[EventFacts], Any]


def compile_condition(condition: Any, *, tz: dt.tzinfo) -> Test:
    """The condition turned once into a function of an event, for evaluating it on many.

    It answers exactly as :func:`matches` (the property tests hold them to it): the tree is
    walked once here instead of once per event, and common leaves (``eq`` on a text, a number
    or a boolean, ``in`` lists, ``exists``) are specialised. The condition must not change
    while the function is in use."""
    return _compile(condition, tz)


def _never(event: EventFacts) -> bool:
    return False


def _always(event: EventFacts) -> bool:
    return True


def _compile(node: Any, tz: dt.tzinfo) -> Test:
    if not isinstance(node, Mapping):
        return _never
    if not node:
        return _always
    if "all" in node:
        return _all_of([_compile(child, tz) for child in _children(node["all"])])
    if "any" in node:
        return _any_of([_compile(child, tz) for child in _children(node["any"])])
    if "not" in node:
        inner = _compile(node["not"], tz)
        return lambda event: not inner(event)
    field = node.get("field")
    if not isinstance(field, str):
        return _never
    get = _getter(field, tz)
    check = _comparator(str(node.get("op")), node.get("value", True), field)
    return lambda event: check(get(event))


def _all_of(tests: list[Test]) -> Test:
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda event: first(event) and second(event)

    return lambda event: all(each(event) for each in tests)


def _any_of(tests: list[Test]) -> Test:
    if not tests:
        return _never
    if len(tests) == 1:
        return tests[0]

    return lambda event: any(each(event) for each in tests)


def _getter(field: str, tz: dt.tzinfo) -> Getter:
    """A function reading one field of an event, as :func:`event_value` does."""
    if field.startswith(DATA_PREFIX):
        path = field[len(DATA_PREFIX) :]
        if "." in path:
            return lambda event: _dig(event.data, path)

        def one(event: EventFacts) -> Any:
            data = event.data
            if type(data) is dict:
                return data.get(path, MISSING)
            return _dig(data, path)

        return one
    match field:
        case "kind":
            return lambda event: event.kind
        case "attribute":
            return lambda event: MISSING if event.attribute is None else event.attribute
        case "value":
            return lambda event: event.value
        case "previous_value":
            return lambda event: event.previous_value
        case "time" | "weekday":
            return lambda event: event_value(field, event, tz)
        case "device":
            return lambda event: event.device.id
        case "device_kind":
            return lambda event: event.device.kind
        case "protocol":
            return lambda event: event.device.protocol
        case "key_area":
            return lambda event: event.device.is_key_area
    if field in DEVICE_FIELDS:
        return lambda event: device_value(field, event.device)
    return lambda event: MISSING


def _comparator(op: str, expected: Any, field: str) -> Callable[[Any], bool]:
    """A function applying one operator and value, as :func:`compare` does."""
    if op in ("eq", "ne"):
        equal = _equality(expected)
        if op == "eq":
            return equal
        return lambda actual: not equal(actual)
    if op in ("in", "not_in"):
        member = _membership(expected)
        if op == "in":
            return member
        return lambda actual: not member(actual)
    if op == "exists":
        wanted = expected is not False
        return lambda actual: (actual is not MISSING and actual is not None) is wanted
    return lambda actual: compare(op, actual, expected, field)


def _equality(expected: Any) -> Callable[[Any], bool]:
    """``eq`` with one value: JSON equality (:func:`same`), missing never equal."""
    if type(expected) is str:
        return lambda actual: type(actual) is str and actual == expected
    if type(expected) is bool:
        return lambda actual: actual is expected
    if type(expected) is int or type(expected) is float:
        return lambda actual: is_number(actual) and bool(actual == expected)
    return lambda actual: actual is not MISSING and same(actual, expected)


def _membership(expected: Any) -> Callable[[Any], bool]:
    """``in`` one list: a set lookup for texts and numbers, JSON equality otherwise."""
    if not isinstance(expected, list | tuple):
        return lambda actual: False
    items = tuple(expected)
    members = _members(items)

    def member(actual: Any) -> bool:
        if actual is MISSING:
            return False
        if members is not None:
            if isinstance(actual, str):
                return actual in members[0]
            if is_number(actual):
                return actual in members[1]
        return any(same(actual, item) for item in items)

    return member


def device_matches(condition: Mapping[str, Any], device: DeviceFacts) -> bool:
    """Whether some event of this device could match the condition.

    Only device fields are decided; an event field is unknown (neither true nor false), so
    ``{"all": [device_kind eq camera, kind eq heartbeat]}`` holds for every camera, and the
    device is refused only when its own facts make the condition false whatever the event.
    """

    def lookup(field: str) -> Any:
        if field in DEVICE_FIELDS:
            return device_value(field, device)
        return _UNKNOWN

    return _evaluate(condition, lookup) is not False


def explain(condition: Mapping[str, Any], event: EventFacts, *, tz: dt.tzinfo) -> dict[str, Any]:
    """The values of the event's fields that made it match (empty when it does not match).

    Of an ``any``, only the branches that hold count; under a ``not``, the fields it looked at.
    """
    if not matches(condition, event, tz=tz):
        return {}
    found: dict[str, Any] = {}

    def lookup(field: str) -> Any:
        return event_value(field, event, tz)

    def collect(node: Any, everything: bool) -> None:
        if not isinstance(node, Mapping) or not node:
            return
        if "all" in node:
            for child in _children(node["all"]):
                collect(child, everything)
        elif "any" in node:
            for child in _children(node["any"]):
                if everything or _evaluate(child, lookup) is True:
                    collect(child, everything)
        elif "not" in node:
            collect(node["not"], True)
        elif isinstance(node.get("field"), str):
            actual = lookup(node["field"])
            if actual is not MISSING:
                found[node["field"]] = actual

    collect(condition, False)
    return found


def fields_of(condition: Any) -> set[str]:
    """Every field a condition looks at."""
    if not isinstance(condition, Mapping):
        return set()
    if "all" in condition or "any" in condition:
        found: set[str] = set()
        for child in _children(condition.get("all", condition.get("any"))):
            found |= fields_of(child)
        return found
    if "not" in condition:
        return fields_of(condition["not"])
    field = condition.get("field")
    return {field} if isinstance(field, str) else set()


def pinned_kinds(condition: Any) -> frozenset[str] | None:
    """The event kinds a condition can match at all, when it says (``kind eq`` / ``kind in``
    required on every path), else ``None``: lets the engine skip other events unread and
    ask the history only for these kinds."""
    if not isinstance(condition, Mapping):
        return None
    if "all" in condition:
        pinned = [pinned_kinds(child) for child in _children(condition["all"])]
        known = [kinds for kinds in pinned if kinds is not None]
        return frozenset.intersection(*known) if known else None
    if "any" in condition:
        pinned = [pinned_kinds(child) for child in _children(condition["any"])]
        if not pinned or any(kinds is None for kinds in pinned):
            return None
        return frozenset().union(*(kinds for kinds in pinned if kinds is not None))
    if condition.get("field") != "kind":
        return None
    op, value = condition.get("op"), condition.get("value")
    if op == "eq" and isinstance(value, str):
        return frozenset({value})
    if op == "in" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    return None


def required_data(condition: Any) -> dict[str, str | int | float]:
    """``data.<path>`` values every match must have (``eq`` leaves on the condition's
    all-of spine, texts and non-boolean numbers only), so a history can narrow its read in the
    database; the full condition is still evaluated on what it returns."""
    found: dict[str, str | int | float] = {}
    if not isinstance(condition, Mapping):
        return found
    if "all" in condition:
        for child in _children(condition["all"]):
            found.update(required_data(child))
        return found
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    if (
        isinstance(field, str)
        and field.startswith("data.")
        and op == "eq"
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
        and all(part.isidentifier() for part in field[5:].split("."))
    ):
        found[field[5:]] = value
    return found


def value_key(value: Any) -> tuple[str, Any] | None:
    """A dictionary key under which equal JSON texts or numbers meet, as :func:`same` compares
    them (``1`` and ``1.0`` alike, ``true`` never a number); ``None`` for other values."""
    if is_number(value):
        return ("n", value)
    if type(value) is str:
        return ("s", value)
    return None


def data_key(data: Any, path: str) -> tuple[str, Any] | None:
    """The :func:`value_key` of the value at a dotted path of event data."""
    if type(data) is dict and "." not in path:  # the common case, without splitting the path
        value = data.get(path, MISSING)
        if type(value) is str:
            return ("s", value)
        return value_key(value)
    return value_key(_dig(data, path))


def data_holds(data: Any, required: Mapping[str, Any]) -> bool:
    """Whether event ``data`` has every value of :func:`required_data`, compared as the
    engine compares (a memory of stored events narrows new rows with it)."""
    return all(same(_dig(data, path), value) for path, value in required.items())


# --------------------------------------------------------------------------- validation


def is_known_field(field: str) -> bool:
    """Whether a condition may name this field."""
    if field.startswith(DATA_PREFIX):
        parts = field[len(DATA_PREFIX) :].split(".")
        return all(parts)
    return field in DEVICE_FIELDS or field in EVENT_FIELDS


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


class _Validator:
    def __init__(self) -> None:
        self.errors: list[ConditionError] = []
        self.nodes = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(ConditionError(path, message))

    def node(self, node: Any, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.error(
                    path,
                    _("A condition may hold at most %(count)d parts.") % {"count": MAX_NODES},
                )
            return
        if depth > MAX_DEPTH:
            self.error(
                path,
                _("Conditions may be nested at most %(depth)d deep.") % {"depth": MAX_DEPTH},
            )
            return
        if not isinstance(node, Mapping):
            self.error(path, _("A condition must be an object."))
            return
        if not node:
            return
        groups = [key for key in GROUPS if key in node]
        if groups:
            if len(node) != 1:
                self.error(
                    path,
                    _("A group holds only one of %(keys)s, and nothing else.")
                    % {"keys": ", ".join(GROUPS)},
                )
                return
            key = groups[0]
            inner = node[key]
            if key == "not":
                self.node(inner, _join(path, key), depth + 1)
            elif not isinstance(inner, list) or not inner:
                self.error(_join(path, key), _("A list of at least one condition is needed."))
            else:
                for index, child in enumerate(inner):
                    self.node(child, _join(_join(path, key), index), depth + 1)
            return
        self.leaf(node, path)

    def leaf(self, node: Mapping[str, Any], path: str) -> None:
        extra = sorted(str(key) for key in node if key not in {"field", "op", "value"})
        if extra:
            self.error(path, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(extra)})
            return
        field, op = node.get("field"), node.get("op")
        if not isinstance(field, str) or not is_known_field(field):
            self.error(
                _join(path, "field"),
                _("Unknown field %(field)s.") % {"field": repr(field)},
            )
            return
        if op not in OPERATORS:
            self.error(
                _join(path, "op"),
                _("Unknown operator %(op)s: use one of %(ops)s.")
                % {"op": repr(op), "ops": ", ".join(OPERATORS)},
            )
            return
        assert isinstance(op, str)
        allowed = _FIELD_OPS.get(field)
        if allowed is not None and op not in allowed:
            self.error(
                _join(path, "op"),
                _("The field %(field)s cannot be compared with %(op)s.")
                % {"field": field, "op": op},
            )
            return
        if "value" not in node and op != "exists":
            self.error(_join(path, "value"), _("A value is needed."))
            return
        problem = _value_problem(field, op, node.get("value", True))
        if problem:
            self.error(_join(path, "value"), problem)


def _scalar_problem(field: str, value: Any) -> str | None:
    """What is wrong with one value compared with the field (``None``: nothing)."""
    if field in _TEXT_FIELDS:
        return None if isinstance(value, str) else _("A text is needed.")
    if field in _ID_FIELDS:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("A whole number (an id) is needed.")
    if field == "key_area":
        return None if isinstance(value, bool) else _("true or false is needed.")
    if field == "time":
        return None if _minutes(value) is not None else _("A time as HH:MM is needed.")
    if field == "weekday":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6
        return None if ok else _("A day of the week from 0 (Monday) to 6 (Sunday) is needed.")
    return None


def _value_problem(field: str, op: str, value: Any) -> str | None:
    if op == "exists":
        return None if isinstance(value, bool) else _("true or false is needed.")
    if op in {"in", "not_in"}:
        if not isinstance(value, list) or not value:
            return _("A list of at least one value is needed.")
        if len(value) > MAX_LIST:
            return _("A list may hold at most %(count)d values.") % {"count": MAX_LIST}
        for item in value:
            problem = _scalar_problem(field, item)
            if problem:
                return problem
        return None
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            return _("A list of two values (from, to) is needed.")
        low, high = value
        if field == "time":
            problem = _scalar_problem(field, low) or _scalar_problem(field, high)
            if problem:
                return problem
            if low == high:
                return _("The start and end of a time window must differ.")
            return None
        return (
            _order_problem(field, low) or _order_problem(field, high) or _range_problem(low, high)
        )
    if op in _ORDER_OPS:
        return _order_problem(field, value)
    if op == "contains" and field not in _TEXT_FIELDS:
        if isinstance(value, list | dict):
            return _("A single value is needed.")
        return None
    return _scalar_problem(field, value)


def _order_problem(field: str, value: Any) -> str | None:
    if field in {"time", "weekday"}:
        return _scalar_problem(field, value)
    if is_number(value) or isinstance(value, str):
        return None
    return _("A number or a text is needed.")


def _range_problem(low: Any, high: Any) -> str | None:
    comparable = (is_number(low) and is_number(high)) or (
        isinstance(low, str) and isinstance(high, str)
    )
    if not comparable:
        return _("Both ends must be numbers, or both texts.")
    if low > high:
        return _("The first value must not be greater than the second.")
    return None


def validate_condition(condition: Any) -> list[ConditionError]:
    """Every problem of a condition tree (empty when it is usable)."""
    validator = _Validator()
    validator.node(condition, "", 1)
    return validator.errors

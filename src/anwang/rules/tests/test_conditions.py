"""The condition tree: every field and operator, the laws of and/or/not, and validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anwang.rules.conditions import (
    MAX_DEPTH,
    MAX_NODES,
    compile_condition,
    device_matches,
    event_value,
    explain,
    matches,
    validate_condition,
)
from anwang.rules.tests.conftest import SHANGHAI, local, make_device, make_event

DOOR = make_device(
    7,
    kind="contact",
    protocol="hikvision",
    zone_id=3,
    zone_name="北门",
    is_key_area=True,
    building_id=9,
    building_name="1号楼",
)
LOOSE = make_device(8, kind="camera", protocol="frigate")
# Friday 2026-11-27, 23:30 in Shanghai (15:30 UTC).
EVENT = make_event(
    DOOR,
    "contact",
    local(2026, 11, 27, 23, 30),
    id=42,
    attribute="contact",
    value="open",
    previous_value="closed",
    data={"label": "person", "score": 0.91, "zones": ["gate", "yard"], "box": {"w": 10}},
)


def leaf(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def ok(condition: Any, event: Any = EVENT) -> bool:
    assert validate_condition(condition) == [], validate_condition(condition)
    return matches(condition, event, tz=SHANGHAI)


# --------------------------------------------------------------------------- fields and ops


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({}, True),
        (leaf("kind", "eq", "contact"), True),
        (leaf("kind", "eq", "smoke"), False),
        (leaf("kind", "ne", "smoke"), True),
        (leaf("kind", "in", ["smoke", "contact"]), True),
        (leaf("kind", "not_in", ["smoke", "contact"]), False),
        (leaf("kind", "contains", "onta"), True),
        (leaf("attribute", "eq", "contact"), True),
        (leaf("value", "eq", "open"), True),
        (leaf("previous_value", "eq", "closed"), True),
        (leaf("device", "eq", 7), True),
        (leaf("device", "in", [1, 2]), False),
        (leaf("device_kind", "eq", "contact"), True),
        (leaf("protocol", "eq", "hikvision"), True),
        (leaf("zone", "eq", 3), True),
        (leaf("zone_name", "eq", "北门"), True),
        (leaf("key_area", "eq", True), True),
        (leaf("key_area", "ne", True), False),
        (leaf("building", "eq", 9), True),
        (leaf("building_name", "eq", "1号楼"), True),
        (leaf("data.label", "eq", "person"), True),
        (leaf("data.box.w", "gte", 10), True),
        (leaf("data.zones.1", "eq", "yard"), True),
        (leaf("data.zones", "contains", "gate"), True),
        (leaf("data.zones", "contains", "road"), False),
        (leaf("data.score", "gt", 0.9), True),
        (leaf("data.score", "lt", 0.9), False),
        (leaf("data.score", "lte", 0.91), True),
        (leaf("data.score", "between", [0.5, 1]), True),
        (leaf("data.score", "between", [0.95, 1]), False),
        (leaf("data.label", "exists", True), True),
        (leaf("data.missing", "exists", True), False),
        (leaf("data.missing", "exists", False), True),
        (leaf("data.missing", "eq", "x"), False),
        (leaf("data.missing", "ne", "x"), True),
        (leaf("data.missing", "gt", 1), False),
        (leaf("data.label", "gt", 1), False),
        (leaf("time", "eq", "23:30"), True),
        (leaf("time", "gte", "22:00"), True),
        (leaf("time", "lt", "22:00"), False),
        (leaf("time", "between", ["22:00", "06:00"]), True),
        (leaf("time", "between", ["06:00", "22:00"]), False),
        (leaf("weekday", "eq", 4), True),
        (leaf("weekday", "between", [5, 6]), False),
        (leaf("weekday", "in", [0, 1, 2, 3, 4]), True),
    ],
)
def test_leaf(condition: dict[str, Any], expected: bool) -> None:
    assert ok(condition) is expected
    assert compile_condition(condition, tz=SHANGHAI)(EVENT) is expected


def test_json_types_are_strict() -> None:
    flag = make_event(DOOR, "smoke", EVENT.received_at, attribute="smoke", value=True)
    assert ok(leaf("value", "eq", True), flag)
    assert not ok(leaf("value", "eq", 1), flag)
    assert not ok(leaf("value", "in", [1, "true"]), flag)
    number = make_event(DOOR, "temperature", EVENT.received_at, value=1)
    assert ok(leaf("value", "eq", 1.0), number)
    assert not ok(leaf("value", "eq", True), number)


def test_missing_zone_and_edge_attribute() -> None:
    edge = make_event(LOOSE, "review", EVENT.received_at, data={"severity": "alert"})
    assert not ok(leaf("zone", "eq", 3), edge)
    assert ok(leaf("zone", "exists", False), edge)
    assert ok(leaf("attribute", "exists", False), edge)
    assert ok(leaf("key_area", "eq", False), edge)
    assert ok(leaf("data.severity", "eq", "alert"), edge)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (local(2026, 11, 27, 21, 59, 59), False),
        (local(2026, 11, 27, 22, 0), True),
        (local(2026, 11, 28, 0, 0), True),
        (local(2026, 11, 28, 5, 59, 59), True),
        (local(2026, 11, 28, 6, 0), False),
    ],
)
def test_time_window_crosses_midnight(moment: Any, inside: bool) -> None:
    event = make_event(DOOR, "motion", moment)
    assert ok(leaf("time", "between", ["22:00", "06:00"]), event) is inside
    assert ok(leaf("time", "between", ["06:00", "22:00"]), event) is not inside


def test_time_is_local_to_the_given_zone() -> None:
    # 23:30 in Shanghai is 15:30 UTC.
    assert matches(leaf("time", "eq", "15:30"), EVENT, tz=dt.UTC)
    assert not matches(leaf("time", "eq", "15:30"), EVENT, tz=SHANGHAI)


def test_groups() -> None:
    smoke = leaf("kind", "eq", "smoke")
    contact = leaf("kind", "eq", "contact")
    assert ok({"all": [contact, leaf("key_area", "eq", True)]})
    assert not ok({"all": [contact, smoke]})
    assert ok({"any": [smoke, contact]})
    assert not ok({"any": [smoke, smoke]})
    assert ok({"not": smoke})
    assert not ok({"not": {}})
    assert ok({"all": [{}]})


def test_malformed_condition_is_false_not_an_error() -> None:
    assert not matches({"all": "x"}, EVENT, tz=SHANGHAI)
    assert not matches({"field": "kind", "op": "nope", "value": 1}, EVENT, tz=SHANGHAI)
    assert not matches({"field": 3}, EVENT, tz=SHANGHAI)
    malformed: Any
    for malformed in ({"all": "x"}, {"field": "kind", "op": "nope"}, {"field": 3}, [], None):
        assert compile_condition(malformed, tz=SHANGHAI)(EVENT) is False


def test_compiled_json_types_are_strict() -> None:
    flag = make_event(DOOR, "smoke", EVENT.received_at, attribute="smoke", value=True)
    number = make_event(DOOR, "temperature", EVENT.received_at, value=1)
    cases = [
        (leaf("value", "eq", True), flag, True),
        (leaf("value", "eq", 1), flag, False),
        (leaf("value", "in", [1, "true"]), flag, False),
        (leaf("value", "in", [True, None]), flag, True),
        (leaf("value", "eq", 1.0), number, True),
        (leaf("value", "eq", True), number, False),
        (leaf("value", "in", [1.0, "x"]), number, True),
        (leaf("value", "in", [True]), number, False),
        (leaf("value", "not_in", [1]), number, False),
        (leaf("attribute", "exists", True), number, False),
    ]
    for condition, event, expected in cases:
        assert matches(condition, event, tz=SHANGHAI) is expected, condition
        assert compile_condition(condition, tz=SHANGHAI)(event) is expected, condition


# --------------------------------------------------------------------------- device_matches


def test_device_matches_decides_device_fields_only() -> None:
    cameras_heartbeat = {
        "all": [leaf("device_kind", "eq", "camera"), leaf("kind", "eq", "heartbeat")]
    }
    assert device_matches(cameras_heartbeat, LOOSE)
    assert not device_matches(cameras_heartbeat, DOOR)
    # An event field is unknown, so it never decides, also under "not" and "any".
    assert device_matches({"not": leaf("kind", "eq", "x")}, DOOR)
    assert device_matches({"any": [leaf("kind", "eq", "x"), leaf("zone", "eq", 99)]}, DOOR)
    assert not device_matches({"not": leaf("zone", "eq", 3)}, DOOR)
    assert device_matches({}, DOOR)
    assert device_matches(leaf("zone", "exists", False), LOOSE)
    assert device_matches(leaf("key_area", "eq", True), DOOR)


# --------------------------------------------------------------------------- explain


def test_explain_gives_the_values_that_matched() -> None:
    condition = {
        "all": [
            leaf("device_kind", "eq", "contact"),
            {"any": [leaf("value", "eq", "open"), leaf("data.label", "eq", "car")]},
            {"not": leaf("data.score", "lt", 0.5)},
            leaf("time", "between", ["22:00", "06:00"]),
        ]
    }
    assert explain(condition, EVENT, tz=SHANGHAI) == {
        "device_kind": "contact",
        "value": "open",
        "data.score": 0.91,
        "time": "23:30",
    }
    assert explain(leaf("kind", "eq", "smoke"), EVENT, tz=SHANGHAI) == {}
    assert explain({}, EVENT, tz=SHANGHAI) == {}


# --------------------------------------------------------------------------- laws

_fields = st.sampled_from(
    ["kind", "value", "zone", "key_area", "data.label", "data.score", "time", "weekday"]
)
_values = st.one_of(
    st.sampled_from(["contact", "smoke", "open", "person", "22:00", "06:00"]),
    st.integers(-2, 10),
    st.booleans(),
    st.none(),
    st.floats(0, 1),
)


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(["eq", "ne", "in", "not_in", "gt", "lte", "contains", "exists"]))
    value: Any = draw(_values)
    if op in {"in", "not_in"}:
        value = draw(st.lists(_values, min_size=1, max_size=3))
    elif op == "exists":
        value = draw(st.booleans())
    return {"field": draw(_fields), "op": op, "value": value}


conditions = st.recursive(
    st.one_of(st.just({}), leaves()),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda c: {"all": c}),
        st.lists(inner, min_size=1, max_size=3).map(lambda c: {"any": c}),
        inner.map(lambda c: {"not": c}),
    ),
    max_leaves=8,
)
events = st.builds(
    lambda kind, value, hour, label, device: make_event(
        device,
        kind,
        local(2026, 11, 27, hour, 0),
        value=value,
        data={} if label is None else {"label": label, "score": 0.5},
    ),
    st.sampled_from(["contact", "smoke"]),
    _values,
    st.integers(0, 23),
    st.one_of(st.none(), st.just("person")),
    st.sampled_from([DOOR, LOOSE]),
)


def evaluate(condition: Any, event: Any) -> bool:
    return matches(condition, event, tz=SHANGHAI)


@given(conditions, events)
def test_double_negation(condition: Any, event: Any) -> None:
    assert evaluate({"not": {"not": condition}}, event) == evaluate(condition, event)


@given(conditions, events)
def test_single_item_groups(condition: Any, event: Any) -> None:
    assert evaluate({"all": [condition]}, event) == evaluate(condition, event)
    assert evaluate({"any": [condition]}, event) == evaluate(condition, event)


@given(conditions, conditions, events)
def test_de_morgan(first: Any, second: Any, event: Any) -> None:
    assert evaluate({"not": {"all": [first, second]}}, event) == evaluate(
        {"any": [{"not": first}, {"not": second}]}, event
    )
    assert evaluate({"not": {"any": [first, second]}}, event) == evaluate(
        {"all": [{"not": first}, {"not": second}]}, event
    )


@given(leaves(), events)
def test_negated_operators_are_opposites(condition: Any, event: Any) -> None:
    opposite = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in"}.get(condition["op"])
    if opposite is not None:
        assert evaluate({**condition, "op": opposite}, event) != evaluate(condition, event)


@given(conditions, events)
def test_explain_only_reports_real_values_of_matches(condition: Any, event: Any) -> None:
    found = explain(condition, event, tz=SHANGHAI)
    if found:
        assert evaluate(condition, event)
    for field, value in found.items():
        assert value == event_value(field, event, SHANGHAI)


@given(conditions, st.sampled_from([DOOR, LOOSE]), events)
def test_device_matches_whenever_an_event_of_it_matches(
    condition: Any, device: Any, event: Any
) -> None:
    own = make_event(device, event.kind, event.received_at, value=event.value, data=event.data)
    if evaluate(condition, own):
        assert device_matches(condition, device)


# --------------------------------------------------------------------------- validation


def paths(condition: Any) -> list[str]:
    return [error.path for error in validate_condition(condition)]


def test_valid_conditions() -> None:
    assert validate_condition({}) == []
    assert (
        validate_condition(
            {
                "all": [
                    leaf("kind", "in", ["smoke", "gas"]),
                    {"not": leaf("data.test", "eq", True)},
                    leaf("time", "between", ["22:00", "06:00"]),
                    leaf("weekday", "lte", 4),
                    {"field": "zone", "op": "exists"},
                ]
            }
        )
        == []
    )


@pytest.mark.parametrize(
    ("condition", "path", "message"),
    [
        ("smoke", "", "A condition must be an object."),
        ({"all": []}, "all", "A list of at least one condition is needed."),
        ({"any": {}}, "any", "A list of at least one condition is needed."),
        ({"all": [{}], "any": [{}]}, "", "A group holds only one of all, any, not"),
        ({"all": [{}, leaf("colour", "eq", 1)]}, "all.1.field", "Unknown field 'colour'."),
        ({"not": leaf("kind", "like", "x")}, "not.op", "Unknown operator 'like'"),
        (leaf("kind", "gt", "a"), "op", "The field kind cannot be compared with gt."),
        ({"all": [leaf("kind", "eq", 1)]}, "all.0.value", "A text is needed."),
        (leaf("zone", "eq", "3"), "value", "A whole number (an id) is needed."),
        (leaf("zone", "eq", True), "value", "A whole number (an id) is needed."),
        (leaf("key_area", "eq", 1), "value", "true or false is needed."),
        (leaf("time", "gt", "25:00"), "value", "A time as HH:MM is needed."),
        (leaf("time", "between", ["22:00", "22:00"]), "value", "must differ"),
        (leaf("weekday", "eq", 7), "value", "A day of the week"),
        (leaf("value", "in", []), "value", "A list of at least one value is needed."),
        (leaf("value", "between", [5, 1]), "value", "must not be greater"),
        (leaf("value", "between", [1, "x"]), "value", "Both ends must be numbers"),
        (leaf("value", "gt", None), "value", "A number or a text is needed."),
        (leaf("value", "exists", "yes"), "value", "true or false is needed."),
        ({"field": "kind", "op": "eq"}, "value", "A value is needed."),
        ({**leaf("kind", "eq", "x"), "extra": 1}, "", "Unknown keys: extra."),
        (leaf("data.", "eq", 1), "field", "Unknown field"),
    ],
)
def test_invalid_conditions(condition: Any, path: str, message: str) -> None:
    errors = validate_condition(condition)
    assert [e.path for e in errors] == [path]
    assert message in errors[0].message


def test_depth_and_size_limits() -> None:
    deep: dict[str, Any] = leaf("kind", "eq", "x")
    for _ in range(MAX_DEPTH - 1):
        deep = {"not": deep}
    assert validate_condition(deep) == []
    errors = validate_condition({"not": deep})
    assert len(errors) == 1
    assert "nested at most 10 deep" in errors[0].message
    wide = {"any": [leaf("kind", "eq", "x")] * MAX_NODES}
    errors = validate_condition(wide)
    assert [e.path for e in errors] == [f"any.{MAX_NODES - 1}"]
    assert "at most 200 parts" in errors[0].message


# --------------------------------------------------------------------------- compiled form

_any_fields = st.sampled_from(
    [
        "kind",
        "attribute",
        "value",
        "previous_value",
        "device",
        "device_kind",
        "protocol",
        "zone",
        "zone_name",
        "key_area",
        "building",
        "building_name",
        "time",
        "weekday",
        "data.label",
        "data.score",
        "data.zones",
        "data.zones.0",
        "data.zones.5",
        "data.box.w",
        "data.label.x",
        "data.",
        "unknown",
    ]
)
_scalars = st.one_of(
    st.sampled_from(
        ["contact", "smoke", "open", "person", "gate", "22:00", "06:00", "北门", "hikvision", ""]
    ),
    st.integers(-2, 10),
    st.booleans(),
    st.none(),
    st.floats(0, 1),
    st.sampled_from([0.0, 1.0, 3.0, 7.0]),
)
_anything = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["w", "x"]), inner)
    ),
    max_leaves=4,
)


@st.composite
def any_leaves(draw: st.DrawFn) -> dict[str, Any]:
    node: dict[str, Any] = {"field": draw(_any_fields)}
    op = draw(st.sampled_from([*OPS, "nope", None]))
    if op is not None:
        node["op"] = op
    if draw(st.booleans()):
        node["value"] = draw(
            st.one_of(_anything, st.lists(_scalars, max_size=4), st.tuples(_scalars, _scalars))
        )
    return node


OPS = ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists", "between"]
any_conditions = st.recursive(
    st.one_of(
        st.just({}),
        any_leaves(),
        st.sampled_from([None, [], "x", {"field": 3}, {"all": "x"}, {"any": 1}, {"not": None}]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda c: {"all": c}),
        st.lists(inner, max_size=3).map(lambda c: {"any": c}),
        inner.map(lambda c: {"not": c}),
    ),
    max_leaves=10,
)
any_events = st.builds(
    lambda kind, attribute, value, previous, hour, data, device: make_event(
        device,
        kind,
        local(2026, 11, 27, hour, 0),
        attribute=attribute,
        value=value,
        previous_value=previous,
        data=data,
    ),
    st.sampled_from(["contact", "smoke"]),
    st.one_of(st.none(), st.just("contact")),
    _anything,
    _anything,
    st.integers(0, 23),
    st.fixed_dictionaries(
        {},
        optional={
            "label": _anything,
            "score": _scalars,
            "zones": st.lists(_scalars, max_size=3),
            "box": _anything,
        },
    ),
    st.sampled_from([DOOR, LOOSE]),
)


@given(any_conditions, any_events)
def test_compiled_agrees_with_the_interpreter(condition: Any, event: Any) -> None:
    compiled = compile_condition(condition, tz=SHANGHAI)
    assert compiled(event) is matches(condition, event, tz=SHANGHAI)
    assert compile_condition(condition, tz=dt.UTC)(event) is matches(condition, event, tz=dt.UTC)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([0.0, 1.0, 2.5, -1.0]),
    st.sampled_from(["", "denied", "1", "true"]),
)


@given(
    value=st.one_of(_SCALARS, st.lists(_SCALARS, max_size=2)),
    required=st.one_of(
        st.integers(min_value=-3, max_value=3),
        st.sampled_from([0.0, 1.0, 2.5]),
        st.sampled_from(["", "denied", "1", "true"]),
    ),
    present=st.booleans(),
)
def test_value_keys_meet_exactly_when_data_holds(value: Any, required: Any, present: bool) -> None:
    from anwang.rules.conditions import data_holds, data_key, value_key

    data = {"a": {"b": value}} if present else {"a": {}}
    meets = data_key(data, "a.b") == value_key(required)
    assert meets == data_holds(data, {"a.b": required})
    flat = {"b": value} if present else {}
    assert (data_key(flat, "b") == value_key(required)) == data_holds(flat, {"b": required})

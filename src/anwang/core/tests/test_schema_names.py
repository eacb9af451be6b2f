"""OpenAPI names a component by its schema class's name alone: two apps' ``NoteIn`` become one
component, and the reference shows one app's fields for the other's endpoint. Every API schema
of the project must therefore have a name of its own."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

import anwang.project.api  # noqa: F401 - imports every app's schemas through the routers


def _subclasses(base: type) -> list[type]:
    found = []
    for cls in base.__subclasses__():
        found.append(cls)
        found.extend(_subclasses(cls))
    return found


def test_every_api_schema_has_a_name_of_its_own() -> None:
    where: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("anwang."):
            where[cls.__name__].add(cls.__module__)
    shared = {name: sorted(modules) for name, modules in where.items() if len(modules) > 1}
    assert not shared, f"schema names used by more than one module: {shared}"

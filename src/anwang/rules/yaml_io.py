"""Rules as YAML: the file a community's rules are exported to and imported from.

The format (``version: 1``)::

    version: 1
    rules:
      - name: 烟感报警
        builtin: smoke            # optional: the built-in rule this one came from
        kind: immediate
        priority: 1
        title: "Smoke at {device}"
        group_by: device
        cooldown_seconds: 300
        enabled: true
        condition: {all: [{field: kind, op: eq, value: smoke}, {field: value, op: eq, value: true}]}
        params: {}
        schedule: {}

Only ``name``, ``kind``, ``priority`` and ``title`` are required. Reading uses
``yaml.safe_load`` (no Python objects), writing ``yaml.safe_dump`` with Chinese left readable.
This module parses and checks; the import itself is
:func:`anwang.rules.services.rules_import_yaml`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from django.utils.translation import gettext as _

from anwang.core.tables import ImportRejectedError, RowError
from anwang.rules.models import Rule
from anwang.rules.services import CheckedRule, builtin_code_problem, check_rule

FORMAT_VERSION = 1
FILE_KEYS = {
    "name": "name",
    "description": "description",
    "kind": "kind",
    "priority": "priority",
    "title": "title_template",
    "group_by": "group_by",
    "cooldown_seconds": "cooldown_seconds",
    "enabled": "enabled",
    "condition": "condition",
    "params": "params",
    "schedule": "schedule",
}
"""Keys of a rule in the file and the rule's field each one sets (``builtin`` is separate)."""
MAX_RULES = 1000


@dataclass(frozen=True)
class ParsedRule:
    """One checked rule of a file, and the built-in code it carries (``""`` if none)."""

    values: CheckedRule
    builtin: str


def rule_document(rule: Rule) -> dict[str, Any]:
    """One rule as the file writes it."""
    document: dict[str, Any] = {"name": rule.name}
    if rule.builtin:
        document["builtin"] = rule.builtin
    if rule.description:
        document["description"] = rule.description
    document.update(
        {
            "kind": rule.kind,
            "priority": rule.priority,
            "title": rule.title_template,
            "group_by": rule.group_by,
            "cooldown_seconds": rule.cooldown_seconds,
            "enabled": rule.enabled,
            "condition": rule.condition,
            "params": rule.params,
            "schedule": rule.schedule,
        }
    )
    return document


def dump_rules(rules: Iterable[Rule]) -> str:
    """The YAML file of some rules, in the order given."""
    document = {"version": FORMAT_VERSION, "rules": [rule_document(rule) for rule in rules]}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def _file_error(message: str) -> ImportRejectedError:
    return ImportRejectedError([RowError(0, "file", message, column_label="file")])


def _load(text: str) -> list[Any]:
    """The list of rules in a file, or the reason the file as a whole cannot be read."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = (
            _("line %(line)d, column %(column)d")
            % {"line": mark.line + 1, "column": mark.column + 1}
            if mark is not None
            else ""
        )
        problem = str(getattr(error, "problem", "") or error)
        raise _file_error(
            _("This is not valid YAML (%(where)s): %(problem)s")
            % {"where": where or "?", "problem": problem}
        ) from error
    if isinstance(document, Mapping):
        version = document.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise _file_error(
                _("Unknown file version %(version)s; this server reads version %(known)d.")
                % {"version": version, "known": FORMAT_VERSION}
            )
        unknown = sorted(str(key) for key in document if key not in ("version", "rules"))
        if unknown:
            raise _file_error(
                _("Unknown keys at the top of the file: %(keys)s.") % {"keys": ", ".join(unknown)}
            )
        document = document.get("rules")
    if not isinstance(document, list):
        raise _file_error(_("The file must hold a list of rules under “rules:”."))
    if not document:
        raise _file_error(_("The file holds no rules."))
    if len(document) > MAX_RULES:
        raise _file_error(_("A file may hold at most %(limit)d rules.") % {"limit": MAX_RULES})
    return document


def parse_rules(text: str) -> list[ParsedRule]:
    """Every rule of a YAML file, checked as :func:`~anwang.rules.services.rule_create` checks
    them; raises :class:`ImportRejectedError` listing every problem by rule number (1 is the
    first rule; 0 the whole file) and field."""
    errors: list[RowError] = []
    parsed: list[ParsedRule] = []
    names: dict[str, int] = {}
    codes: dict[str, int] = {}
    for number, item in enumerate(_load(text), start=1):

        def problem(field: str, message: str, number: int = number) -> None:
            errors.append(RowError(number, field, message, column_label=field))

        if not isinstance(item, Mapping):
            problem("rule", _("Each rule must be a mapping of keys to values."))
            continue
        unknown = sorted(str(key) for key in item if key not in FILE_KEYS and key != "builtin")
        for key in unknown:
            problem(key, _("Unknown key; known keys: %(keys)s.") % {"keys": ", ".join(FILE_KEYS)})
        values = {field: item[key] for key, field in FILE_KEYS.items() if key in item}
        checked, problems = check_rule(values)
        for found in problems:
            key = "title" if found.field == "title_template" else found.field
            problem(key, found.message)
        builtin = item.get("builtin") or ""
        code_problem = builtin_code_problem(builtin)
        if code_problem is not None:
            problem("builtin", code_problem)
        elif builtin and builtin in codes:
            problem(
                "builtin",
                _("Rule %(other)d already carries this built-in code.") % {"other": codes[builtin]},
            )
        elif builtin:
            codes[builtin] = number
        if checked is not None:
            if checked.name in names:
                problem(
                    "name",
                    _("Rule %(other)d already has this name.") % {"other": names[checked.name]},
                )
            names[checked.name] = number
            if not unknown and code_problem is None:
                parsed.append(ParsedRule(values=checked, builtin=str(builtin)))
    if errors:
        raise ImportRejectedError(errors)
    return parsed

"""Writes of the rules domain: creating, editing, enabling, disabling and deleting alarm rules,
installing the built-in pack, and importing rules from YAML.

Every function is keyword-only and checks that the caller manages rules in the rule's community
(:attr:`Permission.MANAGE_RULES`; someone who can see the community's rules but not edit them
gets 403, anyone else 404). Values are checked with the engine's own validators
(:func:`anwang.rules.engine.validate_rule`) plus the checks of the stored record (name, priority,
title placeholders, cooldown); every problem is reported on the field it concerns, all at once
(:class:`RuleInvalidError`). Each write records an audit entry in the same transaction. Without
``actor`` and ``scope`` the call is the system itself (community creation, migrations, demo).

Built-in rules can be edited and disabled but not deleted: installing the pack again (as a data
migration does for existing communities) adds every missing built-in rule, so a deleted one would
come back, while a disabled one stays as its community left it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_batch, audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import UNSET, Unset
from anwang.places.models import Community
from anwang.rules.choices import GroupBy, Priority, RuleKind
from anwang.rules.models import Rule
from anwang.rules.pack import PACK, PACK_BY_CODE

RULE_FIELDS = (
    "community",
    "name",
    "description",
    "kind",
    "condition",
    "params",
    "priority",
    "title_template",
    "group_by",
    "cooldown_seconds",
    "schedule",
    "enabled",
    "builtin",
)
EDITABLE_FIELDS = (
    "name",
    "description",
    "kind",
    "condition",
    "params",
    "priority",
    "title_template",
    "group_by",
    "cooldown_seconds",
    "schedule",
    "enabled",
)
"""What a person may set on a rule (``builtin`` is set only by the pack and the import)."""
PLACEHOLDERS = ("device", "zone", "building", "count", "rule")
"""What a title template may name; the alarms domain fills them when it raises the alarm."""
NAME_LIMIT = 200
TITLE_LIMIT = 300
DESCRIPTION_LIMIT = 2000
MAX_COOLDOWN_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one value of a rule."""

    field: str
    message: str
    path: str = ""
    """Where inside the field's value (``all.1.value``, ``windows.0.start``), if anywhere."""


class RuleInvalidError(ServiceError):
    """The rule was not saved; ``problems`` lists every field that is wrong and why. The
    exception's own ``field`` and ``message`` are the first problem's."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field)
        self.problems = list(problems)


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    """Allow the change only for someone who manages rules in the community."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_RULES,
        community_id=community_id,
        visible_with=Permission.VIEW_ALARMS,
    )


def _audit(actor: User | None, action: str, rule: Rule, before: Mapping[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=rule,
        community_id=rule.community_id,
        changes=diff(before, snapshot(rule, RULE_FIELDS) if rule.pk else {}),
    )


def _title_problem(template: str) -> str | None:
    allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return _("Braces must come in pairs around a placeholder; use only %(allowed)s.") % {
            "allowed": allowed
        }
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            return _("Unknown placeholder {%(name)s}: use only %(allowed)s.") % {
                "name": name,
                "allowed": allowed,
            }
    return None


def _text(
    problems: list[FieldProblem], name: str, value: Any, *, limit: int, required: bool = True
) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        problems.append(FieldProblem(name, _("This field is required.")))
    elif len(text) > limit:
        problems.append(
            FieldProblem(
                name,
                _("Use at most %(limit)d characters (this has %(count)d).")
                % {"limit": limit, "count": len(text)},
            )
        )
    return text


def _whole(
    problems: list[FieldProblem], name: str, value: Any, *, low: int, high: int
) -> int | None:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        problems.append(
            FieldProblem(
                name,
                _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high},
            )
        )
        return None
    return number


def _choice(problems: list[FieldProblem], name: str, value: Any, choices: Any) -> str:
    if value not in choices.values:
        problems.append(
            FieldProblem(
                name,
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(map(str, choices.values))},
            )
        )
        return ""
    return str(value)


def _mapping(problems: list[FieldProblem], name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(FieldProblem(name, _("Give an object (a JSON mapping).")))
        return {}
    return dict(value)


def engine_problems(
    *,
    kind: str,
    condition: Mapping[str, Any],
    params: Mapping[str, Any],
    schedule: Mapping[str, Any],
    group_by: str,
) -> list[FieldProblem]:
    """What the rules engine refuses in a rule, each on its field (``condition``, ``params``,
    ``schedule``, ...), the path inside the value leading the message."""
    from anwang.rules.engine import validate_rule

    problems: list[FieldProblem] = []
    for error in validate_rule(kind, condition, params, schedule, group_by):
        message = f"{error.path}: {error.message}" if error.path else str(error.message)
        problems.append(FieldProblem(error.field, message, error.path))
    return problems


@dataclass(frozen=True)
class CheckedRule:
    """A rule's values as they will be stored."""

    name: str
    description: str
    kind: str
    condition: dict[str, Any]
    params: dict[str, Any]
    priority: int
    title_template: str
    group_by: str
    cooldown_seconds: int
    schedule: dict[str, Any]
    enabled: bool


def check_rule(values: Mapping[str, Any]) -> tuple[CheckedRule | None, list[FieldProblem]]:
    """Check a rule's values (those of :data:`EDITABLE_FIELDS`): the stored values and no
    problems, or ``None`` and every problem found. Used by the services, the import and the
    preview of an unsaved rule."""
    problems: list[FieldProblem] = []
    name = _text(problems, "name", values.get("name"), limit=NAME_LIMIT)
    description = _text(
        problems, "description", values.get("description"), limit=DESCRIPTION_LIMIT, required=False
    )
    kind = _choice(problems, "kind", values.get("kind"), RuleKind)
    condition = _mapping(problems, "condition", values.get("condition"))
    params = _mapping(problems, "params", values.get("params"))
    schedule = _mapping(problems, "schedule", values.get("schedule"))
    priority = _whole(
        problems, "priority", values.get("priority"), low=Priority.P1, high=Priority.P4
    )
    title = _text(problems, "title_template", values.get("title_template"), limit=TITLE_LIMIT)
    if title:
        problem = _title_problem(title)
        if problem is not None:
            problems.append(FieldProblem("title_template", problem))
    group_by = _choice(problems, "group_by", values.get("group_by", GroupBy.DEVICE), GroupBy)
    cooldown = _whole(
        problems,
        "cooldown_seconds",
        values.get("cooldown_seconds", 300),
        low=0,
        high=MAX_COOLDOWN_SECONDS,
    )
    enabled = values.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(FieldProblem("enabled", _("Give true or false.")))
    if (
        kind
        and group_by
        and not any(p.field in ("condition", "params", "schedule") for p in problems)
    ):
        problems.extend(
            engine_problems(
                kind=kind, condition=condition, params=params, schedule=schedule, group_by=group_by
            )
        )
    if problems or priority is None or cooldown is None:
        return None, problems
    return (
        CheckedRule(
            name=name,
            description=description,
            kind=kind,
            condition=condition,
            params=params,
            priority=priority,
            title_template=title,
            group_by=group_by,
            cooldown_seconds=cooldown,
            schedule=schedule,
            enabled=bool(enabled),
        ),
        [],
    )


def _checked(values: Mapping[str, Any]) -> CheckedRule:
    checked, problems = check_rule(values)
    if checked is None:
        raise RuleInvalidError(problems)
    return checked


def _name_taken() -> str:
    return _("Another rule of this community already has this name.")


def _save(rule: Rule) -> None:
    # The check before saving can race with a concurrent write; the constraint decides.
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as error:
        raise RuleInvalidError([FieldProblem("name", _name_taken())]) from error


def _ensure_free_name(community_id: int, name: str, *, exclude_pk: int | None) -> None:
    taken = Rule.objects.filter(community_id=community_id, name=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise RuleInvalidError([FieldProblem("name", _name_taken())])


def _apply(rule: Rule, checked: CheckedRule) -> None:
    for name in EDITABLE_FIELDS:
        setattr(rule, name, getattr(checked, name))


# --------------------------------------------------------------------------- rules


def rule_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    name: str,
    kind: str,
    priority: int,
    title_template: str,
    condition: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    schedule: Mapping[str, Any] | None = None,
    description: str = "",
    group_by: str = GroupBy.DEVICE,
    cooldown_seconds: int = 300,
    enabled: bool = True,
) -> Rule:
    """Add a rule to a community; its name must be free in the community."""
    _require_manage(actor, scope, community.pk)
    checked = _checked(
        {
            "name": name,
            "description": description,
            "kind": kind,
            "condition": condition,
            "params": params,
            "priority": priority,
            "title_template": title_template,
            "group_by": group_by,
            "cooldown_seconds": cooldown_seconds,
            "schedule": schedule,
            "enabled": enabled,
        }
    )
    rule = Rule(community=community)
    _apply(rule, checked)
    with transaction.atomic():
        _ensure_free_name(community.pk, rule.name, exclude_pk=None)
        _save(rule)
        _audit(actor, "rule.create", rule, {})
    return rule


def rule_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    rule: Rule,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    condition: Mapping[str, Any] | Unset = UNSET,
    params: Mapping[str, Any] | Unset = UNSET,
    priority: int | Unset = UNSET,
    title_template: str | Unset = UNSET,
    group_by: str | Unset = UNSET,
    cooldown_seconds: int | Unset = UNSET,
    schedule: Mapping[str, Any] | Unset = UNSET,
    enabled: bool | Unset = UNSET,
) -> Rule:
    """Change a rule (built-in ones too); arguments left at :data:`UNSET` keep their value.
    The whole rule is checked again, since a new kind needs new parameters."""
    _require_manage(actor, scope, rule.community_id)
    given = {
        "name": name,
        "description": description,
        "kind": kind,
        "condition": condition,
        "params": params,
        "priority": priority,
        "title_template": title_template,
        "group_by": group_by,
        "cooldown_seconds": cooldown_seconds,
        "schedule": schedule,
        "enabled": enabled,
    }
    values = {key: getattr(rule, key) for key in EDITABLE_FIELDS} | {
        key: value for key, value in given.items() if value is not UNSET
    }
    checked = _checked(values)
    with transaction.atomic():
        if checked.name != rule.name:
            _ensure_free_name(rule.community_id, checked.name, exclude_pk=rule.pk)
        before = snapshot(rule, RULE_FIELDS)
        _apply(rule, checked)
        if snapshot(rule, RULE_FIELDS) != before:
            _save(rule)
            _audit(actor, "rule.update", rule, before)
    return rule


def _set_enabled(actor: User | None, scope: Scope | None, rule: Rule, enabled: bool) -> Rule:
    _require_manage(actor, scope, rule.community_id)
    if rule.enabled == enabled:
        return rule
    with transaction.atomic():
        before = snapshot(rule, RULE_FIELDS)
        rule.enabled = enabled
        rule.save(update_fields=["enabled", "updated_at"])
        _audit(actor, "rule.enable" if enabled else "rule.disable", rule, before)
    return rule


def rule_enable(*, actor: User | None, scope: Scope | None = None, rule: Rule) -> Rule:
    """Arm a rule again (an absence is counted from now at most)."""
    return _set_enabled(actor, scope, rule, True)


def rule_disable(*, actor: User | None, scope: Scope | None = None, rule: Rule) -> Rule:
    """Stop a rule from raising alarms; it keeps its settings and its alarms."""
    return _set_enabled(actor, scope, rule, False)


def rule_delete(*, actor: User | None, scope: Scope | None = None, rule: Rule) -> None:
    """Delete a rule that is not built in; its alarms stay, no longer linked to it."""
    _require_manage(actor, scope, rule.community_id)
    if rule.builtin:
        raise ConflictError(
            _("A built-in rule cannot be deleted; disable it instead."), code="builtin_rule"
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="rule.delete",
            obj=rule,
            community_id=rule.community_id,
            changes=diff(snapshot(rule, RULE_FIELDS), {}),
        )
        rule.delete()


# --------------------------------------------------------------------------- the pack


def _free_name(taken: set[str], name: str) -> str:
    """``name``, or ``name (2)``, ``(3)``... when a rule of the community already has it."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name} ({number})"[:NAME_LIMIT]
    return candidate


def rules_install_builtin(
    *,
    community: Community,
    actor: User | None = None,
    scope: Scope | None = None,
    audited: bool = True,
) -> list[Rule]:
    """Add the built-in rules the community does not have yet (by code), enabled; returns
    those added. Running it again adds nothing; edited or disabled built-ins stay as they are.
    ``audited=False`` is for a caller that records one entry for all it writes (the demo)."""
    _require_manage(actor, scope, community.pk)
    existing = set(
        Rule.objects.filter(community=community)
        .exclude(builtin="")
        .values_list("builtin", flat=True)
    )
    missing = [item for item in PACK if item.code not in existing]
    if not missing:
        return []
    taken = set(Rule.objects.filter(community=community).values_list("name", flat=True))
    added: list[Rule] = []
    # Names are stored in the site's language: they are the community's text from now on.
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic(), audit_batch():
        for item in missing:
            rule = Rule(
                community=community,
                name=_free_name(taken, _(item.name)),
                description=_(item.description),
                kind=item.kind,
                condition=dict(item.condition),
                params=dict(item.params),
                priority=item.priority,
                title_template=item.title_template,
                group_by=item.group_by,
                cooldown_seconds=item.cooldown_seconds,
                schedule=dict(item.schedule),
                enabled=True,
                builtin=item.code,
            )
            rule.save()
            taken.add(rule.name)
            if audited:
                _audit(actor, "rule.install_builtin", rule, {})
            added.append(rule)
    return added


def builtin_code_problem(code: Any) -> str | None:
    """Why ``code`` is not a built-in rule's code, or ``None`` when it is one (or empty)."""
    if code in (None, ""):
        return None
    if not isinstance(code, str) or code not in PACK_BY_CODE:
        return _("Unknown built-in rule %(code)s; known: %(codes)s.") % {
            "code": code,
            "codes": ", ".join(PACK_BY_CODE),
        }
    return None


# --------------------------------------------------------------------------- YAML import


def rules_import_yaml(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    text: str,
    replace: bool = False,
) -> list[Rule]:
    """Create or update every rule of a YAML file (see :mod:`anwang.rules.yaml_io`), or none:
    any problem rejects the whole file with
    :class:`~anwang.core.tables.ImportRejectedError` listing each rule and field. A rule of the
    file replaces the community's rule of the same built-in code, else of the same name. With
    ``replace``, the community's rules missing from the file are deleted (built-in ones are
    disabled instead). Returns the rules of the file as saved."""
    from anwang.rules.yaml_io import ParsedRule, parse_rules

    _require_manage(actor, scope, community.pk)
    parsed = parse_rules(text)
    existing = list(Rule.objects.filter(community=community))
    by_code = {rule.builtin: rule for rule in existing if rule.builtin}
    by_name = {rule.name: rule for rule in existing}
    saved: list[Rule] = []
    with transaction.atomic(), audit_batch():
        matched: dict[int, tuple[Rule | None, ParsedRule]] = {}
        kept: set[int] = set()
        # Built-in codes first: a file's rule of a code always lands on that rule.
        for index, item in enumerate(parsed):
            target = by_code.get(item.builtin) if item.builtin else None
            if target is not None:
                kept.add(target.pk)
            matched[index] = (target, item)
        for index, (target, item) in matched.items():
            by_same_name = by_name.get(item.values.name)
            if target is None and by_same_name is not None and by_same_name.pk not in kept:
                kept.add(by_same_name.pk)
                matched[index] = (by_same_name, item)
        if replace:
            for rule in existing:
                if rule.pk in kept:
                    continue
                if rule.builtin:
                    _set_enabled(actor, scope, rule, False)
                else:
                    rule_delete(actor=actor, scope=scope, rule=rule)
        # Names move between rules in one file (a swap); free them before saving any.
        for target, _item in matched.values():
            if target is not None:
                Rule.objects.filter(pk=target.pk).update(name=f"~import~{target.pk}~")
        for index in range(len(parsed)):
            target, item = matched[index]
            before = snapshot(target, RULE_FIELDS) if target is not None else {}
            rule = target if target is not None else Rule(community=community)
            _apply(rule, item.values)
            if item.builtin:
                rule.builtin = item.builtin
            try:
                with transaction.atomic():
                    rule.save()
            except IntegrityError as error:
                from anwang.core.tables import ImportRejectedError, RowError

                raise ImportRejectedError(
                    [RowError(index + 1, "name", _name_taken(), column_label="name")]
                ) from error
            _audit(actor, "rule.import" if before else "rule.create", rule, before)
            saved.append(rule)
    return saved

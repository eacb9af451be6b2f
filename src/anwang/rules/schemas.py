"""Request and response bodies of the rules API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from anwang.rules.choices import GroupBy, RuleKind

CONDITION_HELP = (
    'A condition tree: `{}` matches every event; `{"all": [...]}`, `{"any": [...]}`, '
    '`{"not": {...}}`; leaves `{"field": F, "op": OP, "value": V}`. See docs/rules.md.'
)
PARAMS_HELP = (
    'What the kind needs: immediate `{}`; count `{"count": N, "window_seconds": M}`; sequence '
    '`{"then": <condition>, "within_seconds": T}`; duration `{"attribute": "contact", '
    '"value": "open", "seconds": T}`; absence `{"seconds": T, "kinds": [...]}`.'
)
SCHEDULE_HELP = (
    'When the rule is armed: `{}` always; else `{"windows": [{"start": "22:00", "end": '
    '"06:00"}], "days": "all"|"workdays"|"weekends"|[0..6], "holidays": '
    '"any"|"exclude"|"only"}`.'
)
TITLE_HELP = "Placeholders: {device}, {zone}, {building}, {count}, {rule}."


class RuleOut(Schema):
    """An alarm rule."""

    id: int
    community: int = Field(alias="community_id")
    name: str
    description: str
    kind: RuleKind
    condition: dict[str, Any]
    params: dict[str, Any]
    priority: int = Field(description="1 (P1, critical) to 4 (P4, low).")
    title_template: str = Field(description=TITLE_HELP)
    group_by: GroupBy
    cooldown_seconds: int
    schedule: dict[str, Any]
    enabled: bool
    builtin: str = Field(description="The code of the built-in rule it came from; empty if none.")
    created_at: datetime
    updated_at: datetime


class RuleValues(Schema):
    """A rule's values, as the editor sends them."""

    name: str
    description: str = ""
    kind: RuleKind
    condition: dict[str, Any] = Field(default_factory=dict, description=CONDITION_HELP)
    params: dict[str, Any] = Field(default_factory=dict, description=PARAMS_HELP)
    priority: int = Field(1, description="1 (P1, critical) to 4 (P4, low).")
    title_template: str = Field(description=TITLE_HELP, examples=["Smoke at {device}"])
    group_by: GroupBy = GroupBy.DEVICE
    cooldown_seconds: int = 300
    schedule: dict[str, Any] = Field(default_factory=dict, description=SCHEDULE_HELP)
    enabled: bool = True


class RuleIn(RuleValues):
    """A new rule of a community."""

    community_id: int = Field(alias="community")


class RulePatch(Schema):
    """Changes to a rule; omitted fields keep their value."""

    name: str | None = None
    description: str | None = None
    kind: RuleKind | None = None
    condition: dict[str, Any] | None = Field(None, description=CONDITION_HELP)
    params: dict[str, Any] | None = Field(None, description=PARAMS_HELP)
    priority: int | None = None
    title_template: str | None = Field(None, description=TITLE_HELP)
    group_by: GroupBy | None = None
    cooldown_seconds: int | None = None
    schedule: dict[str, Any] | None = Field(None, description=SCHEDULE_HELP)
    enabled: bool | None = None


class PackRuleOut(Schema):
    """A rule of the built-in pack."""

    code: str
    name: str
    description: str
    kind: RuleKind
    condition: dict[str, Any]
    params: dict[str, Any]
    priority: int
    title_template: str
    group_by: GroupBy
    cooldown_seconds: int
    schedule: dict[str, Any]


class PreviewFiringOut(Schema):
    """One firing the rule would have made."""

    at: datetime
    trigger_key: str
    group_key: str = Field(description="`device:<id>`, `zone:<id>`, `building:<id>` or `rule`.")
    group: str = Field(description="The device, zone or building named, or the rule's name.")
    title: str
    why: dict[str, Any] = Field(description="The values that made the rule fire.")
    event_ids: list[int]
    new_alarm: bool = Field(
        description="Whether it would have raised an alarm rather than joined the previous one "
        "of its group (within the cooldown)."
    )


class PreviewOut(Schema):
    """What a rule would have fired over the last 24 hours."""

    since: datetime
    until: datetime
    events_checked: int
    firing_count: int
    alarm_count: int
    truncated: bool = Field(description="Whether only the newest events were evaluated.")
    firings: list[PreviewFiringOut] = Field(description="The first 500 firings, oldest first.")


class ProblemOut(Schema):
    """One problem of a rejected rule or file."""

    loc: list[str | int]
    msg: str
    rule: int | None = Field(None, description="In an import: the rule's number (0: the file).")
    field: str


class RulesRejectedOut(Schema):
    """The error shape of a rejected rule or import, with one entry per problem."""

    detail: str
    code: str
    errors: list[ProblemOut]


class ImportOut(Schema):
    """What an import did."""

    rules: int
    ids: list[int]

"""Forms of the rules pages. They turn what was typed (kind-dependent parameters, the condition
as JSON, the schedule's fields) into a rule's values; every rule about those values lives in
:mod:`anwang.rules.services`, whose problems the views attach to the field they concern."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anwang.rules.choices import GroupBy, Priority, RuleKind

DAYS_CHOICES = (
    ("all", gettext_lazy("Every day")),
    ("workdays", gettext_lazy("Working days")),
    ("weekends", gettext_lazy("Weekends and holidays")),
    ("custom", gettext_lazy("Chosen weekdays")),
)
WEEKDAY_CHOICES = tuple(
    (str(number), label)
    for number, label in enumerate(
        (
            gettext_lazy("Mon"),
            gettext_lazy("Tue"),
            gettext_lazy("Wed"),
            gettext_lazy("Thu"),
            gettext_lazy("Fri"),
            gettext_lazy("Sat"),
            gettext_lazy("Sun"),
        )
    )
)
HOLIDAY_CHOICES = (
    ("any", gettext_lazy("Holidays or not")),
    ("exclude", gettext_lazy("Not on holidays")),
    ("only", gettext_lazy("Only on holidays")),
)
PARAM_FIELDS = {
    RuleKind.IMMEDIATE.value: (),
    RuleKind.COUNT.value: ("count", "window_seconds"),
    RuleKind.SEQUENCE.value: ("then", "within_seconds"),
    RuleKind.DURATION.value: ("attribute", "value", "seconds"),
    RuleKind.ABSENCE.value: ("seconds", "kinds"),
}
"""The form fields each kind's parameters come from."""
OPERATOR_WORDS = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
}


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def condition_summary(condition: Any) -> str:
    """A condition tree in one readable line (``kind = "smoke" and value = true``)."""
    if not isinstance(condition, Mapping) or not condition:
        return _("every event") if isinstance(condition, Mapping) else "?"
    for group, word in (("all", _("and")), ("any", _("or"))):
        if group in condition:
            children = condition[group] if isinstance(condition[group], list) else []
            parts = [condition_summary(child) for child in children]
            return "(" + f" {word} ".join(parts) + ")" if len(parts) > 1 else "".join(parts)
    if "not" in condition:
        return _("not %(condition)s") % {"condition": condition_summary(condition["not"])}
    field, op = condition.get("field", "?"), condition.get("op", "?")
    value = json.dumps(condition.get("value"), ensure_ascii=False)
    words = {
        "in": _("in"),
        "not_in": _("not in"),
        "contains": _("contains"),
        "exists": _("exists"),
        "between": _("between"),
    }
    return f"{field} {OPERATOR_WORDS.get(op) or words.get(op, op)} {value}"


def schedule_summary(schedule: Any) -> str:
    """When a rule is armed, in a few words."""
    if not isinstance(schedule, Mapping) or not schedule:
        return _("Always")
    windows = schedule.get("windows") or []
    times = ", ".join(
        f"{w.get('start', '?')}–{w.get('end', '?')}" for w in windows if isinstance(w, Mapping)
    )
    days = schedule.get("days", "all")
    labels = dict(DAYS_CHOICES)
    if isinstance(days, list):
        names = dict(WEEKDAY_CHOICES)
        day_text = " ".join(str(names.get(str(day), day)) for day in days)
    else:
        day_text = str(labels.get(str(days), days))
    return f"{times or _('all day')}, {day_text}"


class RuleForm(forms.Form):
    """A rule, with its parameters and schedule as separate fields."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=RuleKind.choices)
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"), choices=Priority.choices, coerce=int
    )
    title_template = forms.CharField(
        label=gettext_lazy("Alarm title"),
        max_length=300,
        help_text=gettext_lazy("Placeholders: {device}, {zone}, {building}, {count}, {rule}."),
    )
    group_by = forms.ChoiceField(label=gettext_lazy("One alarm per"), choices=GroupBy.choices)
    cooldown_seconds = forms.IntegerField(
        label=gettext_lazy("Cooldown (seconds)"),
        min_value=0,
        initial=300,
        help_text=gettext_lazy(
            "Firings of the same group within this time join the open alarm (its count rises)."
        ),
    )
    condition = forms.CharField(
        label=gettext_lazy("Condition (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code", "spellcheck": "false"}),
        help_text=gettext_lazy(
            'Empty matches every event. Example: {"all": [{"field": "kind", "op": "eq", '
            '"value": "smoke"}, {"field": "value", "op": "eq", "value": true}]}'
        ),
    )
    count = forms.IntegerField(label=gettext_lazy("Number of events"), required=False)
    window_seconds = forms.IntegerField(label=gettext_lazy("Within (seconds)"), required=False)
    then = forms.CharField(
        label=gettext_lazy("Then (JSON condition)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
    )
    within_seconds = forms.IntegerField(label=gettext_lazy("Then within (seconds)"), required=False)
    attribute = forms.CharField(
        label=gettext_lazy("Attribute"), required=False, help_text=gettext_lazy("e.g. contact")
    )
    value = forms.CharField(
        label=gettext_lazy("Value"),
        required=False,
        help_text=gettext_lazy("As JSON (true, 3) or plain text (open)."),
    )
    seconds = forms.IntegerField(label=gettext_lazy("For longer than (seconds)"), required=False)
    kinds = forms.CharField(
        label=gettext_lazy("Event kinds"),
        required=False,
        help_text=gettext_lazy("Comma-separated; empty: any event."),
    )
    start = forms.CharField(
        label=gettext_lazy("Armed from"),
        required=False,
        max_length=5,
        help_text=gettext_lazy("HH:MM; leave both times empty to arm all day."),
    )
    end = forms.CharField(label=gettext_lazy("Armed until"), required=False, max_length=5)
    days = forms.ChoiceField(label=gettext_lazy("Days"), choices=DAYS_CHOICES, initial="all")
    weekdays = forms.MultipleChoiceField(
        label=gettext_lazy("Weekdays"),
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    holidays = forms.ChoiceField(
        label=gettext_lazy("Holidays"), choices=HOLIDAY_CHOICES, initial="any"
    )
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)

    def _json(self, name: str) -> Any:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            self.add_error(
                name,
                _("This is not valid JSON (line %(line)d, column %(column)d): %(problem)s")
                % {"line": error.lineno, "column": error.colno, "problem": error.msg},
            )
            return None

    def rule_values(self) -> dict[str, Any]:
        """The rule's values for the services (after ``is_valid``); JSON problems are added to
        the form."""
        data = self.cleaned_data
        kind = data.get("kind", "")
        params: dict[str, Any] = {}
        for name in PARAM_FIELDS.get(kind, ()):
            raw = data.get(name)
            if name == "then":
                params[name] = self._json("then")
            elif name == "value":
                text = (raw or "").strip()
                try:
                    params[name] = json.loads(text)
                except json.JSONDecodeError:
                    params[name] = text
            elif name == "kinds":
                listed = [part.strip() for part in (raw or "").split(",") if part.strip()]
                if listed:
                    params[name] = listed
            elif name == "attribute":
                params[name] = (raw or "").strip()
            elif raw is not None:
                params[name] = raw
        schedule: dict[str, Any] = {}
        start, end = (data.get("start") or "").strip(), (data.get("end") or "").strip()
        if start or end:
            schedule["windows"] = [{"start": start, "end": end}]
        days = data.get("days") or "all"
        if days == "custom":
            schedule["days"] = sorted(int(day) for day in data.get("weekdays") or [])
        elif days != "all":
            schedule["days"] = days
        if (data.get("holidays") or "any") != "any":
            schedule["holidays"] = data["holidays"]
        return {
            "name": data.get("name", ""),
            "description": data.get("description", ""),
            "kind": kind,
            "priority": data.get("priority"),
            "title_template": data.get("title_template", ""),
            "group_by": data.get("group_by", GroupBy.DEVICE),
            "cooldown_seconds": data.get("cooldown_seconds"),
            "condition": self._json("condition"),
            "params": params,
            "schedule": schedule,
            "enabled": bool(data.get("enabled")),
        }

    def field_for(self, field: str, path: str) -> str | None:
        """The form field a service problem belongs on (``None``: above the form)."""
        head = path.split(".", 1)[0]
        if field == "params":
            return head if head in self.fields else None
        if field == "schedule":
            if head == "windows":
                return "end" if path.endswith("end") else "start"
            return head if head in ("days", "holidays") else "start"
        return field if field in self.fields else None


def initial_for(values: Mapping[str, Any]) -> dict[str, Any]:
    """The form's initial data for a rule's stored values."""
    params = values.get("params") or {}
    schedule = values.get("schedule") or {}
    window = (schedule.get("windows") or [{}])[0]
    days = schedule.get("days", "all")
    initial: dict[str, Any] = {
        key: values.get(key)
        for key in ("name", "description", "kind", "priority", "title_template", "group_by")
    }
    initial.update(
        {
            "cooldown_seconds": values.get("cooldown_seconds"),
            "enabled": values.get("enabled", True),
            "condition": _json_text(values.get("condition") or {}),
            "count": params.get("count"),
            "window_seconds": params.get("window_seconds"),
            "then": _json_text(params["then"]) if "then" in params else "",
            "within_seconds": params.get("within_seconds"),
            "attribute": params.get("attribute", ""),
            "value": json.dumps(params["value"], ensure_ascii=False)
            if "value" in params and not isinstance(params["value"], str)
            else params.get("value", ""),
            "seconds": params.get("seconds"),
            "kinds": ", ".join(params.get("kinds") or []),
            "start": window.get("start", "") if isinstance(window, Mapping) else "",
            "end": window.get("end", "") if isinstance(window, Mapping) else "",
            "days": "custom" if isinstance(days, list) else days,
            "weekdays": [str(day) for day in days] if isinstance(days, list) else [],
            "holidays": schedule.get("holidays", "any"),
        }
    )
    return initial


class ImportForm(forms.Form):
    """A YAML file of rules, uploaded or pasted."""

    file = forms.FileField(label=gettext_lazy("File"), required=False)
    text = forms.CharField(
        label=gettext_lazy("Or paste YAML"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "code", "spellcheck": "false"}),
    )
    replace = forms.BooleanField(
        label=gettext_lazy(
            "Replace: delete this community's rules missing from the file (built-in ones are "
            "disabled)"
        ),
        required=False,
    )

"""Alarm rules as data, and the holiday calendar their schedules use."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.rules.choices import GroupBy, Priority, RuleKind


class Rule(models.Model):
    """A community's rule: which device events need a person, how urgently, as what alarm.

    ``condition`` is a JSON condition tree (see :mod:`anwang.rules.conditions`) that an event
    must match; ``params`` holds what the kind needs (window, count, duration, the clearing or
    following condition); ``schedule`` limits when the rule is armed (empty: always).
    """

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="rules",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=RuleKind.choices)
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    title_template = models.CharField(
        _("alarm title"),
        max_length=300,
        help_text=_("Placeholders: {device}, {zone}, {building}, {count}, {rule}."),
    )
    group_by = models.CharField(
        _("one alarm per"), max_length=20, choices=GroupBy.choices, default=GroupBy.DEVICE
    )
    cooldown_seconds = models.PositiveIntegerField(
        _("cooldown (seconds)"),
        default=300,
        help_text=_(
            "Firings of the same group within this time of the alarm's last one join it "
            "(its count rises) instead of raising a new alarm."
        ),
    )
    schedule = models.JSONField(_("schedule"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    builtin = models.CharField(
        _("built-in rule"),
        max_length=50,
        blank=True,
        help_text=_("The code of the built-in rule this one came from, if any."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["community", "priority", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="rule_unique_name_per_community"
            ),
            models.UniqueConstraint(
                fields=["community", "builtin"],
                condition=~models.Q(builtin=""),
                name="rule_unique_builtin_per_community",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def as_data(self) -> dict[str, Any]:
        """The rule as plain data (for the engine, export and audit)."""
        return {
            "id": self.pk,
            "name": self.name,
            "kind": self.kind,
            "condition": self.condition,
            "params": self.params,
            "priority": self.priority,
            "title_template": self.title_template,
            "group_by": self.group_by,
            "cooldown_seconds": self.cooldown_seconds,
            "schedule": self.schedule,
            "enabled": self.enabled,
        }


class Holiday(models.Model):
    """A public holiday, or a weekend day worked instead (调休), for rule schedules."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_workday = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("A weekend day that is worked to make up for a holiday (调休)."),
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

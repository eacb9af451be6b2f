"""Alarms, what happened to them, the events that caused them, and response times."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anwang.alarms.choices import OPEN_STATES, AlarmState, SlaKind, StepAction
from anwang.rules.choices import Priority

TITLE_MAX = 300


class _KeepMissing(dict[str, Any]):
    """Template values that leave an unknown placeholder as it was written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_title(template: str, values: Mapping[str, Any]) -> str:
    """A title template in the current language with its values filled in; a placeholder
    without a value stays as written, and a malformed template is shown as it is."""
    translated = gettext(template) if template else ""
    try:
        text = string.Formatter().vformat(translated, (), _KeepMissing(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        # A rule author's typo must not lose the alarm; show the template unfilled.
        text = translated
    return text[:TITLE_MAX]


class Alarm(models.Model):
    """Something a person must act on, raised by a rule (or by hand, e.g. an SOS).

    Firings of the same rule and group (``group_key``: a device, zone, building or the whole
    rule) join the open alarm instead of raising another: ``count`` rises. At most one alarm
    per (rule, group) is open at a time, which the database enforces.
    """

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="alarms",
        verbose_name=_("community"),
    )
    rule = models.ForeignKey(
        "rules.Rule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alarms",
        verbose_name=_("rule"),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=AlarmState.choices, default=AlarmState.RAISED
    )
    title = models.CharField(
        _("title"), max_length=300, help_text=_("As raised, in the default language.")
    )
    title_template = models.CharField(_("title template"), max_length=300, blank=True)
    title_values = models.JSONField(_("title values"), default=dict, blank=True)
    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alarms",
        verbose_name=_("device"),
    )
    zone = models.ForeignKey(
        "places.Zone",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alarms",
        verbose_name=_("zone"),
    )
    group_key = models.CharField(_("group"), max_length=200)
    count = models.PositiveIntegerField(_("firings"), default=1)
    why = models.JSONField(
        _("why"), default=dict, blank=True, help_text=_("The values that made the rule fire.")
    )
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    last_fired_at = models.DateTimeField(_("last fired at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_alarms",
        verbose_name=_("dispatched to"),
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("on scene at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    close_reason = models.TextField(_("reason"), blank=True)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    on_scene_due_at = models.DateTimeField(_("on scene by"), null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    # Set for alarms the system raises without a rule (a missed patrol checkpoint...): the
    # unique key makes raising the same thing twice impossible, also from two workers.
    source_key = models.CharField(
        _("source"), max_length=200, null=True, blank=True, unique=True, default=None
    )

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "group_key"],
                condition=models.Q(state__in=[str(state) for state in OPEN_STATES]),
                name="alarm_one_open_per_rule_group",
            )
        ]
        indexes = [
            models.Index(fields=["community", "state", "priority"], name="alarm_queue_idx"),
            # The worker looks for missed response times every second; closed alarms pile up
            # over the years, so these partial indexes hold only the alarms it may still find.
            models.Index(
                fields=["acknowledge_due_at"],
                condition=models.Q(state=str(AlarmState.RAISED)),
                name="alarm_ack_due_idx",
            ),
            models.Index(
                fields=["on_scene_due_at"],
                condition=models.Q(
                    state__in=[
                        str(AlarmState.RAISED),
                        str(AlarmState.ACKNOWLEDGED),
                        str(AlarmState.DISPATCHED),
                    ]
                ),
                name="alarm_scene_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"P{self.priority} {self.title}"

    @property
    def is_open(self) -> bool:
        """Whether someone still has to act."""
        return self.state in OPEN_STATES

    def display_title(self) -> str:
        """The title in the language of the person reading (the stored ``title`` is in the
        default language, and is what an alarm raised by hand has)."""
        if not self.title_template:
            return self.title
        return render_title(self.title_template, self.title_values or {}) or self.title


class AlarmEvent(models.Model):
    """A device event that made an alarm fire (or fire again)."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="alarm_events")
    device_event = models.ForeignKey(
        "events.DeviceEvent", on_delete=models.CASCADE, related_name="alarm_links"
    )

    class Meta:
        verbose_name = _("alarm event")
        verbose_name_plural = _("alarm events")
        constraints = [
            models.UniqueConstraint(fields=["alarm", "device_event"], name="alarm_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.alarm_id} · {self.device_event_id}"


class AlarmTrigger(models.Model):
    """The identity of one firing of a rule, so the same firing (after a worker restart, or
    checked by two workers) is counted once: e.g. ``door 12 open since 22:04:05``."""

    rule = models.ForeignKey(
        "rules.Rule", on_delete=models.CASCADE, related_name="triggers", verbose_name=_("rule")
    )
    key = models.CharField(_("key"), max_length=255)
    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="triggers")
    fired_at = models.DateTimeField(_("fired at"))

    class Meta:
        verbose_name = _("alarm trigger")
        verbose_name_plural = _("alarm triggers")
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="alarm_trigger_unique")]

    def __str__(self) -> str:
        return self.key


class AlarmStep(models.Model):
    """One entry of an alarm's history: who did what, when, with a note."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=20, choices=StepAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("alarm step")
        verbose_name_plural = _("alarm steps")
        ordering = ["alarm", "at", "id"]

    def __str__(self) -> str:
        return f"{self.alarm_id} · {self.action}"


class AlarmPhoto(models.Model):
    """A photo taken at the scene (by the guard) or attached by the operator."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="alarms/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("alarm photo")
        verbose_name_plural = _("alarm photos")
        ordering = ["alarm", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.alarm_id} · {self.image.name}"


class ResponseTime(models.Model):
    """A community's response times for one priority: acknowledge within, on scene within;
    a breach escalates (and may raise the priority one step)."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="response_times",
        verbose_name=_("community"),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    acknowledge_seconds = models.PositiveIntegerField(_("acknowledge within (seconds)"))
    on_scene_seconds = models.PositiveIntegerField(_("on scene within (seconds)"))
    raise_priority = models.BooleanField(
        _("raise the priority on a breach"),
        default=False,
        help_text=_("A missed response time makes the alarm one step more urgent."),
    )

    class Meta:
        verbose_name = _("response time")
        verbose_name_plural = _("response times")
        ordering = ["community", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "priority"], name="response_time_unique_priority"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community_id} P{self.priority}"


class Escalation(models.Model):
    """A missed response time, and whom it was escalated to."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="escalation_records")
    sla = models.CharField(_("response time"), max_length=20, choices=SlaKind.choices)
    at = models.DateTimeField(_("at"))
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="alarm_escalations", verbose_name=_("escalated to")
    )
    priority_before = models.PositiveSmallIntegerField(_("priority before"))
    priority_after = models.PositiveSmallIntegerField(_("priority after"))

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["alarm", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alarm", "sla"], name="escalation_once_per_sla")
        ]

    def __str__(self) -> str:
        return f"{self.alarm_id} · {self.sla}"


class ShiftHandover(models.Model):
    """A handover note from one shift to the next, with what was still open when it was
    written; the next shift acknowledges it once. Kept forever: it is the duty log."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="shift_handovers",
        verbose_name=_("community"),
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("handed over by"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed over to"),
        help_text=_("Empty: whoever of the next shift acknowledges it first."),
    )
    note = models.TextField(_("note"))
    snapshot = models.JSONField(
        _("handed over"),
        default=dict,
        blank=True,
        help_text=_("The open alarms (id, priority, state, title, assignee) when it was written."),
    )
    created_at = models.DateTimeField(_("written at"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )

    class Meta:
        verbose_name = _("shift handover")
        verbose_name_plural = _("shift handovers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["community", "created_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="handover_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.community_id} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_pending(self) -> bool:
        """Whether the next shift has yet to acknowledge it."""
        return self.acknowledged_at is None

    def handed_over_alarms(self) -> list[dict[str, Any]]:
        """The open alarms of the snapshot, each with its state's label for display."""
        rows = (self.snapshot or {}).get("alarms") or []
        labels = dict(AlarmState.choices)
        return [
            {**row, "state_label": labels.get(row.get("state"), row.get("state"))} for row in rows
        ]

    def handed_over_tasks(self) -> list[dict[str, Any]]:
        """The unfinished incident tasks of the snapshot (none in handovers written before
        incidents existed), with their due times as datetimes."""
        rows = (self.snapshot or {}).get("tasks") or []
        return [
            {**row, "due": dt.datetime.fromisoformat(row["due_at"]) if row.get("due_at") else None}
            for row in rows
        ]

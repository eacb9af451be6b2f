"""Shared abstract base models."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """A record that knows when it was created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class LiveMessage(models.Model):
    """One live update for open consoles and phones (an alarm raised or changed, a device going
    offline, the pipeline's health), numbered so a reconnecting browser catches up from the
    last number it saw (Server-Sent Events ``Last-Event-ID``).

    Written in the same transaction as the change it reports (see :mod:`anwang.core.live`), so
    a browser never hears of a change that was rolled back, and never misses one that was not.
    """

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
        help_text=_("Empty for messages about the whole system (the pipeline's health)."),
    )
    kind = models.CharField(_("kind"), max_length=40)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("live message")
        verbose_name_plural = _("live messages")
        ordering = ["id"]
        indexes = [models.Index(fields=["community", "id"], name="live_community_idx")]

    def __str__(self) -> str:
        return f"{self.pk} {self.kind}"

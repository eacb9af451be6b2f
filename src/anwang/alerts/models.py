"""Safety alerts (安全预警) to residents, the households each one reached and whether they
confirmed, door-knock tasks for those who did not, and CAP alerts received from upstream
warning systems.

An alert's fields are CAP 1.2's (category, severity, urgency, certainty, response type,
headline, description, instruction, area), so every alert can be served as a CAP document.
Publishing freezes who it reached: one :class:`AlertRecipient` per household, so the
follow-up list does not change when people move in or out afterwards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.alerts.choices import (
    AlertState,
    CapStatus,
    Category,
    Certainty,
    Confirmation,
    IncomingState,
    KnockOutcome,
    KnockStatus,
    MsgType,
    ResponseType,
    Severity,
    Urgency,
)
from anwang.core.models import TimeStampedModel


class SafetyAlert(TimeStampedModel):
    """One alert to residents of one community."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="safety_alerts",
        verbose_name=_("community"),
    )
    # CAP identifier, unique for the sender; set when the alert is created.
    identifier = models.CharField(_("identifier"), max_length=100, unique=True)
    template = models.CharField(_("template"), max_length=30, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=AlertState.choices, default=AlertState.DRAFT
    )
    cap_status = models.CharField(
        _("CAP status"), max_length=10, choices=CapStatus.choices, default=CapStatus.ACTUAL
    )
    msg_type = models.CharField(
        _("message type"), max_length=10, choices=MsgType.choices, default=MsgType.ALERT
    )
    # The alert an Update or Cancel refers to.
    references = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_by",
        verbose_name=_("refers to"),
    )
    event = models.CharField(_("event"), max_length=100)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    certainty = models.CharField(_("certainty"), max_length=10, choices=Certainty.choices)
    response_type = models.CharField(
        _("what to do"), max_length=10, choices=ResponseType.choices, blank=True
    )
    headline = models.CharField(_("headline"), max_length=160)
    description = models.TextField(_("description"))
    instruction = models.TextField(_("instruction"), blank=True)
    # BCP 47 tag of the text, as CAP writes it (zh-CN, en-US).
    language = models.CharField(_("language"), max_length=10, default="zh-CN")
    area_description = models.CharField(_("area"), max_length=200)
    # GeoJSON Polygon (lon,lat) of the area; CAP gets it as lat,lon pairs.
    polygon = models.JSONField(_("area outline (GeoJSON)"), null=True, blank=True)
    web = models.URLField(_("more information"), blank=True)
    # Targeting: the whole community, or the union of buildings, units and households;
    # groups narrow either to households with a resident of one of the groups.
    whole_community = models.BooleanField(_("whole community"), default=True)
    buildings = models.ManyToManyField(
        "places.Building", blank=True, related_name="+", verbose_name=_("buildings")
    )
    units = models.ManyToManyField(
        "places.Unit", blank=True, related_name="+", verbose_name=_("units")
    )
    households = models.ManyToManyField(
        "places.Household", blank=True, related_name="+", verbose_name=_("households")
    )
    groups = models.JSONField(_("groups"), default=list, blank=True)
    # Personal channels besides the in-app inbox (sms, voice, wechat, web_push, email).
    channels = models.JSONField(_("channels"), default=list, blank=True)
    confirmation = models.CharField(
        _("asks"), max_length=10, choices=Confirmation.choices, default=Confirmation.NONE
    )
    # When it goes out (empty: at once) and when it stops being in force.
    publish_at = models.DateTimeField(_("send at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    published_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    notification = models.ForeignKey(
        "notifications.Notification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    # Relayed from an upstream CAP alert.
    relayed_from = models.ForeignKey(
        "alerts.IncomingAlert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="relays",
        verbose_name=_("relayed from"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    households_reached = models.PositiveIntegerField(_("households reached"), default=0)
    people_reached = models.PositiveIntegerField(_("people reached"), default=0)

    class Meta:
        verbose_name = _("safety alert")
        verbose_name_plural = _("safety alerts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "state"])]

    def __str__(self) -> str:
        return self.headline

    @property
    def is_urgent(self) -> bool:
        """Extreme severity or Immediate urgency: quiet hours do not hold it back."""
        return self.severity == Severity.EXTREME or self.urgency == Urgency.IMMEDIATE


class AlertRecipient(models.Model):
    """One household an alert reached, frozen when it was sent. ``vulnerable`` puts it first
    on the follow-up list; it is confirmed when one of its people confirms in the inbox or a
    door-knock finds everyone safe."""

    alert = models.ForeignKey(
        SafetyAlert, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("alert")
    )
    household = models.ForeignKey(
        "places.Household",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("household"),
    )
    people = models.PositiveSmallIntegerField(_("people"), default=0)
    # Accounts of the household the alert went to (for its inbox and personal channels).
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("accounts")
    )
    vulnerable = models.BooleanField(_("vulnerable"), default=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    # "inbox" (a person of the household) or "door_knock" (a visitor found them safe).
    confirmed_via = models.CharField(_("confirmed through"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("household reached")
        verbose_name_plural = _("households reached")
        constraints = [
            models.UniqueConstraint(fields=["alert", "household"], name="alert_recipient_unique")
        ]
        indexes = [models.Index(fields=["alert", "confirmed_at"])]

    def __str__(self) -> str:
        return f"{self.alert_id}/{self.household_id}"


class DoorKnockTask(models.Model):
    """A visit to a household that has not confirmed an alert, by a grid worker or a
    volunteer."""

    alert = models.ForeignKey(
        SafetyAlert, on_delete=models.CASCADE, related_name="door_knocks", verbose_name=_("alert")
    )
    household = models.ForeignKey(
        "places.Household",
        on_delete=models.CASCADE,
        related_name="door_knocks",
        verbose_name=_("household"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="door_knocks",
        verbose_name=_("assigned to"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=KnockStatus.choices, default=KnockStatus.OPEN
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=KnockOutcome.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("door-knock task")
        verbose_name_plural = _("door-knock tasks")
        ordering = ["status", "due_at", "id"]
        constraints = [
            # One open visit per household and alert; a done one may be followed by another.
            models.UniqueConstraint(
                fields=["alert", "household"],
                condition=models.Q(status="open"),
                name="door_knock_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_id}/{self.household_id}"


class CapFeed(TimeStampedModel):
    """An upstream warning system whose CAP alerts the worker fetches (one CAP document, or
    an Atom or RSS feed linking to CAP documents)."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="cap_feeds",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("address"), max_length=500)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    poll_minutes = models.PositiveSmallIntegerField(_("fetch every (minutes)"), default=5)
    last_polled_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    etag = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("CAP feed")
        verbose_name_plural = _("CAP feeds")
        ordering = ["community", "name", "id"]

    def __str__(self) -> str:
        return self.name


class IncomingAlert(models.Model):
    """A CAP alert received from upstream (fetched from a feed or POSTed to us), stored as
    received and as parsed."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="incoming_alerts",
        verbose_name=_("community"),
    )
    feed = models.ForeignKey(
        CapFeed,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("feed"),
    )
    identifier = models.CharField(_("identifier"), max_length=200)
    sender = models.CharField(_("sender"), max_length=200)
    sent = models.DateTimeField(_("sent"))
    cap_status = models.CharField(_("CAP status"), max_length=10)
    msg_type = models.CharField(_("message type"), max_length=10)
    # The first info block in the community's language (else the first one).
    event = models.CharField(_("event"), max_length=200, blank=True)
    headline = models.CharField(_("headline"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    instruction = models.TextField(_("instruction"), blank=True)
    category = models.CharField(_("category"), max_length=10, blank=True)
    severity = models.CharField(_("severity"), max_length=10, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, blank=True)
    certainty = models.CharField(_("certainty"), max_length=10, blank=True)
    area_description = models.CharField(_("area"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # Everything parsed: every info block with its areas, references, language.
    parsed = models.JSONField(_("parsed"), default=dict)
    raw = models.TextField(_("as received"))
    received_at = models.DateTimeField(_("received at"))
    state = models.CharField(
        _("state"), max_length=10, choices=IncomingState.choices, default=IncomingState.NEW
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("received CAP alert")
        verbose_name_plural = _("received CAP alerts")
        ordering = ["-sent", "-id"]
        constraints = [
            # A feed fetched again, or a POST repeated, does not store an alert twice.
            models.UniqueConstraint(
                fields=["community", "sender", "identifier"], name="incoming_alert_unique"
            )
        ]

    def __str__(self) -> str:
        return self.headline or self.identifier

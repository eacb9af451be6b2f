"""Stored device events (one per real change), the last known value of every device
attribute, camera snapshots, and dead letters (messages that could not be used)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from anwang.events.choices import EventKind, Transport, WorkerMode


class DeviceEvent(models.Model):
    """One real change reported by a device: a level transition or an edge-triggered event.

    ``dedup_key`` is unique, so a message stored twice (redelivery, two workers) yields one row.
    """

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="device_events",
        verbose_name=_("community"),
        # The (community, received_at) index serves look-ups by community: one index fewer
        # to update for every event stored (this table takes thousands of rows a second).
        db_index=False,
    )
    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("device"),
        db_index=False,  # as community: the (device, received_at) index serves it
    )
    kind = models.CharField(_("kind"), max_length=40, choices=EventKind.choices)
    # None, not "", as in Observation: a level event has an attribute, an edge event has not.
    attribute = models.CharField(  # noqa: DJ001
        _("attribute"), max_length=100, null=True, blank=True
    )
    value = models.JSONField(_("value"), null=True, blank=True)
    previous_value = models.JSONField(_("previous value"), null=True, blank=True)
    edge_key = models.CharField(  # noqa: DJ001 - None for level events, as in Observation
        _("event identity"), max_length=200, null=True, blank=True
    )
    dedup_key = models.CharField(_("deduplication key"), max_length=255, unique=True)
    device_time = models.DateTimeField(_("device time"), null=True, blank=True)
    device_time_raw = models.CharField(_("device time as sent"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    clock_skew_seconds = models.FloatField(
        _("clock skew (seconds)"),
        null=True,
        blank=True,
        help_text=_("The device's time minus the server's receive time."),
    )
    replay = models.BooleanField(
        _("replay"), default=False, help_text=_("A replay from the device's log, not new.")
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("device event")
        verbose_name_plural = _("device events")
        # Device clocks are not trusted: the server's receive time orders events.
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["community", "received_at"], name="devevent_community_idx"),
            models.Index(fields=["device", "received_at"], name="devevent_device_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} · {self.kind}"


class DeviceState(models.Model):
    """The last known value of one attribute of a device, so transitions survive restarts."""

    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.CASCADE,
        related_name="states",
        verbose_name=_("device"),
    )
    attribute = models.CharField(_("attribute"), max_length=100)
    value = models.JSONField(_("value"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("device state")
        verbose_name_plural = _("device states")
        ordering = ["device", "attribute"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "attribute"], name="device_state_unique_attribute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} · {self.attribute}"


class CameraSnapshot(models.Model):
    """A picture a camera published of a tracked object (Frigate's ``.../snapshot`` topic), kept
    so an alarm can show what the camera saw. Not an event: it never fires a rule."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        related_name="camera_snapshots",
        verbose_name=_("community"),
    )
    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.CASCADE,
        related_name="snapshots",
        verbose_name=_("camera"),
    )
    label = models.CharField(_("detected object"), max_length=100, blank=True)
    taken_at = models.DateTimeField(
        _("received at"), help_text=_("When the server received the picture.")
    )
    image = models.ImageField(_("picture"), upload_to="snapshots/%Y/%m/%d/")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    digest = models.CharField(_("SHA-256 of the picture"), max_length=64)
    retained = models.BooleanField(
        _("retained"),
        default=False,
        help_text=_("Delivered from the broker's memory: it may have been taken much earlier."),
    )

    class Meta:
        verbose_name = _("camera snapshot")
        verbose_name_plural = _("camera snapshots")
        ordering = ["-taken_at", "-id"]
        indexes = [
            models.Index(fields=["device", "taken_at"], name="snapshot_device_idx"),
        ]
        constraints = [
            # The same picture delivered again (a retained message after a reconnect) is one row.
            models.UniqueConstraint(
                fields=["device", "label", "digest"], name="snapshot_unique_picture"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} · {self.label} · {self.taken_at:%Y-%m-%d %H:%M:%S}"


class DeadLetter(models.Model):
    """A message that could not be used, kept with the reason so it can be re-processed."""

    community = models.ForeignKey(
        "places.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dead_letters",
        verbose_name=_("community"),
    )
    transport = models.CharField(_("transport"), max_length=10, choices=Transport.choices)
    topic = models.CharField(_("topic or path"), max_length=500)
    payload = models.BinaryField(_("payload"))
    payload_preview = models.TextField(_("payload preview"), blank=True)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    retained = models.BooleanField(_("retained"), default=False)
    reason = models.TextField(_("reason"))
    received_at = models.DateTimeField(_("received at"), db_index=True)
    reprocessed_at = models.DateTimeField(_("re-processed at"), null=True, blank=True)
    resolved = models.BooleanField(_("resolved"), default=False)

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic} · {self.reason[:60]}"


class WorkerStatus(models.Model):
    """What a running ``anwang worker`` last said about itself, so the web app can show
    whether the pipeline works: connected, how far behind, when it last committed."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    host = models.CharField(_("host"), max_length=200, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    mode = models.CharField(_("input"), max_length=10, choices=WorkerMode.choices)
    broker = models.CharField(_("broker"), max_length=300, blank=True)
    connected = models.BooleanField(_("connected to the broker"), default=False)
    connected_since = models.DateTimeField(_("connected since"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))
    reported_at = models.DateTimeField(_("last report"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    last_commit_at = models.DateTimeField(_("last commit"), null=True, blank=True)
    lag_seconds = models.FloatField(
        _("lag (seconds)"),
        default=0,
        help_text=_("How long the oldest message not yet stored has waited."),
    )
    commit_latency_ms = models.FloatField(
        _("receive-to-commit time of the last batch (ms)"), null=True, blank=True
    )
    pending = models.PositiveIntegerField(_("messages waiting"), default=0)
    messages_total = models.PositiveBigIntegerField(_("messages"), default=0)
    events_total = models.PositiveBigIntegerField(_("events stored"), default=0)
    dead_letters_total = models.PositiveBigIntegerField(_("dead letters"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker status")
        verbose_name_plural = _("worker statuses")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

"""Choices of the events domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    """The normalised kinds adapters report (an adapter may report a kind not listed here)."""

    SMOKE = "smoke", _("Smoke")
    SMOKE_TEST = "smoke_test", _("Smoke detector self-test")
    GAS = "gas", _("Gas")
    WATER_LEAK = "water_leak", _("Water leak")
    CONTACT = "contact", _("Door or window contact")
    MOTION = "motion", _("Motion")
    TAMPER = "tamper", _("Tamper")
    BATTERY_LOW = "battery_low", _("Battery low")
    PANIC = "panic", _("Panic button")
    TEMPERATURE = "temperature", _("Temperature")
    AVAILABILITY = "availability", _("Availability")
    OBJECT_DETECTED = "object_detected", _("Object detected")
    REVIEW = "review", _("Camera review")
    LINE_CROSSING = "line_crossing", _("Line crossing")
    INTRUSION = "intrusion", _("Intrusion")
    VIDEO_LOSS = "video_loss", _("Video loss")
    HEARTBEAT = "heartbeat", _("Heartbeat")
    ACCESS = "access", _("Access control")
    PLATE = "plate", _("Licence plate read")
    OTHER = "other", _("Other")
    # Health transitions of the device record itself, made by Anwang rather than reported.
    DEVICE_OFFLINE = "device.offline", _("Device went offline")
    DEVICE_ONLINE = "device.online", _("Device back online")
    # An anomaly the access detectors found, handed to the rules on the access point's device.
    ACCESS_ANOMALY = "access.anomaly", _("Access anomaly")


class Transport(models.TextChoices):
    """How a message reached Anwang."""

    MQTT = "mqtt", _("MQTT")
    HTTP = "http", _("HTTP")


class WorkerMode(models.TextChoices):
    """Where a worker takes its input from."""

    MQTT = "mqtt", _("MQTT broker")
    LOCAL = "local", _("HTTP and in-process only")

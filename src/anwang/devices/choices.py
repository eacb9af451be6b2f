"""Choices of the devices domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    """What a device is."""

    CAMERA = "camera", _("Camera")
    ACCESS_READER = "access_reader", _("Access reader")
    SMOKE = "smoke", _("Smoke detector")
    GAS = "gas", _("Gas detector")
    WATER_LEAK = "water_leak", _("Water leak sensor")
    CONTACT = "contact", _("Door or window contact")
    MOTION = "motion", _("Motion sensor")
    PANIC_BUTTON = "panic_button", _("Panic button")
    TEMPERATURE = "temperature", _("Temperature sensor")
    GATEWAY = "gateway", _("Gateway or NVR")
    OTHER = "other", _("Other device")


class Protocol(models.TextChoices):
    """How a device reports (the adapter that reads it)."""

    ZIGBEE2MQTT = "zigbee2mqtt", _("Zigbee2MQTT")
    FRIGATE = "frigate", _("Frigate")
    HIKVISION = "hikvision", _("Hikvision ISAPI")
    HOMEASSISTANT = "homeassistant", _("Home Assistant")
    ANWANG = "anwang", _("Anwang JSON")


class DeviceStatus(models.TextChoices):
    """Whether a device is heard from."""

    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")
    UNKNOWN = "unknown", _("Unknown")


class CredentialKind(models.TextChoices):
    """How a device proves who it is when it reports over HTTP."""

    TOKEN = "token", _("Device token")
    HMAC = "hmac", _("HMAC signing secret")
    HTTP_BASIC = "http_basic", _("HTTP Basic password")
    HTTP_DIGEST = "http_digest", _("HTTP Digest password")

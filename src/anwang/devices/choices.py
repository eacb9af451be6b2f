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


class IngestRejection(models.TextChoices):
    """Why a request to HTTP ingestion was refused (stable codes, also the API's ``code``)."""

    CREDENTIALS_MISSING = "credentials_missing", _("No credentials")
    BAD_CREDENTIALS = "bad_credentials", _("Wrong credentials")
    CREDENTIAL_REVOKED = "credential_revoked", _("Revoked credential")
    DEVICE_RETIRED = "device_retired", _("Retired device")
    TLS_REQUIRED = "tls_required", _("Password sent without TLS")
    BAD_SIGNATURE = "bad_signature", _("Bad signature")
    STALE_TIMESTAMP = "stale_timestamp", _("Stale timestamp")
    REPLAYED = "replayed", _("Replayed request")
    STALE_NONCE = "stale_nonce", _("Expired Digest nonce")
    BODY_TOO_LARGE = "body_too_large", _("Body too large")
    UNUSABLE_MESSAGE = "unusable_message", _("Malformed or unusable message")
    FOREIGN_DEVICE = "foreign_device", _("Another device's message")
    WRONG_PROTOCOL = "wrong_protocol", _("Another protocol's message")

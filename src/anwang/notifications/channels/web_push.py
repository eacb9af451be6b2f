"""Web Push (RFC 8030 with VAPID, RFC 8292, and aes128gcm payloads, RFC 8291) to the
service worker of each browser a person turned notifications on in.

The platform's VAPID key pair lives in the platform-wide ``ChannelConfig(channel="web_push",
community=None)``: settings ``public_key`` (URL-safe base64 of the uncompressed P-256 point,
what browsers take as ``applicationServerKey``), ``subject`` (``mailto:`` or ``https:`` contact
for push services), optionally ``ttl`` (seconds a push service keeps an undelivered message,
default 86400) and ``timeout`` (seconds per request, default 10); the secret is the private key
in PEM. :func:`vapid_keys` makes them on first use.

The message's ``address`` is the person's user id: the backend sends to all of that person's
:class:`~anwang.notifications.models.PushSubscription` rows and deletes those the push service
says are gone (404/410).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from py_vapid import Vapid  # type: ignore[import-untyped]
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

from anwang.accounts.models import User
from anwang.audit.services import audit_record
from anwang.core.errors import ServiceError
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel
from anwang.notifications.models import ChannelConfig, PushSubscription

DEFAULT_TTL_SECONDS = 24 * 60 * 60
DEFAULT_TIMEOUT_SECONDS = 10.0
# Push services accept 4 KiB of encrypted payload; Chinese text is 3 bytes a character.
MAX_TITLE_CHARACTERS = 120
MAX_BODY_CHARACTERS = 500
GONE_STATUSES = frozenset({404, 410})
# Statuses where the same request cannot succeed later (bad VAPID key, too large, malformed).
PERMANENT_STATUSES = frozenset({400, 401, 403, 413})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    """The platform's VAPID key pair and contact."""

    public_key: str
    private_key_pem: str
    subject: str


def _default_subject() -> str:
    sender = str(getattr(django_settings, "DEFAULT_FROM_EMAIL", "") or "")
    if "@" in sender:
        return f"mailto:{sender}"
    public_url = str(getattr(django_settings, "ANWANG_PUBLIC_URL", "") or "")
    return public_url if public_url.startswith("https://") else "mailto:anwang@localhost"


def _platform_config() -> ChannelConfig | None:
    return (
        ChannelConfig.objects.filter(channel=Channel.WEB_PUSH, community__isnull=True)
        .order_by("pk")
        .first()
    )


def _keys_of(config: ChannelConfig | ChannelSettings) -> VapidKeys | None:
    values = config.settings or {}
    public_key = str(values.get("public_key") or "")
    if not public_key or not config.secret:
        return None
    return VapidKeys(
        public_key=public_key,
        private_key_pem=str(config.secret),
        subject=str(values.get("subject") or _default_subject()),
    )


def vapid_keys(create: bool = True) -> VapidKeys | None:
    """The platform's VAPID keys; with ``create``, made and stored the first time."""
    config = _platform_config()
    keys = _keys_of(config) if config is not None else None
    if keys is not None or not create:
        return keys
    with transaction.atomic():
        # Lock the row (or serialise creators on the config table) so two first requests do
        # not make two key pairs: browsers subscribed with the losing key would get 403s.
        config = (
            ChannelConfig.objects.select_for_update()
            .filter(channel=Channel.WEB_PUSH, community__isnull=True)
            .order_by("pk")
            .first()
        )
        keys = _keys_of(config) if config is not None else None
        if keys is not None:
            return keys
        vapid = Vapid()
        vapid.generate_keys()
        public_key = _b64url(
            vapid.public_key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        private_key_pem = vapid.private_pem().decode("ascii")
        if config is None:
            config = ChannelConfig(
                channel=Channel.WEB_PUSH, community=None, name="Web Push (VAPID)"
            )
            action = "channel_config.create"
        else:
            action = "channel_config.update"
        subject = str((config.settings or {}).get("subject") or _default_subject())
        config.settings = {**(config.settings or {}), "public_key": public_key, "subject": subject}
        config.secret = private_key_pem
        config.save()
        audit_record(
            actor=None,
            action=action,
            obj=config,
            changes={"settings.public_key": public_key, "secret": "(new VAPID key)"},
        )
    return VapidKeys(public_key=public_key, private_key_pem=private_key_pem, subject=subject)


def vapid_public_key() -> str:
    """The ``applicationServerKey`` browsers subscribe with."""
    keys = vapid_keys(create=True)
    assert keys is not None
    return keys.public_key


# --- subscriptions (the writes behind the subscribe / unsubscribe pages) -------------------


def _allows_plain_http(host: str) -> bool:
    """Plain-HTTP endpoints only for a push endpoint on this machine, and only in development
    or tests; real push services are all HTTPS."""
    allowed = getattr(django_settings, "ANWANG_PUSH_ALLOW_LOCAL_HTTP", django_settings.DEBUG)
    if not allowed:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_endpoint(endpoint: Any) -> str:
    """A push service URL: HTTPS (see :func:`_allows_plain_http`), at most 1000 characters."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ServiceError(_("The push endpoint is missing."), field="endpoint")
    text: str = endpoint.strip()
    if len(text) > 1000:
        raise ServiceError(_("The push endpoint is too long."), field="endpoint")
    parts = urlsplit(text)
    host = parts.hostname or ""
    if not host or parts.username or parts.password:
        raise ServiceError(_("The push endpoint is not a valid address."), field="endpoint")
    if parts.scheme == "https" or (parts.scheme == "http" and _allows_plain_http(host)):
        return text
    raise ServiceError(_("The push endpoint must be an HTTPS address."), field="endpoint")


def _clean_key(value: Any, *, field: str, length: int, prefix: bytes = b"") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ServiceError(_("A key of the push subscription is missing."), field=field)
    value = value.strip()
    try:
        raw = _b64url_decode(value.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as error:
        raise ServiceError(
            _("A key of the push subscription is not valid."), field=field
        ) from error
    if len(raw) != length or not raw.startswith(prefix):
        raise ServiceError(_("A key of the push subscription is not valid."), field=field)
    return _b64url(raw)


def push_subscription_save(
    *,
    user: User,
    endpoint: Any,
    p256dh: Any,
    auth: Any,
    user_agent: str = "",
    now: dt.datetime | None = None,
) -> PushSubscription:
    """Turn on push in one browser for ``user``. The endpoint identifies the browser: if another
    person had subscribed in it before, it now belongs to whoever signed in and subscribed."""
    now = now or timezone.now()
    endpoint = clean_endpoint(endpoint)
    # An uncompressed P-256 point (0x04, x, y) and a 16-byte secret, as browsers make them.
    p256dh = _clean_key(p256dh, field="keys.p256dh", length=65, prefix=b"\x04")
    auth = _clean_key(auth, field="keys.auth", length=16)
    with transaction.atomic():
        subscription = (
            PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        )
        if subscription is None:
            subscription = PushSubscription(endpoint=endpoint, created_at=now)
            action = "push_subscription.create"
            before: dict[str, Any] = {}
        else:
            action = "push_subscription.update"
            before = {"user": subscription.user_id}
        subscription.user = user
        subscription.p256dh = p256dh
        subscription.auth = auth
        subscription.user_agent = (user_agent or "")[:300]
        subscription.save()
        audit_record(
            actor=user,
            action=action,
            obj=subscription,
            changes={"user": [before.get("user"), user.pk]} if before else {"user": user.pk},
        )
    return subscription


def push_subscription_delete(*, user: User, endpoint: Any) -> bool:
    """Turn off push in one browser; only the person's own subscription. False if none."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ServiceError(_("The push endpoint is missing."), field="endpoint")
    with transaction.atomic():
        subscription = (
            PushSubscription.objects.select_for_update()
            .filter(user=user, endpoint=endpoint.strip())
            .first()
        )
        if subscription is None:
            return False
        audit_record(actor=user, action="push_subscription.delete", obj=subscription)
        subscription.delete()
    return True


# --- sending ----------------------------------------------------------------------------------


def payload_of(message: OutgoingMessage) -> str:
    """What the service worker receives (see ``static/notifications/service-worker.js``)."""
    body = message.body.strip()
    if len(body) > MAX_BODY_CHARACTERS:
        body = body[: MAX_BODY_CHARACTERS - 1] + "…"
    return json.dumps(
        {
            "title": message.title[:MAX_TITLE_CHARACTERS],
            "body": body,
            "url": message.url,
            "id": message.notification_id,
            "urgent": message.urgent,
        },
        ensure_ascii=False,
    )


def _status_of(error: WebPushException) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def _forget_gone(subscription: PushSubscription, status: int) -> None:
    with transaction.atomic():
        audit_record(
            actor=None,
            action="push_subscription.delete",
            obj=subscription,
            changes={"reason": f"push service answered {status}"},
        )
        PushSubscription.objects.filter(pk=subscription.pk).delete()


class WebPushBackend:
    """Sends one delivery to every browser of the person."""

    channel = "web_push"

    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        try:
            user_id = int(message.address or message.recipient_id or 0)
        except ValueError:
            return SendOutcome(status="failed", error="no person to push to", retry=False)
        subscriptions = list(PushSubscription.objects.filter(user_id=user_id).order_by("pk"))
        if not subscriptions:
            return SendOutcome(status="failed", error="no push subscription", retry=False)
        keys = _keys_of(settings) or vapid_keys(create=True)
        assert keys is not None
        config = settings.settings or {}
        ttl = int(config.get("ttl") or DEFAULT_TTL_SECONDS)
        timeout = float(config.get("timeout") or DEFAULT_TIMEOUT_SECONDS)
        vapid = Vapid.from_pem(keys.private_key_pem.encode("ascii"))
        data = payload_of(message)
        headers = {"Urgency": "high" if message.urgent else "normal"}
        if message.notification_id:
            # A newer message with the same topic replaces an undelivered older one.
            headers["Topic"] = f"n{message.notification_id}"

        accepted: list[str] = []
        errors: list[str] = []
        retry = False
        for subscription in subscriptions:
            try:
                response = webpush(
                    subscription_info={
                        "endpoint": subscription.endpoint,
                        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                    },
                    data=data,
                    vapid_private_key=vapid,
                    # A fresh dict each time: pywebpush writes aud (the endpoint's origin) and
                    # exp into it.
                    vapid_claims={"sub": keys.subject},
                    ttl=ttl,
                    headers=dict(headers),
                    timeout=timeout,
                )
            except WebPushException as error:
                status = _status_of(error)
                if status in GONE_STATUSES:
                    _forget_gone(subscription, status)
                    continue
                errors.append(f"{status or 'error'}: {error.message}"[:300])
                if status is None or status not in PERMANENT_STATUSES:
                    retry = True
                continue
            except (requests.RequestException, OSError) as error:
                errors.append(f"connection: {error}"[:300])
                retry = True
                continue
            location = ""
            if isinstance(response, requests.Response):
                location = response.headers.get("Location", "")
            accepted.append(location)
            PushSubscription.objects.filter(pk=subscription.pk).update(
                last_success_at=timezone.now()
            )

        if accepted:
            return SendOutcome(
                status="sent",
                provider_id=next((where for where in accepted if where), "")[:200],
                error="; ".join(errors)[:1000],
            )
        if not PushSubscription.objects.filter(user_id=user_id).exists():
            return SendOutcome(
                status="failed",
                error="; ".join(errors) or "every push subscription has expired",
                retry=False,
            )
        return SendOutcome(status="failed", error="; ".join(errors)[:1000], retry=retry)


register_backend(WebPushBackend())

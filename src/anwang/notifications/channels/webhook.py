"""A generic webhook: the message as JSON, signed the way Anwang's own HTTP ingestion checks
device requests (:mod:`anwang.devices.http_auth`), so one verifier serves both directions.

Settings of the ``ChannelConfig(channel="webhook")``:

``url``  where to POST (required)

plus ``timeout_seconds`` and ``connect_timeout_seconds`` (:mod:`.http`). The secret, when set,
signs the body: ``X-Anwang-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``. ``X-Anwang-Delivery`` carries the delivery id, the same on every retry,
so a receiver can drop duplicates. Any 2xx answer is a success; a JSON answer's ``id`` is kept
as the provider's id.
"""

from __future__ import annotations

import time

from django.utils import timezone

from anwang.devices.http_auth import sign
from anwang.devices.services import SIGNATURE_HEADER
from anwang.notifications.channels import http
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel

DELIVERY_HEADER = "X-Anwang-Delivery"


def webhook_payload(message: OutgoingMessage) -> dict[str, object]:
    """What a webhook receives."""
    return {
        "id": message.notification_id,
        "delivery_id": message.delivery_id,
        "kind": message.kind,
        "title": message.title,
        "body": message.body,
        "url": message.url,
        "priority": message.priority,
        "urgent": message.urgent,
        "needs_confirmation": message.needs_confirmation,
        "community_id": message.community_id,
        "data": dict(message.data),
        "sent_at": timezone.now().isoformat(),
    }


class WebhookBackend:
    """POSTs signed JSON to a receiver of the community's choosing."""

    channel = Channel.WEBHOOK.value

    @http.guarded
    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        url = http.required_setting(settings, "url")
        body = http.encode_json(webhook_payload(message))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            DELIVERY_HEADER: str(message.delivery_id),
        }
        if settings.secret:
            timestamp = int(time.time())
            headers[SIGNATURE_HEADER] = f"t={timestamp},v1={sign(settings.secret, timestamp, body)}"
        reply = http.request("POST", url, settings, content=body, headers=headers)
        provider_id = ""
        if reply.content.strip().startswith(b"{"):
            try:
                provider_id = str(reply.json_object().get("id") or "")
            except http.ChannelError:
                # The receiver said 2xx: a garbled body does not undo the delivery.
                provider_id = ""
        return SendOutcome(status="sent", provider_id=provider_id)


register_backend(WebhookBackend())

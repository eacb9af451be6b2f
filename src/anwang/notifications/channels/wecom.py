"""WeCom (企业微信) group robot.

Settings of the ``ChannelConfig(channel="wecom")``:

``url``  the robot's webhook, ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...``
         (required). The key may instead be kept as the secret (encrypted at rest): then
         ``url`` is the address without it and ``key`` is added as a query parameter.

plus ``timeout_seconds`` and ``connect_timeout_seconds`` (:mod:`.http`). WeCom robots are not
signed: the key is the credential. Messages are ``msgtype: markdown`` (at most 4096 bytes).
WeCom answers ``{"errcode": 0, "errmsg": "ok"}``; any other ``errcode`` is a failure.
"""

from __future__ import annotations

from typing import Final

from anwang.notifications.channels import http
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel

MAX_CONTENT_BYTES: Final = 4096
# -1 system busy; 45009 frequency limit (20 messages a minute per robot).
RETRYABLE_ERRORS: Final = frozenset({-1, 45009})


def wecom_payload(message: OutgoingMessage) -> dict[str, object]:
    """A ``markdown`` message, cut to WeCom's limit on a character boundary."""
    content = http.markdown_text(message)
    encoded = content.encode()
    if len(encoded) > MAX_CONTENT_BYTES:
        content = encoded[: MAX_CONTENT_BYTES - 3].decode("utf-8", "ignore") + "…"
    return {"msgtype": "markdown", "markdown": {"content": content}}


class WeComBackend:
    """Posts to a WeCom group through its robot."""

    channel = Channel.WECOM.value

    @http.guarded
    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        url = http.required_setting(settings, "url")
        params = {"key": settings.secret} if settings.secret else None
        answer = http.post_json(url, wecom_payload(message), settings, params=params).json_object()
        if answer.get("errcode", 0) != 0:
            raise http.vendor_error(
                "WeCom", answer.get("errcode"), answer.get("errmsg"), retryable=RETRYABLE_ERRORS
            )
        return SendOutcome(status="sent")


register_backend(WeComBackend())

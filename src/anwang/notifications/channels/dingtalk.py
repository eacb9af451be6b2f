"""DingTalk (钉钉) custom group robot.

Settings of the ``ChannelConfig(channel="dingtalk")``:

``url``  the robot's webhook, ``https://oapi.dingtalk.com/robot/send?access_token=...``
         (required)

plus ``timeout_seconds`` and ``connect_timeout_seconds`` (:mod:`.http`). The secret is the
robot's signing secret (``SEC...``, security setting 加签); when set, every request carries
``timestamp`` (milliseconds) and ``sign`` = Base64(HMAC-SHA256(key=secret,
msg="<timestamp>\\n<secret>")) as query parameters, as DingTalk documents. Messages are
``msgtype: markdown`` with the title, the text and the link. DingTalk answers
``{"errcode": 0, "errmsg": "ok"}``; any other ``errcode`` is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Final

from anwang.notifications.channels import http
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel

# -1 system busy; 130101 send too fast (a robot may send 20 messages a minute).
RETRYABLE_ERRORS: Final = frozenset({-1, 130101})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature of a request sent at ``timestamp_ms`` (before URL encoding)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_payload(message: OutgoingMessage) -> dict[str, object]:
    """A ``markdown`` message (the title shows in the chat list and notifications)."""
    return {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": http.markdown_text(message)},
    }


class DingTalkBackend:
    """Posts to a DingTalk group through its custom robot."""

    channel = Channel.DINGTALK.value

    @http.guarded
    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        url = http.required_setting(settings, "url")
        params: dict[str, str] = {}
        if settings.secret:
            timestamp_ms = int(time.time() * 1000)
            # httpx URL-encodes the parameters (the '+', '/' and '=' of Base64 included).
            params = {
                "timestamp": str(timestamp_ms),
                "sign": dingtalk_sign(settings.secret, timestamp_ms),
            }
        answer = http.post_json(
            url, dingtalk_payload(message), settings, params=params
        ).json_object()
        if answer.get("errcode", 0) != 0:
            raise http.vendor_error(
                "DingTalk", answer.get("errcode"), answer.get("errmsg"), retryable=RETRYABLE_ERRORS
            )
        return SendOutcome(status="sent")


register_backend(DingTalkBackend())

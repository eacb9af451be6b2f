"""Feishu / Lark (飞书) custom group robot.

Settings of the ``ChannelConfig(channel="feishu")``:

``url``  the robot's webhook, ``https://open.feishu.cn/open-apis/bot/v2/hook/<token>`` (Lark:
         ``https://open.larksuite.com/...``) (required)

plus ``timeout_seconds`` and ``connect_timeout_seconds`` (:mod:`.http`). The secret is the
robot's signing secret (签名校验); when set, the body carries ``timestamp`` (seconds, as a
string) and ``sign`` = Base64(HMAC-SHA256(key="<timestamp>\\n<secret>", msg="")), as Feishu
documents. Messages are rich text (``msg_type: post``): the title, a paragraph per line of
text, and the link. Feishu answers ``{"code": 0, "msg": "success", ...}`` (older robots
``{"StatusCode": 0, ...}``); any other code is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, Final

from anwang.notifications.channels import http
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel

# 11232: frequency limited (100 a minute, 5 a second per robot).
RETRYABLE_ERRORS: Final = frozenset({11232})


def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu's signature: the HMAC of an empty message keyed by "<timestamp>\\n<secret>"."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def feishu_payload(message: OutgoingMessage) -> dict[str, Any]:
    """A ``post`` (rich text) message in the message's language."""
    paragraphs: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": line}] for line in message.body.splitlines() if line.strip()
    ]
    if message.url:
        paragraphs.append([{"tag": "a", "text": http.link_label(message), "href": message.url}])
    locale = "en_us" if message.language.startswith("en") else "zh_cn"
    return {
        "msg_type": "post",
        "content": {"post": {locale: {"title": message.title, "content": paragraphs}}},
    }


class FeishuBackend:
    """Posts to a Feishu group through its custom robot."""

    channel = Channel.FEISHU.value

    @http.guarded
    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        url = http.required_setting(settings, "url")
        payload = feishu_payload(message)
        if settings.secret:
            timestamp = int(time.time())
            payload = {
                "timestamp": str(timestamp),
                "sign": feishu_sign(settings.secret, timestamp),
                **payload,
            }
        answer = http.post_json(url, payload, settings).json_object()
        code = answer.get("code", answer.get("StatusCode", 0))
        if code != 0:
            error = answer.get("msg", answer.get("StatusMessage"))
            raise http.vendor_error("Feishu", code, error, retryable=RETRYABLE_ERRORS)
        return SendOutcome(status="sent")


register_backend(FeishuBackend())

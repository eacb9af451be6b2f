"""Voice calls through a configurable HTTP gateway (text to speech from an approved
template), for escalating P1 alarms nobody acknowledged.

Settings of the ``ChannelConfig(channel="voice")`` are those of :mod:`.sms` (``url``,
``templates``/``template_id``, ``fields``, ``auth_header``, ``auth_scheme``, ``ok_field``,
``ok_value``, ``id_field``, ``error_field``, ``retry_values``, timeouts; a call has no
``sign_name`` unless the gateway asks for one) and:

``text_param``  the template parameter that carries the spoken text (default ``text``)
``max_chars``   the longest spoken text (default 120: a call that reads a page is not heard)

The parameters are ``message.data["voice_params"]`` when given, else the spoken text: the
title, then the text. The message's ``address`` is the mobile number to call.
"""

from __future__ import annotations

from collections.abc import Mapping

from anwang.notifications.channels import http
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.channels.sms import gateway_send, template_for
from anwang.notifications.choices import Channel

DEFAULT_MAX_CHARS = 120


def spoken_text(message: OutgoingMessage, max_chars: int) -> str:
    """What the call says: the title, then the text, as sentences on one line, cut to
    ``max_chars``."""
    sentences = (
        part.strip().rstrip("。.!！")
        for part in (message.title, *message.body.splitlines())
        if part.strip()
    )
    return "。".join(sentence for sentence in sentences if sentence)[:max_chars]


class VoiceBackend:
    """Phone calls that read the message aloud."""

    channel = Channel.VOICE.value

    @http.guarded
    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        params = message.data.get("voice_params")
        if not isinstance(params, Mapping):
            try:
                max_chars = int(settings.settings.get("max_chars") or DEFAULT_MAX_CHARS)
            except (TypeError, ValueError):
                max_chars = DEFAULT_MAX_CHARS
            params = {http.setting(settings, "text_param", "text"): spoken_text(message, max_chars)}
        return gateway_send(
            settings,
            phone=message.address,
            template_id=template_for(settings, message.kind),
            params=params,
        )


register_backend(VoiceBackend())

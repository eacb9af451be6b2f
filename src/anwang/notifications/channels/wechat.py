"""WeChat Official Account (微信公众号) template messages, for residents who follow the
community's account.

Settings of the ``ChannelConfig(channel="wechat")``:

``app_id``          the account's AppID (required)
``template_ids``    template id per kind of message: ``{"alert": "...", "default": "..."}``
``fields``          which template keys carry the title, the text and the time (default
                    ``{"title": "thing1", "body": "thing2", "time": "time3"}``); a message's
                    ``data["wechat_data"]`` adds or overrides keys (``{"thing4": "3 栋"}``)
``token_endpoint``  ``stable`` (default: ``POST /cgi-bin/stable_token``, the secret in the
                    body, one token shared by every caller) or ``token`` (``GET
                    /cgi-bin/token``, each fetch replaces the previous token)
``api_base``        default ``https://api.weixin.qq.com`` (tests point it at a local peer)

plus ``timeout_seconds`` and ``connect_timeout_seconds`` (:mod:`.http`). The secret is the
account's AppSecret. The message's ``address`` is the resident's OpenID.

The access token is cached (Django's cache) per account until shortly before it expires, so
all sends share one; when WeChat says it is invalid or expired (40001, 40014, 42001) it is
fetched again once and the send retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from django.core.cache import cache
from django.utils import timezone

from anwang.notifications.channels import http
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel

DEFAULT_API_BASE: Final = "https://api.weixin.qq.com"
DEFAULT_FIELDS: Final = {"title": "thing1", "body": "thing2", "time": "time3"}
# Refresh the token this long before WeChat says it expires (clocks and slow sends).
TOKEN_MARGIN_SECONDS: Final = 300
DEFAULT_TOKEN_SECONDS: Final = 7200
# 40001 invalid credential, 40014 invalid access_token, 42001 access_token expired.
TOKEN_ERRORS: Final = frozenset({40001, 40014, 42001})
# -1 system busy; 45009 API calls over the daily limit (the next day succeeds).
RETRYABLE_ERRORS: Final = frozenset({-1, 45009})
# WeChat's longest value per template field type (keys are named <type><n>).
FIELD_TYPE_LIMITS: Final = {"thing": 20, "character_string": 32, "phrase": 5}


def _api_base(settings: ChannelSettings) -> str:
    return http.setting(settings, "api_base", DEFAULT_API_BASE).rstrip("/")


def _token_cache_key(settings: ChannelSettings, app_id: str) -> str:
    # The base is part of the key so a test peer's token never serves the real API.
    digest = hashlib.sha256(f"{_api_base(settings)}|{app_id}".encode()).hexdigest()[:32]
    return f"anwang:notifications:wechat-token:{digest}"


def access_token(settings: ChannelSettings, *, refresh: bool = False) -> str:
    """The account's access token, from the cache unless ``refresh``."""
    app_id = http.required_setting(settings, "app_id")
    key = _token_cache_key(settings, app_id)
    if not refresh:
        cached = cache.get(key)
        if cached:
            return str(cached)
    if not settings.secret:
        raise http.ChannelError("the AppSecret is not set", retry=False)
    if http.setting(settings, "token_endpoint", "stable") == "token":
        reply = http.request(
            "GET",
            f"{_api_base(settings)}/cgi-bin/token",
            settings,
            params={"grant_type": "client_credential", "appid": app_id, "secret": settings.secret},
        )
    else:
        reply = http.post_json(
            f"{_api_base(settings)}/cgi-bin/stable_token",
            {
                "grant_type": "client_credential",
                "appid": app_id,
                "secret": settings.secret,
                # A forced refresh is limited to a few a day and cuts off every other caller.
                "force_refresh": False,
            },
            settings,
        )
    answer = reply.json_object()
    token = answer.get("access_token")
    if not token:
        raise http.vendor_error(
            "WeChat token",
            answer.get("errcode"),
            answer.get("errmsg"),
            retryable=RETRYABLE_ERRORS,
        )
    try:
        lifetime = int(answer.get("expires_in") or DEFAULT_TOKEN_SECONDS)
    except (TypeError, ValueError):
        lifetime = DEFAULT_TOKEN_SECONDS
    cache.set(key, str(token), timeout=max(lifetime - TOKEN_MARGIN_SECONDS, 60))
    return str(token)


def _fit(key: str, value: str) -> str:
    """A value cut to its field type's limit (WeChat refuses the whole message otherwise)."""
    for prefix, limit in FIELD_TYPE_LIMITS.items():
        if key.rstrip("0123456789") == prefix and len(value) > limit:
            return value[: limit - 1] + "…"
    return value


def template_data(message: OutgoingMessage, settings: ChannelSettings) -> dict[str, dict[str, str]]:
    """The template's ``data``: title, text and time under the configured keys."""
    fields = {**DEFAULT_FIELDS, **http.mapping_setting(settings, "fields")}
    now = timezone.localtime()
    values: dict[str, str] = {
        fields["title"]: message.title,
        fields["body"]: " ".join(message.body.split()),
        fields["time"]: f"{now.year}年{now.month}月{now.day}日 {now:%H:%M}",
    }
    extra = message.data.get("wechat_data")
    if isinstance(extra, Mapping):
        values.update({str(key): str(value) for key, value in extra.items()})
    return {key: {"value": _fit(key, value)} for key, value in values.items() if key and value}


def template_id_for(message: OutgoingMessage, settings: ChannelSettings) -> str:
    """The template for the message's kind, else the default."""
    template_ids = http.mapping_setting(settings, "template_ids")
    chosen = template_ids.get(message.kind) or template_ids.get("default")
    if chosen:
        return str(chosen)
    raise http.ChannelError(f"no template configured for {message.kind!r}", retry=False)


class WeChatBackend:
    """Template messages to residents' WeChat."""

    channel = Channel.WECHAT.value

    @http.guarded
    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        if not message.address:
            raise http.ChannelError("no WeChat OpenID", retry=False)
        payload: dict[str, Any] = {
            "touser": message.address,
            "template_id": template_id_for(message, settings),
            "data": template_data(message, settings),
            # WeChat sends one message per OpenID and id within minutes: a retry after a lost
            # answer does not reach the resident twice.
            "client_msg_id": f"anwang-{message.delivery_id}",
        }
        if message.url:
            payload["url"] = message.url
        token = access_token(settings)
        answer = self._post(payload, token, settings)
        if answer.get("errcode") in TOKEN_ERRORS:
            fresh = access_token(settings, refresh=True)
            if fresh == token:
                raise http.ChannelError("WeChat refuses a freshly fetched token", retry=True)
            answer = self._post(payload, fresh, settings)
        errcode = answer.get("errcode", 0)
        if errcode != 0:
            # 43004 not following the account, 40003 bad OpenID, 40037 bad template: final.
            raise http.vendor_error(
                "WeChat", errcode, answer.get("errmsg"), retryable=RETRYABLE_ERRORS | TOKEN_ERRORS
            )
        msgid = answer.get("msgid")
        return SendOutcome(status="sent", provider_id="" if msgid is None else str(msgid))

    def _post(
        self, payload: dict[str, Any], token: str, settings: ChannelSettings
    ) -> dict[str, Any]:
        return http.post_json(
            f"{_api_base(settings)}/cgi-bin/message/template/send",
            payload,
            settings,
            params={"access_token": token},
        ).json_object()


register_backend(WeChatBackend())

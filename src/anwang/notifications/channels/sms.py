"""SMS through a configurable HTTP gateway, the way Chinese SMS providers work: a registered
signature (签名), a template id approved in advance, and the template's parameters.

Settings of the ``ChannelConfig(channel="sms")`` (the platform's, or a community's):

``url``            the gateway's send address (required); the request is ``POST`` JSON
``sign_name``      the approved signature, e.g. ``安网社区``
``templates``      template id per kind of message: ``{"alarm.escalated": "SMS_1", ...,
                   "default": "SMS_0"}``; ``code.sign_up`` and ``code.password_reset`` (or
                   ``code``) for verification codes. ``template_id`` is the default as well.
``fields``         the gateway's names for the body's fields, overriding
                   ``{"phone": "phone", "sign_name": "sign_name", "template_id":
                   "template_id", "params": "params"}``
``auth_header``    header carrying the secret (default ``Authorization``)
``auth_scheme``    put before the secret in that header (default ``Bearer``; empty for none)
``ok_field``       field of the JSON answer that says success (default ``code``; dotted paths
                   like ``result.code`` reach into objects)
``ok_value``       its value on success (default ``OK``)
``id_field``       field with the provider's message id (default ``id``)
``error_field``    field with the provider's error text (default ``message``)
``retry_values``   ``ok_field`` values meaning busy or rate limited, worth retrying (default
                   ``["BUSY", "RATE_LIMITED", "THROTTLED"]``); other values fail for good

plus ``timeout_seconds`` and ``connect_timeout_seconds`` (:mod:`.http`). The secret is the
gateway's API key. The message's ``address`` is the mobile number. The template's parameters
are ``message.data["sms_params"]`` when given, else ``{"title": ..., "url": ...}``.

:func:`send_code` sends sign-up and password-reset codes through the same gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from anwang.notifications.channels import http
from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel

DEFAULT_FIELDS: Final = {
    "phone": "phone",
    "sign_name": "sign_name",
    "template_id": "template_id",
    "params": "params",
}
DEFAULT_RETRY_VALUES: Final = ("BUSY", "RATE_LIMITED", "THROTTLED")


def _lookup(answer: Mapping[str, Any], path: str) -> Any:
    """A value of a JSON answer by a dotted path, or None."""
    value: Any = answer
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def template_for(settings: ChannelSettings, *keys: str, use_default: bool = True) -> str:
    """The first template id configured for ``keys``, then (with ``use_default``) the default;
    none fails for good."""
    templates = http.mapping_setting(settings, "templates")
    fallbacks = ("default",) if use_default else ()
    for key in (*keys, *fallbacks):
        if templates.get(key):
            return str(templates[key])
    template_id = http.setting(settings, "template_id") if use_default else ""
    if not template_id:
        raise http.ChannelError(f"no template configured for {keys[0]!r}", retry=False)
    return template_id


def gateway_send(
    settings: ChannelSettings, *, phone: str, template_id: str, params: Mapping[str, Any]
) -> SendOutcome:
    """Ask a template gateway (SMS or voice) to send ``template_id`` with ``params`` to
    ``phone``; raises :class:`~.http.ChannelError` for a failure."""
    if not phone.strip():
        raise http.ChannelError("no mobile number", retry=False)
    url = http.required_setting(settings, "url")
    names = {**DEFAULT_FIELDS, **http.mapping_setting(settings, "fields")}
    body: dict[str, Any] = {
        names["phone"]: phone.strip(),
        names["template_id"]: template_id,
        names["params"]: {str(key): str(value) for key, value in params.items()},
    }
    sign_name = http.setting(settings, "sign_name")
    if sign_name:
        body[names["sign_name"]] = sign_name
    headers: dict[str, str] = {}
    if settings.secret:
        scheme = str(settings.settings.get("auth_scheme", "Bearer") or "").strip()
        header = http.setting(settings, "auth_header", "Authorization")
        headers[header] = f"{scheme} {settings.secret}" if scheme else settings.secret
    answer = http.post_json(url, body, settings, headers=headers).json_object()
    ok_value = _lookup(answer, http.setting(settings, "ok_field", "code"))
    if str(ok_value) != http.setting(settings, "ok_value", "OK"):
        retry_values = settings.settings.get("retry_values", DEFAULT_RETRY_VALUES)
        raise http.vendor_error(
            "gateway",
            ok_value,
            _lookup(answer, http.setting(settings, "error_field", "message")),
            retryable=frozenset(str(value) for value in retry_values),
        )
    provider_id = _lookup(answer, http.setting(settings, "id_field", "id"))
    return SendOutcome(status="sent", provider_id="" if provider_id is None else str(provider_id))


class SmsBackend:
    """Text messages through the configured gateway."""

    channel = Channel.SMS.value

    @http.guarded
    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Send one message; never raise for a failure of the far end."""
        params = message.data.get("sms_params")
        if not isinstance(params, Mapping):
            params = {"title": message.title, "url": message.url}
        return gateway_send(
            settings,
            phone=message.address,
            template_id=template_for(settings, message.kind),
            params=params,
        )


def send_code(phone: str, code: str, purpose: str, settings: ChannelSettings) -> SendOutcome:
    """Send a verification code for ``purpose`` (``sign_up``, ``password_reset``) to ``phone``
    with the template ``templates["code.<purpose>"]`` (else ``templates["code"]``; never the
    default) and the parameter ``code``. Like every channel it never raises for a failure of
    the gateway: the caller reads the outcome (and asks the person to try again if it failed)."""
    return http.outcome_of(
        lambda: gateway_send(
            settings,
            phone=phone,
            # A code never goes out in an alert's template: that template would not show it.
            template_id=template_for(settings, f"code.{purpose}", "code", use_default=False),
            params={"code": code},
        )
    )


register_backend(SmsBackend())

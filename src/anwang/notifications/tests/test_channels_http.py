"""The HTTP channels against a real local peer that checks each vendor's documented
signature and body format (tests/http_peer.py). Nothing here reaches the internet."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.core.cache import cache
from tests.http_peer import (
    HttpPeer,
    Recorded,
    Reply,
    WeChatApi,
    check_anwang_signature,
    dingtalk_robot,
    feishu_robot,
    http_peer,
    template_gateway,
    wecom_robot,
)

from anwang.devices import http_auth
from anwang.notifications.channels import base, http, sms
from anwang.notifications.channels.base import ChannelSettings, OutgoingMessage, SendOutcome

__all__ = ["http_peer"]  # the fixture, imported to be used

MESSAGE = OutgoingMessage(
    delivery_id=41,
    notification_id=7,
    kind="alarm.escalated",
    title="翠苑一区 3 栋烟感报警",
    body="3 栋 2 单元 502 烟感报警，无人确认。\n请立即前往查看。",
    url="https://anwang.example/alarms/9/",
    priority=1,
    urgent=True,
    needs_confirmation=True,
    data={"alarm_id": 9},
    community_id=3,
)
SHORT_TIMEOUTS = {"timeout_seconds": 0.5, "connect_timeout_seconds": 0.5}


def send(
    channel: str, message: OutgoingMessage, settings: dict[str, Any], secret: str = ""
) -> SendOutcome:
    """Send through the registered backend, as the outbox does."""
    backend = base.backend_for(channel)
    assert backend is not None, channel
    return backend.send(message, ChannelSettings(config_id=1, settings=settings, secret=secret))


# --------------------------------------------------------------------------- shared helper


def test_each_module_registers_its_backend() -> None:
    # apps.ready imports every channel module by name; each registers itself.
    for name in ("webhook", "dingtalk", "feishu", "wecom", "sms", "voice", "wechat"):
        assert name in base.registered_channels()


def test_connection_refused_is_retryable() -> None:
    # A port that was bound and closed again: nothing listens there.
    closed = HttpPeer()
    url = closed.url("/hook")
    closed.server.server_close()
    outcome = send("webhook", MESSAGE, {"url": url, **SHORT_TIMEOUTS})
    assert (outcome.status, outcome.retry) == ("failed", True)


def test_missing_url_fails_for_good() -> None:
    outcome = send("webhook", MESSAGE, {})
    assert outcome == SendOutcome(
        status="failed", error="the channel setting 'url' is not set", retry=False
    )


def test_invalid_url_fails_for_good() -> None:
    outcome = send("dingtalk", MESSAGE, {"url": "ftp://example.invalid/robot"})
    assert (outcome.status, outcome.retry) == ("failed", False)


@pytest.mark.parametrize(
    ("status", "retry"),
    [(400, False), (401, False), (404, False), (410, False), (429, True), (500, True), (503, True)],
)
def test_http_status_decides_retry(http_peer: HttpPeer, status: int, retry: bool) -> None:
    http_peer.answer("/hook", Reply(status, {"error": "nope"}))
    outcome = send("webhook", MESSAGE, {"url": http_peer.url("/hook")})
    assert (outcome.status, outcome.retry) == ("failed", retry)
    assert f"HTTP {status}" in outcome.error


def test_redirect_is_not_followed(http_peer: HttpPeer) -> None:
    http_peer.answer("/hook", Reply(301, {}))
    outcome = send("webhook", MESSAGE, {"url": http_peer.url("/hook")})
    assert (outcome.status, outcome.retry) == ("failed", False)
    assert len(http_peer.requests) == 1


def test_timeout_is_retryable(http_peer: HttpPeer) -> None:
    http_peer.answer("/robot", Reply(200, {"errcode": 0}, delay=1.5))
    outcome = send("wecom", MESSAGE, {"url": http_peer.url("/robot"), **SHORT_TIMEOUTS})
    assert (outcome.status, outcome.retry) == ("failed", True)
    assert "timed out" in outcome.error


def test_answer_trickling_past_the_total_timeout_is_retryable(http_peer: HttpPeer) -> None:
    # Every byte comes well within the read timeout, the whole answer does not.
    http_peer.answer("/hook", Reply(200, {"id": "slow-but-steady"}, drip=0.1))
    outcome = send("webhook", MESSAGE, {"url": http_peer.url("/hook"), **SHORT_TIMEOUTS})
    assert (outcome.status, outcome.retry) == ("failed", True)
    assert "no complete answer within 0.5 s" in outcome.error


def test_answer_that_is_not_json_is_retryable(http_peer: HttpPeer) -> None:
    http_peer.answer("/robot", Reply(200, b"<html>gateway</html>"))
    outcome = send("dingtalk", MESSAGE, {"url": http_peer.url("/robot")})
    assert (outcome.status, outcome.retry) == ("failed", True)


def test_markdown_text_has_title_body_and_link() -> None:
    text = http.markdown_text(MESSAGE)
    assert text.startswith("### 翠苑一区 3 栋烟感报警\n")
    assert "请立即前往查看。" in text
    assert text.endswith("(https://anwang.example/alarms/9/)")


# --------------------------------------------------------------------------- webhook


def test_webhook_is_signed_like_device_ingestion(http_peer: HttpPeer) -> None:
    http_peer.route(
        "/hook",
        lambda r: (
            Reply(401, {}) if check_anwang_signature(r, "whsec") else Reply(202, {"id": "rcv-1"})
        ),
    )
    outcome = send("webhook", MESSAGE, {"url": http_peer.url("/hook")}, secret="whsec")
    assert outcome == SendOutcome(status="sent", provider_id="rcv-1")
    (request,) = http_peer.requests
    # Anwang's own ingestion verifier accepts it too: one scheme for both directions.
    signature = http_auth.parse_signature(request.headers["x-anwang-signature"])
    assert http_auth.signature_matches("whsec", signature, request.body)
    assert request.headers["x-anwang-delivery"] == "41"
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert body["id"] == 7
    assert body["delivery_id"] == 41
    assert body["kind"] == "alarm.escalated"
    assert body["title"] == MESSAGE.title
    assert body["body"] == MESSAGE.body
    assert body["url"] == MESSAGE.url
    assert (body["priority"], body["urgent"], body["community_id"]) == (1, True, 3)
    assert body["data"] == {"alarm_id": 9}
    assert body["sent_at"]


def test_webhook_wrong_secret_is_refused_for_good(http_peer: HttpPeer) -> None:
    http_peer.route(
        "/hook", lambda r: Reply(401, {}) if check_anwang_signature(r, "right") else Reply(200, {})
    )
    outcome = send("webhook", MESSAGE, {"url": http_peer.url("/hook")}, secret="wrong")
    assert (outcome.status, outcome.retry) == ("failed", False)


def test_webhook_without_secret_is_unsigned_and_plain_answer_is_fine(http_peer: HttpPeer) -> None:
    http_peer.answer("/hook", Reply(204, b""))
    outcome = send("webhook", MESSAGE, {"url": http_peer.url("/hook")})
    assert outcome == SendOutcome(status="sent")
    assert "x-anwang-signature" not in http_peer.requests[0].headers


# --------------------------------------------------------------------------- DingTalk


def test_dingtalk_signed_markdown(http_peer: HttpPeer) -> None:
    http_peer.route("/robot/send", dingtalk_robot("SECabc+/=", token="t0k"))
    url = http_peer.url("/robot/send?access_token=t0k")
    outcome = send("dingtalk", MESSAGE, {"url": url}, secret="SECabc+/=")
    assert outcome == SendOutcome(status="sent")
    (request,) = http_peer.requests
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == MESSAGE.title
    assert MESSAGE.body in body["markdown"]["text"]
    assert MESSAGE.url in body["markdown"]["text"]
    # The sign travels URL-encoded: Base64's '+' '/' '=' never appear raw in the query.
    raw_sign = request.raw_query.split("sign=")[1].split("&")[0]
    assert "+" not in raw_sign
    assert "/" not in raw_sign
    assert "=" not in raw_sign


def test_dingtalk_sign_matches_documented_example() -> None:
    from anwang.notifications.channels.dingtalk import dingtalk_sign

    # A third-party implementation's published value for these inputs.
    assert dingtalk_sign("secret", 1700000000000) == "OuzzJR5+xZ4/EYwqtNt6sMYZQMTa/HEGvc9miJe7XzY="


def test_dingtalk_bad_secret_fails_for_good(http_peer: HttpPeer) -> None:
    http_peer.route("/robot/send", dingtalk_robot("right"))
    outcome = send(
        "dingtalk", MESSAGE, {"url": http_peer.url("/robot/send?access_token=tok")}, secret="wrong"
    )
    assert (outcome.status, outcome.retry) == ("failed", False)
    assert "310000" in outcome.error


def test_dingtalk_too_fast_is_retryable(http_peer: HttpPeer) -> None:
    http_peer.answer("/robot/send", Reply(200, {"errcode": 130101, "errmsg": "send too fast"}))
    outcome = send("dingtalk", MESSAGE, {"url": http_peer.url("/robot/send?access_token=tok")})
    assert (outcome.status, outcome.retry) == ("failed", True)
    assert "130101" in outcome.error


def test_dingtalk_unsigned_when_no_secret(http_peer: HttpPeer) -> None:
    http_peer.route("/robot/send", dingtalk_robot(""))
    outcome = send("dingtalk", MESSAGE, {"url": http_peer.url("/robot/send?access_token=tok")})
    assert outcome.status == "sent"
    assert "sign" not in http_peer.requests[0].query


# --------------------------------------------------------------------------- Feishu


def test_feishu_signed_post(http_peer: HttpPeer) -> None:
    http_peer.route("/open-apis/bot/v2/hook/abc", feishu_robot("fs-secret"))
    outcome = send(
        "feishu", MESSAGE, {"url": http_peer.url("/open-apis/bot/v2/hook/abc")}, secret="fs-secret"
    )
    assert outcome == SendOutcome(status="sent")
    body = http_peer.requests[0].json()
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == MESSAGE.title
    texts = [element for paragraph in post["content"] for element in paragraph]
    assert {"tag": "text", "text": "请立即前往查看。"} in texts
    assert texts[-1]["tag"] == "a"
    assert texts[-1]["href"] == MESSAGE.url


def test_feishu_sign_is_hmac_of_nothing_keyed_by_timestamp_and_secret() -> None:
    from anwang.notifications.channels.feishu import feishu_sign

    key = b"1599360473\nsecret"
    assert (
        feishu_sign("secret", 1599360473)
        == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    )


def test_feishu_english_message_uses_en_us(http_peer: HttpPeer) -> None:
    http_peer.route("/hook", feishu_robot(""))
    outcome = send("feishu", replace(MESSAGE, language="en"), {"url": http_peer.url("/hook")})
    assert outcome.status == "sent"
    assert list(http_peer.requests[0].json()["content"]["post"]) == ["en_us"]


def test_feishu_bad_secret_fails_for_good(http_peer: HttpPeer) -> None:
    http_peer.route("/hook", feishu_robot("right"))
    outcome = send("feishu", MESSAGE, {"url": http_peer.url("/hook")}, secret="wrong")
    assert (outcome.status, outcome.retry) == ("failed", False)
    assert "19021" in outcome.error


def test_feishu_rate_limit_is_retryable(http_peer: HttpPeer) -> None:
    http_peer.answer(
        "/hook", Reply(200, {"code": 11232, "msg": "frequency limited psm", "data": {}})
    )
    outcome = send("feishu", MESSAGE, {"url": http_peer.url("/hook")})
    assert (outcome.status, outcome.retry) == ("failed", True)


# --------------------------------------------------------------------------- WeCom


def test_wecom_markdown_with_key_in_url(http_peer: HttpPeer) -> None:
    http_peer.route("/cgi-bin/webhook/send", wecom_robot("k-1"))
    outcome = send("wecom", MESSAGE, {"url": http_peer.url("/cgi-bin/webhook/send?key=k-1")})
    assert outcome == SendOutcome(status="sent")
    content = http_peer.requests[0].json()["markdown"]["content"]
    assert MESSAGE.title in content
    assert MESSAGE.url in content


def test_wecom_key_kept_as_secret(http_peer: HttpPeer) -> None:
    http_peer.route("/cgi-bin/webhook/send", wecom_robot("k-2"))
    outcome = send("wecom", MESSAGE, {"url": http_peer.url("/cgi-bin/webhook/send")}, secret="k-2")
    assert outcome.status == "sent"


def test_wecom_long_text_is_cut_to_the_limit(http_peer: HttpPeer) -> None:
    http_peer.route("/cgi-bin/webhook/send", wecom_robot("k"))
    long_message = replace(MESSAGE, body="烟" * 3000)
    outcome = send("wecom", long_message, {"url": http_peer.url("/cgi-bin/webhook/send?key=k")})
    assert outcome.status == "sent"


def test_wecom_bad_key_fails_for_good_and_rate_limit_retries(http_peer: HttpPeer) -> None:
    http_peer.route("/cgi-bin/webhook/send", wecom_robot("k"))
    bad = send("wecom", MESSAGE, {"url": http_peer.url("/cgi-bin/webhook/send?key=x")})
    assert (bad.status, bad.retry) == ("failed", False)
    assert "93000" in bad.error
    http_peer.answer(
        "/cgi-bin/webhook/send", Reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    )
    busy = send("wecom", MESSAGE, {"url": http_peer.url("/cgi-bin/webhook/send?key=k")})
    assert (busy.status, busy.retry) == ("failed", True)


# --------------------------------------------------------------------------- SMS and voice

SMS_SETTINGS = {
    "sign_name": "安网社区",
    "templates": {
        "alarm.escalated": "SMS_ALARM",
        "default": "SMS_DEFAULT",
        "code.sign_up": "SMS_SIGNUP",
    },
}
PERSON = replace(MESSAGE, address="13800138000", recipient_id=5)


def test_sms_template_and_params(http_peer: HttpPeer) -> None:
    http_peer.route("/sms", template_gateway("api-key"))
    message = replace(PERSON, data={"sms_params": {"building": "3 栋", "room": 502}})
    outcome = send("sms", message, {"url": http_peer.url("/sms"), **SMS_SETTINGS}, secret="api-key")
    assert outcome == SendOutcome(status="sent", provider_id="msg-1")
    body = http_peer.requests[0].json()
    assert body == {
        "phone": "13800138000",
        "template_id": "SMS_ALARM",
        "params": {"building": "3 栋", "room": "502"},
        "sign_name": "安网社区",
    }


def test_sms_default_template_and_params(http_peer: HttpPeer) -> None:
    http_peer.route("/sms", template_gateway("api-key"))
    message = replace(PERSON, kind="hazard.assigned")
    outcome = send("sms", message, {"url": http_peer.url("/sms"), **SMS_SETTINGS}, secret="api-key")
    assert outcome.status == "sent"
    body = http_peer.requests[0].json()
    assert body["template_id"] == "SMS_DEFAULT"
    assert body["params"] == {"title": MESSAGE.title, "url": MESSAGE.url}


def test_sms_gateway_shape_is_configurable(http_peer: HttpPeer) -> None:
    def aliyun_like(request: Recorded) -> Reply:
        body = request.json()
        assert request.headers["x-api-key"] == "k"
        assert set(body) == {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"}
        return Reply(200, {"Result": {"Code": "OK", "BizId": "biz-9"}})

    http_peer.route("/send", aliyun_like)
    settings = {
        "url": http_peer.url("/send"),
        **SMS_SETTINGS,
        "fields": {
            "phone": "PhoneNumbers",
            "sign_name": "SignName",
            "template_id": "TemplateCode",
            "params": "TemplateParam",
        },
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "ok_field": "Result.Code",
        "id_field": "Result.BizId",
    }
    assert send("sms", PERSON, settings, secret="k") == SendOutcome(
        status="sent", provider_id="biz-9"
    )


def test_sms_refusals(http_peer: HttpPeer) -> None:
    http_peer.route("/sms", template_gateway("api-key"))
    settings = {"url": http_peer.url("/sms"), **SMS_SETTINGS}
    bad_key = send("sms", PERSON, settings, secret="wrong")
    assert (bad_key.status, bad_key.retry) == ("failed", False)
    bad_number = send("sms", replace(PERSON, address="12345"), settings, secret="api-key")
    assert (bad_number.status, bad_number.retry) == ("failed", False)
    assert "INVALID_MOBILE" in bad_number.error
    no_number = send("sms", replace(PERSON, address=""), settings, secret="api-key")
    assert (no_number.status, no_number.retry, no_number.error) == (
        "failed",
        False,
        "no mobile number",
    )
    assert len(http_peer.requests) == 2  # nothing sent without a number


def test_sms_busy_is_retryable_and_timeout_too(http_peer: HttpPeer) -> None:
    http_peer.answer("/sms", Reply(200, {"code": "RATE_LIMITED", "message": "slow down"}))
    settings = {"url": http_peer.url("/sms"), **SMS_SETTINGS, **SHORT_TIMEOUTS}
    busy = send("sms", PERSON, settings, secret="k")
    assert (busy.status, busy.retry) == ("failed", True)
    assert "slow down" in busy.error
    http_peer.answer("/sms", Reply(200, {"code": "OK", "id": "late"}, delay=1.5))
    late = send("sms", PERSON, settings, secret="k")
    assert (late.status, late.retry) == ("failed", True)


def test_sms_without_template_fails_for_good() -> None:
    outcome = send("sms", PERSON, {"url": "http://127.0.0.1:9/"}, secret="k")
    assert (outcome.status, outcome.retry) == ("failed", False)
    assert "template" in outcome.error


def test_send_code_uses_the_code_template(http_peer: HttpPeer) -> None:
    http_peer.route("/sms", template_gateway("api-key"))
    config = ChannelSettings(
        config_id=None, settings={"url": http_peer.url("/sms"), **SMS_SETTINGS}, secret="api-key"
    )
    outcome = sms.send_code("13800138000", "493021", "sign_up", config)
    assert outcome.status == "sent"
    body = http_peer.requests[0].json()
    assert (body["template_id"], body["params"]) == ("SMS_SIGNUP", {"code": "493021"})
    # No code template for password resets: refused rather than sent in an alert's template.
    refused = sms.send_code("13800138000", "493021", "password_reset", config)
    assert (refused.status, refused.retry) == ("failed", False)
    assert len(http_peer.requests) == 1


def test_voice_call_reads_title_and_text(http_peer: HttpPeer) -> None:
    http_peer.route("/call", template_gateway("v-key"))
    settings = {"url": http_peer.url("/call"), "templates": {"default": "TTS_1"}, "max_chars": 40}
    outcome = send("voice", PERSON, settings, secret="v-key")
    assert outcome == SendOutcome(status="sent", provider_id="msg-1")
    body = http_peer.requests[0].json()
    assert body["template_id"] == "TTS_1"
    assert "sign_name" not in body
    text = body["params"]["text"]
    assert text.startswith("翠苑一区 3 栋烟感报警。3 栋 2 单元 502")
    assert "确认。请立即" in text  # one full stop between sentences, not two
    assert len(text) == 40


def test_voice_gateway_failure_is_reported(http_peer: HttpPeer) -> None:
    http_peer.answer("/call", Reply(503, b"busy"))
    settings = {"url": http_peer.url("/call"), "templates": {"default": "TTS_1"}}
    outcome = send("voice", PERSON, settings, secret="v-key")
    assert (outcome.status, outcome.retry) == ("failed", True)


# --------------------------------------------------------------------------- WeChat

RESIDENT = replace(MESSAGE, kind="alert", address="oRESIDENT_OPENID", recipient_id=8)


@pytest.fixture
def wechat(http_peer: HttpPeer) -> Iterator[tuple[WeChatApi, dict[str, Any]]]:
    cache.clear()
    api = WeChatApi(
        http_peer,
        app_id="wx123",
        secret="app-secret",
        templates={"TPL_ALERT", "TPL_DEFAULT"},
        followers={"oRESIDENT_OPENID"},
    )
    settings = {
        "app_id": "wx123",
        "template_ids": {"alert": "TPL_ALERT", "default": "TPL_DEFAULT"},
        "api_base": http_peer.url(""),
    }
    yield api, settings
    cache.clear()


def test_wechat_template_message(wechat: tuple[WeChatApi, dict[str, Any]]) -> None:
    api, settings = wechat
    outcome = send("wechat", RESIDENT, settings, secret="app-secret")
    assert outcome == SendOutcome(status="sent", provider_id="200228333")
    (sent,) = api.messages
    assert sent["touser"] == "oRESIDENT_OPENID"
    assert sent["template_id"] == "TPL_ALERT"
    assert sent["url"] == MESSAGE.url
    assert sent["client_msg_id"] == "anwang-41"
    assert sent["data"]["thing1"]["value"] == "翠苑一区 3 栋烟感报警"
    assert len(sent["data"]["thing2"]["value"]) == 20  # cut to the thing limit
    assert "年" in sent["data"]["time3"]["value"]


def test_wechat_token_is_fetched_once_for_two_sends(
    wechat: tuple[WeChatApi, dict[str, Any]], http_peer: HttpPeer
) -> None:
    api, settings = wechat
    assert send("wechat", RESIDENT, settings, secret="app-secret").status == "sent"
    assert (
        send("wechat", replace(RESIDENT, kind="other"), settings, secret="app-secret").status
        == "sent"
    )
    assert len(http_peer.to("/cgi-bin/stable_token")) == 1
    assert [m["template_id"] for m in api.messages] == ["TPL_ALERT", "TPL_DEFAULT"]
    token_request = http_peer.to("/cgi-bin/stable_token")[0]
    assert token_request.json() == {
        "grant_type": "client_credential",
        "appid": "wx123",
        "secret": "app-secret",
        "force_refresh": False,
    }


@pytest.mark.parametrize("endpoint", ["token", "stable"])
def test_wechat_token_refreshed_once_after_40001(
    wechat: tuple[WeChatApi, dict[str, Any]], http_peer: HttpPeer, endpoint: str
) -> None:
    api, settings = wechat
    settings = {**settings, "token_endpoint": endpoint}
    path = "/cgi-bin/token" if endpoint == "token" else "/cgi-bin/stable_token"
    assert send("wechat", RESIDENT, settings, secret="app-secret").status == "sent"
    api.revoke_tokens()
    outcome = send("wechat", RESIDENT, settings, secret="app-secret")
    assert outcome.status == "sent"
    assert len(http_peer.to(path)) == 2
    sends = http_peer.to("/cgi-bin/message/template/send")
    assert [r.param("access_token") for r in sends] == [
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_2",
    ]
    assert len(api.messages) == 2
    assert sends[1].body == sends[2].body  # the same message, retried once
    if endpoint == "token":
        assert http_peer.to(path)[0].query == {
            "grant_type": ["client_credential"],
            "appid": ["wx123"],
            "secret": ["app-secret"],
        }


def test_wechat_expired_token_42001_is_refreshed(
    wechat: tuple[WeChatApi, dict[str, Any]], http_peer: HttpPeer
) -> None:
    api, settings = wechat
    settings = {**settings, "token_endpoint": "token"}
    assert send("wechat", RESIDENT, settings, secret="app-secret").status == "sent"
    api.expire_tokens()
    assert send("wechat", RESIDENT, settings, secret="app-secret").status == "sent"
    sends = http_peer.to("/cgi-bin/message/template/send")
    assert [r.param("access_token") for r in sends] == [
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_2",
    ]


def test_wechat_unsubscribed_resident_fails_for_good(
    wechat: tuple[WeChatApi, dict[str, Any]],
) -> None:
    _api, settings = wechat
    outcome = send(
        "wechat", replace(RESIDENT, address="oSOMEONE_ELSE"), settings, secret="app-secret"
    )
    assert (outcome.status, outcome.retry) == ("failed", False)
    assert "43004" in outcome.error


def test_wechat_bad_secret_and_missing_settings_fail_for_good(
    wechat: tuple[WeChatApi, dict[str, Any]],
) -> None:
    _api, settings = wechat
    bad_secret = send("wechat", RESIDENT, settings, secret="wrong")
    assert (bad_secret.status, bad_secret.retry) == ("failed", False)
    assert "40125" in bad_secret.error
    no_openid = send("wechat", replace(RESIDENT, address=""), settings, secret="app-secret")
    assert (no_openid.status, no_openid.retry) == ("failed", False)
    no_template = send("wechat", RESIDENT, {**settings, "template_ids": {}}, secret="app-secret")
    assert (no_template.status, no_template.retry) == ("failed", False)


def test_wechat_busy_is_retryable(
    wechat: tuple[WeChatApi, dict[str, Any]], http_peer: HttpPeer
) -> None:
    _api, settings = wechat
    http_peer.answer(
        "/cgi-bin/message/template/send", Reply(200, {"errcode": -1, "errmsg": "system error"})
    )
    outcome = send("wechat", RESIDENT, settings, secret="app-secret")
    assert (outcome.status, outcome.retry) == ("failed", True)


def test_wechat_extra_template_values_and_custom_fields(
    wechat: tuple[WeChatApi, dict[str, Any]],
) -> None:
    api, settings = wechat
    settings = {**settings, "fields": {"title": "thing5", "body": "thing6", "time": "time7"}}
    message = replace(RESIDENT, body="短", data={"wechat_data": {"thing4": "3 栋"}})
    assert send("wechat", message, settings, secret="app-secret").status == "sent"
    assert set(api.messages[0]["data"]) == {"thing4", "thing5", "thing6", "time7"}


@pytest.mark.parametrize(("endpoint", "sends"), [("token", 2), ("stable", 1)])
def test_wechat_fresh_token_refused_again_is_retryable(
    wechat: tuple[WeChatApi, dict[str, Any]], http_peer: HttpPeer, endpoint: str, sends: int
) -> None:
    _api, settings = wechat
    http_peer.answer(
        "/cgi-bin/message/template/send",
        Reply(200, {"errcode": 40001, "errmsg": "invalid credential"}),
    )
    outcome = send(
        "wechat", RESIDENT, {**settings, "token_endpoint": endpoint}, secret="app-secret"
    )
    assert (outcome.status, outcome.retry) == ("failed", True)
    # One refresh and at most one retry, never a loop; the stable endpoint hands back the
    # same token, so sending again with it would be pointless.
    assert len(http_peer.to("/cgi-bin/message/template/send")) == sends


@pytest.mark.parametrize(
    ("channel", "channel_settings"),
    [
        ("sms", {"url": "http://127.0.0.1:9/", "templates": ["SMS_1"]}),
        ("sms", {"url": "http://127.0.0.1:9/", "template_id": "SMS_1", "fields": "phone"}),
        ("voice", {"url": "http://127.0.0.1:9/", "templates": "TTS_1"}),
        ("wechat", {"app_id": "wx1", "template_ids": ["TPL"]}),
    ],
)
def test_malformed_settings_fail_for_good_without_sending(
    channel: str, channel_settings: dict[str, Any]
) -> None:
    message = RESIDENT if channel == "wechat" else PERSON
    outcome = send(channel, message, channel_settings, secret="s")
    assert (outcome.status, outcome.retry) == ("failed", False)
    assert "is not a mapping" in outcome.error

"""A real local HTTP server for channel tests: it records every request and answers as the
test says, and plays the vendors' endpoints (SMS and voice gateways, WeCom, DingTalk and
Feishu robots, the WeChat Official Account API, a webhook receiver), checking signatures and
bodies the way each vendor documents them. The checks are written from the vendors' documents,
not by calling the code under test.

Use the ``http_peer`` fixture (``from tests.http_peer import http_peer``), route paths to
handlers with :meth:`HttpPeer.route`, and point a channel's settings at ``peer.url(path)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass(frozen=True)
class Recorded:
    """One request the peer received."""

    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def param(self, name: str) -> str:
        values = self.query.get(name, [])
        return values[0] if values else ""


@dataclass
class Reply:
    """What the peer answers: a status, a JSON value (or raw bytes), after a delay."""

    status: int = 200
    body: Any = field(default_factory=dict)
    delay: float = 0.0
    # Seconds between single bytes of the body: a peer that answers, but too slowly.
    drip: float = 0.0


Handler = Callable[[Recorded], Reply]


class HttpPeer:
    """A threaded HTTP server on 127.0.0.1 with a random port."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.handlers: dict[str, Handler] = {}
        peer = self

        class RequestHandler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest shows failures, not access logs."""

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    raw_query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                peer.requests.append(recorded)
                handler = peer.handlers.get(parts.path)
                reply = handler(recorded) if handler else Reply(404, {"error": "no such path"})
                if reply.delay:
                    time.sleep(reply.delay)
                payload = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else json.dumps(reply.body, ensure_ascii=False).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if reply.drip:
                        for index in range(len(payload)):
                            self.wfile.write(payload[index : index + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        self.handlers[path] = handler

    def answer(self, path: str, reply: Reply) -> None:
        """Answer every request to ``path`` with the same reply."""
        self.handlers[path] = lambda _request: reply

    def to(self, path: str) -> list[Recorded]:
        """The requests received on ``path``."""
        return [r for r in self.requests if r.path == path]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_peer() -> Iterator[HttpPeer]:
    """A running local HTTP peer, stopped after the test."""
    peer = HttpPeer()
    peer.start()
    yield peer
    peer.stop()


# --------------------------------------------------------------------------- vendor checks
# Each returns an error text, or "" when the request is as the vendor documents.


def check_anwang_signature(request: Recorded, secret: str, *, now: float | None = None) -> str:
    """``X-Anwang-Signature: t=<s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``, fresh."""
    header = request.headers.get("x-anwang-signature", "")
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields:
        return "no signature"
    expected = hmac.new(
        secret.encode(), fields["t"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, fields["v1"]):
        return "signature mismatch"
    if abs((now or time.time()) - int(fields["t"])) > 300:
        return "stale timestamp"
    return ""


def check_dingtalk_sign(request: Recorded, secret: str) -> str:
    """``timestamp`` in ms within an hour, ``sign`` = urlencode(Base64(HMAC-SHA256(secret,
    "<timestamp>\\n<secret>")))."""
    timestamp = request.param("timestamp")
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
        return "bad timestamp"
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    if request.param("sign") != base64.b64encode(mac).decode():
        return "sign mismatch"
    return ""


def check_feishu_sign(body: dict[str, Any], secret: str) -> str:
    """``timestamp`` in s (a string) within an hour, ``sign`` = Base64(HMAC-SHA256 keyed by
    "<timestamp>\\n<secret>" over nothing)."""
    timestamp = body.get("timestamp")
    if not isinstance(timestamp, str) or not timestamp.isdigit():
        return "bad timestamp"
    if abs(time.time() - int(timestamp)) > 3600:
        return "stale timestamp"
    key = f"{timestamp}\n{secret}".encode()
    if body.get("sign") != base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode():
        return "sign mismatch"
    return ""


def dingtalk_robot(secret: str, *, token: str = "tok") -> Handler:  # noqa: S107 - a test token
    """DingTalk's robot endpoint: access_token, sign, and a markdown body."""

    def handle(request: Recorded) -> Reply:
        if request.param("access_token") != token:
            return Reply(200, {"errcode": 300001, "errmsg": "token is not exist"})
        if secret and (problem := check_dingtalk_sign(request, secret)):
            return Reply(200, {"errcode": 310000, "errmsg": problem})
        body = request.json()
        markdown = body.get("markdown", {})
        if (
            body.get("msgtype") != "markdown"
            or not markdown.get("title")
            or not markdown.get("text")
        ):
            return Reply(200, {"errcode": 40035, "errmsg": "missing parameter"})
        return Reply(200, {"errcode": 0, "errmsg": "ok"})

    return handle


def feishu_robot(secret: str) -> Handler:
    """Feishu's robot endpoint: the sign in the body, a ``post`` message."""

    def handle(request: Recorded) -> Reply:
        body = request.json()
        if secret and (problem := check_feishu_sign(body, secret)):
            return Reply(200, {"code": 19021, "msg": problem, "data": {}})
        post = body.get("content", {}).get("post", {})
        if body.get("msg_type") != "post" or not post:
            return Reply(200, {"code": 9499, "msg": "Bad Request", "data": {}})
        for locale in post.values():
            if not isinstance(locale.get("title"), str) or not isinstance(
                locale.get("content"), list
            ):
                return Reply(200, {"code": 9499, "msg": "Bad Request", "data": {}})
        return Reply(200, {"code": 0, "msg": "success", "data": {}})

    return handle


def wecom_robot(key: str) -> Handler:
    """WeCom's robot endpoint: the key in the query, a markdown body of at most 4096 bytes."""

    def handle(request: Recorded) -> Reply:
        if request.param("key") != key:
            return Reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        body = request.json()
        content = body.get("markdown", {}).get("content", "")
        if body.get("msgtype") != "markdown" or not content or len(content.encode()) > 4096:
            return Reply(200, {"errcode": 40058, "errmsg": "markdown.content exceed max length"})
        return Reply(200, {"errcode": 0, "errmsg": "ok"})

    return handle


def template_gateway(
    api_key: str, *, auth_header: str = "authorization", scheme: str = "Bearer"
) -> Handler:
    """A generic SMS / voice template gateway: the key in a header, then a JSON body with the
    number, the template id and string parameters; answers ``{"code": "OK", "id": ...}``."""
    counter = iter(range(1, 1_000_000))

    def handle(request: Recorded) -> Reply:
        expected = f"{scheme} {api_key}" if scheme else api_key
        if request.headers.get(auth_header.lower()) != expected:
            return Reply(401, {"code": "UNAUTHORIZED", "message": "bad key"})
        body = request.json()
        phone = body.get("phone", "")
        if not (isinstance(phone, str) and phone.lstrip("+").isdigit() and len(phone) >= 11):
            return Reply(200, {"code": "INVALID_MOBILE", "message": "bad number"})
        params = body.get("params")
        if not body.get("template_id") or not isinstance(params, dict):
            return Reply(200, {"code": "INVALID_PARAMETERS", "message": "missing template"})
        if not all(isinstance(value, str) for value in params.values()):
            return Reply(200, {"code": "INVALID_PARAMETERS", "message": "parameters are strings"})
        return Reply(200, {"code": "OK", "message": "ok", "id": f"msg-{next(counter)}"})

    return handle


class WeChatApi:
    """The Official Account API: access tokens (``/cgi-bin/token`` and
    ``/cgi-bin/stable_token``) and template messages (``/cgi-bin/message/template/send``)."""

    def __init__(
        self, peer: HttpPeer, *, app_id: str, secret: str, templates: set[str], followers: set[str]
    ) -> None:
        self.app_id = app_id
        self.secret = secret
        self.templates = templates
        self.followers = followers
        self.issued: list[str] = []
        self.tokens_issued = 0
        self.valid: set[str] = set()
        self.messages: list[dict[str, Any]] = []
        peer.route("/cgi-bin/token", self._token)
        peer.route("/cgi-bin/stable_token", self._stable_token)
        peer.route("/cgi-bin/message/template/send", self._send)

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (as after a refresh elsewhere)."""
        self.valid.clear()

    def revoke_tokens(self) -> None:
        """Every token issued so far becomes unknown (40001, as after the secret changed)."""
        self.valid.clear()
        self.issued.clear()

    def _issue(self, appid: str, secret: str, *, reuse: bool) -> Reply:
        if appid != self.app_id:
            return Reply(200, {"errcode": 40013, "errmsg": "invalid appid"})
        if secret != self.secret:
            return Reply(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
        if reuse and self.valid:
            token = next(iter(self.valid))
        else:
            self.tokens_issued += 1
            token = f"ACCESS_TOKEN_{self.tokens_issued}"
            self.valid = {token}  # a new classic token replaces the old
            self.issued.append(token)
        return Reply(200, {"access_token": token, "expires_in": 7200})

    def _token(self, request: Recorded) -> Reply:
        if request.method != "GET" or request.param("grant_type") != "client_credential":
            return Reply(200, {"errcode": 40002, "errmsg": "invalid grant_type"})
        return self._issue(request.param("appid"), request.param("secret"), reuse=False)

    def _stable_token(self, request: Recorded) -> Reply:
        body = request.json()
        if request.method != "POST" or body.get("grant_type") != "client_credential":
            return Reply(200, {"errcode": 40002, "errmsg": "invalid grant_type"})
        return self._issue(
            body.get("appid", ""), body.get("secret", ""), reuse=not body.get("force_refresh")
        )

    def _send(self, request: Recorded) -> Reply:
        token = request.param("access_token")
        if token not in self.issued:
            return Reply(200, {"errcode": 40001, "errmsg": "invalid credential"})
        if token not in self.valid:
            return Reply(200, {"errcode": 42001, "errmsg": "access_token expired"})
        body = request.json()
        if body.get("template_id") not in self.templates:
            return Reply(200, {"errcode": 40037, "errmsg": "invalid template_id"})
        if body.get("touser") not in self.followers:
            return Reply(200, {"errcode": 43004, "errmsg": "require subscribe"})
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return Reply(200, {"errcode": 47001, "errmsg": "data format error"})
        for key, item in data.items():
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                return Reply(200, {"errcode": 47001, "errmsg": f"data.{key} format error"})
            if key.startswith("thing") and len(item["value"]) > 20:
                return Reply(
                    200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"}
                )
        self.messages.append(body)
        return Reply(200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(self.messages)})

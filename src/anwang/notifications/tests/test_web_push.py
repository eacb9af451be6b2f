"""The Web Push channel against a local push endpoint that checks VAPID and decrypts the
payload as a browser would, and the subscribe / unsubscribe pages."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece  # type: ignore[import-untyped]
import pytest
from conftest import make_user
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from tests.browser_support import page_as, visit

from anwang.accounts.models import User
from anwang.audit.models import AuditEvent
from anwang.notifications.channels.base import ChannelSettings, OutgoingMessage, backend_for
from anwang.notifications.channels.web_push import (
    WebPushBackend,
    push_subscription_save,
    vapid_keys,
    vapid_public_key,
)
from anwang.notifications.models import ChannelConfig, PushSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    """What a browser makes when it subscribes: a P-256 key pair and a 16-byte auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushEndpoint:
    """A push service on this machine: records every POST and answers ``status`` (per path)."""

    origin: str
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"{self.origin}/push/{name}"


@pytest.fixture
def push_endpoint() -> Iterator[PushEndpoint]:
    endpoint = PushEndpoint(origin="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            endpoint.received.append(
                Received(
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
            )
            status = endpoint.statuses.get(self.path, 201)
            self.send_response(status)
            if status == 201:
                self.send_header("Location", f"{endpoint.origin}/messages/{len(endpoint.received)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def verify_vapid(authorization: str, *, audience: str) -> dict[str, Any]:
    """Check ``vapid t=<JWT>,k=<public key>`` as a push service does; returns the claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    token, public_key = values["t"], values["k"]
    assert public_key == vapid_public_key()
    header_b64, claims_b64, signature_b64 = token.split(".")
    assert json.loads(b64url_decode(header_b64)) == {"typ": "JWT", "alg": "ES256"}
    signature = b64url_decode(signature_b64)
    assert len(signature) == 64
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(public_key))
    key.verify(
        encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        ),
        f"{header_b64}.{claims_b64}".encode("ascii"),
        ec.ECDSA(hashes.SHA256()),
    )
    claims: dict[str, Any] = json.loads(b64url_decode(claims_b64))
    assert claims["aud"] == audience
    assert claims["exp"] > time.time()
    assert claims["exp"] <= time.time() + 24 * 60 * 60
    return claims


def decrypt(received: Received, browser: BrowserKeys) -> dict[str, Any]:
    assert received.headers["content-encoding"] == "aes128gcm"
    plain = http_ece.decrypt(
        received.body,
        private_key=browser.private_key,
        auth_secret=browser.auth_secret,
        version="aes128gcm",
    )
    payload: dict[str, Any] = json.loads(plain.decode("utf-8"))
    return payload


def subscribe(user: User, endpoint: str, browser: BrowserKeys) -> PushSubscription:
    return PushSubscription.objects.create(
        user=user,
        endpoint=endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )


def message_to(user: User, **overrides: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "delivery_id": 5,
        "notification_id": 77,
        "kind": "alarm.escalated",
        "title": "翠苑社区 3号楼 烟感报警",
        "body": "3号楼2单元 烟感探测器报警，请立即前往查看。",
        "url": "https://anwang.example/alarms/15/",
        "priority": 1,
        "urgent": True,
        "needs_confirmation": True,
        "data": {},
        "community_id": None,
        "address": str(user.pk),
        "recipient_id": user.pk,
        "recipient_name": user.display_name,
    }
    values.update(overrides)
    return OutgoingMessage(**values)


def platform_settings() -> ChannelSettings:
    keys = vapid_keys()
    assert keys is not None
    config = ChannelConfig.objects.get(channel="web_push", community=None)
    return ChannelSettings(config_id=config.pk, settings=config.settings, secret=config.secret)


# --- VAPID keys ---------------------------------------------------------------------------


def test_vapid_keys_are_made_once_and_kept() -> None:
    assert vapid_keys(create=False) is None

    first = vapid_keys()
    second = vapid_keys()

    assert first is not None
    assert first == second
    assert ChannelConfig.objects.filter(channel="web_push", community=None).count() == 1
    point = b64url_decode(first.public_key)
    assert len(point) == 65
    assert point[0] == 4
    assert first.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert first.subject.startswith(("mailto:", "https://"))
    config = ChannelConfig.objects.get(channel="web_push", community=None)
    assert config.settings["public_key"] == first.public_key
    assert AuditEvent.objects.filter(action="channel_config.create").count() == 1


def test_the_backend_is_registered() -> None:
    assert isinstance(backend_for("web_push"), WebPushBackend)


# --- sending ------------------------------------------------------------------------------


def test_a_push_is_signed_and_decrypts_to_the_chinese_message(push_endpoint: PushEndpoint) -> None:
    user = make_user("wang_fang", display_name="王芳")
    browser = BrowserKeys()
    subscription = subscribe(user, push_endpoint.url("phone"), browser)

    outcome = WebPushBackend().send(message_to(user), platform_settings())

    assert outcome.status == "sent", outcome.error
    assert outcome.provider_id == f"{push_endpoint.origin}/messages/1"
    [received] = push_endpoint.received
    assert received.path == "/push/phone"
    claims = verify_vapid(received.headers["authorization"], audience=push_endpoint.origin)
    assert claims["sub"] == vapid_keys().subject  # type: ignore[union-attr]
    assert received.headers["urgency"] == "high"
    assert int(received.headers["ttl"]) > 0
    payload = decrypt(received, browser)
    assert payload == {
        "title": "翠苑社区 3号楼 烟感报警",
        "body": "3号楼2单元 烟感探测器报警，请立即前往查看。",
        "url": "https://anwang.example/alarms/15/",
        "id": 77,
        "urgent": True,
    }
    subscription.refresh_from_db()
    assert subscription.last_success_at is not None


def test_every_browser_of_the_person_gets_it(push_endpoint: PushEndpoint) -> None:
    user = make_user("li_lei")
    phone, laptop = BrowserKeys(), BrowserKeys()
    subscribe(user, push_endpoint.url("phone"), phone)
    subscribe(user, push_endpoint.url("laptop"), laptop)
    subscribe(make_user("someone_else"), push_endpoint.url("other"), BrowserKeys())

    outcome = WebPushBackend().send(message_to(user, urgent=False), ChannelSettings(None))

    assert outcome.status == "sent"
    by_path = {received.path: received for received in push_endpoint.received}
    assert set(by_path) == {"/push/phone", "/push/laptop"}
    assert by_path["/push/phone"].headers["urgency"] == "normal"
    assert decrypt(by_path["/push/phone"], phone)["title"] == "翠苑社区 3号楼 烟感报警"
    assert decrypt(by_path["/push/laptop"], laptop)["urgent"] is False


def test_a_gone_subscription_is_deleted(push_endpoint: PushEndpoint) -> None:
    user = make_user("zhao_min")
    gone = subscribe(user, push_endpoint.url("old"), BrowserKeys())
    kept = subscribe(user, push_endpoint.url("new"), BrowserKeys())
    push_endpoint.statuses["/push/old"] = 410

    outcome = WebPushBackend().send(message_to(user), platform_settings())

    assert outcome.status == "sent"
    assert not PushSubscription.objects.filter(pk=gone.pk).exists()
    assert PushSubscription.objects.filter(pk=kept.pk).exists()
    assert AuditEvent.objects.filter(
        action="push_subscription.delete", object_id=str(gone.pk)
    ).exists()


def test_when_the_last_subscription_is_gone_retrying_is_no_use(
    push_endpoint: PushEndpoint,
) -> None:
    user = make_user("sun_li")
    subscribe(user, push_endpoint.url("old"), BrowserKeys())
    push_endpoint.statuses["/push/old"] = 404

    outcome = WebPushBackend().send(message_to(user), platform_settings())

    assert outcome.status == "failed"
    assert outcome.retry is False
    assert not PushSubscription.objects.filter(user=user).exists()


def test_a_server_error_is_retried(push_endpoint: PushEndpoint) -> None:
    user = make_user("qian_hao")
    subscribe(user, push_endpoint.url("phone"), BrowserKeys())
    push_endpoint.statuses["/push/phone"] = 503

    outcome = WebPushBackend().send(message_to(user), platform_settings())

    assert outcome.status == "failed"
    assert outcome.retry is True
    assert "503" in outcome.error
    assert PushSubscription.objects.filter(user=user).count() == 1


def test_an_unreachable_push_service_is_retried(push_endpoint: PushEndpoint) -> None:
    user = make_user("zhou_yu")
    subscribe(user, "http://127.0.0.1:9/push/nowhere", BrowserKeys())

    outcome = WebPushBackend().send(message_to(user), platform_settings())

    assert outcome.status == "failed"
    assert outcome.retry is True


def test_no_subscription_fails_without_retry() -> None:
    user = make_user("wu_gang")

    outcome = WebPushBackend().send(message_to(user), platform_settings())

    assert outcome.status == "failed"
    assert outcome.retry is False


# --- the pages ----------------------------------------------------------------------------


@pytest.fixture
def local_http(settings: Any) -> None:
    settings.ANWANG_PUSH_ALLOW_LOCAL_HTTP = True


CSRF_SECRET = "a" * 32


def csrf_client(user: User | None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def post_json(client: Client, name: str, body: Any, *, csrf: bool = True) -> Any:
    headers = {"X-CSRFToken": CSRF_SECRET} if csrf else {}
    return client.post(
        reverse(name),
        data=json.dumps(body),
        content_type="application/json",
        headers={"User-Agent": "Mozilla/5.0 test", **headers},
    )


def subscription_json(endpoint: str, browser: BrowserKeys) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}}


def test_the_public_key_is_served_to_signed_in_people() -> None:
    assert Client().get(reverse("push:public_key")).status_code == 401
    client = Client()
    client.force_login(make_user("ma_li"))

    response = client.get(reverse("push:public_key"))

    assert response.status_code == 200
    assert response.json() == {"public_key": vapid_public_key()}


def test_subscribe_stores_the_browser_and_unsubscribe_forgets_it() -> None:
    user = make_user("he_ping")
    client = csrf_client(user)
    browser = BrowserKeys()
    endpoint = "https://fcm.googleapis.com/fcm/send/abc:def"

    response = post_json(client, "push:subscribe", subscription_json(endpoint, browser))

    assert response.status_code == 201, response.content
    subscription = PushSubscription.objects.get(endpoint=endpoint)
    assert subscription.user == user
    assert subscription.p256dh == browser.p256dh
    assert subscription.auth == browser.auth
    assert subscription.user_agent == "Mozilla/5.0 test"
    assert AuditEvent.objects.filter(action="push_subscription.create").count() == 1

    # Subscribing again (push.js does on every visit) updates the same row.
    assert (
        post_json(client, "push:subscribe", subscription_json(endpoint, browser)).status_code == 201
    )
    assert PushSubscription.objects.filter(endpoint=endpoint).count() == 1

    response = post_json(client, "push:unsubscribe", {"endpoint": endpoint})

    assert response.status_code == 200
    assert response.json() == {"subscribed": False, "removed": True}
    assert not PushSubscription.objects.filter(endpoint=endpoint).exists()


def test_a_browser_used_by_another_person_moves_to_them() -> None:
    first, second = make_user("first_user"), make_user("second_user")
    browser = BrowserKeys()
    endpoint = "https://updates.push.services.mozilla.com/wpush/v2/xyz"
    post_json(csrf_client(first), "push:subscribe", subscription_json(endpoint, browser))

    post_json(csrf_client(second), "push:subscribe", subscription_json(endpoint, browser))

    assert PushSubscription.objects.get(endpoint=endpoint).user == second


def test_one_cannot_unsubscribe_someone_elses_browser() -> None:
    owner = make_user("owner_user")
    endpoint = "https://push.example.com/owner"
    push_subscription_save(
        user=owner, endpoint=endpoint, p256dh=BrowserKeys().p256dh, auth=BrowserKeys().auth
    )

    response = post_json(
        csrf_client(make_user("intruder")), "push:unsubscribe", {"endpoint": endpoint}
    )

    assert response.json()["removed"] is False
    assert PushSubscription.objects.filter(endpoint=endpoint, user=owner).exists()


def test_the_pages_need_a_session_and_a_csrf_token() -> None:
    body = subscription_json("https://push.example.com/x", BrowserKeys())

    assert post_json(csrf_client(None), "push:subscribe", body).status_code == 401
    assert post_json(csrf_client(None), "push:unsubscribe", {"endpoint": "x"}).status_code == 401
    signed_in = csrf_client(make_user("no_token"))
    assert post_json(signed_in, "push:subscribe", body, csrf=False).status_code == 403
    assert (
        post_json(signed_in, "push:unsubscribe", {"endpoint": "x"}, csrf=False).status_code == 403
    )
    assert signed_in.get(reverse("push:subscribe")).status_code == 405
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example.com/x"}, "endpoint"),
        ({"endpoint": "http://127.0.0.1:8080/x"}, "endpoint"),
        ({"endpoint": "ftp://push.example.com/x"}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"endpoint": "https://push.example.com/" + "x" * 1000}, "endpoint"),
        (
            {"keys": {"p256dh": b64url(b"\x04" + b"1" * 10), "auth": b64url(b"2" * 16)}},
            "keys.p256dh",
        ),
        ({"keys": {"p256dh": "not base64 !!", "auth": b64url(b"2" * 16)}}, "keys.p256dh"),
        ({"keys": {"p256dh": BrowserKeys().p256dh, "auth": b64url(b"2" * 8)}}, "keys.auth"),
        ({"keys": {"p256dh": BrowserKeys().p256dh}}, "keys.auth"),
        ({"keys": "nothing"}, "keys.p256dh"),
    ],
)
def test_bad_subscriptions_are_refused(change: dict[str, Any], field: str) -> None:
    body = {**subscription_json("https://push.example.com/x", BrowserKeys()), **change}

    response = post_json(csrf_client(make_user("validator")), "push:subscribe", body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == [field]
    assert response.json()["detail"]
    assert not PushSubscription.objects.exists()


def test_malformed_json_is_refused() -> None:
    client = csrf_client(make_user("json_user"))
    response = client.post(
        reverse("push:subscribe"),
        data=b"{not json",
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET},
    )
    assert response.status_code == 400


def test_a_local_http_endpoint_is_accepted_in_development(local_http: None) -> None:
    body = subscription_json("http://127.0.0.1:8080/x", BrowserKeys())

    response = post_json(csrf_client(make_user("developer")), "push:subscribe", body)

    assert response.status_code == 201
    # Still only for this machine.
    body = subscription_json("http://push.example.com/x", BrowserKeys())
    assert (
        post_json(csrf_client(make_user("developer2")), "push:subscribe", body).status_code == 400
    )


def test_the_service_worker_may_control_the_whole_site() -> None:
    response = Client().get(reverse("push:service_worker"))

    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert "const ANWANG_ICON_URL" in script
    assert 'addEventListener("push"' in script
    assert 'addEventListener("notificationclick"' in script
    assert "requireInteraction" in script


def test_the_button_include_renders() -> None:
    request = RequestFactory().get("/notifications/preferences/")
    request.user = make_user("button_user")

    html = render_to_string("notifications/_push_button.html", request=request)

    assert "data-push-box" in html
    assert reverse("push:subscribe") in html
    assert reverse("push:service_worker") in html
    assert "Turn on notifications on this device" in html
    assert "notifications/push.js" in html


# --- the button in a real browser -----------------------------------------------------------


def _show_button(page: Any, live_server: Any, user: User) -> None:
    """Put the include on a page of the site (the preferences page shows it the same way)."""
    host = live_server.url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies(
        [{"name": "csrftoken", "value": CSRF_SECRET, "domain": host, "path": "/"}]
    )
    request = RequestFactory().get("/")
    request.user = user
    request.META["CSRF_COOKIE"] = CSRF_SECRET
    html = render_to_string("notifications/_push_button.html", request=request)
    visit(page, f"{live_server.url}/push/key/")
    page.evaluate(
        """(html) => {
            document.body.innerHTML = html;
            const script = document.createElement("script");
            script.src = document.body.querySelector("script").src;
            document.body.appendChild(script);
        }""",
        html,
    )


@pytest.mark.browser
def test_the_button_registers_the_worker_and_reports_the_state(
    live_server: Any, chromium: Any, transactional_db: None
) -> None:
    user = make_user("browser_user")
    page = page_as(chromium, live_server, user, permissions=["notifications"])
    _show_button(page, live_server, user)

    box = page.locator("[data-push-box]")
    # The worker registered for the whole site; this browser has no subscription yet.
    page.wait_for_function(
        "document.querySelector('[data-push-box]').dataset.pushState !== undefined"
    )
    assert box.get_attribute("data-push-state") == "off", page.js_errors
    assert page.locator("[data-push-toggle]").inner_text() == (
        "Turn on notifications on this device"
    )
    scope = page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => r && r.scope)")
    assert scope == f"{live_server.url}/"
    # The worker shows a pushed message (delivered through the DevTools protocol, as a push
    # service would after decrypting).
    devtools = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    devtools.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    devtools.send("ServiceWorker.enable")
    page.wait_for_timeout(500)
    [registration] = [r for r in registrations if r["scopeURL"] == f"{live_server.url}/"][:1]
    payload = {
        "title": "翠苑社区 烟感报警",
        "body": "3号楼",
        "url": "/alarms/15/",
        "id": 9,
        "urgent": True,
    }
    devtools.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload, ensure_ascii=False),
        },
    )
    shown = page.evaluate(
        """async () => {
            const registration = await navigator.serviceWorker.ready;
            for (let i = 0; i < 50; i += 1) {
                const shown = await registration.getNotifications();
                if (shown.length) {
                    const n = shown[0];
                    return {title: n.title, body: n.body, url: n.data.url,
                            requireInteraction: n.requireInteraction, icon: n.icon};
                }
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return null;
        }"""
    )
    assert shown is not None
    assert shown["title"] == "翠苑社区 烟感报警"
    assert shown["body"] == "3号楼"
    assert shown["url"] == "/alarms/15/"
    assert shown["requireInteraction"] is True
    assert shown["icon"].endswith("favicon.svg")
    # Headless chromium has no push service to subscribe with: turning on fails politely.
    page.locator("[data-push-toggle]").click()
    page.wait_for_function(
        "!document.querySelector('[data-push-note]').hidden"
        " && !document.querySelector('[data-push-toggle]').disabled",
        timeout=30_000,
    )
    assert box.get_attribute("data-push-state") == "off"
    assert page.js_errors == []


@pytest.mark.browser
def test_without_push_support_the_button_explains(
    live_server: Any, chromium: Any, transactional_db: None
) -> None:
    user = make_user("old_browser_user")
    page = page_as(chromium, live_server, user)
    page.add_init_script("delete window.PushManager;")
    _show_button(page, live_server, user)

    page.wait_for_function(
        "document.querySelector('[data-push-box]').dataset.pushState === 'unsupported'"
    )
    assert page.locator("[data-push-toggle]").is_hidden()
    assert "cannot receive push notifications" in page.locator("[data-push-note]").inner_text()
    assert page.js_errors == []

"""HTTP ingestion at /api/v1/ingest/<adapter>: device authentication by token, HMAC
signature, Basic and Digest; refusals store nothing and are counted against the device."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from anwang.devices import http_auth, services
from anwang.devices.choices import CredentialKind, DeviceKind, Protocol
from anwang.devices.models import Device, DeviceCredential
from anwang.events.models import DeadLetter, DeviceEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/ingest/anwang"
HIKVISION_URL = "/api/v1/ingest/hikvision"
HIKVISION = Path(__file__).resolve().parents[4] / "tests/fixtures/payloads/hikvision"
CAMERA_MAC = "a6:63:9e:f8:01:09"


@pytest.fixture
def sensor(world: Any) -> Device:
    return Device.objects.create(
        community=world.a.community,
        name="a smoke",
        kind=DeviceKind.SMOKE,
        protocol=Protocol.ANWANG,
        source_id="a-smoke",
    )


@pytest.fixture
def camera(world: Any) -> Device:
    return Device.objects.create(
        community=world.a.community,
        name="a gate camera",
        kind=DeviceKind.CAMERA,
        protocol=Protocol.HIKVISION,
        source_id=CAMERA_MAC,
    )


def issue(device: Device, kind: str, username: str = "") -> tuple[DeviceCredential, str]:
    return services.device_credential_issue(actor=None, device=device, kind=kind, username=username)


def smoke(device: str = "a-smoke", state: bool = True, **extra: Any) -> bytes:
    event = {"schema_version": 1, "device": device, "kind": "smoke", "state": state, **extra}
    return json.dumps(event).encode()


def post(
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    url: str = URL,
    secure: bool = False,
    content_type: str = "application/json",
) -> Any:
    return Client().post(
        url, data=body, content_type=content_type, headers=headers or {}, secure=secure
    )


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def signed(credential: DeviceCredential, secret: str, body: bytes, t: int | None = None) -> Any:
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Anwang-Signature": f"t={t},v1={mac}", "X-Anwang-Key": str(credential.pk)}


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def digest_challenge(response: Any) -> dict[str, str]:
    """Nonce, opaque and the offered algorithms of a 401's Digest challenges."""
    header = response["WWW-Authenticate"]
    return {
        "nonce": re.search(r'nonce="([^"]+)"', header).group(1),  # type: ignore[union-attr]
        "opaque": re.search(r'opaque="([^"]+)"', header).group(1),  # type: ignore[union-attr]
        "algorithms": ",".join(
            re.findall(r"Digest [^,]*, qop=\"auth\", algorithm=([\w-]+)", header)
        ),
    }


def digest(
    username: str,
    password: str,
    *,
    nonce: str,
    opaque: str,
    algorithm: str = "MD5",
    nc: str = "00000001",
    uri: str = HIKVISION_URL,
    method: str = "POST",
    cnonce: str = "0a4f113b",
) -> dict[str, str]:
    """The Authorization header a client computes per RFC 7616 section 3.4.1."""

    def h(text: str) -> str:
        function = hashlib.md5 if algorithm == "MD5" else hashlib.sha256
        return function(text.encode()).hexdigest()

    ha1 = h(f"{username}:anwang:{password}")
    ha2 = h(f"{method}:{uri}")
    response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return {
        "Authorization": (
            f'Digest username="{username}", realm="anwang", nonce="{nonce}", uri="{uri}", '
            f'algorithm={algorithm}, qop=auth, nc={nc}, cnonce="{cnonce}", '
            f'response="{response}", opaque="{opaque}"'
        )
    }


def hikvision_xml() -> bytes:
    return (HIKVISION / "vmd_active_hikvision_ns.xml").read_bytes()


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


def rejections(device: Device) -> tuple[int, str]:
    device.refresh_from_db()
    return device.ingest_rejections, device.last_rejection_reason


def nothing_stored() -> bool:
    return not DeviceEvent.objects.exists() and not DeadLetter.objects.exists()


# --------------------------------------------------------------------------- token


def test_token_event_is_stored_and_listed(world: Any, sensor: Device) -> None:
    _credential, raw = issue(sensor, CredentialKind.TOKEN)
    response = post(smoke(), bearer(raw))
    assert response.status_code == 200, response.content
    assert response.json() == {"events": 1, "duplicates": 0}
    listed = world.client_for("community_admin").get("/api/v1/events").json()["items"]
    assert [(e["device"], e["kind"], e["value"]) for e in listed] == [(sensor.pk, "smoke", True)]
    sensor.refresh_from_db()
    assert sensor.last_seen_at is not None
    assert sensor.ingest_rejections == 0


def test_wrong_token_is_401_with_challenges(sensor: Device) -> None:
    issue(sensor, CredentialKind.TOKEN)
    response = post(smoke(), bearer("awd_not-the-token"))
    refused(response, 401, "bad_credentials")
    assert "Bearer" in response["WWW-Authenticate"]
    assert nothing_stored()
    # A token that names no device cannot be counted against one.
    assert rejections(sensor) == (0, "")


def test_missing_credentials_offer_passwords_only_over_tls(sensor: Device) -> None:
    plain = post(smoke())
    refused(plain, 401, "credentials_missing")
    assert plain["WWW-Authenticate"] == 'Bearer realm="anwang"'
    secure = post(smoke(), secure=True)
    refused(secure, 401, "credentials_missing")
    offered = digest_challenge(secure)
    assert offered["algorithms"] == "MD5,SHA-256"
    assert 'Basic realm="anwang"' in secure["WWW-Authenticate"]
    assert nothing_stored()


def test_revoked_credential_and_retired_device(world: Any, sensor: Device) -> None:
    credential, raw = issue(sensor, CredentialKind.TOKEN)
    services.device_credential_revoke(actor=None, credential=credential)
    refused(post(smoke(), bearer(raw)), 401, "credential_revoked")
    assert rejections(sensor) == (1, "credential_revoked")

    _credential, raw = issue(sensor, CredentialKind.TOKEN)
    services.device_retire(actor=None, device=sensor)
    refused(post(smoke(), bearer(raw)), 403, "device_retired")
    assert rejections(sensor) == (2, "device_retired")
    assert nothing_stored()


# --------------------------------------------------------------------------- HMAC signatures


def test_signed_request_is_stored(sensor: Device) -> None:
    credential, secret = issue(sensor, CredentialKind.HMAC)
    body = smoke()
    response = post(body, signed(credential, secret, body))
    assert response.status_code == 200, response.content
    assert response.json() == {"events": 1, "duplicates": 0}


def test_bad_signature_is_refused_and_counted(sensor: Device) -> None:
    credential, secret = issue(sensor, CredentialKind.HMAC)
    headers = signed(credential, secret, smoke(state=False))
    response = post(smoke(state=True), headers)
    refused(response, 401, "bad_signature")
    assert response["WWW-Authenticate"]
    refused(post(smoke(), signed(credential, "wrong secret", smoke())), 401, "bad_signature")
    garbled = headers | {"X-Anwang-Signature": "t=now,v1=xyz"}
    refused(post(smoke(), garbled), 401, "bad_signature")
    assert rejections(sensor) == (3, "bad_signature")
    assert nothing_stored()


def test_unknown_signing_key_is_refused(sensor: Device) -> None:
    credential, secret = issue(sensor, CredentialKind.HMAC)
    headers = signed(credential, secret, smoke()) | {"X-Anwang-Key": "999999"}
    refused(post(smoke(), headers), 401, "bad_credentials")
    del headers["X-Anwang-Key"]
    refused(post(smoke(), headers), 401, "bad_credentials")
    assert rejections(sensor) == (0, "")


# A minute past the tolerance: a loaded CI machine can take seconds between signing and
# checking, which would pull a timestamp one second past the edge back inside it.
STALE = http_auth.SIGNATURE_TOLERANCE_SECONDS + 60


@pytest.mark.parametrize("offset", [-STALE, STALE])
def test_stale_timestamp_either_way(sensor: Device, offset: int) -> None:
    credential, secret = issue(sensor, CredentialKind.HMAC)
    body = smoke()
    response = post(body, signed(credential, secret, body, t=int(time.time()) + offset))
    refused(response, 401, "stale_timestamp")
    assert rejections(sensor) == (1, "stale_timestamp")
    assert nothing_stored()


@pytest.mark.parametrize("offset", [-250, 250])
def test_timestamp_within_tolerance_is_accepted(sensor: Device, offset: int) -> None:
    credential, secret = issue(sensor, CredentialKind.HMAC)
    body = smoke()
    response = post(body, signed(credential, secret, body, t=int(time.time()) + offset))
    assert response.status_code == 200, response.content


def test_replayed_signature_is_refused(sensor: Device) -> None:
    credential, secret = issue(sensor, CredentialKind.HMAC)
    body = smoke()
    headers = signed(credential, secret, body)
    assert post(body, headers).status_code == 200
    refused(post(body, headers), 401, "replayed")
    # The same signature listed twice is still the same request.
    doubled = headers["X-Anwang-Signature"] + "," + headers["X-Anwang-Signature"].split(",")[1]
    refused(post(body, headers | {"X-Anwang-Signature": doubled}), 401, "replayed")
    assert DeviceEvent.objects.count() == 1
    assert rejections(sensor) == (2, "replayed")


# --------------------------------------------------------------------------- Basic


def test_basic_over_tls(world: Any, camera: Device) -> None:
    _credential, password = issue(camera, CredentialKind.HTTP_BASIC, username="gate-cam")
    response = post(
        hikvision_xml(),
        basic("gate-cam", password),
        url=HIKVISION_URL,
        secure=True,
        content_type="application/xml",
    )
    assert response.status_code == 200, response.content
    assert DeviceEvent.objects.get().device == camera


def test_basic_over_plain_http_is_refused(camera: Device) -> None:
    _credential, password = issue(camera, CredentialKind.HTTP_BASIC, username="gate-cam")
    response = post(hikvision_xml(), basic("gate-cam", password), url=HIKVISION_URL, secure=False)
    refused(response, 403, "tls_required")
    assert nothing_stored()
    assert rejections(camera) == (1, "tls_required")


def test_basic_wrong_password_is_counted(camera: Device) -> None:
    issue(camera, CredentialKind.HTTP_BASIC, username="gate-cam")
    response = post(hikvision_xml(), basic("gate-cam", "guess"), url=HIKVISION_URL, secure=True)
    refused(response, 401, "bad_credentials")
    refused(
        post(hikvision_xml(), basic("nobody", "guess"), url=HIKVISION_URL, secure=True),
        401,
        "bad_credentials",
    )
    assert rejections(camera) == (1, "bad_credentials")
    assert nothing_stored()


# --------------------------------------------------------------------------- Digest


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_round_trip_stores_hikvision_alert(
    world: Any, camera: Device, algorithm: str
) -> None:
    _credential, password = issue(camera, CredentialKind.HTTP_DIGEST, username="admin")
    first = post(hikvision_xml(), url=HIKVISION_URL, secure=True, content_type="application/xml")
    refused(first, 401, "credentials_missing")
    challenge = digest_challenge(first)
    headers = digest(
        "admin",
        password,
        nonce=challenge["nonce"],
        opaque=challenge["opaque"],
        algorithm=algorithm,
    )
    response = post(
        hikvision_xml(), headers, url=HIKVISION_URL, secure=True, content_type="application/xml"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"events": 1, "duplicates": 0}
    event = DeviceEvent.objects.get()
    assert (event.device, event.kind, event.attribute) == (camera, "motion", "motion:1")
    listed = world.client_for("community_admin").get("/api/v1/events").json()["items"]
    assert [e["id"] for e in listed] == [event.pk]


def test_digest_wrong_password(camera: Device) -> None:
    issue(camera, CredentialKind.HTTP_DIGEST, username="admin")
    challenge = digest_challenge(post(b"", url=HIKVISION_URL, secure=True))
    headers = digest("admin", "guess", nonce=challenge["nonce"], opaque=challenge["opaque"])
    response = post(hikvision_xml(), headers, url=HIKVISION_URL, secure=True)
    refused(response, 401, "bad_credentials")
    assert "Digest" in response["WWW-Authenticate"]
    assert rejections(camera) == (1, "bad_credentials")
    assert nothing_stored()


def test_digest_nonce_count_cannot_be_reused(camera: Device) -> None:
    _credential, password = issue(camera, CredentialKind.HTTP_DIGEST, username="admin")
    challenge = digest_challenge(post(b"", url=HIKVISION_URL, secure=True))

    def send(nc: str) -> Any:
        headers = digest(
            "admin", password, nonce=challenge["nonce"], opaque=challenge["opaque"], nc=nc
        )
        return post(hikvision_xml(), headers, url=HIKVISION_URL, secure=True)

    assert send("00000001").status_code == 200
    refused(send("00000001"), 401, "replayed")
    # The next count on the same nonce is a new request (the same alert: a duplicate level).
    second = send("00000002")
    assert second.status_code == 200, second.content
    assert second.json() == {"events": 0, "duplicates": 0}
    assert rejections(camera) == (1, "replayed")


def test_digest_stale_nonce_is_rechallenged(camera: Device) -> None:
    _credential, password = issue(camera, CredentialKind.HTTP_DIGEST, username="admin")
    old = http_auth.make_nonce(time.time() - http_auth.NONCE_SECONDS - 60)
    headers = digest("admin", password, nonce=old, opaque=http_auth.opaque())
    response = post(hikvision_xml(), headers, url=HIKVISION_URL, secure=True)
    refused(response, 401, "stale_nonce")
    assert "stale=true" in response["WWW-Authenticate"]
    fresh = digest_challenge(response)["nonce"]
    assert fresh != old
    # The normal Digest re-challenge is not a device fault: not counted.
    assert rejections(camera) == (0, "")
    retry = digest("admin", password, nonce=fresh, opaque=http_auth.opaque())
    assert post(hikvision_xml(), retry, url=HIKVISION_URL, secure=True).status_code == 200


def test_digest_forged_nonce_and_wrong_uri(camera: Device) -> None:
    _credential, password = issue(camera, CredentialKind.HTTP_DIGEST, username="admin")
    forged = f"{int(time.time())}.{'0' * 32}"
    headers = digest("admin", password, nonce=forged, opaque=http_auth.opaque())
    refused(post(hikvision_xml(), headers, url=HIKVISION_URL, secure=True), 401, "bad_credentials")
    nonce = http_auth.make_nonce(time.time())
    elsewhere = digest("admin", password, nonce=nonce, opaque=http_auth.opaque(), uri=URL)
    refused(
        post(hikvision_xml(), elsewhere, url=HIKVISION_URL, secure=True), 401, "bad_credentials"
    )
    assert rejections(camera) == (2, "bad_credentials")


# --------------------------------------------------------------------------- bodies


def test_oversized_body_is_413_and_counted(settings: Any, sensor: Device) -> None:
    settings.ANWANG_INGEST_MAX_BYTES = 1024
    _credential, raw = issue(sensor, CredentialKind.TOKEN)
    body = smoke(data={"padding": "x" * 2000})
    refused(post(body, bearer(raw)), 413, "body_too_large")
    assert rejections(sensor) == (1, "body_too_large")
    credential, secret = issue(sensor, CredentialKind.HMAC)
    refused(post(body, signed(credential, secret, body)), 413, "body_too_large")
    assert rejections(sensor) == (2, "body_too_large")
    assert nothing_stored()


def test_our_limit_applies_not_djangos(settings: Any, sensor: Device) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    settings.ANWANG_INGEST_MAX_BYTES = 10_000
    _credential, raw = issue(sensor, CredentialKind.TOKEN)
    response = post(smoke(data={"padding": "x" * 500}), bearer(raw))
    assert response.status_code == 200, response.content


def test_malformed_body_is_400_and_stores_nothing(sensor: Device) -> None:
    _credential, raw = issue(sensor, CredentialKind.TOKEN)
    refused(post(b"{not json", bearer(raw)), 400, "unusable_message")
    refused(post(b"", bearer(raw)), 400, "unusable_message")
    assert nothing_stored()
    assert rejections(sensor) == (2, "unusable_message")


def test_foreign_device_is_403(world: Any, sensor: Device) -> None:
    Device.objects.create(
        community=world.a.community,
        name="a other smoke",
        kind=DeviceKind.SMOKE,
        protocol=Protocol.ANWANG,
        source_id="a-other",
    )
    _credential, raw = issue(sensor, CredentialKind.TOKEN)
    refused(post(smoke(device="a-other"), bearer(raw)), 403, "foreign_device")
    assert nothing_stored()
    assert rejections(sensor) == (1, "foreign_device")


def test_wrong_protocol_is_403(camera: Device) -> None:
    _credential, raw = issue(camera, CredentialKind.TOKEN)
    refused(post(smoke(device=CAMERA_MAC), bearer(raw)), 403, "wrong_protocol")
    assert rejections(camera) == (1, "wrong_protocol")
    assert nothing_stored()


def test_counters_are_per_device(world: Any, sensor: Device, camera: Device) -> None:
    _credential, raw = issue(sensor, CredentialKind.TOKEN)
    refused(post(b"[]x", bearer(raw)), 400, "unusable_message")
    refused(post(b"[]x", bearer(raw)), 400, "unusable_message")
    assert rejections(sensor) == (2, "unusable_message")
    assert rejections(camera) == (0, "")
    shown = world.client_for("community_admin").get(f"/api/v1/devices/{sensor.pk}").json()
    assert shown["ingest_rejections"] == 2
    assert shown["last_rejection_reason"] == "unusable_message"
    assert shown["last_rejected_at"] is not None


# --------------------------------------------------------------------------- adapters


def test_unknown_adapter_is_404() -> None:
    refused(post(smoke(), url="/api/v1/ingest/nonesuch"), 404, "unknown_adapter")


@pytest.mark.parametrize("adapter", ["zigbee2mqtt", "frigate"])
def test_mqtt_only_adapters_are_404(adapter: str) -> None:
    refused(post(smoke(), url=f"/api/v1/ingest/{adapter}"), 404, "mqtt_only")


def test_user_credentials_are_not_device_credentials(world: Any, sensor: Device) -> None:
    admin = world.client_for("community_admin")
    response = admin.post(URL, data=smoke(), content_type="application/json")
    refused(response, 401, "credentials_missing")
    assert nothing_stored()

"""Device authentication over HTTP: the pure checks (signatures, Basic, Digest, nonces), the
service that finds the device and counts refusals, and the counters on the device page."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
from typing import Any

import pytest
from django.utils import timezone

from anwang.devices import http_auth, services
from anwang.devices.choices import CredentialKind, DeviceKind, Protocol
from anwang.devices.http_auth import MalformedCredentialsError
from anwang.devices.models import Device, DeviceReplayMark

# RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256.
RFC_PARAMS = (
    'username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
    'algorithm={algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, '
    'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, '
    'response="{response}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC_RESPONSES = {
    "MD5": "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
}


# --------------------------------------------------------------------------- pure checks


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_response_matches_rfc_7616_example(algorithm: str) -> None:
    header = RFC_PARAMS.format(algorithm=algorithm, response=RFC_RESPONSES[algorithm])
    credentials = http_auth.parse_digest(header)
    assert credentials.username == "Mufasa"
    assert credentials.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    assert http_auth.digest_matches(credentials, password="Circle of Life", method="GET")
    assert not http_auth.digest_matches(credentials, password="Circle of life", method="GET")
    assert not http_auth.digest_matches(credentials, password="Circle of Life", method="POST")


@pytest.mark.parametrize(
    "header",
    [
        'username="a", realm="anwang"',  # no nonce, uri, response, qop...
        RFC_PARAMS.format(algorithm="MD5-sess", response="0" * 32),
        RFC_PARAMS.format(algorithm="SHA-512-256", response="0" * 64),
        RFC_PARAMS.format(algorithm="MD5", response="0" * 32).replace("qop=auth", "qop=auth-int"),
        RFC_PARAMS.format(algorithm="MD5", response="0" * 32).replace("nc=00000001", "nc=1"),
        "this is not a parameter list",
    ],
)
def test_unusable_digest_headers_are_malformed(header: str) -> None:
    with pytest.raises(MalformedCredentialsError):
        http_auth.parse_digest(header)


def test_signature_parsing_and_matching() -> None:
    body = b'{"x": 1}'
    mac = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert http_auth.sign("s3cret", 1700000000, body) == mac
    parsed = http_auth.parse_signature(f"t=1700000000, v1={'0' * 64}, v1={mac.upper()}")
    assert parsed.timestamp == 1700000000
    assert http_auth.signature_matches("s3cret", parsed, body)
    assert not http_auth.signature_matches("s3cret", parsed, body + b" ")
    for bad in ("", "t=1700000000", f"v1={mac}", "t=-5,v1=" + mac, "t=1,v1=zz", "garbage"):
        with pytest.raises(MalformedCredentialsError):
            http_auth.parse_signature(bad)


def test_timestamp_tolerance_is_300_seconds_both_ways() -> None:
    now = 1_800_000_000.0
    assert http_auth.timestamp_is_fresh(int(now) - 300, now)
    assert http_auth.timestamp_is_fresh(int(now) + 300, now)
    assert not http_auth.timestamp_is_fresh(int(now) - 301, now)
    assert not http_auth.timestamp_is_fresh(int(now) + 301, now)


def test_nonces_are_stateless_and_expire() -> None:
    now = float(int(time.time()))
    nonce = http_auth.make_nonce(now)
    assert http_auth.nonce_state(nonce, now) == "fresh"
    assert http_auth.nonce_state(nonce, now + http_auth.NONCE_SECONDS) == "fresh"
    assert http_auth.nonce_state(nonce, now + http_auth.NONCE_SECONDS + 2) == "stale"
    issued, _dot, mac = nonce.partition(".")
    assert http_auth.nonce_state(f"{int(issued) + 1}.{mac}", now) == "forged"
    assert http_auth.nonce_state("nonsense", now) == "forged"
    assert http_auth.nonce_state(http_auth.make_nonce(now + 600), now) == "forged"


def test_basic_parsing() -> None:
    assert http_auth.parse_basic("Y2FtOnA6dw==") == ("cam", "p:w")
    for bad in ("not base64!", "bm9jb2xvbg=="):  # the second is "nocolon"
        with pytest.raises(MalformedCredentialsError):
            http_auth.parse_basic(bad)


def test_challenges_offer_passwords_only_when_allowed() -> None:
    assert http_auth.challenges(0, passwords=False) == 'Bearer realm="anwang"'
    offered = http_auth.challenges(time.time(), passwords=True, stale=True)
    assert offered.index("algorithm=MD5") < offered.index("algorithm=SHA-256")
    assert offered.count("stale=true") == 2
    assert 'Basic realm="anwang", charset="UTF-8"' in offered


# --------------------------------------------------------------------------- the service


@pytest.fixture
def sensor(world: Any) -> Device:
    return Device.objects.create(
        community=world.a.community,
        name="a smoke",
        kind=DeviceKind.SMOKE,
        protocol=Protocol.ANWANG,
        source_id="a-smoke",
    )


def attempt(headers: dict[str, str], body: bytes | None = b"{}", **extra: Any) -> Any:
    values: dict[str, Any] = {
        "method": "POST",
        "path": "/api/v1/ingest/anwang",
        "headers": headers,
        "secure": True,
        "body": body,
        "now": timezone.now(),
    } | extra
    return services.HttpAttempt(**values)


@pytest.mark.django_db
def test_token_finds_its_device(sensor: Device) -> None:
    _credential, raw = services.device_credential_issue(
        actor=None, device=sensor, kind=CredentialKind.TOKEN
    )
    found = services.device_authenticate_http(attempt=attempt({"Authorization": f"Bearer {raw}"}))
    assert found == sensor


@pytest.mark.django_db
def test_basic_usernames_may_repeat_across_devices(world: Any, sensor: Device) -> None:
    other = Device.objects.create(
        community=world.b.community,
        name="b smoke",
        kind=DeviceKind.SMOKE,
        protocol=Protocol.ANWANG,
        source_id="a-smoke",
    )
    _c1, first = services.device_credential_issue(
        actor=None, device=sensor, kind=CredentialKind.HTTP_BASIC, username="cam"
    )
    _c2, second = services.device_credential_issue(
        actor=None, device=other, kind=CredentialKind.HTTP_BASIC, username="cam"
    )

    def basic(password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"cam:{password}".encode()).decode()}

    assert services.device_authenticate_http(attempt=attempt(basic(first))) == sensor
    assert services.device_authenticate_http(attempt=attempt(basic(second))) == other
    with pytest.raises(services.DeviceAuthError) as refused:
        services.device_authenticate_http(attempt=attempt(basic("guess")))
    assert refused.value.code == "bad_credentials"
    # Two devices share the user name: the failure is nobody's in particular.
    assert refused.value.device is None
    sensor.refresh_from_db()
    other.refresh_from_db()
    assert (sensor.ingest_rejections, other.ingest_rejections) == (0, 0)


@pytest.mark.django_db
def test_replay_marks_are_purged_when_expired(sensor: Device) -> None:
    credential, secret = services.device_credential_issue(
        actor=None, device=sensor, kind=CredentialKind.HMAC
    )
    DeviceReplayMark.objects.create(
        credential=credential,
        value="0" * 64,
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    t = int(time.time())
    headers = {
        "X-Anwang-Signature": f"t={t},v1={http_auth.sign(secret, t, b'{}')}",
        "X-Anwang-Key": str(credential.pk),
    }
    assert services.device_authenticate_http(attempt=attempt(headers)) == sensor
    [mark] = DeviceReplayMark.objects.all()
    assert mark.expires_at == dt.datetime.fromtimestamp(t + 300, tz=dt.UTC)


@pytest.mark.django_db
def test_counters_show_on_the_device_page(world: Any, sensor: Device) -> None:
    services.device_ingest_rejection_record(
        device=sensor, reason="stale_timestamp", at=timezone.now()
    )
    services.device_ingest_rejection_record(device=sensor, reason="replayed", at=timezone.now())
    client = world.client_for("community_admin")
    client.cookies["anwang_language"] = "en"
    page = client.get(f"/devices/{sensor.pk}/").content.decode()
    assert 'data-testid="ingest-rejections">2 · last' in page
    assert "Replayed request" in page


@pytest.mark.django_db
def test_hmac_key_id_is_shown_when_issued(world: Any, sensor: Device) -> None:
    client = world.client_for("community_admin")
    client.cookies["anwang_language"] = "en"
    page = client.post(f"/devices/{sensor.pk}/credentials/", {"kind": "hmac"})
    assert page.status_code == 200
    credential = sensor.credentials.get()
    assert f"<dd><code>{credential.pk}</code></dd>" in page.content.decode()

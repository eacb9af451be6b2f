"""The email channel against a real local SMTP server (aiosmtpd) with STARTTLS and AUTH."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer  # noqa: N811 - clearer than a bare SMTP
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    backend_for,
)
from anwang.notifications.channels.email import EmailBackend

USERNAME = "anwang-mailer"
PASSWORD = "correct horse battery"


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1, as a private relay would have."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "smtp-cert.pem"
    key_file = directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Mailbox:
    """What the local server received."""

    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTPServer, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USERNAME
            and auth_data.password.decode() == PASSWORD
        ):
            self.logins.append(USERNAME)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def received(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        content = self.envelopes[0].content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Relay:
    mailbox: Mailbox
    port: int
    ca_file: Path

    def settings(self, **overrides: Any) -> ChannelSettings:
        values: dict[str, Any] = {
            "host": "localhost",
            "port": self.port,
            "security": "starttls",
            "username": USERNAME,
            "from_address": "alerts@anwang.example",
            "from_name": "安网 翠苑社区",
            "timeout": 5,
            "ca_file": str(self.ca_file),
            "site_url": "https://anwang.example",
        }
        password = overrides.pop("secret", PASSWORD)
        values.update(overrides)
        return ChannelSettings(config_id=1, settings=values, secret=password)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    cert_file, key_file = _self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        auth_require_tls=True,
        authenticator=mailbox.authenticate,
        ready_timeout=10,
    )
    controller.start()
    try:
        yield Relay(mailbox=mailbox, port=port, ca_file=cert_file)
    finally:
        controller.stop()


def _message(**overrides: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "delivery_id": 42,
        "notification_id": 7,
        "kind": "alarm.escalated",
        "title": "翠苑社区 3号楼 烟感报警",
        "body": "3号楼2单元 烟感探测器报警，请立即前往查看。\n\n值班电话 0571-1234567",
        "url": "https://anwang.example/alarms/15/",
        "priority": 1,
        "urgent": True,
        "needs_confirmation": True,
        "data": {},
        "community_id": 3,
        "address": "wang.fang@example.org",
        "recipient_id": 9,
        "recipient_name": "王芳",
    }
    values.update(overrides)
    return OutgoingMessage(**values)


def test_the_backend_is_registered() -> None:
    assert isinstance(backend_for("email"), EmailBackend)


def test_a_chinese_message_arrives_over_starttls_with_auth(relay: Relay) -> None:
    outcome = EmailBackend().send(_message(), relay.settings())

    assert outcome.status == "sent", outcome.error
    assert relay.mailbox.logins == [USERNAME]
    envelope = relay.mailbox.envelopes[0]
    assert envelope.mail_from == "alerts@anwang.example"
    assert envelope.rcpt_tos == ["wang.fang@example.org"]
    received = relay.mailbox.received()
    assert received["Subject"] == "翠苑社区 3号楼 烟感报警"
    assert received["From"].addresses[0].display_name == "安网 翠苑社区"
    assert received["To"].addresses[0].display_name == "王芳"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Message-ID"] == outcome.provider_id
    assert received["Message-ID"].endswith("@anwang.example>")
    assert received["Date"]
    # The preferences page, wherever the notifications app puts it.
    assert received["List-Unsubscribe"].startswith("<https://anwang.example/")
    assert received["List-Unsubscribe"].endswith(">")
    plain = received.get_body(preferencelist=("plain",))
    rich = received.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    plain_text = plain.get_content()
    assert "烟感探测器报警" in plain_text
    assert "https://anwang.example/alarms/15/" in plain_text
    rich_text = rich.get_content()
    assert '<a href="https://anwang.example/alarms/15/">' in rich_text
    assert "值班电话 0571-1234567" in rich_text


def test_the_certificate_is_verified_by_default(relay: Relay) -> None:
    """Without the relay's CA the self-signed certificate is refused, and retrying is no use."""
    outcome = EmailBackend().send(_message(), relay.settings(ca_file=""))

    assert outcome.status == "failed"
    assert outcome.retry is False
    assert "TLS" in outcome.error
    assert relay.mailbox.envelopes == []


def test_a_wrong_password_fails_without_retry(relay: Relay) -> None:
    outcome = EmailBackend().send(_message(), relay.settings(secret="wrong"))

    assert outcome.status == "failed"
    assert outcome.retry is False
    assert "authentication" in outcome.error
    assert relay.mailbox.envelopes == []


def test_a_refused_recipient_fails_without_retry(relay: Relay) -> None:
    outcome = EmailBackend().send(_message(address="nobody@example.org"), relay.settings())

    assert outcome.status == "failed"
    assert outcome.retry is False
    assert "550" in outcome.error


def test_a_temporary_refusal_is_retried(relay: Relay) -> None:
    outcome = EmailBackend().send(_message(address="busy@example.org"), relay.settings())

    assert outcome.status == "failed"
    assert outcome.retry is True
    assert "451" in outcome.error


def test_a_server_that_is_down_is_retried() -> None:
    settings = ChannelSettings(
        config_id=1,
        settings={"host": "127.0.0.1", "port": _free_port(), "timeout": 2},
        secret="x",
    )
    outcome = EmailBackend().send(_message(), settings)

    assert outcome.status == "failed"
    assert outcome.retry is True
    assert "connection" in outcome.error


def test_no_address_fails_without_retry(relay: Relay) -> None:
    outcome = EmailBackend().send(_message(address=""), relay.settings())

    assert outcome.status == "failed"
    assert outcome.retry is False

"""Email over SMTP (STARTTLS or implicit TLS, with authentication).

Settings of the ``ChannelConfig(channel="email")`` (the platform's, or a community's):

``host``          the SMTP server
``port``          default 587 for ``starttls``, 465 for ``ssl``, 25 for ``none``
``security``      ``"starttls"`` (default), ``"ssl"`` (implicit TLS), or ``"none"`` (only for a
                  relay on the same machine: the password would travel in clear)
``username``      login; empty sends without AUTH
``from_address``  the sender's address (default: the server's ``email_from``)
``from_name``     the sender's display name (default 安网)
``timeout``       seconds per network operation (default 20)
``ca_file``       a CA certificate file to trust instead of the system's (a private CA)
``verify``        ``false`` turns off certificate checks (never in production)
``site_url``      address used for the unsubscribe link (default: the server's public URL)

The secret is the SMTP password. The message's ``address`` is the person's email address.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from django.conf import settings as django_settings
from django.urls import NoReverseMatch, reverse

from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_TIMEOUT = 20.0
DEFAULT_FROM_NAME = "安网"


def _as_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off"}
    return bool(value)


def tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    """A client TLS context that verifies the server, unless the settings say otherwise."""
    ca_file = str(config.get("ca_file") or "")
    context = ssl.create_default_context(cafile=ca_file or None)
    if not _as_bool(config.get("verify"), default=True):
        # Only for a test relay with a throw-away certificate.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def site_url(config: Mapping[str, Any]) -> str:
    """The public address of this server, without a trailing slash (empty if unknown)."""
    configured = str(config.get("site_url") or "")
    return (configured or str(getattr(django_settings, "ANWANG_PUBLIC_URL", ""))).rstrip("/")


def preferences_url(config: Mapping[str, Any]) -> str:
    """Absolute address of the page where a person chooses their channels, or empty."""
    base = site_url(config)
    if not base:
        return ""
    try:
        path = reverse("notifications:preferences")
    except NoReverseMatch:
        # The preferences page lives in the notifications app's urls; until it is wired in,
        # point at where it will be.
        path = "/notifications/preferences/"
    return base + path


def build_message(message: OutgoingMessage, config: Mapping[str, Any]) -> EmailMessage:
    """The email for one delivery: UTF-8 plain text with a simple HTML alternative."""
    from_address = str(
        config.get("from_address") or getattr(django_settings, "DEFAULT_FROM_EMAIL", "")
    )
    from_name = str(config.get("from_name") or DEFAULT_FROM_NAME)
    domain = from_address.rpartition("@")[2] or "localhost"

    email = EmailMessage()
    email["Subject"] = message.title
    email["From"] = formataddr((from_name, from_address))
    if message.recipient_name:
        email["To"] = Address(display_name=message.recipient_name, addr_spec=message.address)
    else:
        email["To"] = message.address
    email["Date"] = formatdate(localtime=True)
    email["Message-ID"] = make_msgid(idstring=f"anwang.{message.delivery_id}", domain=domain)
    # RFC 3834: no vacation replies or bounces loops to an automatic message.
    email["Auto-Submitted"] = "auto-generated"
    if message.urgent:
        email["Importance"] = "high"
        email["X-Priority"] = "1"
    unsubscribe = preferences_url(config)
    if unsubscribe:
        email["List-Unsubscribe"] = f"<{unsubscribe}>"

    text_lines = [message.body.strip()] if message.body.strip() else []
    if message.url:
        text_lines.append(message.url)
    if unsubscribe:
        text_lines.append(f"--\n通知设置 / Notification settings: {unsubscribe}")
    email.set_content("\n\n".join(text_lines) + "\n", charset="utf-8")

    body_html = "".join(
        f"<p>{html.escape(paragraph).replace(chr(10), '<br>')}</p>"
        for paragraph in message.body.strip().split("\n\n")
        if paragraph.strip()
    )
    link_html = (
        f'<p><a href="{html.escape(message.url, quote=True)}">{html.escape(message.url)}</a></p>'
        if message.url
        else ""
    )
    footer_html = (
        f'<p style="color:#666;font-size:small"><a href="{html.escape(unsubscribe, quote=True)}">'
        "通知设置 / Notification settings</a></p>"
        if unsubscribe
        else ""
    )
    email.add_alternative(
        f'<!doctype html><html lang="{html.escape(message.language)}"><head>'
        f'<meta charset="utf-8"><title>{html.escape(message.title)}</title></head><body>'
        f'<h1 style="font-size:1.2em">{html.escape(message.title)}</h1>'
        f"{body_html}{link_html}{footer_html}</body></html>",
        subtype="html",
        charset="utf-8",
    )
    return email


def _open_connection(config: Mapping[str, Any]) -> smtplib.SMTP:
    host = str(config.get("host") or "")
    security = str(config.get("security") or "starttls").lower()
    if security not in DEFAULT_PORTS:
        raise ValueError(f"unknown security {security!r}")
    port = int(config.get("port") or DEFAULT_PORTS[security])
    timeout = float(config.get("timeout") or DEFAULT_TIMEOUT)
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context(config))
    connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        connection.ehlo()
        if security == "starttls":
            # starttls() itself refuses when the server does not offer it: never fall back
            # to sending the password in clear.
            connection.starttls(context=tls_context(config))
            connection.ehlo()
    except BaseException:
        connection.close()
        raise
    return connection


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()


class EmailBackend:
    """Sends one delivery as one email; a new SMTP session per message keeps it simple and
    lets a broken connection fail only one delivery."""

    channel = "email"

    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        config = settings.settings
        if not message.address or "@" not in message.address:
            return SendOutcome(status="failed", error="no email address", retry=False)
        if not config.get("host"):
            return SendOutcome(status="failed", error="no SMTP server configured", retry=False)
        try:
            email = build_message(message, config)
        except (ValueError, TypeError) as error:
            # A malformed address or header: trying again cannot help.
            return SendOutcome(status="failed", error=f"bad message: {error}", retry=False)
        try:
            connection = _open_connection(config)
        except ssl.SSLCertVerificationError as error:
            # (Also a ValueError, so it comes first.) A certificate we do not trust: the
            # operator must fix the server or the ca_file, retrying will not help.
            return SendOutcome(status="failed", error=f"TLS: {error}", retry=False)
        except ValueError as error:
            return SendOutcome(status="failed", error=str(error), retry=False)
        except smtplib.SMTPNotSupportedError as error:
            return SendOutcome(status="failed", error=f"no STARTTLS: {error}", retry=False)
        except (OSError, smtplib.SMTPException) as error:
            return SendOutcome(status="failed", error=f"connection: {error}", retry=True)
        try:
            username = str(config.get("username") or "")
            if username:
                connection.login(username, settings.secret)
            refused = connection.send_message(email)
            if refused:
                # Only some recipients refused; we send to exactly one, so this is rare.
                code, reply = next(iter(refused.values()))
                return SendOutcome(
                    status="failed", error=_reply_text(code, reply), retry=code < 500
                )
        except smtplib.SMTPAuthenticationError as error:
            return SendOutcome(
                status="failed",
                error="authentication: " + _reply_text(error.smtp_code, error.smtp_error),
                retry=False,
            )
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return SendOutcome(status="failed", error=_reply_text(code, reply), retry=code < 500)
        except smtplib.SMTPResponseException as error:
            # SMTPSenderRefused, SMTPDataError...: 4xx is temporary, 5xx permanent.
            return SendOutcome(
                status="failed",
                error=_reply_text(error.smtp_code, error.smtp_error),
                retry=error.smtp_code < 500,
            )
        except smtplib.SMTPNotSupportedError as error:
            return SendOutcome(status="failed", error=str(error), retry=False)
        except UnicodeEncodeError:
            # smtplib's AUTH sends the login and password as ASCII only.
            return SendOutcome(
                status="failed",
                error="authentication: the SMTP login and password must be ASCII",
                retry=False,
            )
        except (TimeoutError, OSError, smtplib.SMTPException) as error:
            return SendOutcome(status="failed", error=f"connection: {error}", retry=True)
        finally:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()
        return SendOutcome(status="sent", provider_id=str(email["Message-ID"]))


register_backend(EmailBackend())

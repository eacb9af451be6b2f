"""What every HTTP channel shares: one client with timeouts, JSON posts, and one way of
turning a far end's failure into a :class:`SendOutcome`.

A channel's ``send`` builds its request, calls :func:`request` (or :func:`post_json`), reads
the vendor's answer and raises :class:`ChannelError` for anything that is not a success;
:func:`guarded` turns that into ``SendOutcome(status="failed", ...)``, so no channel raises.

Every HTTP channel reads two optional settings:

``timeout_seconds``          the most a request may take, answer included (default 10)
``connect_timeout_seconds``  the most the connection may take (default 5)
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

import httpx
from django.utils import translation
from django.utils.translation import gettext

from anwang.notifications.channels.base import ChannelSettings, OutgoingMessage, SendOutcome

CONNECT_TIMEOUT_SECONDS: Final = 5.0
TOTAL_TIMEOUT_SECONDS: Final = 10.0
MAX_REPLY_BYTES: Final = 1024 * 1024
"""No vendor answers a send with more; reading stops there so a broken peer cannot fill memory."""
MAX_ERROR_CHARS: Final = 500
USER_AGENT: Final = "Anwang-Notifications/1"
# Too many requests, too early, request timeout: trying later can succeed.
RETRYABLE_CLIENT_STATUSES: Final = frozenset({408, 425, 429})

# httpx logs every request's full address at INFO, and robot and WeChat addresses carry
# their keys and tokens in the query: only its warnings may reach the logs.
logging.getLogger("httpx").setLevel(logging.WARNING)

_client: httpx.Client | None = None
_client_lock = threading.Lock()


class ChannelError(Exception):
    """A send that failed, and whether trying again later can help."""

    def __init__(self, error: str, *, retry: bool) -> None:
        super().__init__(error)
        self.error = error[:MAX_ERROR_CHARS]
        self.retry = retry

    def outcome(self) -> SendOutcome:
        """The failure as the sender records it."""
        return SendOutcome(status="failed", error=self.error, retry=self.retry)


@dataclass(frozen=True)
class HttpReply:
    """A far end's answer (only 2xx answers reach a channel; the rest are errors)."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]

    def json_object(self) -> dict[str, Any]:
        """The answer as a JSON object; anything else is a failure worth retrying (a proxy's
        error page, a truncated answer)."""
        try:
            value = json.loads(self.content)
        except ValueError as error:
            raise ChannelError(
                f"HTTP {self.status_code}: the answer is not JSON: {self.content[:200]!r}",
                retry=True,
            ) from error
        if not isinstance(value, dict):
            raise ChannelError(
                f"HTTP {self.status_code}: the answer is not a JSON object", retry=True
            )
        return value


def client() -> httpx.Client:
    """The one HTTP client of the channels (connection pooling; httpx clients are
    thread-safe). Redirects are not followed: a vendor endpoint that moved is a configuration
    to fix, not something to chase with a signed body."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=httpx.Timeout(TOTAL_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )
        return _client


def _seconds(config: Mapping[str, Any], key: str, default: float) -> float:
    value = config.get(key)
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def setting(config: ChannelSettings, key: str, default: str = "") -> str:
    """A text setting, stripped."""
    value = config.settings.get(key)
    return default if value is None else str(value).strip() or default


def mapping_setting(config: ChannelSettings, key: str) -> Mapping[str, Any]:
    """A setting that maps names to values (templates per kind, field names); anything but a
    mapping is a configuration mistake that retrying cannot mend."""
    value = config.settings.get(key) or {}
    if not isinstance(value, Mapping):
        raise ChannelError(f"the channel setting {key!r} is not a mapping", retry=False)
    return value


def required_setting(config: ChannelSettings, key: str) -> str:
    """A setting without which the channel cannot send: missing, it fails for good."""
    value = setting(config, key)
    if not value:
        raise ChannelError(f"the channel setting {key!r} is not set", retry=False)
    return value


def request(
    method: str,
    url: str,
    config: ChannelSettings,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> HttpReply:
    """Make one request within the channel's timeouts; a failure raises :class:`ChannelError`.

    httpx's timeouts are per operation; the whole exchange is also held to
    ``timeout_seconds`` by reading the answer against a deadline.
    """
    total = _seconds(config.settings, "timeout_seconds", TOTAL_TIMEOUT_SECONDS)
    connect = min(
        _seconds(config.settings, "connect_timeout_seconds", CONNECT_TIMEOUT_SECONDS), total
    )
    deadline = time.monotonic() + total
    try:
        # Merged into the address's own query (a robot's access_token stays), not replacing it.
        full_url = httpx.URL(url).copy_merge_params(dict(params)) if params else httpx.URL(url)
        with client().stream(
            method,
            full_url,
            content=content,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(total, connect=connect),
        ) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise ChannelError(f"no complete answer within {total:g} s", retry=True)
                chunks.append(chunk)
            reply = HttpReply(response.status_code, b"".join(chunks), dict(response.headers))
    except httpx.TimeoutException as error:
        raise ChannelError(f"timed out ({type(error).__name__})", retry=True) from error
    except httpx.InvalidURL as error:
        raise ChannelError(f"invalid address: {error}", retry=False) from error
    except httpx.UnsupportedProtocol as error:
        raise ChannelError(f"invalid address: {error}", retry=False) from error
    except httpx.HTTPError as error:
        raise ChannelError(f"{type(error).__name__}: {error}", retry=True) from error
    if reply.status_code >= 300:
        raise ChannelError(
            f"HTTP {reply.status_code}: {reply.content[:300].decode('utf-8', 'replace')}",
            retry=reply.status_code >= 500 or reply.status_code in RETRYABLE_CLIENT_STATUSES,
        )
    return reply


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese text stays readable and short)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post_json(
    url: str,
    payload: Any,
    config: ChannelSettings,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> HttpReply:
    """POST ``payload`` as JSON."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return request(
        "POST", url, config, content=encode_json(payload), headers=all_headers, params=params
    )


def vendor_error(
    vendor: str, code: Any, message: Any, *, retryable: frozenset[Any]
) -> ChannelError:
    """A vendor's refusal in its own words; ``retryable`` are its codes for busy or rate
    limited, after which a later try can succeed."""
    return ChannelError(f"{vendor} error {code}: {message}", retry=code in retryable)


def outcome_of(call: Callable[[], SendOutcome]) -> SendOutcome:
    """Run a send; a :class:`ChannelError` becomes a failed outcome."""
    try:
        return call()
    except ChannelError as error:
        return error.outcome()


SendFunction = TypeVar("SendFunction", bound=Callable[..., SendOutcome])


def guarded(send: SendFunction) -> SendFunction:
    """Turn a :class:`ChannelError` raised by a backend's ``send`` into a failed outcome."""

    @functools.wraps(send)
    def wrapper(self: Any, message: OutgoingMessage, config: ChannelSettings) -> SendOutcome:
        return outcome_of(lambda: send(self, message, config))

    return cast(SendFunction, wrapper)


def markdown_text(message: OutgoingMessage) -> str:
    """The message as Markdown for group robots: the title as a heading, the text, the link."""
    lines = [f"### {message.title}"]
    if message.body:
        lines += ["", message.body]
    if message.url:
        lines += ["", f"[{link_label(message)}]({message.url})"]
    return "\n".join(lines)


def link_label(message: OutgoingMessage) -> str:
    """The label of the message's link, in the message's language."""
    with translation.override(message.language):
        return gettext("View details")

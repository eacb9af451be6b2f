"""The pure parts of device authentication over HTTP: signatures, Basic and Digest.

No database and no clock of its own: times are passed in. :mod:`anwang.devices.services`
looks the credentials up and decides; this module only parses and computes.

* ``X-Anwang-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``.
* HTTP Basic (RFC 7617).
* HTTP Digest (RFC 7616) with ``qop="auth"``, MD5 (what Hikvision cameras use) or SHA-256.
  Server nonces are stateless: the issue time and an HMAC of it under the ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final, Literal

from django.utils.crypto import salted_hmac

REALM: Final = "anwang"
SIGNATURE_TOLERANCE_SECONDS: Final = 300
"""How far a signature's timestamp may be from the server's clock, either way."""
NONCE_SECONDS: Final = 300
"""How long a Digest nonce is accepted after it was issued."""
DIGEST_ALGORITHMS: Final = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_NONCE_SALT: Final = "anwang.devices.http_auth.nonce"
_OPAQUE_SALT: Final = "anwang.devices.http_auth.opaque"
_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')
_HEX_RE = re.compile(r"[0-9a-fA-F]+")

NonceState = Literal["fresh", "stale", "forged"]


class MalformedCredentialsError(ValueError):
    """A header that does not have the form its scheme requires."""


# --------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class Signature:
    """A parsed ``X-Anwang-Signature`` header: the timestamp and the candidate signatures."""

    timestamp: int
    signatures: tuple[str, ...]


def parse_signature(header: str) -> Signature:
    """The parts of an ``X-Anwang-Signature`` header; several ``v1`` are allowed (a device
    rotating its secret may sign with both)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise MalformedCredentialsError("expected key=value pairs")
        if key == "t":
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                raise MalformedCredentialsError("t is not a unix time in seconds")
            timestamp = int(value)
        elif key == "v1":
            if len(value) != 64 or not _HEX_RE.fullmatch(value):
                raise MalformedCredentialsError("v1 is not a hex SHA-256")
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise MalformedCredentialsError("t and v1 are both required")
    return Signature(timestamp, tuple(signatures))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` signature of a body sent at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, signature: Signature, body: bytes) -> bool:
    """Whether any ``v1`` of the header is the body's signature (compared in constant time)."""
    expected = sign(secret, signature.timestamp, body)
    # Every candidate is compared, so the time taken does not tell which one matched.
    found = False
    for candidate in signature.signatures:
        found |= hmac.compare_digest(expected, candidate)
    return found


def timestamp_is_fresh(timestamp: int, now: float) -> bool:
    """Whether a signature's timestamp is within the tolerance of the server's clock."""
    return abs(now - timestamp) <= SIGNATURE_TOLERANCE_SECONDS


# --------------------------------------------------------------------------- Authorization


def split_authorization(header: str) -> tuple[str, str]:
    """An ``Authorization`` header's scheme (lower case) and the rest."""
    scheme, _sep, rest = header.strip().partition(" ")
    return scheme.lower(), rest.strip()


def parse_basic(credentials: str) -> tuple[str, str]:
    """User name and password of HTTP Basic credentials (UTF-8, as RFC 7617 recommends)."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise MalformedCredentialsError("not base64 of UTF-8 text") from error
    username, sep, password = decoded.partition(":")
    if not sep:
        raise MalformedCredentialsError("no colon between user name and password")
    return username, password


@dataclass(frozen=True)
class DigestCredentials:
    """The parameters of a Digest ``Authorization`` header this server can check."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str
    qop: str
    nc: str
    cnonce: str
    opaque: str | None


def parse_digest(credentials: str) -> DigestCredentials:
    """The parameters of Digest credentials; only ``qop=auth`` (it carries the nonce count
    that replays are recognised by) and the algorithms this server offers are accepted."""
    params: dict[str, str] = {}
    position = 0
    while position < len(credentials):
        match = _PARAM_RE.match(credentials, position)
        if match is None or match.end() == position:
            raise MalformedCredentialsError("not a list of name=value parameters")
        value = match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[match.group(1).lower()] = value
        position = match.end()
    required = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
    missing = [name for name in required if not params.get(name)]
    if missing:
        raise MalformedCredentialsError(f"missing {', '.join(missing)}")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in DIGEST_ALGORITHMS:
        raise MalformedCredentialsError(f"algorithm {algorithm} is not offered")
    if params["qop"] != "auth":
        raise MalformedCredentialsError("only qop=auth is offered")
    if len(params["nc"]) != 8 or not _HEX_RE.fullmatch(params["nc"]):
        raise MalformedCredentialsError("nc is not 8 hex digits")
    return DigestCredentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"].lower(),
        algorithm=algorithm,
        qop=params["qop"],
        nc=params["nc"].lower(),
        cnonce=params["cnonce"],
        opaque=params.get("opaque"),
    )


def digest_response(credentials: DigestCredentials, *, password: str, method: str) -> str:
    """The ``response`` a client knowing ``password`` sends (RFC 7616 section 3.4.1)."""
    hash_function = DIGEST_ALGORITHMS[credentials.algorithm]

    def h(text: str) -> str:
        return hash_function(text.encode("utf-8")).hexdigest()

    ha1 = h(f"{credentials.username}:{credentials.realm}:{password}")
    ha2 = h(f"{method}:{credentials.uri}")
    return h(
        f"{ha1}:{credentials.nonce}:{credentials.nc}:{credentials.cnonce}:{credentials.qop}:{ha2}"
    )


def digest_matches(credentials: DigestCredentials, *, password: str, method: str) -> bool:
    """Whether the client's ``response`` proves it knows ``password``."""
    expected = digest_response(credentials, password=password, method=method)
    return hmac.compare_digest(expected, credentials.response)


def make_nonce(now: float) -> str:
    """A server nonce: its issue time and an HMAC of it, so no nonce needs storing."""
    issued = str(int(now))
    return f"{issued}.{salted_hmac(_NONCE_SALT, issued).hexdigest()[:32]}"


def nonce_state(nonce: str, now: float) -> NonceState:
    """Whether a nonce is one of ours and still fresh, ours but expired, or not ours."""
    issued, _sep, mac = nonce.partition(".")
    if not issued.isascii() or not issued.isdigit() or len(issued) > 12:
        return "forged"
    expected = salted_hmac(_NONCE_SALT, issued).hexdigest()[:32]
    if not hmac.compare_digest(expected, mac):
        return "forged"
    age = now - int(issued)
    # A nonce from the future was not issued by this clock: as good as forged.
    if age < -5:
        return "forged"
    return "fresh" if age <= NONCE_SECONDS else "stale"


def nonce_expires_at(nonce: str) -> int:
    """The unix time after which a (well-formed) nonce is refused as stale."""
    return int(nonce.partition(".")[0]) + NONCE_SECONDS


def opaque() -> str:
    """The ``opaque`` value of our challenges (constant for this server)."""
    return salted_hmac(_OPAQUE_SALT, REALM).hexdigest()[:32]


def challenges(now: float, *, passwords: bool, stale: bool = False) -> str:
    """The ``WWW-Authenticate`` value of a 401: Digest (MD5 first, which cameras expect, then
    SHA-256) and Basic only when passwords may be sent (over TLS), and Bearer for tokens."""
    offered: list[str] = []
    if passwords:
        nonce = make_nonce(now)
        for algorithm in DIGEST_ALGORITHMS:
            offered.append(
                f'Digest realm="{REALM}", qop="auth", algorithm={algorithm}, '
                f'nonce="{nonce}", opaque="{opaque()}"' + (", stale=true" if stale else "")
            )
        offered.append(f'Basic realm="{REALM}", charset="UTF-8"')
    offered.append(f'Bearer realm="{REALM}"')
    return ", ".join(offered)

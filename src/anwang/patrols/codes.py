"""Signed checkpoint codes: what the QR label carries and what a guard types when the camera
cannot read it.

A code is ``varint(checkpoint id) + varint(version) + MAC``, written in Crockford base32
(digits and capitals without I, L, O, U, so nothing is mistaken for something else), followed by
one Luhn mod 32 check character and shown in groups of four: ``2J1K-7Q4M-R8D3-X``. The MAC is the
first 5 bytes (40 bits) of an HMAC-SHA256 over the community id, the checkpoint id, the version
and the checkpoint's own random salt, keyed by a key derived from ``ANWANG_INDEX_KEY``.

Why these choices:

* 40 bits of MAC keep a code typeable (13 to 16 characters for the first two million
  checkpoints) and still cannot be guessed online: codes are only checked by logged-in staff
  through the API, far below 2^40 attempts.
* The check character turns a typing mistake into "not a checkpoint code" instead of "forged":
  it catches every single wrong character and most swaps of neighbours.
* The version makes re-issuing possible: a copied label is retired by printing a new one, and
  the old one is then recognised as replaced (its MAC still verifies for its old version).
* The salt ties a code to this database: after a reinstall that reuses ids with the same key,
  old labels do not verify.
* ``ANWANG_INDEX_KEY`` does not change when encryption keys rotate and is backed up with them,
  so printed labels survive key rotation and restore; a domain-separated derivation keeps these
  MACs independent of the blind indexes computed with the same key.

Pure functions with no ORM, so they are easy to test and the phone's sync can reuse the format.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAC_BYTES = 5
GROUP = 4
# Crockford's reading of look-alikes; U is not in the alphabet and stays invalid.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALUES = {char: index for index, char in enumerate(ALPHABET)}


class MalformedCodeError(ValueError):
    """The text is not a checkpoint code (wrong characters, check character or length)."""


@dataclass(frozen=True)
class DecodedCode:
    """What a well-formed code claims: a checkpoint, a version, and the MAC to verify."""

    checkpoint_id: int
    version: int
    mac: bytes


def _key() -> bytes:
    return hashlib.sha256(b"anwang-checkpoint-code:" + settings.ANWANG_INDEX_KEY.encode()).digest()


def mac(*, community_id: int, checkpoint_id: int, version: int, salt: str) -> bytes:
    """The truncated MAC of one version of a checkpoint's code."""
    message = f"v1|{community_id}|{checkpoint_id}|{version}|{salt}".encode()
    return hmac.new(_key(), message, hashlib.sha256).digest()[:MAC_BYTES]


def _varint(number: int) -> bytes:
    if number < 0:
        raise ValueError("negative")
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, start: int) -> tuple[int, int]:
    number = 0
    shift = 0
    index = start
    while index < len(data):
        byte = data[index]
        number |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            if index - start > 1 and byte == 0:
                raise MalformedCodeError("non-minimal number")
            return number, index
        shift += 7
        if shift > 35:
            break
    raise MalformedCodeError("truncated number")


def _b32encode(data: bytes) -> str:
    bits = int.from_bytes(data, "big")
    count = len(data) * 8
    chars = -(-count // 5)
    bits <<= chars * 5 - count
    return "".join(ALPHABET[(bits >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


def _b32decode(text: str) -> bytes:
    size = len(text) * 5 // 8
    padding = len(text) * 5 - size * 8
    if -(-size * 8 // 5) != len(text):
        raise MalformedCodeError("length")
    bits = 0
    for char in text:
        bits = (bits << 5) | _VALUES[char]
    if bits & ((1 << padding) - 1):
        raise MalformedCodeError("padding")
    return (bits >> padding).to_bytes(size, "big")


def _check_char(body: str) -> str:
    """The Luhn mod 32 check character of ``body``."""
    factor = 2
    total = 0
    for char in reversed(body):
        addend = factor * _VALUES[char]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def encode(*, community_id: int, checkpoint_id: int, version: int, salt: str) -> str:
    """The code of one version of a checkpoint, grouped for reading: ``XXXX-XXXX-XXXX-X``."""
    raw = _varint(checkpoint_id) + _varint(version)
    raw += mac(community_id=community_id, checkpoint_id=checkpoint_id, version=version, salt=salt)
    body = _b32encode(raw)
    text = body + _check_char(body)
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))


def normalise(text: str) -> str:
    """A code as typed or scanned, without separators, in capitals, look-alikes mapped."""
    return "".join(text.split()).replace("-", "").upper().translate(_ALIASES)


def decode(text: str) -> DecodedCode:
    """Read a code; raises :class:`MalformedCodeError` when it is not one (the MAC is not
    checked here: that needs the checkpoint's salt)."""
    clean = normalise(text)
    if not 8 <= len(clean) <= 40 or any(char not in _VALUES for char in clean):
        raise MalformedCodeError("characters")
    body, check = clean[:-1], clean[-1]
    if _check_char(body) != check:
        raise MalformedCodeError("check character")
    raw = _b32decode(body)
    checkpoint_id, index = _read_varint(raw, 0)
    version, index = _read_varint(raw, index)
    tag = raw[index:]
    if len(tag) != MAC_BYTES or checkpoint_id < 1 or version < 1:
        raise MalformedCodeError("layout")
    return DecodedCode(checkpoint_id=checkpoint_id, version=version, mac=tag)


def matches(decoded: DecodedCode, *, community_id: int, salt: str) -> bool:
    """Whether a decoded code's MAC is the one this checkpoint would have for its version."""
    expected = mac(
        community_id=community_id,
        checkpoint_id=decoded.checkpoint_id,
        version=decoded.version,
        salt=salt,
    )
    return hmac.compare_digest(expected, decoded.mac)

"""Encryption of personal data at rest and blind indexes for exact look-ups.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the configured keys, newest
first; older keys still decrypt, so keys can be rotated. Because ciphertexts differ every time,
exact look-ups (is this phone number already registered?) go through a keyed HMAC of the
normalised value, the blind index.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keys() -> tuple[str, ...]:
    return tuple(settings.ANWANG_ENCRYPTION_KEYS)


def encrypt(value: str) -> str:
    """Encrypt a text value with the newest key."""
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a value written by :func:`encrypt` under any configured key."""
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("personal data cannot be decrypted with the configured keys") from error


def key_fingerprint(key: str | None = None) -> str:
    """A short fingerprint that names a key without revealing it (kept in backups)."""
    material = (key or _keys()[0]).encode()
    return hashlib.sha256(b"anwang-key-fingerprint:" + material).hexdigest()[:16]


def blind_index(value: str) -> str:
    """A keyed digest of a normalised value, for exact look-ups of encrypted data."""
    if not value:
        return ""
    # Keyed by its own secret, not an encryption key, so rotating encryption keys keeps
    # every existing index valid.
    key = hashlib.sha256(b"anwang-blind-index:" + settings.ANWANG_INDEX_KEY.encode()).digest()
    normalised = "".join(value.split()).upper()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


if TYPE_CHECKING:
    _TextField = models.TextField[str, str]
else:
    _TextField = models.TextField


class EncryptedCharField(_TextField):
    """A text field stored encrypted; Python code sees the plaintext."""

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return value
        return decrypt(value)

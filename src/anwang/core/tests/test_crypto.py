"""Encryption at rest and blind indexes."""

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from anwang.core import crypto


def test_round_trip_and_ciphertext_differs_each_time():
    first, second = crypto.encrypt("13812345678"), crypto.encrypt("13812345678")
    assert first != second
    assert "13812345678" not in first
    assert crypto.decrypt(first) == crypto.decrypt(second) == "13812345678"


def test_old_key_still_decrypts_after_rotation(settings):
    old_token = crypto.encrypt("110101199001011234")
    index_before = crypto.blind_index("13812345678")
    new_key = Fernet.generate_key().decode()
    with override_settings(ANWANG_ENCRYPTION_KEYS=[new_key, *settings.ANWANG_ENCRYPTION_KEYS]):
        assert crypto.decrypt(old_token) == "110101199001011234"
        assert crypto.key_fingerprint() == crypto.key_fingerprint(new_key)
        assert crypto.blind_index("13812345678") == index_before


def test_unknown_key_is_a_clear_error():
    token = Fernet(Fernet.generate_key()).encrypt(b"secret").decode()
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(token)


def test_blind_index_normalises_and_is_keyed():
    assert crypto.blind_index("138 1234 5678") == crypto.blind_index("13812345678")
    assert crypto.blind_index("11010119900101123x") == crypto.blind_index("11010119900101123X")
    assert crypto.blind_index("13812345678") != crypto.blind_index("13812345679")
    assert crypto.blind_index("") == ""

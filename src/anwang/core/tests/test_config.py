"""The typed settings model."""

import pytest
from pydantic import ValidationError

from anwang.config import AnwangSettings


def test_defaults_are_valid(tmp_path):
    config = AnwangSettings(home=tmp_path)
    assert config.language == "zh-hans"
    assert config.lockout_failures == 5
    assert config.lockout_window_minutes == 15


def test_keys_are_generated_once_into_the_home(tmp_path, monkeypatch):
    monkeypatch.delenv("ANWANG_SECRET_KEY")
    monkeypatch.delenv("ANWANG_ENCRYPTION_KEYS")
    monkeypatch.delenv("ANWANG_INDEX_KEY")
    config = AnwangSettings(home=tmp_path)
    secret, keys = config.resolved_secret_key(), config.resolved_encryption_keys()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "encryption.key").stat().st_mode & 0o777 == 0o600
    assert config.resolved_index_key() == (tmp_path / "index.key").read_text().strip()
    assert config.resolved_secret_key() == secret
    assert config.resolved_encryption_keys() == keys


@pytest.mark.parametrize(
    ("field", "value"),
    [("language", "fr"), ("map_tile_crs", "mercator"), ("DATABASE_URL", "mysql://x")],
)
def test_bad_values_are_rejected(tmp_path, field, value):
    with pytest.raises(ValidationError):
        AnwangSettings(home=tmp_path, **{field: value})


def test_unknown_setting_is_rejected(tmp_path):
    with pytest.raises(ValidationError):
        AnwangSettings(home=tmp_path, no_such_setting=1)  # type: ignore[call-arg]

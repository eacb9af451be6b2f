"""The service helper: skip locally, fail in CI."""

from __future__ import annotations

import socket

import pytest

from tests.services.conftest import require_service


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_missing_service_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Nothing"):
        require_service("Nothing", "127.0.0.1", _closed_port())


def test_a_missing_service_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs it running"):
        require_service("Nothing", "127.0.0.1", _closed_port())

"""Outside services: a missing one skips the test locally and fails it in CI (``CI=true``),
where every service the suite needs must be running."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import pytest


def under_ci() -> bool:
    """Whether the suite runs in CI."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, host: str, port: int, *, timeout: float = 2.0) -> None:
    """Skip (locally) or fail (in CI) unless something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as error:
        message = f"{name} is not reachable at {host}:{port} ({error})"
    if under_ci():
        pytest.fail(f"{message}; CI needs it running", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="require_service")
def require_service_fixture() -> Callable[..., None]:
    """:func:`require_service`, for tests that prefer a fixture to an import."""
    return require_service

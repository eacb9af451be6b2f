"""Network helpers."""

from __future__ import annotations

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address as the server saw it.

    ``X-Forwarded-For`` is deliberately not trusted: a client could forge it to dodge the
    login lockout. Behind a reverse proxy, configure the proxy to set ``REMOTE_ADDR``.
    """
    return str(request.META.get("REMOTE_ADDR") or "")

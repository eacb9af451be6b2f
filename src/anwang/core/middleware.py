"""Middleware that makes the client address and channel known to services."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from anwang.core.context import RequestMeta, acting_as
from anwang.core.net import client_address


class RequestContextMiddleware:
    """Sets :func:`anwang.core.context.current_meta` for the duration of a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with acting_as(RequestMeta(client_address=client_address(request), channel=channel)):
            return self.get_response(request)

"""Log a person out after the configured idle time."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LAST_SEEN_KEY = "anwang_last_seen"


class IdleTimeoutMiddleware:
    """Ends a browser session that has been idle longer than ``ANWANG_SESSION_IDLE_SECONDS``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not hasattr(request, "api_token"):
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if (
                last_seen is not None
                and now - int(last_seen) > settings.ANWANG_SESSION_IDLE_SECONDS
            ):
                logout(request)
            else:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)

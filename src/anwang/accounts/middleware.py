"""Log a person out after the configured idle time, and in any case after the session age."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LAST_SEEN_KEY = "anwang_last_seen"
STARTED_KEY = "anwang_session_started"
# Recording activity at most this often keeps most requests from writing the session.
TOUCH_EVERY_SECONDS = 60


class IdleTimeoutMiddleware:
    """Ends a browser session idle longer than ``ANWANG_SESSION_IDLE_SECONDS`` or older than
    ``SESSION_COOKIE_AGE`` since login, however active it has been."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not hasattr(request, "api_token"):
            now = int(time.time())
            session = request.session
            last_seen = int(session.get(LAST_SEEN_KEY, now))
            started = int(session.get(STARTED_KEY, now))
            idle_too_long = now - last_seen > settings.ANWANG_SESSION_IDLE_SECONDS
            too_old = now - started > settings.SESSION_COOKIE_AGE
            if idle_too_long or too_old:
                logout(request)
            else:
                session.setdefault(STARTED_KEY, started)
                if LAST_SEEN_KEY not in session or now - last_seen >= TOUCH_EVERY_SECONDS:
                    session[LAST_SEEN_KEY] = now
        return self.get_response(request)

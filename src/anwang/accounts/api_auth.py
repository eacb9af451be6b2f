"""API authentication: bearer tokens and browser sessions."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from anwang.accounts.models import User
from anwang.accounts.services import api_token_authenticate


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token made by ``anwang token create``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = api_token_authenticate(raw_token=token)
        if found is None:
            return None
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


class SessionCsrfAuth(SessionAuth):
    """The browser session of a logged-in person; writes need the CSRF token."""

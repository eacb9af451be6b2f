"""Small helpers for API handlers: who is calling, and their scope."""

from __future__ import annotations

from django.http import HttpRequest

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, scope_for


def request_scope(request: HttpRequest) -> Scope:
    """The scope of the API caller, honouring a token limited to one community."""
    return scope_for(request.user, token=getattr(request, "api_token", None))


def request_actor(request: HttpRequest) -> User:
    """The person calling (the API authenticates every route that writes)."""
    user = request.user
    assert isinstance(user, User)
    return user

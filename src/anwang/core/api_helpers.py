"""Small helpers for API handlers: the caller's scope."""

from __future__ import annotations

from django.http import HttpRequest

from anwang.accounts.selectors import Scope, scope_for


def request_scope(request: HttpRequest) -> Scope:
    """The scope of the API caller, honouring a token limited to one community."""
    return scope_for(request.user, token=getattr(request, "api_token", None))

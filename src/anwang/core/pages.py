"""Small helpers every app's page views share: who is asking, query parameters, pagination and
showing a service's complaint on a form."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, scope_for
from anwang.core.errors import ServiceError

M = TypeVar("M", bound=Model)

PAGE_SIZE = 50


def page_user(request: HttpRequest) -> User:
    """The logged-in person (views using this are behind ``login_required``)."""
    user = request.user
    assert isinstance(user, User)
    return user


def page_scope(request: HttpRequest) -> Scope:
    """What the person asking may see."""
    return scope_for(request.user)


def int_param(value: str | None) -> int | None:
    """A whole number from a query parameter; ``None`` when empty or not a number."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def paginate(
    request: HttpRequest, queryset: QuerySet[M], per_page: int = PAGE_SIZE
) -> tuple[Page[M], str]:
    """One page of a list, and the query string of its filters for the page links."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = [(key, value) for key, value in request.GET.items() if key != "page" and value]
    return page, urlencode(params)


def attach_service_error(
    form: forms.Form, error: ServiceError, fields: dict[str, str] | None = None
) -> None:
    """Show a service error beside the field it concerns (``fields`` maps service field names
    to form field names), or above the form."""
    name = (fields or {}).get(error.field or "", error.field)
    form.add_error(name if name in form.fields else None, str(error.message))

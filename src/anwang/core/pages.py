"""Small helpers every app's page views share: who is asking, query parameters, pagination,
handing a form to a service and showing a service's complaint on a form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, scope_for
from anwang.core.errors import ServiceError

M = TypeVar("M", bound=Model)
T = TypeVar("T")

PAGE_SIZE = 50


def page_user(request: HttpRequest) -> User:
    """The logged-in person (views using this are behind ``login_required``)."""
    user = request.user
    assert isinstance(user, User)
    return user


def page_scope(request: HttpRequest) -> Scope:
    """What the person asking may see."""
    return scope_for(request.user)


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx asked, wanting a fragment rather than the whole page."""
    return request.headers.get("HX-Request") == "true"


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


def submit_form(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], T],
    *,
    success: Callable[[T], str] | str,
    fields: dict[str, str] | None = None,
) -> T | None:
    """On a valid POST, hand the form's data to a service and say so with ``success`` (a message,
    or one made from what was saved); show a service error on the form. The saved object, or
    ``None`` when the form is to be shown (again)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.cleaned_data)
    except ServiceError as error:
        attach_service_error(form, error, fields)
        return None
    messages.success(request, success(saved) if callable(success) else success)
    return saved

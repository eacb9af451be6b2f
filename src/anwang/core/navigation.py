"""Role-based navigation: apps register their menu entries with the permission they need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.functional import Promise

if TYPE_CHECKING:
    from anwang.accounts.choices import Permission
    from anwang.accounts.selectors import Scope


@dataclass(frozen=True)
class NavEntry:
    """A menu entry, shown to people holding ``permission`` somewhere (or matching ``visible``)."""

    key: str
    label: str | Promise
    url_name: str
    icon: str = ""
    permission: Permission | None = None
    visible: Callable[[Scope], bool] | None = None
    order: int = 100


@dataclass(frozen=True)
class NavItem:
    """A menu entry resolved for one request."""

    key: str
    label: str | Promise
    url: str
    icon: str
    active: bool


_entries: dict[str, NavEntry] = {}


def register_nav(entry: NavEntry) -> None:
    """Add a menu entry (called from an app's ``AppConfig.ready``)."""
    _entries[entry.key] = entry


def navigation_for(scope: Scope, path: str) -> list[NavItem]:
    """The menu entries this person may use, the one matching ``path`` marked active."""
    items: list[NavItem] = []
    for entry in sorted(_entries.values(), key=lambda e: e.order):
        allowed = (
            entry.visible(scope)
            if entry.visible is not None
            else entry.permission is None or scope.has_anywhere(entry.permission)
        )
        if not allowed:
            continue
        url = reverse(entry.url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append(NavItem(entry.key, entry.label, url, entry.icon, active))
    return items

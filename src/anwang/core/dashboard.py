"""Dashboard figures: each app registers a function that counts what it owns, scoped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise

if TYPE_CHECKING:
    from anwang.accounts.selectors import Scope
    from anwang.places.models import Community


@dataclass(frozen=True)
class Stat:
    """One figure on the dashboard, with the page that lists what it counts."""

    key: str
    label: str | Promise
    value: int
    url: str = ""
    tone: str = ""  # "", "warn" or "key" for figures that need attention


StatSource = Callable[["Scope", "Community | None"], list[Stat]]
_sources: list[StatSource] = []


def register_stats(source: StatSource) -> None:
    """Add a source of dashboard figures (called from an app's ``AppConfig.ready``)."""
    if source not in _sources:
        _sources.append(source)


def dashboard_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Every figure this person may see for the community (all theirs when ``None``)."""
    return [stat for source in _sources for stat in source(scope, community)]

"""Cross-cutting reads: which communities a person sees and which one is current."""

from __future__ import annotations

from django.http import HttpRequest

from anwang.accounts.selectors import Scope
from anwang.places.models import Community

CURRENT_COMMUNITY_KEY = "anwang_community"


def visible_communities(scope: Scope) -> list[Community]:
    """Communities the person has any role in, by name."""
    return list(Community.objects.filter(id__in=scope.community_ids()).select_related("region"))


def current_community(request: HttpRequest, scope: Scope) -> Community | None:
    """The community chosen with the switcher, else the person's first community."""
    ids = scope.community_ids()
    chosen = request.session.get(CURRENT_COMMUNITY_KEY) if hasattr(request, "session") else None
    if chosen in ids:
        return Community.objects.filter(pk=chosen).first()
    return Community.objects.filter(id__in=ids).order_by("name").first()

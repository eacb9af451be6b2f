"""Template context every page needs: navigation for the person's roles, community switcher,
display preferences and map settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from anwang.core.navigation import navigation_for


def anwang(request: HttpRequest) -> dict[str, Any]:
    """Navigation, current community and preferences for the base template."""
    from anwang.accounts.selectors import scope_for
    from anwang.core.selectors import current_community, visible_communities

    user = getattr(request, "user", None)
    scope = scope_for(user)
    if not scope.is_authenticated:
        return {"nav_items": [], "large_text": request.COOKIES.get("anwang_large_text") == "1"}
    communities = visible_communities(scope)
    return {
        "scope": scope,
        "nav_items": navigation_for(scope, request.path),
        "communities": communities,
        "current_community": current_community(request, scope),
        "large_text": bool(getattr(user, "large_text", False))
        or request.COOKIES.get("anwang_large_text") == "1",
        "map_tile_url": settings.ANWANG_MAP_TILE_URL,
        "map_tile_crs": settings.ANWANG_MAP_TILE_CRS,
        # Counted only if the page shows it (one indexed count, never cached).
        "unread_messages": SimpleLazyObject(lambda: _unread_messages(user)),
    }


def _unread_messages(user: Any) -> int:
    from anwang.notifications.selectors import unread_count

    return unread_count(user)

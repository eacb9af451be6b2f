"""Cross-cutting reads: which communities a person sees and which one is current."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
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


def communities_permitted(scope: Scope, permission: Permission) -> QuerySet[Community]:
    """Communities where the person holds ``permission`` (all, platform-wide), by name."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(id__in=scope.community_ids(permission))


def page_community(
    request: HttpRequest,
    scope: Scope,
    *,
    allowed: Callable[[Scope, int], bool],
    fallback: QuerySet[Community] | None,
) -> Community:
    """The community a page works in: the one chosen in the top bar if ``allowed`` there, else
    the first of ``fallback`` (``None``: no fallback, as for pages that change something).

    Raises PermissionDenied when there is none."""
    chosen = current_community(request, scope)
    if chosen is not None and allowed(scope, chosen.pk):
        return chosen
    community = fallback.first() if fallback is not None else None
    if community is None:
        raise PermissionDenied
    return community

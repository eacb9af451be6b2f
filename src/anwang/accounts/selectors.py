"""Who may see what: a user's scope, derived from memberships, and account reads.

Every selector in every app takes a :class:`Scope` and filters by it, so a page or endpoint
cannot forget the community check: an object of another community is simply not found.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import ApiToken, Membership, User
from anwang.accounts.roles import COMMUNITY_STAFF_ROLES, ROLE_PERMISSIONS, STAFF_ROLES

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    """The communities a user belongs to, with the roles held in each."""

    user: User | None
    roles_by_community: dict[int, frozenset[Role]] = field(default_factory=dict)
    is_platform_admin: bool = False
    token_community_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        """Whether anyone is logged in."""
        return self.user is not None

    def community_ids(self, permission: Permission | None = None) -> set[int]:
        """Communities in which the user holds the permission (any membership if ``None``)."""
        ids = {
            community_id
            for community_id, roles in self.roles_by_community.items()
            if permission is None or any(permission in ROLE_PERMISSIONS[r] for r in roles)
        }
        if self.token_community_id is not None:
            ids &= {self.token_community_id}
        return ids

    def has(self, permission: Permission, community_id: int | None) -> bool:
        """Whether the user holds the permission in that community."""
        return community_id is not None and community_id in self.community_ids(permission)

    def has_anywhere(self, permission: Permission) -> bool:
        """Whether the user holds the permission in at least one community."""
        return bool(self.community_ids(permission))

    def roles(self, community_id: int) -> frozenset[Role]:
        """The roles held in one community."""
        return self.roles_by_community.get(community_id, frozenset())

    def all_roles(self) -> set[Role]:
        """Every role the user holds anywhere."""
        return {role for roles in self.roles_by_community.values() for role in roles}

    @property
    def is_staff_member(self) -> bool:
        """Whether any role held is a staff role (two-factor login is offered)."""
        return self.is_platform_admin or bool(self.all_roles() & STAFF_ROLES)

    def filter(
        self, queryset: QuerySet[M], permission: Permission, lookup: str = "community_id"
    ) -> QuerySet[M]:
        """Restrict a queryset to the communities where the permission is held."""
        return queryset.filter(**{f"{lookup}__in": self.community_ids(permission)})

    def require(self, permission: Permission, community_id: int | None) -> None:
        """Raise 404 unless the permission is held in that community (404, not 403, so the
        existence of another community's objects is not revealed)."""
        if not self.has(permission, community_id):
            raise Http404


ANONYMOUS_SCOPE = Scope(user=None)


def scope_for(user: User | AnonymousUser | None, *, token: ApiToken | None = None) -> Scope:
    """The scope of a user, computed once per request and cached on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS_SCOPE
    assert isinstance(user, User)
    cache_key = f"_anwang_scope_{token.pk if token else 0}"
    cached: Scope | None = getattr(user, cache_key, None)
    if cached is not None:
        return cached
    from anwang.places.models import Community

    roles: dict[int, set[Role]] = {}
    if user.is_superuser:
        for community_id in Community.objects.values_list("id", flat=True):
            roles.setdefault(community_id, set()).add(Role.COMMUNITY_ADMIN)
    memberships = Membership.objects.filter(user=user).values_list(
        "role", "community_id", "region_id"
    )
    region_roles: dict[int, set[Role]] = {}
    for role, community_id, region_id in memberships:
        if community_id is not None:
            roles.setdefault(community_id, set()).add(Role(role))
        elif region_id is not None:
            region_roles.setdefault(region_id, set()).add(Role(role))
    if region_roles:
        for community_id, region_id in Community.objects.filter(
            region_id__in=region_roles
        ).values_list("id", "region_id"):
            roles.setdefault(community_id, set()).update(region_roles[region_id])
    scope = Scope(
        user=user,
        roles_by_community={cid: frozenset(r) for cid, r in roles.items()},
        is_platform_admin=user.is_superuser,
        token_community_id=token.community_id if token else None,
    )
    setattr(user, cache_key, scope)
    return scope


def scope_reset(user: Any) -> None:
    """Forget a cached scope (after memberships change in the same request)."""
    for name in [n for n in vars(user) if n.startswith("_anwang_scope_")]:
        delattr(user, name)


# Authorisation of writes -------------------------------------------------------------------------
#
# Services check who may make a change themselves, so every caller (pages, the API, the admin,
# commands, background work) gets the same rules. ``actor`` and ``scope`` both ``None`` is the
# system itself (commands, demo data): always allowed. ``scope`` is passed when the caller's
# scope is narrower than their account's (an API token limited to one community).


def service_scope(actor: User | None, scope: Scope | None) -> Scope | None:
    """The scope a service checks: the one given, else the actor's; ``None`` for the system."""
    if scope is not None:
        return scope
    if actor is None:
        return None
    return scope_for(actor)


def acts_platform_wide(scope: Scope) -> bool:
    """Whether the scope is a platform administrator's, not narrowed to one community."""
    # A token limited to one community never acts platform-wide, even a superuser's.
    return scope.is_platform_admin and scope.token_community_id is None


def is_unrestricted(*, actor: User | None, scope: Scope | None) -> bool:
    """Whether the caller is the system itself or a platform administrator acting as such."""
    resolved = service_scope(actor, scope)
    return resolved is None or acts_platform_wide(resolved)


def authorize(
    *,
    actor: User | None,
    scope: Scope | None,
    permission: Permission,
    community_id: int | None,
    visible_with: Permission | None = None,
) -> None:
    """Allow a change only to holders of ``permission`` in the community (and to the system
    and platform administrators). Anyone else gets 403 if ``visible_with`` lets them see the
    community's objects, and 404 otherwise, so nothing of a community is revealed to outsiders.
    """
    resolved = service_scope(actor, scope)
    if resolved is None or acts_platform_wide(resolved):
        return
    if resolved.has(permission, community_id):
        return
    if visible_with is not None and resolved.has(visible_with, community_id):
        raise PermissionDenied
    raise Http404


def authorize_platform_admin(
    *,
    actor: User | None,
    scope: Scope | None,
    visible_with: Permission | None = None,
    community_ids: Collection[int] = (),
) -> None:
    """Allow a change only to platform administrators (and the system). Anyone else gets 404
    when the object belongs to ``community_ids`` and they hold ``visible_with`` in none of
    them (they cannot see it), and 403 otherwise."""
    resolved = service_scope(actor, scope)
    if resolved is None or acts_platform_wide(resolved):
        return
    if (
        visible_with is not None
        and community_ids
        and not set(community_ids) & resolved.community_ids(visible_with)
    ):
        raise Http404
    raise PermissionDenied


def staff_memberships(scope: Scope, community_id: int, q: str = "") -> QuerySet[Membership]:
    """Staff and volunteer roles in a community the person manages, optionally searched by
    user name, display name or email address."""
    scope.require(Permission.MANAGE_STAFF, community_id)
    memberships = Membership.objects.filter(
        community_id=community_id, role__in=[role.value for role in COMMUNITY_STAFF_ROLES]
    )
    q = q.strip()
    if q:
        memberships = memberships.filter(
            Q(user__username__icontains=q)
            | Q(user__display_name__icontains=q)
            | Q(user__email__icontains=q)
        )
    return memberships.select_related("user", "community").order_by("user__username", "role", "pk")


def staff_membership_get(scope: Scope, membership_id: int) -> Membership:
    """One membership of a community the person manages staff in; 404 otherwise."""
    membership = (
        scope.filter(Membership.objects.all(), Permission.MANAGE_STAFF)
        .select_related("user", "community")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def memberships_visible(
    scope: Scope, community_id: int | None = None, q: str = ""
) -> QuerySet[Membership]:
    """The person's own memberships and every membership of the communities where they manage
    staff."""
    from anwang.places.models import Community

    if scope.user is None:
        return Membership.objects.none()
    managed = Q(community_id__in=scope.community_ids(Permission.MANAGE_STAFF))
    own = Q(user=scope.user)
    if scope.token_community_id is not None:
        # A token limited to one community shows nothing of the others, not even own roles.
        visible = scope.community_ids()
        own &= Q(community_id__in=visible) | Q(
            region_id__in=Community.objects.filter(id__in=visible).values("region_id")
        )
    memberships = Membership.objects.filter(managed | own)
    if community_id is not None:
        memberships = memberships.filter(community_id=community_id)
    q = q.strip()
    if q:
        memberships = memberships.filter(
            Q(user__username__icontains=q)
            | Q(user__display_name__icontains=q)
            | Q(user__email__icontains=q)
        )
    return memberships.select_related("user", "community", "region").order_by(
        "community_id", "user__username", "role", "pk"
    )


def community_member_get(scope: Scope, community_id: int, username: str) -> User:
    """A person with any role in a community the caller manages staff in, by user name."""
    scope.require(Permission.MANAGE_STAFF, community_id)
    user = (
        User.objects.filter(
            username__iexact=username.strip(), memberships__community_id=community_id
        )
        .distinct()
        .first()
    )
    if user is None:
        raise Http404
    return user


def community_member_by_id(scope: Scope, community_id: int, user_id: int) -> User:
    """A person with any role in a community the caller manages staff in, by id."""
    scope.require(Permission.MANAGE_STAFF, community_id)
    user = (
        User.objects.filter(pk=user_id, memberships__community_id=community_id).distinct().first()
    )
    if user is None:
        raise Http404
    return user


def api_tokens_of(scope: Scope) -> QuerySet[ApiToken]:
    """The person's own API tokens, newest first."""
    if scope.user is None:
        return ApiToken.objects.none()
    return (
        ApiToken.objects.filter(user=scope.user)
        .select_related("community")
        .order_by("-created_at", "-pk")
    )


def api_token_get(scope: Scope, token_id: int) -> ApiToken:
    """One of the person's own API tokens; anyone else's is not found."""
    token = api_tokens_of(scope).filter(pk=token_id).first()
    if token is None:
        raise Http404
    return token


def token_communities(scope: Scope) -> list[tuple[int, str]]:
    """Communities a new API token of the person may be limited to, as (id, name)."""
    from anwang.places.models import Community

    return list(
        Community.objects.filter(id__in=scope.community_ids())
        .order_by("name")
        .values_list("id", "name")
    )


def user_summary(scope: Scope) -> list[tuple[int, str, list[Role]]]:
    """The person's communities with the roles held in each, as (id, name, roles)."""
    from anwang.places.models import Community

    names = dict(Community.objects.filter(id__in=scope.community_ids()).values_list("id", "name"))
    return [
        (community_id, names[community_id], sorted(scope.roles(community_id)))
        for community_id in sorted(names, key=lambda cid: names[cid])
    ]

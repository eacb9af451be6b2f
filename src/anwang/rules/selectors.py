"""Reads of the rules domain, already scoped to what the caller may see.

A community's rules are visible to those who manage them (:attr:`Permission.MANAGE_RULES`) and,
read-only, to those who see its alarms (:attr:`Permission.VIEW_ALARMS`). A ``*_get`` of a rule
in a community the caller cannot see raises :class:`Http404`.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.places.models import Community
from anwang.rules.models import Rule
from anwang.rules.yaml_io import dump_rules

VIEW = Permission.VIEW_ALARMS
MANAGE = Permission.MANAGE_RULES


def visible_community_ids(scope: Scope) -> set[int]:
    """Communities whose rules the caller may see (not meaningful platform-wide)."""
    return scope.community_ids(VIEW) | scope.community_ids(MANAGE)


def viewable_communities(scope: Scope) -> QuerySet[Community]:
    """Communities whose rules the caller may see, by name."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(id__in=visible_community_ids(scope))


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the rules of a community."""
    return acts_platform_wide(scope) or (
        community_id is not None and community_id in visible_community_ids(scope)
    )


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may edit the rules of a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def can_view_anywhere(scope: Scope) -> bool:
    """Whether the caller may see the rules of at least one community (the menu entry)."""
    return acts_platform_wide(scope) or bool(visible_community_ids(scope))


def rule_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    kind: str | None = None,
    enabled: bool | None = None,
    builtin: bool | None = None,
    q: str | None = None,
) -> QuerySet[Rule]:
    """Rules the caller may see, by community, priority and name."""
    rules = Rule.objects.select_related("community")
    if not acts_platform_wide(scope):
        rules = rules.filter(community_id__in=visible_community_ids(scope))
    if community_id is not None:
        rules = rules.filter(community_id=community_id)
    if kind:
        rules = rules.filter(kind=kind)
    if enabled is not None:
        rules = rules.filter(enabled=enabled)
    if builtin is not None:
        rules = rules.exclude(builtin="") if builtin else rules.filter(builtin="")
    if q and q.strip():
        rules = rules.filter(name__icontains=q.strip())
    return rules.order_by("community__name", "priority", "name", "id")


def rule_get(scope: Scope, rule_id: int) -> Rule:
    """One visible rule."""
    found = rule_list(scope).filter(pk=rule_id).first()
    if found is None:
        raise Http404
    return found


def rules_export_yaml(scope: Scope, community: Community) -> str:
    """Every rule of a community as a YAML file that :func:`rules_import_yaml` reads again."""
    if not can_view(scope, community.pk):
        raise Http404
    return dump_rules(rule_list(scope, community_id=community.pk))

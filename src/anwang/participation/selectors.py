"""Reads of the points ledger, already scoped: everyone sees their own entries and balance;
holders of :attr:`Permission.VIEW_VOLUNTEERS` see every entry of their communities."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.participation.choices import PointSource
from anwang.participation.models import DEFAULT_RULES, PointEntry, PointRule
from anwang.places.models import Community

VIEW = Permission.VIEW_VOLUNTEERS
MANAGE = Permission.MANAGE_VOLUNTEERS


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see everyone's points in a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may reverse and adjust points and edit the rules of a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def point_entries(
    scope: Scope,
    *,
    community_id: int | None = None,
    user_id: int | None = None,
    source_kind: str | None = None,
    mine: bool = False,
) -> QuerySet[PointEntry]:
    """Ledger entries the caller may see (only their own with ``mine``), newest first."""
    if scope.user is None:
        return PointEntry.objects.none()
    own = Q(user=scope.user, community_id__in=scope.community_ids())
    if mine:
        visible = own
    elif acts_platform_wide(scope):
        visible = Q()
    else:
        visible = own | Q(community_id__in=scope.community_ids(VIEW))
    entries = PointEntry.objects.filter(visible)
    if community_id is not None:
        entries = entries.filter(community_id=community_id)
    if user_id is not None:
        entries = entries.filter(user_id=user_id)
    if source_kind:
        entries = entries.filter(source_kind=source_kind)
    return entries.select_related("community", "user", "reversal", "reverses").order_by(
        "-occurred_at", "-id"
    )


def point_entry_get(scope: Scope, entry_id: int) -> PointEntry:
    """One visible ledger entry; 404 otherwise."""
    found = point_entries(scope).filter(pk=entry_id).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class Balance:
    """A person's points in one community, in total and by source."""

    community: Community
    total: int
    by_source: dict[str, int]


def points_balance(user: User, community_id: int | None = None) -> int:
    """A person's points (in one community, or everywhere)."""
    entries = PointEntry.objects.filter(user=user)
    if community_id is not None:
        entries = entries.filter(community_id=community_id)
    return int(entries.aggregate(total=Sum("points"))["total"] or 0)


def balances(scope: Scope, user: User | None = None) -> list[Balance]:
    """A person's balance per community (the caller's own unless ``user`` is one they may
    see in those communities), communities with entries only, by name."""
    target = user or scope.user
    if target is None:
        return []
    rows = (
        point_entries(scope, user_id=target.pk, mine=target == scope.user)
        .order_by()
        .values("community_id", "source_kind")
        .annotate(total=Sum("points"))
    )
    totals: dict[int, dict[str, int]] = {}
    for row in rows:
        totals.setdefault(row["community_id"], {})[row["source_kind"]] = int(row["total"] or 0)
    communities = Community.objects.filter(pk__in=totals).order_by("name", "id")
    return [
        Balance(community, sum(totals[community.pk].values()), totals[community.pk])
        for community in communities
    ]


@dataclass(frozen=True)
class LeaderRow:
    """One person on a community's leaderboard."""

    rank: int
    user_id: int
    name: str
    points: int


def leaderboard(scope: Scope, community_id: int, *, limit: int = 20) -> list[LeaderRow]:
    """The people with the most points in a community (for those who may see volunteers)."""
    if not can_view(scope, community_id):
        raise Http404
    rows = (
        PointEntry.objects.filter(community_id=community_id)
        .values("user_id", "user__username", "user__display_name")
        .annotate(total=Sum("points"))
        .filter(total__gt=0)
        .order_by("-total", "user_id")[:limit]
    )
    return [
        LeaderRow(
            rank,
            row["user_id"],
            row["user__display_name"] or row["user__username"],
            int(row["total"]),
        )
        for rank, row in enumerate(rows, start=1)
    ]


def point_rules(scope: Scope, community: Community) -> list[PointRule]:
    """Every source's rule in a community: the stored ones, the defaults for the rest (unsaved),
    in the order of :class:`PointSource`."""
    if not can_view(scope, community.pk):
        raise Http404
    stored = {rule.source_kind: rule for rule in PointRule.objects.filter(community=community)}
    rules: list[PointRule] = []
    for source in PointSource:
        rule = stored.get(source.value)
        if rule is None:
            default = DEFAULT_RULES[source]
            rule = PointRule(
                community=community,
                source_kind=source.value,
                points_per_unit=default.points_per_unit,
                daily_cap=default.daily_cap,
                is_active=True,
            )
        rules.append(rule)
    return rules


def community_people(scope: Scope, community_id: int) -> QuerySet[User]:
    """People with any role in a community, for choosing whose points to adjust."""
    if not can_view(scope, community_id):
        raise Http404
    return (
        User.objects.filter(memberships__community_id=community_id).distinct().order_by("username")
    )

"""JSON API of the points ledger: entries, balances, the leaderboard, rules, reversals and
manual adjustments.

Everyone reads their own entries and balance; holders of ``view_volunteers`` read their
communities' ledger, rules and leaderboard; ``manage_volunteers`` reverses, adjusts and edits
rules. Another community's entries are 404.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.participation import selectors, services
from anwang.participation.choices import PointSource
from anwang.participation.models import PointEntry, PointRule
from anwang.participation.schemas import (
    AdjustIn,
    BalanceOut,
    LeaderOut,
    PointEntryOut,
    PointRuleIn,
    PointRuleOut,
    ReverseIn,
)
from anwang.places.models import Community

router = Router(tags=["participation"])
PAGE_SIZE = 50


def _community(scope: Scope, community_id: int) -> Community:
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not selectors.can_view(scope, community_id):
        raise Http404
    return community


def _rule_out(rule: PointRule) -> dict[str, Any]:
    return {
        "community": rule.community_id,
        "source_kind": rule.source_kind,
        "points_per_unit": rule.points_per_unit,
        "daily_cap": rule.daily_cap,
        "is_active": rule.is_active,
        "stored": rule.pk is not None,
    }


@router.get(
    "/participation/points/entries", response=list[PointEntryOut], summary="List point entries"
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def entry_list(
    request: HttpRequest,
    community_id: int | None = None,
    user_id: int | None = None,
    source_kind: PointSource | None = None,
    mine: bool = False,
) -> QuerySet[PointEntry]:
    """Ledger entries: the caller's own, and (for those who see volunteers) their communities'."""
    return selectors.point_entries(
        request_scope(request),
        community_id=community_id,
        user_id=user_id,
        source_kind=source_kind,
        mine=mine,
    )


@router.get(
    "/participation/points/entries/{point_entry_id}",
    response=PointEntryOut,
    summary="Get a point entry",
)
def entry_get(request: HttpRequest, point_entry_id: int) -> PointEntry:
    """One ledger entry."""
    return selectors.point_entry_get(request_scope(request), point_entry_id)


@router.post(
    "/participation/points/entries/{point_entry_id}/reverse",
    response={201: PointEntryOut},
    summary="Reverse a point entry",
)
def entry_reverse(
    request: HttpRequest, point_entry_id: int, payload: ReverseIn
) -> Status[PointEntry]:
    """Cancel an entry with a linked negative one; a reason is required, once only."""
    scope = request_scope(request)
    entry = selectors.point_entry_get(scope, point_entry_id)
    reversal = services.points_reverse(
        actor=request_actor(request), scope=scope, entry=entry, reason=payload.reason
    )
    return Status(201, reversal)


@router.post(
    "/participation/points/adjustments",
    response={201: PointEntryOut},
    summary="Adjust a person's points",
)
def adjust(request: HttpRequest, payload: AdjustIn) -> Status[PointEntry]:
    """Add or take away points by hand, with a reason."""
    scope = request_scope(request)
    community = _community(scope, payload.community_id)
    if not selectors.can_manage(scope, community.pk):
        raise PermissionDenied
    user = User.objects.filter(pk=payload.user_id).first()
    if user is None:
        raise ServiceError(_("This person does not belong to the community."), field="user")
    entry = services.points_adjust(
        actor=request_actor(request),
        scope=scope,
        community=community,
        user=user,
        points=payload.points,
        reason=payload.reason,
    )
    return Status(201, entry)


@router.get("/participation/points/balance", response=list[BalanceOut], summary="Points balance")
def balance(request: HttpRequest, user_id: int | None = None) -> list[dict[str, Any]]:
    """The caller's points per community, or (``user_id``, for those who see volunteers) a
    person's points in the caller's communities."""
    scope = request_scope(request)
    target = None
    if user_id is not None and (scope.user is None or user_id != scope.user.pk):
        target = User.objects.filter(pk=user_id).first()
        if target is None:
            raise Http404
    found = selectors.balances(scope, target)
    user_pk = target.pk if target is not None else (scope.user.pk if scope.user else 0)
    return [
        {
            "community": item.community.pk,
            "user": user_pk,
            "total": item.total,
            "by_source": item.by_source,
        }
        for item in found
    ]


@router.get(
    "/participation/points/leaderboard", response=list[LeaderOut], summary="Points leaderboard"
)
def leaderboard(request: HttpRequest, community_id: int, limit: int = 20) -> list[Any]:
    """The people with the most points in a community."""
    scope = request_scope(request)
    _community(scope, community_id)
    rows = selectors.leaderboard(scope, community_id, limit=max(1, min(limit, 100)))
    return [
        {"rank": row.rank, "user": row.user_id, "name": row.name, "points": row.points}
        for row in rows
    ]


@router.get("/participation/points/rules", response=list[PointRuleOut], summary="Point rules")
def rule_list(request: HttpRequest, community_id: int) -> list[dict[str, Any]]:
    """Every source's rule in a community, defaults included."""
    scope = request_scope(request)
    community = _community(scope, community_id)
    return [_rule_out(rule) for rule in selectors.point_rules(scope, community)]


@router.put("/participation/points/rules", response=PointRuleOut, summary="Set a point rule")
def rule_set(request: HttpRequest, payload: PointRuleIn) -> dict[str, Any]:
    """Change one source's rule in a community; later awards use it."""
    scope = request_scope(request)
    community = _community(scope, payload.community_id)
    rule = services.point_rule_set(
        actor=request_actor(request),
        scope=scope,
        community=community,
        source_kind=payload.source_kind,
        points_per_unit=payload.points_per_unit,
        daily_cap=payload.daily_cap,
        is_active=payload.is_active,
    )
    return _rule_out(rule)

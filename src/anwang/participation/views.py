"""Pages of the points ledger: my points (phone), the community ledger with the leaderboard,
reversing an entry, manual adjustments, and the rules editor."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user, paginate
from anwang.core.selectors import communities_permitted, page_community
from anwang.participation import selectors, services
from anwang.participation.choices import PointSource
from anwang.participation.forms import AdjustForm, ReasonForm, RuleForm
from anwang.places.models import Community


def _community(request: HttpRequest, scope: Scope, *, manage: bool = False) -> Community:
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage if manage else selectors.can_view,
        fallback=None if manage else communities_permitted(scope, selectors.VIEW),
    )


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    """The person's own points per community and their recent entries."""
    scope = page_scope(request)
    page, query = paginate(request, selectors.point_entries(scope, mine=True))
    return render(
        request,
        "participation/my_points.html",
        {"balances": selectors.balances(scope), "page": page, "query": query},
    )


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    """The community's points ledger, filtered by person and source, with the leaderboard."""
    scope = page_scope(request)
    community = _community(request, scope)
    source = request.GET.get("source", "")
    user_id = int_param(request.GET.get("user"))
    entries = selectors.point_entries(
        scope,
        community_id=community.pk,
        user_id=user_id,
        source_kind=source if source in PointSource.values else None,
    )
    page, query = paginate(request, entries)
    return render(
        request,
        "participation/ledger.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "source": source,
            "sources": PointSource.choices,
            "user_id": user_id,
            "people": selectors.community_people(scope, community.pk),
            "leaders": selectors.leaderboard(scope, community.pk, limit=10),
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


@login_required
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Reverse a ledger entry, with a reason (admins)."""
    scope = page_scope(request)
    entry = selectors.point_entry_get(scope, pk)
    if not selectors.can_manage(scope, entry.community_id):
        raise PermissionDenied
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.points_reverse(
                actor=page_user(request),
                scope=scope,
                entry=entry,
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("The entry was reversed."))
            return redirect("participation:ledger")
    return render(
        request,
        "participation/reverse.html",
        {"entry": entry, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def adjust(request: HttpRequest) -> HttpResponse:
    """Add or take away a person's points by hand (admins)."""
    scope = page_scope(request)
    community = _community(request, scope, manage=True)
    form = AdjustForm(request.POST or None, people=selectors.community_people(scope, community.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.points_adjust(
                actor=page_user(request),
                scope=scope,
                community=community,
                user=form.cleaned_data["user"],
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("The points were adjusted."))
            return redirect("participation:ledger")
    return render(
        request,
        "participation/adjust.html",
        {"community": community, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    """The community's point rules; admins edit them all in one form."""
    scope = page_scope(request)
    community = _community(request, scope)
    can_manage = selectors.can_manage(scope, community.pk)
    current = selectors.point_rules(scope, community)
    posted = request.POST if request.method == "POST" and can_manage else None
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    rows = [
        (
            rule,
            RuleForm(
                posted,
                prefix=rule.source_kind,
                initial={
                    "points_per_unit": rule.points_per_unit,
                    "daily_cap": rule.daily_cap,
                    "is_active": rule.is_active,
                },
            ),
        )
        for rule in current
    ]
    if posted is not None and all(form.is_valid() for _rule, form in rows):
        try:
            with transaction.atomic():
                for rule, form in rows:
                    services.point_rule_set(
                        actor=page_user(request),
                        scope=scope,
                        community=community,
                        source_kind=rule.source_kind,
                        **form.cleaned_data,
                    )
        except ServiceError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The point rules were saved."))
            return redirect("participation:rules")
    return render(
        request,
        "participation/rules.html",
        {"community": community, "rows": rows, "can_manage": can_manage},
    )

"""Pages of CAP 1.2: an alert's CAP document and the community's Atom feed (public for
alerts to the whole community), the alerts received from upstream warning systems with the
one-action relay to residents, and the upstream feeds. Reads go through the selectors, writes
through :mod:`anwang.alerts.cap_in`; the views hold no rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from anwang.accounts.selectors import Scope, scope_for
from anwang.alerts import cap_in, selectors
from anwang.alerts.cap import ATOM_CONTENT_TYPE, CAP_CONTENT_TYPE, alert_to_cap
from anwang.alerts.cap import atom_feed as build_atom_feed
from anwang.alerts.cap_forms import FeedForm, IncomingFilterForm, RelayForm
from anwang.alerts.choices import IncomingState, MsgType
from anwang.alerts.models import CapFeed, IncomingAlert, SafetyAlert
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, page_scope, page_user, paginate
from anwang.places.models import Community

FEED_SIZE = 50
"""The most alerts the Atom feed lists."""


# --------------------------------------------------------------------------- public


@require_GET
def alert_cap(request: HttpRequest, alert_id: int) -> HttpResponse:
    """The alert as a CAP 1.2 document: to anyone for a public alert in force, else to those
    who may read the alert; 404 for everyone else."""
    alert = (
        SafetyAlert.objects.select_related("community", "references", "relayed_from")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or not selectors.may_read_alert(scope_for(request.user), alert):
        raise Http404
    response = HttpResponse(
        alert_to_cap(alert, base_url=request.build_absolute_uri("/")),
        content_type=CAP_CONTENT_TYPE,
    )
    response["Content-Disposition"] = f'inline; filename="{alert.identifier}.xml"'
    return response


@require_GET
def atom_feed(request: HttpRequest, community_slug: str) -> HttpResponse:
    """The Atom feed of the community's public alerts in force."""
    community = get_object_or_404(Community, slug=community_slug)
    alerts = list(selectors.public_alerts(community.pk).select_related("community")[:FEED_SIZE])
    body = build_atom_feed(community, alerts, request_url=request.build_absolute_uri())
    return HttpResponse(body, content_type=ATOM_CONTENT_TYPE)


# --------------------------------------------------------------------------- received alerts


def _require_reader(scope: Scope) -> list[Community]:
    communities = list(selectors.alert_communities(scope))
    if not communities:
        raise PermissionDenied
    return communities


@login_required
@require_GET
def incoming_list(request: HttpRequest) -> HttpResponse:
    """Alerts received from upstream warning systems, newest first, with filters."""
    scope = page_scope(request)
    communities = _require_reader(scope)
    form = IncomingFilterForm(request.GET or None, communities=communities)
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    incoming = selectors.incoming_list(scope, community_id=values.get("community"))
    if values.get("state"):
        incoming = incoming.filter(state=values["state"])
    page, query = paginate(request, incoming)
    return render(
        request,
        "alerts/incoming_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "several_communities": len(communities) > 1,
            "may_manage_feeds": any(selectors.may_publish(scope, c.pk) for c in communities),
        },
    )


def _render_detail(
    request: HttpRequest,
    scope: Scope,
    incoming: IncomingAlert,
    *,
    relay_form: RelayForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_publish = selectors.may_publish(scope, incoming.community_id)
    may_relay = (
        may_publish
        and incoming.state != IncomingState.RELAYED
        and incoming.msg_type != MsgType.CANCEL
    )
    return render(
        request,
        "alerts/incoming_detail.html",
        {
            "incoming": incoming,
            "infos": incoming.parsed.get("infos") or [],
            "referenced": incoming.parsed.get("referenced") or [],
            "references": incoming.parsed.get("references") or [],
            "relays": list(selectors.relayed_alerts(incoming)),
            "may_publish": may_publish,
            "may_relay": may_relay,
            "may_dismiss": may_publish and incoming.state == IncomingState.NEW,
            "relay_form": (relay_form or RelayForm()) if may_relay else None,
        },
        status=status,
    )


@login_required
@require_GET
def incoming_detail(request: HttpRequest, incoming_id: int) -> HttpResponse:
    """A received alert: every info block, its area, the document as received, and the
    relay form."""
    scope = page_scope(request)
    return _render_detail(request, scope, selectors.incoming_get(scope, incoming_id))


@login_required
@require_POST
def incoming_relay(request: HttpRequest, incoming_id: int) -> HttpResponse:
    """Relay a received alert to the community's residents; on to the new alert's page."""
    scope = page_scope(request)
    incoming = selectors.incoming_get(scope, incoming_id)
    form = RelayForm(request.POST)
    if form.is_valid():
        try:
            alert = cap_in.incoming_relay(
                actor=page_user(request),
                scope=scope,
                incoming=incoming,
                channels=form.cleaned_data["channels"],
                confirmation=form.cleaned_data["confirmation"],
                publish=form.cleaned_data["publish"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            if alert.published_at is not None:
                messages.success(
                    request,
                    _("Sent to %(households)d households.")
                    % {"households": alert.households_reached},
                )
            else:
                messages.success(request, _("Saved as a draft: check it and send it."))
            return redirect("alerts:detail", alert_id=alert.pk)
    return _render_detail(request, scope, incoming, relay_form=form, status=400)


@login_required
@require_POST
def incoming_dismiss(request: HttpRequest, incoming_id: int) -> HttpResponse:
    """Mark a received alert as not for the residents."""
    scope = page_scope(request)
    incoming = selectors.incoming_get(scope, incoming_id)
    try:
        cap_in.incoming_dismiss(actor=page_user(request), scope=scope, incoming=incoming)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Dismissed."))
    return redirect("alerts:incoming_detail", incoming_id=incoming.pk)


# --------------------------------------------------------------------------- feeds


@login_required
@require_GET
def feed_list(request: HttpRequest) -> HttpResponse:
    """The upstream CAP feeds, when each was last fetched and what went wrong."""
    scope = page_scope(request)
    communities = _require_reader(scope)
    feeds = list(selectors.feed_list(scope))
    manageable = {c.pk for c in communities if selectors.may_publish(scope, c.pk)}
    return render(
        request,
        "alerts/feed_list.html",
        {
            "feeds": feeds,
            "manageable": manageable,
            "may_add": bool(manageable),
            "several_communities": len(communities) > 1,
        },
    )


def _feed_form_page(
    request: HttpRequest, form: FeedForm, feed: CapFeed | None, status: int = 200
) -> HttpResponse:
    return render(request, "alerts/feed_form.html", {"form": form, "feed": feed}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def feed_create(request: HttpRequest) -> HttpResponse:
    """Add an upstream CAP feed."""
    scope = page_scope(request)
    communities = list(selectors.publish_communities(scope))
    if not communities:
        raise PermissionDenied
    form = FeedForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        community = next(c for c in communities if c.pk == data["community"])
        try:
            feed = cap_in.feed_create(
                actor=page_user(request),
                scope=scope,
                community=community,
                name=data["name"],
                url=data["url"],
                poll_minutes=data["poll_minutes"],
                is_enabled=data["is_enabled"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Feed “%(name)s” added.") % {"name": feed.name})
            return redirect("alerts:feeds")
    return _feed_form_page(request, form, None, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def feed_edit(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Change an upstream CAP feed."""
    scope = page_scope(request)
    feed = selectors.feed_get(scope, feed_id)
    if not selectors.may_publish(scope, feed.community_id):
        raise PermissionDenied
    initial = {
        "name": feed.name,
        "url": feed.url,
        "poll_minutes": feed.poll_minutes,
        "is_enabled": feed.is_enabled,
    }
    form = FeedForm(request.POST or None, initial=initial, communities=[], editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            feed = cap_in.feed_update(
                actor=page_user(request), scope=scope, feed=feed, changes=form.cleaned_data
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Feed “%(name)s” saved.") % {"name": feed.name})
            return redirect("alerts:feeds")
    return _feed_form_page(request, form, feed, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def feed_delete(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Remove an upstream CAP feed (what it brought stays)."""
    scope = page_scope(request)
    feed = selectors.feed_get(scope, feed_id)
    name = feed.name
    try:
        cap_in.feed_delete(actor=page_user(request), scope=scope, feed=feed)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Feed “%(name)s” removed.") % {"name": name})
    return redirect("alerts:feeds")


@login_required
@require_POST
def feed_fetch(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Fetch a feed now and say what came of it."""
    scope = page_scope(request)
    feed = selectors.feed_get(scope, feed_id)
    stored = cap_in.feed_fetch_now(actor=page_user(request), scope=scope, feed=feed)
    feed.refresh_from_db()
    if feed.last_error:
        messages.error(
            request,
            _("Fetching “%(name)s” went wrong: %(error)s")
            % {"name": feed.name, "error": feed.last_error},
        )
    if stored or not feed.last_error:
        messages.success(
            request,
            ngettext("%(count)d new alert received.", "%(count)d new alerts received.", stored)
            % {"count": stored},
        )
    return redirect(reverse("alerts:feeds"))

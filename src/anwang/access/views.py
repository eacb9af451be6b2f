"""Management pages of access control: the overview with its figures, access points,
residents' credentials (numbers masked; an audited reveal on the credential's own page),
a resident's access page with consents and recent movements (audited), the access log and
the watch list. Visitor passes and the gate are in :mod:`anwang.access.pass_views`.

Views read through :mod:`anwang.access.selectors` and write through
:mod:`anwang.access.services`; they hold no rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from anwang.access import retention, selectors, services
from anwang.access.choices import AccessResult, CredentialStatus
from anwang.access.forms import (
    AccessPointForm,
    ConsentForm,
    CredentialEditForm,
    CredentialFilterForm,
    CredentialForm,
    CredentialStatusForm,
    EventFilterForm,
    WatchForm,
)
from anwang.access.models import AccessEvent, Credential
from anwang.access.schemas import mask_value
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, page_scope, page_user, paginate, submit_form
from anwang.core.selectors import page_community
from anwang.places.models import Community

MOVEMENT_DAYS = 30
"""How far back a resident's access page shows their movements."""


def _view_community(request: HttpRequest) -> Community:
    """The community the page shows: the chosen one if the person sees its access data, else
    the first that they do (404 when none)."""
    scope = page_scope(request)
    fallback = selectors.view_communities(scope)
    if not fallback.exists():
        raise Http404
    return page_community(request, scope, allowed=selectors.may_view, fallback=fallback)


def _manage_community(request: HttpRequest) -> Community:
    """The community a change is made in (403 for viewers, 404 for anyone else)."""
    community = _view_community(request)
    if not selectors.may_manage(page_scope(request), community.pk):
        raise PermissionDenied
    return community


def _masked(credentials: list[Credential]) -> list[Credential]:
    """The credentials with a ``masked`` attribute the templates show."""
    for credential in credentials:
        credential.masked = mask_value(str(credential.value or ""))  # type: ignore[attr-defined]
    return credentials


def _reasons(events: list[AccessEvent]) -> list[AccessEvent]:
    for event in events:
        event.reason_words = selectors.reason_text(event.reason)  # type: ignore[attr-defined]
        event.finding = selectors.has_finding(event)  # type: ignore[attr-defined]
    return events


# --------------------------------------------------------------------------- overview


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Figures of the community's access control and links to its pages."""
    scope = page_scope(request)
    community = _view_community(request)
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today_events = AccessEvent.objects.filter(community=community, at__gte=today)
    figures = [
        (
            "points",
            _("Access points in use"),
            selectors.access_points(scope, community_id=community.pk, active=True).count(),
            reverse("access:points"),
        ),
        (
            "credentials",
            _("Active credentials"),
            selectors.credentials(
                scope, community_id=community.pk, status=CredentialStatus.ACTIVE
            ).count(),
            reverse("access:credentials") + "?status=active",
        ),
        (
            "granted",
            _("Let in today"),
            today_events.filter(result=AccessResult.GRANTED).count(),
            reverse("access:events") + "?result=granted",
        ),
        (
            "denied",
            _("Refused today"),
            today_events.filter(result=AccessResult.DENIED).count(),
            reverse("access:events") + "?result=denied",
        ),
        (
            "watch",
            _("Watch-list entries in force"),
            selectors.watch_entries(scope, community_id=community.pk).count(),
            reverse("access:watch_list"),
        ),
    ]
    return render(
        request,
        "access/home.html",
        {
            "community": community,
            "figures": figures,
            "can_manage": selectors.may_manage(scope, community.pk),
            "subnav": "home",
        },
    )


# --------------------------------------------------------------------------- access points


@login_required
def point_list(request: HttpRequest) -> HttpResponse:
    """The community's gates, unit doors and barriers with their devices."""
    scope = page_scope(request)
    community = _view_community(request)
    return render(
        request,
        "access/point_list.html",
        {
            "community": community,
            "points": selectors.access_points(scope, community_id=community.pk),
            "can_manage": selectors.may_manage(scope, community.pk),
            "subnav": "points",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def point_create(request: HttpRequest) -> HttpResponse:
    """Add an access point, with a device of the community."""
    scope = page_scope(request)
    community = _manage_community(request)
    form = AccessPointForm(request.POST or None, community=community)
    saved = submit_form(
        request,
        form,
        lambda data: services.access_point_create(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=_("The access point was added."),
    )
    if saved is not None:
        return redirect("access:points")
    return render(
        request,
        "access/point_form.html",
        {"form": form, "point": None, "community": community, "subnav": "points"},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def point_edit(request: HttpRequest, point_id: int) -> HttpResponse:
    """Change an access point or take it out of use."""
    scope = page_scope(request)
    point = selectors.access_point_get(scope, point_id)
    if not selectors.may_manage(scope, point.community_id):
        raise PermissionDenied
    form = AccessPointForm(
        request.POST or None,
        community=point.community,
        editing=True,
        initial=AccessPointForm.initial_of(point),
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.access_point_update(
            actor=page_user(request), scope=scope, point=point, **data
        ),
        success=_("The access point was saved."),
    )
    if saved is not None:
        return redirect("access:points")
    return render(
        request,
        "access/point_form.html",
        {"form": form, "point": point, "community": point.community, "subnav": "points"},
        status=400 if request.method == "POST" else 200,
    )


# --------------------------------------------------------------------------- credentials


@login_required
def credential_list(request: HttpRequest) -> HttpResponse:
    """Credentials of the community (or of one resident), numbers masked."""
    scope = page_scope(request)
    community = _view_community(request)
    resident = None
    resident_id = int_param(request.GET.get("resident"))
    if resident_id is not None:
        resident = selectors.resident_get(scope, resident_id)
    form = CredentialFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    found = selectors.credentials(
        scope,
        community_id=resident.community_id if resident else community.pk,
        resident_id=resident_id,
        kind=filters.get("kind") or None,
        status=filters.get("status") or None,
        number=filters.get("number") or "",
    )
    page, query = paginate(request, found)
    _masked(list(page.object_list))
    return render(
        request,
        "access/credential_list.html",
        {
            "community": community,
            "resident": resident,
            "form": form,
            "page": page,
            "query": query,
            "can_manage": selectors.may_manage(scope, community.pk),
            "subnav": "credentials",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def credential_create(request: HttpRequest) -> HttpResponse:
    """Give a resident (``?resident=``) a card, QR code, plate or face credential."""
    scope = page_scope(request)
    resident_id = int_param(request.GET.get("resident") or request.POST.get("resident"))
    if resident_id is None:
        messages.info(request, _("Choose the resident first, on their access page."))
        return redirect("access:credentials")
    resident = selectors.resident_get(scope, resident_id)
    if not selectors.may_manage(scope, resident.community_id):
        raise PermissionDenied
    form = CredentialForm(request.POST or None)
    saved = submit_form(
        request,
        form,
        lambda data: services.credential_create(
            actor=page_user(request), scope=scope, resident=resident, **data
        ),
        success=_("The credential was given."),
    )
    if saved is not None:
        return redirect("access:resident", resident_id=resident.pk)
    return render(
        request,
        "access/credential_form.html",
        {
            "form": form,
            "resident": resident,
            "face_consent": services.face_consent_in_force(resident),
            "subnav": "credentials",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def credential_detail(request: HttpRequest, credential_id: int) -> HttpResponse:
    """One credential: masked number (full, audited, for managers on asking), its window
    and status, its recent uses; edit the window, report it lost or stolen, revoke it."""
    scope = page_scope(request)
    credential = selectors.credential_get(scope, credential_id)
    can_manage = selectors.may_manage(scope, credential.community_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action and not can_manage:
        raise PermissionDenied
    revealed = ""
    edit_form = CredentialEditForm(
        request.POST if action == "edit" else None,
        initial=CredentialEditForm.initial_of(credential),
    )
    status_form = CredentialStatusForm(request.POST if action == "status" else None)
    if action == "reveal":
        revealed = services.credential_reveal(
            actor=page_user(request), scope=scope, credential=credential
        )
    elif action == "edit":
        if submit_form(
            request,
            edit_form,
            lambda data: services.credential_update(
                actor=page_user(request), scope=scope, credential=credential, **data
            ),
            success=_("The credential was saved."),
        ):
            return redirect("access:credential_detail", credential_id=credential.pk)
    elif action == "status":
        if submit_form(
            request,
            status_form,
            lambda data: services.credential_set_status(
                actor=page_user(request), scope=scope, credential=credential, **data
            ),
            success=_("The credential's status was changed."),
        ):
            return redirect("access:credential_detail", credential_id=credential.pk)
    elif action:
        raise Http404
    credential.masked = mask_value(str(credential.value or ""))  # type: ignore[attr-defined]
    failed = action in ("edit", "status")
    return render(
        request,
        "access/credential_detail.html",
        {
            "credential": credential,
            "resident": credential.resident,
            "revealed": revealed,
            "can_manage": can_manage,
            "edit_form": edit_form,
            "status_form": status_form,
            "watch_entries": credential.watch_entries.filter(ended_at__isnull=True),
            "subnav": "credentials",
        },
        status=400 if failed else 200,
    )


# --------------------------------------------------------------------------- residents


@login_required
def resident_access(request: HttpRequest, resident_id: int) -> HttpResponse:
    """A resident's credentials, consents and, recorded in the audit log, their recent
    movements."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    return _resident_page(request, resident)


def _resident_page(
    request: HttpRequest,
    resident: Any,
    *,
    erase_error: str = "",
    erase_typed: str = "",
    status: int = 200,
) -> HttpResponse:
    scope = page_scope(request)
    access = selectors.resident_access(scope, resident)
    since = timezone.now() - dt.timedelta(days=MOVEMENT_DAYS)
    movements = selectors.resident_movements(scope, page_user(request), resident, since=since)
    return render(
        request,
        "access/resident.html",
        {
            "resident": resident,
            "access": access,
            "credentials": _masked(access.credentials),
            "movements": _reasons(movements),
            "days": MOVEMENT_DAYS,
            "can_manage": selectors.may_manage(scope, resident.community_id),
            "consent_form": ConsentForm(),
            "retention_days": retention.retention_days(),
            "erase_error": erase_error,
            "erase_typed": erase_typed,
            "subnav": "credentials",
        },
        status=status,
    )


@login_required
def resident_export(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Download everything access control holds about the resident as JSON (numbers masked
    unless the person manages access); audited."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    data = retention.resident_access_export(
        actor=page_user(request), scope=scope, resident=resident
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = (
        f'attachment; filename="access-data-{resident.pk}-{stamp}.json"'
    )
    return response


@login_required
@require_POST
def resident_erase(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Erase the resident's access records, credentials and watch-list entries, after the
    person typed the resident's name to confirm (managers of access only)."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    if not selectors.may_manage(scope, resident.community_id):
        raise PermissionDenied
    typed = request.POST.get("confirm", "").strip()
    if typed != resident.name.strip():
        return _resident_page(
            request,
            resident,
            erase_error=_("Type the resident's name exactly to confirm the erasure."),
            erase_typed=typed,
            status=400,
        )
    counts = retention.resident_access_erase(
        actor=page_user(request), scope=scope, resident=resident
    )
    messages.success(
        request,
        _(
            "The resident's access data was erased: %(events)d access records, "
            "%(credentials)d credentials and %(watch)d watch-list entries. Consent records "
            "are kept as proof of what was agreed."
        )
        % {
            "events": counts["access_events"],
            "credentials": counts["credentials"],
            "watch": counts["watch_entries"],
        },
    )
    return redirect("access:resident", resident_id=resident.pk)


@login_required
@require_http_methods(["GET", "POST"])
def consent_record(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Record a resident's consent, or (``withdraw`` = a consent's id) withdraw one."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    if not selectors.may_manage(scope, resident.community_id):
        raise PermissionDenied
    withdraw = int_param(request.POST.get("withdraw")) if request.method == "POST" else None
    if withdraw is not None:
        consent = selectors.consent_get(scope, withdraw)
        if consent.resident_id != resident.pk:
            raise Http404
        try:
            services.consent_withdraw(actor=page_user(request), scope=scope, consent=consent)
        except ServiceError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The consent was withdrawn."))
        return redirect("access:resident", resident_id=resident.pk)
    form = ConsentForm(request.POST or None)
    saved = submit_form(
        request,
        form,
        lambda data: services.consent_record(
            actor=page_user(request), scope=scope, resident=resident, **data
        ),
        success=_("The consent was recorded."),
    )
    if saved is not None:
        return redirect("access:resident", resident_id=resident.pk)
    return render(
        request,
        "access/consent_form.html",
        {"form": form, "resident": resident, "subnav": "credentials"},
        status=400 if request.method == "POST" else 200,
    )


# --------------------------------------------------------------------------- access log


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    """The access log by point, result and day (audited). One person's accesses are read
    only on their access page, which is audited as such."""
    scope = page_scope(request)
    community = _view_community(request)
    form = EventFilterForm(request.GET or None, community=community)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    since = until = None
    day: dt.date | None = filters.get("date")
    if day is not None:
        since = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        until = since + dt.timedelta(days=1)
    point = filters.get("point")
    events = selectors.access_events(
        scope,
        community_id=community.pk,
        point_id=point.pk if point is not None else None,
        result=filters.get("result") or None,
        since=since,
        until=until,
        unknown_only=bool(filters.get("unknown_only")),
    )
    return render(
        request,
        "access/event_list.html",
        {
            "community": community,
            "form": form,
            "events": _reasons(events),
            "limit": 200,
            "subnav": "events",
        },
    )


# --------------------------------------------------------------------------- watch list


@login_required
def watch_list(request: HttpRequest) -> HttpResponse:
    """Entries in force (``?ended=1``: ended ones): lost or stolen credentials, barred
    persons and vehicles."""
    scope = page_scope(request)
    community = _view_community(request)
    ended = request.GET.get("ended") == "1"
    entries = selectors.watch_entries(scope, community_id=community.pk, active=not ended)
    page, query = paginate(request, entries)
    for entry in page.object_list:
        if entry.credential is not None:
            entry.masked = mask_value(str(entry.credential.value or ""))
    return render(
        request,
        "access/watch_list.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "ended": ended,
            "can_manage": selectors.may_manage(scope, community.pk),
            "subnav": "watch",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def watch_create(request: HttpRequest) -> HttpResponse:
    """Put a credential, a person or a plate on the watch list."""
    scope = page_scope(request)
    community = _manage_community(request)
    form = WatchForm(request.POST or None, community=community)
    saved = submit_form(
        request,
        form,
        lambda data: services.watch_add(
            actor=page_user(request), scope=scope, community=community, **data
        ),
        success=_("The entry was added to the watch list."),
    )
    if saved is not None:
        return redirect("access:watch_list")
    return render(
        request,
        "access/watch_form.html",
        {"form": form, "community": community, "subnav": "watch"},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def watch_end(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Take an entry off the watch list."""
    scope = page_scope(request)
    entry = selectors.watch_entry_get(scope, entry_id)
    try:
        services.watch_end(actor=page_user(request), scope=scope, entry=entry)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The entry was taken off the watch list."))
    return redirect("access:watch_list")

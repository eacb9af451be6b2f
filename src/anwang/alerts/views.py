"""Pages of safety alerts: the list, composing from a template with a live reach preview
(htmx), the alert as staff and as residents see it (with the confirm button), the resident's
own alerts, the follow-up list of households that have not confirmed and turning them into
door-knock visits with one click, and the visitor's phone pages.

Views read through :mod:`anwang.alerts.selectors` and write through
:mod:`anwang.alerts.services`; they hold no rules. The CAP pages are in :mod:`cap_views`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.choices import Role
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.alerts import selectors, services
from anwang.alerts.alert_templates import ALERT_TEMPLATES, TEMPLATES_BY_KEY
from anwang.alerts.choices import AlertState, Confirmation, KnockOutcome, KnockStatus
from anwang.alerts.forms import (
    CHOSEN,
    GRID_WORKERS,
    WHOLE,
    AlertForm,
    CancelForm,
    DoorKnockForm,
    KnockRecordForm,
    ListFilterForm,
    TargetingForm,
)
from anwang.alerts.models import AlertRecipient, DoorKnockTask, SafetyAlert
from anwang.core.errors import ServiceError
from anwang.core.pages import (
    attach_service_error,
    int_param,
    is_htmx,
    page_scope,
    page_user,
    paginate,
)
from anwang.core.selectors import current_community
from anwang.people.models import HouseholdMember
from anwang.places.models import Community

SEVERITY_TONE = {"Extreme": "key", "Severe": "key", "Moderate": "warn"}
"""The badge colour of each CAP severity."""
VISITOR_ROLES = (Role.GRID_WORKER, Role.VOLUNTEER)
"""Who may be sent on door-knock visits from the follow-up page."""


# --------------------------------------------------------------------------- helpers


def _alert(alert_id: int) -> SafetyAlert:
    return get_object_or_404(SafetyAlert.objects.select_related("community"), pk=alert_id)


def _viewable(scope: Scope, alert_id: int) -> SafetyAlert:
    """An alert of a community whose alerts the person reads; 404 for anyone else."""
    alert = _alert(alert_id)
    if not selectors.may_view(scope, alert.community_id):
        raise Http404
    return alert


def _publishable(scope: Scope, alert_id: int) -> SafetyAlert:
    """An alert the person may change: 403 for readers, 404 for anyone else."""
    alert = _viewable(scope, alert_id)
    if not selectors.may_publish(scope, alert.community_id):
        raise PermissionDenied
    return alert


def _compose_community(
    request: HttpRequest, scope: Scope, data: Any
) -> tuple[list[Community], Community]:
    """The communities the person may alert, and the one the form is for."""
    communities = list(selectors.publish_communities(scope))
    if not communities:
        if selectors.alert_communities(scope).exists():
            raise PermissionDenied
        raise Http404
    by_id = {community.pk: community for community in communities}
    wanted = int_param((data if data is not None else request.GET).get("community"))
    chosen = current_community(request, scope)
    community = by_id.get(wanted or 0) or (
        chosen if chosen is not None and chosen.pk in by_id else communities[0]
    )
    return communities, community


def _local_input(value: dt.datetime | None) -> str:
    """A time as a datetime-local field shows it, in the site's time zone."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _template_initial(key: str, now: dt.datetime) -> dict[str, Any]:
    template = TEMPLATES_BY_KEY.get(key)
    if template is None:
        return {"expires_at": _local_input(now + services.DEFAULT_VALIDITY)}
    return {
        "template": template.key,
        "event": str(template.event),
        "category": template.category,
        "severity": template.severity,
        "urgency": template.urgency,
        "certainty": template.certainty,
        "response_type": template.response_type,
        "headline": str(template.headline),
        "description": str(template.description),
        "instruction": str(template.instruction),
        "confirmation": template.confirmation,
        "expires_at": _local_input(now + dt.timedelta(hours=template.valid_hours)),
    }


def _alert_initial(alert: SafetyAlert) -> dict[str, Any]:
    return {
        "community": alert.community_id,
        "template": alert.template,
        "event": alert.event,
        "category": alert.category,
        "severity": alert.severity,
        "urgency": alert.urgency,
        "certainty": alert.certainty,
        "response_type": alert.response_type,
        "headline": alert.headline,
        "description": alert.description,
        "instruction": alert.instruction,
        "area_description": alert.area_description,
        "whole_community": WHOLE if alert.whole_community else CHOSEN,
        "building_ids": list(alert.buildings.values_list("pk", flat=True)),
        "unit_ids": list(alert.units.values_list("pk", flat=True)),
        "household_ids": list(alert.households.values_list("pk", flat=True)),
        "groups": list(alert.groups),
        "channels": list(alert.channels),
        "confirmation": alert.confirmation,
        "publish_at": _local_input(alert.publish_at),
        "expires_at": _local_input(alert.expires_at),
    }


def _preview_of(form: TargetingForm, community: Community) -> dict[str, Any]:
    """The reach preview of what the form says, or why there is none yet."""
    if not form.is_valid() and any(
        name in form.errors
        for name in ("whole_community", "building_ids", "unit_ids", "household_ids", "groups")
    ):
        return {"preview": None, "preview_note": _("Correct the targeting to see the reach.")}
    targeting = form.as_targeting(community.pk)
    if not targeting.whole_community and not (
        targeting.building_ids or targeting.unit_ids or targeting.household_ids
    ):
        return {
            "preview": None,
            "preview_note": _("Choose buildings, units or households to see the reach."),
        }
    channels = form.cleaned_data.get("channels") or []
    return {"preview": selectors.reach_preview(targeting, channels), "preview_note": ""}


def _send_message(alert: SafetyAlert) -> str:
    if alert.state == AlertState.SCHEDULED:
        return _("The alert is scheduled for %(at)s.") % {
            "at": timezone.localtime(alert.publish_at).strftime("%Y-%m-%d %H:%M")
            if alert.publish_at
            else ""
        }
    return ngettext(
        "The alert was sent to %(count)d household.",
        "The alert was sent to %(count)d households.",
        alert.households_reached,
    ) % {"count": alert.households_reached}


def _render_form(
    request: HttpRequest,
    form: AlertForm,
    community: Community,
    communities: list[Community],
    *,
    alert: SafetyAlert | None = None,
    status: int = 200,
) -> HttpResponse:
    # The preview is worked out from what the form says now (kept on errors).
    preview_form = TargetingForm(
        form.data if form.is_bound else None,
        communities=communities,
        initial=form.initial,
    )
    preview_form.set_places(community)
    if not preview_form.is_bound:
        preview_form = TargetingForm(
            {
                "community": community.pk,
                "whole_community": form.initial.get("whole_community", WHOLE),
                "building_ids": form.initial.get("building_ids", []),
                "unit_ids": form.initial.get("unit_ids", []),
                "household_ids": form.initial.get("household_ids", []),
                "groups": form.initial.get("groups", []),
                "channels": form.initial.get("channels", []),
            },
            communities=communities,
        )
        preview_form.set_places(community)
    return render(
        request,
        "alerts/form.html",
        {
            "form": form,
            "alert": alert,
            "community": community,
            "several_communities": len(communities) > 1,
            "communities": communities,
            "templates": ALERT_TEMPLATES,
            "chosen_template": form["template"].value() or "",
            **_preview_of(preview_form, community),
        },
        status=status,
    )


def _save_and_maybe_send(
    request: HttpRequest, form: AlertForm, community: Community, alert: SafetyAlert | None
) -> SafetyAlert | None:
    """Create or update the alert from a valid form; send it when Send was pressed. Nothing is
    kept when sending fails, so the form is shown again as it was typed."""
    user = page_user(request)
    scope = page_scope(request)
    values = form.cleaned_data
    send = request.POST.get("action") == "send"
    try:
        with transaction.atomic():
            if alert is None:
                alert = services.alert_create(
                    actor=user,
                    scope=scope,
                    community=community,
                    template=values.get("template") or "",
                    **form.changes(),
                    **form.targeting(),
                )
            else:
                changes = form.changes()
                if not changes["area_description"]:
                    # Left empty: the area written when the alert was created stays.
                    del changes["area_description"]
                alert = services.alert_update(
                    actor=user,
                    scope=scope,
                    alert=alert,
                    changes=changes,
                    targeting=form.targeting(),
                )
            if send:
                alert = services.alert_publish(actor=user, scope=scope, alert=alert)
    except ServiceError as error:
        attach_service_error(form, error, {"reason": "description"})
        return None
    if send:
        messages.success(request, _send_message(alert))
    else:
        messages.success(request, _("The draft was saved."))
    return alert


# --------------------------------------------------------------------------- list


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    """The alerts of the person's communities, newest first, with their confirmations."""
    scope = page_scope(request)
    communities = list(selectors.alert_communities(scope))
    if not communities:
        raise PermissionDenied
    form = ListFilterForm(request.GET or None, communities=communities)
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    alerts = selectors.alert_list(
        scope, community_id=values.get("community"), state=values.get("state") or ""
    ).order_by("-created_at", "-pk")
    page, query = paginate(request, alerts, per_page=30)
    for alert in page.object_list:
        alert.unconfirmed_count = alert.households_reached - alert.confirmed_count
    chosen = current_community(request, scope)
    feed_community = next(
        (c for c in communities if chosen is not None and c.pk == chosen.pk), communities[0]
    )
    return render(
        request,
        "alerts/list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "can_publish": selectors.publish_communities(scope).exists(),
            "several_communities": len(communities) > 1,
            "feed_community": feed_community,
            "severity_tone": SEVERITY_TONE,
            "subnav": "alerts",
        },
    )


# --------------------------------------------------------------------------- compose


@login_required
def alert_create(request: HttpRequest) -> HttpResponse:
    """Compose an alert, from a template (``?template=typhoon``) or from nothing; save it as
    a draft or send it (at once, or at the time set)."""
    scope = page_scope(request)
    data = request.POST if request.method == "POST" else None
    communities, community = _compose_community(request, scope, data)
    initial = {
        "community": community.pk,
        **_template_initial(request.GET.get("template", ""), timezone.now()),
    }
    form = AlertForm(data, communities=communities, initial=initial)
    form.set_places(community)
    if request.method == "POST":
        if form.is_valid():
            alert = _save_and_maybe_send(request, form, community, None)
            if alert is not None:
                return redirect("alerts:detail", alert.pk)
        return _render_form(request, form, community, communities, status=400)
    return _render_form(request, form, community, communities)


@login_required
def alert_edit(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Change a draft or scheduled alert, and save or send it."""
    scope = page_scope(request)
    alert = _publishable(scope, alert_id)
    if alert.state not in (AlertState.DRAFT, AlertState.SCHEDULED):
        messages.error(request, _("A sent alert cannot be changed; cancel it and send a new one."))
        return redirect("alerts:detail", alert.pk)
    communities = [alert.community]
    data = request.POST if request.method == "POST" else None
    form = AlertForm(data, communities=communities, initial=_alert_initial(alert))
    form.set_places(alert.community)
    if request.method == "POST":
        if form.is_valid():
            saved = _save_and_maybe_send(request, form, alert.community, alert)
            if saved is not None:
                return redirect("alerts:detail", saved.pk)
        return _render_form(request, form, alert.community, communities, alert=alert, status=400)
    return _render_form(request, form, alert.community, communities, alert=alert)


@login_required
@require_POST
def reach_preview(request: HttpRequest) -> HttpResponse:
    """The reach preview of the compose form (htmx posts the form on every change)."""
    scope = page_scope(request)
    communities = list(selectors.publish_communities(scope))
    if not communities:
        if selectors.alert_communities(scope).exists():
            raise PermissionDenied
        raise Http404
    by_id = {community.pk: community for community in communities}
    community = by_id.get(int_param(request.POST.get("community")) or 0)
    if community is None:
        raise Http404
    form = TargetingForm(request.POST, communities=communities)
    form.set_places(community)
    return render(request, "alerts/_preview.html", _preview_of(form, community))


@login_required
@require_POST
def alert_publish(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Send a draft now (or schedule it when its time is ahead)."""
    scope = page_scope(request)
    alert = _publishable(scope, alert_id)
    try:
        alert = services.alert_publish(actor=page_user(request), scope=scope, alert=alert)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _send_message(alert))
    return redirect("alerts:detail", alert.pk)


@login_required
@require_POST
def alert_cancel(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Withdraw an alert, with the reason residents are told."""
    scope = page_scope(request)
    alert = _publishable(scope, alert_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.alert_cancel(
                actor=page_user(request),
                scope=scope,
                alert=alert,
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("The alert was withdrawn."))
            return redirect("alerts:detail", alert.pk)
    return _render_staff_detail(request, scope, alert, cancel_form=form, status=400)


# --------------------------------------------------------------------------- detail


def _recipient_of(alert: SafetyAlert, user: User) -> AlertRecipient | None:
    return (
        AlertRecipient.objects.filter(alert=alert, users__id=user.pk)
        .order_by("confirmed_at", "pk")
        .first()
    )


def _resident_context(request: HttpRequest, alert: SafetyAlert) -> dict[str, Any]:
    user = page_user(request)
    recipient = _recipient_of(alert, user)
    in_force = alert.state == AlertState.ACTIVE and alert.expires_at > timezone.now()
    return {
        "alert": alert,
        "recipient": recipient,
        "confirm_label": services.confirm_label(alert.confirmation),
        "may_confirm": (
            recipient is not None
            and recipient.confirmed_at is None
            and alert.confirmation != Confirmation.NONE
            and in_force
        ),
        "in_force": in_force,
        "severity_tone": SEVERITY_TONE,
        "has_knocks": selectors.door_knocks_of(user.pk).exists(),
    }


def _render_staff_detail(
    request: HttpRequest,
    scope: Scope,
    alert: SafetyAlert,
    *,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_publish = selectors.may_publish(scope, alert.community_id)
    editable = alert.state in (AlertState.DRAFT, AlertState.SCHEDULED)
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "counts": selectors.confirmation_counts(alert),
            "can_publish": can_publish,
            "editable": editable,
            "may_cancel": can_publish
            and alert.state not in (AlertState.CANCELLED, AlertState.EXPIRED),
            "cancel_form": cancel_form or CancelForm(),
            "buildings": list(alert.buildings.order_by("number")),
            "units": list(alert.units.select_related("building")),
            "households": list(alert.households.select_related("unit__building")),
            "groups": _group_labels(alert.groups),
            "channels": _channel_labels(alert.channels),
            "severity_tone": SEVERITY_TONE,
            "is_recipient": _recipient_of(alert, page_user(request)) is not None,
            "subnav": "alerts",
        },
        status=status,
    )


def _group_labels(groups: list[str]) -> list[str]:
    from anwang.alerts.choices import TargetGroup

    return [str(TargetGroup(group).label) for group in groups if group in TargetGroup.values]


def _channel_labels(channels: list[str]) -> list[str]:
    from anwang.notifications.choices import Channel

    return [str(Channel.INBOX.label)] + [
        str(Channel(channel).label) for channel in channels if channel in Channel.values
    ]


@login_required
@require_GET
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    """An alert: everything about it for the community's staff; for the residents it reached
    (and anyone, for a public alert in force) the alert itself with the confirm button."""
    scope = page_scope(request)
    alert = _alert(alert_id)
    if not selectors.may_read_alert(scope, alert):
        raise Http404
    if selectors.may_view(scope, alert.community_id) and request.GET.get("view") != "resident":
        return _render_staff_detail(request, scope, alert)
    return render(request, "alerts/resident.html", _resident_context(request, alert))


@login_required
@require_POST
def alert_confirm(request: HttpRequest, alert_id: int) -> HttpResponse:
    """A resident confirms ("I am safe", "I have seen it")."""
    scope = page_scope(request)
    alert = _alert(alert_id)
    if not selectors.may_read_alert(scope, alert):
        raise Http404
    error = ""
    try:
        services.alert_confirm(user=page_user(request), alert=alert)
    except ServiceError as problem:
        error = str(problem.message)
    if is_htmx(request):
        context = _resident_context(request, alert)
        context["confirm_error"] = error
        return render(request, "alerts/_confirm.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Thank you, your confirmation was recorded."))
    return redirect(f"{alert_detail_url(alert)}?view=resident")


def alert_detail_url(alert: SafetyAlert) -> str:
    """The address of an alert's page."""
    return reverse("alerts:detail", args=[alert.pk])


@login_required
@require_GET
def my_alerts(request: HttpRequest) -> HttpResponse:
    """The alerts that reached the person's households: those in force first."""
    user = page_user(request)
    now = timezone.now()
    alerts = list(selectors.resident_alerts(user.pk).select_related("community")[:100])
    confirmed: dict[int, dt.datetime | None] = {}
    for alert_id, confirmed_at in AlertRecipient.objects.filter(
        alert_id__in=[alert.pk for alert in alerts], users__id=user.pk
    ).values_list("alert_id", "confirmed_at"):
        confirmed[alert_id] = confirmed.get(alert_id) or confirmed_at
    rows = [
        {
            "alert": alert,
            "in_force": alert.state == AlertState.ACTIVE and alert.expires_at > now,
            "confirmed_at": confirmed.get(alert.pk),
            "asks": alert.confirmation != Confirmation.NONE,
        }
        for alert in alerts
    ]
    rows.sort(key=lambda row: not row["in_force"])
    return render(
        request,
        "alerts/mine.html",
        {
            "rows": rows,
            "severity_tone": SEVERITY_TONE,
            "has_knocks": selectors.door_knocks_of(user.pk).exists(),
        },
    )


# --------------------------------------------------------------------------- follow-up


def _visitors(community_id: int) -> QuerySet[User]:
    """The community's grid workers and volunteers, who may be sent on door-knock visits."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__community_id=community_id,
            memberships__role__in=[role.value for role in VISITOR_ROLES],
        )
        .distinct()
        .order_by("display_name", "username")
    )


def _render_follow_up(
    request: HttpRequest,
    scope: Scope,
    alert: SafetyAlert,
    *,
    form: DoorKnockForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = list(selectors.follow_up(alert))
    can_publish = selectors.may_publish(scope, alert.community_id)
    visitors = list(_visitors(alert.community_id)) if can_publish else []
    without_visitor_ids = {
        household_id
        for household_id, worker_id in selectors.households_by_grid_worker(
            [row.household_id for row in rows if not getattr(row, "has_open_knock", False)]
        ).items()
        if worker_id is None
    }
    if form is None:
        form = DoorKnockForm(
            households=[(row.household_id, str(row.household)) for row in rows],
            people=visitors,
            initial={"visitor": GRID_WORKERS},
        )
    knocks = list(
        DoorKnockTask.objects.filter(alert=alert)
        .select_related("household__unit__building", "assignee")
        .order_by("status", "-done_at", "due_at", "pk")
    )
    return render(
        request,
        "alerts/follow_up.html",
        {
            "alert": alert,
            "counts": selectors.confirmation_counts(alert),
            "rows": rows,
            "can_knock": can_publish and alert.state == AlertState.ACTIVE,
            "form": form,
            "chosen": {int_param(value) for value in request.POST.getlist("household_ids")},
            "without_visitor": [row for row in rows if row.household_id in without_visitor_ids],
            "open_knocks": [task for task in knocks if task.status == KnockStatus.OPEN],
            "done_knocks": [task for task in knocks if task.status == KnockStatus.DONE],
            "severity_tone": SEVERITY_TONE,
            "subnav": "alerts",
        },
        status=status,
    )


@login_required
@require_GET
def follow_up(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Households that have not confirmed, vulnerable ones first, and their door-knocks."""
    scope = page_scope(request)
    alert = _viewable(scope, alert_id)
    return _render_follow_up(request, scope, alert)


@login_required
@require_POST
def door_knocks_create(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Turn the chosen households (or all that have not confirmed) into door-knock visits."""
    scope = page_scope(request)
    alert = _publishable(scope, alert_id)
    rows = list(selectors.follow_up(alert))
    visitors = _visitors(alert.community_id)
    form = DoorKnockForm(
        request.POST,
        households=[(row.household_id, str(row.household)) for row in rows],
        people=visitors,
    )
    knock_all = bool(request.POST.get("all"))
    if form.is_valid():
        values = form.cleaned_data
        chosen = values["household_ids"]
        if not knock_all and not chosen:
            form.add_error("household_ids", _("Choose the households to visit, or visit all."))
        else:
            assignee = (
                visitors.filter(pk=values["assignee_id"]).first()
                if values["visitor"] != GRID_WORKERS
                else None
            )
            try:
                tasks, unassigned = services.door_knocks_create(
                    actor=page_user(request),
                    scope=scope,
                    alert=alert,
                    household_ids=None if knock_all else chosen,
                    assignee=assignee,
                    due_at=values.get("due_at"),
                )
            except ServiceError as error:
                attach_service_error(form, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d door-knock visit was created.",
                        "%(count)d door-knock visits were created.",
                        len(tasks),
                    )
                    % {"count": len(tasks)},
                )
                if unassigned:
                    messages.warning(
                        request,
                        ngettext(
                            "%(count)d household has no grid worker: choose someone to visit it.",
                            "%(count)d households have no grid worker: choose someone to visit"
                            " them.",
                            len(unassigned),
                        )
                        % {"count": len(unassigned)},
                    )
                return redirect("alerts:follow_up", alert.pk)
    return _render_follow_up(request, scope, alert, form=form, status=400)


# --------------------------------------------------------------------------- door-knocks


def _vulnerable_pairs(tasks: list[DoorKnockTask]) -> set[tuple[int, int]]:
    if not tasks:
        return set()
    return set(
        AlertRecipient.objects.filter(
            alert_id__in={task.alert_id for task in tasks},
            household_id__in={task.household_id for task in tasks},
            vulnerable=True,
        ).values_list("alert_id", "household_id")
    )


@login_required
@require_GET
def my_door_knocks(request: HttpRequest) -> HttpResponse:
    """The visitor's open door-knock visits, soonest due first (a phone page)."""
    user = page_user(request)
    tasks = list(selectors.door_knocks_of(user.pk))
    vulnerable = _vulnerable_pairs(tasks)
    done = list(
        selectors.door_knocks_of(user.pk, open_only=False)
        .filter(status=KnockStatus.DONE)
        .order_by("-done_at")[:20]
    )
    return render(
        request,
        "alerts/knocks.html",
        {
            "rows": [
                {"task": task, "vulnerable": (task.alert_id, task.household_id) in vulnerable}
                for task in tasks
            ],
            "done": done,
            "now": timezone.now(),
        },
    )


def _knock(scope: Scope, user: User, task_id: int) -> DoorKnockTask:
    """A visit of the person's, or of a community whose alerts they send; 404 otherwise."""
    task = get_object_or_404(
        DoorKnockTask.objects.select_related("alert__community", "household__unit__building"),
        pk=task_id,
    )
    if task.assignee_id != user.pk and not selectors.may_publish(scope, task.alert.community_id):
        raise Http404
    return task


def _render_knock(
    request: HttpRequest, task: DoorKnockTask, form: KnockRecordForm, status: int = 200
) -> HttpResponse:
    names = list(
        HouseholdMember.objects.filter(
            household_id=task.household_id,
            until__isnull=True,
            resident__moved_out_at__isnull=True,
        )
        .order_by("resident__name")
        .values_list("resident__name", flat=True)
        .distinct()
    )
    vulnerable = AlertRecipient.objects.filter(
        alert_id=task.alert_id, household_id=task.household_id, vulnerable=True
    ).exists()
    return render(
        request,
        "alerts/knock.html",
        {
            "task": task,
            "alert": task.alert,
            "names": names,
            "vulnerable": vulnerable,
            "form": form,
            "outcomes": KnockOutcome,
            "severity_tone": SEVERITY_TONE,
        },
        status=status,
    )


@login_required
def door_knock(request: HttpRequest, task_id: int) -> HttpResponse:
    """One visit: the household, the alert, and what was found (a phone page)."""
    scope = page_scope(request)
    user = page_user(request)
    task = _knock(scope, user, task_id)
    if request.method != "POST":
        return _render_knock(request, task, KnockRecordForm())
    form = KnockRecordForm(request.POST)
    if form.is_valid():
        try:
            services.door_knock_record(
                actor=user,
                scope=scope,
                task=task,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("The visit was recorded."))
            return redirect("alerts:knocks")
    return _render_knock(request, task, form, status=400)

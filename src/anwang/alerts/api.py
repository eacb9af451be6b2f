"""JSON API of safety alerts: the built-in templates, composing (from a template or from
scratch) with CAP codes and a targeting, the reach preview per channel, sending at once or at
a set time, cancelling; residents' alerts and their confirmation; the follow-up list of
households that have not confirmed and the door-knock visits made from it.

Reads are scoped: staff with the view-alerts permission see their communities' alerts and
their follow-up; the people an alert reached see it and confirm it; anything else is 404. An
API token limited to one community sees only that community's alerts. Writes go through
:mod:`anwang.alerts.services`: composing, sending, cancelling and door-knocks need the
publish-alerts permission (403 for those who may only read alerts); a visitor records their
own visit. A sent alert refuses changes with 409; bad input is 400 with the field in
``errors``. The CAP side (documents, received alerts, feeds) is in
:mod:`anwang.alerts.cap_api`.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.alerts import selectors, services
from anwang.alerts.alert_templates import ALERT_TEMPLATES, TEMPLATES_BY_KEY
from anwang.alerts.choices import AlertState, Confirmation
from anwang.alerts.models import AlertRecipient, DoorKnockTask, SafetyAlert
from anwang.alerts.schemas import (
    AlertDetailOut,
    AlertIn,
    AlertOut,
    AlertPatch,
    CancelIn,
    ConfirmOut,
    CountsOut,
    DoorKnockOut,
    DoorKnocksIn,
    DoorKnocksOut,
    FollowUpOut,
    FollowUpRowOut,
    KnockRecordIn,
    MyAlertOut,
    PreviewIn,
    ReachPreviewOut,
    TemplateOut,
)
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.places.models import Community

router = Router(tags=["alerts"])
PAGE_SIZE = 50

_TARGETING_FIELDS = ("whole_community", "building_ids", "unit_ids", "household_ids", "groups")


# --------------------------------------------------------------------------- lookups


def _in_token_community(scope: Scope, community_id: int) -> bool:
    """A token limited to one community reaches nothing of another."""
    return scope.token_community_id is None or scope.token_community_id == community_id


def _community(scope: Scope, community_id: int) -> Community:
    """A community whose alerts the caller reads; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not selectors.may_view(scope, community.pk):
        raise Http404
    return community


def _staff_alert(scope: Scope, alert_id: int) -> SafetyAlert:
    """An alert of a community whose alerts the caller reads; 404 otherwise (writes then
    answer 403 to those who may only read)."""
    alert = SafetyAlert.objects.select_related("community").filter(pk=alert_id).first()
    if alert is None or not selectors.may_view(scope, alert.community_id):
        raise Http404
    return alert


def _readable_alert(scope: Scope, alert_id: int) -> SafetyAlert:
    """An alert the caller may read (staff, the people it reached, anyone for a public one in
    force); 404 otherwise."""
    alert = SafetyAlert.objects.select_related("community").filter(pk=alert_id).first()
    if (
        alert is None
        or not _in_token_community(scope, alert.community_id)
        or not selectors.may_read_alert(scope, alert)
    ):
        raise Http404
    return alert


def _my_recipient(scope: Scope, alert: SafetyAlert) -> AlertRecipient | None:
    """The caller's household among those the alert reached (a confirmed one first)."""
    if scope.user is None or not _in_token_community(scope, alert.community_id):
        return None
    return (
        AlertRecipient.objects.filter(alert=alert, users__id=scope.user.pk)
        .order_by(F("confirmed_at").asc(nulls_last=True), "pk")
        .first()
    )


def _detail(scope: Scope, alert_id: int) -> AlertDetailOut:
    alert = _readable_alert(scope, alert_id)
    staff = selectors.may_view(scope, alert.community_id)
    counts = selectors.confirmation_counts(alert)
    return AlertDetailOut.of(
        alert,
        staff=staff,
        counts=counts if staff else None,
        confirmed=counts["confirmed"],
        mine=_my_recipient(scope, alert),
    )


def _task(scope: Scope, task_id: int) -> DoorKnockTask:
    """A door-knock visit of the caller's, or of a community whose alerts they read."""
    task = (
        DoorKnockTask.objects.select_related("alert", "household__unit__building", "assignee")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404
    own = scope.user is not None and task.assignee_id == scope.user.pk
    if not (
        (own and _in_token_community(scope, task.alert.community_id))
        or selectors.may_view(scope, task.alert.community_id)
    ):
        raise Http404
    return task


def _cap_language() -> str:
    """The CAP language tag of the request's language."""
    return "en-US" if (translation.get_language() or "").startswith("en") else "zh-CN"


# --------------------------------------------------------------------------- templates


@router.get("/alerts/templates", response=list[TemplateOut], summary="Alert templates")
def template_list(request: HttpRequest) -> list[TemplateOut]:
    """The built-in templates (fraud, burglary, fire, typhoon, rainstorm, missing person,
    epidemic) with their CAP codes, texts in the request's language, validity and what they
    ask residents to confirm."""
    return [TemplateOut.of(template) for template in ALERT_TEMPLATES]


# --------------------------------------------------------------------------- alerts


@router.get("/alerts", response=list[AlertOut], summary="List safety alerts")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def alert_list(
    request: HttpRequest,
    community_id: int | None = None,
    state: AlertState | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[SafetyAlert]:
    """Alerts of the communities whose alerts the caller reads, newest first, with how many
    households confirmed; ``since`` compares with when they were written."""
    scope = request_scope(request)
    if community_id is not None:
        _community(scope, community_id)
    return selectors.alert_list(
        scope, community_id=community_id, state=state or "", since=since
    ).order_by("-created_at", "-pk")


@router.post("/alerts", response={201: AlertDetailOut}, summary="Write a safety alert")
def alert_create(request: HttpRequest, payload: AlertIn) -> Status[AlertDetailOut]:
    """Write a draft alert, from a template or from scratch; with ``send`` it is sent at once
    (or scheduled when ``publish_at`` is ahead)."""
    scope = request_scope(request)
    actor = request_actor(request)
    community = _community(scope, payload.community_id)
    if not selectors.may_publish(scope, community.pk):
        raise PermissionDenied
    template = None
    if payload.template:
        template = TEMPLATES_BY_KEY.get(payload.template)
        if template is None:
            raise ServiceError(_("Choose one of the listed templates."), field="template")

    def pick(name: str) -> Any:
        given = getattr(payload, name)
        if given is not None:
            return given
        return str(getattr(template, name)) if template is not None else ""

    now = timezone.now()
    expires_at = payload.expires_at
    if expires_at is None and template is not None:
        expires_at = (payload.publish_at or now) + dt.timedelta(hours=template.valid_hours)
    confirmation = payload.confirmation or (
        template.confirmation if template is not None else Confirmation.NONE
    )
    with transaction.atomic():
        alert = services.alert_create(
            actor=actor,
            scope=scope,
            community=community,
            template=payload.template,
            event=pick("event"),
            category=pick("category"),
            severity=pick("severity"),
            urgency=pick("urgency"),
            certainty=pick("certainty"),
            response_type=pick("response_type"),
            headline=pick("headline"),
            description=pick("description"),
            instruction=pick("instruction"),
            area_description=payload.area_description,
            polygon=payload.polygon,
            web=payload.web,
            whole_community=payload.whole_community,
            building_ids=payload.building_ids,
            unit_ids=payload.unit_ids,
            household_ids=payload.household_ids,
            groups=[str(group) for group in payload.groups],
            channels=payload.channels,
            confirmation=confirmation,
            publish_at=payload.publish_at,
            expires_at=expires_at,
            cap_status=payload.cap_status,
            language=payload.language or _cap_language(),
            now=now,
        )
        if payload.send:
            alert = services.alert_publish(actor=actor, scope=scope, alert=alert, now=now)
    return Status(201, _detail(scope, alert.pk))


@router.post("/alerts/preview", response=ReachPreviewOut, summary="Preview an alert's reach")
def reach_preview(request: HttpRequest, payload: PreviewIn) -> ReachPreviewOut:
    """Count whom an alert with this targeting would reach, in all and on each channel (the
    in-app inbox always), and the households no chosen channel reaches."""
    scope = request_scope(request)
    community = _community(scope, payload.community_id)
    for channel in payload.channels:
        if channel != "inbox" and channel not in selectors.ALERT_CHANNELS:
            raise ServiceError(_("Choose one of the listed channels."), field="channels")
    targeting = selectors.Targeting(
        community_id=community.pk,
        whole_community=payload.whole_community,
        building_ids=tuple(payload.building_ids),
        unit_ids=tuple(payload.unit_ids),
        household_ids=tuple(payload.household_ids),
        groups=tuple(str(group) for group in payload.groups),
    )
    return ReachPreviewOut.of(selectors.reach_preview(targeting, payload.channels))


@router.get("/alerts/mine", response=list[MyAlertOut], summary="My safety alerts")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def my_alerts(request: HttpRequest, active_only: bool = False) -> QuerySet[SafetyAlert]:
    """Alerts that reached the caller's households, newest first, with when their household
    confirmed; ``active_only`` keeps those in force."""
    scope = request_scope(request)
    user = request_actor(request)
    confirmed_at = (
        AlertRecipient.objects.filter(
            alert=OuterRef("pk"), users__id=user.pk, confirmed_at__isnull=False
        )
        .order_by("confirmed_at")
        .values("confirmed_at")[:1]
    )
    alerts = selectors.resident_alerts(user.pk).annotate(your_confirmed_at=Subquery(confirmed_at))
    if scope.token_community_id is not None:
        alerts = alerts.filter(community_id=scope.token_community_id)
    if active_only:
        alerts = alerts.filter(state=AlertState.ACTIVE, expires_at__gt=timezone.now())
    return alerts


@router.get("/alerts/{int:alert_id}", response=AlertDetailOut, summary="A safety alert")
def alert_get(request: HttpRequest, alert_id: int) -> AlertDetailOut:
    """An alert with its texts and CAP codes; for staff of its community also its targeting
    and confirmation counts; for the people it reached whether their household confirmed."""
    return _detail(request_scope(request), alert_id)


@router.patch("/alerts/{int:alert_id}", response=AlertDetailOut, summary="Change a safety alert")
def alert_update(request: HttpRequest, alert_id: int, payload: AlertPatch) -> AlertDetailOut:
    """Change a draft or scheduled alert (409 once sent); fields left out keep their value,
    and a targeting field given replaces only that part of the targeting."""
    scope = request_scope(request)
    alert = _staff_alert(scope, alert_id)
    given = payload.model_dump(exclude_unset=True)
    targeting: dict[str, Any] | None = None
    if set(given) & set(_TARGETING_FIELDS):
        current = selectors.Targeting.of(alert)
        targeting = {
            "whole_community": current.whole_community,
            "building_ids": current.building_ids,
            "unit_ids": current.unit_ids,
            "household_ids": current.household_ids,
            "groups": current.groups,
        }
        for name in _TARGETING_FIELDS:
            if given.get(name) is not None:
                value = given[name]
                targeting[name] = [str(item) for item in value] if name == "groups" else value
    changes = {name: value for name, value in given.items() if name not in _TARGETING_FIELDS}
    services.alert_update(
        actor=request_actor(request),
        scope=scope,
        alert=alert,
        changes=changes,
        targeting=targeting,
    )
    return _detail(scope, alert.pk)


@router.post(
    "/alerts/{int:alert_id}/publish", response=AlertDetailOut, summary="Send a safety alert"
)
def alert_publish(request: HttpRequest, alert_id: int) -> AlertDetailOut:
    """Send a draft now (the households reached are frozen and messaged), or schedule it when
    its ``publish_at`` is still ahead; 409 when already sent or cancelled."""
    scope = request_scope(request)
    alert = _staff_alert(scope, alert_id)
    services.alert_publish(actor=request_actor(request), scope=scope, alert=alert)
    return _detail(scope, alert.pk)


@router.post(
    "/alerts/{int:alert_id}/cancel", response=AlertDetailOut, summary="Cancel a safety alert"
)
def alert_cancel(request: HttpRequest, alert_id: int, payload: CancelIn) -> AlertDetailOut:
    """Withdraw an alert, saying why; a sent one tells the households it reached, and its
    open door-knock visits are closed. 409 when no longer in force."""
    scope = request_scope(request)
    alert = _staff_alert(scope, alert_id)
    services.alert_cancel(
        actor=request_actor(request), scope=scope, alert=alert, reason=payload.reason
    )
    return _detail(scope, alert.pk)


@router.post(
    "/alerts/{int:alert_id}/confirm", response=ConfirmOut, summary="Confirm a safety alert"
)
def alert_confirm(request: HttpRequest, alert_id: int) -> ConfirmOut:
    """A person the alert reached answers "I am safe" or "I have seen it": their household
    counts as confirmed and leaves the follow-up list. 400 when the alert asks nothing or did
    not reach the caller, 409 when no longer in force."""
    scope = request_scope(request)
    alert = SafetyAlert.objects.filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    if _my_recipient(scope, alert) is None and not selectors.may_view(scope, alert.community_id):
        raise Http404
    recipient = services.alert_confirm(user=request_actor(request), alert=alert)
    return ConfirmOut(
        alert_id=alert.pk,
        household_id=recipient.household_id,
        confirmed_at=recipient.confirmed_at,
        confirmed_via=recipient.confirmed_via,
    )


# --------------------------------------------------------------------------- follow-up


@router.get(
    "/alerts/{int:alert_id}/follow-up", response=FollowUpOut, summary="Households to follow up"
)
def follow_up(request: HttpRequest, alert_id: int) -> FollowUpOut:
    """Confirmation counts, and the households the alert reached that have not confirmed:
    vulnerable ones first, then by building, unit and room, each saying whether a door-knock
    visit is already open."""
    alert = _staff_alert(request_scope(request), alert_id)
    counts = selectors.confirmation_counts(alert)
    return FollowUpOut(
        counts=CountsOut(**counts),
        households=[FollowUpRowOut.of(row) for row in selectors.follow_up(alert)],
    )


@router.get(
    "/alerts/{int:alert_id}/door-knocks",
    response=list[DoorKnockOut],
    summary="An alert's door-knock visits",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def alert_door_knocks(request: HttpRequest, alert_id: int) -> QuerySet[DoorKnockTask]:
    """Every door-knock visit made for the alert, open ones first, soonest due first."""
    alert = _staff_alert(request_scope(request), alert_id)
    return (
        DoorKnockTask.objects.filter(alert=alert)
        .select_related("alert", "household__unit__building", "assignee")
        .order_by("status", "due_at", "pk")
    )


@router.post(
    "/alerts/{int:alert_id}/door-knocks",
    response={201: DoorKnocksOut},
    summary="Send door-knock visits",
)
def door_knocks_create(
    request: HttpRequest, alert_id: int, payload: DoorKnocksIn
) -> Status[dict[str, Any]]:
    """Turn households that have not confirmed (the given ones, or all) into door-knock
    visits for the chosen grid worker or volunteer, else for each household's grid worker;
    households with an open visit are passed over. Answers the visits made and the households
    left without a visitor; each visitor is notified."""
    scope = request_scope(request)
    alert = _staff_alert(scope, alert_id)
    actor = request_actor(request)
    if not selectors.may_publish(scope, alert.community_id):
        raise PermissionDenied
    assignee = None
    if payload.assignee_id is not None:
        assignee = User.objects.filter(pk=payload.assignee_id).first()
        if assignee is None:
            raise ServiceError(
                _("Choose a grid worker or volunteer of this community."), field="assignee_id"
            )
    tasks, without_visitor = services.door_knocks_create(
        actor=actor,
        scope=scope,
        alert=alert,
        household_ids=payload.household_ids,
        assignee=assignee,
        due_at=payload.due_at,
    )
    made = (
        DoorKnockTask.objects.filter(pk__in=[task.pk for task in tasks])
        .select_related("alert", "household__unit__building", "assignee")
        .order_by("pk")
    )
    return Status(201, {"tasks": list(made), "without_visitor": without_visitor})


@router.get("/alerts/door-knocks/mine", response=list[DoorKnockOut], summary="My door-knock visits")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def my_door_knocks(request: HttpRequest, open_only: bool = True) -> QuerySet[DoorKnockTask]:
    """The caller's door-knock visits, open ones first, soonest due first."""
    scope = request_scope(request)
    tasks = selectors.door_knocks_of(request_actor(request).pk, open_only=open_only)
    if scope.token_community_id is not None:
        tasks = tasks.filter(alert__community_id=scope.token_community_id)
    return tasks.select_related("assignee")


@router.get(
    "/alerts/door-knocks/{int:task_id}", response=DoorKnockOut, summary="A door-knock visit"
)
def door_knock_get(request: HttpRequest, task_id: int) -> DoorKnockTask:
    """A visit (its visitor, or staff reading the community's alerts)."""
    return _task(request_scope(request), task_id)


@router.post(
    "/alerts/door-knocks/{int:task_id}/record",
    response=DoorKnockOut,
    summary="Record a door-knock visit",
)
def door_knock_record(request: HttpRequest, task_id: int, payload: KnockRecordIn) -> DoorKnockTask:
    """The visitor (or a sender of the community's alerts) records what they found: everyone
    safe confirms the household; someone needing help (a note is required) tells whoever
    sent the alert at once. 409 when already recorded."""
    scope = request_scope(request)
    task = _task(scope, task_id)
    own = scope.user is not None and task.assignee_id == scope.user.pk
    if not own and not selectors.may_publish(scope, task.alert.community_id):
        raise PermissionDenied
    services.door_knock_record(
        actor=request_actor(request),
        scope=scope,
        task=task,
        outcome=payload.outcome,
        note=payload.note,
    )
    return _task(scope, task.pk)

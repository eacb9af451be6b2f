"""Writes of the alerts domain: composing, sending (at once or at a set time), cancelling
and expiring safety alerts; confirmations; door-knock visits for households that have not
confirmed.

Sending freezes the households reached (:class:`AlertRecipient`) and queues one message in the
notification outbox in the same transaction: the in-app inbox of every account of those
households, the alert's other channels, and SMS or a call on the registered number of residents
without an account. Alerts of severity Extreme or urgency Immediate ignore quiet hours."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, scope_for, service_scope
from anwang.alerts.choices import (
    AlertState,
    CapStatus,
    Category,
    Certainty,
    Confirmation,
    KnockOutcome,
    KnockStatus,
    MsgType,
    ResponseType,
    Severity,
    TargetGroup,
    Urgency,
)
from anwang.alerts.models import AlertRecipient, DoorKnockTask, IncomingAlert, SafetyAlert
from anwang.alerts.selectors import (
    ALERT_CHANNELS,
    Targeting,
    household_reach,
    households_by_grid_worker,
    may_publish,
    target_households,
)
from anwang.audit.services import audit_record
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.geo import validate_geometry
from anwang.core.validation import clean_aware, clean_text
from anwang.notifications.models import Delivery, Notification
from anwang.notifications.services import notify
from anwang.people.models import Resident
from anwang.places.models import Building, Community, Household, Unit

DEFAULT_VALIDITY = dt.timedelta(hours=24)
"""How long an alert is in force when nobody says."""
KNOCK_DUE = dt.timedelta(hours=2)
"""When a door-knock visit is due when nobody says."""
PRIORITY_OF_SEVERITY = {
    Severity.EXTREME: 1,
    Severity.SEVERE: 2,
    Severity.MODERATE: 3,
}
"""The outbox priority of an alert's message (4 for the rest)."""

_EDITABLE = (AlertState.DRAFT, AlertState.SCHEDULED)


def require_publisher(actor: User | None, scope: Scope | None, community_id: int) -> None:
    """Senders of the community's alerts may; readers get 403, everyone else 404."""
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.PUBLISH_ALERTS,
        community_id=community_id,
        visible_with=Permission.VIEW_ALERTS,
    )


def _choice(name: str, value: Any, choices: Any, *, blank: bool = False) -> str:
    text = "" if value is None else str(value)
    if blank and not text:
        return ""
    if text not in choices.values:
        raise ServiceError(_("Choose one of the listed values."), field=name)
    return text


CONFIRM_LABELS: dict[str, str] = {
    Confirmation.SAFE: gettext_noop("I am safe"),
    Confirmation.SEEN: gettext_noop("I have seen it"),
}
"""The confirm button of what an alert asks, untranslated: the message keeps this source text
so the inbox shows it in each reader's language."""


def confirm_label(confirmation: str) -> str:
    """The text of the confirm button for what an alert asks, in the current language."""
    label = CONFIRM_LABELS.get(confirmation)
    return _(label) if label else ""


def _clean_targeting(
    community: Community,
    *,
    whole_community: bool,
    building_ids: Iterable[int],
    unit_ids: Iterable[int],
    household_ids: Iterable[int],
    groups: Iterable[str],
) -> Targeting:
    buildings = sorted({int(pk) for pk in building_ids})
    units = sorted({int(pk) for pk in unit_ids})
    households = sorted({int(pk) for pk in household_ids})
    chosen_groups = sorted({str(group) for group in groups})
    for group in chosen_groups:
        if group not in TargetGroup.values:
            raise ServiceError(_("Choose one of the listed groups."), field="groups")
    if buildings and Building.objects.filter(pk__in=buildings, community=community).count() != len(
        buildings
    ):
        raise ServiceError(_("Choose buildings of this community."), field="building_ids")
    if units and Unit.objects.filter(pk__in=units, building__community=community).count() != len(
        units
    ):
        raise ServiceError(_("Choose units of this community."), field="unit_ids")
    if households and Household.objects.filter(
        pk__in=households, community=community
    ).count() != len(households):
        raise ServiceError(_("Choose households of this community."), field="household_ids")
    if not whole_community and not (buildings or units or households):
        raise ServiceError(
            _("Choose the buildings, units or households to alert, or the whole community."),
            field="building_ids",
        )
    return Targeting(
        community_id=community.pk,
        whole_community=whole_community,
        building_ids=tuple(buildings) if not whole_community else (),
        unit_ids=tuple(units) if not whole_community else (),
        household_ids=tuple(households) if not whole_community else (),
        groups=tuple(chosen_groups),
    )


def _clean_channels(channels: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(c) for c in channels if str(c) != "inbox"))
    for channel in chosen:
        if channel not in ALERT_CHANNELS:
            raise ServiceError(_("Choose one of the listed channels."), field="channels")
    return chosen


def _default_area(community: Community, targeting: Targeting) -> str:
    if targeting.whole_community:
        return community.name
    names = list(
        Building.objects.filter(pk__in=targeting.building_ids).values_list("name", flat=True)
    )
    names += [
        f"{unit.building.name} {unit.number}"
        for unit in Unit.objects.filter(pk__in=targeting.unit_ids).select_related("building")
    ]
    if targeting.household_ids:
        names.append(_("%(count)d households") % {"count": len(targeting.household_ids)})
    return f"{community.name}: {'、'.join(names)}"[:200]


def _community_polygon(community: Community) -> dict[str, Any] | None:
    boundary = community.boundary
    if isinstance(boundary, dict) and boundary.get("type") == "Polygon":
        return boundary
    return None


def _apply_targeting(alert: SafetyAlert, targeting: Targeting) -> None:
    alert.whole_community = targeting.whole_community
    alert.groups = list(targeting.groups)
    alert.save(update_fields=["whole_community", "groups", "updated_at"])
    alert.buildings.set(targeting.building_ids)
    alert.units.set(targeting.unit_ids)
    alert.households.set(targeting.household_ids)


def _check_times(publish_at: dt.datetime | None, expires_at: dt.datetime, now: dt.datetime) -> None:
    if expires_at <= (publish_at or now):
        raise ServiceError(_("The alert must expire after it is sent."), field="expires_at")


def alert_create(
    *,
    actor: User,
    scope: Scope | None = None,
    community: Community,
    event: str,
    category: str,
    severity: str,
    urgency: str,
    certainty: str,
    headline: str,
    description: str,
    instruction: str = "",
    response_type: str = "",
    template: str = "",
    area_description: str = "",
    polygon: Any = None,
    web: str = "",
    whole_community: bool = True,
    building_ids: Iterable[int] = (),
    unit_ids: Iterable[int] = (),
    household_ids: Iterable[int] = (),
    groups: Iterable[str] = (),
    channels: Iterable[str] = (),
    confirmation: str = Confirmation.NONE,
    publish_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    cap_status: str = CapStatus.ACTUAL,
    language: str = "zh-CN",
    relayed_from: IncomingAlert | None = None,
    now: dt.datetime | None = None,
) -> SafetyAlert:
    """Write a draft alert (send it with :func:`alert_publish`); audited."""
    now = now or timezone.now()
    require_publisher(actor, scope, community.pk)
    targeting = _clean_targeting(
        community,
        whole_community=whole_community,
        building_ids=building_ids,
        unit_ids=unit_ids,
        household_ids=household_ids,
        groups=groups,
    )
    if publish_at is not None:
        publish_at = clean_aware("publish_at", publish_at)
    expires_at = (
        clean_aware("expires_at", expires_at)
        if expires_at is not None
        else (publish_at or now) + DEFAULT_VALIDITY
    )
    _check_times(publish_at, expires_at, now)
    cleaned_polygon = (
        validate_geometry(polygon, allowed=("Polygon",), field="polygon")
        if polygon not in (None, "", {})
        else _community_polygon(community)
        if targeting.whole_community
        else None
    )
    with transaction.atomic():
        alert = SafetyAlert.objects.create(
            community=community,
            identifier=f"anwang-{community.slug}-{uuid.uuid4().hex}",
            template=clean_text("template", template, limit=30, required=False),
            cap_status=_choice("cap_status", cap_status, CapStatus),
            msg_type=MsgType.ALERT,
            event=clean_text("event", event, limit=100),
            category=_choice("category", category, Category),
            severity=_choice("severity", severity, Severity),
            urgency=_choice("urgency", urgency, Urgency),
            certainty=_choice("certainty", certainty, Certainty),
            response_type=_choice("response_type", response_type, ResponseType, blank=True),
            headline=clean_text("headline", headline, limit=160),
            description=clean_text("description", description, limit=5000),
            instruction=clean_text("instruction", instruction, limit=5000, required=False),
            language=clean_text("language", language, limit=10) or "zh-CN",
            area_description=clean_text(
                "area_description", area_description, limit=200, required=False
            )
            or _default_area(community, targeting),
            polygon=cleaned_polygon,
            web=clean_text("web", web, limit=200, required=False),
            channels=_clean_channels(channels),
            confirmation=_choice("confirmation", confirmation, Confirmation),
            publish_at=publish_at,
            expires_at=expires_at,
            relayed_from=relayed_from,
            created_by=actor,
        )
        _apply_targeting(alert, targeting)
        audit_record(actor=actor, action="alert.create", obj=alert, community_id=community.pk)
    return alert


UPDATABLE_FIELDS: tuple[str, ...] = (
    "event",
    "category",
    "severity",
    "urgency",
    "certainty",
    "response_type",
    "headline",
    "description",
    "instruction",
    "area_description",
    "polygon",
    "web",
    "channels",
    "confirmation",
    "publish_at",
    "expires_at",
    "cap_status",
)


_CODED: dict[str, Any] = {
    "category": Category,
    "severity": Severity,
    "urgency": Urgency,
    "certainty": Certainty,
    "cap_status": CapStatus,
    "confirmation": Confirmation,
}


def alert_update(
    *,
    actor: User,
    scope: Scope | None = None,
    alert: SafetyAlert,
    changes: Mapping[str, Any],
    targeting: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> SafetyAlert:
    """Change a draft or scheduled alert (``changes`` keyed by field name; ``targeting`` with
    ``whole_community``, ``building_ids``, ``unit_ids``, ``household_ids``, ``groups``).
    A sent alert cannot be changed, only cancelled."""
    now = now or timezone.now()
    require_publisher(actor, scope, alert.community_id)
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ServiceError(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.state not in _EDITABLE:
            raise ConflictError(_("A sent alert cannot be changed; cancel it and send a new one."))
        for name, value in changes.items():
            if name in _CODED:
                value = _choice(name, value, _CODED[name])
            elif name == "response_type":
                value = _choice(name, value, ResponseType, blank=True)
            elif name == "channels":
                value = _clean_channels(value or ())
            elif name == "polygon":
                value = (
                    validate_geometry(value, allowed=("Polygon",), field="polygon")
                    if value not in (None, "", {})
                    else None
                )
            elif name in ("publish_at", "expires_at"):
                value = clean_aware(name, value) if value is not None else None
                if name == "expires_at" and value is None:
                    raise ServiceError(_("This field is required."), field=name)
            else:
                limit = {"headline": 160, "event": 100, "area_description": 200, "web": 200}.get(
                    name, 5000
                )
                value = clean_text(
                    name,
                    value,
                    limit=limit,
                    required=name in ("event", "headline", "description", "area_description"),
                )
            setattr(alert, name, value)
        _check_times(alert.publish_at, alert.expires_at, now)
        if alert.state == AlertState.SCHEDULED and alert.publish_at is None:
            alert.state = AlertState.DRAFT
        alert.save()
        if targeting is not None:
            cleaned = _clean_targeting(
                alert.community,
                whole_community=bool(targeting.get("whole_community", alert.whole_community)),
                building_ids=targeting.get("building_ids", ()),
                unit_ids=targeting.get("unit_ids", ()),
                household_ids=targeting.get("household_ids", ()),
                groups=targeting.get("groups", ()),
            )
            _apply_targeting(alert, cleaned)
        audit_record(
            actor=actor,
            action="alert.update",
            obj=alert,
            community_id=alert.community_id,
            changes={name: str(value) for name, value in changes.items()},
        )
    return alert


def alert_publish(
    *,
    actor: User,
    alert: SafetyAlert,
    scope: Scope | None = None,
    now: dt.datetime | None = None,
) -> SafetyAlert:
    """Send a draft now, or schedule it when its send time is still ahead; audited."""
    now = now or timezone.now()
    require_publisher(actor, scope, alert.community_id)
    with transaction.atomic():
        alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.state not in _EDITABLE:
            raise ConflictError(_("This alert has already been sent or cancelled."))
        if alert.expires_at <= now:
            raise ServiceError(_("This alert has already expired."), field="expires_at")
        if alert.publish_at is not None and alert.publish_at > now:
            alert.state = AlertState.SCHEDULED
            alert.published_by = actor
            alert.save(update_fields=["state", "published_by", "updated_at"])
            audit_record(
                actor=actor, action="alert.schedule", obj=alert, community_id=alert.community_id
            )
            return alert
        alert.published_by = actor
        _send(alert, actor=actor, now=now)
    return alert


def _send(alert: SafetyAlert, *, actor: User | None, now: dt.datetime) -> None:
    """Freeze the households reached and queue the message (in the caller's transaction)."""
    household_ids = list(target_households(Targeting.of(alert)).values_list("pk", flat=True))
    reach = household_reach(household_ids)
    recipients = AlertRecipient.objects.bulk_create(
        [
            AlertRecipient(
                alert=alert,
                household_id=entry.household_id,
                people=entry.people,
                vulnerable=entry.vulnerable,
            )
            for entry in reach.values()
        ]
    )
    by_household = {recipient.household_id: recipient for recipient in recipients}
    through = AlertRecipient.users.through
    through.objects.bulk_create(
        [
            through(alertrecipient_id=by_household[entry.household_id].pk, user_id=user_id)
            for entry in reach.values()
            for user_id in entry.user_ids
        ]
    )
    user_ids = {user_id for entry in reach.values() for user_id in entry.user_ids}
    phone_only = [
        resident_id for entry in reach.values() for resident_id in entry.phone_only_resident_ids
    ]
    body = alert.description
    if alert.instruction:
        body = f"{body}\n\n{alert.instruction}"
    notification = notify(
        recipients=User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"),
        residents_by_phone=Resident.objects.filter(pk__in=phone_only).order_by("pk"),
        kind="alert",
        title=alert.headline,
        body=body,
        url=reverse("alerts:detail", args=[alert.pk]),
        community=alert.community,
        priority=PRIORITY_OF_SEVERITY.get(Severity(alert.severity), 4),
        urgent=alert.is_urgent,
        needs_confirmation=alert.confirmation != Confirmation.NONE,
        source=alert,
        data={
            "alert_id": alert.pk,
            "identifier": alert.identifier,
            "severity": alert.severity,
            "urgency": alert.urgency,
            "confirm_label": CONFIRM_LABELS.get(alert.confirmation, ""),
        },
        channels=alert.channels,
        actor=actor,
        now=now,
    )
    alert.state = AlertState.ACTIVE
    alert.published_at = now
    alert.notification = notification
    alert.households_reached = len(reach)
    alert.people_reached = sum(entry.people for entry in reach.values())
    alert.save(
        update_fields=[
            "state",
            "published_at",
            "published_by",
            "notification",
            "households_reached",
            "people_reached",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="alert.publish",
        obj=alert,
        community_id=alert.community_id,
        changes={"households": alert.households_reached, "people": alert.people_reached},
    )


def alerts_due_check(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """The worker's check: send scheduled alerts whose time has come and expire alerts past
    their expiry. Answers (sent, expired)."""
    now = now or timezone.now()
    sent = 0
    due = SafetyAlert.objects.filter(state=AlertState.SCHEDULED, publish_at__lte=now)
    for alert_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            alert = SafetyAlert.objects.select_for_update().get(pk=alert_id)
            if alert.state != AlertState.SCHEDULED:
                continue
            if alert.expires_at <= now:
                alert.state = AlertState.EXPIRED
                alert.save(update_fields=["state", "updated_at"])
                continue
            _send(alert, actor=alert.published_by, now=now)
            sent += 1
    expired = SafetyAlert.objects.filter(state=AlertState.ACTIVE, expires_at__lte=now).update(
        state=AlertState.EXPIRED, updated_at=now
    )
    return sent, expired


def alert_cancel(
    *,
    actor: User,
    alert: SafetyAlert,
    reason: str,
    scope: Scope | None = None,
    now: dt.datetime | None = None,
) -> SafetyAlert:
    """Withdraw an alert. A sent one tells the households it reached that it no longer holds
    (its CAP document becomes a ``Cancel``); audited."""
    now = now or timezone.now()
    require_publisher(actor, scope, alert.community_id)
    reason = clean_text("reason", reason, limit=1000)
    with transaction.atomic():
        alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.state in (AlertState.CANCELLED, AlertState.EXPIRED):
            raise ConflictError(_("This alert is no longer in force."))
        was_sent = alert.state == AlertState.ACTIVE
        alert.state = AlertState.CANCELLED
        alert.cancelled_at = now
        alert.cancel_reason = reason
        alert.save(update_fields=["state", "cancelled_at", "cancel_reason", "updated_at"])
        if was_sent:
            user_ids = AlertRecipient.users.through.objects.filter(
                alertrecipient__alert=alert
            ).values_list("user_id", flat=True)
            told_by_phone = Delivery.objects.filter(
                notification=alert.notification, resident__isnull=False
            ).values("resident_id")
            notify(
                recipients=User.objects.filter(pk__in=list(user_ids), is_active=True),
                residents_by_phone=Resident.objects.filter(pk__in=told_by_phone).order_by("pk"),
                kind="alert.cancelled",
                title=_("Cancelled: %(headline)s") % {"headline": alert.headline},
                body=reason,
                url=reverse("alerts:detail", args=[alert.pk]),
                community=alert.community,
                priority=4,
                source=alert,
                channels=alert.channels,
                actor=actor,
                now=now,
            )
            DoorKnockTask.objects.filter(alert=alert, status=KnockStatus.OPEN).update(
                status=KnockStatus.DONE, done_at=now, note=_("Alert cancelled")
            )
        audit_record(
            actor=actor,
            action="alert.cancel",
            obj=alert,
            community_id=alert.community_id,
            changes={"reason": reason},
        )
    return alert


# Confirmations -----------------------------------------------------------------------------


def alert_confirm(
    *, user: User, alert: SafetyAlert, now: dt.datetime | None = None
) -> AlertRecipient:
    """A person of a household the alert reached confirms ("I am safe", "I have seen it"):
    the household counts as confirmed, and their inbox message too."""
    now = now or timezone.now()
    alert = SafetyAlert.objects.get(pk=alert.pk)  # as it stands now (it may have been cancelled)
    if alert.confirmation == Confirmation.NONE:
        raise ServiceError(_("This alert does not ask for confirmation."))
    if alert.state != AlertState.ACTIVE:
        raise ConflictError(_("This alert is no longer in force."))
    recipient = AlertRecipient.objects.filter(alert=alert, users__id=user.pk).order_by("pk").first()
    if recipient is None:
        raise ServiceError(_("This alert was not sent to you."))
    with transaction.atomic():
        _mark_confirmed(alert, user, now)
        if alert.notification_id is not None:
            from anwang.notifications.services import confirm as confirm_message

            notification = Notification.objects.get(pk=alert.notification_id)
            # Another account of the household may have got the message instead.
            with contextlib.suppress(ServiceError):
                confirm_message(user=user, notification=notification, now=now)
    recipient.refresh_from_db()
    return recipient


def _mark_confirmed(alert: SafetyAlert, user: User, now: dt.datetime) -> int:
    """Confirm every household of the alert the person belongs to; answers how many."""
    updated = AlertRecipient.objects.filter(
        alert=alert, users__id=user.pk, confirmed_at__isnull=True
    ).update(confirmed_at=now, confirmed_by=user, confirmed_via="inbox")
    if updated:
        DoorKnockTask.objects.filter(
            alert=alert,
            status=KnockStatus.OPEN,
            household_id__in=AlertRecipient.objects.filter(alert=alert, users__id=user.pk).values(
                "household_id"
            ),
        ).update(status=KnockStatus.DONE, outcome=KnockOutcome.SAFE, done_at=now)
    return updated


def on_message_confirmed(notification: Notification, user: User, now: dt.datetime) -> None:
    """A confirmation given in the inbox of an alert's message counts for the alert."""
    if notification.source_type != SafetyAlert._meta.label_lower or not notification.source_id:
        return
    alert = SafetyAlert.objects.filter(pk=int(notification.source_id)).first()
    if alert is not None and alert.state == AlertState.ACTIVE:
        _mark_confirmed(alert, user, now)


# Door-knock visits -------------------------------------------------------------------------


def door_knocks_create(
    *,
    actor: User,
    scope: Scope | None = None,
    alert: SafetyAlert,
    household_ids: Iterable[int] | None = None,
    assignee: User | None = None,
    due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[DoorKnockTask], list[int]]:
    """Turn households that have not confirmed (the given ones, or all) into door-knock
    visits: for ``assignee``, else for each household's grid worker. Households that already
    have an open visit are passed over. Answers (tasks made, households left without a visitor
    because their building has no grid worker); each visitor is notified."""
    now = now or timezone.now()
    require_publisher(actor, scope, alert.community_id)
    if alert.state != AlertState.ACTIVE:
        raise ConflictError(_("Door-knocks are for alerts in force."))
    due_at = clean_aware("due_at", due_at) if due_at is not None else now + KNOCK_DUE
    if assignee is not None and not assignee.is_active:
        raise ServiceError(_("Choose an active account."), field="assignee_id")
    if assignee is not None:
        from anwang.accounts.choices import Role

        roles = scope_for(assignee).roles(alert.community_id)
        if not roles & {Role.GRID_WORKER, Role.VOLUNTEER, Role.COMMUNITY_ADMIN, Role.GUARD}:
            raise ServiceError(
                _("Choose a grid worker or volunteer of this community."), field="assignee_id"
            )
    unconfirmed = AlertRecipient.objects.filter(alert=alert, confirmed_at__isnull=True)
    if household_ids is not None:
        unconfirmed = unconfirmed.filter(household_id__in=[int(pk) for pk in household_ids])
    with transaction.atomic():
        already = set(
            DoorKnockTask.objects.filter(alert=alert, status=KnockStatus.OPEN).values_list(
                "household_id", flat=True
            )
        )
        wanted = [
            pk for pk in unconfirmed.values_list("household_id", flat=True) if pk not in already
        ]
        workers = households_by_grid_worker(wanted) if assignee is None else {}
        tasks: list[DoorKnockTask] = []
        unassigned: list[int] = []
        for household_id in wanted:
            visitor_id = assignee.pk if assignee is not None else workers.get(household_id)
            if visitor_id is None:
                unassigned.append(household_id)
                continue
            tasks.append(
                DoorKnockTask(
                    alert=alert,
                    household_id=household_id,
                    assignee_id=visitor_id,
                    due_at=due_at,
                    created_at=now,
                    created_by=actor,
                )
            )
        DoorKnockTask.objects.bulk_create(tasks)
        by_visitor: dict[int, int] = {}
        for task in tasks:
            by_visitor[task.assignee_id] = by_visitor.get(task.assignee_id, 0) + 1
        for visitor_id, count in by_visitor.items():
            notify(
                recipients=User.objects.filter(pk=visitor_id),
                kind="alert.door_knock",
                title=_("%(count)d door-knock visits: %(headline)s")
                % {"count": count, "headline": alert.headline},
                body=_("Visit the households that have not confirmed the alert by %(due)s.")
                % {"due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")},
                url=reverse("alerts:knocks"),
                community=alert.community,
                priority=2,
                source=alert,
                actor=actor,
                now=now,
            )
        audit_record(
            actor=actor,
            action="alert.door_knocks",
            obj=alert,
            community_id=alert.community_id,
            changes={"tasks": len(tasks), "without_visitor": len(unassigned)},
        )
    return tasks, unassigned


def door_knock_record(
    *,
    actor: User,
    scope: Scope | None = None,
    task: DoorKnockTask,
    outcome: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> DoorKnockTask:
    """The visitor records what they found. Everyone safe confirms the household; someone
    needing help tells whoever sent the alert at once."""
    now = now or timezone.now()
    resolved = service_scope(actor, scope)
    if task.assignee_id != actor.pk and not (
        resolved is None or may_publish(resolved, task.alert.community_id)
    ):
        raise Http404
    outcome = _choice("outcome", outcome, KnockOutcome)
    note = clean_text("note", note, limit=2000, required=outcome == KnockOutcome.NEEDS_HELP)
    with transaction.atomic():
        task = DoorKnockTask.objects.select_for_update().select_related("alert").get(pk=task.pk)
        if task.status != KnockStatus.OPEN:
            raise ConflictError(_("This visit has already been recorded."))
        task.status = KnockStatus.DONE
        task.outcome = outcome
        task.note = note
        task.done_at = now
        task.save(update_fields=["status", "outcome", "note", "done_at"])
        if outcome == KnockOutcome.SAFE:
            AlertRecipient.objects.filter(
                alert_id=task.alert_id, household_id=task.household_id, confirmed_at__isnull=True
            ).update(confirmed_at=now, confirmed_by=actor, confirmed_via="door_knock")
        elif outcome == KnockOutcome.NEEDS_HELP:
            alert = task.alert
            senders = [u for u in (alert.published_by, alert.created_by) if u is not None]
            notify(
                recipients=senders,
                kind="alert.needs_help",
                title=_("Needs help: %(household)s") % {"household": str(task.household)},
                body=note,
                url=reverse("alerts:follow_up", args=[alert.pk]),
                community=alert.community,
                priority=1,
                urgent=True,
                source=alert,
                actor=actor,
                now=now,
            )
        audit_record(
            actor=actor,
            action="alert.door_knock_done",
            obj=task.alert,
            community_id=task.alert.community_id,
            changes={"household": task.household_id, "outcome": outcome},
        )
    return task

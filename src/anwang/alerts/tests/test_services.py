"""Safety alerts' writes: targeting and the reach preview, sending (frozen recipients, people
counts, the message with its priority, urgency and channels), confirmations in the inbox and
through the notifications domain, cancelling, updating, times, door-knock visits and their
outcomes, permissions and audit entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.alerts import services
from anwang.alerts.choices import AlertState, KnockOutcome, KnockStatus
from anwang.alerts.models import AlertRecipient, DoorKnockTask, SafetyAlert
from anwang.alerts.selectors import Targeting, reach_preview, target_households
from anwang.alerts.tests.support import AlertWorld, sent_alert
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.notifications import services as notification_services
from anwang.notifications.choices import DeliveryStatus
from anwang.notifications.models import Delivery, Notification, PushSubscription
from anwang.people.choices import Relation
from anwang.people.models import HouseholdMember, Resident, ResidentTagLink

pytestmark = pytest.mark.django_db

# 10:00 in Shanghai (the site's zone), a Friday.
NOW = dt.datetime(2026, 3, 6, 2, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)

FIELDS: dict[str, Any] = {
    "event": "台风",
    "category": "Met",
    "severity": "Severe",
    "urgency": "Expected",
    "certainty": "Likely",
    "headline": "翠苑台风预警",
    "description": "今晚台风过境。",
}


def draft(alerts: AlertWorld, **extra: Any) -> SafetyAlert:
    values = {"actor": alerts.admin, "community": alerts.world.a.community, "now": NOW}
    return services.alert_create(**(values | FIELDS | extra))


def publish(alerts: AlertWorld, alert: SafetyAlert, when: dt.datetime = NOW) -> SafetyAlert:
    return services.alert_publish(actor=alerts.admin, alert=alert, now=when)


def reached(alert: SafetyAlert) -> set[int]:
    return set(alert.recipients.values_list("household_id", flat=True))


def targeted(alerts: AlertWorld, **targeting: Any) -> set[int]:
    values = {"community_id": alerts.world.a.community.pk} | targeting
    return set(target_households(Targeting(**values)).values_list("pk", flat=True))


def lived_in(alerts: AlertWorld) -> set[int]:
    return {
        alerts.world.a.household.pk,
        alerts.tenant_household.pk,
        alerts.phone_household.pk,
        alerts.far_household.pk,
    }


def move_in(household: Any, name: str, **extra: Any) -> Resident:
    resident = Resident.objects.create(community=household.community, name=name, **extra)
    HouseholdMember.objects.create(household=household, resident=resident, relation=Relation.OTHER)
    return resident


def actions(alert: SafetyAlert) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(alert.pk), action__startswith="alert.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


# --------------------------------------------------------------------------- targeting


def test_whole_community_reaches_every_lived_in_household(alert_world: AlertWorld) -> None:
    assert targeted(alert_world) == lived_in(alert_world)  # the empty household is not counted


def test_building_unit_and_household_targets_and_their_union(alert_world: AlertWorld) -> None:
    a = alert_world.world.a
    building1 = {a.household.pk, alert_world.tenant_household.pk, alert_world.phone_household.pk}
    assert targeted(alert_world, whole_community=False, building_ids=(a.building.pk,)) == building1
    assert targeted(alert_world, whole_community=False, unit_ids=(a.unit.pk,)) == building1
    assert targeted(
        alert_world, whole_community=False, household_ids=(alert_world.tenant_household.pk,)
    ) == {alert_world.tenant_household.pk}
    union = targeted(
        alert_world,
        whole_community=False,
        building_ids=(alert_world.building2.pk,),
        household_ids=(alert_world.tenant_household.pk,),
    )
    assert union == {alert_world.far_household.pk, alert_world.tenant_household.pk}


def test_groups_narrow_to_households_with_such_a_resident(alert_world: AlertWorld) -> None:
    a = alert_world.world.a
    assert targeted(alert_world, groups=("living_alone",)) == {a.household.pk}
    assert targeted(alert_world, groups=("needs_care",)) == set()
    ResidentTagLink.objects.create(resident=alert_world.phone_resident, tag="needs_care")
    assert targeted(alert_world, groups=("living_alone", "needs_care")) == {
        a.household.pk,
        alert_world.phone_household.pk,
    }
    # Groups narrow a place target too.
    assert (
        targeted(
            alert_world,
            whole_community=False,
            building_ids=(alert_world.building2.pk,),
            groups=("living_alone",),
        )
        == set()
    )


def test_moved_out_residents_are_not_counted(alert_world: AlertWorld) -> None:
    HouseholdMember.objects.filter(household=alert_world.tenant_household).update(
        until=dt.date(2026, 3, 1)
    )
    Resident.objects.filter(pk=alert_world.phone_resident.pk).update(
        moved_out_at=dt.date(2026, 3, 1)
    )
    expected = lived_in(alert_world) - {
        alert_world.tenant_household.pk,
        alert_world.phone_household.pk,
    }
    assert targeted(alert_world) == expected
    # A living-alone resident who moved out no longer counts for the group either.
    Resident.objects.filter(pk=alert_world.world.a.resident.pk).update(
        moved_out_at=dt.date(2026, 3, 1)
    )
    assert targeted(alert_world, groups=("living_alone",)) == set()
    alert = publish(alert_world, draft(alert_world))
    assert reached(alert) == {alert_world.far_household.pk}
    assert (alert.households_reached, alert.people_reached) == (1, 1)


@pytest.mark.parametrize(
    ("argument", "side_object"),
    [
        ("building_ids", "building"),
        ("unit_ids", "unit"),
        ("household_ids", "household"),
    ],
)
def test_other_communitys_places_are_refused(
    alert_world: AlertWorld, argument: str, side_object: str
) -> None:
    other = getattr(alert_world.world.b, side_object)
    with pytest.raises(ServiceError) as error:
        draft(alert_world, whole_community=False, **{argument: [other.pk]})
    assert error.value.field == argument
    assert not SafetyAlert.objects.exists()


def test_targeting_needs_a_place_and_known_groups(alert_world: AlertWorld) -> None:
    with pytest.raises(ServiceError) as nothing:
        draft(alert_world, whole_community=False)
    assert nothing.value.field == "building_ids"
    with pytest.raises(ServiceError) as group:
        draft(alert_world, groups=["pets"])
    assert group.value.field == "groups"


def test_a_targeted_alert_stores_its_targets(alert_world: AlertWorld) -> None:
    alert = draft(
        alert_world,
        whole_community=False,
        building_ids=[alert_world.building2.pk],
        household_ids=[alert_world.tenant_household.pk],
        groups=["living_alone"],
    )
    assert not alert.whole_community
    assert list(alert.buildings.all()) == [alert_world.building2]
    assert list(alert.households.all()) == [alert_world.tenant_household]
    assert alert.groups == ["living_alone"]
    assert "2号楼" in alert.area_description
    assert alert.polygon is None


# --------------------------------------------------------------------------- reach preview


def test_reach_preview_counts_people_per_channel(alert_world: AlertWorld) -> None:
    a = alert_world.world.a
    # The tenant has a phone for SMS, the far user a browser and WeChat, a's resident email.
    notification_services.preference_set(
        user=alert_world.tenant, channels=["inbox", "sms", "voice"], phone="13800000001"
    )
    notification_services.preference_set(
        user=alert_world.far_user, channels=["inbox", "web_push", "wechat"], wechat_openid="oFAR"
    )
    notification_services.preference_set(user=a.users["resident"], channels=["inbox", "email"])
    PushSubscription.objects.create(
        user=alert_world.far_user,
        endpoint="https://push.example/far",
        p256dh="k",
        auth="a",
        created_at=NOW,
    )
    a.users["resident"].email = "a_resident@example.org"
    a.users["resident"].save(update_fields=["email"])

    preview = reach_preview(
        Targeting(community_id=a.community.pk), ["sms", "voice", "web_push", "wechat", "email"]
    )
    assert (preview.households, preview.people, preview.vulnerable_households) == (4, 4, 1)
    assert preview.accounts == 3
    rows = {row.channel: (row.households, row.people) for row in preview.channels}
    assert rows == {
        "inbox": (3, 3),  # every household but the phone-only one
        "sms": (2, 2),  # the tenant's preference phone and the phone-only resident
        "voice": (2, 2),
        "web_push": (1, 1),
        "wechat": (1, 1),
        "email": (1, 1),
    }
    assert preview.channels[0].channel == "inbox"
    assert preview.unreachable_households == 0


def test_reach_preview_shows_unreachable_households(alert_world: AlertWorld) -> None:
    a = alert_world.world.a
    preview = reach_preview(Targeting(community_id=a.community.pk), [])
    assert [row.channel for row in preview.channels] == ["inbox"]
    # Only a phone number, and no SMS chosen: nobody there is reached.
    assert preview.unreachable_households == 1
    narrowed = reach_preview(
        Targeting(
            community_id=a.community.pk,
            whole_community=False,
            household_ids=(alert_world.phone_household.pk,),
        ),
        ["sms"],
    )
    assert (narrowed.households, narrowed.accounts, narrowed.unreachable_households) == (1, 0, 0)
    assert {row.channel: row.people for row in narrowed.channels} == {"inbox": 0, "sms": 1}


# --------------------------------------------------------------------------- sending


def test_publish_freezes_recipients_with_people_and_vulnerability(
    alert_world: AlertWorld,
) -> None:
    a = alert_world.world.a
    move_in(alert_world.tenant_household, "翠苑王小五")
    alert = publish(alert_world, draft(alert_world))
    assert alert.state == AlertState.ACTIVE
    assert (alert.published_at, alert.published_by) == (NOW, alert_world.admin)
    assert (alert.households_reached, alert.people_reached) == (4, 5)
    rows = {r.household_id: (r.people, r.vulnerable) for r in alert.recipients.all()}
    assert rows == {
        a.household.pk: (1, True),
        alert_world.tenant_household.pk: (2, False),
        alert_world.phone_household.pk: (1, False),
        alert_world.far_household.pk: (1, False),
    }
    accounts = {
        r.household_id: set(r.users.values_list("username", flat=True))
        for r in alert.recipients.all()
    }
    assert accounts == {
        a.household.pk: {"a_resident"},
        alert_world.tenant_household.pk: {"a_tenant"},
        alert_world.phone_household.pk: set(),
        alert_world.far_household.pk: {"a_far"},  # through the household binding
    }
    # Someone moving into the empty household afterwards changes nothing.
    empty = a.community.households.get(number="201")
    move_in(empty, "翠苑新住户")
    assert reached(alert) == lived_in(alert_world)
    alert.refresh_from_db()
    assert alert.households_reached == 4
    assert "alert.publish" in actions(alert)


def test_message_goes_to_every_account_and_phone_only_resident(
    alert_world: AlertWorld,
) -> None:
    alert = publish(alert_world, draft(alert_world, channels=["sms"], confirmation="safe"))
    notification = alert.notification
    assert notification is not None
    assert (notification.kind, notification.title) == ("alert", "翠苑台风预警")
    assert notification.needs_confirmation
    assert notification.data["alert_id"] == alert.pk
    assert notification.data["confirm_label"]
    assert notification.source_type == "alerts.safetyalert"
    inbox = set(
        Delivery.objects.filter(notification=notification, channel="inbox").values_list(
            "recipient__username", flat=True
        )
    )
    assert inbox == {"a_resident", "a_tenant", "a_far"}
    phone = Delivery.objects.get(notification=notification, resident__isnull=False)
    assert (phone.resident, phone.channel, phone.recipient) == (
        alert_world.phone_resident,
        "sms",
        None,
    )


@pytest.mark.parametrize(
    ("severity", "priority"),
    [("Extreme", 1), ("Severe", 2), ("Moderate", 3), ("Minor", 4), ("Unknown", 4)],
)
def test_priority_follows_severity(alert_world: AlertWorld, severity: str, priority: int) -> None:
    alert = publish(alert_world, draft(alert_world, severity=severity))
    assert alert.notification is not None
    assert alert.notification.priority == priority


def quiet_tenant(alerts: AlertWorld) -> None:
    """The tenant gets SMS, with quiet hours 09:00-11:00 (NOW is 10:00)."""
    notification_services.preference_set(
        user=alerts.tenant,
        channels=["inbox", "sms"],
        phone="13800000001",
        quiet_start=dt.time(9),
        quiet_end=dt.time(11),
    )


@pytest.mark.parametrize(
    ("severity", "urgency"), [("Extreme", "Expected"), ("Moderate", "Immediate")]
)
def test_extreme_or_immediate_ignores_quiet_hours(
    alert_world: AlertWorld, severity: str, urgency: str
) -> None:
    quiet_tenant(alert_world)
    alert = publish(
        alert_world, draft(alert_world, severity=severity, urgency=urgency, channels=["sms"])
    )
    assert alert.notification is not None
    assert alert.notification.urgent
    sms = Delivery.objects.get(
        notification=alert.notification, recipient=alert_world.tenant, channel="sms"
    )
    assert (sms.channel, sms.next_attempt_at) == ("sms", NOW)


def test_other_alerts_wait_for_the_end_of_quiet_hours(alert_world: AlertWorld) -> None:
    quiet_tenant(alert_world)
    alert = publish(
        alert_world, draft(alert_world, severity="Severe", urgency="Expected", channels=["sms"])
    )
    assert alert.notification is not None
    assert not alert.notification.urgent
    sms = Delivery.objects.get(
        notification=alert.notification, recipient=alert_world.tenant, channel="sms"
    )
    assert sms.next_attempt_at == NOW + H  # 11:00 in Shanghai
    # Residents without quiet hours are not held back.
    phone = Delivery.objects.get(notification=alert.notification, resident__isnull=False)
    assert phone.next_attempt_at == NOW


def test_channels_narrow_what_people_chose(alert_world: AlertWorld) -> None:
    notification_services.preference_set(
        user=alert_world.tenant, channels=["inbox", "web_push", "sms"], phone="13800000001"
    )
    inbox_only = publish(alert_world, draft(alert_world, channels=[]))
    assert set(
        Delivery.objects.filter(notification=inbox_only.notification).values_list(
            "channel", flat=True
        )
    ) == {"inbox"}
    with_sms = publish(alert_world, draft(alert_world, channels=["inbox", "sms"]))
    assert with_sms.channels == ["sms"]  # the inbox is always there, not a choice
    tenant_channels = set(
        Delivery.objects.filter(
            notification=with_sms.notification, recipient=alert_world.tenant
        ).values_list("channel", flat=True)
    )
    assert tenant_channels == {"inbox", "sms"}


def test_unknown_channels_are_refused(alert_world: AlertWorld) -> None:
    with pytest.raises(ServiceError) as error:
        draft(alert_world, channels=["wecom"])
    assert error.value.field == "channels"


def test_a_sent_alert_is_not_sent_again(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, now=NOW)
    with pytest.raises(ConflictError):
        publish(alert_world, alert)
    assert Notification.objects.filter(kind="alert").count() == 1


# --------------------------------------------------------------------------- confirmations


def test_resident_confirms_for_their_household(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, now=NOW)
    recipient = services.alert_confirm(user=alert_world.tenant, alert=alert, now=NOW + H)
    assert recipient.household == alert_world.tenant_household
    assert (recipient.confirmed_at, recipient.confirmed_by, recipient.confirmed_via) == (
        NOW + H,
        alert_world.tenant,
        "inbox",
    )
    inbox = Delivery.objects.get(
        notification=alert.notification, recipient=alert_world.tenant, channel="inbox"
    )
    assert (inbox.status, inbox.confirmed_at) == (DeliveryStatus.CONFIRMED, NOW + H)
    others = AlertRecipient.objects.filter(alert=alert).exclude(pk=recipient.pk)
    assert not others.filter(confirmed_at__isnull=False).exists()


def test_confirming_in_the_inbox_confirms_the_household(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, now=NOW)
    assert alert.notification is not None
    notification_services.confirm(
        user=alert_world.far_user, notification=alert.notification, now=NOW + H
    )
    recipient = AlertRecipient.objects.get(alert=alert, household=alert_world.far_household)
    assert (recipient.confirmed_at, recipient.confirmed_by, recipient.confirmed_via) == (
        NOW + H,
        alert_world.far_user,
        "inbox",
    )


def test_confirmation_closes_an_open_door_knock(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, now=NOW)
    services.door_knocks_create(actor=alert_world.admin, alert=alert, now=NOW)
    services.alert_confirm(user=alert_world.tenant, alert=alert, now=NOW + H)
    task = DoorKnockTask.objects.get(alert=alert, household=alert_world.tenant_household)
    assert (task.status, task.outcome) == (KnockStatus.DONE, KnockOutcome.SAFE)


def test_an_alert_that_asks_nothing_cannot_be_confirmed(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, confirmation="none", now=NOW)
    with pytest.raises(ServiceError) as error:
        services.alert_confirm(user=alert_world.tenant, alert=alert, now=NOW)
    assert not isinstance(error.value, ConflictError)
    assert not AlertRecipient.objects.filter(confirmed_at__isnull=False).exists()


def test_someone_the_alert_did_not_reach_cannot_confirm(alert_world: AlertWorld) -> None:
    alert = sent_alert(
        alert_world,
        now=NOW,
        whole_community=False,
        household_ids=[alert_world.far_household.pk],
    )
    with pytest.raises(ServiceError):
        services.alert_confirm(user=alert_world.tenant, alert=alert, now=NOW)


# --------------------------------------------------------------------------- cancelling


def test_cancelling_a_draft_tells_nobody(alert_world: AlertWorld) -> None:
    alert = draft(alert_world)
    cancelled = services.alert_cancel(
        actor=alert_world.admin, alert=alert, reason="写错了", now=NOW
    )
    assert (cancelled.state, cancelled.cancelled_at, cancelled.cancel_reason) == (
        AlertState.CANCELLED,
        NOW,
        "写错了",
    )
    assert not Notification.objects.exists()
    with pytest.raises(ConflictError):
        publish(alert_world, cancelled)
    assert "alert.cancel" in actions(alert)


def test_cancelling_a_sent_alert_tells_recipients_and_closes_visits(
    alert_world: AlertWorld,
) -> None:
    alert = sent_alert(alert_world, now=NOW)
    tasks, _unassigned = services.door_knocks_create(actor=alert_world.admin, alert=alert, now=NOW)
    assert tasks
    alert = services.alert_cancel(
        actor=alert_world.admin, alert=alert, reason="台风转向", now=NOW + H
    )
    assert alert.state == AlertState.CANCELLED
    message = Notification.objects.get(kind="alert.cancelled")
    assert message.body == "台风转向"
    assert message.source_id == str(alert.pk)
    assert set(
        Delivery.objects.filter(notification=message).values_list("recipient__username", flat=True)
    ) == {"a_resident", "a_tenant", "a_far"}
    assert not DoorKnockTask.objects.filter(alert=alert, status=KnockStatus.OPEN).exists()
    with pytest.raises(ConflictError):
        services.alert_confirm(user=alert_world.tenant, alert=alert, now=NOW + 2 * H)
    with pytest.raises(ConflictError):
        services.alert_cancel(actor=alert_world.admin, alert=alert, reason="再次", now=NOW + 2 * H)


def test_cancelling_needs_a_reason(alert_world: AlertWorld) -> None:
    alert = draft(alert_world)
    with pytest.raises(ServiceError) as error:
        services.alert_cancel(actor=alert_world.admin, alert=alert, reason=" ", now=NOW)
    assert error.value.field == "reason"


# --------------------------------------------------------------------------- updating and times


def test_drafts_and_scheduled_alerts_can_be_changed(alert_world: AlertWorld) -> None:
    alert = draft(alert_world)
    changed = services.alert_update(
        actor=alert_world.admin,
        alert=alert,
        changes={"headline": "翠苑暴雨预警", "severity": "Extreme", "channels": ["sms"]},
        targeting={"whole_community": False, "building_ids": [alert_world.building2.pk]},
        now=NOW,
    )
    assert (changed.headline, changed.severity, changed.channels) == (
        "翠苑暴雨预警",
        "Extreme",
        ["sms"],
    )
    assert list(changed.buildings.all()) == [alert_world.building2]
    scheduled = publish(alert_world, draft(alert_world, publish_at=NOW + H, expires_at=NOW + 5 * H))
    assert scheduled.state == AlertState.SCHEDULED
    services.alert_update(
        actor=alert_world.admin, alert=scheduled, changes={"publish_at": NOW + 2 * H}, now=NOW
    )
    scheduled.refresh_from_db()
    assert (scheduled.state, scheduled.publish_at) == (AlertState.SCHEDULED, NOW + 2 * H)
    # Without a send time, it goes back to being a draft.
    services.alert_update(
        actor=alert_world.admin, alert=scheduled, changes={"publish_at": None}, now=NOW
    )
    scheduled.refresh_from_db()
    assert scheduled.state == AlertState.DRAFT
    assert "alert.update" in actions(alert)


def test_sent_alerts_cannot_be_changed(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, now=NOW)
    with pytest.raises(ConflictError) as error:
        services.alert_update(
            actor=alert_world.admin, alert=alert, changes={"headline": "改"}, now=NOW
        )
    assert error.value.status == 409


def test_update_refuses_unknown_fields_and_bad_codes(alert_world: AlertWorld) -> None:
    alert = draft(alert_world)
    with pytest.raises(ServiceError):
        services.alert_update(
            actor=alert_world.admin, alert=alert, changes={"state": "active"}, now=NOW
        )
    with pytest.raises(ServiceError) as code:
        services.alert_update(
            actor=alert_world.admin, alert=alert, changes={"severity": "Huge"}, now=NOW
        )
    assert code.value.field == "severity"
    alert.refresh_from_db()
    assert alert.severity == "Severe"


def test_expiry_must_come_after_sending(alert_world: AlertWorld) -> None:
    with pytest.raises(ServiceError) as before_send:
        draft(alert_world, publish_at=NOW + 2 * H, expires_at=NOW + H)
    assert before_send.value.field == "expires_at"
    with pytest.raises(ServiceError) as past:
        draft(alert_world, expires_at=NOW - H)
    assert past.value.field == "expires_at"
    alert = draft(alert_world)
    with pytest.raises(ServiceError) as on_update:
        services.alert_update(
            actor=alert_world.admin, alert=alert, changes={"expires_at": NOW - H}, now=NOW
        )
    assert on_update.value.field == "expires_at"


def test_default_expiry_is_a_day_after_sending(alert_world: AlertWorld) -> None:
    assert draft(alert_world).expires_at == NOW + dt.timedelta(hours=24)
    assert draft(alert_world, publish_at=NOW + H).expires_at == NOW + 25 * H


@pytest.mark.parametrize("name", ["publish_at", "expires_at"])
def test_naive_times_are_refused(alert_world: AlertWorld, name: str) -> None:
    naive = dt.datetime(2026, 3, 7, 10, 0)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ServiceError) as error:
        draft(alert_world, **{name: naive})
    assert error.value.field == name


def test_an_expired_draft_cannot_be_sent(alert_world: AlertWorld) -> None:
    alert = draft(alert_world, expires_at=NOW + H)
    with pytest.raises(ServiceError) as error:
        publish(alert_world, alert, when=NOW + 2 * H)
    assert error.value.field == "expires_at"
    alert.refresh_from_db()
    assert alert.state == AlertState.DRAFT


def test_bad_codes_are_refused_on_create(alert_world: AlertWorld) -> None:
    for name in ("category", "severity", "urgency", "certainty", "confirmation"):
        with pytest.raises(ServiceError) as error:
            draft(alert_world, **{name: "Nonsense"})
        assert error.value.field == name


# --------------------------------------------------------------------------- door-knocks


def test_door_knocks_go_to_each_households_grid_worker(alert_world: AlertWorld) -> None:
    a = alert_world.world.a
    alert = sent_alert(alert_world, now=NOW)
    services.alert_confirm(user=alert_world.tenant, alert=alert, now=NOW)
    tasks, unassigned = services.door_knocks_create(actor=alert_world.admin, alert=alert, now=NOW)
    # Building 1's unconfirmed households to its grid worker; building 2 has none.
    assert {t.household_id for t in tasks} == {a.household.pk, alert_world.phone_household.pk}
    assert {t.assignee for t in tasks} == {alert_world.grid_worker}
    assert {t.due_at for t in tasks} == {NOW + 2 * H}
    assert unassigned == [alert_world.far_household.pk]
    told = Notification.objects.get(kind="alert.door_knock")
    assert set(Delivery.objects.filter(notification=told).values_list("recipient", flat=True)) == {
        alert_world.grid_worker.pk
    }
    assert told.priority == 2
    assert "alert.door_knocks" in actions(alert)


def test_no_second_open_visit_to_a_household(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, now=NOW)
    first, _ = services.door_knocks_create(actor=alert_world.admin, alert=alert, now=NOW)
    again, unassigned = services.door_knocks_create(
        actor=alert_world.admin, alert=alert, assignee=alert_world.volunteer, now=NOW
    )
    # Only the household without a grid worker is still to visit.
    assert [t.household_id for t in again] == [alert_world.far_household.pk]
    assert unassigned == []
    assert DoorKnockTask.objects.filter(alert=alert).count() == len(first) + 1
    third, _ = services.door_knocks_create(
        actor=alert_world.admin, alert=alert, assignee=alert_world.volunteer, now=NOW
    )
    assert third == []


def test_chosen_visitor_and_households(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, now=NOW)
    tasks, unassigned = services.door_knocks_create(
        actor=alert_world.admin,
        alert=alert,
        household_ids=[alert_world.far_household.pk],
        assignee=alert_world.volunteer,
        due_at=NOW + 30 * dt.timedelta(minutes=1),
        now=NOW,
    )
    assert [(t.household_id, t.assignee, t.due_at) for t in tasks] == [
        (alert_world.far_household.pk, alert_world.volunteer, NOW + dt.timedelta(minutes=30))
    ]
    assert unassigned == []
    assert Delivery.objects.filter(
        notification__kind="alert.door_knock", recipient=alert_world.volunteer
    ).exists()


@pytest.mark.parametrize("who", ["resident", "other_volunteer"])
def test_visitor_must_be_staff_or_volunteer_of_the_community(
    alert_world: AlertWorld, who: str
) -> None:
    alert = sent_alert(alert_world, now=NOW)
    visitor = alert_world.tenant if who == "resident" else alert_world.world.user("volunteer", "b")
    with pytest.raises(ServiceError) as error:
        services.door_knocks_create(actor=alert_world.admin, alert=alert, assignee=visitor, now=NOW)
    assert error.value.field == "assignee_id"
    assert not DoorKnockTask.objects.exists()


def test_door_knocks_only_for_alerts_in_force(alert_world: AlertWorld) -> None:
    with pytest.raises(ConflictError):
        services.door_knocks_create(actor=alert_world.admin, alert=draft(alert_world), now=NOW)


def knock(alerts: AlertWorld, household: Any) -> DoorKnockTask:
    alert = sent_alert(alerts, now=NOW)
    services.door_knocks_create(actor=alerts.admin, alert=alert, now=NOW)
    return DoorKnockTask.objects.get(alert=alert, household=household)


def test_safe_outcome_confirms_the_household(alert_world: AlertWorld) -> None:
    task = knock(alert_world, alert_world.phone_household)
    done = services.door_knock_record(
        actor=alert_world.grid_worker, task=task, outcome="safe", now=NOW + H
    )
    assert (done.status, done.outcome, done.done_at) == (KnockStatus.DONE, "safe", NOW + H)
    recipient = AlertRecipient.objects.get(alert=task.alert, household=task.household)
    assert (recipient.confirmed_at, recipient.confirmed_by, recipient.confirmed_via) == (
        NOW + H,
        alert_world.grid_worker,
        "door_knock",
    )
    assert "alert.door_knock_done" in actions(task.alert)
    with pytest.raises(ConflictError):
        services.door_knock_record(
            actor=alert_world.grid_worker, task=task, outcome="safe", now=NOW + H
        )


def test_needs_help_requires_a_note_and_tells_the_sender_urgently(
    alert_world: AlertWorld,
) -> None:
    task = knock(alert_world, alert_world.phone_household)
    with pytest.raises(ServiceError) as error:
        services.door_knock_record(
            actor=alert_world.grid_worker, task=task, outcome="needs_help", note="", now=NOW
        )
    assert error.value.field == "note"
    task.refresh_from_db()
    assert task.status == KnockStatus.OPEN
    services.door_knock_record(
        actor=alert_world.grid_worker,
        task=task,
        outcome="needs_help",
        note="老人腿脚不便，需要转移",
        now=NOW + H,
    )
    message = Notification.objects.get(kind="alert.needs_help")
    assert (message.urgent, message.priority, message.body) == (True, 1, "老人腿脚不便，需要转移")
    assert list(
        Delivery.objects.filter(notification=message, channel="inbox").values_list(
            "recipient", flat=True
        )
    ) == [alert_world.admin.pk]
    recipient = AlertRecipient.objects.get(alert=task.alert, household=task.household)
    assert recipient.confirmed_at is None


def test_nobody_home_leaves_the_household_unconfirmed(alert_world: AlertWorld) -> None:
    task = knock(alert_world, alert_world.phone_household)
    done = services.door_knock_record(
        actor=alert_world.grid_worker, task=task, outcome="not_home", now=NOW + H
    )
    assert (done.status, done.outcome) == (KnockStatus.DONE, "not_home")
    recipient = AlertRecipient.objects.get(alert=task.alert, household=task.household)
    assert recipient.confirmed_at is None
    # A new visit may follow a done one.
    again, _ = services.door_knocks_create(
        actor=alert_world.admin,
        alert=task.alert,
        household_ids=[task.household_id],
        now=NOW + H,
    )
    assert len(again) == 1


def test_a_publisher_may_record_for_the_visitor(alert_world: AlertWorld) -> None:
    task = knock(alert_world, alert_world.phone_household)
    done = services.door_knock_record(actor=alert_world.admin, task=task, outcome="safe", now=NOW)
    assert done.outcome == "safe"


@pytest.mark.parametrize(
    ("role", "side"), [("volunteer", "a"), ("resident", "a"), ("community_admin", "b")]
)
def test_others_cannot_record_a_visit(alert_world: AlertWorld, role: str, side: str) -> None:
    task = knock(alert_world, alert_world.phone_household)
    with pytest.raises(Http404):
        services.door_knock_record(
            actor=alert_world.world.user(role, side), task=task, outcome="safe", now=NOW
        )
    task.refresh_from_db()
    assert task.status == KnockStatus.OPEN


def test_bad_outcome_is_refused(alert_world: AlertWorld) -> None:
    task = knock(alert_world, alert_world.phone_household)
    with pytest.raises(ServiceError) as error:
        services.door_knock_record(
            actor=alert_world.grid_worker, task=task, outcome="maybe", now=NOW
        )
    assert error.value.field == "outcome"


# --------------------------------------------------------------------------- permissions, audit


def test_readers_are_refused_and_outsiders_see_nothing(alert_world: AlertWorld) -> None:
    world = alert_world.world
    with pytest.raises(PermissionDenied):
        draft(alert_world, actor=world.user("grid_worker"))
    with pytest.raises(Http404):
        draft(alert_world, actor=world.user("community_admin", "b"))
    with pytest.raises(Http404):
        draft(alert_world, actor=world.user("resident"))
    alert = draft(alert_world)
    for actor, refused in (
        (world.user("grid_worker"), PermissionDenied),
        (world.user("community_admin", "b"), Http404),
    ):
        with pytest.raises(refused):
            services.alert_publish(actor=actor, alert=alert, now=NOW)
        with pytest.raises(refused):
            services.alert_update(actor=actor, alert=alert, changes={"headline": "x"}, now=NOW)
        with pytest.raises(refused):
            services.alert_cancel(actor=actor, alert=alert, reason="x", now=NOW)
    sent = publish(alert_world, alert)
    with pytest.raises(PermissionDenied):
        services.door_knocks_create(actor=world.user("grid_worker"), alert=sent, now=NOW)
    with pytest.raises(Http404):
        services.door_knocks_create(actor=world.user("community_admin", "b"), alert=sent, now=NOW)


def test_operator_and_platform_admin_may_send(alert_world: AlertWorld) -> None:
    world = alert_world.world
    for actor in (world.user("operator"), world.platform_admin):
        alert = draft(alert_world, actor=actor)
        assert services.alert_publish(actor=actor, alert=alert, now=NOW).state == "active"


def test_writes_are_audited(alert_world: AlertWorld) -> None:
    alert = draft(alert_world)
    scheduled = draft(alert_world, publish_at=NOW + H)
    publish(alert_world, scheduled)
    publish(alert_world, alert)
    assert actions(alert) == ["alert.create", "alert.publish"]
    assert actions(scheduled) == ["alert.create", "alert.schedule"]
    entry = AuditEvent.objects.get(action="alert.publish", object_id=str(alert.pk))
    assert entry.actor == alert_world.admin
    assert entry.community_id == alert_world.world.a.community.pk
    assert entry.changes == {"households": 4, "people": 4}


def test_a_resident_who_volunteers_may_be_chosen(alert_world: AlertWorld) -> None:
    Membership.objects.create(
        user=alert_world.tenant, role=Role.VOLUNTEER, community=alert_world.world.a.community
    )
    alert = sent_alert(alert_world, now=NOW)
    tasks, _ = services.door_knocks_create(
        actor=alert_world.admin, alert=alert, assignee=alert_world.tenant, now=NOW
    )
    assert len(tasks) == 4
    assert timezone.is_aware(tasks[0].created_at)


# --------------------------------------------------------------------------- fixes needed
# These fail until services/selectors are fixed (see the report to the lead).


def test_reach_preview_counts_only_channels_people_chose(alert_world: AlertWorld) -> None:
    # The tenant has a number for SMS but reads messages in the inbox and the browser only:
    # sending does not text them, so the preview must not count them on SMS either.
    notification_services.preference_set(user=alert_world.tenant, phone="13800000001")
    community_id = alert_world.world.a.community.pk
    preview = reach_preview(Targeting(community_id=community_id), ["sms"])
    alert = publish(alert_world, draft(alert_world, channels=["sms"]))
    sms = Delivery.objects.filter(notification=alert.notification, channel="sms")
    sms_row = next(row for row in preview.channels if row.channel == "sms")
    assert sms.count() == 1  # the phone-only resident
    assert (sms_row.households, sms_row.people) == (1, 1)


def test_cancel_reaches_those_told_by_phone(alert_world: AlertWorld) -> None:
    notification_services.preference_set(
        user=alert_world.tenant, channels=["inbox", "sms"], phone="13800000001"
    )
    alert = sent_alert(alert_world, channels=["sms"], now=NOW)
    assert Delivery.objects.filter(notification=alert.notification, channel="sms").count() == 2
    services.alert_cancel(actor=alert_world.admin, alert=alert, reason="台风转向", now=NOW + H)
    message = Notification.objects.get(kind="alert.cancelled")
    told_by_sms = set(
        Delivery.objects.filter(notification=message, channel="sms").values_list(
            "recipient", "resident"
        )
    )
    # Whoever was texted the alert is texted that it no longer holds.
    assert told_by_sms == {(alert_world.tenant.pk, None), (None, alert_world.phone_resident.pk)}

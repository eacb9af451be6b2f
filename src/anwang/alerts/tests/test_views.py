"""The safety alert pages: composing from a template and sending, the reach preview, errors
that keep what was typed, editing, publishing and withdrawing, the alert as residents see it
and their confirmation, their own alerts, the follow-up list shrinking as households confirm,
door-knock visits made with one click and recorded on the visitor's phone, and who may see or
do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anwang.alerts.choices import AlertState, KnockOutcome, KnockStatus
from anwang.alerts.models import AlertRecipient, DoorKnockTask, SafetyAlert
from anwang.alerts.services import door_knocks_create
from anwang.alerts.tests.support import AlertWorld, sent_alert
from anwang.notifications.models import Delivery

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """Pages in English, so texts are asserted on their source."""
    settings.LANGUAGE_CODE = "en"


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def compose_data(alerts: AlertWorld, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "community": alerts.world.a.community.pk,
        "template": "typhoon",
        "event": "Typhoon",
        "category": "Met",
        "severity": "Severe",
        "urgency": "Expected",
        "certainty": "Likely",
        "response_type": "Shelter",
        "headline": "翠苑台风预警",
        "description": "今晚台风过境。",
        "instruction": "关好门窗。",
        "whole_community": "1",
        "confirmation": "safe",
        "expires_at": local(timezone.now() + dt.timedelta(hours=12)),
        "action": "send",
    }
    data.update(extra)
    return data


# --------------------------------------------------------------------------- compose


def test_compose_from_a_template_prefills_the_form(alert_world: AlertWorld) -> None:
    response = client_of(alert_world.admin).get(reverse("alerts:create") + "?template=typhoon")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Typhoon warning: stay indoors"' in html
    assert 'data-template="fire"' in html
    form = response.context["form"]
    assert form.initial["severity"] == "Severe"
    assert form.initial["confirmation"] == "safe"
    expires = dt.datetime.fromisoformat(form.initial["expires_at"])
    expected = timezone.localtime(timezone.now() + dt.timedelta(hours=48)).replace(tzinfo=None)
    assert abs((expires - expected).total_seconds()) < 120
    # The preview of the whole community is there at once.
    preview = response.context["preview"]
    assert preview.households == 4


def test_admin_composes_and_sends(alert_world: AlertWorld) -> None:
    response = client_of(alert_world.admin).post(
        reverse("alerts:create"), compose_data(alert_world, channels=["sms"])
    )
    alert = SafetyAlert.objects.get(headline="翠苑台风预警")
    assert response.status_code == 302
    assert response["Location"] == reverse("alerts:detail", args=[alert.pk])
    assert alert.state == AlertState.ACTIVE
    assert alert.template == "typhoon"
    assert alert.channels == ["sms"]
    assert alert.households_reached == 4
    assert Delivery.objects.filter(notification=alert.notification, recipient=alert_world.tenant)


def test_save_draft_then_send_from_the_detail_page(alert_world: AlertWorld) -> None:
    client = client_of(alert_world.admin)
    response = client.post(reverse("alerts:create"), compose_data(alert_world, action="draft"))
    alert = SafetyAlert.objects.get(headline="翠苑台风预警")
    assert response.status_code == 302
    assert alert.state == AlertState.DRAFT
    detail = client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'data-testid="publish"' in detail
    client.post(reverse("alerts:publish", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.state == AlertState.ACTIVE


def test_send_at_a_later_time_schedules(alert_world: AlertWorld) -> None:
    later = timezone.now() + dt.timedelta(hours=2)
    client_of(alert_world.admin).post(
        reverse("alerts:create"), compose_data(alert_world, publish_at=local(later))
    )
    alert = SafetyAlert.objects.get(headline="翠苑台风预警")
    assert alert.state == AlertState.SCHEDULED
    assert not alert.recipients.exists()


def test_targeting_buildings_and_groups(alert_world: AlertWorld) -> None:
    data = compose_data(alert_world, whole_community="0", building_ids=[alert_world.building2.pk])
    client_of(alert_world.admin).post(reverse("alerts:create"), data)
    alert = SafetyAlert.objects.get(headline="翠苑台风预警")
    assert set(alert.recipients.values_list("household_id", flat=True)) == {
        alert_world.far_household.pk
    }


def test_errors_keep_what_was_typed(alert_world: AlertWorld) -> None:
    client = client_of(alert_world.admin)
    response = client.post(reverse("alerts:create"), compose_data(alert_world, headline=""))
    assert response.status_code == 400
    assert "headline" in response.context["form"].errors
    assert "今晚台风过境。" in response.content.decode()
    # A service's complaint lands beside its field.
    response = client.post(
        reverse("alerts:create"),
        compose_data(alert_world, expires_at=local(timezone.now() - dt.timedelta(hours=1))),
    )
    assert response.status_code == 400
    assert "expires_at" in response.context["form"].errors
    assert "翠苑台风预警" in response.content.decode()
    # Places are required when not the whole community.
    response = client.post(reverse("alerts:create"), compose_data(alert_world, whole_community="0"))
    assert response.status_code == 400
    assert "building_ids" in response.context["form"].errors
    assert not SafetyAlert.objects.exists()


def test_preview_counts(alert_world: AlertWorld) -> None:
    client = client_of(alert_world.admin)
    response = client.post(
        reverse("alerts:preview"),
        {
            "community": alert_world.world.a.community.pk,
            "whole_community": "1",
            "channels": ["sms"],
        },
        **HTMX,
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.households, preview.people, preview.vulnerable_households) == (4, 4, 1)
    assert preview.accounts == 3
    by_channel = {row.channel: row for row in preview.channels}
    assert by_channel["inbox"].households == 3
    # The resident without an account is reached by SMS on their registered number.
    assert by_channel["sms"].households == 1
    assert preview.unreachable_households == 0
    assert 'data-testid="reach-households">4<' in response.content.decode()

    only_building2 = client.post(
        reverse("alerts:preview"),
        {
            "community": alert_world.world.a.community.pk,
            "whole_community": "0",
            "building_ids": [alert_world.building2.pk],
        },
        **HTMX,
    )
    assert only_building2.context["preview"].households == 1
    nothing_chosen = client.post(
        reverse("alerts:preview"),
        {"community": alert_world.world.a.community.pk, "whole_community": "0"},
        **HTMX,
    )
    assert nothing_chosen.context["preview"] is None
    # The inbox alone leaves the phone-only household unreached: shown in red.
    inbox_only = client.post(
        reverse("alerts:preview"),
        {"community": alert_world.world.a.community.pk, "whole_community": "1"},
        **HTMX,
    )
    assert inbox_only.context["preview"].unreachable_households == 1
    assert 'data-testid="reach-unreachable"' in inbox_only.content.decode()


def test_edit_a_draft(alert_world: AlertWorld) -> None:
    client = client_of(alert_world.admin)
    client.post(reverse("alerts:create"), compose_data(alert_world, action="draft"))
    alert = SafetyAlert.objects.get()
    page = client.get(reverse("alerts:edit", args=[alert.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["headline"] == "翠苑台风预警"
    response = client.post(
        reverse("alerts:edit", args=[alert.pk]),
        compose_data(alert_world, headline="翠苑台风预警(更新)", action="draft"),
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.headline == "翠苑台风预警(更新)"
    assert alert.state == AlertState.DRAFT
    # A sent alert cannot be edited.
    sent = sent_alert(alert_world)
    response = client.get(reverse("alerts:edit", args=[sent.pk]))
    assert response.status_code == 302


def test_cancel_needs_a_reason(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    client = client_of(alert_world.admin)
    response = client.post(reverse("alerts:cancel", args=[alert.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "reason" in response.context["cancel_form"].errors
    response = client.post(reverse("alerts:cancel", args=[alert.pk]), {"reason": "台风转向"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.CANCELLED


# --------------------------------------------------------------------------- who may


def test_list_for_staff(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    response = client_of(alert_world.admin).get(reverse("alerts:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert alert.headline in html
    assert 'data-testid="new-alert"' in html
    assert reverse("alerts:feed", args=["a"]) in html
    row = response.context["page"].object_list[0]
    assert (row.confirmed_count, row.unconfirmed_count) == (0, 4)
    filtered = client_of(alert_world.admin).get(reverse("alerts:list") + "?state=draft")
    assert not filtered.context["page"].object_list


def test_reader_may_look_but_not_send(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    reader = client_of(alert_world.grid_worker)
    listing = reader.get(reverse("alerts:list"))
    assert listing.status_code == 200
    assert 'data-testid="new-alert"' not in listing.content.decode()
    assert reader.get(reverse("alerts:detail", args=[alert.pk])).status_code == 200
    assert reader.get(reverse("alerts:follow_up", args=[alert.pk])).status_code == 200
    assert reader.get(reverse("alerts:create")).status_code == 403
    assert reader.post(reverse("alerts:create"), compose_data(alert_world)).status_code == 403
    assert (
        reader.post(reverse("alerts:cancel", args=[alert.pk]), {"reason": "x"}).status_code == 403
    )
    assert (
        reader.post(reverse("alerts:knocks_create", args=[alert.pk]), {"all": "1"}).status_code
        == 403
    )
    assert SafetyAlert.objects.count() == 1


def test_other_community_gets_404(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world, whole_community=False, building_ids=[alert_world.building2.pk])
    outsider = alert_world.world.client_for("community_admin", "b")
    assert outsider.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404
    assert outsider.get(reverse("alerts:follow_up", args=[alert.pk])).status_code == 404
    assert outsider.post(reverse("alerts:publish", args=[alert.pk])).status_code == 404
    assert outsider.post(reverse("alerts:confirm", args=[alert.pk])).status_code == 404
    assert outsider.get(reverse("alerts:list")).context["page"].object_list.count() == 0
    # A resident the alert did not reach cannot read a targeted one.
    tenant = client_of(alert_world.tenant)
    assert tenant.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404
    assert tenant.get(reverse("alerts:list")).status_code == 403


def test_volunteer_without_visits_sees_no_door_knocks(alert_world: AlertWorld) -> None:
    response = client_of(alert_world.volunteer).get(reverse("alerts:knocks"))
    assert response.status_code == 200
    assert 'data-testid="no-knocks"' in response.content.decode()


# --------------------------------------------------------------------------- residents


def test_resident_sees_and_confirms(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    tenant = client_of(alert_world.tenant)
    page = tenant.get(reverse("alerts:detail", args=[alert.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "台风预警:请留在室内" in html
    assert "I am safe" in html
    assert 'data-testid="confirm"' in html
    mine = tenant.get(reverse("alerts:mine"))
    assert 'data-testid="to-confirm"' in mine.content.decode()

    response = tenant.post(reverse("alerts:confirm", args=[alert.pk]), **HTMX)
    assert response.status_code == 200
    assert 'data-testid="confirmed"' in response.content.decode()
    recipient = AlertRecipient.objects.get(alert=alert, household=alert_world.tenant_household)
    assert recipient.confirmed_at is not None
    assert recipient.confirmed_via == "inbox"
    # The inbox message counts as confirmed too.
    delivery = Delivery.objects.get(
        notification=alert.notification, recipient=alert_world.tenant, channel="inbox"
    )
    assert delivery.confirmed_at is not None
    mine = tenant.get(reverse("alerts:mine"))
    assert 'data-testid="confirmed"' in mine.content.decode()
    # Again: nothing changes, no error page.
    again = tenant.post(reverse("alerts:confirm", args=[alert.pk]))
    assert again.status_code == 302


def test_public_alert_readable_by_any_member(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    volunteer = client_of(alert_world.volunteer)
    page = volunteer.get(reverse("alerts:detail", args=[alert.pk]))
    assert page.status_code == 200
    assert 'data-testid="confirm"' not in page.content.decode()


# --------------------------------------------------------------------------- follow-up


def test_follow_up_shrinks_as_households_confirm(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    admin = client_of(alert_world.admin)
    before = admin.get(reverse("alerts:follow_up", args=[alert.pk]))
    rows = before.context["rows"]
    assert len(rows) == 4
    # The vulnerable household (the shared world's resident living alone) comes first.
    assert rows[0].household_id == alert_world.world.a.household.pk
    assert rows[0].vulnerable
    assert 'data-testid="vulnerable"' in before.content.decode()
    # Building 2's household has no grid worker: a warning says so.
    assert [row.household_id for row in before.context["without_visitor"]] == [
        alert_world.far_household.pk
    ]
    client_of(alert_world.tenant).post(reverse("alerts:confirm", args=[alert.pk]))
    after = admin.get(reverse("alerts:follow_up", args=[alert.pk]))
    assert len(after.context["rows"]) == 3
    assert after.context["counts"]["confirmed"] == 1


def test_door_knock_all_with_one_click(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    admin = client_of(alert_world.admin)
    response = admin.post(
        reverse("alerts:knocks_create", args=[alert.pk]), {"all": "1", "visitor": "grid_worker"}
    )
    assert response.status_code == 302
    tasks = DoorKnockTask.objects.filter(alert=alert)
    assert tasks.count() == 3
    assert set(tasks.values_list("assignee_id", flat=True)) == {alert_world.grid_worker.pk}
    page = admin.get(reverse("alerts:follow_up", args=[alert.pk]))
    html = page.content.decode()
    assert "3 door-knock visits were created." in html
    assert "1 household has no grid worker" in html
    # The one left over goes to a volunteer, chosen by hand.
    response = admin.post(
        reverse("alerts:knocks_create", args=[alert.pk]),
        {
            "household_ids": [alert_world.far_household.pk],
            "visitor": "person",
            "assignee_id": alert_world.volunteer.pk,
        },
    )
    assert response.status_code == 302
    assert (
        DoorKnockTask.objects.get(household=alert_world.far_household).assignee
        == alert_world.volunteer
    )


def test_door_knock_form_errors(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    admin = client_of(alert_world.admin)
    nothing = admin.post(
        reverse("alerts:knocks_create", args=[alert.pk]), {"visitor": "grid_worker"}
    )
    assert nothing.status_code == 400
    assert "household_ids" in nothing.context["form"].errors
    nobody = admin.post(
        reverse("alerts:knocks_create", args=[alert.pk]),
        {"household_ids": [alert_world.far_household.pk], "visitor": "person"},
    )
    assert nobody.status_code == 400
    assert "assignee_id" in nobody.context["form"].errors
    assert not DoorKnockTask.objects.exists()


def test_visitor_records_visits(alert_world: AlertWorld) -> None:
    alert = sent_alert(alert_world)
    tasks, _ = door_knocks_create(actor=alert_world.admin, alert=alert)
    by_household = {task.household_id: task for task in tasks}
    worker = client_of(alert_world.grid_worker)
    listing = worker.get(reverse("alerts:knocks"))
    assert listing.status_code == 200
    assert len(listing.context["rows"]) == 3
    assert listing.context["rows"][0]["task"].household_id == alert_world.world.a.household.pk
    assert listing.context["rows"][0]["vulnerable"]

    task = by_household[alert_world.phone_household.pk]
    page = worker.get(reverse("alerts:knock", args=[task.pk]))
    html = page.content.decode()
    assert "翠苑赵六" in html
    assert "13700001111" not in html
    # Needs help requires a note.
    response = worker.post(reverse("alerts:knock", args=[task.pk]), {"outcome": "needs_help"})
    assert response.status_code == 400
    assert "note" in response.context["form"].errors
    # Everyone safe confirms the household.
    response = worker.post(reverse("alerts:knock", args=[task.pk]), {"outcome": "safe"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.outcome) == (KnockStatus.DONE, KnockOutcome.SAFE)
    recipient = AlertRecipient.objects.get(alert=alert, household=alert_world.phone_household)
    assert recipient.confirmed_via == "door_knock"
    follow = client_of(alert_world.admin).get(reverse("alerts:follow_up", args=[alert.pk]))
    assert len(follow.context["rows"]) == 3
    assert 'data-outcome="safe"' in follow.content.decode()
    # Needs help with a note is recorded.
    other = by_household[alert_world.tenant_household.pk]
    response = worker.post(
        reverse("alerts:knock", args=[other.pk]), {"outcome": "needs_help", "note": "需要送药"}
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.outcome == KnockOutcome.NEEDS_HELP
    # Someone else's visit is not found.
    assert (
        client_of(alert_world.volunteer).get(reverse("alerts:knock", args=[task.pk])).status_code
        == 404
    )


def test_inbox_confirm_button_reads_in_each_readers_language(alert_world, settings):
    """The message keeps the button's source text, so a Chinese and an English reader each
    see it in their own language whatever language it was sent in."""
    from django.test import Client

    from anwang.alerts.tests.support import sent_alert

    settings.LANGUAGE_CODE = "en"
    sent_alert(alert_world)
    client = Client()
    client.force_login(alert_world.tenant)
    chinese = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "我平安" in chinese
    assert "I am safe" in english

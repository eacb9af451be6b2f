"""The safety alerts API: templates, composing (from a template or from scratch), changing,
sending at once or at a set time, expiry and cancelling; the reach preview per channel;
residents' confirmations shrinking the follow-up list; door-knock visits to grid workers or a
chosen volunteer and their outcome; readers get 403 on writes, other communities and people an
alert did not reach 404, and a token limited to one community sees only that community."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership, User
from anwang.accounts.services import api_token_create
from anwang.alerts import services
from anwang.alerts.models import AlertRecipient, DoorKnockTask, SafetyAlert
from anwang.alerts.tests.support import AlertWorld, sent_alert
from anwang.notifications.models import NotificationPreference

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def client(world: Any, role: str = "community_admin", side: str = "a") -> Client:
    """A logged-in staff client that asks for English."""
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def person(user: User) -> Client:
    """A logged-in client for any account."""
    c = Client()
    c.force_login(user)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A JSON request to the API."""
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def typhoon(alerts: AlertWorld, **extra: Any) -> dict[str, Any]:
    """A complete alert body for community a."""
    return {
        "community_id": alerts.world.a.community.pk,
        "event": "台风",
        "category": "Met",
        "severity": "Severe",
        "urgency": "Expected",
        "certainty": "Likely",
        "response_type": "Shelter",
        "headline": "台风预警:请留在室内",
        "description": "今晚台风过境,风力很大。",
        "instruction": "收好阳台物品。",
        "confirmation": "safe",
    } | extra


def created(alerts: AlertWorld, **extra: Any) -> dict[str, Any]:
    response = send(client(alerts.world), "post", "/alerts", typhoon(alerts, **extra))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


# --------------------------------------------------------------------------- composing


def test_templates_in_the_request_language(world):
    response = send(client(world, "grid_worker"), "get", "/alerts/templates")
    assert response.status_code == 200
    fire = {item["key"]: item for item in response.json()}["fire"]
    assert fire["headline"] == "Fire: leave the building now"
    assert (fire["severity"], fire["urgency"], fire["certainty"]) == (
        "Extreme",
        "Immediate",
        "Observed",
    )
    assert fire["confirmation"] == "safe"
    assert fire["valid_hours"] == 6


def test_create_from_a_template_fills_what_is_left_out(alert_world):
    before = timezone.now()
    body = created(
        alert_world,
        event=None,
        category=None,
        severity=None,
        urgency=None,
        certainty=None,
        response_type=None,
        headline=None,
        description=None,
        instruction=None,
        confirmation=None,
        template="fire",
        channels=["sms"],
    )
    assert body["state"] == "draft"
    assert body["headline"] == "Fire: leave the building now"
    assert body["severity"] == "Extreme"
    assert body["confirmation"] == "safe"
    assert body["confirm_label"] == "I am safe"
    assert body["language"] == "en-US"
    assert body["channels"] == ["sms"]
    assert body["targeting"]["whole_community"] is True
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert before + dt.timedelta(hours=6) <= expires <= timezone.now() + dt.timedelta(hours=6)
    alert = SafetyAlert.objects.get(pk=body["id"])
    assert alert.template == "fire"
    assert alert.created_by == alert_world.admin
    bad = send(
        client(alert_world.world),
        "post",
        "/alerts",
        {"community_id": alert_world.world.a.community.pk, "template": "volcano"},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["template"]


def test_bad_input_is_refused_on_its_field(alert_world):
    c = client(alert_world.world)
    missing = send(c, "post", "/alerts", typhoon(alert_world, headline=" "))
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["loc"] == ["headline"]
    foreign = send(
        c,
        "post",
        "/alerts",
        typhoon(alert_world, whole_community=False, building_ids=[alert_world.world.b.building.pk]),
    )
    assert foreign.status_code == 400
    assert foreign.json()["errors"][0]["loc"] == ["building_ids"]
    channel = send(c, "post", "/alerts", typhoon(alert_world, channels=["fax"]))
    assert channel.status_code == 400
    assert channel.json()["errors"][0]["loc"] == ["channels"]
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    expired = send(c, "post", "/alerts", typhoon(alert_world, expires_at=past))
    assert expired.status_code == 400
    assert expired.json()["errors"][0]["loc"] == ["expires_at"]
    assert send(c, "post", "/alerts", typhoon(alert_world, severity="Huge")).status_code == 422
    assert not SafetyAlert.objects.exists()


def test_patch_a_draft_then_publish_then_cancel(alert_world):
    c = client(alert_world.world)
    body = created(alert_world)
    url = f"/alerts/{body['id']}"
    patched = send(
        c,
        "patch",
        url,
        {
            "headline": "台风橙色预警",
            "whole_community": False,
            "building_ids": [alert_world.building2.pk],
        },
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["headline"] == "台风橙色预警"
    assert patched.json()["targeting"]["building_ids"] == [alert_world.building2.pk]
    # A targeting field alone keeps the rest of the targeting.
    grouped = send(c, "patch", url, {"groups": ["tenant"]}).json()
    assert grouped["targeting"]["building_ids"] == [alert_world.building2.pk]
    assert grouped["targeting"]["groups"] == ["tenant"]
    assert grouped["event"] == "台风"
    send(c, "patch", url, {"groups": []})
    published = send(c, "post", f"{url}/publish")
    assert published.status_code == 200, published.content
    result = published.json()
    assert result["state"] == "active"
    assert result["households_reached"] == 1
    assert result["people_reached"] == 1
    assert result["counts"] == {
        "reached": 1,
        "confirmed": 0,
        "by_knock": 0,
        "vulnerable_open": 0,
        "unconfirmed": 1,
    }
    assert AlertRecipient.objects.get(alert_id=body["id"]).household == alert_world.far_household
    assert send(c, "patch", url, {"headline": "x"}).status_code == 409
    assert send(c, "post", f"{url}/publish").status_code == 409
    no_reason = send(c, "post", f"{url}/cancel", {"reason": ""})
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"][0]["loc"] == ["reason"]
    cancelled = send(c, "post", f"{url}/cancel", {"reason": "台风转向"})
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "台风转向"
    assert send(c, "post", f"{url}/cancel", {"reason": "again"}).status_code == 409


def test_send_at_once_and_the_list(alert_world, django_assert_max_num_queries):
    draft = created(alert_world)
    sent = created(alert_world, send=True)
    assert sent["state"] == "active"
    assert sent["households_reached"] == 4
    assert sent["people_reached"] == 4
    c = client(alert_world.world, "grid_worker")
    with django_assert_max_num_queries(10):
        listed = send(c, "get", "/alerts").json()
    assert [item["id"] for item in listed["items"]] == [sent["id"], draft["id"]]
    assert listed["items"][0]["confirmed"] == 0
    assert listed["items"][0]["state_label"] == "Active"
    active = send(c, "get", "/alerts?state=active").json()
    assert [item["id"] for item in active["items"]] == [sent["id"]]
    community = alert_world.world.a.community.pk
    assert send(c, "get", f"/alerts?community_id={community}").json()["count"] == 2
    later = (timezone.now() + dt.timedelta(minutes=5)).isoformat()
    assert send(c, "get", "/alerts", None).json()["count"] == 2
    assert c.get(f"{API}/alerts", {"since": later}).json()["count"] == 0


def test_scheduled_alert_goes_out_when_due_and_expires(alert_world):
    now = timezone.now()
    publish_at = now + dt.timedelta(hours=1)
    body = created(
        alert_world,
        publish_at=publish_at.isoformat(),
        expires_at=(now + dt.timedelta(hours=3)).isoformat(),
        send=True,
    )
    assert body["state"] == "scheduled"
    assert body["households_reached"] == 0
    assert services.alerts_due_check(now=now + dt.timedelta(minutes=30)) == (0, 0)
    assert services.alerts_due_check(now=publish_at + dt.timedelta(minutes=1)) == (1, 0)
    c = client(alert_world.world)
    detail = send(c, "get", f"/alerts/{body['id']}").json()
    assert detail["state"] == "active"
    assert detail["households_reached"] == 4
    assert services.alerts_due_check(now=now + dt.timedelta(hours=4)) == (0, 1)
    assert send(c, "get", f"/alerts/{body['id']}").json()["state"] == "expired"
    tenant = person(alert_world.tenant)
    assert send(tenant, "post", f"/alerts/{body['id']}/confirm").status_code == 409
    assert send(c, "post", f"/alerts/{body['id']}/cancel", {"reason": "x"}).status_code == 409


# --------------------------------------------------------------------------- reach


def test_reach_preview_whole_community_building_and_group(alert_world):
    c = client(alert_world.world)
    community = alert_world.world.a.community.pk
    NotificationPreference.objects.create(
        user=alert_world.tenant, phone="13900002222", channels=["inbox", "sms"]
    )
    whole = send(
        c, "post", "/alerts/preview", {"community_id": community, "channels": ["sms"]}
    ).json()
    assert (whole["households"], whole["people"], whole["accounts"]) == (4, 4, 3)
    assert whole["vulnerable_households"] == 1
    assert [row["channel"] for row in whole["channels"]] == ["inbox", "sms"]
    inbox, sms = whole["channels"]
    assert (inbox["households"], inbox["people"]) == (3, 3)
    assert inbox["label"] == "In-app inbox"
    # The tenant (who chose SMS) and the registered number of the resident without an account.
    assert (sms["households"], sms["people"]) == (2, 2)
    assert whole["unreachable_households"] == 0
    building = send(
        c,
        "post",
        "/alerts/preview",
        {
            "community_id": community,
            "whole_community": False,
            "building_ids": [alert_world.building2.pk],
        },
    ).json()
    assert (building["households"], building["people"], building["vulnerable_households"]) == (
        1,
        1,
        0,
    )
    alone = send(
        c, "post", "/alerts/preview", {"community_id": community, "groups": ["living_alone"]}
    ).json()
    assert (alone["households"], alone["vulnerable_households"]) == (1, 1)
    phone_only = send(
        c,
        "post",
        "/alerts/preview",
        {
            "community_id": community,
            "whole_community": False,
            "household_ids": [alert_world.phone_household.pk],
        },
    ).json()
    assert phone_only["unreachable_households"] == 1
    bad = send(c, "post", "/alerts/preview", {"community_id": community, "channels": ["fax"]})
    assert bad.status_code == 400
    # Readers of alerts may preview; other communities and residents may not.
    reader = client(alert_world.world, "grid_worker")
    assert send(reader, "post", "/alerts/preview", {"community_id": community}).status_code == 200
    outsider = client(alert_world.world, "community_admin", "b")
    assert send(outsider, "post", "/alerts/preview", {"community_id": community}).status_code == 404
    resident = person(alert_world.tenant)
    assert send(resident, "post", "/alerts/preview", {"community_id": community}).status_code == 404


# --------------------------------------------------------------------------- confirmation


def test_residents_see_and_confirm_and_the_follow_up_shrinks(alert_world):
    alert = sent_alert(alert_world)
    staff = client(alert_world.world)
    follow = send(staff, "get", f"/alerts/{alert.pk}/follow-up").json()
    assert follow["counts"]["unconfirmed"] == 4
    assert follow["counts"]["vulnerable_open"] == 1
    rows = follow["households"]
    assert [row["household_id"] for row in rows] == [
        alert_world.world.a.household.pk,
        alert_world.tenant_household.pk,
        alert_world.phone_household.pk,
        alert_world.far_household.pk,
    ]
    assert rows[0]["vulnerable"] is True
    assert rows[0]["address"] == "1-1-301"
    assert rows[0]["has_open_knock"] is False

    tenant = person(alert_world.tenant)
    mine = send(tenant, "get", "/alerts/mine").json()
    assert [item["id"] for item in mine["items"]] == [alert.pk]
    assert mine["items"][0]["confirmed_at"] is None
    assert mine["items"][0]["confirm_label"] == "I am safe"
    detail = send(tenant, "get", f"/alerts/{alert.pk}").json()
    assert detail["you_may_confirm"] is True
    assert detail["targeting"] is None
    assert detail["counts"] is None
    confirmed = send(tenant, "post", f"/alerts/{alert.pk}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["household_id"] == alert_world.tenant_household.pk
    assert confirmed.json()["confirmed_via"] == "inbox"
    again = send(tenant, "get", f"/alerts/{alert.pk}").json()
    assert again["you_may_confirm"] is False
    assert again["your_confirmed_at"] is not None
    assert send(tenant, "get", "/alerts/mine").json()["items"][0]["confirmed_at"] is not None

    follow = send(staff, "get", f"/alerts/{alert.pk}/follow-up").json()
    assert follow["counts"]["confirmed"] == 1
    assert alert_world.tenant_household.pk not in [r["household_id"] for r in follow["households"]]
    listed = send(staff, "get", "/alerts").json()["items"][0]
    assert listed["confirmed"] == 1


def test_confirming_is_for_the_people_it_reached(alert_world):
    alert = sent_alert(alert_world, whole_community=False, building_ids=[alert_world.building2.pk])
    tenant = person(alert_world.tenant)
    assert send(tenant, "get", f"/alerts/{alert.pk}").status_code == 404
    assert send(tenant, "post", f"/alerts/{alert.pk}/confirm").status_code == 404
    assert send(tenant, "get", "/alerts/mine").json()["count"] == 0
    far = person(alert_world.far_user)
    assert send(far, "post", f"/alerts/{alert.pk}/confirm").status_code == 200
    # Staff who read it but were not reached are told so.
    staff = send(client(alert_world.world), "post", f"/alerts/{alert.pk}/confirm")
    assert staff.status_code == 400
    silent = sent_alert(alert_world, confirmation="none")
    assert send(tenant, "post", f"/alerts/{silent.pk}/confirm").status_code == 400
    # A resident does not read staff lists, nor another community's alert.
    assert send(tenant, "get", "/alerts").json()["count"] == 0
    community = alert_world.world.a.community.pk
    assert send(tenant, "get", f"/alerts?community_id={community}").status_code == 404
    assert send(tenant, "get", f"/alerts/{alert.pk}/follow-up").status_code == 404


# --------------------------------------------------------------------------- door-knocks


def test_door_knocks_to_grid_workers_then_recorded(alert_world):
    alert = sent_alert(alert_world)
    staff = client(alert_world.world)
    made = send(staff, "post", f"/alerts/{alert.pk}/door-knocks", {})
    assert made.status_code == 201, made.content
    body = made.json()
    assert {task["household_id"] for task in body["tasks"]} == {
        alert_world.world.a.household.pk,
        alert_world.tenant_household.pk,
        alert_world.phone_household.pk,
    }
    assert {task["assignee_id"] for task in body["tasks"]} == {alert_world.grid_worker.pk}
    assert body["without_visitor"] == [alert_world.far_household.pk]
    # Households with an open visit are passed over.
    assert send(staff, "post", f"/alerts/{alert.pk}/door-knocks", {}).json()["tasks"] == []
    follow = send(staff, "get", f"/alerts/{alert.pk}/follow-up").json()
    assert [row["has_open_knock"] for row in follow["households"]] == [True, True, True, False]
    listed = send(staff, "get", f"/alerts/{alert.pk}/door-knocks").json()
    assert listed["count"] == 3

    worker = client(alert_world.world, "grid_worker")
    mine = send(worker, "get", "/alerts/door-knocks/mine").json()
    assert mine["count"] == 3
    task = next(t for t in mine["items"] if t["household_id"] == alert_world.phone_household.pk)
    assert task["address"] == "1-1-501"
    assert task["alert_headline"] == alert.headline
    url = f"/alerts/door-knocks/{task['id']}/record"
    needs_note = send(worker, "post", url, {"outcome": "needs_help"})
    assert needs_note.status_code == 400
    assert needs_note.json()["errors"][0]["loc"] == ["note"]
    done = send(worker, "post", url, {"outcome": "safe", "note": "老人在家,一切安好"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    assert done.json()["outcome"] == "safe"
    assert send(worker, "post", url, {"outcome": "safe"}).status_code == 409
    recipient = AlertRecipient.objects.get(alert=alert, household=alert_world.phone_household)
    assert recipient.confirmed_via == "door_knock"
    follow = send(staff, "get", f"/alerts/{alert.pk}/follow-up").json()
    assert follow["counts"]["by_knock"] == 1
    assert send(worker, "get", "/alerts/door-knocks/mine").json()["count"] == 2
    assert send(worker, "get", "/alerts/door-knocks/mine?open_only=false").json()["count"] == 3


def test_door_knocks_to_a_chosen_volunteer(alert_world):
    alert = sent_alert(alert_world)
    staff = client(alert_world.world)
    due = (timezone.now() + dt.timedelta(minutes=45)).isoformat()
    made = send(
        staff,
        "post",
        f"/alerts/{alert.pk}/door-knocks",
        {
            "household_ids": [alert_world.far_household.pk],
            "assignee_id": alert_world.volunteer.pk,
            "due_at": due,
        },
    )
    assert made.status_code == 201, made.content
    [task] = made.json()["tasks"]
    assert task["assignee_id"] == alert_world.volunteer.pk
    assert made.json()["without_visitor"] == []
    volunteer = person(alert_world.volunteer)
    assert send(volunteer, "get", f"/alerts/door-knocks/{task['id']}").status_code == 200
    recorded = send(
        volunteer,
        "post",
        f"/alerts/door-knocks/{task['id']}/record",
        {"outcome": "needs_help", "note": "腿受伤,需要送医"},
    )
    assert recorded.status_code == 200
    assert recorded.json()["outcome"] == "needs_help"
    # Someone else's visit: readers are refused, residents and other communities not found.
    other = DoorKnockTask.objects.create(
        alert=alert,
        household=alert_world.tenant_household,
        assignee=alert_world.volunteer,
        created_at=timezone.now(),
    )
    record = f"/alerts/door-knocks/{other.pk}/record"
    reader = client(alert_world.world, "grid_worker")
    assert send(reader, "post", record, {"outcome": "safe"}).status_code == 403
    assert send(person(alert_world.tenant), "post", record, {"outcome": "safe"}).status_code == 404
    outsider = client(alert_world.world, "community_admin", "b")
    assert send(outsider, "post", record, {"outcome": "safe"}).status_code == 404
    assert send(outsider, "get", f"/alerts/door-knocks/{other.pk}").status_code == 404
    # Residents cannot be sent to knock; nor can nobody.
    resident = send(
        staff,
        "post",
        f"/alerts/{alert.pk}/door-knocks",
        {"assignee_id": alert_world.tenant.pk},
    )
    assert resident.status_code == 400
    assert resident.json()["errors"][0]["loc"] == ["assignee_id"]
    nobody = send(staff, "post", f"/alerts/{alert.pk}/door-knocks", {"assignee_id": 2_000_000})
    assert nobody.status_code == 400


def test_door_knocks_only_for_alerts_in_force(alert_world):
    body = created(alert_world)
    staff = client(alert_world.world)
    assert send(staff, "post", f"/alerts/{body['id']}/door-knocks", {}).status_code == 409


# --------------------------------------------------------------------------- permissions


def test_readers_get_403_on_writes_and_other_communities_404(alert_world):
    world = alert_world.world
    draft = created(alert_world)
    url = f"/alerts/{draft['id']}"
    reader = client(world, "grid_worker")
    assert send(reader, "get", url).status_code == 200
    assert send(reader, "post", "/alerts", typhoon(alert_world)).status_code == 403
    assert send(reader, "patch", url, {"headline": "x"}).status_code == 403
    assert send(reader, "post", f"{url}/publish").status_code == 403
    assert send(reader, "post", f"{url}/cancel", {"reason": "x"}).status_code == 403
    outsider = client(world, "community_admin", "b")
    assert send(outsider, "get", url).status_code == 404
    assert send(outsider, "post", "/alerts", typhoon(alert_world)).status_code == 404
    assert send(outsider, "patch", url, {"headline": "x"}).status_code == 404
    assert send(outsider, "post", f"{url}/publish").status_code == 404
    assert send(outsider, "get", f"{url}/follow-up").status_code == 404
    assert send(outsider, "get", "/alerts").json()["count"] == 0
    resident = person(alert_world.tenant)
    assert send(resident, "patch", url, {"headline": "x"}).status_code == 404
    assert send(resident, "get", url).status_code == 404
    sent = sent_alert(alert_world)
    assert send(reader, "post", f"/alerts/{sent.pk}/door-knocks", {}).status_code == 403
    assert send(outsider, "post", f"/alerts/{sent.pk}/door-knocks", {}).status_code == 404
    assert send(Client(), "get", "/alerts").status_code == 401
    assert SafetyAlert.objects.get(pk=draft["id"]).headline == "台风预警:请留在室内"


def test_a_token_limited_to_b_sees_only_b(alert_world):
    world = alert_world.world
    a_alert = sent_alert(alert_world)
    admin = world.user("community_admin")
    Membership.objects.create(user=admin, role=Role.COMMUNITY_ADMIN, community=world.b.community)
    admin = User.objects.get(pk=admin.pk)  # its cached scope predates the membership
    b_draft = services.alert_create(
        actor=admin,
        community=world.b.community,
        event="火灾",
        category="Fire",
        severity="Extreme",
        urgency="Immediate",
        certainty="Observed",
        headline="b 火灾",
        description="b",
    )
    _token, raw = api_token_create(actor=admin, user=admin, community_id=world.b.community.pk)
    c = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [item["id"] for item in send(c, "get", "/alerts").json()["items"]] == [b_draft.pk]
    assert send(c, "get", f"/alerts/{a_alert.pk}").status_code == 404
    assert send(c, "get", f"/alerts/{a_alert.pk}/follow-up").status_code == 404
    assert send(c, "post", "/alerts", typhoon(alert_world)).status_code == 404
    assert send(c, "post", f"/alerts/{a_alert.pk}/cancel", {"reason": "x"}).status_code == 404
    # The whole-community alert in force is public, but not through a token of another place.
    assert send(person(admin), "get", f"/alerts/{a_alert.pk}").status_code == 200
    published = send(c, "post", f"/alerts/{b_draft.pk}/publish")
    assert published.status_code == 200
    assert published.json()["state"] == "active"


def test_the_openapi_document_lists_the_alert_routes(world):
    paths = client(world).get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "/api/v1/alerts",
        "/api/v1/alerts/templates",
        "/api/v1/alerts/preview",
        "/api/v1/alerts/mine",
        "/api/v1/alerts/{alert_id}",
        "/api/v1/alerts/{alert_id}/publish",
        "/api/v1/alerts/{alert_id}/cancel",
        "/api/v1/alerts/{alert_id}/confirm",
        "/api/v1/alerts/{alert_id}/follow-up",
        "/api/v1/alerts/{alert_id}/door-knocks",
        "/api/v1/alerts/door-knocks/mine",
        "/api/v1/alerts/door-knocks/{task_id}/record",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/alerts/{alert_id}"]) == {"get", "patch"}

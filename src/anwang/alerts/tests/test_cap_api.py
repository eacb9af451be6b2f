"""The CAP API: an alert's CAP document, the POST address upstream systems push CAP alerts to
(with an API token: 201 stored, 200 already stored, 400 with the schema's complaints, 415 for
another body type), received alerts (list, detail, relay, dismiss) and the upstream feeds
(CRUD and fetch now); other communities answer 404, readers 403 on writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from anwang.accounts import services as account_services
from anwang.alerts import cap_in, services
from anwang.alerts.cap import validate_cap
from anwang.alerts.choices import IncomingState
from anwang.alerts.models import CapFeed, IncomingAlert, SafetyAlert
from anwang.alerts.tests.cap_examples import AMBER, SPEC_EXAMPLES, THUNDERSTORM
from anwang.alerts.tests.cap_support import Served, chinese_cap, upstream

__all__ = ["upstream"]

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def token_client(world: Any, role: str = "operator", side: str = "a") -> Client:
    """A client with an API token of the user, as an upstream system would hold."""
    user = world.user(role, side)
    _token, raw = account_services.api_token_create(actor=user, user=user)
    return Client(headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


def client(world: Any, role: str = "operator", side: str = "a") -> Client:
    c: Client = world.client_for(role, side)
    c.cookies["anwang_language"] = "en"
    return c


def send(c: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(c, method)(f"{API}{url}", body or {}, content_type="application/json")


def post_cap(c: Client, community_id: int, xml: bytes, content_type: str = "application/cap+xml"):
    return c.post(f"{API}/alerts/cap-in/{community_id}", xml, content_type=content_type)


def received(world: Any, xml: bytes | None = None) -> IncomingAlert:
    incoming, _created = cap_in.incoming_ingest(
        community=world.a.community, xml=xml or chinese_cap()
    )
    return incoming


# --------------------------------------------------------------------------- CAP POST


@pytest.mark.parametrize("name", sorted(SPEC_EXAMPLES))
def test_upstream_systems_post_cap_alerts(world, name):
    c = token_client(world)
    response = post_cap(c, world.a.community.pk, SPEC_EXAMPLES[name])
    assert response.status_code == 201, response.content
    body = response.json()
    stored = IncomingAlert.objects.get()
    assert body["id"] == stored.pk
    assert body["state"] == "new"
    assert body["raw"] == SPEC_EXAMPLES[name].decode()
    assert body["parsed"]["identifier"] == stored.identifier
    again = post_cap(c, world.a.community.pk, SPEC_EXAMPLES[name], "application/xml")
    assert again.status_code == 200
    assert again.json()["id"] == stored.pk


def test_an_invalid_document_is_refused_with_the_schemas_complaints(world):
    broken = THUNDERSTORM.replace(b"<status>Actual</status>", b"<status>Real</status>")
    response = post_cap(token_client(world), world.a.community.pk, broken)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_cap"
    assert body["detail"].startswith("This is not a valid CAP 1.2 alert:")
    assert any("status" in error["msg"] for error in body["errors"])
    assert not IncomingAlert.objects.exists()


def test_only_cap_bodies_and_senders_of_the_community(world):
    c = token_client(world)
    assert post_cap(c, world.a.community.pk, b"{}", "application/json").status_code == 415
    assert (
        post_cap(token_client(world, "grid_worker"), world.a.community.pk, AMBER).status_code == 403
    )
    assert (
        post_cap(token_client(world, "operator", "b"), world.a.community.pk, AMBER).status_code
        == 404
    )
    assert post_cap(c, 999999, AMBER).status_code == 404
    # Who may send is checked before the body: outsiders learn nothing.
    outsider = token_client(world, "community_admin", "b")
    assert post_cap(outsider, world.a.community.pk, b"{}", "application/json").status_code == 404
    assert post_cap(Client(), world.a.community.pk, AMBER).status_code == 401
    assert not IncomingAlert.objects.exists()


# --------------------------------------------------------------------------- CAP out


def test_an_alerts_cap_document(world):
    admin = world.user("community_admin")
    alert = services.alert_create(
        actor=admin,
        community=world.a.community,
        event="高空抛物",
        category="Safety",
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        headline="严禁高空抛物",
        description="近期3号楼多次发生高空抛物。",
        whole_community=False,
        building_ids=[world.a.building.pk],
    )
    services.alert_publish(actor=admin, alert=alert)
    response = client(world).get(f"{API}/alerts/{alert.pk}/cap")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/cap+xml; charset=utf-8"
    assert validate_cap(response.content) == []
    assert client(world, "operator", "b").get(f"{API}/alerts/{alert.pk}/cap").status_code == 404
    assert client(world, "resident").get(f"{API}/alerts/{alert.pk}/cap").status_code == 200


# --------------------------------------------------------------------------- received alerts


def test_listing_and_reading_received_alerts(world, django_assert_max_num_queries):
    first = received(world)
    received(world, THUNDERSTORM)
    cap_in.incoming_ingest(community=world.b.community, xml=AMBER)
    c = client(world, "grid_worker")
    with django_assert_max_num_queries(12):
        response = c.get(f"{API}/alerts/incoming")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["identifier"] for item in items} == {"WH-QX-20260302-001", "KSTO1055887203"}
    cap_in.incoming_dismiss(actor=world.user("operator"), incoming=first)
    dismissed = c.get(f"{API}/alerts/incoming?state=dismissed&community_id={world.a.community.pk}")
    assert [item["id"] for item in dismissed.json()["items"]] == [first.pk]
    detail = c.get(f"{API}/alerts/incoming/{first.pk}").json()
    assert detail["headline"] == "暴雨橙色预警"
    assert [info["language"] for info in detail["parsed"]["infos"]] == ["en-US", "zh-CN"]
    assert detail["relayed_alert_ids"] == []
    assert (
        client(world, "operator", "b").get(f"{API}/alerts/incoming/{first.pk}").status_code == 404
    )


def test_relaying_over_the_api(world):
    incoming = received(world)
    assert (
        send(
            client(world, "grid_worker"), "post", f"/alerts/incoming/{incoming.pk}/relay"
        ).status_code
        == 403
    )
    response = send(
        client(world),
        "post",
        f"/alerts/incoming/{incoming.pk}/relay",
        {"channels": ["sms"], "confirmation": "safe"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    alert = SafetyAlert.objects.get(pk=body["alert_id"])
    assert alert.relayed_from_id == incoming.pk
    assert body["state"] == "active"
    assert body["households_reached"] == 1
    assert body["incoming"]["state"] == IncomingState.RELAYED
    again = send(client(world), "post", f"/alerts/incoming/{incoming.pk}/relay")
    assert again.status_code == 409
    dismissed = send(client(world), "post", f"/alerts/incoming/{incoming.pk}/dismiss")
    assert dismissed.status_code == 409


def test_relay_input_is_checked(world):
    incoming = received(world)
    response = send(
        client(world), "post", f"/alerts/incoming/{incoming.pk}/relay", {"channels": ["fax"]}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["channels"]


def test_dismissing_over_the_api(world):
    incoming = received(world)
    response = send(client(world), "post", f"/alerts/incoming/{incoming.pk}/dismiss")
    assert response.status_code == 200
    assert response.json()["state"] == "dismissed"


# --------------------------------------------------------------------------- feeds


def test_feed_crud(world, django_assert_max_num_queries):
    c = client(world)
    created = send(
        c,
        "post",
        "/alerts/cap-feeds",
        {"community_id": world.a.community.pk, "name": "气象台", "url": "https://example.cn/cap"},
    )
    assert created.status_code == 201, created.content
    feed_id = created.json()["id"]
    assert created.json()["poll_minutes"] == 5
    with django_assert_max_num_queries(10):
        listing = c.get(f"{API}/alerts/cap-feeds")
    assert [item["id"] for item in listing.json()["items"]] == [feed_id]
    patched = send(c, "patch", f"/alerts/cap-feeds/{feed_id}", {"poll_minutes": 60})
    assert patched.status_code == 200
    assert patched.json()["poll_minutes"] == 60
    assert patched.json()["name"] == "气象台"
    bad = send(c, "patch", f"/alerts/cap-feeds/{feed_id}", {"url": "file:///etc/passwd"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["url"]
    assert send(c, "patch", f"/alerts/cap-feeds/{feed_id}", {"name": None}).status_code == 400
    assert c.get(f"{API}/alerts/cap-feeds/{feed_id}").json()["poll_minutes"] == 60
    reader = client(world, "grid_worker")
    assert reader.get(f"{API}/alerts/cap-feeds/{feed_id}").status_code == 200
    assert send(reader, "delete", f"/alerts/cap-feeds/{feed_id}").status_code == 403
    outsider = client(world, "operator", "b")
    assert outsider.get(f"{API}/alerts/cap-feeds/{feed_id}").status_code == 404
    assert (
        send(
            outsider,
            "post",
            "/alerts/cap-feeds",
            {"community_id": world.a.community.pk, "name": "x", "url": "https://example.cn/"},
        ).status_code
        == 404
    )
    assert send(c, "delete", f"/alerts/cap-feeds/{feed_id}").status_code == 204
    assert not CapFeed.objects.exists()


def test_fetching_a_feed_now(world, upstream):
    upstream.routes["/cap.xml"] = Served(chinese_cap())
    feed = cap_in.feed_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        name="气象台",
        url=upstream.url("/cap.xml"),
    )
    response = send(client(world), "post", f"/alerts/cap-feeds/{feed.pk}/fetch")
    assert response.status_code == 200
    body = response.json()
    assert body["stored"] == 1
    assert body["feed"]["last_error"] == ""
    assert body["feed"]["last_polled_at"] is not None
    assert (
        send(client(world, "grid_worker"), "post", f"/alerts/cap-feeds/{feed.pk}/fetch").status_code
        == 403
    )

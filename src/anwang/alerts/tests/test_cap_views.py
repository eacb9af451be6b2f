"""The CAP pages: an alert's CAP document (public alerts to anyone, targeted ones to the people
they reached and staff only), the Atom feed, the received alerts (list, detail with every info
block and the document as received, relay in one action, dismiss) and the upstream feeds (add,
change, fetch now, remove), and who may see or do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from anwang.alerts import cap_in, services
from anwang.alerts.cap import validate_cap
from anwang.alerts.choices import AlertState, IncomingState
from anwang.alerts.models import CapFeed, IncomingAlert, SafetyAlert
from anwang.alerts.tests.cap_examples import AMBER, THUNDERSTORM
from anwang.alerts.tests.cap_support import Served, chinese_cap, upstream

__all__ = ["upstream"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """Messages in English, so they are asserted on their source text."""
    settings.LANGUAGE_CODE = "en"


def received(world: Any, xml: bytes | None = None) -> IncomingAlert:
    incoming, _created = cap_in.incoming_ingest(
        community=world.a.community, xml=xml or chinese_cap()
    )
    return incoming


def sent_alert(world: Any, **extra: Any) -> SafetyAlert:
    admin = world.user("community_admin")
    alert = services.alert_create(
        actor=admin,
        community=world.a.community,
        event="电信诈骗",
        category="Security",
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        headline="警惕冒充客服退款诈骗",
        description="近期有居民接到冒充快递客服的电话。",
        **extra,
    )
    return services.alert_publish(actor=admin, alert=alert)


# --------------------------------------------------------------------------- CAP and Atom


def test_a_targeted_alert_is_only_for_those_it_reached(world):
    alert = sent_alert(world, whole_community=False, building_ids=[world.a.building.pk])
    url = f"/alerts/{alert.pk}/cap.xml"
    assert Client().get(url).status_code == 404
    assert world.client_for("resident", "b").get(url).status_code == 404
    for role in ("resident", "grid_worker"):
        response = world.client_for(role).get(url)
        assert response.status_code == 200, role
        assert validate_cap(response.content) == []
        assert b"<scope>Restricted</scope>" in response.content


def test_a_draft_is_not_public(world):
    alert = services.alert_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        event="停水",
        category="Infra",
        severity="Minor",
        urgency="Expected",
        certainty="Likely",
        headline="周六停水",
        description="管网检修。",
    )
    assert Client().get(f"/alerts/{alert.pk}/cap.xml").status_code == 404
    assert world.client_for("operator").get(f"/alerts/{alert.pk}/cap.xml").status_code == 200
    assert Client().get("/alerts/999999/cap.xml").status_code == 404


def test_the_atom_feed_is_public(world):
    alert = sent_alert(world)
    response = Client().get("/alerts/feed/a.atom")
    assert response.status_code == 200
    assert f"/alerts/{alert.pk}/cap.xml".encode() in response.content
    assert "警惕冒充客服退款诈骗".encode() in response.content


# --------------------------------------------------------------------------- received alerts


def test_the_list_shows_received_alerts_of_the_readers_communities(
    world, django_assert_max_num_queries
):
    mine = received(world)
    for xml in (THUNDERSTORM, AMBER):
        received(world, xml)
    cap_in.incoming_ingest(community=world.b.community, xml=chinese_cap("B-ONLY"))
    client = world.client_for("grid_worker")
    with django_assert_max_num_queries(25):
        response = client.get("/alerts/incoming/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "暴雨橙色预警" in body
    assert "SEVERE THUNDERSTORM WARNING" in body
    assert f'data-incoming="{mine.pk}"' in body
    assert body.count("data-incoming=") == 3
    filtered = client.get("/alerts/incoming/?state=relayed")
    assert filtered.content.decode().count("data-incoming=") == 0


def test_people_without_alerts_see_no_received_alerts(world):
    assert world.client_for("resident").get("/alerts/incoming/").status_code == 403
    assert Client().get("/alerts/incoming/").status_code == 302
    incoming = received(world)
    assert (
        world.client_for("operator", "b").get(f"/alerts/incoming/{incoming.pk}/").status_code == 404
    )


def test_the_detail_shows_every_block_the_area_and_the_document(world):
    incoming = received(world)
    response = world.client_for("operator").get(f"/alerts/incoming/{incoming.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="cap-info"') == 2
    assert 'data-language="zh-CN"' in body
    assert 'data-language="en-US"' in body
    assert "洪山区翠苑社区一带" in body
    assert "30.5,114.3 30.5,114.31" in body
    assert 'data-testid="raw-xml"' in body
    assert "&lt;identifier&gt;WH-QX-20260302-001&lt;/identifier&gt;" in body
    assert 'data-testid="relay-form"' in body
    assert 'data-testid="dismiss-form"' in body


def test_readers_see_no_relay_form(world):
    incoming = received(world)
    body = world.client_for("grid_worker").get(f"/alerts/incoming/{incoming.pk}/").content
    assert b'data-testid="relay-form"' not in body
    assert (
        world.client_for("grid_worker")
        .post(f"/alerts/incoming/{incoming.pk}/relay/", {"confirmation": "none", "publish": "on"})
        .status_code
        == 403
    )


def test_relaying_in_one_action(world):
    incoming = received(world)
    response = world.client_for("operator").post(
        f"/alerts/incoming/{incoming.pk}/relay/",
        {"channels": ["sms", "web_push"], "confirmation": "safe", "publish": "on"},
    )
    alert = SafetyAlert.objects.get(relayed_from=incoming)
    assert response.status_code == 302
    assert response["Location"] == f"/alerts/{alert.pk}/"
    assert alert.state == AlertState.ACTIVE
    assert sorted(alert.channels) == ["sms", "web_push"]
    assert alert.confirmation == "safe"
    incoming.refresh_from_db()
    assert incoming.state == IncomingState.RELAYED
    # The relay form is gone; the page links to the alert.
    body = world.client_for("operator").get(f"/alerts/incoming/{incoming.pk}/").content.decode()
    assert 'data-testid="relay-form"' not in body
    assert f"/alerts/{alert.pk}/" in body


def test_a_refused_relay_shows_why(world):
    incoming = received(world, THUNDERSTORM)  # expired in 2003
    response = world.client_for("operator").post(
        f"/alerts/incoming/{incoming.pk}/relay/", {"confirmation": "none", "publish": "on"}
    )
    assert response.status_code == 400
    assert "This alert has already expired." in response.content.decode()
    assert not SafetyAlert.objects.exists()


def test_dismissing(world):
    incoming = received(world)
    client = world.client_for("operator")
    response = client.post(f"/alerts/incoming/{incoming.pk}/dismiss/")
    assert response.status_code == 302
    incoming.refresh_from_db()
    assert incoming.state == IncomingState.DISMISSED
    assert client.get(f"/alerts/incoming/{incoming.pk}/dismiss/").status_code == 405


# --------------------------------------------------------------------------- feeds


def test_adding_changing_and_removing_a_feed(world):
    client = world.client_for("community_admin")
    assert client.get("/alerts/cap-feeds/new/").status_code == 200
    refused = client.post(
        "/alerts/cap-feeds/new/",
        {
            "community": world.a.community.pk,
            "name": "气象台",
            "url": "ftp://example.cn/cap.xml",
            "poll_minutes": 5,
            "is_enabled": "on",
        },
    )
    assert refused.status_code == 400
    assert "Enter an http:// or https:// address." in refused.content.decode()
    assert "ftp://example.cn/cap.xml" in refused.content.decode()  # kept as typed
    response = client.post(
        "/alerts/cap-feeds/new/",
        {
            "community": world.a.community.pk,
            "name": "气象台",
            "url": "https://example.cn/cap.xml",
            "poll_minutes": 5,
            "is_enabled": "on",
        },
    )
    assert response.status_code == 302
    feed = CapFeed.objects.get()
    assert (feed.community, feed.name, feed.poll_minutes) == (world.a.community, "气象台", 5)
    edited = client.post(
        f"/alerts/cap-feeds/{feed.pk}/",
        {"name": "武汉气象台", "url": "https://example.cn/cap.xml", "poll_minutes": 15},
    )
    assert edited.status_code == 302
    feed.refresh_from_db()
    assert (feed.name, feed.poll_minutes, feed.is_enabled) == ("武汉气象台", 15, False)
    listing = client.get("/alerts/cap-feeds/").content.decode()
    assert "武汉气象台" in listing
    assert 'data-testid="feed-fetch"' in listing
    assert client.post(f"/alerts/cap-feeds/{feed.pk}/delete/").status_code == 302
    assert not CapFeed.objects.exists()


def test_readers_see_feeds_but_may_not_change_them(world):
    feed = cap_in.feed_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        name="气象台",
        url="https://example.cn/cap.xml",
    )
    client = world.client_for("grid_worker")
    listing = client.get("/alerts/cap-feeds/").content.decode()
    assert "气象台" in listing
    assert 'data-testid="feed-fetch"' not in listing
    assert client.get("/alerts/cap-feeds/new/").status_code == 403
    assert client.get(f"/alerts/cap-feeds/{feed.pk}/").status_code == 403
    assert client.post(f"/alerts/cap-feeds/{feed.pk}/delete/").status_code == 403
    assert world.client_for("operator", "b").get(f"/alerts/cap-feeds/{feed.pk}/").status_code == 404


def test_fetch_now(world, upstream):
    upstream.routes["/cap.xml"] = Served(chinese_cap())
    upstream.routes["/down"] = Served(b"", status=500)
    good = cap_in.feed_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        name="好",
        url=upstream.url("/cap.xml"),
    )
    bad = cap_in.feed_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        name="坏",
        url=upstream.url("/down"),
    )
    client = world.client_for("operator")
    response = client.post(f"/alerts/cap-feeds/{good.pk}/fetch/", follow=True)
    assert "1 new alert received." in response.content.decode()
    assert IncomingAlert.objects.count() == 1
    response = client.post(f"/alerts/cap-feeds/{bad.pk}/fetch/", follow=True)
    body = response.content.decode()
    assert "went wrong" in body
    assert "HTTP 500" in body

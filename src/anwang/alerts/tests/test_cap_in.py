"""CAP in: the four examples of the CAP 1.2 specification (Appendix A, text in
:mod:`.cap_examples`) are read and stored field by field; the same alert twice is stored once;
anything the official schema refuses is refused with its complaints; feeds are fetched from a
real local HTTP server (one CAP document, an Atom feed linking to CAP documents, ETag and 304,
failures recorded rather than raised); and a received alert is relayed to the residents with
one action, reaching a resident's inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone, translation

from anwang.alerts import cap_in
from anwang.alerts.cap import InvalidCapError, parse_cap
from anwang.alerts.choices import AlertState, IncomingState
from anwang.alerts.models import CapFeed, IncomingAlert, SafetyAlert
from anwang.alerts.tests.cap_examples import (
    AMBER,
    EARTHQUAKE,
    HOMELAND_SECURITY,
    SPEC_EXAMPLES,
    THUNDERSTORM,
)
from anwang.alerts.tests.cap_support import Served, atom_of, chinese_cap, upstream
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.notifications.selectors import inbox

__all__ = ["upstream"]  # the fixture, imported for pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    """Messages asserted on are the English source text."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def ingest(world: Any, xml: bytes, **extra: Any) -> tuple[IncomingAlert, bool]:
    return cap_in.incoming_ingest(community=world.a.community, xml=xml, **extra)


# --------------------------------------------------------------------------- the spec's examples


def test_the_homeland_security_advisory():
    parsed = parse_cap(HOMELAND_SECURITY)
    assert (parsed.identifier, parsed.sender) == ("43b080713727", "hsas@dhs.gov")
    assert parsed.sent == dt.datetime(
        2003, 4, 2, 14, 39, 1, tzinfo=dt.timezone(-dt.timedelta(hours=5))
    )
    assert (parsed.status, parsed.msg_type, parsed.scope) == ("Actual", "Alert", "Public")
    [info] = parsed.infos
    assert info["language"] == "en-US"  # the specification's default
    assert info["category"] == ["Security"]
    assert info["event"] == "Homeland Security Advisory System Update"
    assert (info["urgency"], info["severity"], info["certainty"]) == (
        "Immediate",
        "Severe",
        "Likely",
    )
    assert info["headline"] == "Homeland Security Sets Code ORANGE"
    assert info["instruction"].startswith("A High Condition is declared")
    assert info["parameters"] == [{"valueName": "HSAS", "value": "ORANGE"}]
    assert info["resources"][0]["mimeType"] == "image/gif"
    assert info["areas"][0]["areaDesc"] == "U.S. nationwide and interests worldwide"


def test_the_thunderstorm_warning_has_its_polygon_as_lat_lon():
    parsed = parse_cap(THUNDERSTORM)
    [info] = parsed.infos
    assert info["responseType"] == ["Shelter"]
    assert info["eventCodes"] == [{"valueName": "SAME", "value": "SVR"}]
    assert info["expires"] == "2003-06-17T16:00:00-07:00"
    [area] = info["areas"]
    assert area["polygons"] == [
        [[38.47, -120.14], [38.34, -119.95], [38.52, -119.74], [38.62, -119.89], [38.47, -120.14]]
    ]
    assert [code["value"] for code in area["geocodes"]] == ["006109", "006009", "006003"]
    assert info["contact"] == "BARUFFALDI/JUSKIE"


def test_the_earthquake_update_refers_to_the_earlier_report():
    parsed = parse_cap(EARTHQUAKE)
    assert parsed.msg_type == "Update"
    assert parsed.references == ["trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00"]
    assert parsed.referenced() == [
        ("trinet@caltech.edu", "TRI13970876.1", "2003-06-11T20:30:00-07:00")
    ]
    [info] = parsed.infos
    assert {p["valueName"]: p["value"] for p in info["parameters"]}["Magnitude"] == "3.4 Ml"
    assert info["areas"][0]["circles"] == [{"lat": 32.9525, "lon": -115.5527, "radius_km": 0.0}]


def test_the_amber_alert_has_two_languages():
    parsed = parse_cap(AMBER)
    assert parsed.source == "SW"
    assert [info["language"] for info in parsed.infos] == ["en-US", "es-US"]
    assert parsed.infos[1]["event"] == "Abducción de Niño"
    # No Chinese block: the first one is the summary.
    assert parsed.main_info() is parsed.infos[0]


@pytest.mark.parametrize("name", sorted(SPEC_EXAMPLES))
def test_every_example_is_stored_once(world, name):
    xml = SPEC_EXAMPLES[name]
    incoming, created = ingest(world, xml)
    assert created
    parsed = parse_cap(xml)
    assert (incoming.identifier, incoming.sender, incoming.sent) == (
        parsed.identifier,
        parsed.sender,
        parsed.sent,
    )
    assert incoming.state == IncomingState.NEW
    assert incoming.headline == parsed.infos[0]["headline"]
    assert incoming.raw == xml.decode()
    assert incoming.parsed["infos"] == parsed.infos
    again, created_again = ingest(world, xml)
    assert (again.pk, created_again) == (incoming.pk, False)
    assert IncomingAlert.objects.filter(identifier=parsed.identifier).count() == 1
    # Another community stores its own copy.
    other, other_created = cap_in.incoming_ingest(community=world.b.community, xml=xml)
    assert other_created
    assert other.pk != incoming.pk


def test_the_summary_comes_from_the_chinese_block(world):
    incoming, _created = ingest(world, chinese_cap())
    assert incoming.headline == "暴雨橙色预警"
    assert incoming.event == "暴雨"
    assert incoming.instruction == "请减少外出，远离低洼地带和地下车库。"
    assert (incoming.category, incoming.severity, incoming.urgency, incoming.certainty) == (
        "Met",
        "Severe",
        "Expected",
        "Likely",
    )
    assert incoming.area_description == "洪山区翠苑社区一带"
    assert incoming.expires_at is not None
    assert AuditEvent.objects.filter(action="alert.incoming_receive").count() == 1


def test_the_thunderstorm_expiry_is_stored(world):
    incoming, _created = ingest(world, THUNDERSTORM)
    assert incoming.expires_at == dt.datetime(2003, 6, 17, 23, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (b"not xml at all", "not a valid CAP 1.2 alert"),
        (HOMELAND_SECURITY.replace(b"<sender>hsas@dhs.gov</sender>", b""), "sender"),
        (THUNDERSTORM.replace(b"2003-06-17T14:57:00-07:00", b"2003-06-17T21:57:00Z"), "sent"),
        (
            HOMELAND_SECURITY.replace(b"<urgency>Immediate</urgency>", b"<urgency>Soon</urgency>"),
            "urgency",
        ),
        (HOMELAND_SECURITY.replace(b"cap:1.2", b"cap:1.1"), "not a valid CAP 1.2 alert"),
        (b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY e "x">]><alert>&e;</alert>', "DOCTYPE"),
    ],
)
def test_what_the_schema_refuses_is_refused_clearly(world, xml, expected):
    with pytest.raises(ServiceError) as raised:
        ingest(world, xml)
    assert isinstance(raised.value, InvalidCapError)
    message = str(raised.value.message)
    assert message.startswith("This is not a valid CAP 1.2 alert:")
    assert expected in message
    assert raised.value.errors
    assert not IncomingAlert.objects.exists()


def test_a_cancel_of_a_relayed_alert_says_so(world):
    first, _created = ingest(world, chinese_cap())
    alert = cap_in.incoming_relay(actor=world.user("community_admin"), incoming=first)
    sent = first.parsed["sent"]
    cancel, _created = ingest(
        world,
        chinese_cap(
            "WH-QX-20260302-002",
            msg_type="Cancel",
            references=f"qxj@wuhan.example.cn,WH-QX-20260302-001,{sent}",
        ),
    )
    assert cancel.parsed["referenced"] == [
        {
            "incoming_id": first.pk,
            "identifier": "WH-QX-20260302-001",
            "sent": sent,
            "state": "relayed",
            "relayed_alert_ids": [alert.pk],
        }
    ]
    with pytest.raises(ConflictError):
        cap_in.incoming_relay(actor=world.user("community_admin"), incoming=cancel)


def test_only_senders_of_the_community_may_post_cap(world):
    with pytest.raises(PermissionDenied):
        ingest(world, THUNDERSTORM, actor=world.user("grid_worker"))
    with pytest.raises(Http404):
        ingest(world, THUNDERSTORM, actor=world.user("community_admin", "b"))
    _incoming, created = ingest(world, THUNDERSTORM, actor=world.user("operator"))
    assert created


# --------------------------------------------------------------------------- relay


def test_relaying_sends_it_to_the_residents(world):
    incoming, _created = ingest(world, chinese_cap())
    admin = world.user("community_admin")
    alert = cap_in.incoming_relay(
        actor=admin, incoming=incoming, channels=["sms"], confirmation="safe"
    )
    assert alert.state == AlertState.ACTIVE
    assert alert.relayed_from_id == incoming.pk
    assert (alert.event, alert.headline, alert.category) == ("暴雨", "暴雨橙色预警", "Met")
    assert (alert.severity, alert.urgency, alert.certainty, alert.response_type) == (
        "Severe",
        "Expected",
        "Likely",
        "Shelter",
    )
    assert alert.instruction == "请减少外出，远离低洼地带和地下车库。"
    assert alert.language == "zh-CN"
    assert alert.web == "https://qxj.wuhan.example.cn/yj/001"
    assert alert.expires_at == incoming.expires_at
    assert alert.area_description == "洪山区翠苑社区一带"
    # Back to GeoJSON: longitude first.
    assert alert.polygon == {
        "type": "Polygon",
        "coordinates": [
            [[114.3, 30.5], [114.31, 30.5], [114.31, 30.51], [114.3, 30.51], [114.3, 30.5]]
        ],
    }
    assert alert.channels == ["sms"]
    assert alert.confirmation == "safe"
    assert alert.households_reached == 1
    incoming.refresh_from_db()
    assert incoming.state == IncomingState.RELAYED
    assert incoming.handled_by == admin
    assert incoming.handled_at is not None
    messages = list(inbox(world.user("resident")))
    assert [m.notification.title for m in messages] == ["暴雨橙色预警"]
    assert AuditEvent.objects.filter(action="alert.incoming_relay").count() == 1
    with pytest.raises(ConflictError):
        cap_in.incoming_relay(actor=admin, incoming=incoming)


def test_relaying_as_a_draft(world):
    incoming, _created = ingest(world, chinese_cap(with_english=False))
    alert = cap_in.incoming_relay(actor=world.user("operator"), incoming=incoming, publish=False)
    assert alert.state == AlertState.DRAFT
    assert list(inbox(world.user("resident"))) == []


def test_an_expired_alert_cannot_be_relayed(world):
    incoming, _created = ingest(world, THUNDERSTORM)
    with pytest.raises(ConflictError):
        cap_in.incoming_relay(actor=world.user("community_admin"), incoming=incoming)
    assert not SafetyAlert.objects.exists()


def test_relaying_an_alert_without_expiry_uses_the_default(world):
    incoming, _created = ingest(world, HOMELAND_SECURITY)
    now = timezone.now()
    alert = cap_in.incoming_relay(actor=world.user("community_admin"), incoming=incoming, now=now)
    assert alert.expires_at == now + dt.timedelta(hours=24)
    assert alert.category == "Security"
    assert alert.language == "en-US"
    assert alert.web == "http://www.dhs.gov/dhspublic/display?theme=29"


def test_readers_may_not_relay_or_dismiss(world):
    incoming, _created = ingest(world, chinese_cap())
    with pytest.raises(PermissionDenied):
        cap_in.incoming_relay(actor=world.user("grid_worker"), incoming=incoming)
    with pytest.raises(Http404):
        cap_in.incoming_dismiss(actor=world.user("community_admin", "b"), incoming=incoming)


def test_dismissing(world):
    incoming, _created = ingest(world, chinese_cap())
    done = cap_in.incoming_dismiss(actor=world.user("operator"), incoming=incoming)
    assert done.state == IncomingState.DISMISSED
    assert done.handled_by == world.user("operator")
    # A dismissed alert can still be relayed after all; a relayed one cannot be dismissed.
    cap_in.incoming_relay(actor=world.user("operator"), incoming=done)
    with pytest.raises(ConflictError):
        cap_in.incoming_dismiss(actor=world.user("operator"), incoming=done)


# --------------------------------------------------------------------------- feeds


def make_feed(world: Any, url: str, **extra: Any) -> CapFeed:
    return cap_in.feed_create(
        actor=world.user("community_admin"),
        community=world.a.community,
        name="武汉市气象台",
        url=url,
        **extra,
    )


def test_a_feed_of_one_cap_document_with_etag(world, upstream):
    upstream.routes["/warning.xml"] = Served(chinese_cap(), etag='"v1"')
    feed = make_feed(world, upstream.url("/warning.xml"))
    assert cap_in.feed_fetch(feed) == 1
    feed.refresh_from_db()
    assert (feed.etag, feed.last_error) == ('"v1"', "")
    assert feed.last_polled_at is not None
    incoming = IncomingAlert.objects.get()
    assert incoming.feed == feed
    # Not changed upstream: 304, nothing read again.
    assert cap_in.feed_fetch(feed) == 0
    assert upstream.seen[-1].headers["if-none-match"] == '"v1"'
    assert IncomingAlert.objects.count() == 1
    feed.refresh_from_db()
    assert feed.last_error == ""


def test_an_atom_feed_linking_to_cap_documents(world, upstream):
    upstream.routes["/cap/1.xml"] = Served(chinese_cap("A-1"), content_type="application/cap+xml")
    upstream.routes["/cap/2.xml"] = Served(THUNDERSTORM, content_type="application/cap+xml")
    upstream.routes["/cap/3.xml"] = Served(b"<alert>broken</alert>")
    upstream.routes["/feed.atom"] = Served(
        atom_of(
            [
                ("urn:a1", "/cap/1.xml"),  # relative to the feed
                ("urn:a2", upstream.url("/cap/2.xml")),
                ("urn:a3", "/cap/3.xml"),
                ("urn:a4", "/cap/missing.xml"),
            ]
        ),
        content_type="application/atom+xml",
        etag='"feed-1"',
    )
    feed = make_feed(world, upstream.url("/feed.atom"), poll_minutes=10)
    assert cap_in.feed_fetch(feed) == 2
    assert set(IncomingAlert.objects.values_list("identifier", flat=True)) == {
        "A-1",
        "KSTO1055887203",
    }
    feed.refresh_from_db()
    # The broken and the missing document are reported, the others stored.
    assert "/cap/3.xml" in feed.last_error
    assert "not a valid CAP 1.2 alert" in feed.last_error
    assert "/cap/missing.xml: HTTP 404" in feed.last_error
    assert feed.etag == ""  # kept empty after trouble: the next fetch reads it all again
    # Again: the documents already stored are not fetched again.
    upstream.seen.clear()
    assert cap_in.feed_fetch(feed) == 0
    assert "/cap/1.xml" not in upstream.paths()
    assert "/cap/2.xml" not in upstream.paths()


def test_an_rss_feed_linking_to_cap_documents(world, upstream):
    upstream.routes["/cap/r1.xml"] = Served(EARTHQUAKE)
    upstream.routes["/rss"] = Served(
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>EQ</title><link>{upstream.url("/cap/r1.xml")}</link><guid>r1</guid></item>
</channel></rss>""".encode()
    )
    feed = make_feed(world, upstream.url("/rss"))
    assert cap_in.feed_fetch(feed) == 1
    assert IncomingAlert.objects.get().identifier == "TRI13970876.2"


def test_fetch_failures_are_recorded_not_raised(world, upstream):
    upstream.routes["/down"] = Served(b"oops", status=503)
    upstream.routes["/html"] = Served(b"<html><body>hello</body></html>", content_type="text/html")
    feed = make_feed(world, upstream.url("/down"))
    assert cap_in.feed_fetch(feed) == 0
    feed.refresh_from_db()
    assert "HTTP 503" in feed.last_error
    cap_in.feed_update(
        actor=world.user("community_admin"), feed=feed, changes={"url": upstream.url("/html")}
    )
    feed.refresh_from_db()
    assert cap_in.feed_fetch(feed) == 0
    feed.refresh_from_db()
    assert "neither a CAP alert nor an Atom or RSS feed" in feed.last_error
    # Nobody listening at all.
    upstream.server.server_close()
    closed = make_feed(world, "http://127.0.0.1:9/cap.xml")
    assert cap_in.feed_fetch(closed) == 0
    closed.refresh_from_db()
    assert closed.last_error
    assert closed.last_polled_at is not None


def test_feeds_due_are_fetched(world, upstream):
    upstream.routes["/a.xml"] = Served(chinese_cap("DUE-1"))
    upstream.routes["/b.xml"] = Served(chinese_cap("DUE-2"))
    upstream.routes["/c.xml"] = Served(chinese_cap("DUE-3"))
    now = timezone.now()
    due = make_feed(world, upstream.url("/a.xml"), poll_minutes=5)
    CapFeed.objects.filter(pk=due.pk).update(last_polled_at=now - dt.timedelta(minutes=6))
    recent = make_feed(world, upstream.url("/b.xml"), poll_minutes=5)
    CapFeed.objects.filter(pk=recent.pk).update(last_polled_at=now - dt.timedelta(minutes=2))
    make_feed(world, upstream.url("/c.xml"), is_enabled=False)
    assert cap_in.feeds_due_fetch(now=now) == 1
    assert list(IncomingAlert.objects.values_list("identifier", flat=True)) == ["DUE-1"]
    assert upstream.paths() == ["/a.xml"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://example.cn/cap.xml"}, "url"),
        ({"url": "example.cn/cap.xml"}, "url"),
        ({"poll_minutes": 0}, "poll_minutes"),
        ({"poll_minutes": 1441}, "poll_minutes"),
        ({"name": ""}, "name"),
    ],
)
def test_feed_values_are_checked(world, changes, field):
    values = {"name": "气象台", "url": "https://example.cn/cap.xml", "poll_minutes": 5} | changes
    with pytest.raises(ServiceError) as raised:
        cap_in.feed_create(
            actor=world.user("community_admin"), community=world.a.community, **values
        )
    assert raised.value.field == field


def test_feed_changes_are_for_senders_and_audited(world):
    feed = make_feed(world, "https://example.cn/cap.xml")
    with pytest.raises(PermissionDenied):
        cap_in.feed_update(actor=world.user("grid_worker"), feed=feed, changes={"name": "x"})
    with pytest.raises(Http404):
        cap_in.feed_delete(actor=world.user("community_admin", "b"), feed=feed)
    cap_in.feed_update(
        actor=world.user("operator"), feed=feed, changes={"poll_minutes": 30, "is_enabled": False}
    )
    feed.refresh_from_db()
    assert (feed.poll_minutes, feed.is_enabled) == (30, False)
    cap_in.feed_delete(actor=world.user("operator"), feed=feed)
    assert not CapFeed.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="alert.cap_feed")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["alert.cap_feed_create", "alert.cap_feed_update", "alert.cap_feed_delete"]

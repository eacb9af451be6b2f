"""CAP alerts from upstream warning systems (气象、地震、应急管理): received by POST or fetched
from a feed, validated against the official CAP 1.2 schema, stored as received and as parsed,
shown to staff, and relayed to residents as a safety alert with one action.

A feed is a URL answering one CAP document, or an Atom or RSS feed whose entries link to CAP
documents (or carry them inline). Fetching never raises for network or format trouble: it
records it on the feed (``last_error``) for the feeds page. ``feeds_due_fetch`` is what the
worker calls, from a thread that may block on the network."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.alerts import services as alert_services
from anwang.alerts.cap import (
    CAP_NS,
    MAX_CAP_BYTES,
    ParsedCap,
    geojson_polygon,
    parse_cap,
    parse_cap_time,
    parse_xml,
)
from anwang.alerts.choices import (
    Category,
    Certainty,
    Confirmation,
    IncomingState,
    MsgType,
    ResponseType,
    Severity,
    Urgency,
)
from anwang.alerts.models import CapFeed, IncomingAlert, SafetyAlert
from anwang.alerts.selectors import relayed_alerts
from anwang.alerts.services import require_publisher
from anwang.audit.services import audit_record
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import clean_text
from anwang.places.models import Community

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS: Final = 10.0
MAX_FEED_BYTES: Final = 2 * 1024 * 1024
MAX_LINKS_PER_FETCH: Final = 20
"""At most this many CAP documents are fetched from one feed at a time."""
MAX_ERROR_CHARS: Final = 1000
USER_AGENT: Final = "Anwang-CAP/1"
ACCEPT: Final = (
    "application/cap+xml, application/atom+xml, application/rss+xml, "
    "application/xml;q=0.9, text/xml;q=0.8"
)
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
POLL_MINUTES_MIN: Final = 1
POLL_MINUTES_MAX: Final = 1440


# --------------------------------------------------------------------------- ingest


def _trim(text: Any, limit: int) -> str:
    return str(text or "").strip()[:limit]


def _referenced(community: Community, parsed: ParsedCap) -> list[dict[str, Any]]:
    """The stored alerts an Update or Cancel refers to, and what we relayed of them."""
    found: list[dict[str, Any]] = []
    for sender, identifier, sent in parsed.referenced():
        earlier = IncomingAlert.objects.filter(
            community=community, sender=sender, identifier=identifier
        ).first()
        if earlier is None:
            continue
        found.append(
            {
                "incoming_id": earlier.pk,
                "identifier": identifier,
                "sent": sent,
                "state": earlier.state,
                "relayed_alert_ids": list(relayed_alerts(earlier).values_list("pk", flat=True)),
            }
        )
    return found


def incoming_ingest(
    *,
    community: Community,
    xml: bytes,
    feed: CapFeed | None = None,
    actor: User | None = None,
    scope: Scope | None = None,
    now: dt.datetime | None = None,
) -> tuple[IncomingAlert, bool]:
    """Store a CAP alert received for the community (validated against the official schema;
    :class:`ServiceError` listing the schema's complaints otherwise). The same alert again
    (same sender and identifier) answers the one stored, with ``False``."""
    now = now or timezone.now()
    if actor is not None or scope is not None:
        require_publisher(actor, scope, community.pk)
    parsed = parse_cap(xml)
    stored = IncomingAlert.objects.filter(
        community=community, sender=parsed.sender, identifier=parsed.identifier
    ).first()
    if stored is not None:
        return stored, False
    info = parsed.main_info() or {}
    areas = info.get("areas") or []
    expires = info.get("expires") or ""
    data = parsed.as_json()
    data["referenced"] = _referenced(community, parsed)
    root = parse_xml(xml)
    encoding = root.getroottree().docinfo.encoding or "utf-8"
    try:
        raw = xml.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        raw = etree.tostring(root, encoding="unicode")
    incoming = IncomingAlert(
        community=community,
        feed=feed,
        identifier=_trim(parsed.identifier, 200),
        sender=_trim(parsed.sender, 200),
        sent=parsed.sent,
        cap_status=_trim(parsed.status, 10),
        msg_type=_trim(parsed.msg_type, 10),
        event=_trim(info.get("event"), 200),
        headline=_trim(info.get("headline"), 300),
        description=str(info.get("description") or ""),
        instruction=str(info.get("instruction") or ""),
        category=_trim((info.get("category") or [""])[0], 10),
        severity=_trim(info.get("severity"), 10),
        urgency=_trim(info.get("urgency"), 10),
        certainty=_trim(info.get("certainty"), 10),
        area_description=_trim(
            "; ".join(area["areaDesc"] for area in areas if area.get("areaDesc")), 500
        ),
        expires_at=parse_cap_time(expires) if expires else None,
        parsed=data,
        raw=raw,
        received_at=now,
    )
    try:
        with transaction.atomic():
            incoming.save()
            audit_record(
                actor=actor,
                action="alert.incoming_receive",
                obj=incoming,
                community_id=community.pk,
                changes={"sender": incoming.sender, "feed": feed.pk if feed else None},
            )
    except IntegrityError:
        # Received twice at the same moment (a feed fetch and a POST): the first one stands.
        stored = IncomingAlert.objects.filter(
            community=community, sender=incoming.sender, identifier=incoming.identifier
        ).first()
        if stored is None:
            raise
        return stored, False
    return incoming, True


# --------------------------------------------------------------------------- feeds


class FetchError(Exception):
    """A fetch that failed (network, HTTP status, size)."""


@dataclass(frozen=True)
class Fetched:
    """An upstream answer: its status, ETag and body."""

    status: int
    etag: str
    content: bytes


def _get(client: httpx.Client, url: str, headers: Mapping[str, str] | None = None) -> Fetched:
    """GET ``url``, reading at most :data:`MAX_FEED_BYTES` of its body."""
    try:
        with client.stream("GET", url, headers=dict(headers or {})) as response:
            etag = response.headers.get("ETag", "")[:200]
            if response.status_code == 304:
                return Fetched(304, etag, b"")
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_FEED_BYTES:
                    raise FetchError(f"{url}: larger than {MAX_FEED_BYTES} bytes")
            return Fetched(response.status_code, etag, bytes(body))
    except httpx.HTTPError as error:
        raise FetchError(f"{url}: {type(error).__name__}: {error}") from error


def _links_of(root: etree._Element, base_url: str) -> list[tuple[str, str, bytes | None]]:
    """The entries of an Atom or RSS feed: (entry id, CAP link, inline CAP document)."""
    entries: list[tuple[str, str, bytes | None]] = []
    if root.tag == f"{{{ATOM_NS}}}feed":
        items = root.findall(f"{{{ATOM_NS}}}entry")
    else:
        channel = root.find("channel")
        items = channel.findall("item") if channel is not None else []
    for item in items:
        inline = item.find(f".//{{{CAP_NS}}}alert")
        inline_xml = etree.tostring(inline, encoding="UTF-8") if inline is not None else None
        if root.tag == f"{{{ATOM_NS}}}feed":
            entry_id = (item.findtext(f"{{{ATOM_NS}}}id") or "").strip()
            links = item.findall(f"{{{ATOM_NS}}}link")
            chosen = next(
                (link for link in links if "cap" in (link.get("type") or "")),
                next(
                    (link for link in links if link.get("rel", "alternate") == "alternate"),
                    links[0] if links else None,
                ),
            )
            href = (chosen.get("href") or "") if chosen is not None else ""
        else:
            entry_id = (item.findtext("guid") or "").strip()
            enclosure = item.find("enclosure")
            if enclosure is not None and "cap" in (enclosure.get("type") or ""):
                href = enclosure.get("url") or ""
            else:
                href = (item.findtext("link") or "").strip()
        if href or inline_xml:
            entries.append((entry_id, urljoin(base_url, href) if href else "", inline_xml))
    return entries


def _already_stored(feed: CapFeed, entry_id: str, link: str) -> bool:
    """Whether an entry's alert is stored already, when the entry says which one (feeds
    commonly use the CAP identifier, or the document's address, as the entry id)."""
    candidates = {value for value in (entry_id, link) if value}
    if not candidates:
        return False
    stored = IncomingAlert.objects.filter(community_id=feed.community_id)
    if stored.filter(identifier__in=candidates).exists():
        return True
    return stored.filter(feed=feed, parsed__source_url__in=list(candidates)).exists()


def feed_fetch(feed: CapFeed, *, now: dt.datetime | None = None) -> int:
    """Fetch a feed once and store the alerts new to us; answers how many. Failures are
    recorded on the feed (``last_error``), never raised."""
    now = now or timezone.now()
    errors: list[str] = []
    created = 0
    etag = feed.etag
    headers = {"Accept": ACCEPT}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    try:
        with httpx.Client(
            timeout=FETCH_TIMEOUT_SECONDS,
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            response = _get(client, feed.url, headers)
            if response.status != 304:
                created, errors = _read_feed(client, feed, response.content, now=now)
                etag = response.etag
    except FetchError as error:
        errors.append(str(error))
    except Exception as error:  # a broken feed must not stop the worker's other feeds
        logger.exception("CAP feed %s failed", feed.pk)
        errors.append(f"{type(error).__name__}: {error}")
    feed.last_polled_at = now
    feed.last_error = "\n".join(errors)[:MAX_ERROR_CHARS]
    # A failed fetch keeps the old tag: next time asks again in full.
    if not errors:
        feed.etag = etag
    feed.save(update_fields=["last_polled_at", "last_error", "etag", "updated_at"])
    return created


def _read_feed(
    client: httpx.Client, feed: CapFeed, body: bytes, *, now: dt.datetime
) -> tuple[int, list[str]]:
    """Store what a feed's answer holds: one CAP alert, or the CAP alerts its entries link to
    or carry. Answers (stored, errors)."""
    community = feed.community
    try:
        root = parse_xml(body)
    except etree.XMLSyntaxError as error:
        return 0, [_("%(url)s: not XML (%(error)s)") % {"url": feed.url, "error": error}]
    if root.tag == f"{{{CAP_NS}}}alert":
        try:
            _incoming, created = incoming_ingest(community=community, xml=body, feed=feed, now=now)
        except ServiceError as error:
            return 0, [f"{feed.url}: {error.message}"]
        return int(created), []
    if root.tag not in (f"{{{ATOM_NS}}}feed", "rss"):
        return 0, [
            _("%(url)s: neither a CAP alert nor an Atom or RSS feed (%(tag)s)")
            % {"url": feed.url, "tag": root.tag}
        ]
    stored = 0
    errors: list[str] = []
    fetched = 0
    for entry_id, link, inline in _links_of(root, feed.url):
        if _already_stored(feed, entry_id, link):
            continue
        source = link or entry_id or feed.url
        if inline is not None:
            document = inline
        else:
            if fetched >= MAX_LINKS_PER_FETCH:
                break
            fetched += 1
            try:
                document = _get(client, link).content
            except FetchError as error:
                errors.append(str(error))
                continue
        try:
            incoming, created = incoming_ingest(
                community=community, xml=document, feed=feed, now=now
            )
        except ServiceError as error:
            errors.append(f"{source}: {error.message}")
            continue
        if created and link:
            incoming.parsed = {**incoming.parsed, "source_url": link}
            incoming.save(update_fields=["parsed"])
        stored += int(created)
    return stored, errors


def feed_is_due(feed: CapFeed, now: dt.datetime) -> bool:
    """Whether the feed's interval has passed since it was last fetched."""
    if not feed.is_enabled:
        return False
    if feed.last_polled_at is None:
        return True
    return feed.last_polled_at + dt.timedelta(minutes=feed.poll_minutes) <= now


def feeds_due_fetch(*, now: dt.datetime | None = None) -> int:
    """The worker's round: fetch every enabled feed whose interval has passed; answers how
    many alerts were stored."""
    now = now or timezone.now()
    stored = 0
    for feed in CapFeed.objects.filter(is_enabled=True).select_related("community"):
        if feed_is_due(feed, now):
            stored += feed_fetch(feed, now=now)
    return stored


def feed_fetch_now(*, actor: User, scope: Scope | None = None, feed: CapFeed) -> int:
    """Fetch a feed at once, for a person on the feeds page or the API."""
    require_publisher(actor, scope, feed.community_id)
    return feed_fetch(feed)


def _clean_url(url: Any) -> str:
    text = clean_text("url", url, limit=500)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(_("Enter an http:// or https:// address."), field="url")
    return text


def _clean_minutes(value: Any) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = 0
    if not POLL_MINUTES_MIN <= minutes <= POLL_MINUTES_MAX:
        raise ServiceError(
            _("Fetch every %(low)d to %(high)d minutes.")
            % {"low": POLL_MINUTES_MIN, "high": POLL_MINUTES_MAX},
            field="poll_minutes",
        )
    return minutes


def feed_create(
    *,
    actor: User,
    scope: Scope | None = None,
    community: Community,
    name: str,
    url: str,
    poll_minutes: int = 5,
    is_enabled: bool = True,
) -> CapFeed:
    """Add an upstream CAP feed to fetch; audited."""
    require_publisher(actor, scope, community.pk)
    with transaction.atomic():
        feed = CapFeed.objects.create(
            community=community,
            name=clean_text("name", name, limit=100),
            url=_clean_url(url),
            poll_minutes=_clean_minutes(poll_minutes),
            is_enabled=bool(is_enabled),
        )
        audit_record(
            actor=actor,
            action="alert.cap_feed_create",
            obj=feed,
            community_id=community.pk,
            changes={"url": feed.url},
        )
    return feed


FEED_FIELDS: Final = ("name", "url", "poll_minutes", "is_enabled")


def feed_update(
    *,
    actor: User,
    scope: Scope | None = None,
    feed: CapFeed,
    changes: Mapping[str, Any],
) -> CapFeed:
    """Change a feed's name, address, interval or whether it is fetched; audited. A new
    address forgets the old one's tag and error."""
    require_publisher(actor, scope, feed.community_id)
    unknown = set(changes) - set(FEED_FIELDS)
    if unknown:
        raise ServiceError(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        feed = CapFeed.objects.select_for_update().get(pk=feed.pk)
        if "name" in changes:
            feed.name = clean_text("name", changes["name"], limit=100)
        if "url" in changes:
            url = _clean_url(changes["url"])
            if url != feed.url:
                feed.url = url
                feed.etag = ""
                feed.last_error = ""
        if "poll_minutes" in changes:
            feed.poll_minutes = _clean_minutes(changes["poll_minutes"])
        if "is_enabled" in changes:
            feed.is_enabled = bool(changes["is_enabled"])
        feed.save()
        audit_record(
            actor=actor,
            action="alert.cap_feed_update",
            obj=feed,
            community_id=feed.community_id,
            changes={name: str(value) for name, value in changes.items()},
        )
    return feed


def feed_delete(*, actor: User, scope: Scope | None = None, feed: CapFeed) -> None:
    """Remove a feed; the alerts received through it stay; audited."""
    require_publisher(actor, scope, feed.community_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="alert.cap_feed_delete",
            obj=feed,
            community_id=feed.community_id,
            changes={"url": feed.url},
        )
        feed.delete()


# --------------------------------------------------------------------------- relay, dismiss


def _coded(value: str, choices: Any, fallback: str) -> str:
    return value if value in choices.values else fallback


def _chosen_info(incoming: IncomingAlert) -> dict[str, Any]:
    """The info block the summary fields were taken from (Chinese, else the first)."""
    infos = incoming.parsed.get("infos") or []
    for info in infos:
        if str(info.get("language", "")).lower().startswith("zh"):
            return dict(info)
    return dict(infos[0]) if infos else {}


def relay_polygon(incoming: IncomingAlert) -> dict[str, Any] | None:
    """The first polygon of the received alert's area, as GeoJSON."""
    for area in _chosen_info(incoming).get("areas") or []:
        for pairs in area.get("polygons") or []:
            polygon = geojson_polygon(pairs)
            if polygon is not None:
                return polygon
    return None


def incoming_relay(
    *,
    actor: User,
    scope: Scope | None = None,
    incoming: IncomingAlert,
    channels: Iterable[str] = (),
    confirmation: str = Confirmation.NONE,
    whole_community: bool = True,
    building_ids: Iterable[int] = (),
    unit_ids: Iterable[int] = (),
    household_ids: Iterable[int] = (),
    groups: Iterable[str] = (),
    publish: bool = True,
    now: dt.datetime | None = None,
) -> SafetyAlert:
    """Send a received alert on to the community's residents in one action: a safety alert
    with its CAP fields (codes outside CAP's lists become Other or Unknown), sent at once
    unless ``publish`` is false; the received alert is marked relayed; audited."""
    now = now or timezone.now()
    require_publisher(actor, scope, incoming.community_id)
    if incoming.msg_type == MsgType.CANCEL:
        raise ConflictError(
            _("A cancellation cannot be relayed; cancel the alert it refers to instead.")
        )
    if incoming.expires_at is not None and incoming.expires_at <= now:
        raise ConflictError(_("This alert has already expired."))
    info = _chosen_info(incoming)
    category = _coded(incoming.category, Category, Category.OTHER)
    response_type = next(
        (value for value in info.get("responseType") or [] if value in ResponseType.values), ""
    )
    headline = _trim(incoming.headline or incoming.event or incoming.identifier, 160)
    with transaction.atomic():
        locked = IncomingAlert.objects.select_for_update().get(pk=incoming.pk)
        if locked.state == IncomingState.RELAYED:
            raise ConflictError(_("This alert has already been relayed to residents."))
        polygon = relay_polygon(locked)
        alert = alert_services.alert_create(
            actor=actor,
            scope=scope,
            community=locked.community,
            event=_trim(locked.event or headline, 100),
            category=category,
            severity=_coded(locked.severity, Severity, Severity.UNKNOWN),
            urgency=_coded(locked.urgency, Urgency, Urgency.UNKNOWN),
            certainty=_coded(locked.certainty, Certainty, Certainty.UNKNOWN),
            response_type=response_type,
            headline=headline,
            description=_trim(locked.description or headline, 5000),
            instruction=_trim(locked.instruction, 5000),
            area_description=_trim(locked.area_description, 200),
            polygon=polygon,
            web=_web(info.get("web")),
            whole_community=whole_community,
            building_ids=building_ids,
            unit_ids=unit_ids,
            household_ids=household_ids,
            groups=groups,
            channels=channels,
            confirmation=confirmation,
            expires_at=locked.expires_at,
            cap_status=locked.cap_status if locked.cap_status else "Actual",
            language=_trim(info.get("language") or "zh-CN", 10),
            relayed_from=locked,
            now=now,
        )
        if publish:
            alert = alert_services.alert_publish(actor=actor, scope=scope, alert=alert, now=now)
        locked.state = IncomingState.RELAYED
        locked.handled_by = actor
        locked.handled_at = now
        locked.save(update_fields=["state", "handled_by", "handled_at"])
        audit_record(
            actor=actor,
            action="alert.incoming_relay",
            obj=locked,
            community_id=locked.community_id,
            changes={"alert": alert.pk, "published": publish},
        )
    incoming.refresh_from_db()
    return alert


def _web(value: Any) -> str:
    text = _trim(value, 201)
    if len(text) > 200 or urlsplit(text).scheme not in ("http", "https"):
        return ""
    return text


def incoming_dismiss(
    *,
    actor: User,
    scope: Scope | None = None,
    incoming: IncomingAlert,
    now: dt.datetime | None = None,
) -> IncomingAlert:
    """Mark a received alert as not for the residents; audited. A relayed one cannot be."""
    now = now or timezone.now()
    require_publisher(actor, scope, incoming.community_id)
    with transaction.atomic():
        locked = IncomingAlert.objects.select_for_update().get(pk=incoming.pk)
        if locked.state == IncomingState.RELAYED:
            raise ConflictError(_("This alert has already been relayed to residents."))
        if locked.state == IncomingState.DISMISSED:
            return locked
        locked.state = IncomingState.DISMISSED
        locked.handled_by = actor
        locked.handled_at = now
        locked.save(update_fields=["state", "handled_by", "handled_at"])
        audit_record(
            actor=actor,
            action="alert.incoming_dismiss",
            obj=locked,
            community_id=locked.community_id,
        )
    return locked


__all__ = [
    "MAX_CAP_BYTES",
    "feed_create",
    "feed_delete",
    "feed_fetch",
    "feed_fetch_now",
    "feed_update",
    "feeds_due_fetch",
    "incoming_dismiss",
    "incoming_ingest",
    "incoming_relay",
]

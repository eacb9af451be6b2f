"""Helpers of the CAP tests: a Chinese CAP alert as an upstream warning system (a district
meteorological office) would send it, and a real local HTTP server playing an upstream feed
(with ETag and 304 Not Modified)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from anwang.alerts.cap import cap_time


def chinese_cap(
    identifier: str = "WH-QX-20260302-001",
    *,
    sender: str = "qxj@wuhan.example.cn",
    sent: dt.datetime | None = None,
    expires: dt.datetime | None = None,
    msg_type: str = "Alert",
    references: str = "",
    category: str = "Met",
    severity: str = "Severe",
    with_english: bool = True,
) -> bytes:
    """A rainstorm warning in Chinese (and English), with a polygon around 翠苑社区."""
    sent = sent or timezone.now().replace(microsecond=0)
    expires = expires or sent + dt.timedelta(hours=6)
    refs = f"<references>{references}</references>" if references else ""
    english = (
        f"""
  <info>
    <language>en-US</language>
    <category>{category}</category>
    <event>Rainstorm</event>
    <responseType>Shelter</responseType>
    <urgency>Expected</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    <expires>{cap_time(expires)}</expires>
    <senderName>Wuhan Meteorological Office</senderName>
    <headline>Orange rainstorm warning</headline>
    <description>Heavy rain expected in the next 3 hours.</description>
    <area><areaDesc>Hongshan District</areaDesc></area>
  </info>"""
        if with_english
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>{cap_time(sent)}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}{english}
  <info>
    <language>zh-CN</language>
    <category>{category}</category>
    <event>暴雨</event>
    <responseType>Shelter</responseType>
    <urgency>Expected</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    <effective>{cap_time(sent)}</effective>
    <expires>{cap_time(expires)}</expires>
    <senderName>武汉市气象台</senderName>
    <headline>暴雨橙色预警</headline>
    <description>预计未来3小时内洪山区将出现50毫米以上降雨。</description>
    <instruction>请减少外出，远离低洼地带和地下车库。</instruction>
    <web>https://qxj.wuhan.example.cn/yj/001</web>
    <area>
      <areaDesc>洪山区翠苑社区一带</areaDesc>
      <polygon>30.5,114.3 30.5,114.31 30.51,114.31 30.51,114.3 30.5,114.3</polygon>
      <geocode><valueName>GB/T 2260</valueName><value>420111</value></geocode>
    </area>
  </info>
</alert>
""".encode()


@dataclass
class Served:
    """What the peer answers on a path."""

    body: bytes
    status: int = 200
    content_type: str = "application/xml"
    etag: str = ""


@dataclass
class Seen:
    """A request the peer received."""

    path: str
    headers: dict[str, str]


@dataclass
class Upstream:
    """A local HTTP server: ``routes`` maps paths to answers; ``seen`` records requests."""

    server: ThreadingHTTPServer
    routes: dict[str, Served] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def paths(self) -> list[str]:
        return [request.path for request in self.seen]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A running local upstream warning system."""
    peer: Upstream

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            peer.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
            served = peer.routes.get(self.path)
            if served is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if served.etag and self.headers.get("If-None-Match") == served.etag:
                self.send_response(304)
                self.send_header("ETag", served.etag)
                self.end_headers()
                return
            self.send_response(served.status)
            self.send_header("Content-Type", served.content_type)
            self.send_header("Content-Length", str(len(served.body)))
            if served.etag:
                self.send_header("ETag", served.etag)
            self.end_headers()
            self.wfile.write(served.body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    peer = Upstream(server)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()


def atom_of(entries: list[tuple[str, str]]) -> bytes:
    """An Atom feed whose entries (id, link) link to CAP documents."""
    items = "".join(
        f"""<entry><id>{entry_id}</id><title>{entry_id}</title><updated>2026-03-02T10:00:00+08:00</updated>
<link rel="alternate" type="application/cap+xml" href="{link}"/></entry>"""
        for entry_id, link in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>武汉预警</title><id>urn:test</id>
<updated>2026-03-02T10:00:00+08:00</updated>{items}</feed>""".encode()

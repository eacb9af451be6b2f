"""The certificate of service hours: who, where, which period, the total and each shift."""

import datetime as dt
from decimal import Decimal

import pytest

from anwang.places.models import Community
from anwang.volunteers.certificate import certificate_pdf
from anwang.volunteers.selectors import Certificate, CertificateLine

pytestmark = pytest.mark.django_db


def pdf_strings(content: bytes) -> str:
    """Every string drawn in a PDF made by reportlab, decoded (the CID font draws UTF-16)."""
    import base64
    import re
    import zlib

    found: list[str] = []
    for stream in re.findall(rb"stream\r?\n(.*?)\s*endstream", content, re.S):
        data = stream.strip()
        if data.endswith(b"~>"):  # reportlab wraps compressed streams in ASCII85
            data = base64.a85decode(data[:-2])
        try:
            data = zlib.decompress(data)
        except zlib.error:
            continue
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", data, re.S):
            raw = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: (
                    bytes([int(m.group(1), 8)])
                    if m.group(1)[:1].isdigit()
                    else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1))
                ),
                literal,
            )
            is_utf16 = len(raw) % 2 == 0 and raw[:1] == b"\x00"
            found.append(raw.decode("utf-16-be") if is_utf16 else raw.decode("latin-1"))
    return "\n".join(found)


def test_certificate_lists_every_shift_and_the_total(world):
    community: Community = world.a.community
    lines = [
        CertificateLine(dt.date(2026, 5, day), f"Patrol {day}", Decimal("1.50"))
        for day in range(1, 31)
    ]
    cert = Certificate(
        name="Alice",
        community=community,
        start=dt.date(2026, 5, 1),
        end=dt.date(2026, 5, 31),
        lines=lines,
        total=Decimal("45.00"),
    )
    content = certificate_pdf(cert)
    assert content.startswith(b"%PDF")
    assert b"STSong-Light" in content
    text = pdf_strings(content)
    assert "Alice served as a volunteer of 翠苑社区 for 45.00 hours" in text.replace("\n", "")
    for needle in ("2026-05-01 to 2026-05-31", "2026-05-30", "Patrol 30", "1.50", "Total"):
        assert needle in text
    assert len(__import__("re").findall(rb"/Type /Page\b(?!s)", content)) == 2


def test_empty_certificate_says_so(world):
    cert = Certificate("Bob", world.a.community, None, None, [], Decimal("0.00"))
    content = certificate_pdf(cert)
    text = pdf_strings(content)
    assert "No service hours in this period." in text
    assert "all service to date" in text.replace("\n", "")

"""The printable certificate of service hours (PDF): person, community, period, total hours
and the shifts served, on A4.

Chinese text uses reportlab's built-in CID font ``STSong-Light``, which PDF readers supply, so
no font file is shipped (as the patrols label sheet does).
"""

from __future__ import annotations

import io
from functools import cache

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from anwang.volunteers.selectors import Certificate

FONT = "STSong-Light"
MARGIN = 20 * mm
LINE = 7 * mm


@cache
def _register_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _fit(text: str, size: float, width: float) -> str:
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


def _period(cert: Certificate) -> str:
    if cert.start and cert.end:
        return _("%(start)s to %(end)s") % {"start": cert.start, "end": cert.end}
    if cert.start:
        return _("since %(start)s") % {"start": cert.start}
    if cert.end:
        return _("until %(end)s") % {"end": cert.end}
    return _("all service to date")


def certificate_pdf(cert: Certificate) -> bytes:
    """The certificate as a PDF; the list of shifts continues on further pages as needed."""
    _register_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(_("Certificate of volunteer service hours"))
    canvas.setAuthor("Anwang")
    width, height = A4
    y = height - MARGIN - 10 * mm
    canvas.setFont(FONT, 22)
    canvas.drawCentredString(width / 2, y, _("Certificate of volunteer service hours"))
    y -= 16 * mm
    canvas.setFont(FONT, 13)
    statement = _(
        "%(name)s served as a volunteer of %(community)s for %(hours)s hours (%(period)s)."
    ) % {
        "name": cert.name,
        "community": cert.community.name,
        "hours": cert.total,
        "period": _period(cert),
    }
    for chunk in _wrap(statement, 13, width - 2 * MARGIN):
        canvas.drawString(MARGIN, y, chunk)
        y -= LINE
    y -= LINE
    canvas.setFont(FONT, 11)
    canvas.drawString(MARGIN, y, _("Date"))
    canvas.drawString(MARGIN + 35 * mm, y, _("Shift"))
    canvas.drawRightString(width - MARGIN, y, _("Hours"))
    y -= 2 * mm
    canvas.line(MARGIN, y, width - MARGIN, y)
    y -= LINE
    if not cert.lines:
        canvas.drawString(MARGIN, y, _("No service hours in this period."))
        y -= LINE
    for line in cert.lines:
        if y < MARGIN + 3 * LINE:
            canvas.showPage()
            canvas.setFont(FONT, 11)
            y = height - MARGIN
        canvas.drawString(MARGIN, y, line.served_on.isoformat())
        canvas.drawString(MARGIN + 35 * mm, y, _fit(line.title, 11, width - 2 * MARGIN - 60 * mm))
        canvas.drawRightString(width - MARGIN, y, str(line.hours))
        y -= LINE
    canvas.line(MARGIN, y + LINE - 2 * mm, width - MARGIN, y + LINE - 2 * mm)
    canvas.drawString(MARGIN + 35 * mm, y, _("Total"))
    canvas.drawRightString(width - MARGIN, y, str(cert.total))
    canvas.setFont(FONT, 9)
    canvas.drawString(
        MARGIN,
        MARGIN,
        _("Issued by Anwang on %(date)s from the service-hours ledger of %(community)s.")
        % {"date": timezone.localdate().isoformat(), "community": cert.community.name},
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` that fit ``width``, broken between characters (Chinese has no
    spaces) and preferably at spaces."""
    lines: list[str] = []
    current = ""
    for char in text:
        if pdfmetrics.stringWidth(current + char, FONT, size) > width:
            cut = current.rfind(" ")
            if cut > len(current) // 2:
                lines.append(current[:cut])
                current = current[cut + 1 :]
            else:
                lines.append(current)
                current = ""
        current += char
    if current:
        lines.append(current)
    return lines

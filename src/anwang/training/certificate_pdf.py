"""A printable training certificate (PDF, A4 landscape): the person, the course, the community,
when it was issued and until when it is valid, and its number.

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (as the patrol labels do), which
PDF readers supply, so no font file is shipped.
"""

from __future__ import annotations

import io
from functools import cache

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from anwang.training.models import Certificate

FONT = "STSong-Light"


@cache
def _register_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def certificate_pdf(certificate: Certificate) -> bytes:
    """One certificate on one A4 landscape page."""
    _register_font()
    width, height = landscape(A4)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle(_("Training certificate %(number)s") % {"number": certificate.number})
    canvas.setAuthor("Anwang")
    canvas.setLineWidth(2)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setLineWidth(0.5)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    middle = width / 2
    canvas.setFont(FONT, 30)
    canvas.drawCentredString(middle, height - 50 * mm, _("Training certificate"))
    canvas.setFont(FONT, 14)
    canvas.drawCentredString(middle, height - 68 * mm, _("This certifies that"))
    canvas.setFont(FONT, 26)
    person = certificate.user.display_name or certificate.user.username
    canvas.drawCentredString(middle, height - 88 * mm, person)
    canvas.setFont(FONT, 14)
    canvas.drawCentredString(middle, height - 104 * mm, _("has completed the course"))
    canvas.setFont(FONT, 22)
    canvas.drawCentredString(middle, height - 120 * mm, certificate.course.title)
    canvas.setFont(FONT, 12)
    issued = date_format(certificate.issued_on, "DATE_FORMAT")
    valid = (
        _("Valid until %(date)s") % {"date": date_format(certificate.expires_on, "DATE_FORMAT")}
        if certificate.expires_on
        else _("Does not expire")
    )
    canvas.drawCentredString(
        middle,
        height - 140 * mm,
        _("Issued on %(date)s · %(valid)s") % {"date": issued, "valid": valid},
    )
    canvas.drawString(25 * mm, 25 * mm, certificate.community.name)
    canvas.drawRightString(
        width - 25 * mm, 25 * mm, _("No. %(number)s") % {"number": certificate.number}
    )
    if certificate.revoked_at is not None:
        canvas.setFont(FONT, 40)
        canvas.setFillColorRGB(0.8, 0, 0)
        canvas.drawCentredString(middle, height / 2 - 60 * mm, _("REVOKED"))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()

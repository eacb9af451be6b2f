"""The printable sheet of checkpoint labels (PDF): community, checkpoint name, QR code and the
code to type, eight labels to an A4 page with dashed cutting lines.

Chinese text uses reportlab's built-in CID font ``STSong-Light``, which PDF readers supply, so
no font file is shipped. The QR code is drawn as vector squares from ``qrcode``'s matrix, sharp
at any printer resolution.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from anwang.core.labels import CODE_FONT, FONT
from anwang.core.labels import draw_qr as _draw_qr
from anwang.core.labels import fit_text as _fit
from anwang.core.labels import register_cjk_font as _register_font
from anwang.patrols.models import Checkpoint

COLUMNS = 2
ROWS = 4
LABELS_PER_PAGE = COLUMNS * ROWS
QR_SIZE = 42 * mm


def _draw_label(
    canvas: Canvas, checkpoint: Checkpoint, community_name: str, x: float, y: float
) -> None:
    width, height = A4[0] / COLUMNS, A4[1] / ROWS
    pad = 7 * mm
    text_width = width - 2 * pad
    canvas.setFont(FONT, 9)
    canvas.drawString(x + pad, y + height - pad - 9, _fit(community_name, FONT, 9, text_width))
    canvas.setFont(FONT, 15)
    canvas.drawString(x + pad, y + height - pad - 28, _fit(checkpoint.name, FONT, 15, text_width))
    code = checkpoint.code
    qr_x = x + (width - QR_SIZE) / 2
    qr_y = y + pad + 16
    _draw_qr(canvas, code, qr_x, qr_y, QR_SIZE)
    canvas.setFont(CODE_FONT, 12)
    canvas.drawCentredString(x + width / 2, y + pad + 2, code)
    canvas.setFont(FONT, 7)
    canvas.drawRightString(
        x + width - pad, y + pad - 9, _("Patrol checkpoint · scan or type the code")
    )


def checkpoint_sheet_pdf(
    *, community_name: str, checkpoints: Sequence[Checkpoint], title: str = ""
) -> bytes:
    """A PDF with one label per checkpoint, eight to a page (one empty page when there are
    none, saying so)."""
    _register_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title or _("Checkpoint codes of %(community)s") % {"community": community_name})
    canvas.setAuthor("Anwang")
    width, height = A4[0] / COLUMNS, A4[1] / ROWS
    if not checkpoints:
        canvas.setFont(FONT, 14)
        canvas.drawString(20 * mm, A4[1] - 30 * mm, _("There are no checkpoints to print."))
        canvas.showPage()
    for start in range(0, len(checkpoints), LABELS_PER_PAGE):
        canvas.setDash(3, 3)
        canvas.setLineWidth(0.3)
        canvas.setStrokeGray(0.6)
        for column in range(1, COLUMNS):
            canvas.line(column * width, 0, column * width, A4[1])
        for row in range(1, ROWS):
            canvas.line(0, row * height, A4[0], row * height)
        canvas.setDash()
        for index, checkpoint in enumerate(checkpoints[start : start + LABELS_PER_PAGE]):
            column, row = index % COLUMNS, index // COLUMNS
            _draw_label(
                canvas, checkpoint, community_name, column * width, A4[1] - (row + 1) * height
            )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()

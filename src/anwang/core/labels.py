"""Printable labels with QR codes (PDF): the pieces patrol checkpoint sheets and asset labels
share, and a generic sheet of labels.

Chinese text uses reportlab's built-in CID font ``STSong-Light``, which PDF readers supply, so
no font file is shipped. QR codes are drawn as vector squares from ``qrcode``'s matrix, sharp at
any printer resolution.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import qrcode
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

FONT = "STSong-Light"
CODE_FONT = "Courier-Bold"


@cache
def register_cjk_font() -> None:
    """Make :data:`FONT` (Chinese and Latin text) available to reportlab, once."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """A QR code of ``text`` as vector squares, ``size`` points wide, lower left at (x, y)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    cell = size / len(matrix)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + col_index * cell,
                    y + size - (row_index + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


@dataclass(frozen=True)
class Label:
    """What one printed label shows: a small heading (the community), a title, the QR code's
    content, the code to read or type under it, and a footer line."""

    heading: str
    title: str
    qr_text: str
    code: str
    footer: str = ""


def label_sheet_pdf(
    labels: Sequence[Label],
    *,
    title: str,
    empty_message: str,
    columns: int = 2,
    rows: int = 4,
    qr_size: float = 42 * mm,
) -> bytes:
    """An A4 PDF of labels, ``columns`` x ``rows`` to a page, with dashed cutting lines (one
    page saying ``empty_message`` when there are none)."""
    register_cjk_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("Anwang")
    width, height = A4[0] / columns, A4[1] / rows
    if not labels:
        canvas.setFont(FONT, 14)
        canvas.drawString(20 * mm, A4[1] - 30 * mm, empty_message)
        canvas.showPage()
    per_page = columns * rows
    for start in range(0, len(labels), per_page):
        canvas.setDash(3, 3)
        canvas.setLineWidth(0.3)
        canvas.setStrokeGray(0.6)
        for column in range(1, columns):
            canvas.line(column * width, 0, column * width, A4[1])
        for row in range(1, rows):
            canvas.line(0, row * height, A4[0], row * height)
        canvas.setDash()
        for index, label in enumerate(labels[start : start + per_page]):
            column, row = index % columns, index // columns
            x, y = column * width, A4[1] - (row + 1) * height
            pad = 7 * mm
            text_width = width - 2 * pad
            canvas.setFont(FONT, 9)
            canvas.drawString(
                x + pad, y + height - pad - 9, fit_text(label.heading, FONT, 9, text_width)
            )
            canvas.setFont(FONT, 15)
            canvas.drawString(
                x + pad, y + height - pad - 28, fit_text(label.title, FONT, 15, text_width)
            )
            draw_qr(canvas, label.qr_text, x + (width - qr_size) / 2, y + pad + 16, qr_size)
            canvas.setFont(CODE_FONT, 12)
            canvas.drawCentredString(x + width / 2, y + pad + 2, label.code)
            if label.footer:
                canvas.setFont(FONT, 7)
                canvas.drawRightString(
                    x + width - pad, y + pad - 9, fit_text(label.footer, FONT, 7, text_width)
                )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()

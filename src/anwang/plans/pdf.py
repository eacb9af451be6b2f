"""A printable emergency plan (PDF, A4 portrait): title, incident type, version and status, who
approved it and when, its purpose, the steps table, contacts, resources, the zones to evacuate
and the assembly point, with page numbers.

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (as the training certificates
do), which PDF readers supply, so no font file is shipped. Paragraphs wrap with
``wordWrap="CJK"``: Chinese has no spaces to break lines at.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from anwang.plans.choices import IncidentType, VersionStatus
from anwang.plans.models import PlanVersion
from anwang.rosters.choices import DutyRole

FONT = "STSong-Light"
MARGIN = 18 * mm


@cache
def _register_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@cache
def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=9, leading=12),
        "title": ParagraphStyle("title", parent=body, fontSize=20, leading=26, spaceAfter=4),
        "heading": ParagraphStyle(
            "heading", parent=body, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4
        ),
        "status": ParagraphStyle("status", parent=body, textColor=colors.HexColor("#b00020")),
    }


def _text(value: Any, style: str = "body") -> Paragraph:
    # Paragraph reads a small markup language: user text is escaped, line breaks kept.
    return Paragraph(escape(str(value)).replace("\n", "<br/>"), _styles()[style])


def _moment(value: Any) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 10),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _page_number(canvas: Any, document: Any) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 9)
    width, _height = A4
    canvas.drawCentredString(width / 2, 10 * mm, _("Page %(number)d") % {"number": document.page})
    canvas.drawRightString(width - MARGIN, 10 * mm, document.title)
    canvas.restoreState()


def plan_version_filename(version: PlanVersion) -> str:
    """A file name for the printed version (ASCII, safe in a Content-Disposition header)."""
    return f"plan-{version.plan.incident_type}-v{version.number}.pdf"


def plan_version_pdf(version: PlanVersion) -> bytes:
    """One version of a plan as an A4 portrait document."""
    _register_font()
    plan = version.plan
    width = A4[0] - 2 * MARGIN
    buffer = io.BytesIO()
    title = f"{plan.title} · v{version.number}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="Anwang",
    )
    story: list[Any] = [
        _text(plan.title, "title"),
        _text(
            _("%(community)s · %(type)s · version %(number)d")
            % {
                "community": plan.community.name,
                "type": IncidentType(plan.incident_type).label,
                "number": version.number,
            }
        ),
    ]
    status = VersionStatus(version.status)
    if status == VersionStatus.APPROVED:
        story.append(
            _text(
                _("In force: approved by %(name)s on %(date)s.")
                % {"name": version.approved_by or "-", "date": _moment(version.approved_at)}
            )
        )
    else:
        # A printout of anything but the version in force must say so on its face.
        line = _("Status: %(status)s — not the plan in force.") % {"status": status.label}
        if status == VersionStatus.SUPERSEDED:
            line += " " + _("Approved by %(name)s on %(date)s, superseded on %(end)s.") % {
                "name": version.approved_by or "-",
                "date": _moment(version.approved_at),
                "end": _moment(version.superseded_at),
            }
        story.append(_text(line, "status"))
    if version.summary:
        story += [_text(_("Purpose and scope"), "heading"), _text(version.summary)]

    story.append(_text(_("Steps"), "heading"))
    steps = list(version.steps.all())
    if steps:
        rows: list[list[Any]] = [[_("No."), _("Step"), _("Duty role"), _("Within (minutes)")]]
        for step in steps:
            content = f"{escape(step.title)}"
            if step.instructions:
                content += "<br/>" + escape(step.instructions).replace("\n", "<br/>")
            rows.append(
                [
                    str(step.position),
                    Paragraph(content, _styles()["body"]),
                    _text(DutyRole(step.duty_role).label, "small"),
                    str(step.target_minutes),
                ]
            )
        story.append(_table(rows, [12 * mm, width - 72 * mm, 34 * mm, 26 * mm]))
    else:
        story.append(_text(_("No steps yet.")))

    contacts = list(version.contacts.all())
    if contacts:
        story.append(_text(_("Contacts"), "heading"))
        rows = [[_("Name"), _("Organisation or role"), _("Phone"), _("Note")]]
        rows += [
            [
                _text(contact.name),
                _text(contact.organisation),
                _text(contact.phone),
                _text(contact.note, "small"),
            ]
            for contact in contacts
        ]
        story.append(_table(rows, [36 * mm, 44 * mm, 36 * mm, width - 116 * mm]))

    resources = list(version.resources.all())
    if resources:
        story.append(_text(_("Resources"), "heading"))
        rows = [[_("Resource"), _("Quantity"), _("Asset"), _("Status / expires")]]
        for resource in resources:
            asset = resource.asset
            state = ""
            if asset is not None:
                state = str(asset.get_status_display())
                if asset.expires_on:
                    state += " · " + date_format(asset.expires_on, "DATE_FORMAT")
            rows.append(
                [
                    _text(resource.description),
                    str(resource.quantity),
                    _text(f"{asset.name} ({asset.code})" if asset is not None else "", "small"),
                    _text(state, "small"),
                ]
            )
        story.append(_table(rows, [width - 116 * mm, 18 * mm, 54 * mm, 44 * mm]))

    zones = list(version.evacuation_zones.all())
    if zones or version.assembly_note or version.assembly_latitude is not None:
        story.append(_text(_("Evacuation"), "heading"))
        if zones:
            story.append(
                _text(
                    _("Zones to evacuate: %(zones)s")
                    % {"zones": "、".join(zone.name for zone in zones)}
                )
            )
        if version.assembly_note or version.assembly_latitude is not None:
            where = version.assembly_note
            if version.assembly_latitude is not None:
                where += f" ({version.assembly_latitude:.5f}, {version.assembly_longitude:.5f})"
            story.append(_text(_("Assembly point: %(where)s") % {"where": where.strip()}))

    if version.change_note:
        story += [Spacer(1, 4 * mm), _text(_("What changed"), "heading")]
        story.append(_text(version.change_note, "small"))
    document.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()

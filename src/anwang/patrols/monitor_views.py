"""Pages of patrol monitoring: the live board of runs in progress and the completion reports
with their Excel and CSV exports (see docs/patrols.md, "Monitoring")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from anwang.accounts.selectors import Scope
from anwang.core.pages import int_param, page_scope
from anwang.core.tables import CONTENT_TYPES, write_csv, write_xlsx
from anwang.patrols import selectors
from anwang.patrols.selectors import BoardRow, PatrolReport

REPORT_WEEKS = 4
MAX_REPORT_DAYS = 366


def require_oversight(scope: Scope) -> None:
    """Refuse whoever sees no one's runs but their own (the board and reports, page and API)."""
    if not selectors.can_oversee_any_runs(scope):
        raise PermissionDenied


def board_data(rows: list[BoardRow], now: dt.datetime) -> dict[str, Any]:
    """The board as plain data, for the JSON API and the page's data attributes."""
    items = []
    for row in rows:
        run, timing = row.run, row.timing
        upcoming = timing.next_stop
        items.append(
            {
                "id": run.pk,
                "community_id": run.community_id,
                "route_name": run.route_name,
                "guard_id": run.guard_id,
                "guard_name": str(run.guard),
                "started_at": run.started_at,
                "done": timing.done,
                "planned": timing.planned,
                "next_checkpoint": upcoming.name if upcoming else None,
                "next_due_at": upcoming.due_at if upcoming else None,
                "next_late": bool(upcoming and upcoming.late),
                "late": [s.name for s in timing.stops if s.late and not s.missed],
                "missed": [s.name for s in timing.missed],
                "due_by": timing.due_by,
                "overdue": timing.overdue,
            }
        )
    return {"now": now, "runs": items}


def _dates(request: HttpRequest) -> tuple[dt.date, dt.date, list[str]]:
    """The report period from ``start`` and ``end`` (default: the last four weeks)."""
    errors: list[str] = []
    today = timezone.localdate()
    end = today
    start = today - dt.timedelta(weeks=REPORT_WEEKS) + dt.timedelta(days=1)
    for name in ("start", "end"):
        raw = request.GET.get(name, "")
        if not raw:
            continue
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            errors.append(_("Enter a valid date (YYYY-MM-DD)."))
            continue
        if name == "start":
            start = value
        else:
            end = value
    if start > end:
        errors.append(_("The start must not be after the end."))
        start = end
    if (end - start).days > MAX_REPORT_DAYS:
        errors.append(_("Choose at most a year."))
        start = end - dt.timedelta(days=MAX_REPORT_DAYS)
    return start, end, errors


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}"


def report_tables(report: PatrolReport) -> dict[str, tuple[list[str], list[list[str]]]]:
    """The report as tables to export: the completion summary and the missed checkpoints."""
    header = [
        _("Grouped by"),
        _("Name"),
        _("Runs"),
        _("Checkpoints planned"),
        _("Checked in"),
        _("Completion (%)"),
        _("Far from the checkpoint"),
        _("Missed"),
    ]
    summary: list[list[str]] = []
    for section, tallies in (
        (_("All"), [report.total]),
        (_("Route"), report.routes),
        (_("Guard"), report.guards),
        (_("Week"), report.weeks),
    ):
        for tally in tallies:
            summary.append(
                [
                    str(section),
                    tally.label,
                    str(tally.runs),
                    str(tally.planned),
                    str(tally.done),
                    _percent(tally.rate),
                    str(tally.far),
                    str(tally.missed),
                ]
            )
    missed_header = [_("Run"), _("Route"), _("Guard"), _("Stop"), _("Checkpoint"), _("Due at")]
    missed = [
        [
            str(item.run.pk),
            item.run.route_name,
            str(item.run.guard),
            str(item.index + 1),
            item.name,
            timezone.localtime(item.due_at).strftime("%Y-%m-%d %H:%M"),
        ]
        for item in report.missed
    ]
    return {"summary": (header, summary), "missed": (missed_header, missed)}


def report_export(report: PatrolReport, table: str, fmt: str) -> HttpResponse:
    """One table of the report as an .xlsx or UTF-8 (with BOM) .csv download."""
    header, rows = report_tables(report)[table]
    if fmt == "xlsx":
        title = _("Completion") if table == "summary" else _("Missed checkpoints")
        content = write_xlsx(header, rows, sheet_title=str(title))
    else:
        content = write_csv(header, rows)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    name = f"patrols-{table}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The live board of runs in progress: next checkpoint with a countdown, late and missed
    stops in red; ``?partial=1`` answers only the rows (the page reloads them every few
    seconds)."""
    scope = page_scope(request)
    require_oversight(scope)
    now = timezone.now()
    rows = selectors.patrol_board(scope, now=now)
    # A supervisor of a street office sees several communities: each row then says which.
    several = len({row.run.community_id for row in rows}) > 1
    context = {"rows": rows, "now": now, "several_communities": several}
    if request.GET.get("partial"):
        return render(request, "patrols/monitor_board_rows.html", context)
    return render(request, "patrols/monitor_board.html", context)


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    """Completion per route, guard and week over a period, the missed checkpoints, and their
    export (``?export=xlsx|csv&table=summary|missed``)."""
    scope = page_scope(request)
    require_oversight(scope)
    start, end, errors = _dates(request)
    community_id = int_param(request.GET.get("community"))
    result = selectors.patrol_report(
        scope, start=start, end=end, now=timezone.now(), community_id=community_id
    )
    fmt = request.GET.get("export", "")
    if fmt in CONTENT_TYPES and not errors:
        table = request.GET.get("table", "summary")
        return report_export(result, table if table in ("summary", "missed") else "summary", fmt)
    return render(
        request,
        "patrols/monitor_report.html",
        {
            "report": result,
            "errors": errors,
            "start": start,
            "end": end,
            "community_id": community_id,
        },
    )

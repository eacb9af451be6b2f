"""Pages of the audit log: list with filters, one entry, chain verification."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anwang.accounts.selectors import Scope, scope_for
from anwang.audit.forms import AuditFilterForm
from anwang.audit.selectors import (
    ChainReport,
    audit_chain_verify,
    audit_event_get,
    audit_event_list,
    audit_require_reader,
    audit_visible_community_ids,
)
from anwang.audit.services import REDACTED
from anwang.core.pages import is_htmx, paginate
from anwang.core.selectors import visible_communities

PAGE_SIZE = 50


@dataclass(frozen=True)
class ChangeRow:
    """One changed field of an entry, ready to show."""

    name: str
    before: str
    after: str
    is_pair: bool
    redacted: bool


def _community_names(scope: Scope) -> dict[int, str]:
    """Names of the communities whose entries the person may read."""
    allowed = audit_visible_community_ids(scope)
    return {
        community.pk: community.name
        for community in visible_communities(scope)
        if allowed is None or community.pk in allowed
    }


def _shown(value: Any) -> str:
    """A stored value as text: JSON for structures, a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def change_rows(changes: dict[str, Any]) -> list[ChangeRow]:
    """Rows for the changes of an entry: ``[before, after]`` pairs, or a plain value."""
    rows = []
    for name, value in sorted(changes.items()):
        if isinstance(value, list) and len(value) == 2:
            rows.append(
                ChangeRow(name, _shown(value[0]), _shown(value[1]), True, value[0] == REDACTED)
            )
        else:
            rows.append(ChangeRow(name, "", _shown(value), False, value == REDACTED))
    return rows


def describe_report(report: ChainReport) -> str:
    """The verification outcome in the reader's language."""
    if report.ok:
        return _("The audit chain is intact: %(count)s entries verified.") % {
            "count": report.checked
        }
    messages = {
        "missing": _("Entry #%(seq)s is missing."),
        "unlinked": _("Entry #%(seq)s does not link to the entry before it."),
        "altered": _("Entry #%(seq)s was altered after it was written."),
        "truncated": _("Entries from #%(seq)s onwards were removed from the end of the log."),
        "extra": _("Entry #%(seq)s was added outside the application."),
        "head": _("The record of the last entry (#%(seq)s) was altered."),
    }
    message = messages.get(report.problem, _("The audit chain is broken at entry #%(seq)s."))
    return message % {"seq": report.first_broken_seq}


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    """The audit log of the person's communities, newest first, with filters."""
    scope = scope_for(request.user)
    audit_require_reader(scope)
    names = _community_names(scope)
    form = AuditFilterForm(request.GET or None, communities=sorted(names.items()))
    events = audit_event_list(scope, form.filters() if request.GET else None)
    page, querystring = paginate(request, events, PAGE_SIZE)
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "events": [(event, names.get(event.community_id or 0, "")) for event in page],
            "querystring": querystring,
            "filtered": bool(querystring),
        },
    )


@login_required
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    """One entry with its changes, before and after."""
    scope = scope_for(request.user)
    event = audit_event_get(scope, event_id)
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "community_name": _community_names(scope).get(event.community_id or 0, ""),
            "changes": change_rows(event.changes if isinstance(event.changes, dict) else {}),
        },
    )


@login_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    """Recompute the hash chain and show whether it is intact."""
    audit_require_reader(scope_for(request.user))
    report = audit_chain_verify()
    context = {"report": report, "message": describe_report(report)}
    if is_htmx(request):
        return render(request, "audit/_verify_result.html", context)
    return render(request, "audit/verify.html", context)

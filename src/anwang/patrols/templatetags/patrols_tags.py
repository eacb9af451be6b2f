"""Template tags of the patrols pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

register = template.Library()

HAZARD_REPORT = "hazards:report"
"""The page where a hazard is reported (the hazards app's); patrols only link to it."""


def hazard_report_url(checkpoint_id: int | None = None) -> str:
    """Where to report a hazard found at a checkpoint (``?checkpoint=<id>``), or ``""`` while
    no app offers a page named :data:`HAZARD_REPORT`: then no button is shown at all."""
    try:
        url = reverse(HAZARD_REPORT)
    except NoReverseMatch:
        return ""
    if checkpoint_id is None:
        return url
    return f"{url}?{urlencode({'checkpoint': checkpoint_id})}"


@register.simple_tag
def hazard_report(checkpoint_id: int) -> str:
    """:func:`hazard_report_url` for a template: ``{% hazard_report pk as url %}``."""
    return hazard_report_url(checkpoint_id)


@register.simple_tag(takes_context=True)
def patrol_sections(context: dict[str, Any]) -> dict[str, bool]:
    """Which parts of the patrols sub-navigation the visitor may open, so that no link leads
    to a refusal: the board and reports (``oversee``), schedules (``manage``), own shifts
    (``run``)."""
    from anwang.accounts.selectors import acts_platform_wide, scope_for
    from anwang.patrols import selectors

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    return {
        "oversee": selectors.can_oversee_any_runs(scope),
        "manage": acts_platform_wide(scope) or scope.has_anywhere(selectors.MANAGE),
        "run": scope.has_anywhere(selectors.RUN),
    }

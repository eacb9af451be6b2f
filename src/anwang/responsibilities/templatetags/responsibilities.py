"""Template tags of the responsibilities domain: who answers for a place, shown on other
apps' pages (the alarm page) without their views knowing about the matrix."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from anwang.core.pages import page_scope
from anwang.responsibilities import selectors

register = template.Library()


@register.inclusion_tag("responsibilities/_answering.html", takes_context=True)
def answering_for(context: dict[str, Any], alarm: Any) -> dict[str, Any]:
    """A ``<dt>``/``<dd>`` pair naming who answers now for the alarm's place (its zone, else
    its device's zone, and the device's building); nothing for those who may not see the
    responsibility matrix."""
    request = context.get("request")
    if request is None:
        return {"hidden": True}
    scope = page_scope(request)
    if not selectors.may_view(scope, alarm.community_id):
        return {"hidden": True}
    device = alarm.device
    zone_id = alarm.zone_id or (device.zone_id if device is not None else None)
    building_id = device.building_id if device is not None else None
    people = (
        selectors.responsible_people(
            community_id=alarm.community_id, zone_id=zone_id, building_id=building_id
        )
        if zone_id is not None or building_id is not None
        else []
    )
    return {"people": people, "matrix_url": reverse("responsibilities:matrix")}

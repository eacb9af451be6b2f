"""Template helpers of the places pages: the section tabs."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from anwang.accounts.selectors import scope_for
from anwang.places import selectors

register = template.Library()

# (url name of the tab, label, url-name prefixes that mark it current)
_TABS = (
    ("places:map", _("Map"), ("map",)),
    ("places:grid_list", _("Grids"), ("grid_",)),
    ("places:building_list", _("Buildings"), ("building_", "unit_")),
    ("places:household_list", _("Households"), ("household_",)),
    ("places:zone_list", _("Zones"), ("zone_",)),
)


@register.inclusion_tag("places/_subnav.html", takes_context=True)
def places_subnav(context: dict[str, Any]) -> dict[str, Any]:
    """Tabs between the places pages; communities and street offices for those who manage
    several."""
    request = context["request"]
    scope = scope_for(request.user)
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match is not None else ""
    tabs = [
        {"url": reverse(name), "label": label, "active": current.startswith(prefixes)}
        for name, label, prefixes in _TABS
    ]
    if selectors.sees_many_communities(scope):
        tabs.append(
            {
                "url": reverse("places:community_list"),
                "label": _("Communities"),
                "active": current.startswith("community_"),
            }
        )
    if selectors.can_administer_platform(scope):
        tabs.append(
            {
                "url": reverse("places:region_list"),
                "label": _("Street offices"),
                "active": current.startswith("region_"),
            }
        )
    return {"tabs": tabs}

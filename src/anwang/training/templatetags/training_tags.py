"""Template filters of the training pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds as minutes and seconds (``4 min 05 s``), or a dash when unknown."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min %(s)02d s") % {"m": minutes, "s": rest}


@register.filter
def state_tone(state: str) -> str:
    """The badge tone of a certificate or training state."""
    return {"current": "ok", "expiring": "warn"}.get(str(state), "key")

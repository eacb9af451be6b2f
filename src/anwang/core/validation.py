"""Checks of plain input values that the apps' services share; they raise
:class:`~anwang.core.errors.ServiceError` naming the field, with a translated message."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Final

from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.core.errors import ServiceError


def clean_text(name: str, value: Any, *, limit: int, required: bool = True) -> str:
    """``value`` as stripped text of at most ``limit`` characters (``""`` for ``None``);
    empty only when not ``required``."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ServiceError(_("This field is required."), field=name)
    if len(text) > limit:
        raise ServiceError(
            _("Use at most %(limit)d characters (this has %(count)d).")
            % {"limit": limit, "count": len(text)},
            field=name,
        )
    return text


def clean_aware(name: str, value: Any) -> dt.datetime:
    """A date and time with its time zone (a naive one would be read in the server's zone,
    which is not what a phone or another system meant)."""
    if not isinstance(value, dt.datetime):
        raise ServiceError(_("Enter a date and time."), field=name)
    if timezone.is_naive(value):
        raise ServiceError(_("Give the time with its time zone offset."), field=name)
    return value


def service_now(now: dt.datetime | None) -> dt.datetime:
    """The time a service acts at: now, or the time its caller gave (a test's clock, a replay),
    which must carry its time zone."""
    return timezone.now() if now is None else clean_aware("now", now)


class Unset(enum.Enum):
    """The type of :data:`UNSET`: an update argument the caller did not pass (``None`` may
    be a value to set, so it cannot mean "leave as it is")."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET

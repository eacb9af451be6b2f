"""Checks of plain input values that the apps' services share; they raise
:class:`~anwang.core.errors.ServiceError` naming the field, with a translated message."""

from __future__ import annotations

from typing import Any

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

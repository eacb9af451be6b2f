"""Masked display of personal numbers: enough to recognise a record, not enough to misuse it.

Pages, the API and exports without the reveal permission only ever show these forms; the full
value is shown by an explicit, audited reveal (:func:`anwang.people.services.resident_reveal`).
"""

from __future__ import annotations

import re

MASK = "*"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3})-(\d{7,8})(?:-\d{1,6})?$")


def _mask_middle(value: str, head: int, tail: int) -> str:
    """Keep ``head`` and ``tail`` characters, star the rest, and always hide at least half."""
    length = len(value)
    if length == 0:
        return ""
    # Short or odd values must not end up mostly visible: shrink what is kept until at least
    # half of the characters are hidden.
    while head + tail > length // 2 and (head or tail):
        if head >= tail and head:
            head -= 1
        else:
            tail -= 1
    return value[:head] + MASK * (length - head - tail) + (value[length - tail :] if tail else "")


def mask_id_number(value: str) -> str:
    """``110101199001011234`` → ``110101********1234``: region code and last four kept."""
    value = value.strip()
    if len(value) >= 15:
        return value[:6] + MASK * (len(value) - 10) + value[-4:]
    return _mask_middle(value, 2, 2)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; landlines keep the area code and last four digits."""
    value = value.strip()
    if _MOBILE.match(value):
        return value[:3] + MASK * 4 + value[-4:]
    landline = _LANDLINE.match(value)
    if landline:
        area, number = landline.group(1), landline.group(2)
        return f"{area}-{MASK * (len(number) - 4)}{number[-4:]}"
    return _mask_middle(value, 3, 4)


def is_masked(value: str) -> bool:
    """Whether a value is a masked form (as found in a masked export) rather than a number."""
    return MASK in value

"""Checks and normal forms of Chinese ID numbers (GB 11643-1999) and phone numbers.

Normal forms matter beyond tidiness: the blind indexes are computed from them, so
``138 1234 5678`` and ``+86 13812345678`` find the same resident.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.core.errors import ServiceError
from anwang.people.choices import Gender

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARACTERS = "10X98765432"
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: 010 and 020-029 have three digits (8-digit numbers), all others four.
_LANDLINE_DIGITS = re.compile(r"^(0[12]\d)(\d{8})$|^(0[3-9]\d{2})(\d{7,8})$")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-()（）.—－]")


@dataclass(frozen=True)
class IdNumberFacts:
    """What an ID number states about its holder."""

    birth_date: dt.date
    gender: Gender


def id_number_normalise(value: str) -> str:
    """Strip spaces and upper-case the check character."""
    return "".join(value.split()).upper()


def id_number_check_character(first_17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARACTERS[total % 11]


def id_number_parse(value: str, *, field: str = "id_number") -> IdNumberFacts:
    """Validate an 18-character ID number and return the birth date and gender it encodes."""
    number = id_number_normalise(value)
    if not _ID_SHAPE.match(number):
        raise ServiceError(
            _("An ID number has 18 characters: 17 digits followed by a digit or X."),
            field=field,
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < 1900 or birth > timezone.localdate():
        raise ServiceError(
            _("The date of birth inside this ID number is not a real date."), field=field
        )
    if id_number_check_character(number[:17]) != number[17]:
        raise ServiceError(
            _("The last character of this ID number does not match; check it for a typing error."),
            field=field,
        )
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return IdNumberFacts(birth_date=birth, gender=gender)


def phone_normalise(value: str, *, field: str = "phone") -> str:
    """A validated mainland mobile (``13812345678``) or landline (``0571-87654321[-123]``)."""
    raw = value.strip()
    if not raw:
        return ""
    extension = ""
    found = _EXTENSION.search(raw)
    if found:
        extension = found.group(1)
        raw = raw[: found.start()]
    digits = _SEPARATORS.sub("", raw)
    if not extension and raw.count("-") == 2 and raw.startswith("0"):
        # 0571-87654321-123: the last group is an extension.
        head, _sep, tail = raw.rpartition("-")
        if tail.isdigit() and len(tail) <= 6:
            extension, digits = tail, _SEPARATORS.sub("", head)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not digits.isdigit():
        raise ServiceError(_("A phone number may only contain digits."), field=field)
    if _MOBILE.match(digits):
        if extension:
            raise ServiceError(_("A mobile number has no extension."), field=field)
        return digits
    landline = _LANDLINE_DIGITS.match(digits)
    if landline:
        area = landline.group(1) or landline.group(3)
        number = landline.group(2) or landline.group(4)
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    if digits.startswith("1"):
        raise ServiceError(
            _("A mobile number has 11 digits and starts with 13 to 19."), field=field
        )
    raise ServiceError(
        _(
            "Enter a mobile number (11 digits) or a landline with its area code, "
            "e.g. 0571-87654321."
        ),
        field=field,
    )

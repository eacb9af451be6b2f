"""Fixtures and helpers of the people tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from anwang.people.validation import id_number_check_character


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


def make_id(birth: str = "19900101", sequence: str = "123", region: str = "110101") -> str:
    """A valid 18-character ID number (odd sequence digit: male)."""
    first = region + birth + sequence
    return first + id_number_check_character(first)

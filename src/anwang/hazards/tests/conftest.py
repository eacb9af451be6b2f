"""Fixtures of the hazards tests: English messages."""

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield

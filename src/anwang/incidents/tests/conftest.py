"""Fixtures of the incidents tests: English messages (helpers are in :mod:`.support`)."""

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield

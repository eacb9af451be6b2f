"""Fixtures of the points tests: English messages and a logged-in client per role."""

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(world):
    """A logged-in test client that asks for English pages."""

    def make(role: str, side: str = "a"):
        client = world.client_for(role, side)
        client.cookies["anwang_language"] = "en"
        return client

    return make

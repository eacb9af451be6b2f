"""Fixtures of the access tests: English messages and an access world (helpers are in
:mod:`.support`)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from anwang.access.tests.support import AccessWorld, build_access_world


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield


@pytest.fixture
def access_world(world: Any) -> AccessWorld:
    """Community ``a``'s gate, garage barrier and plant room, and world.a.resident's card,
    QR code and plate (see :func:`.support.build_access_world`)."""
    return build_access_world(world)

"""Fixtures of the inspections tests: English messages, photos in a temporary folder, and a
community with assets, a plan and a patrol checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from anwang.inspections.tests.support import Setup, build


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Photos are written to a temporary media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def setup(world: Any) -> Setup:
    """Community a with two extinguishers and a fire door, a monthly extinguisher plan."""
    return build(world)

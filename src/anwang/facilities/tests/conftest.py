"""Fixtures of the facilities tests: English messages and a temporary media folder."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Photos are written to a temporary media folder, not the developer's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"

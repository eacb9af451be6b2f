"""Writes of a test while a server or a live stream reads the same test database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

T = TypeVar("T")


def write_past_readers(write: Callable[[], T]) -> T:
    """Run a write of the test while other threads read (a server answering a browser, a live
    stream's poll). The test database on SQLite is in memory with a shared cache, where a write
    to a table another connection is reading fails at once with "table is locked" instead of
    waiting as a file database in WAL mode does; try again for a few seconds."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return write()
        except OperationalError as error:
            if "is locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)

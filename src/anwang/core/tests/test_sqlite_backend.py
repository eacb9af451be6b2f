"""The SQLite backend keeps the connections requests close, and gives them out again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler

from anwang.core.backends.sqlite3 import base
from anwang.project.settings import SQLITE_ENGINE, _sqlite_options


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker: Any) -> Any:
    """These tests make their own databases, not the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def sqlite(tmp_path: Path) -> Any:
    """A connection to a database file of its own (whatever database the tests run on)."""
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": SQLITE_ENGINE,
                "NAME": tmp_path / "kept.sqlite3",
                "OPTIONS": _sqlite_options(),
            }
        }
    )
    connection = handler["default"]
    yield connection
    connection.close()
    base.close_idle_connections()


def raw(connection: Any) -> Any:
    connection.ensure_connection()
    return connection.connection


def test_a_closed_connection_is_given_out_again(sqlite: Any) -> None:
    first = raw(sqlite)
    with sqlite.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    sqlite.close()
    assert sqlite.connection is None
    assert raw(sqlite) is first
    with sqlite.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal", "the settings' pragmas hold on a kept connection"


def test_an_unfinished_transaction_is_rolled_back_before_the_connection_is_kept(
    sqlite: Any,
) -> None:
    with sqlite.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    connection = raw(sqlite)
    connection.execute("BEGIN")
    connection.execute("INSERT INTO t VALUES (1)")
    sqlite.close()
    again = raw(sqlite)
    assert again is connection
    assert not again.in_transaction
    assert again.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def test_no_more_than_the_limit_are_kept(sqlite: Any, tmp_path: Path) -> None:
    name = str(tmp_path / "kept.sqlite3")
    opened = [base.DatabaseWrapper(dict(sqlite.settings_dict), alias=f"k{n}") for n in range(3)]
    for wrapper in opened:
        wrapper.ensure_connection()
    limit = base.IDLE_PER_DATABASE
    base.IDLE_PER_DATABASE = 2
    try:
        for wrapper in opened:
            wrapper.close()
        assert len(base._idle[name]) == 2
    finally:
        base.IDLE_PER_DATABASE = limit


def test_an_in_memory_database_is_never_pooled() -> None:
    handler = ConnectionHandler({"default": {"ENGINE": SQLITE_ENGINE, "NAME": ":memory:"}})
    memory = handler["default"]
    memory.ensure_connection()
    assert isinstance(memory, base.DatabaseWrapper)
    assert memory._pool_key() is None
    memory.close()  # Django ignores it: closing would drop the database
    assert memory.connection is not None

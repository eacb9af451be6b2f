"""Django's SQLite backend with the connections a request closes kept for the next one.

Django closes a request's connection when the request ends (``CONN_MAX_AGE`` 0: Django's own
ASGI handler runs each request on a thread of its own, where a persistent connection, which
belongs to a thread, would never be used again). Each request then opened the database file
afresh, and SQLite reads the whole schema (some 200 tables) on a connection's first statement:
about 5 ms of a 9 ms health check. PostgreSQL has Django's own pool (``OPTIONS["pool"]``,
psycopg-pool) for the same reason; SQLite has none, so this one keeps the closed connections
per database file and hands them out again, to any thread (Django makes SQLite connections with
``check_same_thread=False``), one at a time.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

IDLE_PER_DATABASE = 16
"""Idle connections kept per database file; more are closed when returned."""

_idle: dict[str, list[sqlite3.Connection]] = {}
_idle_lock = threading.Lock()


def _take(name: str) -> sqlite3.Connection | None:
    with _idle_lock:
        connections = _idle.get(name)
        return connections.pop() if connections else None


def _give_back(name: str, connection: sqlite3.Connection) -> bool:
    with _idle_lock:
        connections = _idle.setdefault(name, [])
        if len(connections) >= IDLE_PER_DATABASE:
            return False
        connections.append(connection)
        return True


def close_idle_connections() -> None:
    """Close every kept connection (tests that remove their database file)."""
    with _idle_lock:
        kept = [connection for connections in _idle.values() for connection in connections]
        _idle.clear()
    for connection in kept:
        with contextlib.suppress(sqlite3.Error):
            connection.close()


class DatabaseWrapper(base.DatabaseWrapper):
    """SQLite with idle connections kept per database file (not for in-memory databases,
    which Django keeps open anyway)."""

    def _pool_key(self) -> str | None:
        if self.is_in_memory_db():
            return None
        return str(self.settings_dict["NAME"])

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        key = self._pool_key()
        if key is not None:
            kept = _take(key)
            if kept is not None:
                return kept
        return super().get_new_connection(conn_params)

    def _close(self) -> None:
        key = self._pool_key()
        connection = self.connection
        if key is not None and connection is not None:
            try:
                if connection.in_transaction:
                    connection.rollback()
            except sqlite3.Error:
                pass  # a broken connection is closed below, not kept
            else:
                if _give_back(key, connection):
                    return
        super()._close()  # type: ignore[misc]  # defined by BaseDatabaseWrapper; the stubs miss it

"""Set-up shared by the benchmarks: a throw-away data folder and database, Django, the demo,
and the small helpers that time calls and print tables.

Every benchmark runs against its own data: a fresh folder made with :mod:`tempfile` (SQLite by
default) or, with ``--database-url postgres://...``, a fresh database ``anwang_bench_<pid>`` on
that server, dropped again at the end. Nothing a developer has is touched.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SETTINGS_MODULE = "anwang.project.settings"
# The test client talks to the host "testserver"; the real host names stay allowed too.
ALLOWED_HOSTS = "testserver,127.0.0.1,localhost"


@dataclass(frozen=True)
class Stats:
    """Summary of timings in milliseconds."""

    count: int
    median: float
    p95: float
    maximum: float


def stats(samples_ms: Sequence[float]) -> Stats:
    """Median, 95th percentile (inclusive method, like most monitoring tools) and maximum."""
    ordered = sorted(samples_ms)
    if len(ordered) == 1:
        only = ordered[0]
        return Stats(1, only, only, only)
    p95 = statistics.quantiles(ordered, n=100, method="inclusive")[94]
    return Stats(len(ordered), statistics.median(ordered), p95, ordered[-1])


def elapsed_ms(call: Callable[..., object], *args: object) -> float:
    """How long one call ``call(*args)`` takes, in milliseconds."""
    started = time.perf_counter()
    call(*args)
    return (time.perf_counter() - started) * 1000


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain text table, numbers right-aligned, wide characters counted twice."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max(_width(text) for text in column) for column in zip(headers, *cells, strict=True)]
    numeric = [
        all(_looks_numeric(row[index]) for row in cells) if cells else False
        for index in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = []
        for index, text in enumerate(values):
            pad = " " * (widths[index] - _width(text))
            parts.append(pad + text if numeric[index] else text + pad)
        return "  ".join(parts).rstrip()

    print(line(list(headers)))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print(line(row))


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _looks_numeric(text: str) -> bool:
    if not text:
        return True  # an empty cell does not make a column of numbers text
    return text.replace(".", "", 1).replace(",", "").replace("-", "", 1).isdigit()


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes; scripts add their own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="folder in which the throw-away data folder is made (default: the system's "
        "temporary folder); useful to measure on a particular disk",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="postgres://user@host:port/db to measure on PostgreSQL (default: $DATABASE_URL, "
        "else SQLite). A fresh database anwang_bench_<pid> is created on that server and "
        "dropped afterwards.",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the data folder (and the PostgreSQL database) afterwards, to look at them",
    )
    return parser


@dataclass(frozen=True)
class Environment:
    """Where a benchmark's data lives."""

    home: Path
    database_url: str  # empty: the SQLite file in ``home``

    @property
    def engine(self) -> str:
        """The database engine and version, e.g. ``SQLite 3.40.1``."""
        from django.db import connection

        if connection.vendor == "sqlite":
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version}"
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            version = connection.pg_version  # type: ignore[attr-defined]
            return f"PostgreSQL {version // 10000}.{version % 10000}"
        return connection.vendor


def _maintenance_url(url: str, label: str = "") -> tuple[str, str]:
    """The server's URL with a fresh database name (this process's, and ``label`` when one
    process makes several), and the URL to create it from."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit(
            "--database-url must be postgres://...; leave it out to measure on SQLite "
            "(a throw-away SQLite file is used then)."
        )
    name = f"anwang_bench_{os.getpid()}"
    if label:
        name += "_" + "".join(c if c.isalnum() else "_" for c in label.lower())
    maintenance = parts if parts.path.strip("/") else parts._replace(path="/postgres")
    return urlunsplit(parts._replace(path=f"/{name}")), urlunsplit(maintenance)


def _postgres(maintenance_url: str, statement: str, name: str) -> None:
    """Run ``CREATE DATABASE {}`` or ``DROP DATABASE ...`` for ``name`` (autocommit: neither
    runs inside a transaction)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(sql.SQL(statement).format(sql.Identifier(name)))


@contextmanager
def environment(
    args: argparse.Namespace, *, seed: bool = True, migrate: bool = True
) -> Iterator[Environment]:
    """Make a throw-away data folder (and PostgreSQL database), set Django up on it, migrate,
    seed the demo community, and clean everything up afterwards."""
    database_url = maintenance_url = name = ""
    if args.database_url:
        database_url, maintenance_url = _maintenance_url(args.database_url)
        name = urlsplit(database_url).path.strip("/")
    parent: Path | None = args.home
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="anwang-bench-", dir=parent))
    created = False
    try:
        if name:
            _postgres(maintenance_url, "CREATE DATABASE {}", name)
            created = True
        # Settings are read once, when Django sets up: everything goes into the environment
        # first.
        os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
        os.environ["ANWANG_HOME"] = str(home)
        os.environ["ANWANG_ALLOWED_HOSTS"] = ALLOWED_HOSTS
        if database_url:
            os.environ["DATABASE_URL"] = database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.core.management import call_command

        if migrate:
            call_command("migrate", verbosity=0)
        if seed:
            from anwang.demo.seed import seed_demo

            seed_demo()
        yield Environment(home=home, database_url=database_url)
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.keep:
            kept = f" and the database {name}" if created else ""
            print(f"\nKept the data folder {home}{kept}")
        else:
            shutil.rmtree(home, ignore_errors=True)
            if created:
                _postgres(maintenance_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def print_header(title: str, env: Environment) -> None:
    """What was measured, where and when."""
    import django
    from django.utils import timezone

    print(title)
    print(
        f"{timezone.localdate().isoformat()}  {platform.node()}  {os.cpu_count()} CPUs  "
        f"Python {platform.python_version()}  Django {django.get_version()}  {env.engine}"
    )
    print()


def rate(count: int, seconds: float) -> str:
    """Items per second, rounded to three significant figures."""
    if seconds <= 0:
        return "-"
    value = count / seconds
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
